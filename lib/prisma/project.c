/* Where a Prisma project's pieces are: see project.h. */
#include "prisma/project.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "base/json.h"
#include "base/path.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool prisma_schema_file_name(const char *name)
{
    size_t n = strlen(name);
    return n > 7 && strcmp(name + n - 7, ".prisma") == 0;
}

/* The folders a walk has entered (device and inode): Prisma's loader enters each real folder
 * once, which ends symbolic-link loops. */
struct walk {
    prisma_schema_walk_fn fn;
    void *data;
    struct {
        dev_t dev;
        ino_t ino;
    } * seen;
    size_t nseen, cap;
};

static int walk_dir(struct walk *wk, const char *dir, const struct stat *dst)
{
    for (size_t i = 0; i < wk->nseen; i++)
        if (wk->seen[i].dev == dst->st_dev && wk->seen[i].ino == dst->st_ino)
            return 0;
    if (wk->nseen == wk->cap) {
        size_t cap = wk->cap ? wk->cap * 2 : 16;
        void *grown = realloc(wk->seen, cap * sizeof wk->seen[0]);
        if (!grown)
            return -ENOMEM;
        wk->seen = grown;
        wk->cap = cap;
    }
    wk->seen[wk->nseen].dev = dst->st_dev;
    wk->seen[wk->nseen].ino = dst->st_ino;
    wk->nseen++;
    int rc = wk->fn(dir, dst, wk->data);
    if (rc != 0)
        return rc;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) < 0)
            continue; /* gone meanwhile, or a dangling link: Prisma skips it too */
        if (S_ISDIR(st.st_mode)) {
            rc = walk_dir(wk, path, &st);
            if (rc == -ENOENT)
                rc = 0; /* removed while we looked */
        } else if (S_ISREG(st.st_mode) && prisma_schema_file_name(e->d_name)) {
            rc = wk->fn(path, &st, wk->data);
        }
    }
    closedir(d);
    return rc;
}

int prisma_schema_walk(const char *dir, prisma_schema_walk_fn fn, void *data)
{
    struct stat st;
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    struct walk wk = {.fn = fn, .data = data};
    int rc = walk_dir(&wk, dir, &st);
    free(wk.seen);
    return rc;
}

static int add_schema_file(const char *path, const struct stat *st, void *data)
{
    struct prisma_project *p = data;
    if (S_ISDIR(st->st_mode))
        return 0;
    if (p->nfiles >= PRISMA_MAX_SCHEMA_FILES)
        return -E2BIG;
    p->files[p->nfiles] = strdup(path);
    if (!p->files[p->nfiles])
        return -ENOMEM;
    p->nfiles++;
    return 0;
}

/* Sets p->schema from a path relative to base (checking it exists). */
static int take_schema(struct prisma_project *p, const char *base, const char *rel,
                       enum prisma_schema_origin origin)
{
    if (path_join(base, rel, p->schema, sizeof p->schema) < 0)
        return -ENAMETOOLONG;
    struct stat st;
    if (stat(p->schema, &st) < 0)
        return -ENOENT;
    p->schema_is_dir = S_ISDIR(st.st_mode);
    p->origin = origin;
    return 0;
}

/* Whether the installed Prisma is older than major.minor; false when none is installed (the
 * newest rules apply). */
static bool prisma_version_before(const struct prisma_project *p, unsigned major, unsigned minor)
{
    unsigned ma, mi;
    if (sscanf(p->prisma_version, "%u.%u", &ma, &mi) != 2)
        return false;
    return ma < major || (ma == major && mi < minor);
}

static int locate_schema(struct prisma_project *p, const char *cfg_schema, char *err, size_t errlen)
{
    const char *app = p->app_dir;
    if (cfg_schema && *cfg_schema) {
        if (take_schema(p, app, cfg_schema, PRISMA_FROM_CONFIG_KEY) < 0) {
            snprintf(err, errlen,
                     "prisma schema '%s' ([prisma] schema) does not exist: fix the path",
                     p->schema);
            return -EINVAL;
        }
        return 0;
    }
    if (p->config[0] && p->values.schema.rc != -ENOENT) {
        const struct prisma_config_value *v = &p->values.schema;
        if (v->rc < 0) {
            snprintf(
                err, errlen,
                "cannot tell the schema location from '%s': its `schema` value is not a "
                "form devinit can read without running the file (a string, path.join(__dirname, "
                "...), fileURLToPath(new URL(..., import.meta.url))): set [prisma] schema "
                "(DEVINIT_PRISMA_SCHEMA) to the same path",
                p->config);
            return -EINVAL;
        }
        /* Prisma resolves the config's paths against the config file's directory. */
        char cdir[PATH_MAX];
        path_dirname(p->config, cdir, sizeof cdir);
        if (take_schema(p, cdir, v->path, PRISMA_FROM_CONFIG_FILE) < 0) {
            snprintf(err, errlen, "prisma schema '%s' named in '%s' does not exist", p->schema,
                     p->config);
            return -EINVAL;
        }
        return 0;
    }
    char pkg[PATH_MAX];
    /* Prisma 7 no longer reads package.json's "prisma" key. */
    if (prisma_version_before(p, 7, 0) && path_join(app, "package.json", pkg, sizeof pkg) == 0) {
        char *text;
        size_t len;
        if (file_read(AT_FDCWD, pkg, 0, 8 << 20, &text, &len) == 0) {
            static const char *const path[] = {"prisma", "schema", NULL};
            char rel[PATH_MAX];
            int rc = json_get_string(text, len, path, rel, sizeof rel);
            free(text);
            if (rc == 0) {
                if (take_schema(p, app, rel, PRISMA_FROM_PACKAGE_JSON) < 0) {
                    snprintf(err, errlen,
                             "prisma schema '%s' named in '%s' (prisma.schema) does not exist",
                             p->schema, pkg);
                    return -EINVAL;
                }
                return 0;
            }
        }
    }
    /* Prisma looks in the working directory first. A schema folder is found without being
     * named only before 6.6 (5.x's prismaSchemaFolder preview); from 6.6 on it must be named. */
    bool folder_default = p->search == PRISMA_CONFIG_NONE ||
                          (p->search == PRISMA_CONFIG_TS && prisma_version_before(p, 6, 6));
    static const char *const defaults[] = {"schema.prisma", "prisma/schema.prisma",
                                           "prisma/schema"};
    for (size_t i = 0; i < (folder_default ? 3u : 2u); i++)
        if (take_schema(p, app, defaults[i], PRISMA_FROM_DEFAULT) == 0)
            return 0;
    char folder[PATH_MAX];
    struct stat st;
    if (!folder_default && path_join(app, "prisma/schema", folder, sizeof folder) == 0 &&
        stat(folder, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen,
                 "no prisma schema in '%s': Prisma %s looks for schema.prisma and "
                 "prisma/schema.prisma, and reads the folder prisma/schema/ only when it is named: "
                 "set schema in the Prisma config (schema: \"prisma/schema\") or [prisma] schema",
                 *app ? app : ".", p->prisma_version[0] ? p->prisma_version : "6.6+");
        p->schema[0] = '\0';
        return -EINVAL;
    }
    snprintf(err, errlen, "no prisma schema in '%s' (looked for %s%s%s)", *app ? app : ".",
             p->config[0] ? "the config's schema, " : "",
             folder_default ? "schema.prisma, prisma/schema.prisma and prisma/schema/"
                            : "schema.prisma and prisma/schema.prisma",
             p->search == PRISMA_CONFIG_PRISMA7 && !p->config[0]
                 ? ", and no prisma7.config.* or prisma.config.* names one"
                 : "");
    p->schema[0] = '\0';
    return -ENOENT;
}

static void client_js_default_output(struct prisma_generator *g, const char *schema_dir);

int prisma_project_find(struct prisma_project *p, const struct prisma_settings *s,
                        const char *(*getenv_fn)(const char *), char *err, size_t errlen)
{
    err[0] = '\0';
    snprintf(p->app_dir, sizeof p->app_dir, "%s", s->app_dir ? s->app_dir : "");
    if (prisma_package_version(p->app_dir, "prisma", p->prisma_version, sizeof p->prisma_version,
                               NULL, 0) < 0)
        p->prisma_version[0] = '\0';
    p->search = prisma_config_search_for(p->prisma_version);
    int rc = prisma_config_load(p->app_dir, s->config, p->search, p->config, sizeof p->config,
                                &p->values, err, errlen);
    if (rc == -ENOENT && s->config && *s->config) {
        snprintf(err, errlen, "prisma config '%s' ([prisma] config) does not exist: fix the path",
                 p->config);
        return -EINVAL;
    }
    if (rc == -ENOENT)
        p->config[0] = '\0';
    else if (rc < 0)
        return rc;
    if (p->config[0] && p->values.migrations.rc == -EINVAL && !(s->migrations && *s->migrations)) {
        /* Going on with the default folder would check, or deploy, the wrong migrations. */
        snprintf(err, errlen,
                 "cannot tell the migrations folder from '%s': its `migrations.path` value is not "
                 "a form devinit can read without running the file: set [migrate] dir "
                 "(DEVINIT_MIGRATE_DIR) to the same folder",
                 p->config);
        return -EINVAL;
    }
    rc = locate_schema(p, s->schema, err, errlen);
    if (rc < 0)
        return rc;

    if (p->schema_is_dir) {
        rc = prisma_schema_walk(p->schema, add_schema_file, p);
        if (rc < 0) {
            snprintf(err, errlen, "cannot list prisma schema folder '%s': %s", p->schema,
                     strerror(-rc));
            return rc;
        }
        qsort(p->files, p->nfiles, sizeof p->files[0], cmp_str);
        if (p->nfiles == 0) {
            snprintf(err, errlen, "prisma schema folder '%s' holds no .prisma file", p->schema);
            return -ENOENT;
        }
    } else {
        p->files[0] = strdup(p->schema);
        if (!p->files[0])
            return -ENOMEM;
        p->nfiles = 1;
    }

    for (size_t i = 0; i < p->nfiles; i++) {
        char *text;
        size_t len;
        rc = file_read(AT_FDCWD, p->files[i], 0, PRISMA_SCHEMA_MAX, &text, &len);
        if (rc == -EFBIG) {
            snprintf(err, errlen,
                     "prisma schema '%s' is larger than %d MiB, the most devinit reads of a "
                     "schema file: remove what does not belong in it, or split it into a "
                     "schema folder",
                     p->files[i], PRISMA_SCHEMA_MAX_MB);
            return rc;
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot read prisma schema '%s': %s", p->files[i],
                     file_strerror(rc));
            return rc;
        }
        if (prisma_datasource_parse(text, len, p->datasource_var, sizeof p->datasource_var) &&
            !p->datasource_file[0])
            snprintf(p->datasource_file, sizeof p->datasource_file, "%s", p->files[i]);
        size_t first = p->ngens;
        rc = prisma_generators_parse(text, len, p->gens, PRISMA_MAX_GENERATORS, &p->ngens);
        free(text);
        if (rc < 0) {
            snprintf(err, errlen, "prisma schema '%s' declares more than %d generators", p->schema,
                     PRISMA_MAX_GENERATORS);
            return -EINVAL;
        }
        char dir[PATH_MAX];
        path_dirname(p->files[i], dir, sizeof dir);
        for (size_t g = first; g < p->ngens; g++) {
            prisma_generator_resolve(&p->gens[g], p->app_dir, dir, getenv_fn);
            client_js_default_output(&p->gens[g], dir);
        }
    }
    p->found = true;
    return 0;
}

void prisma_project_free(struct prisma_project *p)
{
    for (size_t i = 0; i < p->nfiles; i++) {
        free(p->files[i]);
        p->files[i] = NULL;
    }
    p->nfiles = 0;
}

int prisma_package_version(const char *app_dir, const char *package, char *version, size_t vlen,
                           char *dir, size_t dirlen)
{
    char cur[PATH_MAX];
    if (app_dir && app_dir[0] == '/') {
        snprintf(cur, sizeof cur, "%s", app_dir);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            return -errno;
        if (path_join(cwd, app_dir && *app_dir ? app_dir : ".", cur, sizeof cur) < 0)
            return -ENAMETOOLONG;
    }
    for (;;) {
        char pkgdir[PATH_MAX], pj[PATH_MAX];
        int n = snprintf(pkgdir, sizeof pkgdir, "%s/node_modules/%s", strcmp(cur, "/") ? cur : "",
                         package);
        if (n > 0 && (size_t)n < sizeof pkgdir &&
            (size_t)snprintf(pj, sizeof pj, "%s/package.json", pkgdir) < sizeof pj) {
            char *text;
            size_t len;
            int rc = file_read(AT_FDCWD, pj, 0, 4 << 20, &text, &len);
            if (rc == 0) {
                static const char *const path[] = {"version", NULL};
                rc = json_get_string(text, len, path, version, vlen);
                free(text);
                if (rc < 0)
                    return rc;
                if (dir)
                    snprintf(dir, dirlen, "%s", pkgdir);
                return 0;
            }
            if (rc != -ENOENT)
                return rc;
        }
        if (!path_up(cur))
            return -ENOENT;
    }
}

void prisma_project_migrations(const struct prisma_project *p, const struct prisma_settings *s,
                               char *out, size_t outlen, char *warn, size_t warnlen)
{
    const char *app = s->app_dir ? s->app_dir : "";
    warn[0] = '\0';
    out[0] = '\0';
    if (s->migrations && *s->migrations) {
        path_join(app, s->migrations, out, outlen);
        return;
    }
    const struct prisma_config_value *v = p && p->config[0] ? &p->values.migrations : NULL;
    if (v && v->rc == 0) {
        char cdir[PATH_MAX];
        path_dirname(p->config, cdir, sizeof cdir);
        path_join(cdir, v->path, out, outlen);
    } else if (v && v->rc == -EINVAL) {
        snprintf(warn, warnlen,
                 "cannot evaluate migrations.path in '%s': set [migrate] dir to the same folder",
                 p->config);
    } else if (v && v->rc == -ENAMETOOLONG) {
        snprintf(warn, warnlen,
                 "migrations.path in '%s' is longer than a path can be: ignored; set [migrate] "
                 "dir to the folder",
                 p->config);
    }
    if (!out[0] && p && p->found) {
        char base[PATH_MAX];
        if (p->schema_is_dir)
            snprintf(base, sizeof base, "%s", p->schema);
        else
            path_dirname(p->schema, base, sizeof base);
        path_join(base, "migrations", out, outlen);
    }
    if (!out[0])
        path_join(app, "prisma/migrations", out, outlen);
}

/* prisma-client-js without an output writes next to the @prisma/client that Node resolves
 * from the schema's folder, after symlinks: <realpath of it>/../../.prisma/client. Under pnpm
 * that is inside node_modules/.pnpm/@prisma+client@<v>_.../node_modules; in a hoisted
 * workspace, the root's node_modules. With no @prisma/client installed, the resolver's
 * default (the app's node_modules) stays. */
static void client_js_default_output(struct prisma_generator *g, const char *schema_dir)
{
    if (g->kind != PRISMA_GEN_CLIENT_JS || g->output[0] || g->output_env)
        return;
    char version[64], pkgdir[PATH_MAX], real[PATH_MAX], nm[PATH_MAX], scope[PATH_MAX];
    if (prisma_package_version(schema_dir, "@prisma/client", version, sizeof version, pkgdir,
                               sizeof pkgdir) < 0 ||
        !realpath(pkgdir, real))
        return;
    path_dirname(real, scope, sizeof scope); /* .../node_modules/@prisma */
    path_dirname(scope, nm, sizeof nm);      /* .../node_modules */
    if (path_join(nm, ".prisma/client", real, sizeof real) == 0)
        snprintf(g->resolved, sizeof g->resolved, "%s", real);
}

void prisma_package_root(const char *path, const char *app_dir, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", app_dir);
    const char *inside = path_inside(app_dir, path);
    if (inside != path || strcmp(path, app_dir) == 0)
        return;
    char cur[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    while (cur[0] == '/' && cur[1]) {
        char pj[PATH_MAX + 16];
        snprintf(pj, sizeof pj, "%s/package.json", cur);
        if (access(pj, F_OK) == 0) {
            snprintf(out, outlen, "%s", cur);
            return;
        }
        if (!path_up(cur))
            return;
    }
}

const char *const prisma_lockfiles[] = {"package-lock.json",
                                        "npm-shrinkwrap.json",
                                        "pnpm-lock.yaml",
                                        "yarn.lock",
                                        "bun.lock",
                                        "bun.lockb",
                                        NULL};

static bool exists_in(const char *dir, const char *name)
{
    char p[PATH_MAX];
    return path_join(dir, name, p, sizeof p) == 0 && access(p, F_OK) == 0;
}

struct ws_match {
    const char *member; /* the app's path relative to the candidate root */
    bool found;
};

/* One "workspaces" pattern against the member: a glob, maybe with "./" before or "/" after. */
static int ws_pattern(void *data, const char *key, const char *value, size_t vlen)
{
    (void)key;
    struct ws_match *m = data;
    char *pat = value[0] == '"' ? json_decode_string(value, vlen, NULL) : NULL;
    if (!pat)
        return 0;
    char *p = pat;
    while (p[0] == '.' && p[1] == '/')
        p += 2;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    /* "**" crosses folders; "*" stays within one, as the managers' globs do. */
    int flags = strstr(p, "**") ? 0 : FNM_PATHNAME;
    if (p[0] != '!' && fnmatch(p, m->member, flags) == 0)
        m->found = true;
    free(pat);
    return m->found ? 1 : 0;
}

/* Whether root's package.json declares member (relative to root) one of its workspaces. */
static bool npm_workspace_has(const char *root, const char *member)
{
    char pj[PATH_MAX], *text;
    size_t len;
    if (path_join(root, "package.json", pj, sizeof pj) < 0 ||
        file_read(AT_FDCWD, pj, 0, 16 << 20, &text, &len) < 0)
        return false;
    struct ws_match m = {member, false};
    static const char *const arr[] = {"workspaces", NULL};
    static const char *const obj[] = {"workspaces", "packages", NULL};
    json_each(text, len, arr, ws_pattern, &m);
    if (!m.found) /* yarn's object form */
        json_each(text, len, obj, ws_pattern, &m);
    free(text);
    return m.found;
}

bool prisma_install_root(const char *app_dir, char *out, size_t outlen)
{
    const char *app = app_dir && *app_dir ? app_dir : ".";
    snprintf(out, outlen, "%s", app_dir ? app_dir : "");
    for (size_t i = 0; prisma_lockfiles[i]; i++)
        if (exists_in(app, prisma_lockfiles[i]))
            return false;
    char real[PATH_MAX], cur[PATH_MAX];
    if (!realpath(app, real))
        return false;
    snprintf(cur, sizeof cur, "%s", real);
    while (path_up(cur)) {
        const char *member = real + (strcmp(cur, "/") == 0 ? 1 : strlen(cur) + 1);
        if (exists_in(cur, "pnpm-workspace.yaml") || npm_workspace_has(cur, member) ||
            (exists_in(cur, "yarn.lock") && exists_in(cur, ".yarnrc.yml"))) {
            snprintf(out, outlen, "%s", cur);
            return true;
        }
    }
    return false;
}
