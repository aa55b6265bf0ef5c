/* Unit tests of lib/prisma/migrations.c: the folder reader, checksums, the lock file, the
 * classification of folder against rows, and the policies. */
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

#include "base/exitcodes.h"
#include "prisma/migrations.h"

static char tmpdir[128];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/devinit-test-migrations.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *rel, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

static void mkd(const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmpdir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static const char HELLO_SHA[] = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
/* The same digest rendered "%x" per byte, as engines before prisma-engines#1887 stored it. */
static const char HELLO_LEGACY[] = "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b9824";

/* --- folder --------------------------------------------------------------------------- */

static void test_migrations_read_dir_rules(void **state)
{
    mkd("m");
    mkd("m/20240102000000_b");
    put("m/20240102000000_b/migration.sql", "hello");
    mkd("m/20240101000000_a");
    put("m/20240101000000_a/migration.sql", "x");
    mkd("m/.hidden");
    put("m/.hidden/migration.sql", "h");
    mkd("m/20240103000000_no_sql");
    put("m/migration_lock.toml", "provider = \"postgresql\"\n");
    put("m/README.md", "not a migration");
    mkd("m/elsewhere_real");
    char target[PATH_MAX], link[PATH_MAX];
    snprintf(target, sizeof target, "%s/m/elsewhere_real", tmpdir);
    snprintf(link, sizeof link, "%s/m/20240104000000_symlinked", tmpdir);
    assert_int_equal(symlink(target, link), 0);
    /* A folder called A sorts before lower case and '.' before digits: bytes, not locale. */
    mkd("m/Zeta");

    struct migration_list l;
    char err[256] = "", dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/m", tmpdir);
    assert_int_equal(migrations_read_dir(dir, &l, err, sizeof err), 0);
    assert_true(l.dir_exists);
    assert_string_equal(l.lock_provider, "postgresql");
    /* files and the symlink are ignored; the hidden folder and the one without sql count */
    assert_int_equal(l.count, 6);
    const char *want[] = {
        ".hidden", "20240101000000_a", "20240102000000_b", "20240103000000_no_sql",
        "Zeta",    "elsewhere_real"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(l.items[i].name, want[i]);
    assert_int_equal(l.items[2].script_errno, 0);
    assert_string_equal(l.items[2].checksum, HELLO_SHA);
    assert_int_equal(l.items[3].script_errno, ENOENT);
    assert_string_equal(l.items[3].checksum, "");
    assert_true(l.items[0].name_issues & MIGRATION_NAME_CHARS);
    assert_true(l.items[4].name_issues & MIGRATION_NAME_CHARS);
    assert_int_equal(l.items[1].name_issues, 0);
    assert_int_equal(migrations_list_find(&l, "20240103000000_no_sql"), 3);
    assert_int_equal(migrations_list_find(&l, "nope"), -1);
    migrations_list_free(&l);
}

static void test_migrations_read_dir_missing_is_empty(void **state)
{
    struct migration_list l;
    char err[256] = "", dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/absent", tmpdir);
    assert_int_equal(migrations_read_dir(dir, &l, err, sizeof err), 0);
    assert_false(l.dir_exists);
    assert_int_equal(l.count, 0);
    assert_null(l.lock_provider);
    migrations_list_free(&l);
}

static void test_migrations_read_dir_not_a_folder(void **state)
{
    put("file", "x");
    struct migration_list l;
    char err[256] = "", dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/file", tmpdir);
    assert_int_equal(migrations_read_dir(dir, &l, err, sizeof err), -ENOTDIR);
    assert_non_null(strstr(err, "migrations folder"));
}

static void test_migrations_name_warnings(void **state)
{
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "20240101000000_b", "", 0, 0), 0);
    assert_int_equal(migrations_list_add(&l, "20240101000000_a", "", 0, 0), 0);
    assert_int_equal(migrations_list_add(&l, "20240102000000_c", "", 0, 0), 0);
    assert_int_equal(migrations_list_add(&l, "20240103000000_Upper", "", 0, 0), 0);
    assert_int_equal(migrations_list_add(&l, "init", "", 0, 0), 0);
    migrations_list_sort(&l);
    assert_string_equal(l.items[0].name, "20240101000000_a");
    assert_int_equal(l.items[0].name_issues, MIGRATION_NAME_SAME_STAMP);
    assert_int_equal(l.items[1].name_issues, MIGRATION_NAME_SAME_STAMP);
    assert_int_equal(l.items[2].name_issues, 0);
    assert_int_equal(l.items[3].name_issues, MIGRATION_NAME_CHARS);
    assert_int_equal(l.items[4].name_issues, 0); /* no timestamp is Prisma's problem, not ours */
    migrations_list_free(&l);
}

/* --- lock file ------------------------------------------------------------------------ */

static void test_migrations_lock_provider_as_prisma_reads_it(void **state)
{
    char out[64];
    const char *t = "# Please do not edit this file manually\r\n# It should be added in your "
                    "version-control system (e.g., Git)\r\nprovider = \"postgresql\"\r\n";
    migrations_lock_provider(t, strlen(t), out, sizeof out);
    assert_string_equal(out, "postgresql");
    t = "provider = \"mysql\"";
    migrations_lock_provider(t, strlen(t), out, sizeof out);
    assert_string_equal(out, "mysql");
    /* No spaces around '=': Prisma's trim does not match, so the provider reads oddly. */
    t = "provider=\"postgresql\"\n";
    migrations_lock_provider(t, strlen(t), out, sizeof out);
    assert_string_equal(out, "provider=\"postgresql");
    t = "  provider = \"postgresql\"\n";
    migrations_lock_provider(t, strlen(t), out, sizeof out);
    assert_string_equal(out, MIGRATIONS_PROVIDER_NOT_FOUND);
    migrations_lock_provider("", 0, out, sizeof out);
    assert_string_equal(out, MIGRATIONS_PROVIDER_NOT_FOUND);
}

/* --- checksums ------------------------------------------------------------------------ */

static void test_migrations_checksum_plain(void **state)
{
    char hex[MIGRATIONS_CHECKSUM_LEN + 1];
    migrations_checksum("hello", 5, hex);
    assert_string_equal(hex, HELLO_SHA);
    assert_true(migrations_checksum_matches("hello", 5, HELLO_SHA));
    assert_false(migrations_checksum_matches("hellO", 5, HELLO_SHA));
    /* Case-sensitive, as Prisma compares strings. */
    char upper[MIGRATIONS_CHECKSUM_LEN + 1];
    for (size_t i = 0; i <= MIGRATIONS_CHECKSUM_LEN; i++)
        upper[i] =
            (char)((HELLO_SHA[i] >= 'a' && HELLO_SHA[i] <= 'f') ? HELLO_SHA[i] - 32 : HELLO_SHA[i]);
    assert_false(migrations_checksum_matches("hello", 5, upper));
    assert_false(migrations_checksum_matches("hello", 5, ""));
}

static void test_migrations_checksum_line_endings(void **state)
{
    const char *lf = "CREATE TABLE a (id int);\nCREATE TABLE b (id int);\n";
    const char *crlf = "CREATE TABLE a (id int);\r\nCREATE TABLE b (id int);\r\n";
    char h_lf[65], h_crlf[65];
    migrations_checksum(lf, strlen(lf), h_lf);
    migrations_checksum(crlf, strlen(crlf), h_crlf);
    assert_string_not_equal(h_lf, h_crlf);
    /* Applied from a LF checkout, now read from a CRLF one, and the other way round. */
    assert_true(migrations_checksum_matches(crlf, strlen(crlf), h_lf));
    assert_true(migrations_checksum_matches(lf, strlen(lf), h_crlf));
    /* checksum.rs's own cases: a lone CR stays. */
    const char *a = "ab\ncd\nef\ngh\rab", *b = "ab\r\ncd\r\nef\r\ngh\rab";
    char ha[65], hb[65];
    migrations_checksum(a, strlen(a), ha);
    migrations_checksum(b, strlen(b), hb);
    assert_true(migrations_checksum_matches(b, strlen(b), ha));
    assert_true(migrations_checksum_matches(a, strlen(a), hb));
    /* A file with mixed endings only matches its own checksum or a full conversion. */
    const char *mixed = "x\r\ny\nz\n", *all_lf = "x\ny\nz\n";
    char hm[65];
    migrations_checksum(all_lf, strlen(all_lf), hm);
    assert_true(migrations_checksum_matches(mixed, strlen(mixed), hm));
    /* Prisma's LF→CRLF replaces literally: "x\r\n" becomes "x\r\r\n", not "x\r\n". */
    const char *crcrlf = "x\r\r\ny\r\nz\r\n";
    char hc[65];
    migrations_checksum(crcrlf, strlen(crcrlf), hc);
    assert_true(migrations_checksum_matches(mixed, strlen(mixed), hc));
}

static void test_migrations_checksum_edits(void **state)
{
    const char *orig = "CREATE TABLE a (id int);\n";
    char h[65];
    migrations_checksum(orig, strlen(orig), h);
    /* a BOM is an edit */
    const char *bom = "\xef\xbb\xbf"
                      "CREATE TABLE a (id int);\n";
    assert_false(migrations_checksum_matches(bom, strlen(bom), h));
    /* a removed trailing newline is an edit */
    const char *nonl = "CREATE TABLE a (id int);";
    assert_false(migrations_checksum_matches(nonl, strlen(nonl), h));
    /* an added one too */
    const char *twonl = "CREATE TABLE a (id int);\n\n";
    assert_false(migrations_checksum_matches(twonl, strlen(twonl), h));
    /* a trailing space */
    const char *sp = "CREATE TABLE a (id int); \n";
    assert_false(migrations_checksum_matches(sp, strlen(sp), h));
}

static void test_migrations_checksum_legacy_unpadded(void **state)
{
    assert_int_not_equal(strlen(HELLO_LEGACY), 64);
    assert_true(migrations_checksum_matches("hello", 5, HELLO_LEGACY));
    assert_false(migrations_checksum_matches("hellO", 5, HELLO_LEGACY));
    /* The legacy form of a CRLF variant counts too. */
    const char *lf = "CREATE TABLE a (id int);\n";
    const char *crlf = "CREATE TABLE a (id int);\r\n";
    assert_true(migrations_checksum_matches(
        crlf, strlen(crlf), "c2de755938e5ebf65caa7d59e166558e8243cf7e7006cc98d1593d9423c1"));
    assert_true(migrations_checksum_matches(
        lf, strlen(lf), "c2de755938e5ebf65caa7d59e166558e8243cf7e7006cc98d1593d9423c1"));
    /* 64 characters are always compared padded. */
    assert_false(migrations_checksum_matches(
        "hello", 5, "2cf24dba5fb0a3e26e83b2ac5b9e29e1b161e5c1fa7425e7343362938b982400"));
}

/* --- classification ------------------------------------------------------------------- */

static struct migration_list sample_list(void)
{
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "01_applied", "A", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "02_edited", "B changed", 9, 0), 0);
    assert_int_equal(migrations_list_add(&l, "03_failed", "C", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "04_rolled", "D", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "05_fixed", "E2", 2, 0), 0);
    assert_int_equal(migrations_list_add(&l, "06_pending", "F", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "07_nosql_applied", NULL, 0, ENOENT), 0);
    assert_int_equal(migrations_list_add(&l, "08_nosql_pending", NULL, 0, ENOENT), 0);
    migrations_list_sort(&l);
    return l;
}

static char ck[8][65];

static const char *sum(int i, const char *s)
{
    migrations_checksum(s, strlen(s), ck[i]);
    return ck[i];
}

static void test_migrations_classify_table(void **state)
{
    struct migration_list l = sample_list();
    struct migration_row rows[] = {
        {"01_applied", sum(0, "A"), true, false, NULL, NULL},
        {"02_edited", sum(1, "B"), true, false, NULL, NULL},
        {"03_failed", sum(2, "C"), false, false, NULL, "boom"},
        {"04_rolled", sum(3, "D"), false, true, NULL, NULL},
        /* failed, rolled back, fixed and applied again: not an edit */
        {"05_fixed", sum(4, "E1"), false, true, NULL, NULL},
        {"05_fixed", sum(5, "E2"), true, false, NULL, NULL},
        {"07_nosql_applied", sum(6, "G"), true, false, NULL, NULL},
        {"09_gone", sum(7, "H"), true, false, NULL, NULL},
        {"09_gone", sum(7, "H"), true, false, NULL, NULL},
    };
    struct migrations_report r;
    assert_int_equal(migrations_classify(&l, rows, 9, true, false, 0, &r), 0);
    assert_int_equal(r.napplied, 4);
    assert_string_equal(r.applied[0], "01_applied");
    assert_string_equal(r.applied[1], "02_edited");
    assert_string_equal(r.applied[2], "05_fixed");
    assert_string_equal(r.applied[3], "07_nosql_applied");
    assert_int_equal(r.nedited, 1);
    assert_string_equal(r.edited[0], "02_edited");
    assert_int_equal(r.nfailed, 1);
    assert_string_equal(r.failed[0], "03_failed");
    assert_int_equal(r.nrolled_back, 1);
    assert_string_equal(r.rolled_back[0], "04_rolled");
    assert_int_equal(r.npending, 2);
    assert_string_equal(r.pending[0], "06_pending");
    assert_string_equal(r.pending[1], "08_nosql_pending");
    assert_int_equal(r.nunreadable, 1);
    assert_string_equal(r.unreadable[0], "07_nosql_applied");
    assert_int_equal(r.nmissing_locally, 1); /* two rows, one name */
    assert_string_equal(r.missing_locally[0], "09_gone");
    /* deploy applies the rolled back one and the pending ones, in folder order */
    assert_int_equal(r.nto_apply, 3);
    assert_string_equal(l.items[r.to_apply[0]].name, "04_rolled");
    assert_string_equal(l.items[r.to_apply[1]].name, "06_pending");
    assert_string_equal(l.items[r.to_apply[2]].name, "08_nosql_pending");
    assert_false(r.lock_mismatch);
    migrations_report_free(&r);
    migrations_list_free(&l);
}

static void test_migrations_classify_in_progress(void **state)
{
    struct migration_list l = sample_list();
    struct migration_row rows[] = {
        {"01_applied", sum(0, "A"), true, false, NULL, NULL},
        {"02_edited", sum(1, "B changed"), false, false, NULL, NULL},
    };
    struct migrations_report r;
    assert_int_equal(migrations_classify(&l, rows, 2, true, true, 0, &r), 0);
    assert_int_equal(r.nfailed, 0);
    assert_int_equal(r.nin_flight, 1);
    assert_string_equal(r.in_flight[0], "02_edited");
    assert_true(r.in_progress);
    migrations_report_free(&r);
    assert_int_equal(migrations_classify(&l, rows, 2, true, false, 0, &r), 0);
    assert_int_equal(r.nfailed, 1);
    assert_int_equal(r.nin_flight, 0);
    migrations_report_free(&r);
    migrations_list_free(&l);
}

static void test_migrations_classify_no_table(void **state)
{
    struct migration_list l = sample_list();
    struct migrations_report r;
    assert_int_equal(migrations_classify(&l, NULL, 0, false, false, 3, &r), 0);
    assert_int_equal(r.npending, 8);
    assert_int_equal(r.nto_apply, 8);
    assert_int_equal(r.other_tables, 3);
    assert_false(r.has_table);
    migrations_report_free(&r);
    migrations_list_free(&l);
}

static void test_migrations_classify_lock_mismatch(void **state)
{
    struct migration_list l = {0};
    l.lock_provider = strdup("mysql");
    struct migrations_report r;
    assert_int_equal(migrations_classify(&l, NULL, 0, true, false, 0, &r), 0);
    assert_true(r.lock_mismatch);
    struct migrations_judgement j;
    migrations_judge(&r, &l, "prisma/migrations", "public", MIGRATE_CHECK, POLICY_WARN, POLICY_WARN,
                     POLICY_WARN, POLICY_WARN, &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_int_equal(j.exit_code, EXIT_MIGRATIONS);
    assert_non_null(strstr(j.issues[0].text, "P3019"));
    migrations_report_free(&r);
    migrations_list_free(&l);
}

/* --- policies ------------------------------------------------------------------------- */

static void judge(struct migration_list *l, const struct migration_row *rows, size_t n,
                  bool has_table, long other, enum migrate_mode mode, enum policy pending,
                  enum policy edited, enum policy missing, enum policy failed,
                  struct migrations_judgement *j)
{
    struct migrations_report r;
    assert_int_equal(migrations_classify(l, rows, n, has_table, false, other, &r), 0);
    migrations_judge(&r, l, "prisma/migrations", "public", mode, pending, edited, missing, failed,
                     j);
    migrations_report_free(&r);
}

static bool has_issue(const struct migrations_judgement *j, const char *needle, bool fail)
{
    for (size_t i = 0; i < j->nissues; i++)
        if (strstr(j->issues[i].text, needle) && j->issues[i].fail == fail)
            return true;
    return false;
}

static void test_migrations_judge_defaults(void **state)
{
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "01_a", "A", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "02_b", "B", 1, 0), 0);
    migrations_list_sort(&l);
    struct migration_row up[] = {{"01_a", sum(0, "A"), true, false, NULL, NULL},
                                 {"02_b", sum(1, "B"), true, false, NULL, NULL}};
    struct migrations_judgement j;
    judge(&l, up, 2, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_OK);
    assert_false(j.needs_action);
    assert_non_null(strstr(j.summary, "2 migrations applied"));

    /* pending: warn in check mode, would-run in deploy mode, fail with pending = fail */
    judge(&l, up, 1, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    assert_true(j.needs_action); /* a warning at start-up, but check is not ready */
    assert_true(has_issue(&j, "'02_b'", false));
    assert_true(has_issue(&j, "npx prisma migrate deploy", false));
    judge(&l, up, 1, true, 0, MIGRATE_CHECK, POLICY_FAIL, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_int_equal(j.exit_code, EXIT_MIGRATIONS);
    judge(&l, up, 1, true, 0, MIGRATE_DEPLOY, POLICY_FAIL, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WOULD_RUN);
    assert_non_null(strstr(j.summary, "'02_b'"));

    /* failed: fail by default, naming the resolve command */
    struct migration_row failed[] = {{"01_a", sum(0, "A"), true, false, NULL, NULL},
                                     {"02_b", sum(1, "B"), false, false, NULL, NULL}};
    judge(&l, failed, 2, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "npx prisma migrate resolve --rolled-back 02_b", true));
    judge(&l, failed, 2, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_WARN,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    /* deploy mode with nothing to apply: the failed policy decides */
    judge(&l, failed, 2, true, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN,
          POLICY_WARN, &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    /* deploy mode with something to apply: P3009 whatever the policy */
    struct migration_row failed_first[] = {{"01_a", sum(0, "A"), false, false, NULL, NULL}};
    judge(&l, failed_first, 1, true, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN,
          POLICY_WARN, &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "P3009", true));

    /* edited and missing locally: warnings by default, failures by policy */
    struct migration_row edited[] = {{"01_a", sum(0, "A changed"), true, false, NULL, NULL},
                                     {"02_b", sum(1, "B"), true, false, NULL, NULL},
                                     {"03_gone", sum(2, "C"), true, false, NULL, NULL}};
    judge(&l, edited, 3, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    assert_true(j.needs_action); /* edited */
    assert_true(has_issue(&j, "'01_a'", false));
    assert_true(has_issue(&j, "'03_gone'", false));
    judge(&l, edited, 3, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_FAIL, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "'01_a'", true));
    assert_true(has_issue(&j, "'03_gone'", false));
    judge(&l, edited, 3, true, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          POLICY_FAIL, &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "'03_gone'", true));

    /* no table: deploy would create it; a schema with other tables is P3005 */
    judge(&l, NULL, 0, false, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WOULD_RUN);
    judge(&l, NULL, 0, false, 2, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "P3005", true));
    judge(&l, NULL, 0, false, 2, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    assert_true(j.needs_action);
    assert_true(has_issue(&j, "P3005", false));
    /* deploy would refuse: it is not advised in the same breath */
    assert_false(has_issue(&j, "run 'npx prisma migrate deploy'", false));
    migrations_list_free(&l);

    /* no migrations at all and no table: fine */
    struct migration_list empty = {0};
    judge(&empty, NULL, 0, false, 5, MIGRATE_DEPLOY, POLICY_FAIL, POLICY_FAIL, POLICY_FAIL,
          POLICY_FAIL, &j);
    assert_int_equal(j.verdict, MIGRATIONS_OK);
    assert_false(j.needs_action);

    /* only missing locally: deploy neither applies nor refuses anything */
    struct migration_list one = {0};
    assert_int_equal(migrations_list_add(&one, "01_a", "A", 1, 0), 0);
    migrations_list_sort(&one);
    struct migration_row gone[] = {{"01_a", sum(0, "A"), true, false, NULL, NULL},
                                   {"00_gone", sum(1, "Z"), true, false, NULL, NULL}};
    judge(&one, gone, 2, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    assert_false(j.needs_action);
    migrations_list_free(&one);
}

static void test_migrations_judge_deploy_missing_script(void **state)
{
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "01_a", NULL, 0, ENOENT), 0);
    migrations_list_sort(&l);
    struct migrations_judgement j;
    judge(&l, NULL, 0, true, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_true(has_issue(&j, "migration.sql", true));
    judge(&l, NULL, 0, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    migrations_list_free(&l);
}

/* A NUL byte in migration.sql fails the step in every mode and state, naming the file and
 * the offset of the first one; the streamed digest finds the same offset, however the file is
 * cut into pieces. */
static void test_migrations_nul_byte_refused(void **state)
{
    (void)state;
    static const char sql[] = "CREATE TABLE a (id int);\0DROP TABLE a;\0";
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "01_ok", "SELECT 1;", 9, 0), 0);
    assert_int_equal(migrations_list_add(&l, "02_nul", sql, sizeof sql - 1, 0), 0);
    migrations_list_sort(&l);
    assert_true(l.items[1].has_nul);
    assert_int_equal(l.items[1].nul_at, 24);
    assert_false(l.items[0].has_nul);
    const enum migrate_mode modes[] = {MIGRATE_CHECK, MIGRATE_DEPLOY};
    for (size_t i = 0; i < 2; i++) {
        struct migrations_judgement j;
        judge(&l, NULL, 0, false, 0, modes[i], POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_WARN,
              &j);
        assert_int_equal(j.verdict, MIGRATIONS_FAIL);
        assert_int_equal(j.exit_code, 65);
        assert_true(has_issue(&j,
                              "'prisma/migrations/02_nul/migration.sql' holds a NUL byte "
                              "at offset 24",
                              true));
    }
    /* Applied already, with the whole file's checksum: still refused. */
    char sum[MIGRATIONS_CHECKSUM_LEN + 1];
    migrations_checksum(sql, sizeof sql - 1, sum);
    char sum1[MIGRATIONS_CHECKSUM_LEN + 1];
    migrations_checksum("SELECT 1;", 9, sum1);
    const struct migration_row rows[] = {{"01_ok", sum1, true, false, NULL, NULL},
                                         {"02_nul", sum, true, false, NULL, NULL}};
    struct migrations_judgement j;
    judge(&l, rows, 2, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_WARN,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    migrations_list_free(&l);

    for (size_t piece = 1; piece <= sizeof sql; piece++) {
        struct migrations_digest d;
        assert_int_equal(migrations_digest_begin(&d), 0);
        for (size_t off = 0; off < sizeof sql - 1; off += piece)
            migrations_digest_update(&d, sql + off,
                                     sizeof sql - 1 - off < piece ? sizeof sql - 1 - off : piece);
        struct migration_local m;
        memset(&m, 0, sizeof m);
        migrations_digest_final(&d, &m);
        assert_true(m.has_nul);
        assert_int_equal(m.nul_at, 24);
    }
}

/* The streamed checksums give every variant made by hand below, however the file is cut
 * into pieces (a CR at the end of a piece, an LF at the start of the next). */
static void digest_in_pieces(const char *text, size_t piece, struct migration_local *m)
{
    struct migrations_digest d;
    assert_int_equal(migrations_digest_begin(&d), 0);
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += piece)
        migrations_digest_update(&d, text + off, len - off < piece ? len - off : piece);
    memset(m, 0, sizeof *m);
    migrations_digest_final(&d, m);
    assert_int_equal(m->script_len, len);
}

static void test_migrations_digest_streamed_matches_whole(void **state)
{
    const char *texts[] = {"",   "hello",  "a\r\nb\r\n", "a\nb\n",   "a\r\nb\nc",
                           "\r", "\r\r\n", "x\r",        "\n\r\n\r", "mixed\r\r\n\n\r\n\rend"};
    for (size_t t = 0; t < sizeof texts / sizeof *texts; t++) {
        const char *text = texts[t];
        size_t len = strlen(text);
        /* Every stored form the whole-buffer rules accept, and one they refuse. */
        char variants[3][MIGRATIONS_CHECKSUM_LEN + 1];
        migrations_checksum(text, len, variants[0]);
        char lf[64] = "", crlf[128] = "";
        for (size_t i = 0, o = 0; i <= len; i++)
            if (!(text[i] == '\r' && text[i + 1] == '\n'))
                lf[o++] = text[i];
        for (size_t i = 0, o = 0; i <= len; i++) {
            if (text[i] == '\n')
                crlf[o++] = '\r';
            crlf[o++] = text[i];
        }
        migrations_checksum(lf, strlen(lf), variants[1]);
        migrations_checksum(crlf, strlen(crlf), variants[2]);
        for (int v = 0; v < 3; v++)
            assert_true(migrations_checksum_matches(text, len, variants[v]));
        for (size_t piece = 1; piece <= len + 1; piece++) {
            struct migration_local m;
            digest_in_pieces(text, piece, &m);
            assert_string_equal(m.checksum, variants[0]);
            for (int v = 0; v < 3; v++)
                assert_true(migrations_local_matches(&m, variants[v]));
            if (strcmp(text, "hello") != 0)
                assert_false(migrations_local_matches(&m, HELLO_SHA));
            assert_false(migrations_local_matches(&m, ""));
        }
    }
    /* Legacy renderings are accepted for streamed files too. */
    struct migration_local m;
    digest_in_pieces("hello", 2, &m);
    assert_true(migrations_local_matches(&m, HELLO_LEGACY));
}

static void test_migrations_read_dir_streams_large_files(void **state)
{
    mkd("m");
    mkd("m/01_big");
    mkd("m/02_small");
    put("m/02_small/migration.sql", "SELECT 1;\r\n");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/m/01_big/migration.sql", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    size_t size = MIGRATIONS_KEEP_MAX + 12345;
    char *body = malloc(size + 1);
    assert_non_null(body);
    for (size_t i = 0; i < size; i++)
        body[i] = (i % 100 == 98) ? '\r' : (i % 100 == 99) ? '\n' : 'x';
    body[size] = '\0';
    fwrite(body, 1, size, f);
    fclose(f);

    struct migration_list l;
    char err[256] = "", dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/m", tmpdir);
    assert_int_equal(migrations_read_dir(dir, &l, err, sizeof err), 0);
    assert_int_equal(l.count, 2);
    const struct migration_local *big = &l.items[0], *small = &l.items[1];
    assert_null(big->script);
    assert_int_equal(big->script_errno, 0);
    assert_int_equal(big->script_len, size);
    assert_non_null(small->script);
    char hex[MIGRATIONS_CHECKSUM_LEN + 1];
    migrations_checksum(body, size, hex);
    assert_string_equal(big->checksum, hex);
    assert_true(migrations_local_matches(big, hex));
    /* The file checked out with LF endings was recorded as such. */
    char *lf = malloc(size);
    size_t o = 0;
    for (size_t i = 0; i < size; i++)
        if (body[i] != '\r')
            lf[o++] = body[i];
    migrations_checksum(lf, o, hex);
    assert_true(migrations_local_matches(big, hex));

    /* Loaded for the deploy: the same bytes, or ESTALE once the file has changed. */
    const unsigned char *script;
    size_t len;
    unsigned char *owned;
    assert_int_equal(migrations_load_script(dir, big, &script, &len, &owned, err, sizeof err), 0);
    assert_int_equal(len, size);
    assert_memory_equal(script, body, size);
    assert_ptr_equal(script, owned);
    free(owned);
    assert_int_equal(migrations_load_script(dir, small, &script, &len, &owned, err, sizeof err), 0);
    assert_null(owned);
    assert_ptr_equal(script, small->script);
    f = fopen(path, "ab");
    fputc('y', f);
    fclose(f);
    assert_int_equal(migrations_load_script(dir, big, &script, &len, &owned, err, sizeof err),
                     -ESTALE);
    assert_non_null(strstr(err, "changed while devinit was deploying it"));
    free(lf);
    free(body);
    migrations_list_free(&l);
}

static void test_migrations_name_not_utf8(void **state)
{
    assert_int_equal(migrations_name_check("20240101000000_init"), 0);
    assert_int_equal(migrations_name_check("20240101000000_caf\xc3\xa9"), MIGRATION_NAME_CHARS);
    assert_int_equal(migrations_name_check("20240101000000_caf\xe9"),
                     MIGRATION_NAME_CHARS | MIGRATION_NAME_NOT_UTF8);
    /* An overlong '/', a surrogate, beyond U+10FFFF, a truncated sequence. */
    const char *bad[] = {"a\xc0\xaf", "a\xed\xa0\x80", "a\xf4\x90\x80\x80", "a\xe2\x82"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_true(migrations_name_check(bad[i]) & MIGRATION_NAME_NOT_UTF8);
    assert_false(migrations_name_check("a\xf0\x9f\x98\x80") & MIGRATION_NAME_NOT_UTF8);

    /* Deploy refuses before applying anything; check warns that it would. */
    struct migration_list l = {0};
    assert_int_equal(migrations_list_add(&l, "01_ok", "A", 1, 0), 0);
    assert_int_equal(migrations_list_add(&l, "02_caf\xe9", "B", 1, 0), 0);
    migrations_list_sort(&l);
    struct migrations_judgement j;
    judge(&l, NULL, 0, true, 0, MIGRATE_DEPLOY, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_FAIL);
    assert_int_equal(j.exit_code, EXIT_MIGRATIONS);
    assert_true(has_issue(&j, "not named in UTF-8", true));
    judge(&l, NULL, 0, true, 0, MIGRATE_CHECK, POLICY_WARN, POLICY_WARN, POLICY_WARN, POLICY_FAIL,
          &j);
    assert_int_equal(j.verdict, MIGRATIONS_WARN);
    assert_true(has_issue(&j, "deploy would refuse it", false));
    migrations_list_free(&l);
}

static void test_migrations_name_list_truncates(void **state)
{
    const char *names[] = {"a", "b", "c", "d"};
    char out[64];
    assert_string_equal(migrations_name_list(names, 4, 2, out, sizeof out), "'a', 'b' and 2 more");
    assert_string_equal(migrations_name_list(names, 1, 5, out, sizeof out), "'a'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_read_dir_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_read_dir_missing_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations_read_dir_not_a_folder, setup, teardown),
        cmocka_unit_test(test_migrations_name_warnings),
        cmocka_unit_test(test_migrations_lock_provider_as_prisma_reads_it),
        cmocka_unit_test(test_migrations_checksum_plain),
        cmocka_unit_test(test_migrations_checksum_line_endings),
        cmocka_unit_test(test_migrations_checksum_edits),
        cmocka_unit_test(test_migrations_checksum_legacy_unpadded),
        cmocka_unit_test(test_migrations_classify_table),
        cmocka_unit_test(test_migrations_classify_in_progress),
        cmocka_unit_test(test_migrations_classify_no_table),
        cmocka_unit_test(test_migrations_classify_lock_mismatch),
        cmocka_unit_test(test_migrations_judge_defaults),
        cmocka_unit_test(test_migrations_judge_deploy_missing_script),
        cmocka_unit_test(test_migrations_nul_byte_refused),
        cmocka_unit_test(test_migrations_name_list_truncates),
        cmocka_unit_test(test_migrations_digest_streamed_matches_whole),
        cmocka_unit_test_setup_teardown(test_migrations_read_dir_streams_large_files, setup,
                                        teardown),
        cmocka_unit_test(test_migrations_name_not_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
