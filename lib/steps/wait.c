/* The wait step: the database (a real handshake, login and SELECT 1) and any extra TCP
 * services, polled in parallel on the loop until all are ready, one fails for good, or the
 * deadline passes.
 *
 * check makes the first attempt round. Ready: STEP_OK. A final failure (credentials, unknown
 * database, TLS settings): STEP_ERROR. Not ready yet: in `devinit check` STEP_ERROR 69 (one
 * round, no waiting); otherwise STEP_WOULD_RUN, and act keeps the retries that are already
 * running until everything is ready or [wait] timeout, counted from the start of check.
 *
 * Nothing blocks: DNS on libuv's thread pool, libpq through db/pgconn.c, TCP probes with
 * uv_tcp_connect. A signal (cancel) closes everything at once. */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dburl.h"
#include "config/envfile.h"
#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/file.h"
#include "base/log.h"
#include "db/pgconn.h"
#include "prisma/url.h"
#include "steps/step.h"

#define NAME           "wait"
#define ATTEMPT_MAX_MS 5000u /* per attempt, as Prisma's connect_timeout default */
/* Retry delays: 10, 20, then every 25 ms for the first seconds, so a server that just came up
 * is found within tens of ms; after that every 250 ms, because each attempt on a server in
 * recovery costs it a backend and a FATAL line in its log. */
#define BACKOFF_FIRST_MS    10u
#define BACKOFF_FAST_MS     25u
#define BACKOFF_SLOW_MS     250u
#define BACKOFF_FAST_FOR_MS 5000u
#define PROGRESS_MS         2000u

struct waitst;
struct target;

/* A probe's socket with its request: a closing one may still be finishing while the next
 * attempt starts. */
struct tcpbox {
    uv_tcp_t h;
    uv_connect_t req;
    struct target *t;
};

struct target {
    struct waitst *w;
    bool is_db;
    char label[320]; /* "database at db:5432/app", "service 'redis:6379'"; no password */
    char host[256], port[8];

    uv_timer_t timer; /* retry delay, and the attempt's own deadline */
    bool in_attempt, ready, final;
    unsigned attempts;
    uint64_t backoff_ms;
    int exit_code;    /* with final */
    char reason[512]; /* why the last finished attempt failed; kept while the next one runs */

    /* database */
    struct pgconn *pc;
    /* service */
    uv_getaddrinfo_t gai;
    bool gai_pending;
    struct addrinfo *addrs, *next_addr;
    struct tcpbox *tcp;
    char addr_err[128]; /* the current attempt's last address error, until it ends */
};

struct waitst {
    struct step_run *r;
    struct dburl url;
    bool has_url;
    struct target *t;
    size_t nt;
    uv_timer_t deadline, progress;
    uint64_t start_ms, timeout_ms, attempt_ms;
    bool verdict_given; /* check has ended (WOULD_RUN handed over to act) */
    bool handles_ready; /* timers initialised: stop_all must close them */
    bool finished, stopped, orphaned;
    int open; /* handles not yet closed and lookups in flight */
    char version[64];
    uint64_t ready_ms;
};

static void evaluate(struct waitst *w);
static void attempt(struct target *t);
static void on_retry(uv_timer_t *h);

/* --- lifetime -------------------------------------------------------------------------- */

static void maybe_free(struct waitst *w)
{
    if (!w->orphaned || w->open)
        return;
    for (size_t i = 0; i < w->nt; i++)
        if (w->t[i].addrs)
            uv_freeaddrinfo(w->t[i].addrs);
    dburl_free(&w->url);
    free(w->t);
    free(w);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct waitst *w = h->data;
    w->open--;
    maybe_free(w);
}

static void on_target_timer_closed(uv_handle_t *h)
{
    struct target *t = h->data;
    struct waitst *w = t->w;
    w->open--;
    maybe_free(w);
}

static void on_tcp_closed(uv_handle_t *h)
{
    struct tcpbox *b = h->data;
    struct waitst *w = b->t->w;
    free(b);
    w->open--;
    maybe_free(w);
}

static void close_tcp(struct target *t)
{
    if (!t->tcp)
        return;
    /* The connect callback still runs, with UV_ECANCELED, before on_tcp_closed. */
    uv_close((uv_handle_t *)&t->tcp->h, on_tcp_closed);
    t->tcp = NULL;
}

/* Ends every attempt and timer. Idempotent; the memory goes once the loop has closed all. */
static void stop_all(struct waitst *w)
{
    if (w->stopped)
        return;
    w->stopped = true;
    if (!w->handles_ready)
        return;
    for (size_t i = 0; i < w->nt; i++) {
        struct target *t = &w->t[i];
        pgconn_close(t->pc);
        t->pc = NULL;
        if (t->gai_pending)
            uv_cancel((uv_req_t *)&t->gai);
        close_tcp(t);
        uv_close((uv_handle_t *)&t->timer, on_target_timer_closed);
    }
    uv_close((uv_handle_t *)&w->deadline, on_handle_closed);
    uv_close((uv_handle_t *)&w->progress, on_handle_closed);
}

static uint64_t elapsed(const struct waitst *w)
{
    return clock_ms() - w->start_ms;
}

/* --- one attempt ----------------------------------------------------------------------- */

static void attempt_ended(struct target *t, bool ok, bool retry, int exit_code, const char *why)
{
    struct waitst *w = t->w;
    t->in_attempt = false;
    uv_timer_stop(&t->timer);
    if (w->stopped)
        return;
    if (ok) {
        t->ready = true;
        t->reason[0] = '\0';
    } else {
        snprintf(t->reason, sizeof t->reason, "%s", why);
        if (!retry) {
            t->final = true;
            t->exit_code = exit_code;
        }
        log_debug(NAME, "%s: attempt %u: %s", t->label, t->attempts, t->reason);
    }
    evaluate(w);
    if (w->stopped || ok || !retry || w->r->dry_run)
        return;
    uint64_t cap = elapsed(w) < BACKOFF_FAST_FOR_MS ? BACKOFF_FAST_MS : BACKOFF_SLOW_MS;
    if (t->backoff_ms > cap)
        t->backoff_ms = cap;
    uv_timer_start(&t->timer, on_retry, t->backoff_ms, 0);
    t->backoff_ms = t->backoff_ms * 2 > cap ? cap : t->backoff_ms * 2;
}

static void on_retry(uv_timer_t *h)
{
    attempt(h->data);
}

static void on_attempt_timeout(uv_timer_t *h)
{
    struct target *t = h->data;
    char why[512];
    pgconn_close(t->pc);
    t->pc = NULL;
    if (t->gai_pending)
        uv_cancel((uv_req_t *)&t->gai);
    close_tcp(t);
    snprintf(why, sizeof why, "no answer within %llu ms", (unsigned long long)t->w->attempt_ms);
    attempt_ended(t, false, true, EXIT_UNAVAILABLE, why);
}

static void db_selected(struct pgconn *c, int status, PGresult *const *res, size_t n,
                        const struct pgconn_error *err, void *data)
{
    struct target *t = data;
    struct waitst *w = t->w;
    if (status == 0) {
        snprintf(w->version, sizeof w->version, "%s", pgconn_server_version(c));
        t->pc = NULL;
        pgconn_close(c);
        attempt_ended(t, true, false, 0, NULL);
        return;
    }
    t->pc = NULL;
    pgconn_close(c);
    attempt_ended(t, false, err->retry, err->exit_code, err->message);
}

static void db_connected(struct pgconn *c, int status, const struct pgconn_error *err, void *data)
{
    struct target *t = data;
    if (status == 0) {
        int r = pgconn_query(c, "SELECT 1", 0, NULL, db_selected, t);
        if (r == 0)
            return;
        t->pc = NULL;
        pgconn_close(c);
        attempt_ended(t, false, true, EXIT_UNAVAILABLE, "could not send 'SELECT 1'");
        return;
    }
    t->pc = NULL;
    pgconn_close(c);
    attempt_ended(t, false, err->retry, err->exit_code, err->message);
}

static void svc_try_next(struct target *t);

static void svc_connected(uv_connect_t *req, int status)
{
    struct tcpbox *b = req->data;
    struct target *t = b->t;
    if (status == UV_ECANCELED || b != t->tcp || t->w->stopped || !t->in_attempt)
        return;
    if (status == 0) {
        close_tcp(t);
        attempt_ended(t, true, false, 0, NULL);
        return;
    }
    snprintf(t->addr_err, sizeof t->addr_err, "%s", uv_strerror(status));
    close_tcp(t);
    svc_try_next(t);
}

/* Tries the next resolved address; when none is left the attempt failed with the last
 * address's error (in t->addr_err). */
static void svc_try_next(struct target *t)
{
    struct waitst *w = t->w;
    while (t->next_addr) {
        struct addrinfo *ai = t->next_addr;
        t->next_addr = ai->ai_next;
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        struct tcpbox *b = calloc(1, sizeof *b);
        if (!b)
            break;
        uv_tcp_init(w->r->loop, &b->h);
        b->t = t;
        b->h.data = b;
        b->req.data = b;
        t->tcp = b;
        w->open++;
        int r = uv_tcp_connect(&b->req, &b->h, ai->ai_addr, svc_connected);
        if (r == 0)
            return;
        snprintf(t->addr_err, sizeof t->addr_err, "%s", uv_strerror(r));
        close_tcp(t);
    }
    attempt_ended(t, false, true, EXIT_UNAVAILABLE,
                  t->addr_err[0] ? t->addr_err : "no usable address");
}

static void svc_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct target *t = req->data;
    struct waitst *w = t->w;
    t->gai_pending = false;
    w->open--;
    if (w->stopped || !t->in_attempt) {
        uv_freeaddrinfo(res);
        maybe_free(w);
        return;
    }
    if (status < 0) {
        char why[512];
        uv_freeaddrinfo(res);
        snprintf(why, sizeof why, "could not resolve '%s': %s", t->host, uv_strerror(status));
        attempt_ended(t, false, true, EXIT_UNAVAILABLE, why);
        return;
    }
    if (t->addrs)
        uv_freeaddrinfo(t->addrs);
    t->addrs = res;
    t->next_addr = res;
    /* Not t->reason: the deadline may fire before this attempt ends, and must still say why
     * the last one failed. */
    t->addr_err[0] = '\0';
    svc_try_next(t);
}

static void attempt(struct target *t)
{
    struct waitst *w = t->w;
    if (w->stopped || t->ready || t->final)
        return;
    if (t->gai_pending) {
        /* The last lookup is stuck in a resolver thread and cannot be cancelled: wait for it
         * rather than queue lookups behind it. */
        uv_timer_start(&t->timer, on_retry, BACKOFF_FAST_MS, 0);
        return;
    }
    t->in_attempt = true;
    t->attempts++;
    if (t->is_db) {
        /* The database's own deadline is pgconn's; this timer only guards 'SELECT 1'. */
        uv_timer_start(&t->timer, on_attempt_timeout, w->attempt_ms + 1000, 0);
        t->pc = pgconn_new(w->r->loop, &w->url);
        int r = t->pc ? pgconn_connect(t->pc, w->attempt_ms, db_connected, t) : -ENOMEM;
        if (r < 0) {
            char why[256];
            pgconn_close(t->pc);
            t->pc = NULL;
            snprintf(why, sizeof why, "cannot start a connection: %s", uv_strerror(r));
            attempt_ended(t, false, true, EXIT_UNAVAILABLE, why);
        }
        return;
    }
    uv_timer_start(&t->timer, on_attempt_timeout, w->attempt_ms, 0);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    t->gai.data = t;
    int r = uv_getaddrinfo(w->r->loop, &t->gai, svc_resolved, t->host, t->port, &hints);
    if (r < 0) {
        char why[512];
        snprintf(why, sizeof why, "cannot look up '%s': %s", t->host, uv_strerror(r));
        attempt_ended(t, false, true, EXIT_UNAVAILABLE, why);
        return;
    }
    t->gai_pending = true;
    w->open++;
}

/* --- verdicts -------------------------------------------------------------------------- */

static void remedy(const struct target *t, char *out, size_t len)
{
    if (!t->is_db) {
        out[0] = '\0';
        return;
    }
    if (t->exit_code == EXIT_NOPERM)
        snprintf(out, len, ": check the user and password in the database url");
    else if (t->exit_code == EXIT_UNAVAILABLE && t->final)
        snprintf(out, len,
                 ": create it (createdb, or CREATE DATABASE), or let 'prisma migrate "
                 "dev' create it");
    else if (t->exit_code == EXIT_CONFIG)
        snprintf(out, len, ": check sslmode, sslaccept and sslcert in the database url");
    else
        out[0] = '\0';
}

static void finish(struct waitst *w, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finish(struct waitst *w, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->finished = true;
    stop_all(w);
    struct step_run *r = w->r;
    if (w->verdict_given) {
        step_acted(r, code, "%s", msg);
        return;
    }
    if (code == 0) {
        if (!r->dry_run)
            log_info(NAME, "%s", msg);
        step_checked(r, STEP_OK, 0, "%s", msg);
    } else {
        step_checked(r, STEP_ERROR, code, "%s", msg);
    }
}

static void ready_message(struct waitst *w, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < w->nt && o < len; i++) {
        const struct target *t = &w->t[i];
        int n;
        if (t->is_db)
            n = snprintf(out + o, len - o, "%s%s ready: PostgreSQL %s", o ? "; " : "", t->label,
                         w->version[0] ? w->version : "(unknown version)");
        else
            n = snprintf(out + o, len - o, "%s%s open", o ? "; " : "", t->label);
        if (n < 0)
            break;
        o += (size_t)n;
    }
    if (o < len)
        snprintf(out + o, len - o, " after %llu ms", (unsigned long long)elapsed(w));
}

static void evaluate(struct waitst *w)
{
    if (w->finished || w->stopped)
        return;
    bool all_ready = true, all_tried = true;
    const struct target *waiting = NULL;
    for (size_t i = 0; i < w->nt; i++) {
        const struct target *t = &w->t[i];
        if (t->final) {
            char rem[160];
            remedy(t, rem, sizeof rem);
            finish(w, t->exit_code, "%s: %s%s", t->label, t->reason, rem);
            return;
        }
        if (!t->ready) {
            all_ready = false;
            if (!waiting)
                waiting = t;
        }
        if (!t->ready && (t->attempts == 0 || t->in_attempt))
            all_tried = false;
    }
    if (all_ready) {
        char msg[1024];
        w->ready_ms = elapsed(w);
        ready_message(w, msg, sizeof msg);
        finish(w, 0, "%s", msg);
        return;
    }
    if (w->verdict_given || !all_tried)
        return;
    if (w->r->dry_run || w->timeout_ms == 0) {
        finish(w, EXIT_UNAVAILABLE, "%s is not reachable: %s", waiting->label, waiting->reason);
        return;
    }
    w->verdict_given = true;
    step_checked(w->r, STEP_WOULD_RUN, 0, "waiting for %s: %s (up to %llu s)", waiting->label,
                 waiting->reason, (unsigned long long)(w->timeout_ms + 999) / 1000);
}

static void on_deadline(uv_timer_t *h)
{
    struct waitst *w = h->data;
    const struct target *waiting = NULL;
    size_t n = 0;
    for (size_t i = 0; i < w->nt; i++) {
        if (!w->t[i].ready) {
            if (!waiting)
                waiting = &w->t[i];
            n++;
        }
    }
    if (!waiting)
        return;
    finish(w, EXIT_UNAVAILABLE, "%s not reachable within %.1f s: %s%s", waiting->label,
           (double)w->timeout_ms / 1000.0, waiting->reason[0] ? waiting->reason : "no answer yet",
           n > 1 ? " (and other services)" : "");
}

static void on_progress(uv_timer_t *h)
{
    struct waitst *w = h->data;
    for (size_t i = 0; i < w->nt; i++) {
        const struct target *t = &w->t[i];
        if (t->ready)
            continue;
        log_info(NAME, "waiting for %s: %s (%.1f s of %.1f s)", t->label,
                 t->reason[0] ? t->reason : "first attempt running", (double)elapsed(w) / 1000.0,
                 (double)w->timeout_ms / 1000.0);
    }
}

/* --- set-up ---------------------------------------------------------------------------- */

/* "host:port, [v6]:port". 0 or -EINVAL with err. */
static int parse_services(const char *text, struct target **out, size_t *count, char *err,
                          size_t errlen)
{
    size_t n = 0, cap = 0;
    struct target *v = NULL;
    const char *p = text;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char item[sizeof((struct target *)0)->host];
        if (len >= sizeof item) {
            snprintf(err, errlen, "[wait] services: an entry is too long");
            free(v);
            return -EINVAL;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        p += strcspn(p, ",");

        char *host = item, *colon;
        if (item[0] == '[') {
            char *rb = strchr(item, ']');
            colon = rb && rb[1] == ':' ? rb + 1 : NULL;
            if (rb) {
                *rb = '\0';
                host = item + 1;
            }
        } else {
            colon = strrchr(item, ':');
        }
        char *end = NULL;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == host || !colon[1] || *end || port < 1 || port > 65535) {
            char red[200]; /* a database URL put here by mistake keeps its password */
            snprintf(err, errlen,
                     "[wait] services entry '%s' is not host:port: write e.g. redis:6379",
                     dburl_redact(NULL, item, red, sizeof red));
            free(v);
            return -EINVAL;
        }
        *colon = '\0';
        if (!*host) {
            snprintf(err, errlen, "[wait] services entry has an empty host: write e.g. redis:6379");
            free(v);
            return -EINVAL;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            struct target *nv = realloc(v, (cap + 1) * sizeof *nv);
            if (!nv) {
                free(v);
                return -ENOMEM;
            }
            v = nv;
        }
        struct target *t = &v[n++];
        memset(t, 0, sizeof *t);
        snprintf(t->host, sizeof t->host, "%s", host);
        snprintf(t->port, sizeof t->port, "%ld", port);
        bool v6 = strchr(host, ':') != NULL;
        snprintf(t->label, sizeof t->label, "service '%s%s%s:%ld'", v6 ? "[" : "", host,
                 v6 ? "]" : "", port);
    }
    *out = v;
    *count = n;
    return 0;
}

/* The URL from [database] url, else where Prisma finds it (prisma/url.h). Returns 0, -ENOENT
 * (none anywhere: u says where devinit looked and whether the project needs one), or
 * -ENOMEM. */
static int find_url(struct step_run *r, struct prisma_url *u, char **url, char *from,
                    size_t fromlen)
{
    const struct config *cfg = r->cfg;
    if (cfg->database.url && *cfg->database.url) {
        *url = strdup(cfg->database.url);
        snprintf(from, fromlen, "[database] url");
        return *url ? 0 : -ENOMEM;
    }
    const struct prisma_project *p = step_project(r);
    if (!p)
        return -ENOMEM;
    const struct prisma_settings ps = step_prisma_settings(cfg);
    int rc = prisma_url_find(p, &ps, step_url_var(cfg), u);
    if (rc < 0)
        return rc;
    if (!u->url)
        return -ENOENT;
    *url = u->url;
    u->url = NULL;
    snprintf(from, fromlen, "%s (from %.500s)", u->var, u->from);
    return 0;
}

static void wait_check(struct step_run *r)
{
    const struct config *cfg = r->cfg;
    const char *var =
        cfg->database.url_env && *cfg->database.url_env ? cfg->database.url_env : "DATABASE_URL";
    char err[512];
    struct target *svcs = NULL;
    size_t nsvc = 0;
    int rc = parse_services(cfg->wait.services, &svcs, &nsvc, err, sizeof err);
    if (rc < 0) {
        step_checked(r, STEP_ERROR, rc == -ENOMEM ? EXIT_OSERR : EXIT_CONFIG, "%s", err);
        return;
    }

    char *url = NULL, from[768] = "";
    struct prisma_url pu = {0};
    rc = find_url(r, &pu, &url, from, sizeof from);
    if (rc == -ENOMEM) {
        free(svcs);
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    if (rc == -ELOOP) {
        free(svcs);
        step_checked(r, STEP_ERROR, EXIT_CONFIG,
                     "%s is a symbolic link: devinit runs as root for [app] user '%s' and follows "
                     "no link that user could have planted; replace it with the file itself",
                     pu.from, cfg->app.user);
        return;
    }
    bool has_url = rc == 0;
    if (!has_url && pu.needed) {
        /* Ready would be a guess: nothing tells which database the app and Prisma will use. */
        free(svcs);
        step_checked(r, STEP_ERROR, EXIT_CONFIG,
                     "no %s, which %s needs: looked in %s; set %s (or [database] url)", pu.var,
                     pu.needed_by, pu.looked, pu.var);
        return;
    }
    if (!has_url && !nsvc) {
        free(svcs);
        step_checked(r, STEP_SKIPPED, 0, "no %s", pu.var[0] ? pu.var : var);
        return;
    }

    struct waitst *w = calloc(1, sizeof *w);
    if (!w) {
        free(url);
        free(svcs);
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    r->priv = w;
    w->r = r;
    w->start_ms = clock_ms();
    w->timeout_ms = cfg->wait.timeout_ms;
    w->attempt_ms = r->dry_run || w->timeout_ms == 0 || w->timeout_ms > ATTEMPT_MAX_MS
                        ? ATTEMPT_MAX_MS
                        : w->timeout_ms;
    if (r->dry_run && w->timeout_ms && w->timeout_ms < w->attempt_ms)
        w->attempt_ms = w->timeout_ms;

    if (has_url) {
        rc = dburl_parse(url, &w->url, err, sizeof err);
        free(url);
        if (rc < 0) {
            char red[512];
            free(svcs);
            dburl_redact(NULL, err, red, sizeof red);
            step_checked(r, STEP_ERROR, rc == -ENOMEM ? EXIT_OSERR : EXIT_CONFIG, "%s: %s", from,
                         red);
            return;
        }
        w->has_url = true;
        if (w->url.warning[0])
            log_warn(NAME, "%s", w->url.warning);
        /* In run mode Prisma's connect_timeout bounds each attempt, as it bounds Prisma's. */
        const char *ct = dburl_get(&w->url, "connect_timeout");
        if (!r->dry_run && ct && strtoull(ct, NULL, 10) > 0) {
            uint64_t ms = strtoull(ct, NULL, 10) * 1000u;
            if (ms < w->attempt_ms || w->timeout_ms > ATTEMPT_MAX_MS)
                w->attempt_ms = ms;
        }
    }

    w->nt = nsvc + (w->has_url ? 1 : 0);
    w->t = calloc(w->nt, sizeof *w->t);
    if (!w->t) {
        free(svcs);
        w->nt = 0;
        step_checked(r, STEP_ERROR, EXIT_OSERR, "out of memory");
        return;
    }
    size_t k = 0;
    if (w->has_url) {
        char where[300];
        struct target *t = &w->t[k++];
        t->is_db = true;
        snprintf(t->label, sizeof t->label, "database at %s",
                 dburl_describe(&w->url, where, sizeof where));
        log_debug(NAME, "database url from %s: %s", from, where);
    }
    for (size_t i = 0; i < nsvc; i++)
        w->t[k++] = svcs[i];
    free(svcs);

    uv_timer_init(r->loop, &w->deadline);
    uv_timer_init(r->loop, &w->progress);
    w->deadline.data = w->progress.data = w;
    w->open += 2;
    for (size_t i = 0; i < w->nt; i++) {
        struct target *t = &w->t[i];
        t->w = w;
        t->backoff_ms = BACKOFF_FIRST_MS;
        uv_timer_init(r->loop, &t->timer);
        t->timer.data = t;
        w->open++;
    }
    w->handles_ready = true;
    if (!r->dry_run && w->timeout_ms) {
        uv_timer_start(&w->deadline, on_deadline, w->timeout_ms, 0);
        uv_timer_start(&w->progress, on_progress, PROGRESS_MS, PROGRESS_MS);
    }
    for (size_t i = 0; i < w->nt && !w->stopped; i++)
        attempt(&w->t[i]);
}

static void wait_act(struct step_run *r)
{
    /* The retries started by check keep running; evaluate() or the deadline ends the act. */
}

static void wait_cancel(struct step_run *r)
{
    struct waitst *w = r->priv;
    if (w)
        stop_all(w);
}

static void wait_json(struct step_run *r, struct jsonw *j)
{
    struct waitst *w = r->priv;
    jsonw_key(j, "server_version");
    if (w && w->version[0])
        jsonw_string(j, w->version);
    else
        jsonw_null(j);
    if (!w)
        return;
    jsonw_key(j, "targets");
    jsonw_array_begin(j);
    for (size_t i = 0; i < w->nt; i++) {
        const struct target *t = &w->t[i];
        jsonw_object_begin(j);
        jsonw_key(j, "what");
        jsonw_string(j, t->label);
        jsonw_key(j, "ready");
        jsonw_bool(j, t->ready);
        jsonw_key(j, "attempts");
        jsonw_int(j, t->attempts);
        if (!t->ready) {
            jsonw_key(j, "last_error");
            jsonw_string(j, t->reason);
        }
        jsonw_object_end(j);
    }
    jsonw_array_end(j);
}

static void wait_cleanup(struct step_run *r)
{
    struct waitst *w = r->priv;
    if (!w)
        return;
    r->priv = NULL;
    stop_all(w);
    w->orphaned = true;
    maybe_free(w);
}

const struct step_desc step_wait = {
    .name = NAME,
    .summary = "wait until the database and services accept",
    .flags = STEP_ON_MIGRATIONS | STEP_USES_DATABASE | STEP_STATUS_PROBE,
    .needs = 0,
    .check = wait_check,
    .act = wait_act,
    .cancel = wait_cancel,
    .json = wait_json,
    .cleanup = wait_cleanup,
};
