/* The migrate step: `_prisma_migrations` against the migrations folder, under the [migrate]
 * policies, and `migrate deploy` when mode = deploy.
 *
 * check: read the folder (lib/migrations.c), connect (lib/pgconn.c), read the table and
 * whether another session holds Prisma Migrate's advisory lock, all in one read-only round
 * trip; classify and judge. It never writes and never takes the lock, so `devinit check`
 * changes nothing.
 *
 * act (mode = deploy, something to apply):
 *   - deploy_with = prisma: `node_modules/.bin/prisma migrate deploy` as a supervised child;
 *   - deploy_with = native: Prisma's own protocol through libpq (PRISMA.md "Deploy, as Prisma
 *     does it"; prisma-engines apply_migrations.rs, sql_migration_persistence.rs,
 *     flavour/postgres.rs): the advisory lock with [migrate] lock_timeout (P1002), the table
 *     with Prisma's exact DDL or P3005, P3009 on failed rows, then per migration one row
 *     with a random UUID v4, the whole migration.sql as one simple-protocol query, and
 *     finished_at + applied_steps_count on success or logs and a stop (P3018) on failure.
 *
 * Signals: the lock is awaited by the server (pg_advisory_lock under SET lock_timeout), so
 * the loop stays free. A signal during a deploy cancels the running statement (PQcancel),
 * waits a bounded time for the answer, and records it as Prisma records a failure: the row
 * keeps finished_at NULL and gets the error in logs, so the next deploy stops with P3009 and
 * `migrate resolve --rolled-back` is the documented way on. PostgreSQL rolls the script's
 * implicit transaction back. A row inserted but whose script never started is deleted: the
 * migration is simply still pending. If devinit is killed outright, the server notices the
 * closed connection within client_connection_check_interval (PostgreSQL 14+), aborts the
 * script and releases the lock; the row then says failed with empty logs, as after a killed
 * `prisma migrate deploy`. */
#include <errno.h>
#include <limits.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/dburl.h"
#include "config/envfile.h"
#include "base/exitcodes.h"
#include "base/log.h"
#include "prisma/migrations.h"
#include "db/pgconn.h"
#include "prisma/schema.h"
#include "steps/step.h"

#define NAME              "migrate"
#define CANCEL_WAIT_MS    3000u /* a cancelled statement answers in milliseconds */
#define CHECK_INTERVAL_MS 1000u
#define LOGS_MAX          2000

extern char **environ;

enum phase {
    PH_CHECK = 0, /* connecting or reading the state */
    PH_LOCK,      /* waiting for the advisory lock */
    PH_STATE,     /* reading the state under the lock */
    PH_CREATE,    /* creating the schema and the table */
    PH_INSERT,    /* recording that a migration started */
    PH_SCRIPT,    /* running migration.sql */
    PH_FINISH,    /* recording success */
    PH_ROLLBACK,  /* leaving the script's own failed transaction */
    PH_LOGS,      /* recording failure */
    PH_DELETE,    /* removing the row of a script that never ran */
    PH_DONE,
};

struct migst {
    struct step_run *r;
    struct dburl url;
    bool has_url;
    char url_var[64];
    char *url_text;       /* for the prisma engine's environment when it came from elsewhere */
    bool url_from_env;    /* the variable is already in devinit's environment */
    char dir[PATH_MAX];   /* the migrations folder, as used (joined to the app directory) */
    char shown[PATH_MAX]; /* the same for messages (relative to the app directory) */
    char where[300];      /* "db:5432/app" */
    struct migration_list list;
    uv_work_t work; /* reads the folder while the connection is being made */
    bool work_pending;
    int read_rc;
    char read_err[PATH_MAX + 256];
    bool conn_done, conn_failed;
    struct pgconn_error conn_err;

    struct pgconn *pc;
    char *table; /* "<schema>"._prisma_migrations, quoted by libpq */
    enum phase phase;
    bool query_running;
    bool cancelled;

    /* the state, as last read */
    bool schema_exists, has_table, in_progress;
    long other_tables;
    struct migration_row *rows;
    size_t nrows;
    struct migrations_report rep;
    bool have_rep;
    struct migrations_judgement j;

    /* deploy */
    size_t next;    /* index into rep.to_apply */
    size_t current; /* index into list.items */
    const unsigned char *script;  /* current's migration.sql */
    unsigned char *script_owned;  /* the same when loaded for the deploy, else NULL */
    char row_id[37];
    char failure[LOGS_MAX + 1024]; /* the logs of a failed script */
    char failure_line[512];
    char failure_code[6];
    size_t napplied_now;
    char applied_now[400];
    uint64_t lock_started_ms;

    /* prisma engine */
    char *argv[6];
    char **envp;
};

static void send_state_query(struct migst *m);
static void apply_next(struct migst *m);
static void migrate_state_read(struct pgconn *c, int status, PGresult *const *res, size_t n,
                               const struct pgconn_error *e, void *data);

/* --- small helpers --------------------------------------------------------------------- */

static void free_rows(struct migst *m)
{
    for (size_t i = 0; i < m->nrows; i++) {
        free((char *)m->rows[i].name);
        free((char *)m->rows[i].checksum);
        free((char *)m->rows[i].started_at);
        free((char *)m->rows[i].logs);
    }
    free(m->rows);
    m->rows = NULL;
    m->nrows = 0;
}

static void close_conn(struct migst *m)
{
    if (m->pc) {
        pgconn_close(m->pc);
        m->pc = NULL;
    }
    m->query_running = false;
}

/* A one-line reason from the judgement: the failing issues (or the warnings), joined. When
 * they do not fit, each is logged on its own line first and the reason points at them. */
static void compose(const struct migrations_judgement *j, bool fails, char *out, size_t len)
{
    size_t o = 0, n = 0, total = 0;
    for (size_t i = 0; i < j->nissues; i++)
        if (j->issues[i].fail == fails)
            total += strlen(j->issues[i].text) + 2;
    bool fits = total < len;
    out[0] = '\0';
    for (size_t i = 0; i < j->nissues; i++) {
        if (j->issues[i].fail != fails)
            continue;
        if (!fits) {
            if (fails)
                log_error(NAME, "%s", j->issues[i].text);
            else
                log_warn(NAME, "%s", j->issues[i].text);
        }
        if (n++ == 0 || fits) {
            int w = snprintf(out + o, len - o, "%s%s", o ? "; " : "", j->issues[i].text);
            if (w > 0)
                o += (size_t)w < len - o ? (size_t)w : len - o - 1;
        }
    }
    if (!fits && n > 1 && o < len)
        snprintf(out + o, len - o, " (and %zu more, above)", n - 1);
}

/* Warnings that are not the step's verdict still deserve a line each. */
static void log_warnings(const struct migrations_judgement *j)
{
    for (size_t i = 0; i < j->nissues; i++)
        if (!j->issues[i].fail)
            log_warn(NAME, "%s", j->issues[i].text);
}

static int query(struct migst *m, const char *sql, int n, const char *const *params,
                 pgconn_query_fn cb)
{
    int rc = pgconn_query(m->pc, sql, n, params, cb, m);
    m->query_running = rc == 0;
    return rc;
}

/* An identifier or literal quoted by libpq for the connection's encoding. NULL: no memory. */
static char *quote(struct migst *m, const char *s, bool ident)
{
    PGconn *pq = pgconn_pq(m->pc);
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

/* --- where things are ------------------------------------------------------------------ */

/* The URL from [database] url, else the variable named by url_env, else .env: the same
 * sources as the wait step. 0 or -ENOENT. */
static int find_url(struct migst *m, const struct config *cfg, char **url)
{
    const char *var =
        cfg->database.url_env && *cfg->database.url_env ? cfg->database.url_env : "DATABASE_URL";
    snprintf(m->url_var, sizeof m->url_var, "%s", var);
    if (cfg->database.url && *cfg->database.url) {
        *url = strdup(cfg->database.url);
        return *url ? 0 : -ENOMEM;
    }
    const char *src = NULL;
    int r = envfile_lookup(cfg->app.dir, var, url, &src);
    if (r == 0)
        m->url_from_env = !strcmp(src, "environment");
    return r == 0 ? 0 : -ENOENT;
}

/* The folder (migrations_find_dir), and its name for messages: relative to the app. */
static void find_dir(struct migst *m, const struct config *cfg)
{
    const char *app = cfg->app.dir ? cfg->app.dir : "";
    migrations_find_dir(cfg, m->dir, sizeof m->dir);
    size_t al = strlen(app);
    while (al > 1 && app[al - 1] == '/')
        al--;
    if (al && !strncmp(m->dir, app, al) && m->dir[al] == '/')
        snprintf(m->shown, sizeof m->shown, "%s", m->dir + al + 1);
    else
        snprintf(m->shown, sizeof m->shown, "%s", m->dir);
}

/* --- reading the state ----------------------------------------------------------------- */

/* One round trip: the schema, the lock, the other tables, then the rows. Without a table
 * the second statement fails with 42P01, which is how Prisma itself finds out too. The
 * lock query skips our own session (we hold the lock while deploying) and other
 * databases (advisory locks are per database). */
static void send_state_query(struct migst *m)
{
    char *lit = quote(m, m->url.schema, false);
    char sql[2048];
    if (lit)
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
                 lit, MIGRATIONS_LOCK_KEY, lit, LOGS_MAX, m->table);
    free(lit);
    if (!lit || query(m, sql, 0, NULL, migrate_state_read) < 0) {
        close_conn(m);
        if (m->phase == PH_CHECK)
            step_checked(m->r, STEP_ERROR, EXIT_SOFTWARE, "cannot query '%s'", m->where);
        else
            step_acted(m->r, EXIT_SOFTWARE, "cannot query '%s'", m->where);
    }
}

/* Ends check or act with a failure of the database itself. */
static void db_failed(struct migst *m, int code, const char *what, const struct pgconn_error *e)
{
    close_conn(m);
    const char *msg = e ? e->message : "unknown error";
    if (m->phase == PH_CHECK)
        step_checked(m->r, STEP_ERROR, code, "%s on '%s': %s", what, m->where, msg);
    else
        step_acted(m->r, code, "%s on '%s': %s", what, m->where, msg);
}

static int parse_state(struct migst *m, PGresult *const *res, size_t n)
{
    free_rows(m);
    if (n < 1 || PQresultStatus(res[0]) != PGRES_TUPLES_OK || PQntuples(res[0]) != 1)
        return -EPROTO;
    m->schema_exists = !strcmp(PQgetvalue(res[0], 0, 0), "t");
    m->in_progress = !strcmp(PQgetvalue(res[0], 0, 1), "t");
    m->other_tables = strtol(PQgetvalue(res[0], 0, 2), NULL, 10);
    m->has_table = n >= 2 && PQresultStatus(res[1]) == PGRES_TUPLES_OK;
    if (!m->has_table)
        return 0;
    int rows = PQntuples(res[1]);
    m->rows = calloc(rows ? (size_t)rows : 1, sizeof *m->rows);
    if (!m->rows)
        return -ENOMEM;
    for (int i = 0; i < rows; i++) {
        struct migration_row *row = &m->rows[m->nrows++];
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

static void conclude_check(struct migst *m);
static void conclude_locked(struct migst *m);

static void migrate_state_read(struct pgconn *c, int status, PGresult *const *res, size_t n,
                               const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    if (m->cancelled)
        return;
    /* 42P01 on the second statement only: the table does not exist. */
    if (status < 0 && !(e && !strcmp(e->sqlstate, "42P01") && n >= 1 &&
                        PQresultStatus(res[0]) == PGRES_TUPLES_OK)) {
        db_failed(m, query_exit_code(e), "cannot read _prisma_migrations", e);
        return;
    }
    int rc = parse_state(m, res, n);
    if (rc == 0) {
        if (m->have_rep)
            migrations_report_free(&m->rep);
        m->have_rep = false;
        rc = migrations_classify(&m->list, m->rows, m->nrows, m->has_table, m->in_progress,
                                 m->other_tables, &m->rep);
        m->have_rep = rc == 0;
    }
    if (rc < 0) {
        close_conn(m);
        if (m->phase == PH_CHECK)
            step_checked(m->r, STEP_ERROR, rc == -ENOMEM ? EXIT_OSERR : EXIT_SOFTWARE,
                         "cannot read the answer of '%s'", m->where);
        else
            step_acted(m->r, rc == -ENOMEM ? EXIT_OSERR : EXIT_SOFTWARE,
                       "cannot read the answer of '%s'", m->where);
        return;
    }
    const struct config *cfg = m->r->cfg;
    migrations_judge(&m->rep, &m->list, m->shown, m->url.schema,
                     m->phase == PH_CHECK ? cfg->migrate.mode : MIGRATE_DEPLOY,
                     cfg->migrate.pending, cfg->migrate.edited, cfg->migrate.missing_locally,
                     cfg->migrate.failed, &m->j);
    if (m->phase == PH_CHECK)
        conclude_check(m);
    else
        conclude_locked(m);
}

static void conclude_check(struct migst *m)
{
    struct step_run *r = m->r;
    char reason[sizeof r->reason];
    switch (m->j.verdict) {
    case MIGRATIONS_FAIL:
        close_conn(m);
        log_warnings(&m->j);
        compose(&m->j, true, reason, sizeof reason);
        step_checked(r, STEP_ERROR, m->j.exit_code, "%s", reason);
        return;
    case MIGRATIONS_WOULD_RUN:
        log_warnings(&m->j);
        /* The check connection goes on into a native deploy; anything else closes it. */
        if (r->dry_run || r->cfg->migrate.deploy_with != DEPLOY_NATIVE)
            close_conn(m);
        step_checked(r, STEP_WOULD_RUN, 0, "%s", m->j.summary);
        return;
    case MIGRATIONS_WARN:
        close_conn(m);
        compose(&m->j, false, reason, sizeof reason);
        step_checked(r, STEP_WARN, 0, "%s", reason);
        return;
    case MIGRATIONS_OK:
        close_conn(m);
        step_checked(r, STEP_OK, 0, "%s", m->j.summary);
        return;
    }
}

/* Both the folder and the connection are ready (or one failed): go on. */
static void proceed(struct migst *m)
{
    if (m->cancelled || m->work_pending || !m->conn_done)
        return;
    if (m->read_rc < 0) {
        close_conn(m);
        step_checked(m->r, STEP_ERROR, m->read_rc == -ENOMEM ? EXIT_OSERR : EXIT_CONFIG,
                     "%s: set [migrate] dir to the migrations folder", m->read_err);
        return;
    }
    log_debug(NAME, "%zu migrations in '%s'%s", m->list.count, m->dir,
              m->list.dir_exists ? "" : " (no such folder)");
    if (m->conn_failed) {
        const struct pgconn_error *e = &m->conn_err;
        const char *hint =
            e->exit_code == EXIT_NOPERM ? ": check the user and password in the URL" : "";
        step_checked(m->r, STEP_ERROR, e->exit_code, "cannot connect to '%s': %s%s", m->where,
                     e->message, hint);
        return;
    }
    char *id = quote(m, m->url.schema, true);
    size_t len = id ? strlen(id) + sizeof "._prisma_migrations" : 0;
    m->table = id ? malloc(len) : NULL;
    if (!m->table) {
        free(id);
        close_conn(m);
        step_checked(m->r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    snprintf(m->table, len, "%s._prisma_migrations", id);
    free(id);
    send_state_query(m);
}

static void on_connected(struct pgconn *c, int status, const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    m->conn_done = true;
    if (m->cancelled)
        return;
    if (status < 0) {
        m->pc = NULL; /* pgconn_close below would be a double close otherwise */
        pgconn_close(c);
        m->conn_failed = true;
        m->conn_err = *e;
    }
    proceed(m);
}

/* On libuv's thread pool: reading and hashing 1,000 migration.sql files costs about as much
 * as the connection's set-up, so the two overlap. Touches only m->list and m->read_*. */
static void work_read(uv_work_t *w)
{
    struct migst *m = w->data;
    m->read_rc = migrations_read_dir(m->dir, &m->list, m->read_err, sizeof m->read_err);
}

static void after_read(uv_work_t *w, int status)
{
    struct migst *m = w->data;
    m->work_pending = false;
    if (status < 0 && !m->read_rc) {
        m->read_rc = status;
        snprintf(m->read_err, sizeof m->read_err, "cannot read '%s': %s", m->dir,
                 uv_strerror(status));
    }
    proceed(m);
}

static void migrate_check(struct step_run *r)
{
    const struct config *cfg = r->cfg;
    if (cfg->migrate.mode == MIGRATE_OFF) {
        step_checked(r, STEP_SKIPPED, 0, "[migrate] mode = off");
        return;
    }
    struct migst *m = calloc(1, sizeof *m);
    if (!m) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    r->priv = m;
    m->r = r;
    char *url = NULL;
    if (find_url(m, cfg, &url) < 0) {
        step_checked(r, STEP_SKIPPED, 0, "no %s", m->url_var);
        return;
    }
    char err[512];
    int rc = dburl_parse(url, &m->url, err, sizeof err);
    if (rc < 0) {
        free(url);
        char red[512];
        dburl_redact(NULL, err, red, sizeof red);
        step_checked(r, STEP_ERROR, rc == -ENOMEM ? EXIT_OSERR : EXIT_CONFIG, "%s: %s", m->url_var,
                     red);
        return;
    }
    m->url_text = url;
    m->has_url = true;
    dburl_describe(&m->url, m->where, sizeof m->where);

    find_dir(m, cfg);
    m->pc = pgconn_new(r->loop, &m->url);
    if (!m->pc) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    rc = pgconn_connect(m->pc, 0, on_connected, m);
    if (rc < 0) {
        close_conn(m);
        step_checked(r, STEP_ERROR, EXIT_OSERR, "cannot connect to '%s': %s", m->where,
                     strerror(-rc));
        return;
    }
    m->query_running = true;
    m->work.data = m;
    rc = uv_queue_work(r->loop, &m->work, work_read, after_read);
    if (rc < 0) {
        /* No thread pool: read here instead. */
        work_read(&m->work);
        return;
    }
    m->work_pending = true;
}

/* --- deploy with Prisma's CLI ---------------------------------------------------------- */

static void on_prisma_done(struct step_run *r, int wstatus)
{
    struct migst *m = r->priv;
    if (wstatus == 0) {
        step_acted(r, 0, "'prisma migrate deploy' applied %s", m->j.summary);
        return;
    }
    step_fail_command(r, m->argv, wstatus);
}

static void deploy_prisma(struct migst *m)
{
    struct step_run *r = m->r;
    const struct config *cfg = r->cfg;
    const char *app = cfg->app.dir && *cfg->app.dir ? cfg->app.dir : NULL;
    char bin[PATH_MAX];
    prisma_path_join(app ? app : "", "node_modules/.bin/prisma", bin, sizeof bin);
    if (access(bin, X_OK) != 0) {
        step_acted(r, EXIT_SOFTWARE,
                   "cannot run '%s': %s: install prisma (npm install -D prisma) or set "
                   "[migrate] deploy_with = native",
                   bin, strerror(errno));
        return;
    }
    size_t k = 0;
    m->argv[k++] = strdup("node_modules/.bin/prisma");
    m->argv[k++] = strdup("migrate");
    m->argv[k++] = strdup("deploy");
    if (cfg->prisma.schema && *cfg->prisma.schema) {
        char arg[PATH_MAX + 16];
        snprintf(arg, sizeof arg, "--schema=%s", cfg->prisma.schema);
        m->argv[k++] = strdup(arg);
    }
    m->argv[k] = NULL;
    for (size_t i = 0; i < k; i++)
        if (!m->argv[i]) {
            step_acted(r, EXIT_OSERR, "out of memory");
            return;
        }
    /* A URL from devinit.ini or .env is not in the environment Prisma 7 reads (Prisma 6
     * reads .env itself): hand it over explicitly. */
    char **envp = NULL;
    if (!m->url_from_env) {
        size_t n = 0;
        while (environ[n])
            n++;
        envp = calloc(n + 2, sizeof *envp);
        if (!envp) {
            step_acted(r, EXIT_OSERR, "out of memory");
            return;
        }
        size_t o = 0, vl = strlen(m->url_var);
        for (size_t i = 0; i < n; i++)
            if (strncmp(environ[i], m->url_var, vl) || environ[i][vl] != '=')
                envp[o++] = environ[i];
        size_t len = vl + strlen(m->url_text) + 2;
        envp[o] = malloc(len);
        if (!envp[o]) {
            free(envp);
            step_acted(r, EXIT_OSERR, "out of memory");
            return;
        }
        snprintf(envp[o], len, "%s=%s", m->url_var, m->url_text);
        m->envp = envp;
    }
    if (step_exec(r, m->argv, envp, app, on_prisma_done) < 0)
        step_acted(r, EXIT_SOFTWARE, "cannot run '%s'", bin);
}

/* --- deploy natively ------------------------------------------------------------------- */

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

static void finish_deploy(struct migst *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void finish_deploy(struct migst *m, int code, const char *fmt, ...)
{
    char msg[sizeof m->r->reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->phase = PH_DONE;
    /* Closing the session releases the advisory lock. */
    close_conn(m);
    step_acted(m->r, code, "%s", msg);
}

static void on_locked(struct pgconn *c, int status, PGresult *const *res, size_t n,
                      const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    if (m->cancelled)
        return;
    if (status < 0) {
        if (!strcmp(e->sqlstate, "55P03")) {
            finish_deploy(m, EXIT_UNAVAILABLE,
                          "timed out after %llu ms waiting for Prisma Migrate's advisory lock "
                          "on '%s' (Prisma error P1002): another migrate deploy holds it; "
                          "wait for it or raise [migrate] lock_timeout",
                          (unsigned long long)m->r->cfg->migrate.lock_timeout_ms, m->where);
            return;
        }
        db_failed(m, query_exit_code(e), "cannot take Prisma Migrate's advisory lock", e);
        return;
    }
    log_debug(NAME, "advisory lock %d taken after %llu ms", MIGRATIONS_LOCK_KEY,
              (unsigned long long)(step_now_ms() - m->lock_started_ms));
    m->phase = PH_STATE;
    send_state_query(m);
}

static void on_created(struct pgconn *c, int status, PGresult *const *res, size_t n,
                       const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    if (m->cancelled)
        return;
    if (status < 0) {
        db_failed(m, query_exit_code(e), "cannot create _prisma_migrations", e);
        return;
    }
    log_info(NAME, "created %s_prisma_migrations", m->schema_exists ? "" : "the schema and ");
    m->has_table = true;
    apply_next(m);
}

/* Under the lock: the state again, since another replica may have deployed meanwhile. */
static void conclude_locked(struct migst *m)
{
    if (m->j.verdict == MIGRATIONS_FAIL) {
        char reason[sizeof m->r->reason];
        compose(&m->j, true, reason, sizeof reason);
        finish_deploy(m, m->j.exit_code, "%s", reason);
        return;
    }
    if (!m->rep.nto_apply) {
        finish_deploy(m, 0, "nothing to apply: %s", m->j.summary);
        return;
    }
    m->next = 0;
    if (m->has_table) {
        apply_next(m);
        return;
    }
    /* flavour/postgres.rs create_migrations_table(), run as Prisma runs it: unqualified,
     * with search_path set to the URL's schema (which Prisma creates when missing). */
    char *id = quote(m, m->url.schema, true);
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
             m->schema_exists ? "" : "CREATE SCHEMA IF NOT EXISTS ",
             m->schema_exists ? "" : (id ? id : "\"public\""), m->schema_exists ? "" : ";\n");
    free(id);
    m->phase = PH_CREATE;
    if (query(m, sql, 0, NULL, on_created) < 0)
        finish_deploy(m, EXIT_SOFTWARE, "cannot create _prisma_migrations on '%s'", m->where);
}

static void on_finished(struct pgconn *c, int status, PGresult *const *res, size_t n,
                        const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    const char *name = m->list.items[m->current].name;
    if (status < 0) {
        if (!m->cancelled)
            db_failed(m, query_exit_code(e), "cannot record the success of a migration", e);
        return;
    }
    log_info(NAME, "applied '%s'", name);
    size_t o = strlen(m->applied_now);
    if (m->napplied_now < 5)
        snprintf(m->applied_now + o, sizeof m->applied_now - o, "%s'%s'",
                 m->napplied_now ? ", " : "", name);
    m->napplied_now++;
    if (m->cancelled) {
        close_conn(m);
        return;
    }
    apply_next(m);
}

static void on_logs(struct pgconn *c, int status, PGresult *const *res, size_t n,
                    const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    const char *name = m->list.items[m->current].name;
    if (status < 0)
        log_error(NAME, "cannot record the failure of '%s' in _prisma_migrations: %s", name,
                  e ? e->message : "unknown error");
    if (m->cancelled) {
        close_conn(m);
        return;
    }
    finish_deploy(m, EXIT_MIGRATIONS,
                  "migration '%s' failed: %s (Prisma error P3018, database error code %s): "
                  "later migrations were not applied; fix the database by hand, then run 'npx "
                  "prisma migrate resolve --rolled-back %s' and deploy again",
                  name, m->failure_line, m->failure_code[0] ? m->failure_code : "none", name);
}

static void record_failure(struct migst *m)
{
    const char *params[] = {m->failure, m->row_id};
    char sql[512];
    snprintf(sql, sizeof sql, "UPDATE %s SET logs = $1 WHERE id = $2", m->table);
    m->phase = PH_LOGS;
    if (query(m, sql, 2, params, on_logs) < 0)
        finish_deploy(m, EXIT_MIGRATIONS, "migration '%s' failed: %s (Prisma error P3018)",
                      m->list.items[m->current].name, m->failure_line);
}

static void on_rolled_back(struct pgconn *c, int status, PGresult *const *res, size_t n,
                           const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    record_failure(m);
}

/* The logs Prisma writes: ApplyMigrationError's text (user-facing-errors), with the
 * server's error as tokio-postgres shows it, without the source excerpt. */
static void describe_failure(struct migst *m, PGresult *const *res, size_t n,
                             const struct pgconn_error *e)
{
    const PGresult *bad = NULL;
    for (size_t i = 0; i < n; i++)
        if (PQresultStatus(res[i]) == PGRES_FATAL_ERROR)
            bad = res[i];
    const char *name = m->list.items[m->current].name;
    const char *code = bad ? PQresultErrorField(bad, PG_DIAG_SQLSTATE) : NULL;
    const char *sev = bad ? PQresultErrorField(bad, PG_DIAG_SEVERITY_NONLOCALIZED) : NULL;
    const char *msg = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = bad ? PQresultErrorField(bad, PG_DIAG_MESSAGE_HINT) : NULL;
    snprintf(m->failure_code, sizeof m->failure_code, "%s", code ? code : "");
    char raw[LOGS_MAX];
    if (msg)
        snprintf(raw, sizeof raw, "%s: %s%s%s%s%s", sev ? sev : "ERROR", msg,
                 detail ? "\nDETAIL: " : "", detail ? detail : "", hint ? "\nHINT: " : "",
                 hint ? hint : "");
    else
        snprintf(raw, sizeof raw, "%s", e ? e->message : "the connection was lost");
    if (m->cancelled && code && !strcmp(code, "57014")) {
        size_t o = strlen(raw);
        snprintf(raw + o, sizeof raw - o,
                 "\n(devinit cancelled the statement: it was stopped "
                 "by a signal during the deploy)");
    }
    char red[LOGS_MAX];
    dburl_redact(&m->url, raw, red, sizeof red);
    snprintf(m->failure, sizeof m->failure,
             "A migration failed to apply. New migrations cannot be applied before the error "
             "is recovered from. Read more about how to resolve migration issues in a "
             "production database: https://pris.ly/d/migrate-resolve\n\n"
             "Migration name: %s\n\nDatabase error code: %s\n\nDatabase error:\n%s\n",
             name, code ? code : "none", red);
    /* For the one-line message, the server's primary text (the full one is in logs). */
    char line[sizeof m->failure_line];
    snprintf(line, sizeof line, "%.*s", (int)sizeof line - 1, msg ? msg : e ? e->message : red);
    dburl_redact(&m->url, line, m->failure_line, sizeof m->failure_line);
}

static void on_script(struct pgconn *c, int status, PGresult *const *res, size_t n,
                      const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    if (status == 0) {
        /* record_successful_step + record_migration_finished, in one statement. */
        const char *params[] = {m->row_id};
        char sql[512];
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET applied_steps_count = applied_steps_count + 1,"
                 " finished_at = now() WHERE id = $1",
                 m->table);
        m->phase = PH_FINISH;
        if (query(m, sql, 1, params, on_finished) < 0 && !m->cancelled)
            finish_deploy(m, EXIT_SOFTWARE, "cannot record the success of '%s'",
                          m->list.items[m->current].name);
        return;
    }
    describe_failure(m, res, n, e);
    if (e && e->retry && !e->sqlstate[0]) {
        /* The connection itself is gone: nothing can be recorded. */
        if (!m->cancelled)
            finish_deploy(m, EXIT_UNAVAILABLE,
                          "lost the connection to '%s' while applying '%s': %s; the row may "
                          "say failed: check with 'npx prisma migrate status'",
                          m->where, m->list.items[m->current].name, m->failure_line);
        return;
    }
    /* A script with its own BEGIN leaves the session in a failed transaction, where the
     * UPDATE below would be refused. */
    PGTransactionStatusType ts = PQtransactionStatus(pgconn_pq(c));
    if (ts == PQTRANS_INERROR || ts == PQTRANS_INTRANS) {
        m->phase = PH_ROLLBACK;
        if (query(m, "ROLLBACK", 0, NULL, on_rolled_back) == 0)
            return;
    }
    record_failure(m);
}

static void on_deleted(struct pgconn *c, int status, PGresult *const *res, size_t n,
                       const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    close_conn(m);
}

static void on_inserted(struct pgconn *c, int status, PGresult *const *res, size_t n,
                        const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->query_running = false;
    struct migration_local *mig = &m->list.items[m->current];
    if (status < 0) {
        if (!m->cancelled)
            db_failed(m, query_exit_code(e), "cannot record a migration in _prisma_migrations", e);
        return;
    }
    if (m->cancelled) {
        /* Stopped between the row and its script: nothing ran, so no row at all is the
         * truth (the migration stays pending). */
        const char *params[] = {m->row_id};
        char sql[512];
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE id = $1", m->table);
        m->phase = PH_DELETE;
        if (query(m, sql, 1, params, on_deleted) < 0)
            close_conn(m);
        return;
    }
    log_info(NAME, "applying '%s'", mig->name);
    m->phase = PH_SCRIPT;
    /* The whole file as one simple-protocol query, as Prisma's apply_migration_script().
     * libpq copies it into its output buffer: a loaded copy can go at once. */
    int rc = query(m, (const char *)m->script, 0, NULL, on_script);
    free(m->script_owned);
    m->script_owned = NULL;
    if (rc < 0)
        finish_deploy(m, EXIT_SOFTWARE, "cannot send the script of '%s'", mig->name);
}

static void apply_next(struct migst *m)
{
    if (m->cancelled) {
        close_conn(m);
        return;
    }
    if (m->next >= m->rep.nto_apply) {
        finish_deploy(m, 0, "applied %zu %s: %s%s", m->napplied_now,
                      m->napplied_now == 1 ? "migration" : "migrations", m->applied_now,
                      m->napplied_now > 5 ? " and more" : "");
        return;
    }
    m->current = m->rep.to_apply[m->next++];
    struct migration_local *mig = &m->list.items[m->current];
    if (mig->script_errno) {
        finish_deploy(m, EXIT_MIGRATIONS,
                      "cannot read '%s/%s/migration.sql': %s (Prisma error P3015): restore "
                      "the file",
                      m->shown, mig->name, strerror(mig->script_errno));
        return;
    }
    /* Read (a file too large to keep since the check) before its row exists: a file that
     * cannot be read or has changed leaves no row behind. */
    char err[PATH_MAX + 128];
    size_t len;
    if (migrations_load_script(m->dir, mig, &m->script, &len, &m->script_owned, err,
                               sizeof err) < 0) {
        finish_deploy(m, EXIT_MIGRATIONS, "migration '%s' cannot be applied: %s", mig->name,
                      err);
        return;
    }
    if (uuid_v4(m->row_id) < 0) {
        finish_deploy(m, EXIT_OSERR, "cannot make a random id: OpenSSL's RAND_bytes failed");
        return;
    }
    /* record_migration_started(). Our own statements name the schema: a script may have
     * changed search_path. */
    const char *params[] = {m->row_id, mig->checksum, mig->name};
    char sql[512];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (id, checksum, started_at, migration_name)"
             " VALUES ($1, $2, now(), $3)",
             m->table);
    m->phase = PH_INSERT;
    if (query(m, sql, 3, params, on_inserted) < 0)
        finish_deploy(m, EXIT_SOFTWARE, "cannot record '%s' in _prisma_migrations", mig->name);
}

static void deploy_native(struct migst *m)
{
    struct step_run *r = m->r;
    if (!m->pc) {
        step_acted(r, EXIT_SOFTWARE, "no connection to '%s'", m->where);
        return;
    }
    char *id = quote(m, m->url.schema, true);
    if (!id) {
        finish_deploy(m, EXIT_OSERR, "out of memory");
        return;
    }
    /* Prisma runs everything with search_path set to the URL's schema (quaint). The check
     * interval makes the server abort a script whose client died. lock_timeout bounds the
     * wait for the lock on the server, which leaves the loop (and signals) free; 0 waits
     * for ever. Session-level advisory locks survive the end of this implicit transaction. */
    char sql[1024];
    char interval[80] = "";
    if (PQserverVersion(pgconn_pq(m->pc)) >= 140000)
        snprintf(interval, sizeof interval, "SET client_connection_check_interval = %u;",
                 CHECK_INTERVAL_MS);
    uint64_t timeout = r->cfg->migrate.lock_timeout_ms;
    if (timeout > INT_MAX)
        timeout = INT_MAX; /* the server's limit for lock_timeout */
    snprintf(sql, sizeof sql,
             "SET search_path = %s;%sSET lock_timeout = %llu;"
             "SELECT pg_advisory_lock(%d);SET lock_timeout = DEFAULT",
             id, interval, (unsigned long long)timeout, MIGRATIONS_LOCK_KEY);
    free(id);
    m->phase = PH_LOCK;
    m->lock_started_ms = step_now_ms();
    log_debug(NAME, "waiting for advisory lock %d on '%s'", MIGRATIONS_LOCK_KEY, m->where);
    if (query(m, sql, 0, NULL, on_locked) < 0)
        finish_deploy(m, EXIT_SOFTWARE, "cannot ask '%s' for the advisory lock", m->where);
}

static void migrate_act(struct step_run *r)
{
    struct migst *m = r->priv;
    if (r->cfg->migrate.deploy_with == DEPLOY_PRISMA)
        deploy_prisma(m);
    else
        deploy_native(m);
}

/* --- the rest of the interface --------------------------------------------------------- */

static void migrate_cancel(struct step_run *r)
{
    struct migst *m = r->priv;
    if (!m)
        return;
    m->cancelled = true;
    if (!m->pc)
        return;
    /* The process leaves as soon as this returns: a deploy in flight is settled now,
     * synchronously and within a bound, rather than by a loop that will not run again. */
    if (m->query_running && m->phase >= PH_LOCK && m->phase < PH_DONE) {
        log_info(NAME, "cancelling the running statement on '%s'", m->where);
        pgconn_cancel_query(m->pc);
        if (pgconn_drain_sync(m->pc, CANCEL_WAIT_MS) < 0)
            log_warn(NAME,
                     "'%s' did not answer the cancel in time: the server ends the statement "
                     "when it sees the connection close",
                     m->where);
    }
    close_conn(m);
}

static void json_names(struct jsonw *w, const char *key, const char *const *a, size_t n,
                       const char *const *b, size_t nb)
{
    jsonw_key(w, key);
    jsonw_array_begin(w);
    for (size_t i = 0; i < n; i++)
        jsonw_string(w, a[i]);
    for (size_t i = 0; i < nb; i++)
        jsonw_string(w, b[i]);
    jsonw_array_end(w);
}

static void migrate_json(struct step_run *r, struct jsonw *w)
{
    struct migst *m = r->priv;
    const struct migrations_report *p = m && m->have_rep ? &m->rep : NULL;
    static const char *const none[1];
    json_names(w, "applied", p ? p->applied : none, p ? p->napplied : 0, NULL, 0);
    json_names(w, "pending", p ? p->pending : none, p ? p->npending : 0, NULL, 0);
    json_names(w, "failed", p ? p->failed : none, p ? p->nfailed : 0, NULL, 0);
    /* An applied migration whose migration.sql is gone (P3015) is an edit too. */
    json_names(w, "edited", p ? p->edited : none, p ? p->nedited : 0, p ? p->unreadable : none,
               p ? p->nunreadable : 0);
    json_names(w, "missing_locally", p ? p->missing_locally : none, p ? p->nmissing_locally : 0,
               NULL, 0);
    json_names(w, "rolled_back", p ? p->rolled_back : none, p ? p->nrolled_back : 0, NULL, 0);
    jsonw_key(w, "in_progress");
    jsonw_bool(w, p && p->in_progress);
    if (m && m->dir[0]) {
        jsonw_key(w, "dir");
        jsonw_string(w, m->shown);
    }
}

static void migrate_cleanup(struct step_run *r)
{
    struct migst *m = r->priv;
    if (!m)
        return;
    r->priv = NULL;
    close_conn(m);
    /* A thread may still be filling m->list (only when the pipeline ended early): leave it
     * to the process's exit rather than free what it writes to. */
    if (m->work_pending)
        return;
    free_rows(m);
    free(m->script_owned);
    if (m->have_rep)
        migrations_report_free(&m->rep);
    migrations_list_free(&m->list);
    if (m->has_url)
        dburl_free(&m->url);
    free(m->url_text);
    free(m->table);
    for (size_t i = 0; i < sizeof m->argv / sizeof *m->argv; i++)
        free(m->argv[i]);
    if (m->envp) {
        size_t n = 0;
        while (m->envp[n])
            n++;
        free(m->envp[n - 1]); /* ours is the last one; the rest belong to environ */
        free(m->envp);
    }
    free(m);
}

const struct step_ops step_migrate = {
    .name = NAME,
    .id = STEP_MIGRATE,
    .needs = STEP_BIT(STEP_WAIT),
    .check = migrate_check,
    .act = migrate_act,
    .cancel = migrate_cancel,
    .json = migrate_json,
    .cleanup = migrate_cleanup,
};
