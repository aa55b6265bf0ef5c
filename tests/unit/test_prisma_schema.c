/* Unit tests of lib/prisma/schema.c: schema normalisation and generator blocks. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "prisma/schema.h"

#define LIT(s) s, sizeof(s) - 1

/* ---- normalisation ---- */

/* A badly formatted schema and what Prisma 7.10 embedded in the client it generated from it
 * (taken from a real `prisma generate`). */
static const char ugly_schema[] = "generator client {\n"
                                  "provider=\"prisma-client-js\"\n"
                                  "  output =   \"../gen/client\"\n"
                                  "}\n"
                                  "datasource db {\n"
                                  "      provider = \"postgresql\"\n"
                                  "}\n"
                                  "/// A user\n"
                                  "model User {\n"
                                  "id Int @id @default(autoincrement())\n"
                                  "  name String @default(\"John  Smith\")   // two spaces\n"
                                  "  tags String[]\n"
                                  "}\n";
static const char formatted_inline[] =
    "generator client {\n  provider = \"prisma-client-js\"\n  output   = \"../gen/client\"\n}\n\n"
    "datasource db {\n  provider = \"postgresql\"\n}\n\n/// A user\nmodel User {\n"
    "  id   Int      @id @default(autoincrement())\n"
    "  name String   @default(\"John  Smith\") // two spaces\n  tags String[]\n}\n";

static void test_prisma_schema_formatted_copy_is_equivalent(void **state)
{
    assert_true(prisma_schema_equivalent(LIT(ugly_schema), LIT(formatted_inline)));
}

static void test_prisma_schema_whitespace_in_strings_matters(void **state)
{
    assert_false(prisma_schema_equivalent(LIT("a String @default(\"John  Smith\")"),
                                          LIT("a String @default(\"John Smith\")")));
    assert_false(prisma_schema_equivalent(LIT("x @map(\"a b\")"), LIT("x @map(\"ab\")")));
}

static void test_prisma_schema_word_separation_matters(void **state)
{
    assert_false(prisma_schema_equivalent(LIT("model A { id Int }"), LIT("model A { idInt }")));
    assert_true(prisma_schema_equivalent(LIT("model A {\n\tid    Int\n}"), LIT("model A{id Int}")));
    assert_true(prisma_schema_equivalent(LIT("tags String [ ]"), LIT("tags String[]")));
}

static void test_prisma_schema_comment_end_matters(void **state)
{
    /* Joining the line after a comment into it comments that line out. */
    assert_false(prisma_schema_equivalent(LIT("// note\nmodel A { id Int @id }"),
                                          LIT("// note model A { id Int @id }")));
    assert_true(
        prisma_schema_equivalent(LIT("// note   \n\n\nmodel A {}"), LIT("// note\nmodel A {}\n")));
    /* A quote inside a comment does not start a string. */
    assert_true(prisma_schema_equivalent(LIT("// it's \"odd\n  a  b"), LIT("// it's \"odd\na b")));
}

static void test_prisma_schema_real_edits_differ(void **state)
{
    assert_false(prisma_schema_equivalent(LIT(ugly_schema), LIT("")));
    assert_false(
        prisma_schema_equivalent(LIT("model A { id Int @id }"), LIT("model A { id BigInt @id }")));
    assert_false(prisma_schema_equivalent(LIT("model A { id Int @id }"),
                                          LIT("model A { id Int @id metadata Json }")));
}

static void test_prisma_schema_normalize_form(void **state)
{
    char out[sizeof ugly_schema];
    size_t n = prisma_schema_normalize(LIT(ugly_schema), out);
    assert_int_equal(strlen(out), n);
    assert_string_equal(out,
                        "generator client{provider=\"prisma-client-js\"output=\"../gen/client\"}"
                        "datasource db{provider=\"postgresql\"}///A user\nmodel User{id Int@id"
                        "@default(autoincrement())name String@default(\"John  Smith\")"
                        "//two spaces\ntags String[]}");
}

/* ---- generators ---- */

static void test_prisma_schema_generators_parse(void **state)
{
    const char text[] = "// generator commented { provider = \"no\" }\n"
                        "datasource db { provider = \"postgresql\" }\n"
                        "generator client {\n"
                        "  provider        = \"prisma-client-js\"\n"
                        "  previewFeatures = [\"views\", \"}\"]\n"
                        "  binaryTargets   = [\"native\"]\n"
                        "}\n"
                        "model generator { id Int @id\n generator String @default(\"{\") }\n"
                        "generator zod {\n"
                        "  provider = env(\"ZOD_PROVIDER\") // a comment with \"quotes\"\n"
                        "  output   = \"../src/zod\"\n"
                        "  config   = someCall(1, 2)\n"
                        "}\n"
                        "generator ts { provider = \"prisma-client\"  output = env(\"OUT\") }\n";
    struct prisma_generator g[4];
    size_t n = 0;
    assert_int_equal(prisma_generators_parse(LIT(text), g, 4, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(g[0].name, "client");
    assert_string_equal(g[0].provider, "prisma-client-js");
    assert_false(g[0].provider_env);
    assert_string_equal(g[0].output, "");
    assert_string_equal(g[1].name, "zod");
    assert_string_equal(g[1].provider, "ZOD_PROVIDER");
    assert_true(g[1].provider_env);
    assert_string_equal(g[1].output, "../src/zod");
    assert_string_equal(g[2].name, "ts");
    assert_string_equal(g[2].provider, "prisma-client");
    assert_string_equal(g[2].output, "OUT");
    assert_true(g[2].output_env);
}

static void test_prisma_schema_generators_limit(void **state)
{
    const char text[] = "generator a { provider = \"x\" }\ngenerator b { provider = \"y\" }\n";
    struct prisma_generator g[1];
    size_t n = 0;
    assert_int_equal(prisma_generators_parse(LIT(text), g, 1, &n), -E2BIG);
}

/* A schema file that ends inside a string, right after a backslash (found by fuzzing: the
 * string token ran one byte past the text). Copied to a buffer of its exact length so ASan
 * sees any read beyond it. */
static void test_prisma_schema_generators_cut_short(void **state)
{
    static const char text[] = "generator t { provider = \"\\";
    char *t = malloc(sizeof text - 1);
    assert_non_null(t);
    memcpy(t, text, sizeof text - 1);
    struct prisma_generator g[1];
    size_t n = 0;
    assert_int_equal(prisma_generators_parse(t, sizeof text - 1, g, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(g[0].name, "t");
    assert_string_equal(g[0].provider, "");
    free(t);
}

/* The datasource and the variable its url reads, wherever the block's lines are, past
 * comments and strings that look like one. */
static void test_prisma_schema_datasource(void **state)
{
    char var[32] = "";
    const char one_line[] = "// datasource x { url = env(\"NO\") }\n"
                            "model M { s String @default(\"datasource y {\") }\n"
                            "datasource db { provider = \"postgresql\" url = env(\"PG_URL\") }\n";
    assert_true(prisma_datasource_parse(LIT(one_line), var, sizeof var));
    assert_string_equal(var, "PG_URL");
    /* Prisma 7: no url in the schema; the variable stays as the caller set it. */
    const char seven[] = "datasource db {\n  provider = \"postgresql\"\n}\n";
    snprintf(var, sizeof var, "DATABASE_URL");
    assert_true(prisma_datasource_parse(LIT(seven), var, sizeof var));
    assert_string_equal(var, "DATABASE_URL");
    /* A literal URL names no variable; a name too long for var is not cut short. */
    const char literal[] = "datasource db {\n  url = \"postgresql://x@h/db\"\n}\n";
    assert_true(prisma_datasource_parse(LIT(literal), var, sizeof var));
    assert_string_equal(var, "DATABASE_URL");
    const char longname[] =
        "datasource db { url = env(\"A_VARIABLE_NAME_LONGER_THAN_THIRTY_TWO\") }\n";
    assert_true(prisma_datasource_parse(LIT(longname), var, sizeof var));
    assert_string_equal(var, "DATABASE_URL");
    const char none[] = "generator client { provider = \"prisma-client-js\" }\n";
    assert_false(prisma_datasource_parse(LIT(none), var, sizeof var));
}

static const char *fake_env(const char *name)
{
    if (strcmp(name, "OUT") == 0)
        return "/abs/out";
    if (strcmp(name, "PROV") == 0)
        return "prisma-client";
    return NULL;
}

static void test_prisma_schema_generator_resolve(void **state)
{
    struct prisma_generator g;
    memset(&g, 0, sizeof g);
    strcpy(g.provider, "prisma-client-js");
    prisma_generator_resolve(&g, "", "prisma", fake_env);
    assert_int_equal(g.kind, PRISMA_GEN_CLIENT_JS);
    assert_string_equal(g.resolved, "node_modules/.prisma/client");
    prisma_generator_resolve(&g, "apps/api", "apps/api/prisma", fake_env);
    assert_string_equal(g.resolved, "apps/api/node_modules/.prisma/client");

    /* Relative to the file that declares the generator, not to the app. */
    strcpy(g.output, "../../generated/prisma");
    prisma_generator_resolve(&g, "app", "app/prisma/schema", fake_env);
    assert_string_equal(g.resolved, "app/generated/prisma");

    memset(&g, 0, sizeof g);
    strcpy(g.provider, "PROV");
    g.provider_env = true;
    strcpy(g.output, "OUT");
    g.output_env = true;
    prisma_generator_resolve(&g, "", "prisma", fake_env);
    assert_int_equal(g.kind, PRISMA_GEN_CLIENT);
    assert_string_equal(g.resolved, "/abs/out");

    strcpy(g.output, "UNSET");
    prisma_generator_resolve(&g, "", "prisma", fake_env);
    assert_string_equal(g.resolved, "");

    memset(&g, 0, sizeof g);
    strcpy(g.provider, "prisma-dbml-generator");
    prisma_generator_resolve(&g, "", "prisma", NULL);
    assert_int_equal(g.kind, PRISMA_GEN_OTHER);
    assert_string_equal(g.resolved, ""); /* no output given: unknown */
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_prisma_schema_formatted_copy_is_equivalent),
        T(test_prisma_schema_whitespace_in_strings_matters),
        T(test_prisma_schema_word_separation_matters),
        T(test_prisma_schema_comment_end_matters),
        T(test_prisma_schema_real_edits_differ),
        T(test_prisma_schema_normalize_form),
        T(test_prisma_schema_generators_parse),
        T(test_prisma_schema_generators_limit),
        T(test_prisma_schema_datasource),
        T(test_prisma_schema_generators_cut_short),
        T(test_prisma_schema_generator_resolve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
