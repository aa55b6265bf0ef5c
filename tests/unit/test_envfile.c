/* The .env fallback: dotenv syntax, and the environment always winning. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/envfile.h"

static char *get(const char *text, const char *key)
{
    char *v = NULL;
    int r = envfile_parse_get(text, strlen(text), key, &v);
    return r == 0 ? v : NULL;
}

static void expect(const char *text, const char *key, const char *want)
{
    char *v = get(text, key);
    if (!want) {
        if (v)
            print_error("%s in [%s]: want none, got '%s'\n", key, text, v);
        assert_null(v);
        return;
    }
    if (!v || strcmp(v, want))
        print_error("%s in [%s]: want '%s', got '%s'\n", key, text, want, v ? v : "(none)");
    assert_non_null(v);
    assert_string_equal(v, want);
    free(v);
}

static void test_envfile_syntax(void **state)
{
    (void)state;
    expect("A=1\nB=2\n", "B", "2");
    expect("A=1", "A", "1");
    expect("# DATABASE_URL=commented\n", "DATABASE_URL", NULL);
    expect("  # comment\n\nA = spaced  \n", "A", "spaced");
    expect("export A=exported\n", "A", "exported");
    expect("export\tA=tab\n", "A", "tab");
    expect("A=one\r\nB=two\r\n", "A", "one");
    expect("A=value # trailing comment\n", "A", "value");
    expect("A=va#lue\n", "A", "va#lue");
    expect("A='single # not a comment $X'\n", "A", "single # not a comment $X");
    expect("A=\"dq \\\"esc\\\" \\n nl\"\n", "A", "dq \"esc\" \n nl");
    expect("A=\"multi\nline\"\nB=after\n", "A", "multi\nline");
    expect("A=\"multi\nline\"\nB=after\n", "B", "after");
    expect("A=`back`\n", "A", "back");
    expect("A=\n", "A", "");
    expect("A=first\nA=second\n", "A", "second");
    expect("AB=1\n", "A", NULL);
    expect("XA=1\n", "A", NULL);
    expect("not a line\nA=ok\n", "A", "ok");
    expect("=nokey\nA=ok\n", "A", "ok");
    expect("A='unclosed\n", "A", "'unclosed");
    expect("DATABASE_URL=\"postgresql://u:p%40ss@db:5432/app?schema=public\"\n", "DATABASE_URL",
           "postgresql://u:p%40ss@db:5432/app?schema=public");
}

static void test_envfile_lookup_env_wins(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_envfile.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/.env", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("TEST_ENVFILE_A=from-file\nTEST_ENVFILE_B=file-b\n", f);
    fclose(f);

    char *v;
    const char *from;
    setenv("TEST_ENVFILE_A", "from-env", 1);
    unsetenv("TEST_ENVFILE_B");
    unsetenv("TEST_ENVFILE_C");
    assert_int_equal(envfile_lookup(dir, "TEST_ENVFILE_A", &v, &from), 0);
    assert_string_equal(v, "from-env");
    assert_string_equal(from, "environment");
    free(v);
    assert_int_equal(envfile_lookup(dir, "TEST_ENVFILE_B", &v, &from), 0);
    assert_string_equal(v, "file-b");
    assert_string_equal(from, ".env");
    free(v);
    assert_int_equal(envfile_lookup(dir, "TEST_ENVFILE_C", &v, &from), -ENOENT);

    /* An empty variable in the environment is set: .env does not override it. */
    setenv("TEST_ENVFILE_B", "", 1);
    assert_int_equal(envfile_lookup(dir, "TEST_ENVFILE_B", &v, &from), 0);
    assert_string_equal(v, "");
    free(v);
    unsetenv("TEST_ENVFILE_B");

    unlink(path);
    assert_int_equal(envfile_lookup(dir, "TEST_ENVFILE_B", &v, &from), -ENOENT);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envfile_syntax),
        cmocka_unit_test(test_envfile_lookup_env_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
