/* Prisma Migrate's bookkeeping in PostgreSQL: see migrate_native.h. */
#include "db/migrate_native.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/log.h"

#define NAME              "migrate"
#define CANCEL_WAIT_MS    3000u /* a cancelled statement answers in milliseconds */
#define CHECK_INTERVAL_MS 1000u
/* A lock wait is cut into slices (lock_timeout), so that between two the holder can be named
 * and the wait reported: the first after a second, then every five. */
#define FIRST_SLICE_MS 1000u
#define SLICE_MS       5000u
/* The two SET LOCALs every bounded query starts with: their results come first. */
#define NSET 2

enum phase {
    PH_IDLE = 0, /* nothing running */
    PH_READ,     /* reading the state for the owner's check */
    PH_LOCK,     /* waiting for the advisory lock */
    PH_STATE,    /* reading the state under the lock */
    PH_CREATE,   /* creating the schema and the table */
    PH_INSERT,   /* recording that a migration started */
    PH_SCRIPT,   /* running migration.sql */
    PH_FINISH,   /* recording success */
    PH_ROLLBACK, /* leaving the script's own failed transaction */
    PH_LOGS,     /* recording failure */
    PH_DELETE,   /* removing the row of a script that never ran */
    PH_DONE,
};

struct migrate_native {
    struct pgconn *pc;
    const struct dburl *url;
    const char *where;
    char *table; /* "<schema>"._prisma_migrations, quoted by libpq */
    enum phase phase;
    bool query_running;
    bool cancelled;
    struct migrate_native_state st;

    migrate_native_fn done;
    migrate_native_plan_fn plan;
    void *data;

    /* the bounded query in flight (bq_send): its text for a retry after a lock slice */
    uint64_t timeout_ms; /* [migrate] timeout; 0: no bound */
    struct {
        char *body;
        pgconn_query_fn cb;
        bool advisory;                 /* waits for Prisma's advisory lock, not the table */
        uint64_t started_ms, limit_ms; /* limit 0: no bound */
        unsigned slices;
        char holder[300]; /* "pid 42 ('psql', idle in transaction)", or "" */
    } bq;

    /* deploy */
    uint64_t lock_timeout_ms;
    const struct migration_list *list;
    const char *dir, *shown;
    const size_t *apply; /* indices into list->items */
    size_t napply, next, current;
    const unsigned char *script; /* current's migration.sql */
    unsigned char *script_owned; /* the same when loaded for the deploy, else NULL */
    char row_id[37];
    char failure[MIGRATE_NATIVE_LOGS_MAX + 1024]; /* the logs of a failed script */
    char failure_line[512];
    char failure_code[6];
    bool failure_committed; /* the failed script had committed part of itself (its own COMMIT) */
    size_t napplied_now;
    char applied_now[400];
};

static void apply_next(struct migrate_native *mn);
static void on_state(struct pgconn *c, int status, PGresult *const *res, size_t n,
                     const struct pgconn_error *e, void *data);

/* --- small helpers --------------------------------------------------------------------- */

static void free_rows(struct migrate_native *mn)
{
    for (size_t i = 0; i < mn->st.nrows; i++) {
        free((char *)mn->st.rows[i].name);
        free((char *)mn->st.rows[i].checksum);
        free((char *)mn->st.rows[i].started_at);
        free((char *)mn->st.rows[i].logs);
    }
    free(mn->st.rows);
    mn->st.rows = NULL;
    mn->st.nrows = 0;
}

static void close_conn(struct migrate_native *mn)
{
    if (mn->pc) {
        pgconn_close(mn->pc);
        mn->pc = NULL;
    }
    mn->query_running = false;
}

static int query(struct migrate_native *mn, const char *sql, int n, const char *const *params,
                 pgconn_query_fn cb)
{
    int rc = mn->pc ? pgconn_query(mn->pc, sql, n, params, cb, mn) : -ENOTCONN;
    mn->query_running = rc == 0;
    return rc;
}

/* An identifier or literal quoted by libpq for the connection's encoding. NULL: no memory. */
static char *quote(struct migrate_native *mn, const char *s, bool ident)
{
    PGconn *pq = pgconn_pq(mn->pc);
    char *q = ident ? PQescapeIdentifier(pq, s, strlen(s)) : PQescapeLiteral(pq, s, strlen(s));
    if (!q)
        return NULL;
    char *copy = strdup(q);
    PQfreemem(q);
    return copy;
}

static const char *value(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The exit code for a query that failed outside the migrations themselves. */
static int query_exit_code(const struct pgconn_error *e)
{
    if (e && !strncmp(e->sqlstate, "42501", 5))
        return EXIT_NOPERM;
    if (e && (e->retry || !strncmp(e->sqlstate, "08", 2) || !strncmp(e->sqlstate, "57P", 3)))
        return EXIT_UNAVAILABLE;
    return EXIT_SOFTWARE;
}

/* Ends the read or the deploy with code and a message; a deploy's session closes, which
 * releases the lock. */
static void finish(struct migrate_native *mn, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish(struct migrate_native *mn, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (mn->phase != PH_READ)
        close_conn(mn);
    mn->phase = mn->phase == PH_READ ? PH_IDLE : PH_DONE;
    migrate_native_fn done = mn->done;
    mn->done = NULL;
    if (done && !mn->cancelled)
        done(mn, code, msg, mn->data);
}

/* A failure of the database itself. */
static void db_failed(struct migrate_native *mn, int code, const char *what,
                      const struct pgconn_error *e)
{
    close_conn(mn);
    finish(mn, code, "%s on '%s': %s", what, mn->where, e ? e->message : "unknown error");
}

/* --- bounded queries ------------------------------------------------------------------ */

/* Every query of this module but the migration scripts runs under SET LOCAL lock_timeout and
 * statement_timeout (its implicit transaction ends them): a lock held on _prisma_migrations
 * (or Prisma's advisory lock) cannot make devinit wait without a bound or in silence. A lock
 * wait is cut into slices; between two, the session holding the lock is looked up and the
 * wait is reported; at the deadline the query ends with 69. A retry is safe: a statement
 * that timed out changed nothing (its implicit transaction was rolled back). */

static void bq_resend(struct migrate_native *mn);

static uint64_t bq_left_ms(const struct migrate_native *mn)
{
    if (!mn->bq.limit_ms)
        return UINT64_MAX;
    uint64_t spent = clock_ms() - mn->bq.started_ms;
    return spent >= mn->bq.limit_ms ? 0 : mn->bq.limit_ms - spent;
}

static const char *bq_what(const struct migrate_native *mn)
{
    return mn->bq.advisory ? "Prisma Migrate's advisory lock" : "the lock on _prisma_migrations";
}

/* "300 ms", "2.5 s", "30 s" */
static void seconds(uint64_t ms, char *out, size_t len)
{
    if (ms < 1000)
        snprintf(out, len, "%llu ms", (unsigned long long)ms);
    else if (ms % 1000)
        snprintf(out, len, "%llu.%llu s", (unsigned long long)(ms / 1000),
                 (unsigned long long)(ms % 1000 / 100));
    else
        snprintf(out, len, "%llu s", (unsigned long long)(ms / 1000));
}

static void bq_timed_out(struct migrate_native *mn, bool lock);

static void on_holder(struct pgconn *c, int status, PGresult *const *res, size_t n,
                      const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (mn->cancelled)
        return;
    /* Not knowing the holder is no reason to stop; a lost server is. */
    if (status < 0 && e && query_exit_code(e) != EXIT_SOFTWARE) {
        db_failed(mn, query_exit_code(e),
                  mn->phase == PH_LOCK ? "cannot take Prisma Migrate's advisory lock"
                  : mn->phase == PH_READ || mn->phase == PH_STATE
                      ? "cannot read _prisma_migrations"
                      : "cannot write _prisma_migrations",
                  e);
        return;
    }
    mn->bq.holder[0] = '\0';
    const PGresult *r = status == 0 && n > NSET ? res[NSET] : NULL;
    size_t o = 0;
    for (int i = 0; r && i < PQntuples(r) && o < sizeof mn->bq.holder; i++) {
        const char *app = PQgetvalue(r, i, 1), *state = PQgetvalue(r, i, 2);
        int w = snprintf(mn->bq.holder + o, sizeof mn->bq.holder - o, "%spid %s%s%s%s%s%s%s",
                         i ? ", " : "", PQgetvalue(r, i, 0), *app || *state ? " (" : "",
                         *app ? "'" : "", app, *app ? "'" : "", *app && *state ? ", " : "", state);
        if (w < 0)
            break;
        o += (size_t)w;
        if ((*app || *state) && o + 1 < sizeof mn->bq.holder)
            mn->bq.holder[o++] = ')', mn->bq.holder[o] = '\0';
    }
    if (!bq_left_ms(mn)) {
        bq_timed_out(mn, mn->bq.holder[0] != '\0');
        return;
    }
    char left[32] = "";
    if (mn->bq.limit_ms)
        seconds(bq_left_ms(mn), left, sizeof left);
    log_info(NAME, "waiting for %s held by %s on '%s'%s%s%s", bq_what(mn),
             mn->bq.holder[0] ? mn->bq.holder : "another session", mn->where,
             left[0] ? ": giving up in " : "", left,
             left[0] ? (mn->bq.advisory ? " ([migrate] lock_timeout)" : " ([migrate] timeout)")
                     : "");
    bq_resend(mn);
}

/* Who holds the lock the query waited for: its pid, application and state. */
static void bq_find_holder(struct migrate_native *mn)
{
    char sql[2600];
    char *table = quote(mn, mn->table, false);
    if (!table) {
        finish(mn, EXIT_OSERR, "out of memory");
        return;
    }
    const char *filter = mn->bq.advisory
                             ? "l.locktype = 'advisory' AND l.classid = 0 AND l.objsubid = 1 AND "
                               "l.objid = "
                             : "l.locktype = 'relation' AND l.mode <> 'AccessShareLock' AND "
                               "l.relation = to_regclass(";
    char key[1024];
    if (mn->bq.advisory)
        snprintf(key, sizeof key, "%d", MIGRATIONS_LOCK_KEY);
    else
        snprintf(key, sizeof key, "%s)", table);
    snprintf(sql, sizeof sql,
             "SET LOCAL lock_timeout = %u;SET LOCAL statement_timeout = %u;"
             "SELECT l.pid, coalesce(a.application_name, ''), coalesce(a.state, '')"
             " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
             " WHERE %s%s AND l.pid <> pg_backend_pid() AND l.database ="
             " (SELECT oid FROM pg_database WHERE datname = current_database())"
             " ORDER BY l.granted DESC, l.mode = 'AccessExclusiveLock' DESC, l.pid LIMIT 3",
             SLICE_MS, SLICE_MS, filter, key);
    free(table);
    if (query(mn, sql, 0, NULL, on_holder) < 0)
        finish(mn, EXIT_SOFTWARE, "cannot query '%s'", mn->where);
}

static void on_bounded(struct pgconn *c, int status, PGresult *const *res, size_t n,
                       const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (status < 0 && e && !mn->cancelled) {
        if (!strcmp(e->sqlstate, "55P03")) {
            mn->bq.slices++;
            bq_find_holder(mn);
            return;
        }
        /* statement_timeout: the deadline. Whether a lock was the cause, pg_locks says. */
        if (!strcmp(e->sqlstate, "57014") && mn->bq.limit_ms && !bq_left_ms(mn)) {
            bq_find_holder(mn);
            return;
        }
    }
    mn->bq.cb(c, status, n > NSET ? res + NSET : res, n > NSET ? n - NSET : 0, e, data);
}

static void bq_resend(struct migrate_native *mn)
{
    uint64_t left = bq_left_ms(mn);
    uint64_t slice = mn->bq.slices ? SLICE_MS : FIRST_SLICE_MS;
    uint64_t lock = left < slice ? left : slice;
    uint64_t stmt = mn->bq.limit_ms ? (left > INT_MAX ? INT_MAX : left) : 0;
    size_t len = strlen(mn->bq.body) + 128;
    char *sql = malloc(len);
    if (!sql) {
        finish(mn, EXIT_OSERR, "out of memory");
        return;
    }
    snprintf(sql, len, "SET LOCAL lock_timeout = %llu;SET LOCAL statement_timeout = %llu;%s",
             (unsigned long long)(lock ? lock : 1), (unsigned long long)stmt, mn->bq.body);
    int rc = query(mn, sql, 0, NULL, on_bounded);
    free(sql);
    if (rc < 0)
        finish(mn, EXIT_SOFTWARE, "cannot query '%s'", mn->where);
}

/* Sends body (one or more statements, no parameters) bounded by limit_ms (0: no bound, but
 * still reported while it waits for a lock); cb gets the body's own results. */
static void bq_send(struct migrate_native *mn, const char *body, uint64_t limit_ms, bool advisory,
                    pgconn_query_fn cb)
{
    free(mn->bq.body);
    mn->bq.body = strdup(body);
    if (!mn->bq.body) {
        finish(mn, EXIT_OSERR, "out of memory");
        return;
    }
    mn->bq.cb = cb;
    mn->bq.advisory = advisory;
    mn->bq.started_ms = clock_ms();
    mn->bq.limit_ms = limit_ms;
    mn->bq.slices = 0;
    mn->bq.holder[0] = '\0';
    bq_resend(mn);
}

/* --- reading the state ----------------------------------------------------------------- */

/* One round trip: the schema, the lock, the other tables, then the rows. Without a table
 * the second statement fails with 42P01, which is how Prisma itself finds out too. The
 * lock query skips our own session (we hold the lock while deploying) and other
 * databases (advisory locks are per database). */
static int send_state_query(struct migrate_native *mn)
{
    char *lit = quote(mn, mn->url->schema, false);
    if (!lit)
        return -ENOMEM;
    char sql[2048];
    snprintf(sql, sizeof sql,
             "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s),"
             " EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 0"
             " AND objid = %d AND objsubid = 1 AND granted AND pid <> pg_backend_pid()"
             " AND database = (SELECT oid FROM pg_database"
             " WHERE datname = current_database())),"
             " (SELECT count(*) FROM pg_class c JOIN pg_namespace n"
             " ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = %s"
             " AND c.relname <> '_prisma_migrations' AND c.relname !~* "
             "'^(spatial_ref_sys|geometry_columns|geography_columns|raster_columns|"
             "raster_overviews)$');"
             "SELECT migration_name, checksum, finished_at IS NOT NULL,"
             " rolled_back_at IS NOT NULL, started_at, left(logs, %d)"
             " FROM %s ORDER BY started_at",
             lit, MIGRATIONS_LOCK_KEY, lit, MIGRATE_NATIVE_LOGS_MAX, mn->table);
    free(lit);
    if (!mn->pc)
        return -ENOTCONN;
    bq_send(mn, sql, mn->timeout_ms, false, on_state);
    return 0;
}

static int parse_state(struct migrate_native *mn, PGresult *const *res, size_t n)
{
    struct migrate_native_state *st = &mn->st;
    free_rows(mn);
    if (n < 1 || PQresultStatus(res[0]) != PGRES_TUPLES_OK || PQntuples(res[0]) != 1)
        return -EPROTO;
    st->schema_exists = !strcmp(PQgetvalue(res[0], 0, 0), "t");
    st->in_progress = !strcmp(PQgetvalue(res[0], 0, 1), "t");
    st->other_tables = strtol(PQgetvalue(res[0], 0, 2), NULL, 10);
    st->has_table = n >= 2 && PQresultStatus(res[1]) == PGRES_TUPLES_OK;
    if (!st->has_table)
        return 0;
    int rows = PQntuples(res[1]);
    st->rows = calloc(rows ? (size_t)rows : 1, sizeof *st->rows);
    if (!st->rows)
        return -ENOMEM;
    for (int i = 0; i < rows; i++) {
        struct migration_row *row = &st->rows[st->nrows++];
        row->name = dup_or_null(value(res[1], i, 0));
        row->checksum = dup_or_null(value(res[1], i, 1));
        row->finished = !strcmp(PQgetvalue(res[1], i, 2), "t");
        row->rolled_back = !strcmp(PQgetvalue(res[1], i, 3), "t");
        row->started_at = dup_or_null(value(res[1], i, 4));
        row->logs = dup_or_null(value(res[1], i, 5));
        if (!row->name || !row->checksum || !row->started_at)
            return -ENOMEM;
    }
    return 0;
}

static void create_table(struct migrate_native *mn);

/* Under the lock: the owner decides what to apply from the state just read. */
static void planned(struct migrate_native *mn)
{
    char msg[1024] = "";
    const size_t *apply = NULL;
    size_t napply = 0;
    int code = mn->plan(mn, &mn->st, &apply, &napply, msg, sizeof msg, mn->data);
    if (code != 0 || napply == 0) {
        finish(mn, code, "%s", msg);
        return;
    }
    mn->apply = apply;
    mn->napply = napply;
    mn->next = 0;
    if (mn->st.has_table)
        apply_next(mn);
    else
        create_table(mn);
}

static void on_state(struct pgconn *c, int status, PGresult *const *res, size_t n,
                     const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (mn->cancelled)
        return;
    /* 42P01 on the second statement only: the table does not exist. */
    if (status < 0 && !(e && !strcmp(e->sqlstate, "42P01") && n >= 1 &&
                        PQresultStatus(res[0]) == PGRES_TUPLES_OK)) {
        db_failed(mn, query_exit_code(e), "cannot read _prisma_migrations", e);
        return;
    }
    int rc = parse_state(mn, res, n);
    if (rc < 0) {
        finish(mn, rc == -ENOMEM ? EXIT_OSERR : EXIT_SOFTWARE, "cannot read the answer of '%s'",
               mn->where);
        return;
    }
    if (mn->phase == PH_READ)
        finish(mn, 0, "read");
    else
        planned(mn);
}

struct migrate_native *migrate_native_open(struct pgconn *pc, const struct dburl *u,
                                           const char *where)
{
    struct migrate_native *mn = calloc(1, sizeof *mn);
    if (!mn) {
        pgconn_close(pc);
        return NULL;
    }
    mn->pc = pc;
    mn->url = u;
    mn->where = where;
    char *id = quote(mn, u->schema, true);
    size_t len = id ? strlen(id) + sizeof "._prisma_migrations" : 0;
    mn->table = id ? malloc(len) : NULL;
    if (!mn->table) {
        free(id);
        migrate_native_close(mn);
        return NULL;
    }
    snprintf(mn->table, len, "%s._prisma_migrations", id);
    free(id);
    return mn;
}

int migrate_native_read(struct migrate_native *mn, migrate_native_fn done, void *data)
{
    mn->done = done;
    mn->data = data;
    mn->phase = PH_READ;
    int rc = send_state_query(mn);
    if (rc < 0) {
        mn->done = NULL;
        mn->phase = PH_IDLE;
    }
    return rc;
}

const struct migrate_native_state *migrate_native_state(const struct migrate_native *mn)
{
    return &mn->st;
}

/* --- deploying -------------------------------------------------------------------------- */

/* A random (version 4) UUID, as uuid::Uuid::new_v4() writes it. */
static int uuid_v4(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1)
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static const char *current_name(const struct migrate_native *mn)
{
    return mn->list->items[mn->current].name;
}

/* The deadline of a bounded query: 69, naming what it waited for and who held it. */
static void bq_timed_out(struct migrate_native *mn, bool lock)
{
    char spent[32];
    seconds(mn->bq.limit_ms, spent, sizeof spent);
    const char *holder = mn->bq.holder[0] ? mn->bq.holder : "another session";
    /* A script that succeeded but whose row could not be marked: say what is true. */
    char after[600] = "";
    if (mn->phase == PH_FINISH)
        snprintf(after, sizeof after,
                 "; migration '%s' was applied but its row still says unfinished: run 'npx "
                 "prisma migrate resolve --applied %s'",
                 current_name(mn), current_name(mn));
    else if (mn->phase == PH_LOGS)
        snprintf(after, sizeof after,
                 "; migration '%s' failed (%s) and its row says so without the error",
                 current_name(mn), mn->failure_line);
    if (mn->bq.advisory)
        finish(mn, EXIT_UNAVAILABLE,
               "timed out after %s waiting for Prisma Migrate's advisory lock (%d) on '%s', "
               "held by %s (Prisma error P1002): another migrate deploy is running; wait for "
               "it or raise [migrate] lock_timeout",
               spent, MIGRATIONS_LOCK_KEY, mn->where, holder);
    else if (lock)
        finish(mn, EXIT_UNAVAILABLE,
               "timed out after %s waiting for the lock on _prisma_migrations on '%s', held by "
               "%s: end that session's transaction or raise [migrate] timeout%s",
               spent, mn->where, holder, after);
    else
        finish(mn, EXIT_UNAVAILABLE,
               "timed out after %s: '%s' did not answer a query on _prisma_migrations within "
               "[migrate] timeout%s",
               spent, mn->where, after);
}

static void on_locked(struct pgconn *c, int status, PGresult *const *res, size_t n,
                      const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (mn->cancelled)
        return;
    if (status < 0) {
        db_failed(mn, query_exit_code(e), "cannot take Prisma Migrate's advisory lock", e);
        return;
    }
    log_debug(NAME, "advisory lock %d taken after %llu ms", MIGRATIONS_LOCK_KEY,
              (unsigned long long)(clock_ms() - mn->bq.started_ms));
    /* The state again, since another replica may have deployed meanwhile. */
    mn->phase = PH_STATE;
    if (send_state_query(mn) < 0)
        finish(mn, EXIT_SOFTWARE, "cannot query '%s'", mn->where);
}

static void on_created(struct pgconn *c, int status, PGresult *const *res, size_t n,
                       const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (mn->cancelled)
        return;
    if (status < 0) {
        db_failed(mn, query_exit_code(e), "cannot create _prisma_migrations", e);
        return;
    }
    log_info(NAME, "created %s_prisma_migrations", mn->st.schema_exists ? "" : "the schema and ");
    mn->st.has_table = true;
    apply_next(mn);
}

/* flavour/postgres.rs create_migrations_table(), run as Prisma runs it: unqualified, with
 * search_path set to the URL's schema (which Prisma creates when missing). */
static void create_table(struct migrate_native *mn)
{
    bool schema = mn->st.schema_exists;
    char *id = quote(mn, mn->url->schema, true);
    char sql[1024];
    snprintf(sql, sizeof sql,
             "%s%s%s"
             "CREATE TABLE _prisma_migrations (\n"
             "    id                      VARCHAR(36) PRIMARY KEY NOT NULL,\n"
             "    checksum                VARCHAR(64) NOT NULL,\n"
             "    finished_at             TIMESTAMPTZ,\n"
             "    migration_name          VARCHAR(255) NOT NULL,\n"
             "    logs                    TEXT,\n"
             "    rolled_back_at          TIMESTAMPTZ,\n"
             "    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
             "    applied_steps_count     INTEGER NOT NULL DEFAULT 0\n"
             ");\n",
             schema ? "" : "CREATE SCHEMA IF NOT EXISTS ", schema ? "" : (id ? id : "\"public\""),
             schema ? "" : ";\n");
    free(id);
    mn->phase = PH_CREATE;
    bq_send(mn, sql, mn->timeout_ms, false, on_created);
}

static void on_finished(struct pgconn *c, int status, PGresult *const *res, size_t n,
                        const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    const char *name = current_name(mn);
    if (status < 0) {
        if (!mn->cancelled)
            db_failed(mn, query_exit_code(e), "cannot record the success of a migration", e);
        return;
    }
    log_info(NAME, "applied '%s'", name);
    size_t o = strlen(mn->applied_now);
    if (mn->napplied_now < 5)
        snprintf(mn->applied_now + o, sizeof mn->applied_now - o, "%s'%s'",
                 mn->napplied_now ? ", " : "", name);
    mn->napplied_now++;
    if (mn->cancelled) {
        close_conn(mn);
        return;
    }
    apply_next(mn);
}

static void on_logs(struct pgconn *c, int status, PGresult *const *res, size_t n,
                    const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    const char *name = current_name(mn);
    if (status < 0)
        log_error(NAME, "cannot record the failure of '%s' in _prisma_migrations: %s", name,
                  e ? e->message : "unknown error");
    if (mn->cancelled) {
        close_conn(mn);
        return;
    }
    if (mn->failure_committed)
        finish(mn, EXIT_MIGRATIONS,
               "migration '%s' failed: %s (Prisma error P3018, database error code %s): the "
               "part of its script before its own COMMIT stays applied and later migrations "
               "were not applied; undo that part by hand, then run 'npx prisma migrate "
               "resolve --rolled-back %s' and deploy again",
               name, mn->failure_line, mn->failure_code[0] ? mn->failure_code : "none", name);
    else
        finish(mn, EXIT_MIGRATIONS,
               "migration '%s' failed: %s (Prisma error P3018, database error code %s): "
               "PostgreSQL rolled its whole script back, so nothing of it is applied, and later "
               "migrations were not applied; fix what made it fail, then run 'npx prisma "
               "migrate resolve --rolled-back %s' and deploy again",
               name, mn->failure_line, mn->failure_code[0] ? mn->failure_code : "none", name);
}

static void record_failure(struct migrate_native *mn)
{
    char *logs = quote(mn, mn->failure, false);
    size_t len = (logs ? strlen(logs) : 0) + 512;
    char *sql = logs ? malloc(len) : NULL;
    if (!sql) {
        free(logs);
        finish(mn, EXIT_MIGRATIONS, "migration '%s' failed: %s (Prisma error P3018)",
               current_name(mn), mn->failure_line);
        return;
    }
    snprintf(sql, len, "UPDATE %s SET logs = %s WHERE id = '%s'", mn->table, logs, mn->row_id);
    free(logs);
    mn->phase = PH_LOGS;
    bq_send(mn, sql, mn->timeout_ms, false, on_logs);
    free(sql);
}

static void on_rolled_back(struct pgconn *c, int status, PGresult *const *res, size_t n,
                           const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    record_failure(mn);
}

/* The logs Prisma writes: ApplyMigrationError's text (user-facing-errors), with the
 * server's error as tokio-postgres shows it, without the source excerpt. */
static void describe_failure(struct migrate_native *mn, PGresult *const *res, size_t n,
                             const struct pgconn_error *e)
{
    const PGresult *bad = NULL;
    /* The results come one per statement, up to the failing one: a COMMIT (or END, or
     * PREPARE TRANSACTION) among them made what came before it permanent. Without one, the
     * whole script ran in one transaction that PostgreSQL rolled back. */
    mn->failure_committed = false;
    for (size_t i = 0; i < n; i++) {
        if (PQresultStatus(res[i]) == PGRES_FATAL_ERROR) {
            bad = res[i];
            break;
        }
        const char *tag = PQcmdStatus(res[i]);
        if (tag && (!strncmp(tag, "COMMIT", 6) || !strncmp(tag, "PREPARE TRANSACTION", 19)))
            mn->failure_committed = true;
    }
    const char *name = current_name(mn);
    const char *code = bad ? PQresultErrorField(bad, PG_DIAG_SQLSTATE) : NULL;
    const char *sev = bad ? PQresultErrorField(bad, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    const char *msg = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_HINT) : NULL;
    snprintf(mn->failure_code, sizeof mn->failure_code, "%s", code ? code : "");
    char raw[MIGRATE_NATIVE_LOGS_MAX];
    if (msg)
        snprintf(raw, sizeof raw, "%s: %s%s%s%s%s", sev ? sev : "ERROR", msg,
                 detail ? "\nDETAIL: " : "", detail ? detail : "", hint ? "\nHINT: " : "",
                 hint ? hint : "");
    else
        snprintf(raw, sizeof raw, "%s", e ? e->message : "the connection was lost");
    if (mn->cancelled && code && !strcmp(code, "57014")) {
        size_t o = strlen(raw);
        snprintf(raw + o, sizeof raw - o,
                 "\n(devinit cancelled the statement: it was stopped "
                 "by a signal during the deploy)");
    }
    char red[MIGRATE_NATIVE_LOGS_MAX];
    dburl_redact(mn->url, raw, red, sizeof red);
    snprintf(mn->failure, sizeof mn->failure,
             "A migration failed to apply. New migrations cannot be applied before the error "
             "is recovered from. Read more about how to resolve migration issues in a "
             "production database: https://pris.ly/d/migrate-resolve\n\n"
             "Migration name: %s\n\nDatabase error code: %s\n\nDatabase error:\n%s\n",
             name, code ? code : "none", red);
    /* For the one-line message, the server's primary text (the full one is in logs). */
    char line[sizeof mn->failure_line];
    snprintf(line, sizeof line, "%.*s", (int)sizeof line - 1, msg ? msg : e ? e->message : red);
    dburl_redact(mn->url, line, mn->failure_line, sizeof mn->failure_line);
}

static void on_script(struct pgconn *c, int status, PGresult *const *res, size_t n,
                      const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (status == 0) {
        /* record_successful_step + record_migration_finished, in one statement. The id is
         * ours (hex and dashes): no quoting needed. */
        char sql[512];
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET applied_steps_count = applied_steps_count + 1,"
                 " finished_at = now() WHERE id = '%s'",
                 mn->table, mn->row_id);
        mn->phase = PH_FINISH;
        bq_send(mn, sql, mn->timeout_ms, false, on_finished);
        return;
    }
    describe_failure(mn, res, n, e);
    if (e && e->retry && !e->sqlstate[0]) {
        /* The connection itself is gone: nothing can be recorded. */
        if (!mn->cancelled)
            finish(mn, EXIT_UNAVAILABLE,
                   "lost the connection to '%s' while applying '%s': %s; the row may say "
                   "failed: check with 'npx prisma migrate status'",
                   mn->where, current_name(mn), mn->failure_line);
        return;
    }
    /* A script with its own BEGIN leaves the session in a failed transaction, where the
     * UPDATE below would be refused. */
    PGTransactionStatusType ts = PQtransactionStatus(pgconn_pq(c));
    if (ts == PQTRANS_INERROR || ts == PQTRANS_INTRANS) {
        mn->phase = PH_ROLLBACK;
        if (query(mn, "ROLLBACK", 0, NULL, on_rolled_back) == 0)
            return;
    }
    record_failure(mn);
}

static void on_deleted(struct pgconn *c, int status, PGresult *const *res, size_t n,
                       const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    close_conn(mn);
}

static void on_inserted(struct pgconn *c, int status, PGresult *const *res, size_t n,
                        const struct pgconn_error *e, void *data)
{
    struct migrate_native *mn = data;
    mn->query_running = false;
    if (status < 0) {
        if (!mn->cancelled)
            db_failed(mn, query_exit_code(e), "cannot record a migration in _prisma_migrations", e);
        return;
    }
    if (mn->cancelled) {
        /* Stopped between the row and its script: nothing ran, so no row at all is the
         * truth (the migration stays pending). */
        char sql[512];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = '%s'", mn->table, mn->row_id);
        mn->phase = PH_DELETE;
        if (query(mn, sql, 0, NULL, on_deleted) < 0)
            close_conn(mn);
        return;
    }
    log_info(NAME, "applying '%s'", current_name(mn));
    mn->phase = PH_SCRIPT;
    /* The whole file as one simple-protocol query, as Prisma's apply_migration_script().
     * libpq copies it into its output buffer: a loaded copy can go at once. */
    int rc = query(mn, (const char *)mn->script, 0, NULL, on_script);
    free(mn->script_owned);
    mn->script_owned = NULL;
    if (rc < 0)
        finish(mn, EXIT_SOFTWARE, "cannot send the script of '%s'", current_name(mn));
}

static void apply_next(struct migrate_native *mn)
{
    if (mn->cancelled) {
        close_conn(mn);
        return;
    }
    if (mn->next >= mn->napply) {
        finish(mn, 0, "applied %zu %s: %s%s", mn->napplied_now,
               mn->napplied_now == 1 ? "migration" : "migrations", mn->applied_now,
               mn->napplied_now > 5 ? " and more" : "");
        return;
    }
    mn->current = mn->apply[mn->next++];
    const struct migration_local *mig = &mn->list->items[mn->current];
    if (mig->script_errno) {
        finish(mn, EXIT_MIGRATIONS,
               "cannot read '%s/%s/migration.sql': %s (Prisma error P3015): restore the file",
               mn->shown, mig->name, strerror(mig->script_errno));
        return;
    }
    /* Read (a file too large to keep since the check) before its row exists: a file that
     * cannot be read or has changed leaves no row behind. */
    char err[PATH_MAX + 128];
    size_t len;
    if (migrations_load_script(mn->dir, mig, &mn->script, &len, &mn->script_owned, err,
                               sizeof err) < 0) {
        finish(mn, EXIT_MIGRATIONS, "migration '%s' cannot be applied: %s", mig->name, err);
        return;
    }
    if (uuid_v4(mn->row_id) < 0) {
        finish(mn, EXIT_OSERR, "cannot make a random id: OpenSSL's RAND_bytes failed");
        return;
    }
    /* record_migration_started(). Our own statements name the schema: a script may have
     * changed search_path. */
    char *name = quote(mn, mig->name, false), *sum = quote(mn, mig->checksum, false);
    char sql[2048];
    if (name && sum)
        snprintf(sql, sizeof sql,
                 "INSERT INTO %s (id, checksum, started_at, migration_name)"
                 " VALUES ('%s', %s, now(), %s)",
                 mn->table, mn->row_id, sum, name);
    free(name);
    free(sum);
    if (!name || !sum) {
        finish(mn, EXIT_OSERR, "cannot record '%s' in _prisma_migrations: out of memory",
               mig->name);
        return;
    }
    mn->phase = PH_INSERT;
    bq_send(mn, sql, mn->timeout_ms, false, on_inserted);
}

void migrate_native_deploy(struct migrate_native *mn, uint64_t lock_timeout_ms,
                           const struct migration_list *list, const char *dir, const char *shown,
                           migrate_native_plan_fn plan, migrate_native_fn done, void *data)
{
    mn->lock_timeout_ms = lock_timeout_ms;
    mn->list = list;
    mn->dir = dir;
    mn->shown = shown;
    mn->plan = plan;
    mn->done = done;
    mn->data = data;
    mn->phase = PH_LOCK;
    char *id = quote(mn, mn->url->schema, true);
    if (!id) {
        finish(mn, EXIT_OSERR, "out of memory");
        return;
    }
    /* Prisma runs everything with search_path set to the URL's schema (quaint). The check
     * interval makes the server abort a script whose client died. lock_timeout bounds the
     * wait for the lock on the server, which leaves the loop (and signals) free; 0 waits
     * for ever. Session-level advisory locks survive the end of this implicit transaction. */
    char sql[1024];
    char interval[80] = "";
    if (PQserverVersion(pgconn_pq(mn->pc)) >= 140000)
        snprintf(interval, sizeof interval, "SET client_connection_check_interval = %u;",
                 CHECK_INTERVAL_MS);
    snprintf(sql, sizeof sql, "SET search_path = %s;%sSELECT pg_advisory_lock(%d)", id, interval,
             MIGRATIONS_LOCK_KEY);
    free(id);
    log_debug(NAME, "waiting for advisory lock %d on '%s'", MIGRATIONS_LOCK_KEY, mn->where);
    bq_send(mn, sql, lock_timeout_ms, true, on_locked);
}

void migrate_native_cancel(struct migrate_native *mn)
{
    if (!mn)
        return;
    mn->cancelled = true;
    if (!mn->pc)
        return;
    /* The process leaves as soon as the caller returns: a deploy in flight is settled now,
     * synchronously and within a bound, rather than by a loop that will not run again. */
    if (mn->query_running && mn->phase >= PH_LOCK && mn->phase < PH_DONE) {
        log_info(NAME, "cancelling the running statement on '%s'", mn->where);
        pgconn_cancel_query(mn->pc);
        if (pgconn_drain_sync(mn->pc, CANCEL_WAIT_MS) < 0)
            log_warn(NAME,
                     "'%s' did not answer the cancel in time: the server ends the statement "
                     "when it sees the connection close",
                     mn->where);
    }
    close_conn(mn);
}

void migrate_native_set_timeout(struct migrate_native *mn, uint64_t timeout_ms)
{
    mn->timeout_ms = timeout_ms;
}

bool migrate_native_connected(const struct migrate_native *mn)
{
    return mn->pc != NULL;
}

void migrate_native_disconnect(struct migrate_native *mn)
{
    if (mn)
        close_conn(mn);
}

void migrate_native_close(struct migrate_native *mn)
{
    if (!mn)
        return;
    close_conn(mn);
    free_rows(mn);
    free(mn->script_owned);
    free(mn->table);
    free(mn->bq.body);
    free(mn);
}
