/* Prisma Migrate's bookkeeping, without a database: the local migrations folder, the
 * checksums of migration.sql, and the comparison of the folder with the rows of
 * `_prisma_migrations`. The rules are Prisma's own (prisma-engines `checksum.rs`,
 * `migrations_directory.rs`, `diagnose_migration_history.rs`, `apply_migrations.rs`; the
 * CLI's `listMigrations.ts`, `MigrateStatus.ts`). Everything here but migrations_read_dir()
 * and migrations_load_script() is pure and unit-tested in tests/unit/test_migrations.c. */
#ifndef DEVINIT_MIGRATIONS_H
#define DEVINIT_MIGRATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/hash.h"
#include "config/config.h"

#define MIGRATIONS_CHECKSUM_LEN 64
/* Prisma's advisory lock key for Migrate (flavour/postgres.rs). */
#define MIGRATIONS_LOCK_KEY 72707369
/* What read_provider_from_lock_file() answers when no line starts with "provider". */
#define MIGRATIONS_PROVIDER_NOT_FOUND "<PROVIDER NOT FOUND>"

/* A migration.sql up to this size is kept in memory; a larger one is hashed while it is read
 * and read again only to be applied, so a huge file costs its size once, at deploy. */
#define MIGRATIONS_KEEP_MAX (1024 * 1024)

/* One directory of the migrations folder. */
struct migration_local {
    char *name; /* the folder's name: the migration's name */
    /* migration.sql's bytes (NUL-terminated for convenience); NULL when it could not be read
     * (script_errno says why) or was larger than MIGRATIONS_KEEP_MAX (script_errno 0: the
     * checksums below stand for it, migrations_load_script() reads it). */
    unsigned char *script;
    size_t script_len;
    int script_errno; /* 0 when migration.sql was read, else why not (ENOENT...) */
    char checksum[MIGRATIONS_CHECKSUM_LEN + 1]; /* hex sha256 of the bytes; "" without script */
    /* A file not kept: the sha256 with every CRLF turned into LF ("" when it has no CRLF),
     * and with every LF turned into CRLF ("" when it has no LF). */
    char checksum_lf[MIGRATIONS_CHECKSUM_LEN + 1];
    char checksum_crlf[MIGRATIONS_CHECKSUM_LEN + 1];
    unsigned name_issues; /* MIGRATION_NAME_* */
    /* migration.sql holds a NUL byte, the first at offset nul_at: libpq sends a query as a C
     * string, so only the SQL before it would run (and the row record the whole file). */
    bool has_nul;
    size_t nul_at;
};

enum {
    MIGRATION_NAME_CHARS = 1u << 0,      /* a byte outside [0-9a-z_] */
    MIGRATION_NAME_SAME_STAMP = 1u << 1, /* its leading timestamp is another one's too */
    /* not valid UTF-8: PostgreSQL refuses it in migration_name (and Prisma, reading the
     * folder through Node, would record U+FFFD in its place) */
    MIGRATION_NAME_NOT_UTF8 = 1u << 2,
};

struct migration_list {
    struct migration_local *items; /* sorted by name, bytewise */
    size_t count, cap;
    bool dir_exists;
    /* The provider of migration_lock.toml as Prisma reads it; NULL when there is no file. */
    char *lock_provider;
};

/* Reads the migrations folder dir as Prisma's CLI does (listMigrations.ts): every directory
 * entry that is a directory is a migration, hidden ones included; plain files and symlinks
 * are ignored; a folder without a readable migration.sql is kept (script_errno says why). A
 * missing folder is an empty list (dir_exists false). Sorted bytewise; name issues are set.
 * 0; or -errno with a one-line message in err (folder unreadable, out of memory). list is
 * filled on success only; free it with migrations_list_free(). */
int migrations_read_dir(const char *dir, struct migration_list *list, char *err, size_t errlen);

void migrations_list_free(struct migration_list *list);

/* Adds one migration (copies name and script; script NULL = no migration.sql, with errno
 * err). For tests and for callers that build a list themselves; call migrations_list_sort()
 * after the last one. 0 or -ENOMEM. */
int migrations_list_add(struct migration_list *list, const char *name, const void *script,
                        size_t len, int err);

/* Sorts bytewise and recomputes name issues. */
void migrations_list_sort(struct migration_list *list);

/* Index of the migration called name, or -1. The list must be sorted. */
long migrations_list_find(const struct migration_list *list, const char *name);

/* The provider written in migration_lock.toml text, exactly as prisma-engines'
 * read_provider_from_lock_file(): the first line starting with "provider", with every leading
 * "provider = " and every surrounding '"' trimmed; MIGRATIONS_PROVIDER_NOT_FOUND when there is
 * no such line. Writes into out (truncated to outlen - 1). */
void migrations_lock_provider(const char *text, size_t len, char *out, size_t outlen);

/* Name issues of one name (all but SAME_STAMP, which needs the list). */
unsigned migrations_name_check(const char *name);

/* hex(sha256(script)), 64 lowercase digits. */
void migrations_checksum(const void *script, size_t len, char hex[MIGRATIONS_CHECKSUM_LEN + 1]);

/* Whether a stored checksum matches script, as checksum.rs script_matches_checksum(): the
 * file's bytes, the bytes with every CRLF turned into LF, or with every LF turned into CRLF
 * (literally: an existing CRLF becomes CR CR LF); a stored value whose length is not 64 is
 * compared with the legacy unpadded rendering ("%x" per byte). Case-sensitive. */
bool migrations_checksum_matches(const void *script, size_t len, const char *stored);

/* Streaming form of the three checksums migrations_checksum_matches() compares, for a file
 * read in pieces of any size. */
struct migrations_digest {
    struct hash raw, lf, crlf;
    bool cr_pending; /* the last piece ended with CR: the next decides if it was CRLF */
    bool has_crlf, has_lf;
    bool has_nul; /* and the offset of the first NUL byte */
    size_t nul_at;
    size_t len;
};

/* 0 or -ENOMEM. migrations_digest_final() must follow. */
int migrations_digest_begin(struct migrations_digest *d);
void migrations_digest_update(struct migrations_digest *d, const void *data, size_t len);
/* Writes checksum, checksum_lf, checksum_crlf, script_len, has_nul and nul_at of m; frees
 * the contexts. */
void migrations_digest_final(struct migrations_digest *d, struct migration_local *m);

/* Whether a stored checksum matches m's migration.sql, under the rules of
 * migrations_checksum_matches(), whether the file is kept or only its checksums. False when
 * it has no migration.sql. */
bool migrations_local_matches(const struct migration_local *m, const char *stored);

/* m's migration.sql, read from dir/<name>/migration.sql when it was not kept, and checked to
 * be the file that was hashed. 0 with *script (NUL-terminated) and *len, and *owned set to
 * what the caller frees (NULL when the kept copy is returned); or -errno with a one-line
 * message in err (-ESTALE: the file changed since it was read). */
int migrations_load_script(const char *dir, const struct migration_local *m,
                           const unsigned char **script, size_t *len, unsigned char **owned,
                           char *err, size_t errlen);

/* One row of _prisma_migrations, in `ORDER BY started_at` order. Strings are borrowed. */
struct migration_row {
    const char *name;
    const char *checksum;
    bool finished;          /* finished_at IS NOT NULL */
    bool rolled_back;       /* rolled_back_at IS NOT NULL */
    const char *started_at; /* for messages; may be NULL */
    const char *logs;       /* may be NULL */
};

/* The comparison. Name arrays borrow the names of the list and the rows; each name appears
 * at most once per array, local ones in folder order, database-only ones in row order. */
struct migrations_report {
    bool has_table;            /* _prisma_migrations exists */
    bool in_progress;          /* another session holds the advisory lock */
    long other_tables;         /* tables of the schema other than _prisma_migrations (P3005) */
    const char *lock_provider; /* borrowed from the list; NULL when no lock file */
    bool lock_mismatch;        /* migration_lock.toml names another provider (P3019) */

    const char **applied; /* local, with a finished row that is not rolled back */
    size_t napplied;
    const char **pending; /* local, with no row at all */
    size_t npending;
    const char **failed; /* rows with neither finished_at nor rolled_back_at (not while
                          * in_progress: another replica is applying them right now) */
    size_t nfailed;
    const char **in_flight; /* those same rows while in_progress */
    size_t nin_flight;
    const char **edited; /* local, whose rows that count (not rolled back) do not match */
    size_t nedited;
    const char **unreadable; /* local with such a row but no readable migration.sql (P3015) */
    size_t nunreadable;
    const char **missing_locally; /* row names with no local folder */
    size_t nmissing_locally;
    const char **rolled_back; /* local, every row of which is rolled back: deploy re-applies */
    size_t nrolled_back;
    /* What deploy applies, in folder order: local migrations with no row where
     * rolled_back_at IS NULL (pending and rolled back). Indices into the list. */
    size_t *to_apply;
    size_t nto_apply;
    const char **bad_names; /* local names with name issues */
    size_t nbad_names;
};

/* Compares the folder with the rows (rows in started_at order; nrows 0 and has_table false
 * when there is no table: every local migration is then pending). 0 or -ENOMEM; free the
 * report with migrations_report_free(). rep need not be initialised. */
int migrations_classify(const struct migration_list *list, const struct migration_row *rows,
                        size_t nrows, bool has_table, bool in_progress, long other_tables,
                        struct migrations_report *rep);

void migrations_report_free(struct migrations_report *rep);

/* The verdict of the step under the [migrate] policies. */
enum migrations_verdict {
    MIGRATIONS_OK = 0,
    MIGRATIONS_WARN,      /* go on, with warnings */
    MIGRATIONS_WOULD_RUN, /* mode = deploy and there is something to apply */
    MIGRATIONS_FAIL,      /* exit_code says how */
};

#define MIGRATIONS_MAX_ISSUES 16

struct migrations_judgement {
    enum migrations_verdict verdict;
    int exit_code; /* with MIGRATIONS_FAIL */
    size_t nissues;
    struct {
        bool fail;      /* this one makes the step fail; else it is a warning */
        char text[512]; /* one line: what, which migrations, the Prisma command that fixes it */
    } issues[MIGRATIONS_MAX_ISSUES];
    char summary[512]; /* one line for an OK or WOULD_RUN verdict */
    /* Something needs doing, whatever the policies: deploy would apply something (pending,
     * rolled back, or being applied elsewhere right now) or refuse (P3005, P3009, P3015,
     * P3019), or a migration was edited or failed. `devinit check` then exits 1 at least. */
    bool needs_action;
};

/* Applies the policies of m (mode, pending, edited, missing_locally, failed) to a report.
 * dir names the migrations folder in messages. Rules:
 *   - P3019 (lock file provider), and in deploy mode P3005 (schema not empty, no table),
 *     P3009 (failed rows while something is to apply) and a migration to apply without
 *     migration.sql, fail whatever the policies say: Prisma itself would refuse;
 *   - failed rows, pending (and rolled-back) migrations, edited (and P3015) and missing
 *     ones follow their policy; in deploy mode pending ones are not a problem but work:
 *     MIGRATIONS_WOULD_RUN, as is a deploy another process is running;
 *   - a migration.sql holding a NUL byte fails whatever the mode and the policies say,
 *     naming the file and the offset of the first one: SQL cannot hold one, and libpq would
 *     send only the text before it;
 *   - names outside [0-9a-z_] and shared timestamps are warnings.
 * Pure. */
void migrations_judge(const struct migrations_report *rep, const struct migration_list *list,
                      const char *dir, const char *schema, enum migrate_mode mode,
                      enum policy pending, enum policy edited, enum policy missing_locally,
                      enum policy failed, struct migrations_judgement *j);

/* Writes "'a', 'b', 'c' and 4 more" (at most max names) into out. Returns out. */
char *migrations_name_list(const char *const *names, size_t n, size_t max, char *out,
                           size_t outlen);

#endif
