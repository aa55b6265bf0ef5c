/* Unit tests of lib/prisma/schema.c: JSON reading, schema normalisation, generator blocks,
 * the generated client's embedded config, the config file's schema key, paths, discovery. */
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

/* ---- JSON ---- */

static void test_prisma_schema_json_nested_string(void **state)
{
    const char pkg[] =
        "{\"name\": \"app\", \"scripts\": {\"dev\": \"x\"}, \"n\": [1, {\"a\": null}],"
        " \"prisma\": {\"seed\": \"node s.js\", \"schema\": \"db/s\\u00e9.prisma\"}}";
    static const char *const path[] = {"prisma", "schema", NULL};
    char out[64];
    assert_int_equal(prisma_json_string(LIT(pkg), path, out, sizeof out), 0);
    assert_string_equal(out, "db/s\xc3\xa9.prisma");
    static const char *const name[] = {"name", NULL};
    assert_int_equal(prisma_json_string(LIT(pkg), name, out, sizeof out), 0);
    assert_string_equal(out, "app");
}

static void test_prisma_schema_json_missing_and_wrong_type(void **state)
{
    const char pkg[] = "{\"prisma\": {\"seed\": 1}, \"version\": 7}";
    static const char *const schema[] = {"prisma", "schema", NULL};
    static const char *const version[] = {"version", NULL};
    static const char *const deep[] = {"version", "x", NULL};
    char out[16];
    assert_int_equal(prisma_json_string(LIT(pkg), schema, out, sizeof out), -ENOENT);
    assert_int_equal(prisma_json_string(LIT(pkg), version, out, sizeof out), -EINVAL);
    assert_int_equal(prisma_json_string(LIT(pkg), deep, out, sizeof out), -EINVAL);
    assert_int_equal(prisma_json_string(LIT("{\"version\": \"1\""), version, out, sizeof out),
                     -EINVAL); /* truncated */
    assert_int_equal(prisma_json_string(LIT("not json"), version, out, sizeof out), -EINVAL);
}

static void test_prisma_schema_json_duplicate_key_last_wins(void **state)
{
    static const char *const version[] = {"version", NULL};
    char out[16];
    assert_int_equal(prisma_json_string(LIT("{\"version\":\"1.0.0\",\"version\":\"2.0.0\"}"),
                                        version, out, sizeof out),
                     0);
    assert_string_equal(out, "2.0.0");
    assert_int_equal(prisma_json_string(LIT("{\"version\":\"1.0.0-long\"}"), version, out, 4),
                     -E2BIG);
}

static void test_prisma_schema_json_decode_escapes(void **state)
{
    size_t end = 0;
    const char lit[] = "\"a\\\"b\\\\c\\n\\u20ac\\ud83d\\ude00\" tail";
    char *s = prisma_json_decode(LIT(lit), &end);
    assert_non_null(s);
    assert_string_equal(s, "a\"b\\c\n\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(end, strlen(lit) - strlen(" tail"));
    free(s);
    assert_null(prisma_json_decode(LIT("\"unterminated"), &end));
    assert_null(prisma_json_decode(LIT("\"bad \\u12\""), &end));
}

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

/* ---- the generated client ---- */

static void test_prisma_schema_client_extract_index_js(void **state)
{
    const char js[] =
        "const config = {\n  \"previewFeatures\": [],\n  \"clientVersion\": \"7.10.0\",\n"
        "  \"engineVersion\": \"0edf\",\n  \"activeProvider\": \"postgresql\",\n"
        "  \"inlineSchema\": \"model A {\\n  id Int @id\\n  s String "
        "@default(\\\"x\\\")\\n}\\n\",\n"
        "  \"runtimeDataModel\": {}\n}\n";
    char version[32];
    char *schema;
    assert_int_equal(prisma_client_extract(LIT(js), version, sizeof version, &schema), 0);
    assert_string_equal(version, "7.10.0");
    assert_string_equal(schema, "model A {\n  id Int @id\n  s String @default(\"x\")\n}\n");
    free(schema);
}

static void test_prisma_schema_client_extract_class_ts(void **state)
{
    const char ts[] = "const config: runtime.GetPrismaClientConfig = {\n"
                      "  \"previewFeatures\": [],\n  \"clientVersion\": \"7.10.0\",\n"
                      "  \"inlineSchema\": \"model Extra {\\n  id Int @id\\n}\\n\",\n}\n";
    char version[32];
    char *schema;
    assert_int_equal(prisma_client_extract(LIT(ts), version, sizeof version, &schema), 0);
    assert_string_equal(version, "7.10.0");
    assert_string_equal(schema, "model Extra {\n  id Int @id\n}\n");
    free(schema);
}

static void test_prisma_schema_client_extract_missing(void **state)
{
    char version[32];
    char *schema;
    assert_int_equal(
        prisma_client_extract(LIT("module.exports = {}"), version, sizeof version, &schema),
        -ENOENT);
    assert_null(schema);
    /* "clientVersion" appearing as part of another word is not the key. */
    assert_int_equal(
        prisma_client_extract(LIT("{\"myclientVersion\": \"1\", \"inlineSchema\": \"\"}"), version,
                              sizeof version, &schema),
        -ENOENT);
}

/* ---- prisma.config.* ---- */

static void test_prisma_schema_config_schema_literal(void **state)
{
    const char ts[] = "// schema: \"commented/out.prisma\"\n"
                      "import { defineConfig } from \"prisma/config\";\n"
                      "/* schema: 'also/not' */\n"
                      "export default defineConfig({\n"
                      "  migrations: { path: \"db/migrations\" },\n"
                      "  schema: 'db/schema.prisma',\n"
                      "});\n";
    char out[64];
    assert_int_equal(prisma_config_schema(LIT(ts), out, sizeof out), 0);
    assert_string_equal(out, "db/schema.prisma");
    const char js[] = "module.exports = { \"schema\": `prisma/schema` }";
    assert_int_equal(prisma_config_schema(LIT(js), out, sizeof out), 0);
    assert_string_equal(out, "prisma/schema");
}

static void test_prisma_schema_config_schema_absent_or_dynamic(void **state)
{
    char out[64];
    assert_int_equal(prisma_config_schema(LIT("export default defineConfig({ datasource: { url: "
                                              "process.env.DATABASE_URL } })"),
                                          out, sizeof out),
                     -ENOENT);
    assert_int_equal(prisma_config_schema(LIT("export default defineConfig({ schema: "
                                              "path.join(__dirname, 'x') })"),
                                          out, sizeof out),
                     -EINVAL);
    assert_int_equal(prisma_config_schema(LIT("export default defineConfig({ schema: `${d}/x` })"),
                                          out, sizeof out),
                     -EINVAL);
    assert_int_equal(prisma_config_schema(LIT("export default defineConfig({ schema: 'a' + b })"),
                                          out, sizeof out),
                     -EINVAL);
    assert_int_equal(prisma_config_schema(LIT("const schema = 'x';\nexport default { schema }"),
                                          out, sizeof out),
                     -EINVAL);
    /* A nested `schema` key belongs to something else. */
    assert_int_equal(prisma_config_schema(LIT("export default defineConfig({ a: { b: { schema: "
                                              "'x' } } })"),
                                          out, sizeof out),
                     -ENOENT);
}

/* ---- paths ---- */

static void test_prisma_schema_path_join(void **state)
{
    char out[PATH_MAX];
    assert_int_equal(prisma_path_join("", "prisma/schema.prisma", out, sizeof out), 0);
    assert_string_equal(out, "prisma/schema.prisma");
    prisma_path_join("prisma", "../node_modules/.prisma/client", out, sizeof out);
    assert_string_equal(out, "node_modules/.prisma/client");
    prisma_path_join("app/prisma/schema", "../../generated/./prisma/", out, sizeof out);
    assert_string_equal(out, "app/generated/prisma");
    prisma_path_join("prisma", "../../shared/gen", out, sizeof out);
    assert_string_equal(out, "../shared/gen");
    prisma_path_join("/srv/app", "/abs//x", out, sizeof out);
    assert_string_equal(out, "/abs/x");
    prisma_path_join("/srv", "../../..", out, sizeof out);
    assert_string_equal(out, "/");
    prisma_path_join("a", "..", out, sizeof out);
    assert_string_equal(out, ".");
    prisma_path_join("../x", "../y", out, sizeof out);
    assert_string_equal(out, "../y");
    char small[4];
    assert_int_equal(prisma_path_join("abc", "def", small, sizeof small), -ENAMETOOLONG);
}

static void test_prisma_schema_path_dirname(void **state)
{
    char out[64];
    prisma_path_dirname("prisma/schema.prisma", out, sizeof out);
    assert_string_equal(out, "prisma");
    prisma_path_dirname("schema.prisma", out, sizeof out);
    assert_string_equal(out, "");
    prisma_path_dirname("/schema.prisma", out, sizeof out);
    assert_string_equal(out, "/");
}

/* ---- discovery, in a temporary directory ---- */

static char dir[128];

static int setup_dir(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/devinit-test-prisma.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *rel, const char *text)
{
    char path[512], cmd[600];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", path);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_prisma_schema_find_default_file(void **state)
{
    put("prisma/schema.prisma", "generator client {\n  provider = \"prisma-client-js\"\n}\n");
    put("package.json", "{\"name\": \"x\"}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(prisma_find_project(p, dir, "", "", NULL, err, sizeof err), 0);
    char want[256];
    snprintf(want, sizeof want, "%s/prisma/schema.prisma", dir);
    assert_string_equal(p->schema, want);
    assert_int_equal(p->origin, PRISMA_FROM_DEFAULT);
    assert_false(p->schema_is_dir);
    assert_int_equal(p->nfiles, 1);
    assert_string_equal(p->config, "");
    assert_int_equal(p->ngens, 1);
    snprintf(want, sizeof want, "%s/node_modules/.prisma/client", dir);
    assert_string_equal(p->gens[0].resolved, want);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_schema_find_folder_in_path_order(void **state)
{
    put("prisma/schema/main.prisma",
        "generator client {\n  provider = \"prisma-client\"\n  output = \"../../gen\"\n}\n");
    put("prisma/schema/b/post.prisma", "model Post { id Int @id }\n");
    put("prisma/schema/a.prisma", "model A { id Int @id }\n");
    put("prisma/schema/notes.txt", "not a schema");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(prisma_find_project(p, dir, "", "", NULL, err, sizeof err), 0);
    assert_true(p->schema_is_dir);
    assert_int_equal(p->nfiles, 3);
    assert_non_null(strstr(p->files[0], "/prisma/schema/a.prisma"));
    assert_non_null(strstr(p->files[1], "/prisma/schema/b/post.prisma"));
    assert_non_null(strstr(p->files[2], "/prisma/schema/main.prisma"));
    char want[256];
    snprintf(want, sizeof want, "%s/gen", dir);
    assert_string_equal(p->gens[0].resolved, want);
    assert_int_equal(p->gens[0].kind, PRISMA_GEN_CLIENT);
    prisma_project_free(p);
    free(p);
}

static void test_prisma_schema_find_order_of_sources(void **state)
{
    put("prisma/schema.prisma", "// default\n");
    put("db/pkg.prisma", "// from package.json\n");
    put("cfg/db/conf.prisma", "// from the config file\n");
    put("key.prisma", "// from [prisma] schema\n");
    put("package.json", "{\"prisma\": {\"schema\": \"db/pkg.prisma\"}}");
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];

    assert_int_equal(prisma_find_project(p, dir, "", "", NULL, err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_PACKAGE_JSON);
    assert_non_null(strstr(p->schema, "/db/pkg.prisma"));
    prisma_project_free(p);

    /* The config file's paths are relative to the config file. */
    put("cfg/prisma.ts", "export default { schema: 'db/conf.prisma' }\n");
    memset(p, 0, sizeof *p);
    assert_int_equal(prisma_find_project(p, dir, "", "cfg/prisma.ts", NULL, err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_CONFIG_FILE);
    assert_non_null(strstr(p->schema, "/cfg/db/conf.prisma"));
    assert_non_null(strstr(p->config, "/cfg/prisma.ts"));
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(
        prisma_find_project(p, dir, "key.prisma", "cfg/prisma.ts", NULL, err, sizeof err), 0);
    assert_int_equal(p->origin, PRISMA_FROM_CONFIG_KEY);
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(prisma_find_project(p, dir, "nope.prisma", "", NULL, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "nope.prisma"));
    prisma_project_free(p);

    memset(p, 0, sizeof *p);
    assert_int_equal(prisma_find_project(p, dir, "", "missing.config.ts", NULL, err, sizeof err),
                     -EINVAL);
    assert_non_null(strstr(err, "missing.config.ts"));
    prisma_project_free(p);
    free(p);
}

static void test_prisma_schema_find_config_file_by_name(void **state)
{
    put("prisma.config.mjs", "export default {}\n");
    char out[256];
    assert_int_equal(prisma_find_config(dir, "", out, sizeof out), 0);
    assert_non_null(strstr(out, "/prisma.config.mjs"));
    put("prisma.config.ts", "export default {}\n");
    assert_int_equal(prisma_find_config(dir, "", out, sizeof out), 0);
    assert_non_null(strstr(out, "/prisma.config.ts")); /* .ts comes first */
}

static void test_prisma_schema_find_none(void **state)
{
    struct prisma_project *p = calloc(1, sizeof *p);
    char err[512];
    assert_int_equal(prisma_find_project(p, dir, "", "", NULL, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "no prisma schema"));
    prisma_project_free(p);
    free(p);
}

static void test_prisma_schema_package_version_walks_up(void **state)
{
    put("node_modules/prisma/package.json", "{\"version\": \"7.10.1\", \"name\": \"prisma\"}");
    put("apps/api/node_modules/@prisma/client/package.json", "{\"version\": \"7.10.0\"}");
    char sub[256], v[32], pdir[256];
    snprintf(sub, sizeof sub, "%s/apps/api", dir);
    assert_int_equal(prisma_package_version(sub, "prisma", v, sizeof v, pdir, sizeof pdir), 0);
    assert_string_equal(v, "7.10.1");
    char want[256];
    snprintf(want, sizeof want, "%s/node_modules/prisma", dir);
    assert_string_equal(pdir, want);
    assert_int_equal(prisma_package_version(sub, "@prisma/client", v, sizeof v, NULL, 0), 0);
    assert_string_equal(v, "7.10.0");
    assert_int_equal(prisma_package_version(dir, "@prisma/client", v, sizeof v, NULL, 0), -ENOENT);
}

static void test_prisma_schema_client_file(void **state)
{
    struct prisma_generator g;
    memset(&g, 0, sizeof g);
    g.kind = PRISMA_GEN_CLIENT;
    snprintf(g.resolved, sizeof g.resolved, "%s/gen", dir);
    char out[PATH_MAX];
    assert_int_equal(prisma_client_file(&g, out, sizeof out), -ENOENT);
    put("gen/internal/class.mts", "x");
    assert_int_equal(prisma_client_file(&g, out, sizeof out), 0);
    assert_non_null(strstr(out, "/gen/internal/class.mts"));
    g.kind = PRISMA_GEN_OTHER;
    assert_int_equal(prisma_client_file(&g, out, sizeof out), -ENOENT);
}

#define T(name)  cmocka_unit_test(name)
#define TD(name) cmocka_unit_test_setup_teardown(name, setup_dir, teardown_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_prisma_schema_json_nested_string),
        T(test_prisma_schema_json_missing_and_wrong_type),
        T(test_prisma_schema_json_duplicate_key_last_wins),
        T(test_prisma_schema_json_decode_escapes),
        T(test_prisma_schema_formatted_copy_is_equivalent),
        T(test_prisma_schema_whitespace_in_strings_matters),
        T(test_prisma_schema_word_separation_matters),
        T(test_prisma_schema_comment_end_matters),
        T(test_prisma_schema_real_edits_differ),
        T(test_prisma_schema_normalize_form),
        T(test_prisma_schema_generators_parse),
        T(test_prisma_schema_generators_limit),
        T(test_prisma_schema_generators_cut_short),
        T(test_prisma_schema_generator_resolve),
        T(test_prisma_schema_client_extract_index_js),
        T(test_prisma_schema_client_extract_class_ts),
        T(test_prisma_schema_client_extract_missing),
        T(test_prisma_schema_config_schema_literal),
        T(test_prisma_schema_config_schema_absent_or_dynamic),
        T(test_prisma_schema_path_join),
        T(test_prisma_schema_path_dirname),
        TD(test_prisma_schema_find_default_file),
        TD(test_prisma_schema_find_folder_in_path_order),
        TD(test_prisma_schema_find_order_of_sources),
        TD(test_prisma_schema_find_config_file_by_name),
        TD(test_prisma_schema_find_none),
        TD(test_prisma_schema_package_version_walks_up),
        TD(test_prisma_schema_client_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
