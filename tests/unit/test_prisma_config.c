/* Unit tests of lib/prisma/config.c: the values read from a prisma.config.* file's text. */
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

#include "prisma/config.h"

/* The schema value of text (a C string), its rc, and the path in out. */
static int schema_of(const char *text, char *out)
{
    struct prisma_config_values v;
    prisma_config_parse(text, strlen(text), &v);
    strcpy(out, v.schema.path);
    return v.schema.rc;
}

static int migrations_of(const char *text, size_t len, char *out)
{
    struct prisma_config_values v;
    prisma_config_parse(text, len, &v);
    strcpy(out, v.migrations.path);
    return v.migrations.rc;
}

static void test_prisma_config_schema_literal(void **state)
{
    char out[PATH_MAX];
    assert_int_equal(schema_of("// schema: \"commented/out.prisma\"\n"
                               "import { defineConfig } from \"prisma/config\";\n"
                               "/* schema: 'also/not' */\n"
                               "export default defineConfig({\n"
                               "  migrations: { path: \"db/migrations\" },\n"
                               "  schema: 'db/schema.prisma',\n"
                               "});\n",
                               out),
                     0);
    assert_string_equal(out, "db/schema.prisma");
    assert_int_equal(schema_of("module.exports = { \"schema\": `prisma/schema` }", out), 0);
    assert_string_equal(out, "prisma/schema");
    assert_int_equal(schema_of("export default { schema: path.join('db', 'schema') }", out), 0);
    assert_string_equal(out, "db/schema");
}

static void test_prisma_config_schema_absent_or_dynamic(void **state)
{
    char out[PATH_MAX];
    assert_int_equal(schema_of("export default defineConfig({ datasource: { url: "
                               "process.env.DATABASE_URL } })",
                               out),
                     -ENOENT);
    assert_int_equal(schema_of("export default defineConfig({ schema: `${d}/x` })", out), -EINVAL);
    assert_int_equal(schema_of("export default defineConfig({ schema: 'a' + b })", out), -EINVAL);
    assert_int_equal(schema_of("const schema = 'x';\nexport default { schema }", out), -EINVAL);
    /* A nested `schema` key belongs to something else. */
    assert_int_equal(schema_of("export default defineConfig({ a: { b: { schema: 'x' } } })", out),
                     -ENOENT);
}

static void test_prisma_config_migrations_path_forms(void **state)
{
    char out[PATH_MAX];
    const char *t = "import { defineConfig } from 'prisma/config'\n"
                    "// migrations: { path: 'commented/out' },\n"
                    "export default defineConfig({\n"
                    "  schema: 'prisma/schema.prisma',\n"
                    "  migrations: { seed: 'tsx seed.ts', path: \"db/migrations\" },\n"
                    "})\n";
    assert_int_equal(migrations_of(t, strlen(t), out), 0);
    assert_string_equal(out, "db/migrations");
    t = "export default { migrations: { path: path.join('prisma', 'migrations') } }";
    assert_int_equal(migrations_of(t, strlen(t), out), 0);
    assert_string_equal(out, "prisma/migrations");
    t = "export default { \"migrations\": { seed: { x: 1 }, \"path\": `m` } }";
    assert_int_equal(migrations_of(t, strlen(t), out), 0);
    assert_string_equal(out, "m");
    /* a nested path key is not the folder */
    t = "export default { migrations: { seed: { path: 'no' } } }";
    assert_int_equal(migrations_of(t, strlen(t), out), -ENOENT);
    t = "export default { schema: 'x', datasource: { url: env('DATABASE_URL') } }";
    assert_int_equal(migrations_of(t, strlen(t), out), -ENOENT);
    t = "const d = 'a'; export default { migrations: { path: d } }";
    assert_int_equal(migrations_of(t, strlen(t), out), -EINVAL);
    t = "export default { migrations: { path: `${root}/m` } }";
    assert_int_equal(migrations_of(t, strlen(t), out), -EINVAL);
    t = "const s = \"migrations: { path: 'in a string' }\"; export default {}";
    assert_int_equal(migrations_of(t, strlen(t), out), -ENOENT);
    /* A NUL inside the literal would cut the path short as a C string (found by fuzzing). */
    static const char nul[] = "export default { migrations: { path: 'db\0/other' } }";
    assert_int_equal(migrations_of(nul, sizeof nul - 1, out), -EINVAL);
    /* ... and in a quoted key it makes another key. */
    static const char nulkey[] = "export default { \"migrations\0x\": { path: 'db' } }";
    assert_int_equal(migrations_of(nulkey, sizeof nulkey - 1, out), -ENOENT);
}

/* Longer than a path can be: refused, never cut to a shorter (other) folder. */
static void test_prisma_config_too_long_is_refused(void **state)
{
    char part[PATH_MAX / 2 + 2];
    memset(part, 'a', sizeof part - 1);
    part[sizeof part - 1] = '\0';
    char *t = malloc(3 * PATH_MAX), out[PATH_MAX];
    assert_non_null(t);
    snprintf(t, 3 * PATH_MAX, "export default { migrations: { path: '%s%s' } }", part, part);
    assert_int_equal(migrations_of(t, strlen(t), out), -ENAMETOOLONG);
    snprintf(t, 3 * PATH_MAX, "export default { migrations: { path: join('%s', '%s') } }", part,
             part);
    assert_int_equal(migrations_of(t, strlen(t), out), -ENAMETOOLONG);
    free(t);
}

/* A config file that ends right after `path:` (found by fuzzing: read one byte past it). The
 * text is copied to a buffer of its exact length so ASan sees any read beyond it. */
static void test_prisma_config_cut_short(void **state)
{
    static const char *const texts[] = {
        "export default {migrations:{path:", "export default { migrations: { path:  \n",
        "export default { schema: join('a'", "{ schema: '"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        size_t len = strlen(texts[i]);
        char *t = malloc(len);
        assert_non_null(t);
        memcpy(t, texts[i], len);
        struct prisma_config_values v;
        prisma_config_parse(t, len, &v);
        assert_true(v.migrations.rc == -EINVAL || v.schema.rc == -EINVAL);
        free(t);
    }
}

/* The forms Prisma's own templates and docs write paths in. */
static void test_prisma_config_paths_relative_to_the_file(void **state)
{
    char out[PATH_MAX];
    assert_int_equal(
        schema_of("import path from 'node:path'\n"
                  "export default defineConfig({ schema: path.join(__dirname, 'prisma', "
                  "'schema.prisma') })",
                  out),
        0);
    assert_string_equal(out, "./prisma/schema.prisma");
    assert_int_equal(schema_of("export default { schema: path.join(import.meta.dirname, "
                               "\"db\", `schema`) }",
                               out),
                     0);
    assert_string_equal(out, "./db/schema");
    assert_int_equal(schema_of("export default { schema: path.resolve(__dirname, 'db') }", out), 0);
    assert_string_equal(out, "./db");
    assert_int_equal(schema_of("export default { schema: fileURLToPath(new "
                               "URL('./prisma/schema.prisma', import.meta.url)) }",
                               out),
                     0);
    assert_string_equal(out, "./prisma/schema.prisma");
    assert_int_equal(schema_of("export default { schema: url.fileURLToPath(new URL(\"db\", "
                               "import.meta.url)), }",
                               out),
                     0);
    assert_string_equal(out, "db");
    /* What depends on the working directory, or is a URL object Prisma refuses. */
    assert_int_equal(schema_of("export default { schema: path.resolve('prisma') }", out), -EINVAL);
    assert_int_equal(schema_of("export default { schema: path.join(process.cwd(), 'p') }", out),
                     -EINVAL);
    assert_int_equal(schema_of("export default { schema: new URL('p', import.meta.url) }", out),
                     -EINVAL);
    assert_int_equal(schema_of("export default { schema: fileURLToPath(new URL('a%20b', "
                               "import.meta.url)) }",
                               out),
                     -EINVAL);
}

static void test_prisma_config_datasource_url(void **state)
{
    struct prisma_config_values v;
    const char *t = "import 'dotenv/config'\nimport { defineConfig, env } from 'prisma/config'\n"
                    "export default defineConfig({ datasource: { url: env(\"DB_URL\") } })";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, 0);
    assert_string_equal(v.url.var, "DB_URL");
    assert_string_equal(v.url.literal, "");
    assert_true(v.dotenv);
    t = "export default { datasource: { url: process.env.DATABASE_URL ?? \"\" } }";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, 0);
    assert_string_equal(v.url.var, "DATABASE_URL");
    assert_false(v.dotenv);
    t = "export default { datasource: { url: process.env['X'] || 'postgresql://h/d' } }";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, 0);
    assert_string_equal(v.url.var, "X");
    assert_string_equal(v.url.literal, "postgresql://h/d");
    t = "export default { datasource: { url: 'postgresql://u@h/d' } }";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, 0);
    assert_string_equal(v.url.var, "");
    assert_string_equal(v.url.literal, "postgresql://u@h/d");
    t = "export default { datasource: { url: getUrl() } }";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, -EINVAL);
    t = "const dotenv = require('dotenv'); dotenv.config();\nmodule.exports = { schema: 's' }";
    prisma_config_parse(t, strlen(t), &v);
    assert_int_equal(v.url.rc, -ENOENT);
    assert_true(v.dotenv);
    t = "// import 'dotenv/config'\nexport default {}";
    prisma_config_parse(t, strlen(t), &v);
    assert_false(v.dotenv);
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_prisma_config_schema_literal),
        T(test_prisma_config_schema_absent_or_dynamic),
        T(test_prisma_config_migrations_path_forms),
        T(test_prisma_config_too_long_is_refused),
        T(test_prisma_config_cut_short),
        T(test_prisma_config_paths_relative_to_the_file),
        T(test_prisma_config_datasource_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
