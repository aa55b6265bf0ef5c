/* DATABASE_URL: Prisma's connection URL turned into libpq keywords, and the one redaction
 * function every message about a database passes through.
 *
 * Prisma parses the URL itself (prisma-engines quaint/src/connector/postgres/url.rs) and
 * ignores parameters it does not know; libpq rejects any unknown query parameter. So the URL
 * is never handed to libpq: dburl_parse() decodes it with Prisma's rules and fills
 * keyword/value arrays for PQconnectStartParams(). Pure logic, no I/O: unit-tested in
 * tests/unit/test_dburl.c. */
#ifndef DEVINIT_DBURL_H
#define DEVINIT_DBURL_H

#include <stdbool.h>
#include <stddef.h>

#define DBURL_MAX_PARAMS 16

struct dburl {
    /* NULL-terminated, parallel: ready for PQconnectStartParams(kw, vals, 0). Only keywords
     * libpq knows ever appear: host, port, user, password, dbname, connect_timeout,
     * application_name, options, channel_binding, sslmode, sslrootcert. host is the decoded
     * host name or IP (brackets of [::1] stripped) or, with ?host=, a socket directory. */
    const char *keywords[DBURL_MAX_PARAMS + 1];
    const char *values[DBURL_MAX_PARAMS + 1];
    size_t nparams;

    /* Convenience views into the same strings (never NULL after a successful parse;
     * "" when absent, except port which defaults to "5432"). */
    const char *host; /* host name, IP literal, or socket directory */
    const char *port;
    const char *user;
    const char *dbname;  /* "" means libpq's default (the user name) */
    const char *schema;  /* Prisma's ?schema=, default "public"; never passed to libpq */
    bool host_is_socket; /* host is a directory (starts with '/') */
    bool host_is_ip;     /* host is an IPv4/IPv6 literal: no DNS needed */

    /* Decoded password ("" when none). Only for libpq and for redaction: never print it. */
    const char *password;
    /* The password exactly as written in the URL (still percent-encoded), for redaction of
     * text that quotes the raw URL. */
    const char *password_raw;

    /* A note for the caller to log as a warning, "" when none (e.g. sslidentity dropped). */
    char warning[256];

    /* private: owns every string above */
    char *storage;
    size_t storage_len, storage_cap;
};

/* Parses a Prisma PostgreSQL URL (postgresql:// or postgres://) into u.
 *   - user, password, host, port (default 5432), database: percent-decoded; [::1] brackets
 *     stripped; a port must be 1..65535. "%00" anywhere is refused: no C string holds it.
 *   - an empty host is refused when the URL has a port or credentials, as the URL standard
 *     Prisma parses with does ("postgresql://u:p@:5432/db"); "postgresql:///db" is localhost;
 *   - an '@' after the authority (in the path, a query key or the fragment) is refused: it
 *     means a password with an unencoded '/', '?' or '#', whose pieces the URL rules would
 *     make the host, port and database (Prisma connects there; devinit will not print or
 *     resolve pieces of a password). An '@' in a query value is kept.
 *   - ?host=/dir (or %2Fdir) is a Unix socket directory and wins over the URL's host.
 *   - query values decode %XX and '+' as a space.
 *   - dropped: schema (kept in u->schema), connection_limit, pool_timeout, socket_timeout,
 *     pgbouncer, statement_cache_size, max_connection_lifetime, max_idle_connection_lifetime,
 *     port, and any unknown key (as Prisma ignores them).
 *   - passed: connect_timeout, application_name, options, channel_binding.
 *   - TLS: sslmode disable/prefer/absent unchanged, require → require, or verify-full with
 *     sslaccept=strict; sslcert (Prisma: a CA file) → sslrootcert; sslidentity and
 *     sslpassword (PKCS#12) have no libpq form: dropped, with u->warning set.
 * Returns 0, or -EINVAL with a one-line message in err naming the wrong part (never the
 * password), or -ENOMEM. On failure u holds nothing to free; on success free it with
 * dburl_free(). u need not be initialised before the call. */
int dburl_parse(const char *url, struct dburl *u, char *err, size_t errlen);

/* Releases what dburl_parse() allocated; u may be zeroed or already freed. */
void dburl_free(struct dburl *u);

/* The value passed to libpq for keyword, or NULL when it is not passed. */
const char *dburl_get(const struct dburl *u, const char *keyword);

/* Where the database is, for messages: "db:5432/app", "[::1]:5432/app" or
 * "/run/postgresql:5432/app" (socket directory), passed through dburl_redact(): never contains
 * credentials, even when a ?host= or database name quotes a URL. Returns out. */
char *dburl_describe(const struct dburl *u, char *out, size_t outlen);

/* The redaction of messages about a database: redact() (base/redact.h) with this URL's
 * password, decoded and as written, among the secrets. Copies text into out (always NUL-terminated,
 * truncated to outlen-1) with every secret masked as "***":
 *   - the userinfo password of anything shaped like "scheme://user:secret@", up to the
 *     token's last '@', or all of "scheme://secret@" when it holds a '/', '?' or '#' but no
 *     ':' (so a URL can be redacted even when it could not be parsed, or when u is NULL),
 *   - "password=secret" / "sslpassword=secret" conninfo pairs,
 *   - every occurrence of u->password and u->password_raw (when u is not NULL and they are
 *     not empty), e.g. inside libpq's own error text.
 * text and out must not overlap. Returns out. */
char *dburl_redact(const struct dburl *u, const char *text, char *out, size_t outlen);

#endif
