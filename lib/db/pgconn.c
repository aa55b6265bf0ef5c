/* libpq driven by libuv. See pgconn.h for the contract. */
#include "db/pgconn.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/exitcodes.h"
#include "base/log.h"

#define PGCONN_DEFAULT_TIMEOUT_MS 5000 /* Prisma's connect_timeout default */

enum state {
    ST_IDLE = 0,
    ST_RESOLVING,
    ST_CONNECTING,
    ST_READY, /* connected, no query running */
    ST_QUERYING,
    ST_FAILED,
};

/* A poll handle lives in its own allocation: replacing it (the socket changed) must not wait
 * for libuv to finish closing the old one. */
struct pollbox {
    uv_poll_t h;
    struct pgconn *c;
};

struct pgconn {
    uv_loop_t *loop;
    const struct dburl *u;
    PGconn *pq;
    enum state state;
    bool closed; /* pgconn_close was called: no more callbacks */
    int pending; /* handles being closed and lookups in flight that still point here */

    uv_getaddrinfo_t gai;
    bool gai_pending;
    uv_timer_t timer;
    struct pollbox *poll;
    int poll_fd;
    int poll_events;
    uint64_t timeout_ms;
    uint64_t started_ms;

    pgconn_connect_fn connect_cb;
    void *connect_data;
    pgconn_query_fn query_cb;
    void *query_data;
    PGresult **results;
    size_t nresults, cap_results;

    char *hosts, *hostaddrs; /* comma lists for libpq, one entry per resolved address */
    char version[64];
};

/* --- classification (pure) ------------------------------------------------------------- */

/* Joins libpq's multi-line text into one line: hint lines (starting with a tab) are dropped,
 * runs of spaces (libpq writes "FATAL:  ") become one, lines are joined with "; ". */
static void one_line(const char *in, char *out, size_t len)
{
    size_t o = 0;
    bool space = false, line_start = true, sep = false;
    if (!len)
        return;
    for (const char *p = in; *p && o + 1 < len; p++) {
        if (line_start && *p == '\t') {
            while (p[1] && p[1] != '\n')
                p++;
            continue;
        }
        if (*p == '\n') {
            line_start = true;
            sep = o > 0;
            continue;
        }
        line_start = false;
        if (*p == ' ' || *p == '\t' || *p == '\r') {
            space = o > 0 && !sep;
            continue;
        }
        if (sep && o + 3 < len) {
            out[o++] = ';';
            out[o++] = ' ';
        } else if (space && o + 2 < len) {
            out[o++] = ' ';
        }
        sep = space = false;
        out[o++] = *p;
    }
    out[o] = '\0';
}

/* libpq's "connection to server at "h", port N failed: " is noise when the caller already
 * says where, unless several addresses were tried (then each one's failure matters); the
 * severity word is noise too. Lowercase start, as every devinit message. */
static void tidy(char *m)
{
    static const char head[] = "connection to server ";
    char *p = m;
    if (!strncmp(p, head, sizeof head - 1) && !strstr(p + 1, head)) {
        char *f = strstr(p, " failed: ");
        if (f)
            p = f + 9;
    }
    static const char *const sev[] = {"FATAL: ", "ERROR: ", "PANIC: "};
    for (size_t i = 0; i < sizeof sev / sizeof *sev; i++)
        if (!strncmp(p, sev[i], strlen(sev[i])))
            p += strlen(sev[i]);
    if (p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'a' && p[1] <= 'z')
        p[0] = (char)(p[0] - 'A' + 'a');
    memmove(m, p, strlen(p) + 1);
}

static bool has(const char *hay, const char *needle)
{
    return hay && strcasestr(hay, needle) != NULL;
}

void pgconn_classify(const struct dburl *u, const char *sqlstate, const char *message,
                     struct pgconn_error *e)
{
    char joined[sizeof e->message * 2];
    one_line(message ? message : "", joined, sizeof joined);
    memset(e, 0, sizeof *e);
    dburl_redact(u, joined, e->message, sizeof e->message);
    tidy(e->message);
    if (!e->message[0])
        snprintf(e->message, sizeof e->message, "unknown error");
    if (sqlstate && *sqlstate)
        snprintf(e->sqlstate, sizeof e->sqlstate, "%.5s", sqlstate);

    const char *m = joined, *s = e->sqlstate;
    /* libpq gives no SQLSTATE for a failed connection: the server's words are all there is
     * (in English unless the server sets lc_messages otherwise). */
    if (!*s) {
        if (has(m, "password authentication failed") || has(m, "SASL authentication failed"))
            s = "28P01";
        else if (has(m, "role \"") && has(m, "\" does not exist"))
            s = "28000";
        else if (has(m, "no pg_hba.conf entry") || has(m, "is not permitted to log in"))
            s = "28000";
        else if (has(m, "permission denied for database"))
            s = "42501";
        else if (has(m, "database \"") && has(m, "\" does not exist"))
            s = "3D000";
        else if (has(m, "the database system is") || has(m, "not yet accepting connections") ||
                 has(m, "not accepting connections"))
            s = "57P03";
        else if (has(m, "too many clients") || has(m, "remaining connection slots"))
            s = "53300";
        else if (has(m, "no password supplied"))
            s = "08004";
        snprintf(e->sqlstate, sizeof e->sqlstate, "%s", s);
    }

    if (!strcmp(s, "28P01") || !strcmp(s, "28000") || !strcmp(s, "08004") ||
        (!strcmp(s, "42501") && has(m, "permission denied for database")) ||
        has(m, "authentication method") || has(m, "peer authentication failed") ||
        has(m, "ident authentication failed")) {
        e->retry = false;
        e->exit_code = EXIT_NOPERM;
    } else if (!strcmp(s, "3D000")) {
        e->retry = false;
        e->exit_code = EXIT_UNAVAILABLE;
    } else if (has(m, "does not support SSL") || has(m, "root certificate") ||
               has(m, "certificate verify failed") || has(m, "sslmode") ||
               has(m, "certificate file") || has(m, "private key file") ||
               has(m, "server certificate for") || has(m, "channel binding") ||
               has(m, "SSL is not supported") || has(m, "SSL error: tlsv1 alert") ||
               has(m, "does not match host name") || has(m, "invalid connection option") ||
               has(m, "invalid integer value")) {
        e->retry = false;
        e->exit_code = EXIT_CONFIG;
    } else {
        e->retry = true;
        e->exit_code = EXIT_UNAVAILABLE;
    }
}

/* --- lifetime -------------------------------------------------------------------------- */

static void maybe_free(struct pgconn *c)
{
    if (!c->closed || c->pending)
        return;
    free(c->hosts);
    free(c->hostaddrs);
    free(c);
}

static void on_poll_closed(uv_handle_t *h)
{
    struct pollbox *b = h->data;
    struct pgconn *c = b->c;
    free(b);
    c->pending--;
    maybe_free(c);
}

static void on_timer_closed(uv_handle_t *h)
{
    struct pgconn *c = h->data;
    c->pending--;
    maybe_free(c);
}

static void drop_poll(struct pgconn *c)
{
    if (!c->poll)
        return;
    /* uv_close stops the watcher at once (epoll DEL while libpq's fd is still open when we
     * are the ones about to close it); the box is freed by the close callback. */
    uv_close((uv_handle_t *)&c->poll->h, on_poll_closed);
    c->pending++;
    c->poll = NULL;
    c->poll_fd = -1;
    c->poll_events = 0;
}

static void clear_results(PGresult **res, size_t n)
{
    for (size_t i = 0; i < n; i++)
        PQclear(res[i]);
    free(res);
}

/* Stops the network side; the object stays valid. */
static void teardown(struct pgconn *c)
{
    uv_timer_stop(&c->timer);
    drop_poll(c);
    if (c->pq) {
        PQfinish(c->pq);
        c->pq = NULL;
    }
    if (c->gai_pending)
        uv_cancel((uv_req_t *)&c->gai); /* the callback still runs, with UV_EAI_CANCELED */
    clear_results(c->results, c->nresults);
    c->results = NULL;
    c->nresults = c->cap_results = 0;
}

struct pgconn *pgconn_new(uv_loop_t *loop, const struct dburl *u)
{
    struct pgconn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->loop = loop;
    c->u = u;
    c->poll_fd = -1;
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    return c;
}

void pgconn_close(struct pgconn *c)
{
    if (!c || c->closed)
        return;
    teardown(c);
    c->closed = true;
    c->state = ST_FAILED;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    c->pending++;
}

PGconn *pgconn_pq(struct pgconn *c)
{
    return c ? c->pq : NULL;
}

const char *pgconn_server_version(struct pgconn *c)
{
    return c ? c->version : "";
}

/* --- connecting ------------------------------------------------------------------------ */

static void connect_failed(struct pgconn *c, const struct pgconn_error *e)
{
    teardown(c);
    c->state = ST_FAILED;
    if (!c->closed && c->connect_cb)
        c->connect_cb(c, -1, e, c->connect_data);
}

static void connect_failed_msg(struct pgconn *c, const char *sqlstate, const char *msg)
{
    struct pgconn_error e;
    pgconn_classify(c->u, sqlstate, msg, &e);
    connect_failed(c, &e);
}

/* For messages devinit composes from non-secret parts (host names, libuv errors): masking a
 * short password inside them would only garble them. */
static void connect_failed_own(struct pgconn *c, const char *msg)
{
    struct pgconn_error e;
    pgconn_classify(NULL, NULL, msg, &e);
    connect_failed(c, &e);
}

static void on_poll(uv_poll_t *h, int status, int events);

/* Watches fd for events, on a fresh uv_poll_t whenever the fd number changed. Even with the
 * same number, the socket behind it may be new (libpq closed one and opened the next inside
 * PQconnectPoll), so the handle is stopped first: libuv then re-registers it with
 * EPOLL_CTL_ADD instead of a MOD that would fail on the new socket. */
static int arm(struct pgconn *c, int fd, int events)
{
    if (c->poll && c->poll_fd != fd)
        drop_poll(c);
    if (!c->poll) {
        struct pollbox *b = calloc(1, sizeof *b);
        if (!b)
            return -ENOMEM;
        int r = uv_poll_init(c->loop, &b->h, fd);
        if (r < 0) {
            free(b);
            return r;
        }
        b->c = c;
        b->h.data = b;
        c->poll = b;
        c->poll_fd = fd;
    } else {
        uv_poll_stop(&c->poll->h);
    }
    c->poll_events = events;
    return uv_poll_start(&c->poll->h, events, on_poll);
}

static void connect_step(struct pgconn *c, PostgresPollingStatusType st)
{
    if (st == PGRES_POLLING_OK) {
        uv_timer_stop(&c->timer);
        drop_poll(c);
        if (PQsetnonblocking(c->pq, 1) != 0) {
            connect_failed_msg(c, NULL, PQerrorMessage(c->pq));
            return;
        }
        const char *v = PQparameterStatus(c->pq, "server_version");
        snprintf(c->version, sizeof c->version, "%s", v ? v : "");
        c->version[strcspn(c->version, " ")] = '\0';
        c->state = ST_READY;
        if (!c->closed && c->connect_cb)
            c->connect_cb(c, 0, NULL, c->connect_data);
        return;
    }
    if (st == PGRES_POLLING_FAILED) {
        connect_failed_msg(c, NULL, PQerrorMessage(c->pq));
        return;
    }
    int fd = PQsocket(c->pq);
    if (fd < 0) {
        connect_failed_own(c, "libpq lost its socket while connecting");
        return;
    }
    int r = arm(c, fd, st == PGRES_POLLING_READING ? UV_READABLE : UV_WRITABLE);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof msg, "cannot watch the database socket: %s", uv_strerror(r));
        connect_failed_own(c, msg);
    }
    return;
}

static void on_connect_timeout(uv_timer_t *t)
{
    struct pgconn *c = t->data;
    char msg[512], where[300];
    dburl_describe(c->u, where, sizeof where);
    if (c->state == ST_RESOLVING)
        snprintf(msg, sizeof msg, "looking up host '%s' took longer than %llu ms", c->u->host,
                 (unsigned long long)c->timeout_ms);
    else
        snprintf(msg, sizeof msg, "no answer from '%s' within %llu ms", where,
                 (unsigned long long)c->timeout_ms);
    struct pgconn_error e;
    pgconn_classify(NULL, NULL, msg, &e); /* our own words: nothing to redact */
    e.retry = true;
    e.exit_code = EXIT_UNAVAILABLE;
    connect_failed(c, &e);
}

static void notice_processor(void *arg, const char *message)
{
    struct pgconn *c = arg;
    char line[512], red[512];
    one_line(message, line, sizeof line);
    dburl_redact(c->u, line, red, sizeof red);
    /* The server's WARNINGs matter to a person; NOTICEs of migrations are routine. */
    if (!strncmp(red, "WARNING", 7))
        log_warn("db", "%s", red);
    else
        log_debug("db", "%s", red);
}

static void start_libpq(struct pgconn *c)
{
    const char *kw[DBURL_MAX_PARAMS + 4], *val[DBURL_MAX_PARAMS + 4];
    size_t n = 0;
    for (size_t i = 0; i < c->u->nparams; i++) {
        if (!strcmp(c->u->keywords[i], "host") && c->hosts)
            continue;
        kw[n] = c->u->keywords[i];
        val[n] = c->u->values[i];
        n++;
    }
    if (c->hosts) {
        kw[n] = "host";
        val[n] = c->hosts;
        n++;
        kw[n] = "hostaddr";
        val[n] = c->hostaddrs;
        n++;
    }
    /* GSS encryption is tried first by default when a Kerberos cache exists, and the Kerberos
     * library may block on its own lookups; Prisma never uses GSS. */
    kw[n] = "gssencmode";
    val[n] = "disable";
    n++;
    kw[n] = NULL;
    val[n] = NULL;

    c->state = ST_CONNECTING;
    c->pq = PQconnectStartParams(kw, val, 0);
    if (!c->pq) {
        struct pgconn_error e;
        pgconn_classify(c->u, NULL, "out of memory starting a libpq connection", &e);
        e.retry = false;
        connect_failed(c, &e);
        return;
    }
    if (PQstatus(c->pq) == CONNECTION_BAD) {
        connect_failed_msg(c, NULL, PQerrorMessage(c->pq));
        return;
    }
    PQsetNoticeProcessor(c->pq, notice_processor, c);
    /* libpq's rule: after PQconnectStart, act as if PQconnectPoll had said WRITING. */
    connect_step(c, PGRES_POLLING_WRITING);
}

static int append(char **list, size_t *len, const char *item)
{
    size_t n = strlen(item);
    char *p = realloc(*list, *len + n + 2);
    if (!p)
        return -ENOMEM;
    if (*len)
        p[(*len)++] = ',';
    memcpy(p + *len, item, n + 1);
    *len += n;
    *list = p;
    return 0;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct pgconn *c = req->data;
    c->gai_pending = false;
    c->pending--;
    if (c->closed || c->state != ST_RESOLVING) {
        uv_freeaddrinfo(res);
        maybe_free(c);
        return;
    }
    if (status < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "could not resolve host '%s': %s", c->u->host,
                 uv_strerror(status));
        uv_freeaddrinfo(res);
        struct pgconn_error e;
        pgconn_classify(NULL, NULL, msg, &e); /* our own words: nothing to redact */
        /* Docker compose registers names late: a name not found yet is worth retrying. */
        e.retry = true;
        e.exit_code = EXIT_UNAVAILABLE;
        connect_failed(c, &e);
        return;
    }
    size_t hl = 0, al = 0;
    int count = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN];
        const void *a = ai->ai_family == AF_INET
                            ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                        : ai->ai_family == AF_INET6
                            ? (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
                            : NULL;
        if (!a || !inet_ntop(ai->ai_family, a, ip, sizeof ip))
            continue;
        /* getaddrinfo may list an address once per protocol; libpq would try each. */
        if (c->hostaddrs) {
            bool dup = false;
            for (const char *p = c->hostaddrs; p && *p;) {
                size_t n = strcspn(p, ",");
                if (n == strlen(ip) && !strncmp(p, ip, n))
                    dup = true;
                p += n + (p[n] == ',');
            }
            if (dup)
                continue;
        }
        if (append(&c->hostaddrs, &al, ip) || append(&c->hosts, &hl, c->u->host)) {
            uv_freeaddrinfo(res);
            connect_failed_own(c, "out of memory");
            return;
        }
        count++;
    }
    uv_freeaddrinfo(res);
    if (!count) {
        char msg[512];
        snprintf(msg, sizeof msg, "could not resolve host '%s': no IPv4 or IPv6 address",
                 c->u->host);
        connect_failed_own(c, msg);
        return;
    }
    start_libpq(c);
}

int pgconn_connect(struct pgconn *c, uint64_t timeout_ms, pgconn_connect_fn cb, void *data)
{
    if (c->closed || c->state != ST_IDLE)
        return -EINVAL;
    c->connect_cb = cb;
    c->connect_data = data;
    if (!timeout_ms) {
        const char *ct = dburl_get(c->u, "connect_timeout");
        timeout_ms = ct ? strtoull(ct, NULL, 10) * 1000u : PGCONN_DEFAULT_TIMEOUT_MS;
    }
    c->timeout_ms = timeout_ms;
    c->started_ms = uv_now(c->loop);
    if (timeout_ms)
        uv_timer_start(&c->timer, on_connect_timeout, timeout_ms, 0);

    if (c->u->host_is_socket || c->u->host_is_ip) {
        if (c->u->host_is_ip) {
            size_t hl = 0, al = 0;
            if (append(&c->hosts, &hl, c->u->host) || append(&c->hostaddrs, &al, c->u->host))
                return -ENOMEM;
        }
        start_libpq(c);
        return 0;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    /* As libpq does: every family, no AI_ADDRCONFIG (it hides ::1 in a container whose only
     * IPv6 address is loopback). */
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->state = ST_RESOLVING;
    c->gai.data = c;
    int r = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->u->host, c->u->port, &hints);
    if (r < 0) {
        uv_timer_stop(&c->timer);
        c->state = ST_IDLE;
        return r;
    }
    c->gai_pending = true;
    c->pending++;
    return 0;
}

/* --- queries --------------------------------------------------------------------------- */

static void query_done(struct pgconn *c, int status, const struct pgconn_error *e)
{
    PGresult **res = c->results;
    size_t n = c->nresults;
    c->results = NULL;
    c->nresults = c->cap_results = 0;
    if (c->state == ST_QUERYING)
        c->state = ST_READY;
    if (c->poll && c->state == ST_READY)
        uv_poll_stop(&c->poll->h);
    pgconn_query_fn cb = c->query_cb;
    c->query_cb = NULL;
    if (!c->closed && cb)
        cb(c, status, res, n, e, c->query_data);
    clear_results(res, n);
}

static void connection_broke(struct pgconn *c)
{
    struct pgconn_error e;
    pgconn_classify(c->u, NULL, PQerrorMessage(c->pq), &e);
    e.retry = true;
    e.exit_code = EXIT_UNAVAILABLE;
    drop_poll(c);
    c->state = ST_FAILED;
    query_done(c, -1, &e);
}

/* Reads every result libpq can give without blocking; ends the query at the NULL one. */
static void drain(struct pgconn *c)
{
    while (!PQisBusy(c->pq)) {
        PGresult *res = PQgetResult(c->pq);
        if (!res) {
            struct pgconn_error e;
            int status = 0;
            PGresult *last = c->nresults ? c->results[c->nresults - 1] : NULL;
            for (size_t i = 0; i < c->nresults; i++) {
                ExecStatusType s = PQresultStatus(c->results[i]);
                if (s == PGRES_FATAL_ERROR || s == PGRES_BAD_RESPONSE ||
                    s == PGRES_NONFATAL_ERROR) {
                    status = -1;
                    last = c->results[i];
                }
            }
            if (status) {
                pgconn_classify(c->u, PQresultErrorField(last, PG_DIAG_SQLSTATE),
                                PQresultErrorMessage(last), &e);
            }
            query_done(c, status, status ? &e : NULL);
            return;
        }
        if (c->nresults == c->cap_results) {
            size_t cap = c->cap_results ? c->cap_results * 2 : 4;
            PGresult **p = realloc(c->results, cap * sizeof *p);
            if (!p) {
                PQclear(res);
                continue; /* drop it; the status of later results still tells */
            }
            c->results = p;
            c->cap_results = cap;
        }
        c->results[c->nresults++] = res;
    }
}

static void query_io(struct pgconn *c, int events)
{
    if (events & UV_WRITABLE) {
        int f = PQflush(c->pq);
        if (f < 0) {
            connection_broke(c);
            return;
        }
        if (f == 0 && (c->poll_events & UV_WRITABLE)) {
            if (arm(c, PQsocket(c->pq), UV_READABLE) < 0) {
                connection_broke(c);
                return;
            }
        }
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(c->pq)) {
            connection_broke(c);
            return;
        }
        drain(c);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct pollbox *b = h->data;
    struct pgconn *c = b->c;
    if (c->closed || b != c->poll)
        return;
    /* On a poll error let libpq find out what happened to the socket. */
    if (status < 0)
        events = UV_READABLE | UV_WRITABLE;
    if (c->state == ST_CONNECTING)
        connect_step(c, PQconnectPoll(c->pq));
    else if (c->state == ST_QUERYING)
        query_io(c, events);
}

int pgconn_query(struct pgconn *c, const char *sql, int nparams, const char *const *params,
                 pgconn_query_fn cb, void *data)
{
    if (c->closed || !c->pq || c->state == ST_FAILED || c->state < ST_READY)
        return -ENOTCONN;
    if (c->state == ST_QUERYING)
        return -EBUSY;
    int ok = params ? PQsendQueryParams(c->pq, sql, nparams, NULL, params, NULL, NULL, 0)
                    : PQsendQuery(c->pq, sql);
    if (!ok) {
        char line[512], red[512];
        one_line(PQerrorMessage(c->pq), line, sizeof line);
        dburl_redact(c->u, line, red, sizeof red);
        log_error("db", "cannot send a query: %s", red);
        return -EIO;
    }
    c->state = ST_QUERYING;
    c->query_cb = cb;
    c->query_data = data;
    int f = PQflush(c->pq);
    if (f < 0) {
        c->state = ST_READY;
        c->query_cb = NULL;
        log_error("db", "cannot send a query: the connection is broken");
        return -EIO;
    }
    int r = arm(c, PQsocket(c->pq), UV_READABLE | (f == 1 ? UV_WRITABLE : 0));
    if (r < 0) {
        c->state = ST_READY;
        c->query_cb = NULL;
        log_error("db", "cannot watch the database socket: %s", uv_strerror(r));
        return r;
    }
    return 0;
}

/* --- settling a statement without the loop: see pgconn.h ------------------------------- */

#include <poll.h>
#include <time.h>

int pgconn_cancel_query(struct pgconn *c)
{
    if (!c || c->closed || !c->pq || c->state != ST_QUERYING)
        return -ENOTCONN;
    PGcancel *cn = PQgetCancel(c->pq);
    if (!cn)
        return -EIO;
    char err[256] = "";
    int ok = PQcancel(cn, err, sizeof err);
    PQfreeCancel(cn);
    if (!ok) {
        char red[256];
        dburl_redact(c->u, err, red, sizeof red);
        log_debug("db", "cannot send a cancel request: %s", red);
        return -EIO;
    }
    return 0;
}

int pgconn_drain_sync(struct pgconn *c, uint64_t timeout_ms)
{
    uint64_t deadline = clock_ms() + timeout_ms;
    /* c stays allocated even if a callback closes it: its memory goes only when the loop
     * runs the close callbacks. */
    while (c && !c->closed && c->state == ST_QUERYING && c->pq) {
        uint64_t now = clock_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        struct pollfd pfd = {.fd = PQsocket(c->pq), .events = POLLIN};
        if (c->poll_events & UV_WRITABLE)
            pfd.events |= POLLOUT;
        int n = poll(&pfd, 1, (int)(deadline - now));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        if (n == 0)
            continue;
        int events = 0;
        if (pfd.revents & (POLLIN | POLLERR | POLLHUP))
            events |= UV_READABLE;
        if (pfd.revents & (POLLOUT | POLLERR | POLLHUP))
            events |= UV_WRITABLE;
        query_io(c, events);
    }
    return 0;
}
