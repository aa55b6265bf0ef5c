#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/devinit-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_config_defaults(void **state)
{
    struct config c;
    config_init(&c);
    assert_int_equal(c.app.stop_timeout_ms, 5000);
    assert_int_equal(c.wait.timeout_ms, 60000);
    assert_string_equal(c.database.url_env, "DATABASE_URL");
    assert_int_equal(c.migrate.mode, MIGRATE_CHECK);
    assert_int_equal(c.migrate.failed, POLICY_FAIL);
    assert_int_equal(c.migrate.pending, POLICY_WARN);
    assert_int_equal(c.steps, STEP_ALL);
    config_free(&c);
}

static void test_config_durations(void **state)
{
    uint64_t ms;
    assert_int_equal(config_parse_duration("5", &ms), 0);
    assert_int_equal(ms, 5000);
    assert_int_equal(config_parse_duration("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(config_parse_duration("2m", &ms), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(config_parse_duration("0", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(config_parse_duration("-1", &ms), -EINVAL);
    assert_int_equal(config_parse_duration("5h", &ms), -EINVAL);
    assert_int_equal(config_parse_duration("", &ms), -EINVAL);
    assert_int_equal(config_parse_duration("99999999999999999999", &ms), -EINVAL);
}

static void test_config_file_sets_keys(void **state)
{
    struct config c;
    char err[256];
    config_init(&c);
    char *p = write_tmp("[app]\nstop_timeout = 2s\n\n[migrate]\nmode = deploy ; inline comment\n"
                        "# comment\n[wait]\nservices = redis:6379, mail:1025\n");
    assert_int_equal(config_load_file(&c, p, true, err, sizeof err), 0);
    assert_int_equal(c.app.stop_timeout_ms, 2000);
    assert_int_equal(c.migrate.mode, MIGRATE_DEPLOY);
    assert_string_equal(c.wait.services, "redis:6379, mail:1025");
    unlink(p);
    config_free(&c);
}

static void expect_file_error(const char *text, const char *needle, int line)
{
    struct config c;
    char err[512] = "";
    config_init(&c);
    char *p = write_tmp(text);
    assert_int_equal(config_load_file(&c, p, true, err, sizeof err), -EINVAL);
    char where[96];
    snprintf(where, sizeof where, "%s:%d:", p, line);
    if (!strstr(err, where) || !strstr(err, needle))
        fail_msg("message '%s' lacks '%s' or '%s'", err, where, needle);
    unlink(p);
    config_free(&c);
}

static void test_config_unknown_key_names_file_and_line(void **state)
{
    expect_file_error("[app]\nstop_timeout = 1\nstop_timout = 2\n", "unknown key 'stop_timout'", 3);
}

static void test_config_unknown_section(void **state)
{
    expect_file_error("\n[aap]\nx = 1\n", "unknown section '[aap]'", 3);
}

static void test_config_bad_enum_lists_choices(void **state)
{
    expect_file_error("[migrate]\nmode = yes\n", "use one of check, deploy, off", 2);
}

static void test_config_bad_duration(void **state)
{
    expect_file_error("[wait]\n\ntimeout = soon\n", "'wait.timeout' cannot be 'soon'", 3);
}

static void test_config_duplicate_key(void **state)
{
    expect_file_error("[deps]\nmode = off\nmode = always\n", "set twice", 3);
}

static void test_config_key_outside_section(void **state)
{
    expect_file_error("mode = off\n", "outside any [section]", 1);
}

static void test_config_syntax_error(void **state)
{
    expect_file_error("[deps]\nthis is not a key\n", "not a 'key = value' line", 2);
}

static void test_config_huge_line(void **state)
{
    char *text = malloc(100000);
    strcpy(text, "[deps]\ncommand = ");
    memset(text + strlen(text), 'x', 90000);
    text[17 + 90000] = '\n';
    text[17 + 90001] = '\0';
    expect_file_error(text, "line too long", 2);
    free(text);
}

static void test_config_missing_file(void **state)
{
    struct config c;
    char err[256] = "";
    config_init(&c);
    assert_int_equal(config_load_file(&c, "/nonexistent/devinit.ini", false, err, sizeof err),
                     -ENOENT);
    assert_int_equal(config_load_file(&c, "/nonexistent/devinit.ini", true, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/devinit.ini"));
    config_free(&c);
}

static void test_config_env_overrides_file(void **state)
{
    struct config c;
    char err[256];
    config_init(&c);
    char *p = write_tmp("[wait]\ntimeout = 10s\n[migrate]\nmissing_locally = fail\n");
    assert_int_equal(config_load_file(&c, p, true, err, sizeof err), 0);
    char *env[] = {"PATH=/bin", "DEVINIT_WAIT_TIMEOUT=3s", "DEVINIT_MIGRATE_MISSING_LOCALLY=warn",
                   "DEVINIT_CONFIG=ignored", NULL};
    assert_int_equal(config_load_env(&c, env, err, sizeof err), 0);
    assert_int_equal(c.wait.timeout_ms, 3000);
    assert_int_equal(c.migrate.missing_locally, POLICY_WARN);
    unlink(p);
    config_free(&c);
}

static void test_config_env_bad_value_names_variable(void **state)
{
    struct config c;
    char err[256] = "";
    config_init(&c);
    char *env[] = {"DEVINIT_DEPS_MODE=sometimes", NULL};
    assert_int_equal(config_load_env(&c, env, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "DEVINIT_DEPS_MODE"));
    config_free(&c);
}

/* Every key the code knows appears in config.ini.example with its default, and the example
 * parses as it is. */
static void test_config_example_documents_every_key(void **state)
{
    const char *path = DEVINIT_SOURCE_DIR "/config.ini.example";
    struct config c;
    char err[512] = "";
    config_init(&c);
    assert_int_equal(config_load_file(&c, path, true, err, sizeof err), 0);
    config_free(&c);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char section[64] = "", line[512];
    static char found[256][300];
    int nfound = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64], value[128] = "";
        if (sscanf(line, " [%63[^]]]", name) == 1) {
            snprintf(section, sizeof section, "%s", name);
            continue;
        }
        if (line[0] == ';' || line[0] == '#')
            continue;
        if (sscanf(line, " %63[a-z_] = %127[^\n]", name, value) >= 1 && strchr(line, '=')) {
            snprintf(found[nfound++], sizeof found[0], "%s.%s=%s", section, name, value);
        }
    }
    fclose(f);
    for (size_t i = 0; i < config_key_count(); i++) {
        const struct config_key_info *k = config_key_at(i);
        char want[300];
        snprintf(want, sizeof want, "%s.%s=%s", k->section, k->key, k->def);
        bool ok = false;
        for (int j = 0; j < nfound && !ok; j++)
            ok = strcmp(found[j], want) == 0;
        if (!ok)
            fail_msg("config.ini.example lacks '%s' (key with its default)", want);
    }
    assert_int_equal((size_t)nfound, config_key_count());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_durations),
        cmocka_unit_test(test_config_file_sets_keys),
        cmocka_unit_test(test_config_unknown_key_names_file_and_line),
        cmocka_unit_test(test_config_unknown_section),
        cmocka_unit_test(test_config_bad_enum_lists_choices),
        cmocka_unit_test(test_config_bad_duration),
        cmocka_unit_test(test_config_duplicate_key),
        cmocka_unit_test(test_config_key_outside_section),
        cmocka_unit_test(test_config_syntax_error),
        cmocka_unit_test(test_config_huge_line),
        cmocka_unit_test(test_config_missing_file),
        cmocka_unit_test(test_config_env_overrides_file),
        cmocka_unit_test(test_config_env_bad_value_names_variable),
        cmocka_unit_test(test_config_example_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
