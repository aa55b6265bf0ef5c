/* The migrate step: `_prisma_migrations` against the migrations folder, under the [migrate]
 * policies, and `migrate deploy` when mode = deploy.
 *
 * check: read the folder (prisma/migrations.c) on libuv's thread pool while connecting
 * (db/pgconn.c), then read the table and whether another session holds Prisma Migrate's
 * advisory lock in one read-only round trip (db/migrate_native.c); classify and judge. It
 * never writes and never takes the lock, so `devinit check` changes nothing.
 *
 * act (mode = deploy, something to apply):
 *   - deploy_with = native: db/migrate_native.c, on the check's connection; under the lock the
 *     state is judged again here, since another replica may have deployed meanwhile;
 *   - deploy_with = prisma: `node_modules/.bin/prisma migrate deploy` as a supervised child,
 *     the CLI and folder the generate step uses (in a workspace, the schema's package). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/exitcodes.h"
#include "base/log.h"
#include "base/path.h"
#include "config/envfile.h"
#include "db/dburl.h"
#include "db/migrate_native.h"
#include "db/pgconn.h"
#include "prisma/migrations.h"
#include "prisma/url.h"
#include "steps/step.h"

#define NAME "migrate"

extern char **environ;

struct migst {
    struct step_run *r;
    struct dburl url;
    bool has_url;
    char url_var[128];
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

    struct pgconn *pc;         /* while connecting */
    struct migrate_native *db; /* once connected */
    struct migrations_report rep;
    bool have_rep;
    struct migrations_judgement j;
    size_t checked_napply; /* what the check found to apply (or being applied elsewhere) */

    /* prisma engine */
    char *argv[8];
    char **envp;
};

/* --- small helpers --------------------------------------------------------------------- */

/* Ends the database session; what it read stays for the report and --json. */
static void close_conn(struct migst *m)
{
    if (m->pc) {
        pgconn_close(m->pc);
        m->pc = NULL;
    }
    migrate_native_disconnect(m->db);
}

/* A one-line reason from the judgement: the failing issues (or the warnings), joined. When
 * they do not fit, all but the first are logged on their own lines first and the reason (which
 * its caller logs) is the first one, pointing at them: each is said once. */
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
        if (!fits && n > 0) {
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

/* --- where things are ------------------------------------------------------------------ */

/* The URL from [database] url, else where Prisma finds it (prisma/url.h): the same sources
 * as the wait step. 0, -ENOENT (u says where devinit looked and whether the project needs a
 * URL), or -ENOMEM. */
static int find_url(struct step_run *r, struct migst *m, struct prisma_url *u, char **url)
{
    const struct config *cfg = r->cfg;
    if (cfg->database.url && *cfg->database.url) {
        snprintf(m->url_var, sizeof m->url_var, "[database] url");
        *url = strdup(cfg->database.url);
        return *url ? 0 : -ENOMEM;
    }
    const struct prisma_project *p = step_project(r);
    if (!p)
        return -ENOMEM;
    const struct prisma_settings ps = step_prisma_settings(cfg);
    int rc = prisma_url_find(p, &ps, step_url_var(cfg), u);
    snprintf(m->url_var, sizeof m->url_var, "%s", u->var);
    if (rc < 0)
        return rc;
    if (!u->url)
        return -ENOENT;
    m->url_from_env = strcmp(u->from, "the environment") == 0;
    *url = u->url;
    u->url = NULL;
    return 0;
}

/* The folder (prisma_project_migrations), and its name for messages: relative to the app. */
static void find_dir(struct step_run *r, struct migst *m)
{
    const struct config *cfg = r->cfg;
    const char *app = cfg->app.dir ? cfg->app.dir : "";
    const struct prisma_settings ps = step_prisma_settings(cfg);
    char warn[1024];
    prisma_project_migrations(step_project(r), &ps, m->dir, sizeof m->dir, warn, sizeof warn);
    if (warn[0])
        log_warn(NAME, "%s", warn);
    size_t al = strlen(app);
    while (al > 1 && app[al - 1] == '/')
        al--;
    if (al && !strncmp(m->dir, app, al) && m->dir[al] == '/')
        snprintf(m->shown, sizeof m->shown, "%s", m->dir + al + 1);
    else
        snprintf(m->shown, sizeof m->shown, "%s", m->dir);
}

/* Classifies the folder against the state just read and judges it under mode. 0 or -ENOMEM
 * (-errno). */
static int judge(struct migst *m, const struct migrate_native_state *st, enum migrate_mode mode)
{
    if (m->have_rep)
        migrations_report_free(&m->rep);
    m->have_rep = false;
    int rc = migrations_classify(&m->list, st->rows, st->nrows, st->has_table, st->in_progress,
                                 st->other_tables, &m->rep);
    if (rc < 0)
        return rc;
    m->have_rep = true;
    const struct config *cfg = m->r->cfg;
    migrations_judge(&m->rep, &m->list, m->shown, m->url.schema, mode, cfg->migrate.pending,
                     cfg->migrate.edited, cfg->migrate.missing_locally, cfg->migrate.failed, &m->j);
    return 0;
}

static void conclude_check(struct migst *m)
{
    struct step_run *r = m->r;
    char reason[sizeof r->reason];
    /* `devinit check` answers "does something need doing?", whatever the start-up policy. */
    r->needs_action = m->j.needs_action;
    m->checked_napply = m->rep.nto_apply + m->rep.nin_flight;
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

static void on_state_read(struct migrate_native *mn, int code, const char *message, void *data)
{
    struct migst *m = data;
    if (code != 0) {
        close_conn(m);
        step_checked(m->r, STEP_ERROR, code, "%s", message);
        return;
    }
    if (judge(m, migrate_native_state(mn), m->r->cfg->migrate.mode) < 0) {
        close_conn(m);
        step_checked(m->r, STEP_ERROR, EXIT_OSERR, "cannot read the answer of '%s'", m->where);
        return;
    }
    conclude_check(m);
}

/* Both the folder and the connection are ready (or one failed): go on. */
static void proceed(struct migst *m)
{
    if (m->r->cancelled || m->work_pending || !m->conn_done)
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
    m->db = migrate_native_open(m->pc, &m->url, m->where);
    m->pc = NULL; /* the session owns it now, also when it could not be had */
    if (!m->db) {
        step_checked(m->r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    migrate_native_set_timeout(m->db, m->r->cfg->migrate.timeout_ms);
    if (migrate_native_read(m->db, on_state_read, m) < 0) {
        close_conn(m);
        step_checked(m->r, STEP_ERROR, EXIT_SOFTWARE, "cannot query '%s'", m->where);
    }
}

static void on_connected(struct pgconn *c, int status, const struct pgconn_error *e, void *data)
{
    struct migst *m = data;
    m->conn_done = true;
    if (m->r->cancelled)
        return;
    if (status < 0) {
        m->pc = NULL;
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
    struct prisma_url pu = {0};
    int urc = find_url(r, m, &pu, &url);
    if (urc == -ENOMEM) {
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    if (urc == -ELOOP) {
        step_checked(r, STEP_ERROR, EXIT_CONFIG,
                     "%s is a symbolic link: devinit runs as root for [app] user '%s' and follows "
                     "no link that user could have planted; replace it with the file itself",
                     pu.from, cfg->app.user);
        return;
    }
    if (urc < 0 && pu.needed) {
        step_checked(r, STEP_ERROR, EXIT_CONFIG,
                     "no %s, which %s needs: looked in %s; set %s (or [database] url)", pu.var,
                     pu.needed_by, pu.looked, pu.var);
        return;
    }
    if (urc < 0) {
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

    find_dir(r, m);
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

/* Where Prisma's CLI runs, as the generate step runs it: the CLI Node resolves from the
 * schema's folder (in a workspace the schema's package may have its own node_modules, or use
 * the root's), in the schema's package. When no schema was found, or no CLI resolves from
 * it: the app's node_modules/.bin/prisma, in the app. bin and cwd are absolute. */
static void prisma_cli(struct step_run *r, const char *app_real, char *bin, size_t binlen,
                       char *cwd, size_t cwdlen)
{
    const struct prisma_project *p = step_project(r);
    char from[PATH_MAX], from_real[PATH_MAX], version[64], pkgdir[PATH_MAX], nm[PATH_MAX];
    snprintf(cwd, cwdlen, "%s", app_real);
    path_join(app_real, "node_modules/.bin/prisma", bin, binlen);
    if (!p || !p->found)
        return;
    if (p->schema_is_dir)
        snprintf(from, sizeof from, "%s", p->schema);
    else
        path_dirname(p->schema, from, sizeof from);
    if (!realpath(*from ? from : ".", from_real))
        return;
    if (prisma_package_version(from_real, "prisma", version, sizeof version, pkgdir,
                               sizeof pkgdir) < 0)
        return;
    path_dirname(pkgdir, nm, sizeof nm); /* node_modules/prisma -> node_modules/.bin */
    path_join(nm, ".bin/prisma", bin, binlen);
    prisma_package_root(from_real, app_real, cwd, cwdlen);
}

/* "--name=<path>", the path as the CLI in cwd reads it: relative to cwd when inside it. */
static char *path_option(const char *name, const char *path, const char *cwd)
{
    char abs[PATH_MAX], *out;
    if (!realpath(path, abs))
        snprintf(abs, sizeof abs, "%s", path);
    return asprintf(&out, "--%s=%s", name, path_inside(cwd, abs)) < 0 ? NULL : out;
}

/* Whether the project's config file is one the CLI finds by itself in cwd. */
static bool config_in(const struct prisma_project *p, const char *cwd)
{
    char real[PATH_MAX], dir[PATH_MAX];
    if (!realpath(p->config, real))
        return false;
    path_dirname(real, dir, sizeof dir);
    return strcmp(dir, cwd) == 0;
}

static void deploy_prisma(struct migst *m)
{
    struct step_run *r = m->r;
    const struct config *cfg = r->cfg;
    const char *app = cfg->app.dir && *cfg->app.dir ? cfg->app.dir : ".";
    char app_real[PATH_MAX], bin[PATH_MAX], cwd[PATH_MAX];
    if (!realpath(app, app_real)) {
        step_acted(r, EXIT_CONFIG, "app directory '%s': %s", app, strerror(errno));
        return;
    }
    prisma_cli(r, app_real, bin, sizeof bin, cwd, sizeof cwd);
    if (access(bin, X_OK) != 0) {
        step_acted(r, EXIT_SOFTWARE,
                   "cannot run '%s': %s: install prisma (npm install -D prisma) or set "
                   "[migrate] deploy_with = native",
                   path_inside(app_real, bin), strerror(errno));
        return;
    }
    const struct prisma_project *p = step_project(r);
    size_t k = 0;
    m->argv[k++] = strdup(path_inside(cwd, bin));
    m->argv[k++] = strdup("migrate");
    m->argv[k++] = strdup("deploy");
    /* What the user named, as named; else what Prisma in cwd would not find by itself: a
     * schema named in the app's package.json, or any the config does not name once cwd is
     * not the app; a config file outside cwd. */
    char schema_path[PATH_MAX], config_path[PATH_MAX];
    const char *schema = NULL, *config = NULL;
    if (cfg->prisma.schema && *cfg->prisma.schema) {
        if (path_join(app_real, cfg->prisma.schema, schema_path, sizeof schema_path) < 0) {
            step_acted(r, EXIT_CONFIG, "[prisma] schema is longer than a path can be");
            return;
        }
        schema = schema_path;
    } else if (p && p->found && p->origin != PRISMA_FROM_CONFIG_FILE &&
               (p->origin == PRISMA_FROM_PACKAGE_JSON || strcmp(cwd, app_real) != 0)) {
        schema = p->schema;
    }
    if (schema)
        m->argv[k++] = path_option("schema", schema, cwd);
    if (cfg->prisma.config && *cfg->prisma.config) {
        if (path_join(app_real, cfg->prisma.config, config_path, sizeof config_path) < 0) {
            step_acted(r, EXIT_CONFIG, "[prisma] config is longer than a path can be");
            return;
        }
        config = config_path;
    } else if (p && p->config[0] && !config_in(p, cwd)) {
        config = p->config;
    }
    if (config)
        m->argv[k++] = path_option("config", config, cwd);
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
    if (step_exec(r, m->argv, envp, cwd, on_prisma_done) < 0)
        step_acted(r, EXIT_SOFTWARE, "cannot run '%s'", bin);
}

/* --- deploy natively ------------------------------------------------------------------- */

/* Under the lock: the state judged again, since another replica may have deployed. */
static int plan(struct migrate_native *mn, const struct migrate_native_state *st,
                const size_t **apply, size_t *napply, char *message, size_t len, void *data)
{
    struct migst *m = data;
    if (judge(m, st, MIGRATE_DEPLOY) < 0) {
        snprintf(message, len, "cannot read the answer of '%s'", m->where);
        return EXIT_OSERR;
    }
    if (m->j.verdict == MIGRATIONS_FAIL) {
        compose(&m->j, true, message, len);
        return m->j.exit_code;
    }
    /* A replica that waited for the lock finds another one's work done: say so, rather than
     * contradict the "N migrations to apply" of its check. */
    size_t before = m->checked_napply, now = m->rep.nto_apply;
    if (!now) {
        if (before)
            snprintf(message, len,
                     "nothing left to apply: another instance applied the %zu %s while this one "
                     "waited for Prisma Migrate's advisory lock; %s",
                     before, before == 1 ? "migration" : "migrations", m->j.summary);
        else
            snprintf(message, len, "nothing to apply: %s", m->j.summary);
        return 0;
    }
    if (now < before)
        log_info(NAME,
                 "another instance applied %zu of the %zu migrations while this one waited for "
                 "Prisma Migrate's advisory lock: %zu left to apply",
                 before - now, before, now);
    *apply = m->rep.to_apply;
    *napply = m->rep.nto_apply;
    return 0;
}

static void on_deployed(struct migrate_native *mn, int code, const char *message, void *data)
{
    struct migst *m = data;
    /* Closing the session releases the advisory lock. */
    close_conn(m);
    step_acted(m->r, code, "%s", message);
}

static void migrate_act(struct step_run *r)
{
    struct migst *m = r->priv;
    if (r->cfg->migrate.deploy_with == DEPLOY_PRISMA) {
        deploy_prisma(m);
        return;
    }
    if (!m->db || !migrate_native_connected(m->db)) {
        step_acted(r, EXIT_SOFTWARE, "no connection to '%s'", m->where);
        return;
    }
    migrate_native_deploy(m->db, r->cfg->migrate.lock_timeout_ms, &m->list, m->dir, m->shown, plan,
                          on_deployed, m);
}

/* --- the rest of the interface --------------------------------------------------------- */

static void migrate_cancel(struct step_run *r)
{
    struct migst *m = r->priv;
    if (!m)
        return;
    /* The process leaves as soon as this returns: a deploy in flight is settled now. */
    migrate_native_cancel(m->db);
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

/* "pending" is what `migrate deploy` would apply, as Prisma's status counts it: migrations
 * with no row, those whose rows are all rolled back (deploy re-applies them; they are in
 * "rolled_back" too), and those whose row another deploy is writing right now (in_progress):
 * until it finishes they are not applied. In folder order. */
static void json_pending(struct jsonw *w, const struct migst *m, const struct migrations_report *p)
{
    jsonw_key(w, "pending");
    jsonw_array_begin(w);
    bool *mark = p && m->list.count ? calloc(m->list.count, sizeof *mark) : NULL;
    if (mark) {
        for (size_t k = 0; k < p->nto_apply; k++)
            mark[p->to_apply[k]] = true;
        for (size_t k = 0; k < p->nin_flight; k++) {
            long i = migrations_list_find(&m->list, p->in_flight[k]);
            if (i >= 0)
                mark[i] = true;
        }
        for (size_t i = 0; i < m->list.count; i++)
            if (mark[i])
                jsonw_string(w, m->list.items[i].name);
        free(mark);
    } else if (p) {
        /* no memory for the marks: at least the ones with no row */
        for (size_t i = 0; i < p->npending; i++)
            jsonw_string(w, p->pending[i]);
    }
    jsonw_array_end(w);
}

static void migrate_json(struct step_run *r, struct jsonw *w)
{
    struct migst *m = r->priv;
    const struct migrations_report *p = m && m->have_rep ? &m->rep : NULL;
    static const char *const none[1];
    json_names(w, "applied", p ? p->applied : none, p ? p->napplied : 0, NULL, 0);
    json_pending(w, m, p);
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
    /* The report points into the session's rows: it goes first. */
    if (m->have_rep)
        migrations_report_free(&m->rep);
    m->have_rep = false;
    migrate_native_close(m->db);
    /* A thread may still be filling m->list (only when the pipeline ended early): leave it
     * to the process's exit rather than free what it writes to. */
    if (m->work_pending)
        return;
    migrations_list_free(&m->list);
    if (m->has_url)
        dburl_free(&m->url);
    free(m->url_text);
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

const struct step_desc step_migrate = {
    .name = NAME,
    .summary = "migration status, or deploy",
    .flags = STEP_ON_MIGRATIONS | STEP_USES_DATABASE,
    .needs = STEP_BIT(STEP_WAIT),
    .check = migrate_check,
    .act = migrate_act,
    .cancel = migrate_cancel,
    .json = migrate_json,
    .cleanup = migrate_cleanup,
};
