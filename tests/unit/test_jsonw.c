#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/jsonw.h"

static void test_jsonw_nested_commas(void **state)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_object_begin(&w);
    jsonw_key(&w, "ready");
    jsonw_bool(&w, false);
    jsonw_key(&w, "list");
    jsonw_array_begin(&w);
    jsonw_string(&w, "a");
    jsonw_int(&w, -3);
    jsonw_null(&w);
    jsonw_object_begin(&w);
    jsonw_object_end(&w);
    jsonw_array_end(&w);
    jsonw_key(&w, "n");
    jsonw_int(&w, 42);
    jsonw_object_end(&w);
    assert_string_equal(w.buf, "{\"ready\":false,\"list\":[\"a\",-3,null,{}],\"n\":42}");
    jsonw_free(&w);
}

static void test_jsonw_escapes(void **state)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_string(&w, "q\"b\\n\n\t\x01");
    assert_string_equal(w.buf, "\"q\\\"b\\\\n\\n\\t\\u0001\"");
    jsonw_free(&w);
}

/* A C1 control (CSI, U+009B) is written as an escape, a raw 0x9b as U+FFFD: printing the
 * document shows neither to a terminal. */
static void test_jsonw_c1_escaped(void **state)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_string(&w, "a\xc2\x9b"
                     "31m\x9b\xc2\xa0");
    assert_string_equal(w.buf, "\"a\\u009b31m\\ufffd\xc2\xa0\"");
    jsonw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonw_nested_commas),
        cmocka_unit_test(test_jsonw_escapes),
        cmocka_unit_test(test_jsonw_c1_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
