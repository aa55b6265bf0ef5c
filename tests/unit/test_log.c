/* log_escape_text: what text that quotes outside input may show a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/log.h"

static void expect_escaped(const char *in, size_t inlen, bool keep_lf, const char *want)
{
    char out[256];
    size_t n = log_escape_text(out, sizeof out, in, inlen, keep_lf);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

/* CSI as a raw byte (an 8-bit terminal acts on it as on ESC [) and as UTF-8 (U+009B). */
static void test_log_c1_controls_raw_and_utf8(void **state)
{
    expect_escaped("a\x9b"
                   "31mb",
                   6, false, "a\\x9b31mb");
    expect_escaped("a\xc2\x9b"
                   "31mb",
                   7, false, "a\\xc2\\x9b31mb");
    expect_escaped("\x80\x9f", 2, false, "\\x80\\x9f");
    expect_escaped("\xc2\x80\xc2\x9f", 4, false, "\\xc2\\x80\\xc2\\x9f");
}

/* Bytes that are no UTF-8: stray continuation bytes, a cut sequence, overlong forms. */
static void test_log_invalid_utf8_as_numbers(void **state)
{
    expect_escaped("\xff\xfe", 2, false, "\\xff\\xfe");
    expect_escaped("x\xe2\x82", 3, false, "x\\xe2\\x82");
    expect_escaped("\xc0\xaf", 2, false, "\\xc0\\xaf");
    /* The end of the input ends a sequence, even where the buffer goes on. */
    expect_escaped("\xc3\xa9", 1, false, "\\xc3");
}

/* Text stays text: UTF-8 letters, U+00A0 and beyond, tabs; LF as the caller wants it. */
static void test_log_text_and_newlines(void **state)
{
    expect_escaped("caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80\tx", 19, false,
                   "caf\xc3\xa9 \xc2\xa0 \xe2\x82\xac \xf0\x9f\x98\x80\tx");
    expect_escaped("a\nb\x1b[2J\r\x7f", 9, false, "a b\\x1b[2J\\x0d\\x7f");
    expect_escaped("a\nb\x1b", 4, true, "a\nb\\x1b");
    expect_escaped("a\0b", 3, true, "a\\x00b");
}

/* A character that does not fit whole is left out, never cut. */
static void test_log_escape_stops_whole(void **state)
{
    char out[6];
    log_escape_text(out, sizeof out, "ab\x9b", 3, false);
    assert_string_equal(out, "ab");
    log_escape_text(out, sizeof out, "abcd\xc3\xa9", 6, false);
    assert_string_equal(out, "abcd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_c1_controls_raw_and_utf8),
        cmocka_unit_test(test_log_invalid_utf8_as_numbers),
        cmocka_unit_test(test_log_text_and_newlines),
        cmocka_unit_test(test_log_escape_stops_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
