/* Unit tests of where installs and generated clients are in workspaces and under pnpm
 * (lib/prisma/project.c), and of json_each (lib/base/json.c), which reads the records. */
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

#include "base/json.h"
#include "prisma/project.h"
#include "tmpdir.h"

#define LIT(s) s, sizeof(s) - 1

struct seen {
    char text[256];
};

static int record(void *data, const char *key, const char *value, size_t vlen)
{
    struct seen *s = data;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, "%s=%.*s;", key ? key : "-", (int)vlen, value);
    return strcmp(key ? key : "", "stop") == 0 ? 7 : 0;
}

static void test_json_each_object_array_and_stop(void **state)
{
    struct seen s = {""};
    static const char *const pk[] = {"packages", NULL};
    assert_int_equal(json_each(LIT("{\"packages\": {\"\": {\"a\": 1}, \"node_modules/x\": \"v\"}}"),
                               pk, record, &s),
                     0);
    assert_string_equal(s.text, "={\"a\": 1};node_modules/x=\"v\";");
    s.text[0] = '\0';
    static const char *const ws[] = {"workspaces", NULL};
    assert_int_equal(json_each(LIT("{\"workspaces\": [\"apps/*\", \"db\"]}"), ws, record, &s), 0);
    assert_string_equal(s.text, "-=\"apps/*\";-=\"db\";");
    s.text[0] = '\0';
    assert_int_equal(json_each(LIT("{\"a\": 1, \"stop\": 2, \"b\": 3}"), NULL, record, &s), 7);
    assert_string_equal(s.text, "a=1;stop=2;");
    assert_int_equal(json_each(LIT("{\"workspaces\": \"x\"}"), ws, record, &s), -EINVAL);
    assert_int_equal(json_each(LIT("{}"), ws, record, &s), -ENOENT);
    assert_int_equal(json_each(LIT("{\"workspaces\": [1,"), ws, record, &s), -EINVAL);
}

static void test_install_root_npm_workspaces(void **state)
{
    tmpdir_put("package.json", "{\"workspaces\": [\"./apps/*\", \"packages/**\"]}");
    tmpdir_put("package-lock.json", "{}");
    tmpdir_put("apps/api/package.json", "{}");
    tmpdir_put("packages/db/sub/package.json", "{}");
    tmpdir_put("tools/x/package.json", "{}");
    char app[PATH_MAX], out[PATH_MAX];
    snprintf(app, sizeof app, "%s/apps/api", tmpdir);
    assert_true(prisma_install_root(app, out, sizeof out));
    assert_string_equal(out, tmpdir);
    snprintf(app, sizeof app, "%s/packages/db/sub", tmpdir);
    assert_true(prisma_install_root(app, out, sizeof out));
    assert_string_equal(out, tmpdir);
    /* Not a member: installed where it is. */
    snprintf(app, sizeof app, "%s/tools/x", tmpdir);
    assert_false(prisma_install_root(app, out, sizeof out));
    assert_string_equal(out, app);
    /* A member with a lockfile of its own is installed on its own. */
    tmpdir_put("apps/api/package-lock.json", "{}");
    snprintf(app, sizeof app, "%s/apps/api", tmpdir);
    assert_false(prisma_install_root(app, out, sizeof out));
    assert_string_equal(out, app);
}

static void test_install_root_yarn_object_and_pnpm(void **state)
{
    tmpdir_put("y/package.json", "{\"workspaces\": {\"packages\": [\"apps/*\"]}}");
    tmpdir_put("y/apps/web/package.json", "{}");
    tmpdir_put("p/pnpm-workspace.yaml", "packages:\n  - apps/*\n");
    tmpdir_put("p/apps/api/package.json", "{}");
    char app[PATH_MAX], out[PATH_MAX], want[PATH_MAX];
    snprintf(app, sizeof app, "%s/y/apps/web", tmpdir);
    assert_true(prisma_install_root(app, out, sizeof out));
    snprintf(want, sizeof want, "%s/y", tmpdir);
    assert_string_equal(out, want);
    snprintf(app, sizeof app, "%s/p/apps/api", tmpdir);
    assert_true(prisma_install_root(app, out, sizeof out));
    snprintf(want, sizeof want, "%s/p", tmpdir);
    assert_string_equal(out, want);
}

/* pnpm links node_modules/@prisma/client into node_modules/.pnpm; Prisma writes the default
 * client next to the real one. */
static void test_client_js_output_follows_pnpm_links(void **state)
{
    tmpdir_put("prisma/schema.prisma",
               "generator client {\n  provider = \"prisma-client-js\"\n}\n");
    tmpdir_put(
        "node_modules/.pnpm/@prisma+client@7.10.0_x/node_modules/@prisma/client/package.json",
        "{\"version\": \"7.10.0\"}");
    char link[256];
    snprintf(link, sizeof link, "%s/node_modules/@prisma", tmpdir);
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && ln -s ../.pnpm/@prisma+client@7.10.0_x/node_modules/@prisma/client "
             "'%s/client'",
             link, link);
    assert_int_equal(system(cmd), 0);
    struct prisma_project *p = calloc(1, sizeof *p);
    assert_non_null(p);
    const struct prisma_settings s = {.app_dir = tmpdir};
    char err[512];
    assert_int_equal(prisma_project_find(p, &s, NULL, err, sizeof err), 0);
    assert_int_equal(p->ngens, 1);
    char want[PATH_MAX];
    snprintf(want, sizeof want,
             "%s/node_modules/.pnpm/@prisma+client@7.10.0_x/node_modules/.prisma/client", tmpdir);
    assert_string_equal(p->gens[0].resolved, want);
    prisma_project_free(p);
    free(p);
}

/* The schema of a workspace package: prisma runs in that package. */
static void test_package_root_of_a_schema(void **state)
{
    tmpdir_put("packages/db/package.json", "{}");
    tmpdir_put("packages/db/prisma/schema.prisma", "");
    char app[PATH_MAX], from[PATH_MAX], out[PATH_MAX], want[PATH_MAX];
    snprintf(app, sizeof app, "%s/apps/api", tmpdir);
    snprintf(from, sizeof from, "%s/packages/db/prisma", tmpdir);
    prisma_package_root(from, app, out, sizeof out);
    snprintf(want, sizeof want, "%s/packages/db", tmpdir);
    assert_string_equal(out, want);
    snprintf(from, sizeof from, "%s/apps/api/prisma", tmpdir);
    prisma_package_root(from, app, out, sizeof out);
    assert_string_equal(out, app);
}

#define TD(name) cmocka_unit_test_setup_teardown(name, tmpdir_setup, tmpdir_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_each_object_array_and_stop),
        TD(test_install_root_npm_workspaces),
        TD(test_install_root_yarn_object_and_pnpm),
        TD(test_client_js_output_follows_pnpm_links),
        TD(test_package_root_of_a_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
