/* Classification of libpq failures into retry / final + exit code, with redaction. The
 * messages are libpq 15's and PostgreSQL 15's own words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db/dburl.h"
#include "base/exitcodes.h"
#include "db/pgconn.h"

struct row {
    const char *sqlstate, *message;
    bool retry;
    int exit_code;
    const char *want_state;
};

static const struct row rows[] = {
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: Connection refused\n"
     "\tIs the server running on that host and accepting TCP/IP connections?\n",
     true, EXIT_UNAVAILABLE, ""},
    {NULL,
     "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: No such file or "
     "directory\n\tIs the server running locally and accepting connections on that socket?\n",
     true, EXIT_UNAVAILABLE, ""},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system "
     "is starting up\n",
     true, EXIT_UNAVAILABLE, "57P03"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system "
     "is shutting down\n",
     true, EXIT_UNAVAILABLE, "57P03"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  the database system "
     "is not yet accepting connections\nDETAIL:  Consistent recovery state has not been yet "
     "reached.\n",
     true, EXIT_UNAVAILABLE, "57P03"},
    {NULL, "FATAL:  sorry, too many clients already\n", true, EXIT_UNAVAILABLE, "53300"},
    {NULL,
     "server closed the connection unexpectedly\n\tThis probably means the server "
     "terminated abnormally\n",
     true, EXIT_UNAVAILABLE, ""},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
     "authentication failed for user \"app\"\n",
     false, EXIT_NOPERM, "28P01"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  role \"nobody\" "
     "does not exist\n",
     false, EXIT_NOPERM, "28000"},
    {NULL,
     "FATAL:  no pg_hba.conf entry for host \"127.0.0.1\", user \"app\", database \"app\", "
     "no encryption\n",
     false, EXIT_NOPERM, "28000"},
    {NULL, "FATAL:  role \"ro\" is not permitted to log in\n", false, EXIT_NOPERM, "28000"},
    {NULL,
     "FATAL:  permission denied for database \"app\"\nDETAIL:  User does not have CONNECT "
     "privilege.\n",
     false, EXIT_NOPERM, "42501"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: fe_sendauth: no password "
     "supplied\n",
     false, EXIT_NOPERM, "08004"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"nope\" "
     "does not exist\n",
     false, EXIT_UNAVAILABLE, "3D000"},
    {NULL,
     "connection to server at \"127.0.0.1\", port 5432 failed: server does not support "
     "SSL, but SSL was required\n",
     false, EXIT_CONFIG, ""},
    {NULL,
     "connection to server at \"db\" (10.0.0.2), port 5432 failed: root certificate file "
     "\"/root/.postgresql/root.crt\" does not exist\nEither provide the file or change "
     "sslmode to disable server certificate verification.\n",
     false, EXIT_CONFIG, ""},
    {NULL, "SSL error: certificate verify failed\n", false, EXIT_CONFIG, ""},
    {"57P03", "FATAL: anything", true, EXIT_UNAVAILABLE, "57P03"},
    {"28P01", "whatever the locale says", false, EXIT_NOPERM, "28P01"},
    {"3D000", "", false, EXIT_UNAVAILABLE, "3D000"},
    {"42P01", "ERROR:  relation \"x\" does not exist\n", true, EXIT_UNAVAILABLE, "42P01"},
};

static void test_pgconn_classify_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        struct pgconn_error e;
        pgconn_classify(NULL, rows[i].sqlstate, rows[i].message, &e);
        if (e.retry != rows[i].retry || e.exit_code != rows[i].exit_code ||
            strcmp(e.sqlstate, rows[i].want_state))
            print_error("row %zu: want retry=%d code=%d state='%s', got %d %d '%s' (%s)\n", i,
                        rows[i].retry, rows[i].exit_code, rows[i].want_state, e.retry, e.exit_code,
                        e.sqlstate, e.message);
        assert_int_equal(e.retry, rows[i].retry);
        assert_int_equal(e.exit_code, rows[i].exit_code);
        assert_string_equal(e.sqlstate, rows[i].want_state);
        assert_null(strchr(e.message, '\n'));
        assert_null(strchr(e.message, '\t'));
    }
}

static void test_pgconn_classify_message_is_one_tidy_line(void **state)
{
    (void)state;
    struct pgconn_error e;
    pgconn_classify(NULL, NULL, rows[0].message, &e);
    assert_string_equal(e.message, "connection refused");
    pgconn_classify(NULL, NULL, rows[7].message, &e);
    assert_string_equal(e.message, "password authentication failed for user \"app\"");
    pgconn_classify(NULL, NULL, rows[4].message, &e);
    assert_string_equal(e.message, "the database system is not yet accepting connections; "
                                   "DETAIL: Consistent recovery state has not been yet reached.");
    /* Several addresses tried: each keeps its own "connection to server" part. */
    pgconn_classify(NULL, NULL,
                    "connection to server at \"localhost\" (::1), port 1 failed: Connection "
                    "refused\n\tIs the server running?\nconnection to server at \"localhost\" "
                    "(127.0.0.1), port 1 failed: Connection refused\n\tIs the server running?\n",
                    &e);
    assert_string_equal(e.message,
                        "connection to server at \"localhost\" (::1), port 1 failed: Connection "
                        "refused; connection to server at \"localhost\" (127.0.0.1), port 1 "
                        "failed: Connection refused");
    pgconn_classify(NULL, NULL, NULL, &e);
    assert_string_equal(e.message, "unknown error");
}

static void test_pgconn_classify_redacts(void **state)
{
    (void)state;
    struct dburl u;
    char err[256];
    struct pgconn_error e;
    assert_int_equal(dburl_parse("postgresql://app:Sup3r%23Secret@db/app", &u, err, sizeof err), 0);
    pgconn_classify(&u, NULL, "FATAL:  role \"Sup3r#Secret\" does not exist (Sup3r%23Secret)\n",
                    &e);
    assert_null(strstr(e.message, "Sup3r"));
    assert_non_null(strstr(e.message, "***"));
    dburl_free(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgconn_classify_table),
        cmocka_unit_test(test_pgconn_classify_message_is_one_tidy_line),
        cmocka_unit_test(test_pgconn_classify_redacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
