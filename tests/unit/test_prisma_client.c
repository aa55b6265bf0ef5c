/* Unit tests of lib/prisma/client.c: what a generated client embeds, and where. */
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

#include "prisma/client.h"
#include "tmpdir.h"

#define LIT(s) s, sizeof(s) - 1

static void test_prisma_client_extract_index_js(void **state)
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

static void test_prisma_client_extract_class_ts(void **state)
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

static void test_prisma_client_extract_missing(void **state)
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

static void test_prisma_client_file_by_kind(void **state)
{
    struct prisma_generator g;
    memset(&g, 0, sizeof g);
    g.kind = PRISMA_GEN_CLIENT;
    snprintf(g.resolved, sizeof g.resolved, "%s/gen", tmpdir);
    char out[PATH_MAX];
    assert_int_equal(prisma_client_file(&g, out, sizeof out), -ENOENT);
    tmpdir_put("gen/internal/class.mts", "x");
    assert_int_equal(prisma_client_file(&g, out, sizeof out), 0);
    assert_non_null(strstr(out, "/gen/internal/class.mts"));
    g.kind = PRISMA_GEN_OTHER;
    assert_int_equal(prisma_client_file(&g, out, sizeof out), -ENOENT);
}

#define T(name)  cmocka_unit_test(name)
#define TD(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_prisma_client_extract_index_js),
        T(test_prisma_client_extract_class_ts),
        T(test_prisma_client_extract_missing),
        TD(test_prisma_client_file_by_kind),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
