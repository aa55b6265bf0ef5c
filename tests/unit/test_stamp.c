/* Unit tests of lib/base/stamp.c: parsing, comparing and the atomic write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/stamp.h"

static char tmpdir[128];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/devinit-test-stamp.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    umount2(tmpdir, MNT_DETACH);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Number of entries in dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_stamp_set_get_replace(void **state)
{
    struct stamp s;
    stamp_init(&s);
    assert_int_equal(stamp_set(&s, "lockfile", "abc"), 0);
    assert_int_equal(stamp_set(&s, "node", "/usr/bin/node 123"), 0);
    assert_int_equal(stamp_set(&s, "lockfile", "def"), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.fields[0].key, "lockfile"); /* first-set order is kept */
    assert_string_equal(stamp_get(&s, "lockfile"), "def");
    assert_string_equal(stamp_get(&s, "node"), "/usr/bin/node 123");
    assert_null(stamp_get(&s, "platform"));
}

static void test_stamp_set_rejects_bad_key_value(void **state)
{
    struct stamp s;
    stamp_init(&s);
    assert_int_equal(stamp_set(&s, "", "x"), -EINVAL);
    assert_int_equal(stamp_set(&s, "two words", "x"), -EINVAL);
    assert_int_equal(stamp_set(&s, "#comment", "x"), -EINVAL);
    assert_int_equal(stamp_set(&s, "key", "line\nbreak"), -EINVAL);
    char longv[STAMP_VALUE_MAX + 1];
    memset(longv, 'a', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    assert_int_equal(stamp_set(&s, "key", longv), -E2BIG);
    assert_int_equal(s.count, 0);
}

static void test_stamp_set_full(void **state)
{
    struct stamp s;
    stamp_init(&s);
    char key[16];
    for (int i = 0; i < STAMP_MAX_FIELDS; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(stamp_set(&s, key, "v"), 0);
    }
    assert_int_equal(stamp_set(&s, "one-more", "v"), -E2BIG);
    assert_int_equal(stamp_set(&s, "k3", "replaced"), 0); /* replacing still works */
}

static void test_stamp_format_parse_roundtrip(void **state)
{
    struct stamp a, b;
    stamp_init(&a);
    stamp_set(&a, "stamp", "1");
    stamp_set(&a, "command", "npm ci --prefer-offline");
    stamp_set(&a, "empty", "");
    char buf[4096];
    size_t len = stamp_format(&a, "devinit deps stamp", buf, sizeof buf);
    assert_true(len < sizeof buf);
    assert_string_equal(buf, "# devinit deps stamp\nstamp 1\ncommand npm ci --prefer-offline\n"
                             "empty \n");
    assert_int_equal(stamp_parse(buf, len, &b), 0);
    assert_null(stamp_first_difference(&a, &b));
    assert_string_equal(stamp_get(&b, "empty"), "");
}

static void test_stamp_format_reports_needed_length(void **state)
{
    struct stamp a;
    stamp_init(&a);
    stamp_set(&a, "key", "0123456789");
    char small[8];
    size_t need = stamp_format(&a, NULL, small, sizeof small);
    assert_int_equal(need, strlen("key 0123456789\n"));
    assert_int_equal(small[sizeof small - 1], '\0');
}

static void test_stamp_parse_accepts_crlf_and_comments(void **state)
{
    const char text[] = "# written by devinit\r\n\r\nstamp 1\r\nhash abc\r\n";
    struct stamp s;
    assert_int_equal(stamp_parse(text, sizeof text - 1, &s), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(stamp_get(&s, "hash"), "abc");
}

static void test_stamp_parse_rejects_garbage(void **state)
{
    struct stamp s;
    const char no_value[] = "stamp 1\nlonely\n";
    assert_int_equal(stamp_parse(no_value, sizeof no_value - 1, &s), -EINVAL);
    const char tab[] = "key\tvalue\n";
    assert_int_equal(stamp_parse(tab, sizeof tab - 1, &s), -EINVAL);
    const char nul[] = "key va\0lue\n";
    assert_int_equal(stamp_parse(nul, sizeof nul - 1, &s), -EINVAL);
}

static void test_stamp_first_difference(void **state)
{
    struct stamp want, have;
    stamp_init(&want);
    stamp_init(&have);
    stamp_set(&want, "lockfile", "1");
    stamp_set(&want, "node", "2");
    stamp_set(&have, "node", "2");
    stamp_set(&have, "lockfile", "1");
    assert_null(stamp_first_difference(&want, &have)); /* order does not matter */
    stamp_set(&have, "node", "3");
    assert_string_equal(stamp_first_difference(&want, &have), "node");
    stamp_set(&have, "node", "2");
    stamp_set(&have, "extra", "x");
    assert_string_equal(stamp_first_difference(&want, &have), "extra");
    stamp_init(&have);
    assert_string_equal(stamp_first_difference(&want, &have), "lockfile");
}

static void test_stamp_write_read(void **state)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/deps.stamp", tmpdir);
    struct stamp a, b;
    stamp_init(&a);
    stamp_set(&a, "stamp", "1");
    stamp_set(&a, "lockfile", "abc");
    assert_int_equal(stamp_write(path, &a, "test"), 0);
    assert_int_equal(stamp_read(path, &b), 0);
    assert_null(stamp_first_difference(&a, &b));
    assert_int_equal(count_entries(tmpdir), 1); /* no temporary file left */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_stamp_write_replaces_and_reuses_leftover_tmp(void **state)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof path, "%s/gen.stamp", tmpdir);
    snprintf(tmp, sizeof tmp, "%s/.gen.stamp.tmp", tmpdir);
    struct stamp a, b;
    stamp_init(&a);
    stamp_set(&a, "schema", "old");
    assert_int_equal(stamp_write(path, &a, NULL), 0);
    /* What a devinit killed between open and rename leaves behind: a longer torn file. */
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("schema torn-and-much-longer-than-the-new-content\nxx", f);
    fclose(f);
    stamp_set(&a, "schema", "new");
    assert_int_equal(stamp_write(path, &a, NULL), 0);
    assert_int_equal(stamp_read(path, &b), 0);
    assert_string_equal(stamp_get(&b, "schema"), "new");
    assert_int_equal(b.count, 1);
    assert_int_equal(access(tmp, F_OK), -1);
}

static void test_stamp_write_missing_dir(void **state)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/node_modules/x.stamp", tmpdir);
    struct stamp a;
    stamp_init(&a);
    stamp_set(&a, "k", "v");
    assert_int_equal(stamp_write(path, &a, NULL), -ENOENT);
}

static void test_stamp_read_missing_and_foreign(void **state)
{
    char path[PATH_MAX];
    struct stamp s;
    snprintf(path, sizeof path, "%s/none.stamp", tmpdir);
    assert_int_equal(stamp_read(path, &s), -ENOENT);
    snprintf(path, sizeof path, "%s/none/none.stamp", tmpdir);
    assert_int_equal(stamp_read(path, &s), -ENOENT);
    snprintf(path, sizeof path, "%s/foreign", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a stamp\nbut-a-note\n", f);
    fclose(f);
    assert_int_equal(stamp_read(path, &s), -EINVAL);
}

static void test_stamp_remove(void **state)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/r.stamp", tmpdir);
    assert_int_equal(stamp_remove(path), 0); /* absent is fine */
    struct stamp a;
    stamp_init(&a);
    stamp_set(&a, "k", "v");
    assert_int_equal(stamp_write(path, &a, NULL), 0);
    assert_int_equal(stamp_remove(path), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(errno, ENOENT);
}

/* A full disk: a 64 KiB tmpfs in a private mount namespace, filled up. The write fails with
 * -ENOSPC, the previous stamp is untouched and no temporary file is left behind. */
static void test_stamp_write_enospc(void **state)
{
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", tmpdir, "tmpfs", 0, "size=64k,nr_inodes=64") < 0) {
        skip(); /* not root, or no mount namespaces here */
    }
    char path[PATH_MAX], fill[PATH_MAX];
    snprintf(path, sizeof path, "%s/deps.stamp", tmpdir);
    snprintf(fill, sizeof fill, "%s/fill", tmpdir);
    struct stamp a, b;
    stamp_init(&a);
    stamp_set(&a, "lockfile", "before");
    assert_int_equal(stamp_write(path, &a, NULL), 0);

    int fd = open(fill, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    char block[4096];
    memset(block, 'x', sizeof block);
    while (write(fd, block, sizeof block) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);

    stamp_set(&a, "lockfile", "after");
    assert_int_equal(stamp_write(path, &a, "a comment"), -ENOSPC);
    assert_int_equal(stamp_read(path, &b), 0);
    assert_string_equal(stamp_get(&b, "lockfile"), "before");
    assert_int_equal(count_entries(tmpdir), 2); /* the stamp and the filler, no .tmp */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_set_get_replace),
        cmocka_unit_test(test_stamp_set_rejects_bad_key_value),
        cmocka_unit_test(test_stamp_set_full),
        cmocka_unit_test(test_stamp_format_parse_roundtrip),
        cmocka_unit_test(test_stamp_format_reports_needed_length),
        cmocka_unit_test(test_stamp_parse_accepts_crlf_and_comments),
        cmocka_unit_test(test_stamp_parse_rejects_garbage),
        cmocka_unit_test(test_stamp_first_difference),
        cmocka_unit_test_setup_teardown(test_stamp_write_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stamp_write_replaces_and_reuses_leftover_tmp, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stamp_write_missing_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stamp_read_missing_and_foreign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stamp_remove, setup, teardown),
        /* Last: it moves the process into its own mount namespace. */
        cmocka_unit_test_setup_teardown(test_stamp_write_enospc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
