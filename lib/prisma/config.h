/* The Prisma config file (prisma.config.ts and its kin): where it is, and the values devinit
 * needs from it, read without running JavaScript. The one reader of that file.
 *
 * devinit cannot run the file, so it reads the object the file exports as text: a key whose
 * value is an expression it cannot evaluate is reported as such (-EINVAL) and the caller says
 * which setting to use instead; it never guesses. */
#ifndef DEVINIT_PRISMA_CONFIG_H
#define DEVINIT_PRISMA_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* One value of the config: rc 0 with path set (relative to the config file's directory, or
 * absolute), -ENOENT when the key is absent, -EINVAL when its value is an expression devinit
 * cannot evaluate, -ENAMETOOLONG when it does not fit in a path. */
struct prisma_config_value {
    int rc;
    char path[PATH_MAX];
};

/* datasource.url (Prisma 7): the variable it reads, or the URL written in the file. */
struct prisma_config_url {
    int rc;             /* 0, -ENOENT when absent, -EINVAL when not a form devinit knows */
    char var[128];      /* env("X"), process.env.X, process.env["X"]: "X"; else "" */
    char literal[2048]; /* a URL written as a literal (or the fallback after ?? or ||): a
                         * secret, never printed */
};

struct prisma_config_values {
    struct prisma_config_value schema;     /* schema */
    struct prisma_config_value migrations; /* migrations.path */
    struct prisma_config_url url;          /* datasource.url */
    bool dotenv; /* the file loads .env itself: import "dotenv/config", or the dotenv package */
};

/* Which config files a version of the Prisma CLI loads, as @prisma/config's loader (and the
 * versions before it) look for them: in the working directory only, never upwards. */
enum prisma_config_search {
    PRISMA_CONFIG_NONE,    /* 5.x, 6.0-6.3: no config file at all */
    PRISMA_CONFIG_TS,      /* 6.4-6.12: prisma.config.ts */
    PRISMA_CONFIG_LEGACY,  /* 6.13-7.9: prisma.config.*, .config/prisma.*, .config/prisma.config.*
                            * with the extensions .js .ts .mjs .cjs .mts .cts, in that order */
    PRISMA_CONFIG_PRISMA7, /* 7.10 and later: prisma7.config.*, .config/prisma7.*, then LEGACY */
};

/* The search of the Prisma CLI whose version is given ("7.10.0"); NULL, "" or a version that
 * cannot be read: the newest, as the CLI about to be installed most likely is. */
enum prisma_config_search prisma_config_search_for(const char *version);

/* Reads the keys above from the text of a config file: the properties of the exported object
 * (`export default defineConfig({...})`, `export default {...}`, `module.exports = {...}`).
 * Paths understood: string literals, template literals without substitutions, path.join() and
 * join() of those, __dirname and import.meta.dirname (the config file's directory, against
 * which Prisma resolves relative paths anyway), path.resolve() starting from one of those,
 * and fileURLToPath(new URL(literal, import.meta.url)). Comments and strings elsewhere are
 * skipped. Pure. */
void prisma_config_parse(const char *text, size_t len, struct prisma_config_values *v);

/* Finds the config file: cfg_config when non-empty (it must exist), else the first file the
 * search names, in app_dir. 0 with the path (joined to app_dir) in out; -ENOENT when there is
 * none (out is then ""); -EINVAL with err when the first config file Prisma would pick up is
 * one Prisma refuses to load (prisma.config.json, .yaml, .toml...: "Unsupported Prisma config
 * file extension"), so that devinit does not go on as if there were none. */
int prisma_config_find(const char *app_dir, const char *cfg_config, enum prisma_config_search s,
                       char *out, size_t outlen, char *err, size_t errlen);

/* prisma_config_find() and prisma_config_parse() together: 0 with v filled, -ENOENT when
 * there is no config file (v then says -ENOENT for every key), or -errno with the reason in err
 * when the file cannot be read or used. path receives the file's path. */
int prisma_config_load(const char *app_dir, const char *cfg_config, enum prisma_config_search s,
                       char *path, size_t pathlen, struct prisma_config_values *v, char *err,
                       size_t errlen);

#endif
