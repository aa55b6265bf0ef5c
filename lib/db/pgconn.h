/* One PostgreSQL connection driven by libpq's non-blocking API on the libuv loop: nothing in
 * here ever blocks the loop, so signals and timers keep running during a connect or query.
 *
 *   - DNS runs on libuv's thread pool (uv_getaddrinfo); libpq gets `hostaddr` plus `host`
 *     (for TLS and messages), because PQconnectStart* would call a blocking getaddrinfo.
 *   - PQconnectPoll is driven by a uv_poll_t. libpq may close its socket and open another one
 *     within one PQconnectPoll call (next address, SSL/GSS fallback), possibly under the same
 *     fd number, so the poll handle is re-armed after every call and replaced when the fd
 *     changes.
 *   - Every connect attempt has its own deadline (libpq enforces connect_timeout only in its
 *     blocking calls).
 *   - Every text libpq produces is passed through dburl_redact(): no password leaves this
 *     module.
 *
 * Lifetime: pgconn_new() → pgconn_connect() → pgconn_query()... → pgconn_close(). A pgconn
 * is single-use for connecting: to retry, close it and make a new one. */
#ifndef DEVINIT_PGCONN_H
#define DEVINIT_PGCONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "db/dburl.h"

struct pgconn;

/* What a failure means for the caller. */
struct pgconn_error {
    bool retry;        /* transient (refused, DNS not found, starting up, timeout...): try again */
    int exit_code;     /* final failures: EXIT_NOPERM (credentials), EXIT_UNAVAILABLE
                        * (unknown database, connection lost), EXIT_CONFIG (TLS settings);
                        * for retryable ones, EXIT_UNAVAILABLE (what a deadline turns it into) */
    char sqlstate[6];  /* "" when unknown (libpq reports none for a failed connection) */
    char message[512]; /* one line, lowercase start, redacted: safe to log and to put in JSON */
};

/* Classifies a failure from its SQLSTATE (may be NULL or "") and libpq's message (may be
 * NULL). The message is copied to e->message after redaction through u (may be NULL) and
 * joined into one line. Pure: unit-tested. The rules:
 *   final 77: 28P01 / "password authentication failed", 28000 / "role ... does not exist",
 *             "no pg_hba.conf entry", "is not permitted to log in", "no password supplied",
 *             "SASL authentication failed", 42501 "permission denied for database";
 *   final 69: 3D000 / "database ... does not exist";
 *   final 78: TLS set-up ("server does not support SSL", certificate/root certificate
 *             problems, "sslmode value", channel binding required but not offered);
 *   retry:    everything else (refused, unreachable, timeout, "starting up", "shutting down",
 *             "not yet accepting connections" 57P03, "too many clients" 53300, connection
 *             lost...). */
void pgconn_classify(const struct dburl *u, const char *sqlstate, const char *message,
                     struct pgconn_error *e);

/* Makes a connection object on loop for u. u must outlive the pgconn (its strings are used
 * by libpq until the connection is established). Returns NULL on allocation failure. */
struct pgconn *pgconn_new(uv_loop_t *loop, const struct dburl *u);

/* status: 0 = connected and authenticated; -1 = failed, err says why (err is NULL on
 * success). Called exactly once per pgconn_connect(), never after pgconn_close(). */
typedef void (*pgconn_connect_fn)(struct pgconn *c, int status, const struct pgconn_error *err,
                                  void *data);

/* Starts connecting: resolve (unless u is a socket or an IP literal), PQconnectStartParams
 * with u's keywords plus hostaddr and gssencmode=disable, then poll. timeout_ms bounds the
 * whole attempt (DNS included); 0 means the URL's connect_timeout (whose 0 means no bound),
 * else 5 s (Prisma's default). A timeout is reported as a retryable error. Returns 0 (cb will run)
 * or -errno (cb will not run). */
int pgconn_connect(struct pgconn *c, uint64_t timeout_ms, pgconn_connect_fn cb, void *data);

/* The results of one query, in order. status: 0 = every result was OK (PGRES_COMMAND_OK,
 * TUPLES_OK, EMPTY_QUERY...); -1 = the server reported an error (the last result is the
 * PGRES_FATAL_ERROR one, err has its SQLSTATE and redacted message) or the connection broke
 * (err->retry set, possibly no result at all). The results belong to pgconn and are
 * PQclear()ed after cb returns; cb may start the next query or close c. */
typedef void (*pgconn_query_fn)(struct pgconn *c, int status, PGresult *const *results,
                                size_t nresults, const struct pgconn_error *err, void *data);

/* Sends one query on a connected pgconn. params == NULL: PQsendQuery (simple protocol, may
 * hold many statements: one implicit transaction unless the text has its own BEGIN/COMMIT).
 * params != NULL: PQsendQueryParams with nparams text parameters ($1..), one statement.
 * Only one query at a time. There is no query timeout: bound waits in SQL (SET
 * lock_timeout / statement_timeout). Returns 0 (cb will run) or -errno: -EBUSY (a query is
 * running), -ENOTCONN (not connected), -EIO (libpq refused; logged). */
int pgconn_query(struct pgconn *c, const char *sql, int nparams, const char *const *params,
                 pgconn_query_fn cb, void *data);

/* The libpq connection, for read-only helpers (PQparameterStatus, PQserverVersion,
 * PQescapeIdentifier...). NULL before a connect started. Never PQfinish it or use it to send
 * queries yourself. */
PGconn *pgconn_pq(struct pgconn *c);

/* "15.4" style server version from the server's server_version parameter, or "" before the
 * connection is established. Valid until pgconn_close(). */
const char *pgconn_server_version(struct pgconn *c);

/* Stops everything at once and frees c: cancels a pending DNS lookup (uv_cancel), PQfinish,
 * closes handles. No callback runs afterwards. The memory is released from the loop once
 * libuv has closed the handles, so it is safe to call from inside any pgconn callback and
 * from a signal path. NULL is allowed. */
void pgconn_close(struct pgconn *c);

/* ---- settling a statement without the loop ----
 * A deploy stopped by a signal must leave _prisma_migrations truthful, and the process exits
 * as soon as the step's cancel returns (the loop never runs again): these two settle the
 * running statement synchronously, within a bound. Only for that path. */

/* Asks the server to cancel the query running on c (PQcancel over a separate connection to
 * the same server: it blocks for that connect and one round trip). The query's callback then
 * gets the server's 57014 error, or its normal result if it finished first. 0; -ENOTCONN when
 * no query is running; -EIO when the request could not be sent (logged at debug level). */
int pgconn_cancel_query(struct pgconn *c);

/* Drives c without the loop: poll(2) on its socket until no query is running or timeout_ms
 * has passed. Query callbacks run as usual, from inside this call; a callback may send the
 * next query (it is driven too) or close c. 0 when no query is running any more (or c was
 * closed); -ETIMEDOUT; -EIO when poll failed. */
int pgconn_drain_sync(struct pgconn *c, uint64_t timeout_ms);

#endif
