/* Where a Prisma project's pieces are, found by the rules the Prisma CLI follows: the config
 * file, the schema (a file, or a folder and its files), the generators and their outputs, the
 * migrations folder, and the installed packages. Reads the file system: stats and small
 * files. */
#ifndef DEVINIT_PRISMA_PROJECT_H
#define DEVINIT_PRISMA_PROJECT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "prisma/config.h"
#include "prisma/schema.h"

/* What the user set; NULL or "": find it as Prisma would. */
struct prisma_settings {
    const char *app_dir;    /* [app] dir: "" is the working directory */
    const char *schema;     /* [prisma] schema */
    const char *config;     /* [prisma] config */
    const char *migrations; /* [migrate] dir */
};

/* Where the schema was found, for messages. */
enum prisma_schema_origin {
    PRISMA_FROM_CONFIG_KEY = 0, /* [prisma] schema */
    PRISMA_FROM_CONFIG_FILE,    /* schema: in prisma.config.* */
    PRISMA_FROM_PACKAGE_JSON,   /* package.json's prisma.schema */
    PRISMA_FROM_DEFAULT,        /* prisma/schema.prisma or prisma/schema/ */
};

#define PRISMA_MAX_SCHEMA_FILES 256
/* The largest schema file devinit reads (a real one is well under 1 MiB): a larger one is
 * refused, -EFBIG, as an input too large (78), not read without bound. */
#define PRISMA_SCHEMA_MAX_MB 16
#define PRISMA_SCHEMA_MAX    ((size_t)PRISMA_SCHEMA_MAX_MB << 20)

struct prisma_project {
    char app_dir[PATH_MAX];  /* as configured: "" is the cwd */
    char prisma_version[32]; /* the installed Prisma CLI's version, "" when not installed */
    enum prisma_config_search search; /* the config files that version loads */
    char config[PATH_MAX];            /* the Prisma config file (joined to app_dir), "" when none */
    struct prisma_config_values values; /* what the config file says */
    char schema[PATH_MAX];              /* the schema file or folder (joined to app_dir) */
    bool schema_is_dir;
    enum prisma_schema_origin origin;
    size_t nfiles;
    char *files[PRISMA_MAX_SCHEMA_FILES]; /* every *.prisma file, in path order; owned */
    size_t ngens;
    struct prisma_generator gens[PRISMA_MAX_GENERATORS];
    /* The first schema file with a datasource block ("" when none), and the variable its url
     * reads (Prisma 5 and 6: env("X")), "" when it names none. */
    char datasource_file[PATH_MAX];
    char datasource_var[128];
    bool found; /* prisma_project_find() returned 0: the schema and its files are known */
};

/* Finds the config file and reads it, by the rules of the installed Prisma CLI (the newest
 * rules when none is installed yet), then the schema (see enum prisma_schema_origin for the
 * order), lists its files and parses its generators (env("NAME") looked up with getenv_fn,
 * which may be NULL). p must be zeroed by the caller; prisma_project_free releases it, also
 * after a failure. 0; -ENOENT when no schema exists (err says where devinit looked); -EINVAL
 * with err for a schema that cannot be used (an unevaluable config value, too many
 * generators); -EFBIG, -ELOOP, -EISDIR (base/file.h: file_exit_code() gives 78) for a schema
 * file larger than PRISMA_SCHEMA_MAX, a link or not a regular file; -errno. */
int prisma_project_find(struct prisma_project *p, const struct prisma_settings *s,
                        const char *(*getenv_fn)(const char *), char *err, size_t errlen);

void prisma_project_free(struct prisma_project *p);

/* Whether a file name is one Prisma's folder loader reads: "*.prisma" (Node's extname, so not
 * ".prisma" alone). */
bool prisma_schema_file_name(const char *name);

/* Walks a schema folder as Prisma's loader (6.6+ and 7) reads it: every subfolder however
 * deep, symbolic links followed, each real folder once; in each, the regular files
 * prisma_schema_file_name() accepts. fn is called for dir itself and every subfolder
 * (S_ISDIR(st->st_mode)) before their contents, and for every schema file; a nonzero return
 * stops the walk and is returned. 0; -errno when dir cannot be read (a subfolder that
 * vanishes meanwhile is skipped). */
struct stat;
typedef int (*prisma_schema_walk_fn)(const char *path, const struct stat *st, void *data);
int prisma_schema_walk(const char *dir, prisma_schema_walk_fn fn, void *data);

/* The migrations folder, as Prisma finds it: s->migrations; else the config file's
 * migrations.path (relative to that file); else `migrations` in the schema's root (next to a
 * single schema file, inside a schema folder: Prisma 6.7+ and 7, inferDirectoryConfig); else
 * prisma/migrations. Relative paths are joined to the app directory. p is the project
 * prisma_project_find() filled with the same settings, found or not (p->found); NULL when
 * there is none (out of memory): s alone decides then. Writes the path into out; a config
 * value devinit cannot use is skipped, with the reason in warn ("" when none). */
void prisma_project_migrations(const struct prisma_project *p, const struct prisma_settings *s,
                               char *out, size_t outlen, char *warn, size_t warnlen);

/* The "version" of node_modules/<package>/package.json, looked up from app_dir upwards as
 * Node resolves packages. 0 with the version, and the package's directory in dir when dir is
 * non-NULL; -ENOENT when the package is not installed. */
int prisma_package_version(const char *app_dir, const char *package, char *version, size_t vlen,
                           char *dir, size_t dirlen);

/* The package a path belongs to, where the Prisma CLI runs for it: app_dir when path is
 * inside it, else the nearest folder from path upwards with a package.json (a workspace's
 * packages/db), else app_dir. Both absolute. */
void prisma_package_root(const char *path, const char *app_dir, char *out, size_t outlen);

/* The package managers' lockfiles, in the order a folder with several is resolved. */
extern const char *const prisma_lockfiles[];

/* Where the packages of app_dir are installed from: app_dir itself when it holds a lockfile;
 * else the root of the workspace it is a member of, as each manager finds it: the nearest
 * folder upwards with pnpm-workspace.yaml (pnpm), with a package.json whose "workspaces"
 * (npm, yarn 1; an array or {"packages": [...]}) matches app_dir, or with yarn.lock and
 * .yarnrc.yml (yarn 2+). Writes app_dir as given when it is no workspace member, else the
 * root, absolute. true when out is a workspace root other than app_dir. */
bool prisma_install_root(const char *app_dir, char *out, size_t outlen);

#endif
