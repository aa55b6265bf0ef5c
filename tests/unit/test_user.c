/* Unit tests of lib/proc/user.c: users and groups from the files, never through NSS. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proc/user.h"
#include "tmpdir.h"

static char pw[256], gr[256];

static int fixture(void **state)
{
    if (tmpdir_setup(state) < 0)
        return -1;
    tmpdir_put("passwd", "root:x:0:0:root:/root:/bin/sh\n"
                         "not a valid line\n"
                         "+@netgroup::::::\n"
                         "app:x:1234:1234::/home/app:/bin/sh\n"
                         "nohome:x:1300:1300:::/bin/sh\n");
    tmpdir_put("group", "root:x:0:\n"
                        "app:x:1234:\n"
                        "extra:x:4321:someone,app\n"
                        "wheel:x:10:app\n"
                        "others:x:5000:someone\n");
    snprintf(pw, sizeof pw, "%s/passwd", tmpdir);
    snprintf(gr, sizeof gr, "%s/group", tmpdir);
    return 0;
}

static void test_user_name_with_groups(void **state)
{
    (void)state;
    struct user_spec u;
    char err[512] = "";
    assert_int_equal(user_resolve_files("app", pw, gr, &u, err, sizeof err), 0);
    assert_true(u.set);
    assert_int_equal(u.uid, 1234);
    assert_int_equal(u.gid, 1234);
    assert_string_equal(u.name, "app");
    assert_string_equal(u.home, "/home/app");
    assert_int_equal(u.ngroups, 3);
    assert_int_equal(u.groups[0], 1234);
    assert_int_equal(u.groups[1], 4321);
    assert_int_equal(u.groups[2], 10);
}

static void test_user_named_group_comes_first(void **state)
{
    (void)state;
    struct user_spec u;
    char err[512] = "";
    assert_int_equal(user_resolve_files("app:wheel", pw, gr, &u, err, sizeof err), 0);
    assert_int_equal(u.gid, 10);
    assert_int_equal(u.ngroups, 2);
    assert_int_equal(u.groups[0], 10);
    assert_int_equal(u.groups[1], 4321);
}

static void test_user_numeric_needs_no_entry(void **state)
{
    (void)state;
    struct user_spec u;
    char err[512] = "";
    assert_int_equal(user_resolve_files("777:888", "/nonexistent/passwd", "/nonexistent/group", &u,
                                        err, sizeof err),
                     0);
    assert_int_equal(u.uid, 777);
    assert_int_equal(u.gid, 888);
    assert_int_equal(u.ngroups, 1);
    assert_string_equal(u.name, "777");
    assert_string_equal(u.home, "/");
    /* A numeric uid that has an entry takes its name, home and groups. */
    assert_int_equal(user_resolve_files("1234", pw, gr, &u, err, sizeof err), 0);
    assert_string_equal(u.name, "app");
    assert_int_equal(u.ngroups, 3);
    /* uid 0 with another gid keeps that gid. */
    assert_int_equal(user_resolve_files("0:4242", pw, gr, &u, err, sizeof err), 0);
    assert_int_equal(u.uid, 0);
    assert_int_equal(u.gid, 4242);
    assert_int_equal(u.groups[0], 4242);
    assert_int_equal(u.ngroups, 1);
    /* An entry without a home directory gets "/". */
    assert_int_equal(user_resolve_files("nohome", pw, gr, &u, err, sizeof err), 0);
    assert_string_equal(u.home, "/");
}

static void test_user_unknown_names_the_files(void **state)
{
    (void)state;
    struct user_spec u;
    char err[1024] = "", want[1024];
    assert_int_equal(user_resolve_files("node", pw, gr, &u, err, sizeof err), -ENOENT);
    snprintf(want, sizeof want, "user 'node' is not in %s (devinit reads %s and %s, not NSS)", pw,
             pw, gr);
    if (!strstr(err, want))
        fail_msg("'%s' lacks '%s'", err, want);
    assert_int_equal(user_resolve_files("app:staff", pw, gr, &u, err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "group 'staff' is not in"));
    /* "+@netgroup" is compat's syntax, not a user. */
    assert_int_equal(user_resolve_files("+@netgroup", pw, gr, &u, err, sizeof err), -ENOENT);
    assert_int_equal(user_resolve_files("app:", pw, gr, &u, err, sizeof err), -EINVAL);
    assert_int_equal(user_resolve_files("99999999999", pw, gr, &u, err, sizeof err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_user_name_with_groups),
        cmocka_unit_test(test_user_named_group_comes_first),
        cmocka_unit_test(test_user_numeric_needs_no_entry),
        cmocka_unit_test(test_user_unknown_names_the_files),
    };
    return cmocka_run_group_tests(tests, fixture, tmpdir_teardown);
}
