/* Unit tests of lib/base/path.c: lexical joins as Node's path.resolve() does. */
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

#include "base/path.h"

static void test_path_join(void **state)
{
    char out[PATH_MAX];
    assert_int_equal(path_join("", "prisma/schema.prisma", out, sizeof out), 0);
    assert_string_equal(out, "prisma/schema.prisma");
    path_join("prisma", "../node_modules/.prisma/client", out, sizeof out);
    assert_string_equal(out, "node_modules/.prisma/client");
    path_join("app/prisma/schema", "../../generated/./prisma/", out, sizeof out);
    assert_string_equal(out, "app/generated/prisma");
    path_join("prisma", "../../shared/gen", out, sizeof out);
    assert_string_equal(out, "../shared/gen");
    path_join("/srv/app", "/abs//x", out, sizeof out);
    assert_string_equal(out, "/abs/x");
    path_join("/srv", "../../..", out, sizeof out);
    assert_string_equal(out, "/");
    path_join("a", "..", out, sizeof out);
    assert_string_equal(out, ".");
    path_join("../x", "../y", out, sizeof out);
    assert_string_equal(out, "../y");
    char small[4];
    assert_int_equal(path_join("abc", "def", small, sizeof small), -ENAMETOOLONG);
}

static void test_path_dirname(void **state)
{
    char out[64];
    path_dirname("prisma/schema.prisma", out, sizeof out);
    assert_string_equal(out, "prisma");
    path_dirname("schema.prisma", out, sizeof out);
    assert_string_equal(out, "");
    path_dirname("/schema.prisma", out, sizeof out);
    assert_string_equal(out, "/");
}

/* The walk upwards visits each parent once and ends at the root. */
static void test_path_up(void **state)
{
    char dir[64] = "/app/packages/db";
    assert_true(path_up(dir));
    assert_string_equal(dir, "/app/packages");
    assert_true(path_up(dir));
    assert_true(path_up(dir));
    assert_string_equal(dir, "/");
    assert_false(path_up(dir));
    assert_string_equal(dir, "/");
    char rel[16] = "app/db";
    assert_false(path_up(rel));
    assert_string_equal(rel, "app/db");
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_path_join),
        T(test_path_dirname),
        T(test_path_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
