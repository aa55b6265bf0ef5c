/* Prisma Migrate's bookkeeping in PostgreSQL, spoken natively over one pgconn session: the
 * state of `_prisma_migrations` and of Prisma's advisory lock in one read-only round trip,
 * and `migrate deploy` as prisma-engines does it (apply_migrations.rs,
 * sql_migration_persistence.rs, flavour/postgres.rs): the advisory lock with a timeout
 * (P1002), the table with Prisma's exact DDL, then per migration one row with a random UUID
 * v4, the whole migration.sql as one simple-protocol query, and finished_at +
 * applied_steps_count on success or logs and a stop (P3018) on failure.
 *
 * What to apply is not decided here: the owner (the migrate step) judges the state by
 * prisma/migrations.c's rules, once for the check and again under the lock.
 *
 * Signals: the lock is awaited by the server (pg_advisory_lock under SET lock_timeout), so the
 * loop stays free. migrate_native_cancel() settles a statement in flight synchronously and
 * within a bound, and records it as Prisma records a failure: the row keeps finished_at NULL
 * and gets the error in logs, so the next deploy stops with P3009 and `migrate resolve
 * --rolled-back` is the documented way on. PostgreSQL rolls the script's implicit transaction
 * back. A row inserted but whose script never started is deleted: the migration is simply
 * still pending. If devinit is killed outright, the server notices the closed connection
 * within client_connection_check_interval (PostgreSQL 14+), aborts the script and releases
 * the lock; the row then says failed with empty logs, as after a killed `prisma migrate
 * deploy`. Progress is logged under the "migrate" step. */
#ifndef DEVINIT_MIGRATE_NATIVE_H
#define DEVINIT_MIGRATE_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/dburl.h"
#include "db/pgconn.h"
#include "prisma/migrations.h"

/* The longest error text kept from a row's logs or a failed script. */
#define MIGRATE_NATIVE_LOGS_MAX 2000

struct migrate_native;

/* What the database says. rows are valid until the next read or migrate_native_close(). */
struct migrate_native_state {
    bool schema_exists; /* the URL's schema */
    bool has_table;     /* _prisma_migrations in it */
    bool in_progress;   /* another session holds Prisma's advisory lock */
    long other_tables;  /* tables in the schema besides _prisma_migrations (and PostGIS's) */
    struct migration_row *rows; /* ORDER BY started_at */
    size_t nrows;
};

/* The end of a read or a deploy: code 0, or a documented exit code with a one-line message
 * (no password; the caller adds nothing but its step's name). */
typedef void (*migrate_native_fn)(struct migrate_native *mn, int code, const char *message,
                                  void *data);

/* Under the lock, with the state just read again: which migrations of the list to apply, in
 * order (indices into list->items; the array must stay valid until the deploy ends). Returns
 * 0 to apply them, or an exit code: the deploy then ends with it. message says why in both
 * cases when nothing is applied. */
typedef int (*migrate_native_plan_fn)(struct migrate_native *mn,
                                      const struct migrate_native_state *st, const size_t **apply,
                                      size_t *napply, char *message, size_t len, void *data);

/* Takes over pc, which must be connected, and closes it on every path (also when NULL is
 * returned: out of memory). u (schema, redaction) and where ("db:5432/app", for messages)
 * must outlive the session. */
struct migrate_native *migrate_native_open(struct pgconn *pc, const struct dburl *u,
                                           const char *where);

/* Bounds each query on _prisma_migrations (the reads and the rows' writes, not the migration
 * scripts) to timeout_ms, lock waits included (0: no bound). A wait for a lock is reported
 * every few seconds, naming the session that holds it; the deadline ends the read or the
 * deploy with EXIT_UNAVAILABLE. */
void migrate_native_set_timeout(struct migrate_native *mn, uint64_t timeout_ms);

/* Reads the state; done runs once from the loop. 0, or -errno when the query could not be
 * sent (done does not run then). */
int migrate_native_read(struct migrate_native *mn, migrate_native_fn done, void *data);

/* The state of the last successful read. */
const struct migrate_native_state *migrate_native_state(const struct migrate_native *mn);

/* Deploys list (whose folder is dir; shown names it in messages): lock, read the state again,
 * plan(), create the table when needed, apply. done runs once, with 0 and "applied N
 * migrations: ..." (or plan's message), or the code and the reason. The session stays open
 * until migrate_native_close(), which releases the lock. */
void migrate_native_deploy(struct migrate_native *mn, uint64_t lock_timeout_ms,
                           const struct migration_list *list, const char *dir, const char *shown,
                           migrate_native_plan_fn plan, migrate_native_fn done, void *data);

/* A signal: no callback runs any more. A statement of a deploy in flight is cancelled and its
 * outcome recorded before this returns (the process may exit right after). */
void migrate_native_cancel(struct migrate_native *mn);

/* Whether the session is still open. */
bool migrate_native_connected(const struct migrate_native *mn);

/* Closes the session (releasing the lock); the state stays readable (the report built on it
 * points into its rows). NULL is fine. */
void migrate_native_disconnect(struct migrate_native *mn);

/* Closes the session and frees mn, its state included. NULL is fine. */
void migrate_native_close(struct migrate_native *mn);

#endif
