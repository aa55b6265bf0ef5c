#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "config/cli.h"
#include "config/config.h"

#define PARSE(cli, ...)                                                                            \
    ({                                                                                             \
        char *argv_[] = {"devinit", __VA_ARGS__, NULL};                                            \
        cli_parse(cli, (int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_, err, sizeof err);         \
    })

static char err[512];

static void test_cli_command_after_options(void **state)
{
    struct cli c;
    char *argv[] = {"devinit", "--skip=all", "-v", "--", "npm", "run", "dev", NULL};
    assert_int_equal(cli_parse(&c, 7, argv, err, sizeof err), 0);
    assert_int_equal(c.command, CLI_RUN);
    assert_int_equal(c.nskip, 1);
    assert_string_equal(c.skip[0], "all");
    assert_int_equal(c.verbosity, 1);
    assert_int_equal(c.argc, 3);
    assert_string_equal(c.argv[0], "npm");
    assert_null(c.argv[3]);
}

static void test_cli_command_without_dashes_keeps_its_options(void **state)
{
    struct cli c;
    char *argv[] = {"devinit", "node", "--inspect", "-q", NULL};
    assert_int_equal(cli_parse(&c, 4, argv, err, sizeof err), 0);
    assert_int_equal(c.argc, 3);
    assert_string_equal(c.argv[1], "--inspect");
    assert_int_equal(c.verbosity, 0); /* -q belongs to node */
}

static void test_cli_no_command_is_usage_error(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "-v"), -EINVAL);
    assert_non_null(strstr(err, "no command"));
}

static void test_cli_subcommands(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "check", "--json", "--only=wait,migrate"), 0);
    assert_int_equal(c.command, CLI_CHECK);
    assert_true(c.json);
    assert_int_equal(c.nonly, 1);
    assert_string_equal(c.only[0], "wait,migrate");
    assert_int_equal(PARSE(&c, "sync"), 0);
    assert_int_equal(c.command, CLI_SYNC);
    assert_int_equal(PARSE(&c, "status", "--json"), 0);
    assert_int_equal(c.command, CLI_STATUS);
    /* After --, "check" is a program to run. */
    assert_int_equal(PARSE(&c, "--", "check"), 0);
    assert_int_equal(c.command, CLI_RUN);
}

static void test_cli_check_takes_no_command(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "check", "npm"), -EINVAL);
}

static void test_cli_step_lists_are_kept_as_given(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--skip=deps", "--skip", "wait", "--only=wiat", "true"), 0);
    assert_int_equal(c.nskip, 2);
    assert_string_equal(c.skip[1], "wait");
    assert_int_equal(c.nonly, 1);
    assert_string_equal(c.only[0], "wiat"); /* judged by steps_select() */
}

static void test_cli_stop_timeout_forms(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--stop-timeout=2", "true"), 0);
    assert_int_equal(c.stop_timeout_ms, 2000);
    assert_int_equal(PARSE(&c, "--stop-timeout", "500ms", "true"), 0);
    assert_int_equal(c.stop_timeout_ms, 500);
    assert_int_equal(PARSE(&c, "--stop-timeout=soon", "true"), -EINVAL);
    assert_int_equal(PARSE(&c, "true"), 0);
    assert_int_equal(c.stop_timeout_ms, -1);
}

static void test_cli_option_missing_value(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--config"), -EINVAL);
    assert_non_null(strstr(err, "needs a value"));
}

static void test_cli_unknown_option(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--frobnicate", "true"), -EINVAL);
    assert_non_null(strstr(err, "--frobnicate"));
}

static void test_cli_json_only_with_check(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--json", "true"), -EINVAL);
}

static void test_cli_help_and_version_win(void **state)
{
    struct cli c;
    assert_int_equal(PARSE(&c, "--help"), 0);
    assert_int_equal(c.command, CLI_HELP);
    assert_int_equal(PARSE(&c, "--version"), 0);
    assert_int_equal(c.command, CLI_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_command_after_options),
        cmocka_unit_test(test_cli_command_without_dashes_keeps_its_options),
        cmocka_unit_test(test_cli_no_command_is_usage_error),
        cmocka_unit_test(test_cli_subcommands),
        cmocka_unit_test(test_cli_check_takes_no_command),
        cmocka_unit_test(test_cli_step_lists_are_kept_as_given),
        cmocka_unit_test(test_cli_stop_timeout_forms),
        cmocka_unit_test(test_cli_option_missing_value),
        cmocka_unit_test(test_cli_unknown_option),
        cmocka_unit_test(test_cli_json_only_with_check),
        cmocka_unit_test(test_cli_help_and_version_win),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
