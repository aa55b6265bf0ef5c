/* Unit tests of lib/prisma/project.c: finding the config, the schema, the generators, the
 * migrations folder and the installed packages, in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prisma/project.h"
#include "tmpdir.h"

/* prisma_project_find() in the temporary directory, with [prisma] schema and config. */
static int find(struct prisma_project *p, const char *schema, const char *config, char *err,
                size_t errlen)
{
    const struct prisma_settings s = {.app_dir = tmpdir, .schema = schema, .config = config};
    return prisma_project_find(p, &s, NULL, err, errlen);
}

static void test_prisma_project_find_default_file(void **state)
{
    tmpdir_put("prisma/schema.prisma",
               "generator client {\n  provider = \"prisma-client-js\"\n}\n");
    tmpdir_put("package.json", "{\"name\": \"x\"}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(find(p, "", "", err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, "%s/prisma/schema.prisma", tmpdir);
    assert_string_equal(p->schema, want);
    assert_int_equal(p->origin, PRISMA_FROM_DEFAULT);
    assert_false(p->schema_is_dir);
    assert_int_equal(p->nfiles, 1);
    assert_string_equal(p->config, "");
    assert_int_equal(p->ngens, 1);
    snprintf(want, sizeof want, "%s/node_modules/.prisma/client", tmpdir);
    assert_string_equal(p->gens[0].resolved, want);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_project_find_folder_in_path_order(void **state)
{
    tmpdir_put("prisma/schema/main.prisma",
               "generator client {\n  provider = \"prisma-client\"\n  output = \"../../gen\"\n}\n");
    tmpdir_put("prisma/schema/b/post.prisma", "model Post { id Int @id }\n");
    tmpdir_put("prisma/schema/a.prisma", "model A { id Int @id }\n");
    tmpdir_put("prisma/schema/notes.txt", "not a schema");
    /* Prisma 5 finds the folder unnamed (its prismaSchemaFolder preview). */
    tmpdir_put("node_modules/prisma/package.json", "{\"version\": \"5.22.0\"}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(find(p, "", "", err, sizeof err), 0);
    assert_true(p->schema_is_dir);
    assert_int_equal(p->nfiles, 3);
    assert_non_null(strstr(p->files[0], "/prisma/schema/a.prisma"));
    assert_non_null(strstr(p->files[1], "/prisma/schema/b/post.prisma"));
    assert_non_null(strstr(p->files[2], "/prisma/schema/main.prisma"));
    char want[256];
    snprintf(want, sizeof want, "%s/gen", tmpdir);
    assert_string_equal(p->gens[0].resolved, want);
    assert_int_equal(p->gens[0].kind, PRISMA_GEN_CLIENT);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_project_folder_needs_naming_from_6_6(void **state)
{
    tmpdir_put("prisma/schema/main.prisma", "model A { id Int @id }\n");
    tmpdir_put("node_modules/prisma/package.json", "{\"version\": \"7.10.0\"}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(find(p, "", "", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "only when it is named"));
    assert_non_null(strstr(err, "7.10.0"));
    prisma_project_free(p);
    memset(p, 0, sizeof *p);
    tmpdir_put("prisma.config.ts", "export default { schema: path.join(__dirname, 'prisma', "
                                   "'schema') }\n");
    assert_int_equal(find(p, "", "", err, sizeof err), 0);
    assert_true(p->schema_is_dir);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_project_find_order_of_sources(void **state)
{
    /* package.json's prisma.schema is read before Prisma 7 only. */
    tmpdir_put("node_modules/prisma/package.json", "{\"version\": \"6.19.0\"}");
    tmpdir_put("prisma/schema.prisma", "// default\n");
    tmpdir_put("db/pkg.prisma", "// from package.json\n");
    tmpdir_put("cfg/db/conf.prisma", "// from the config file\n");
    tmpdir_put("key.prisma", "// from [prisma] schema\n");
    tmpdir_put("package.json", "{\"prisma\": {\"schema\": \"db/pkg.prisma\"}}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];

    assert_int_equal(find(p, "", "", err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_PACKAGE_JSON);
    assert_non_null(strstr(p->schema, "/db/pkg.prisma"));
    prisma_project_free(p);

    /* The config file's paths are relative to the config file. */
    tmpdir_put("cfg/prisma.ts", "export default { schema: 'db/conf.prisma' }\n");
    memset(p, 0, sizeof *p);
    assert_int_equal(find(p, "", "cfg/prisma.ts", err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_CONFIG_FILE);
    assert_non_null(strstr(p->schema, "/cfg/db/conf.prisma"));
    assert_non_null(strstr(p->config, "/cfg/prisma.ts"));
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(find(p, "key.prisma", "cfg/prisma.ts", err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_CONFIG_KEY);
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(find(p, "nope.prisma", "", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "nope.prisma"));
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(find(p, "", "missing.config.ts", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "missing.config.ts"));
    prisma_project_free(p);
    free(p);
}

/* The config file each Prisma version loads: @prisma/config's candidate lists. */
static void test_prisma_project_config_file_by_version(void **state)
{
    char out[256], err[256];
    tmpdir_put("prisma.config.mjs", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_LEGACY, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/prisma.config.mjs"));
    /* 6.4-6.12 read prisma.config.ts only; before 6.4 no file at all. */
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_TS, out, sizeof out, err, sizeof err),
        -ENOENT);
    tmpdir_put("prisma.config.ts", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_TS, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/prisma.config.ts"));
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_NONE, out, sizeof out, err, sizeof err),
        -ENOENT);
    /* From 6.13 on .js comes before .ts. */
    tmpdir_put("prisma.config.js", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_LEGACY, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/prisma.config.js"));
    /* 7.10 looks for prisma7.config.* first, .config/prisma7.* next; 7.9 never does. */
    tmpdir_put(".config/prisma7.cts", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_PRISMA7, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/.config/prisma7.cts"));
    tmpdir_put("prisma7.config.ts", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_PRISMA7, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/prisma7.config.ts"));
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_LEGACY, out, sizeof out, err, sizeof err), 0);
    assert_non_null(strstr(out, "/prisma.config.js"));
    assert_int_equal(prisma_config_search_for("7.9.2"), PRISMA_CONFIG_LEGACY);
    assert_int_equal(prisma_config_search_for("7.10.0"), PRISMA_CONFIG_PRISMA7);
    assert_int_equal(prisma_config_search_for("6.12.0"), PRISMA_CONFIG_TS);
    assert_int_equal(prisma_config_search_for("6.3.1"), PRISMA_CONFIG_NONE);
    assert_int_equal(prisma_config_search_for("5.22.0"), PRISMA_CONFIG_NONE);
    assert_int_equal(prisma_config_search_for(""), PRISMA_CONFIG_PRISMA7);
}

/* A config file Prisma finds but refuses to load is an error, not "no config". */
static void test_prisma_project_config_file_refused_extension(void **state)
{
    char out[256], err[256];
    tmpdir_put(".config/prisma.json", "{}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_PRISMA7, out, sizeof out, err, sizeof err),
        -EINVAL);
    assert_non_null(strstr(err, ".config/prisma.json"));
    assert_non_null(strstr(err, "Unsupported"));
    tmpdir_put(".config/prisma.ts", "export default {}\n");
    assert_int_equal(
        prisma_config_find(tmpdir, "", PRISMA_CONFIG_PRISMA7, out, sizeof out, err, sizeof err), 0);
}

static void test_prisma_project_find_none(void **state)
{
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(find(p, "", "", err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "no prisma schema"));
    prisma_project_free(p);
    free(p);
}

static void test_prisma_project_package_version_walks_up(void **state)
{
    tmpdir_put("node_modules/prisma/package.json",
               "{\"version\": \"7.10.1\", \"name\": \"prisma\"}");
    tmpdir_put("apps/api/node_modules/@prisma/client/package.json", "{\"version\": \"7.10.0\"}");
    char sub[256], v[32], pdir[256];
    snprintf(sub, sizeof sub, "%s/apps/api", tmpdir);
    assert_int_equal(prisma_package_version(sub, "prisma", v, sizeof v, pdir, sizeof pdir), 0);
    assert_string_equal(v, "7.10.1");
    char want[256];
    snprintf(want, sizeof want, "%s/node_modules/prisma", tmpdir);
    assert_string_equal(pdir, want);
    assert_int_equal(prisma_package_version(sub, "@prisma/client", v, sizeof v, NULL, 0), 0);
    assert_string_equal(v, "7.10.0");
    assert_int_equal(prisma_package_version(tmpdir, "@prisma/client", v, sizeof v, NULL, 0),
                     -ENOENT);
}

/* The migrations folder of the project s finds, as the migrate step asks for it. */
static void migrations_dir(const struct prisma_settings *s, char *out, size_t outlen, char *warn,
                           size_t warnlen)
{
    struct prisma_project *p = calloc(1, sizeof *p);
    assert_non_null(p);
    char err[512];
    prisma_project_find(p, s, NULL, err, sizeof err);
    prisma_project_migrations(p, s, out, outlen, warn, warnlen);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_project_migrations_folder(void **state)
{
    struct prisma_settings s = {.app_dir = tmpdir};
    char out[PATH_MAX], warn[256], want[PATH_MAX];
    /* Nothing at all: Prisma's default. */
    migrations_dir(&s, out, sizeof out, warn, sizeof warn);
    snprintf(want, sizeof want, "%s/prisma/migrations", tmpdir);
    assert_string_equal(out, want);
    /* Next to a schema folder's files: inside the folder. */
    tmpdir_put("db/schema/a.prisma", "model A { id Int @id }\n");
    s.schema = "db/schema";
    migrations_dir(&s, out, sizeof out, warn, sizeof warn);
    snprintf(want, sizeof want, "%s/db/schema/migrations", tmpdir);
    assert_string_equal(out, want);
    /* The config's migrations.path, relative to the config file. */
    tmpdir_put("cfg/prisma.config.ts", "export default { migrations: { path: 'm' } }\n");
    s.config = "cfg/prisma.config.ts";
    migrations_dir(&s, out, sizeof out, warn, sizeof warn);
    snprintf(want, sizeof want, "%s/cfg/m", tmpdir);
    assert_string_equal(out, want);
    assert_string_equal(warn, "");
    /* A value devinit cannot evaluate is said; the project is then refused (the generate
     * step stops with it), never checked against a guessed folder. */
    tmpdir_put("cfg/prisma.config.ts", "export default { migrations: { path: dir } }\n");
    migrations_dir(&s, out, sizeof out, warn, sizeof warn);
    assert_non_null(strstr(warn, "cannot evaluate migrations.path"));
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(prisma_project_find(p, &s, NULL, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "set [migrate] dir"));
    prisma_project_free(p);
    free(p);
    /* [migrate] dir wins over everything. */
    s.migrations = "elsewhere";
    migrations_dir(&s, out, sizeof out, warn, sizeof warn);
    snprintf(want, sizeof want, "%s/elsewhere", tmpdir);
    assert_string_equal(out, want);
}

/* The folder walk reads what Prisma's loader reads: names ending in .prisma (".prisma" alone
 * has no extension), at any depth, each real folder once (a link back to a parent ends). */
static void test_prisma_project_find_folder_walk_as_prisma(void **state)
{
    tmpdir_put("prisma/schema/main.prisma",
               "generator client {\n  provider = \"prisma-client-js\"\n}\n");
    tmpdir_put("prisma/schema/a/b/c/deep.prisma", "model Deep { id Int @id }\n");
    tmpdir_put("prisma/schema/.hidden.prisma", "model Hidden { id Int @id }\n");
    tmpdir_put("prisma/schema/.prisma", "not a schema file to Prisma");
    tmpdir_put("prisma/schema/notes.prisma.bak", "not a schema file");
    char link[512];
    snprintf(link, sizeof link, "%s/prisma/schema/a/b/up", tmpdir);
    assert_int_equal(symlink("../..", link), 0);
    snprintf(link, sizeof link, "%s/prisma/schema/dangling.prisma", tmpdir);
    assert_int_equal(symlink("nowhere.prisma", link), 0);
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(find(p, "prisma/schema", "", err, sizeof err), 0);
    assert_int_equal(p->nfiles, 3);
    assert_non_null(strstr(p->files[0], "/prisma/schema/.hidden.prisma"));
    assert_non_null(strstr(p->files[1], "/prisma/schema/a/b/c/deep.prisma"));
    assert_non_null(strstr(p->files[2], "/prisma/schema/main.prisma"));
    assert_true(prisma_schema_file_name("x.prisma"));
    assert_false(prisma_schema_file_name(".prisma"));
    assert_false(prisma_schema_file_name("x.prisma~"));
    prisma_project_free(p);
    free(p);
}

#define TD(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TD(test_prisma_project_find_default_file),
        TD(test_prisma_project_find_folder_in_path_order),
        TD(test_prisma_project_find_folder_walk_as_prisma),
        TD(test_prisma_project_find_order_of_sources),
        TD(test_prisma_project_config_file_by_version),
        TD(test_prisma_project_config_file_refused_extension),
        TD(test_prisma_project_folder_needs_naming_from_6_6),
        TD(test_prisma_project_find_none),
        TD(test_prisma_project_package_version_walks_up),
        TD(test_prisma_project_migrations_folder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
