#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/cli.h"
#include "config/config.h"
#include "steps/table.h"

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
    assert_int_equal(c.migrate.timeout_ms, 30000);
    assert_string_equal(c.database.url_env, "DATABASE_URL");
    assert_int_equal(c.migrate.mode, MIGRATE_CHECK);
    assert_int_equal(c.migrate.failed, POLICY_FAIL);
    assert_int_equal(c.migrate.pending, POLICY_WARN);
    assert_int_equal(c.steps & STEP_ALL, STEP_ALL);
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

/* No byte of the message may be a terminal control: C0 but tab, DEL, UTF-8 C1. */
static void assert_printable(const char *err)
{
    for (const unsigned char *p = (const unsigned char *)err; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f ||
            (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            fail_msg("raw control byte 0x%02x in '%s'", *p, err);
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
    assert_printable(err);
    unlink(p);
    config_free(&c);
}

static void expect_env_error(const char *variable, const char *needle)
{
    struct config c;
    char err[512] = "", copy[256];
    config_init(&c);
    snprintf(copy, sizeof copy, "%s", variable);
    char *env[] = {copy, NULL};
    assert_int_equal(config_load_env(&c, env, err, sizeof err), -EINVAL);
    if (!strstr(err, needle))
        fail_msg("message '%s' lacks '%s'", err, needle);
    assert_printable(err);
    config_free(&c);
}

static void test_config_unknown_key_names_file_and_line(void **state)
{
    expect_file_error("[app]\nstop_timeout = 1\nstop_timout = 2\n", "unknown key 'stop_timout'", 3);
}

/* The header's line, not the first key's: the header is the mistake. */
static void test_config_unknown_section(void **state)
{
    expect_file_error("\n[aap]\nx = 1\n", "unknown section '[aap]': use one of [log], [app]", 2);
}

/* inih reports sections only through their keys: a header alone must not pass. */
static void test_config_bare_unknown_section(void **state)
{
    expect_file_error("[log]\nlevel = info\n[nosuch]\n",
                      "unknown section '[nosuch]': use one of [log], [app], [watch], [control], "
                      "[deps], [generate], [prisma], [database], [wait], [migrate]",
                      3);
    expect_file_error("[]\n", "unknown section '[]'", 1);
    expect_file_error("[log]\n\n[nosuch] ; a comment\n", "unknown section '[nosuch]'", 3);
}

static void test_config_repeated_section(void **state)
{
    expect_file_error("[app]\nrestart = no\n[deps]\nmode = off\n\n[app]\nstop_timeout = 1s\n",
                      "section '[app]' appears twice, first at line 1: merge the two", 6);
    /* Empty, with a comment, after a BOM: still the same section. */
    expect_file_error("\xEF\xBB\xBF[log]\n[deps]\n  [log] ; again\n",
                      "section '[log]' appears twice, first at line 1", 3);
}

/* A key set again in the second block is refused too, at the header already. */
static void test_config_repeated_section_duplicate_key(void **state)
{
    expect_file_error("[app]\nrestart = no\n[log]\nlevel = info\n[app]\nrestart = always\n",
                      "section '[app]' appears twice, first at line 1", 5);
}

/* inih reads an indented line after a key as more of that key's value, "[x]" or not; the
 * header check must agree with it, and the continuation is refused as the key set again. */
static void test_config_indented_header_after_key(void **state)
{
    expect_file_error("[app]\nrestart = no\n\n  [nosuch]\n", "'app.restart' is set twice", 4);

    struct config c;
    char err[512] = "";
    config_init(&c);
    /* An indented header with no key before it, indented keys after headers: as written. */
    char *p = write_tmp("\t[app] ; a comment\n  restart = always\n[log]\n  level = warn\n");
    if (config_load_file(&c, p, true, err, sizeof err) != 0)
        fail_msg("refused: %s", err);
    assert_int_equal(c.app.restart, RESTART_ALWAYS);
    assert_int_equal(c.log.level, LOG_WARN);
    unlink(p);
    config_free(&c);
}

/* Whoever finds it, inih or devinit, the first bad line is the one named. */
static void test_config_first_error_wins(void **state)
{
    expect_file_error("[app]\nnot a key\n[nosuch]\n", "not a 'key = value' line", 2);
    expect_file_error("[app]\nnot a key\nrestart = sometimes\n", "not a 'key = value' line", 2);
    expect_file_error("[app]\nrestart = sometimes\nnot a key\n", "cannot be 'sometimes'", 2);
}

static void test_config_control_chars_escaped(void **state)
{
    expect_file_error("[log]\nlev\x1b]0;pwned\x07"
                      "el = info\n",
                      "unknown key 'lev\\x1b]0;pwned\\x07el'", 2);
    expect_file_error("[log]\nlevel = inf\x1b[2Jo\n", "cannot be 'inf\\x1b[2Jo'", 2);
    expect_file_error("[app]\nstop_timeout = 5\x7f\n", "cannot be '5\\x7f'", 2);
    expect_file_error("[watch]\nmigrate = \xc2\x9b"
                      "31m\n",
                      "cannot be '\\xc2\\x9b31m'", 2);
    expect_file_error("[no\x1b[31msuch]\n", "unknown section '[no\\x1b[31msuch]'", 1);
    expect_file_error("[no\x1bsuch]\nkey = 1\n", "unknown section '[no\\x1bsuch]'", 1);
    expect_file_error("k\x1b[1m = 1\n", "key 'k\\x1b[1m' outside any [section]", 1);
    expect_file_error("[wait]\ntimeout = a\rb\n", "cannot be 'a\\x0db'", 2);
    /* Tab is white space, not a control, and UTF-8 text stays as it is. */
    expect_file_error("[log]\nlevel = in\tfo \xc3\xa9\n", "cannot be 'in\tfo \xc3\xa9'", 2);
}

static void expect_socket(const char *configured, uid_t euid, const char *xdg, const char *want)
{
    char *socket = strdup(configured);
    assert_non_null(socket);
    assert_int_equal(config_socket_path(&socket, euid, xdg), 0);
    assert_string_equal(socket, want);
    free(socket);
}

/* Root keeps /run; another user gets a place it can make, the same for server and client;
 * a path that was chosen stays. */
static void test_config_socket_path_by_user(void **state)
{
    expect_socket(CONFIG_SOCKET_DEFAULT, 0, "/run/user/0", CONFIG_SOCKET_DEFAULT);
    expect_socket(CONFIG_SOCKET_DEFAULT, 1000, NULL, "/tmp/devinit-1000/devinit.sock");
    expect_socket(CONFIG_SOCKET_DEFAULT, 1000, "/run/user/1000", "/run/user/1000/devinit.sock");
    expect_socket(CONFIG_SOCKET_DEFAULT, 1000, "relative", "/tmp/devinit-1000/devinit.sock");
    char longdir[200];
    memset(longdir, 'x', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    expect_socket(CONFIG_SOCKET_DEFAULT, 1000, longdir, "/tmp/devinit-1000/devinit.sock");
    expect_socket("/srv/ctl.sock", 1000, "/run/user/1000", "/srv/ctl.sock");
    expect_socket("", 1000, NULL, "");
}

static void test_config_env_control_chars_escaped(void **state)
{
    expect_env_error("DEVINIT_APP_RESTART=\x1b[31mred",
                     "DEVINIT_APP_RESTART: 'app.restart' cannot be '\\x1b[31mred'");
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
    /* The name is quoted too (DEVINIT_CONFIG, --config): no raw control character. */
    assert_int_equal(config_load_file(&c, "/nonexistent/\x1b[2J.ini", true, err, sizeof err),
                     -ENOENT);
    assert_non_null(strstr(err, "'/nonexistent/\\x1b[2J.ini'"));
    assert_printable(err);
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

/* config_resolve: defaults < the file (--config, else DEVINIT_CONFIG) < DEVINIT_* < flags. */
static void test_config_resolve_precedence(void **state)
{
    struct config c;
    char err[256], cfgvar[300];
    char *p = write_tmp("[app]\nstop_timeout = 9s\n[wait]\ntimeout = 10s\n[log]\nlevel = warn\n");
    snprintf(cfgvar, sizeof cfgvar, "DEVINIT_CONFIG=%s", p);
    char *env[] = {cfgvar, "DEVINIT_WAIT_TIMEOUT=3s", NULL};
    struct cli cli = {.stop_timeout_ms = -1, .verbosity = 0};
    /* The file named by DEVINIT_CONFIG, the variable over the file. */
    assert_int_equal(config_resolve(&c, &cli, STEP_ALL, env, err, sizeof err), 0);
    assert_int_equal(c.app.stop_timeout_ms, 9000);
    assert_int_equal(c.wait.timeout_ms, 3000);
    assert_int_equal(c.log.level, LOG_WARN);
    assert_int_equal(c.steps, STEP_ALL);
    config_free(&c);
    /* Flags over everything; -v twice from warn is debug, and no further. */
    cli.stop_timeout_ms = 250;
    cli.verbosity = 5;
    assert_int_equal(config_resolve(&c, &cli, STEP_BIT(STEP_WAIT), env, err, sizeof err), 0);
    assert_int_equal(c.app.stop_timeout_ms, 250);
    assert_int_equal(c.log.level, LOG_DEBUG);
    assert_int_equal(c.steps, STEP_BIT(STEP_WAIT));
    config_free(&c);
    /* --config wins over DEVINIT_CONFIG, and a file that was named must exist. */
    cli.config_path = "/nonexistent/devinit.ini";
    assert_int_equal(config_resolve(&c, &cli, STEP_ALL, env, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/devinit.ini"));
    config_free(&c);
    /* Nothing named and no ./devinit.ini: the defaults. */
    char *none[] = {NULL};
    cli = (struct cli){.stop_timeout_ms = -1};
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir("/"), 0);
    assert_int_equal(config_resolve(&c, &cli, STEP_ALL, none, err, sizeof err), 0);
    assert_int_equal(c.app.stop_timeout_ms, 5000);
    assert_int_equal(chdir(cwd), 0);
    config_free(&c);
    unlink(p);
}

static void test_config_env_bad_value_names_variable(void **state)
{
    expect_env_error("DEVINIT_DEPS_MODE=sometimes", "DEVINIT_DEPS_MODE: 'deps.mode' cannot be");
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

/* Every DEVINIT_ name that is not a key is refused with the nearest one: a typo must not
 * silently leave the app running as root. */
static void test_config_env_unknown_variable_refused(void **state)
{
    (void)state;
    expect_env_error(
        "DEVINIT_APPUSER=node",
        "'DEVINIT_APPUSER' is not a configuration key: did you mean DEVINIT_APP_USER?");
    expect_env_error(
        "DEVINIT_APP_USR=node",
        "'DEVINIT_APP_USR' is not a configuration key: did you mean DEVINIT_APP_USER?");
    expect_env_error("DEVINIT_WATCH_MOD=poll", "did you mean DEVINIT_WATCH_MODE?");
    expect_env_error("DEVINIT_CONFIGG=x", "did you mean DEVINIT_CONFIG?");
    expect_env_error("DEVINIT_SOURCE_DIR=/src", "'DEVINIT_SOURCE_DIR' is not a configuration key");
    char longname[300];
    memset(longname, 'X', sizeof longname);
    memcpy(longname, "DEVINIT_", 8);
    snprintf(longname + 200, 100, "=1");
    expect_env_error(longname, "is not a configuration key");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_resolve_precedence),
        cmocka_unit_test(test_config_durations),
        cmocka_unit_test(test_config_file_sets_keys),
        cmocka_unit_test(test_config_unknown_key_names_file_and_line),
        cmocka_unit_test(test_config_unknown_section),
        cmocka_unit_test(test_config_bare_unknown_section),
        cmocka_unit_test(test_config_repeated_section),
        cmocka_unit_test(test_config_repeated_section_duplicate_key),
        cmocka_unit_test(test_config_indented_header_after_key),
        cmocka_unit_test(test_config_first_error_wins),
        cmocka_unit_test(test_config_control_chars_escaped),
        cmocka_unit_test(test_config_env_control_chars_escaped),
        cmocka_unit_test(test_config_socket_path_by_user),
        cmocka_unit_test(test_config_bad_enum_lists_choices),
        cmocka_unit_test(test_config_bad_duration),
        cmocka_unit_test(test_config_duplicate_key),
        cmocka_unit_test(test_config_key_outside_section),
        cmocka_unit_test(test_config_syntax_error),
        cmocka_unit_test(test_config_huge_line),
        cmocka_unit_test(test_config_missing_file),
        cmocka_unit_test(test_config_env_overrides_file),
        cmocka_unit_test(test_config_env_bad_value_names_variable),
        cmocka_unit_test(test_config_env_unknown_variable_refused),
        cmocka_unit_test(test_config_example_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
