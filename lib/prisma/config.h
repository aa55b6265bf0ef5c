/* The Prisma config file (prisma.config.ts and its kin): where it is, and the values devinit
 * needs from it, read without running JavaScript. The one reader of that file.
 *
 * devinit cannot run the file, so it reads the object the file exports as text: a key whose
 * value is an expression it cannot evaluate is reported as such (-EINVAL) and the caller says
 * which setting to use instead; it never guesses. */
#ifndef DEVINIT_PRISMA_CONFIG_H
#define DEVINIT_PRISMA_CONFIG_H

#include <limits.h>
#include <stddef.h>

/* One value of the config: rc 0 with path set (relative to the config file's directory, or
 * absolute), -ENOENT when the key is absent, -EINVAL when its value is an expression devinit
 * cannot evaluate, -ENAMETOOLONG when it does not fit in a path. */
struct prisma_config_value {
    int rc;
    char path[PATH_MAX];
};

struct prisma_config_values {
    struct prisma_config_value schema;     /* schema */
    struct prisma_config_value migrations; /* migrations.path */
};

/* Reads the keys above from the text of a config file: the properties of the exported object
 * (`export default defineConfig({...})`, `export default {...}`, `module.exports = {...}`).
 * Values understood: string literals, template literals without substitutions, and
 * path.join()/join() of those. Comments and strings elsewhere are skipped. Pure. */
void prisma_config_parse(const char *text, size_t len, struct prisma_config_values *v);

/* Finds the config file: cfg_config when non-empty (it must exist), else the first of
 * prisma.config.{ts,mts,cts,js,mjs,cjs} and .config/prisma.{ts,...} in app_dir. 0 with the
 * path (joined to app_dir) in out; -ENOENT when there is none (out is then ""). */
int prisma_config_find(const char *app_dir, const char *cfg_config, char *out, size_t outlen);

/* prisma_config_find() and prisma_config_parse() together: 0 with v filled, -ENOENT when
 * there is no config file (v then says -ENOENT for every key), or -errno with the reason in err
 * when the file cannot be read. path receives the file's path. */
int prisma_config_load(const char *app_dir, const char *cfg_config, char *path, size_t pathlen,
                       struct prisma_config_values *v, char *err, size_t errlen);

#endif
