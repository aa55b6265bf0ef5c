/* Unit tests of lib/base/json.c: reading package.json and generated clients. */
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

#include "base/json.h"

#define LIT(s) s, sizeof(s) - 1

static void test_json_nested_string(void **state)
{
    const char pkg[] =
        "{\"name\": \"app\", \"scripts\": {\"dev\": \"x\"}, \"n\": [1, {\"a\": null}],"
        " \"prisma\": {\"seed\": \"node s.js\", \"schema\": \"db/s\\u00e9.prisma\"}}";
    static const char *const path[] = {"prisma", "schema", NULL};
    char out[64];
    assert_int_equal(json_get_string(LIT(pkg), path, out, sizeof out), 0);
    assert_string_equal(out, "db/s\xc3\xa9.prisma");
    static const char *const name[] = {"name", NULL};
    assert_int_equal(json_get_string(LIT(pkg), name, out, sizeof out), 0);
    assert_string_equal(out, "app");
}

static void test_json_missing_and_wrong_type(void **state)
{
    const char pkg[] = "{\"prisma\": {\"seed\": 1}, \"version\": 7}";
    static const char *const schema[] = {"prisma", "schema", NULL};
    static const char *const version[] = {"version", NULL};
    static const char *const deep[] = {"version", "x", NULL};
    char out[16];
    assert_int_equal(json_get_string(LIT(pkg), schema, out, sizeof out), -ENOENT);
    assert_int_equal(json_get_string(LIT(pkg), version, out, sizeof out), -EINVAL);
    assert_int_equal(json_get_string(LIT(pkg), deep, out, sizeof out), -EINVAL);
    assert_int_equal(json_get_string(LIT("{\"version\": \"1\""), version, out, sizeof out),
                     -EINVAL); /* truncated */
    assert_int_equal(json_get_string(LIT("not json"), version, out, sizeof out), -EINVAL);
}

static void test_json_duplicate_key_last_wins(void **state)
{
    static const char *const version[] = {"version", NULL};
    char out[16];
    assert_int_equal(json_get_string(LIT("{\"version\":\"1.0.0\",\"version\":\"2.0.0\"}"), version,
                                     out, sizeof out),
                     0);
    assert_string_equal(out, "2.0.0");
    assert_int_equal(json_get_string(LIT("{\"version\":\"1.0.0-long\"}"), version, out, 4), -E2BIG);
}

static void test_json_decode_escapes(void **state)
{
    size_t end = 0;
    const char lit[] = "\"a\\\"b\\\\c\\n\\u20ac\\ud83d\\ude00\" tail";
    char *s = json_decode_string(LIT(lit), &end);
    assert_non_null(s);
    assert_string_equal(s, "a\"b\\c\n\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_int_equal(end, strlen(lit) - strlen(" tail"));
    free(s);
    assert_null(json_decode_string(LIT("\"unterminated"), &end));
    assert_null(json_decode_string(LIT("\"bad \\u12\""), &end));
}

static void test_json_integer(void **state)
{
    static const char *const exit_key[] = {"exit", NULL}, *const msg[] = {"message", NULL};
    long long v = 0;
    assert_int_equal(json_get_int(LIT("{\"exit\": 75, \"message\": \"x\"}"), exit_key, &v), 0);
    assert_int_equal(v, 75);
    assert_int_equal(json_get_int(LIT("{\"exit\":-1}"), exit_key, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(json_get_int(LIT("{\"exit\": 1.5}"), exit_key, &v), -EINVAL);
    assert_int_equal(json_get_int(LIT("{\"exit\": \"1\"}"), exit_key, &v), -EINVAL);
    assert_int_equal(json_get_int(LIT("{\"exit\": 99999999999999999999}"), exit_key, &v), -EINVAL);
    assert_int_equal(json_get_int(LIT("{\"exit\": 1}"), msg, &v), -ENOENT);
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_json_nested_string),
        T(test_json_missing_and_wrong_type),
        T(test_json_duplicate_key_last_wins),
        T(test_json_decode_escapes),
        T(test_json_integer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
