/* Prisma's DATABASE_URL rules, as prisma-engines quaint/src/connector/postgres/url.rs applies
 * them, turned into libpq keywords. See dburl.h for the contract. */
#include "db/dburl.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/redact.h"

/* A span of the input, not NUL-terminated. */
struct span {
    const char *p;
    size_t n;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies s into the arena, percent-decoded; with form, '+' becomes a space (query strings,
 * as Rust's form_urlencoded does). An invalid %-sequence is kept as written, as the
 * percent_decode Prisma uses does. The arena was sized so this cannot overflow. */
static const char *put_decoded(struct dburl *u, struct span s, bool form)
{
    char *out = u->storage + u->storage_len;
    size_t o = 0;
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (c == '%' && i + 2 < s.n && hexval(s.p[i + 1]) >= 0 && hexval(s.p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
            i += 2;
        } else if (c == '+' && form) {
            out[o++] = ' ';
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    u->storage_len += o + 1;
    return out;
}

static const char *put_raw(struct dburl *u, struct span s)
{
    char *out = u->storage + u->storage_len;
    memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    u->storage_len += s.n + 1;
    return out;
}

/* Rust's `str::parse::<u64>()`: ASCII digits only, optional '+', no overflow. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (*s == '+')
        s++;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (x > (max - d) / 10)
            return false;
        x = x * 10 + d;
    }
    *v = x;
    return true;
}

/* The query parameters Prisma knows, after last-one-wins. */
struct query {
    const char *host, *sslmode, *sslaccept, *sslcert, *sslidentity, *sslpassword;
    const char *connect_timeout, *application_name, *options, *channel_binding, *schema;
};

/* Parameters Prisma requires to be numbers (or a bool) although nothing here uses them:
 * Prisma refuses the URL when they do not parse, so devinit does too. */
static const struct {
    const char *key;
    bool is_bool;
} checked_only[] = {
    {"pgbouncer", true},
    {"statement_cache_size", false},
    {"connection_limit", false},
    {"socket_timeout", false},
    {"pool_timeout", false},
    {"max_connection_lifetime", false},
    {"max_idle_connection_lifetime", false},
};

static int parse_query(struct dburl *u, struct span q, struct query *out, char *err, size_t errlen)
{
    const char *p = q.p, *end = q.p + q.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *pe = amp ? amp : end;
        if (pe > p) {
            const char *eq = memchr(p, '=', (size_t)(pe - p));
            struct span ks = {p, (size_t)((eq ? eq : pe) - p)};
            struct span vs =
                eq ? (struct span){eq + 1, (size_t)(pe - eq - 1)} : (struct span){pe, 0};
            const char *k = put_decoded(u, ks, true);
            const char *v = put_decoded(u, vs, true);
            const char **slot = NULL;
            if (!strcmp(k, "host"))
                slot = &out->host;
            else if (!strcmp(k, "sslmode"))
                slot = &out->sslmode;
            else if (!strcmp(k, "sslaccept"))
                slot = &out->sslaccept;
            else if (!strcmp(k, "sslcert"))
                slot = &out->sslcert;
            else if (!strcmp(k, "sslidentity"))
                slot = &out->sslidentity;
            else if (!strcmp(k, "sslpassword"))
                slot = &out->sslpassword;
            else if (!strcmp(k, "connect_timeout"))
                slot = &out->connect_timeout;
            else if (!strcmp(k, "application_name"))
                slot = &out->application_name;
            else if (!strcmp(k, "options"))
                slot = &out->options;
            else if (!strcmp(k, "channel_binding"))
                slot = &out->channel_binding;
            else if (!strcmp(k, "schema"))
                slot = &out->schema;
            if (slot) {
                *slot = v;
            } else {
                for (size_t i = 0; i < sizeof checked_only / sizeof *checked_only; i++) {
                    uint64_t x;
                    if (strcmp(k, checked_only[i].key))
                        continue;
                    if (checked_only[i].is_bool ? strcmp(v, "true") && strcmp(v, "false")
                                                : !parse_uint(v, UINT64_MAX, &x)) {
                        set_err(err, errlen,
                                "database url parameter '%s' has an invalid value '%s': "
                                "expected %s",
                                k, v, checked_only[i].is_bool ? "true or false" : "a whole number");
                        return -EINVAL;
                    }
                }
                /* Anything else (port, unknown keys) is dropped, as Prisma does. */
            }
        }
        p = amp ? amp + 1 : end;
    }
    if (out->connect_timeout) {
        uint64_t x;
        if (!parse_uint(out->connect_timeout, UINT32_MAX, &x)) {
            set_err(err, errlen,
                    "database url parameter 'connect_timeout' has an invalid value '%s': "
                    "expected a whole number of seconds",
                    out->connect_timeout);
            return -EINVAL;
        }
    }
    return 0;
}

static void add(struct dburl *u, const char *k, const char *v)
{
    if (u->nparams < DBURL_MAX_PARAMS) {
        u->keywords[u->nparams] = k;
        u->values[u->nparams] = v;
        u->nparams++;
        u->keywords[u->nparams] = NULL;
        u->values[u->nparams] = NULL;
    }
}

static bool is_ip_literal(const char *h)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* Code points the URL standard forbids in an (opaque) host. */
static bool bad_host_char(char c)
{
    return (unsigned char)c <= ' ' || strchr("#/:<>?@[\\]^|", c) != NULL || c == 0x7f;
}

/* The URL without the surrounding blanks the URL standard strips (a .env value often ends
 * with '\r'), checked for its scheme and for an encoded NUL. Sets *rest to what follows
 * "://" and *len to the trimmed length. */
static int parse_scheme(const char **url, size_t *len, const char **rest, char *err, size_t errlen)
{
    const char *s = *url;
    while (*s && (unsigned char)*s <= ' ')
        s++;
    size_t n = strlen(s);
    while (n && (unsigned char)s[n - 1] <= ' ')
        n--;
    if (!n) {
        set_err(err, errlen,
                "database url is empty: set it to postgresql://USER:PASSWORD@HOST:PORT/DATABASE");
        return -EINVAL;
    }
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < n; i++) {
        if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
            sep = s + i;
            break;
        }
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
            break;
    }
    if (!sep || !((sep - s == 10 && !strncasecmp(s, "postgresql", 10)) ||
                  (sep - s == 8 && !strncasecmp(s, "postgres", 8)))) {
        set_err(err, errlen,
                "database url must start with 'postgresql://' or 'postgres://' "
                "(the PostgreSQL form Prisma uses)");
        return -EINVAL;
    }
    /* Every part becomes a C string for libpq: a decoded NUL would silently cut a password
     * short, or turn a host into "" and so localhost (found by fuzzing). */
    for (size_t i = 0; i + 2 < n; i++) {
        if (s[i] == '%' && s[i + 1] == '0' && s[i + 2] == '0') {
            set_err(err, errlen,
                    "database url holds '%%00', an encoded NUL byte no PostgreSQL name or "
                    "password can contain: remove it");
            return -EINVAL;
        }
    }
    *url = s;
    *len = n;
    *rest = sep + 3;
    return 0;
}

/* user[:password]@, decoded, when the authority [p, auth_end) has an '@'. The userinfo ends
 * at its last '@', as in the URL standard, so an unencoded '@' in a password still works as
 * it does in Prisma. Moves *p past it. */
static void parse_userinfo(struct dburl *u, const char **p, const char *auth_end)
{
    const char *at = NULL;
    for (const char *q = *p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    u->user = "";
    u->password = "";
    u->password_raw = "";
    if (!at)
        return;
    const char *colon = memchr(*p, ':', (size_t)(at - *p));
    struct span us = {*p, (size_t)((colon ? colon : at) - *p)};
    u->user = put_decoded(u, us, false);
    if (colon) {
        struct span ps = {colon + 1, (size_t)(at - colon - 1)};
        u->password_raw = put_raw(u, ps);
        u->password = put_decoded(u, ps, false);
    }
    *p = at + 1;
}

/* host[:port] or [v6][:port] in [p, auth_end): the decoded host into *host, the port into
 * u->port (default 5432). */
static int parse_host_port(struct dburl *u, const char *p, const char *auth_end, const char **host,
                           char *err, size_t errlen)
{
    struct span hs, port = {NULL, 0};
    bool bracketed = false;
    if (p < auth_end && *p == '[') {
        const char *rb = memchr(p, ']', (size_t)(auth_end - p));
        if (!rb) {
            set_err(err, errlen, "database url host: an IPv6 address lacks its closing ']'");
            return -EINVAL;
        }
        hs = (struct span){p + 1, (size_t)(rb - p - 1)};
        bracketed = true;
        p = rb + 1;
        if (p < auth_end && *p != ':') {
            set_err(err, errlen, "database url host: unexpected text after the IPv6 address's ']'");
            return -EINVAL;
        }
    } else {
        const char *colon = memchr(p, ':', (size_t)(auth_end - p));
        hs = (struct span){p, (size_t)((colon ? colon : auth_end) - p)};
        p = colon ? colon : auth_end;
    }
    if (p < auth_end && *p == ':')
        port = (struct span){p + 1, (size_t)(auth_end - p - 1)};
    /* The URL standard Prisma's parser follows fails on an empty host that has a port or
     * credentials ("Port with an empty host", EmptyHost): only "postgresql:///db" may leave
     * the host out. libpq would take the empty host for its default (a local socket). */
    if (!hs.n && !bracketed && (p < auth_end || *u->user || *u->password_raw)) {
        set_err(err, errlen,
                "database url has %s but no host: write the host after %s (e.g. "
                "postgresql://USER:PASSWORD@localhost:5432/DATABASE)",
                p < auth_end ? "a port" : "credentials", p < auth_end ? "'//' or '@'" : "'@'");
        return -EINVAL;
    }

    *host = put_decoded(u, hs, false);
    if (bracketed) {
        unsigned char buf[16];
        if (inet_pton(AF_INET6, *host, buf) != 1) {
            set_err(err, errlen,
                    "database url host: the bracketed part is not a valid IPv6 address "
                    "(zone ids like %%eth0 are not supported)");
            return -EINVAL;
        }
    } else {
        for (size_t i = 0; i < hs.n; i++) {
            if (bad_host_char(hs.p[i])) {
                set_err(err, errlen,
                        "database url host contains a character a host cannot have; "
                        "a password with '/', '?', '#' or '@' must be percent-encoded");
                return -EINVAL;
            }
        }
    }

    u->port = "5432";
    if (!port.n)
        return 0;
    char tmp[8];
    uint64_t v;
    bool ok = port.n < sizeof tmp;
    if (ok) {
        memcpy(tmp, port.p, port.n);
        tmp[port.n] = '\0';
        ok = tmp[0] != '+' && parse_uint(tmp, UINT16_MAX, &v) && v > 0;
    }
    if (!ok) {
        /* The text is not quoted: when a password holds an unencoded '/', what looks like
         * the port is part of the password. */
        set_err(err, errlen,
                "database url port is not a number from 1 to 65535; a password with '/', "
                "'?', '#' or '@' must be percent-encoded");
        return -EINVAL;
    }
    snprintf(tmp, sizeof tmp, "%u", (unsigned)v);
    u->port = put_raw(u, (struct span){tmp, strlen(tmp)});
    return 0;
}

/* The path's first segment is the database; no path at all means "postgres" (Prisma's
 * dbname()), "/" means an empty name (the server then uses the user's name). */
static void parse_database(struct dburl *u, const char *path, const char *path_end)
{
    u->dbname = "postgres";
    if (path < path_end && *path == '/') {
        const char *seg = path + 1;
        const char *slash = memchr(seg, '/', (size_t)(path_end - seg));
        u->dbname =
            put_decoded(u, (struct span){seg, (size_t)((slash ? slash : path_end) - seg)}, false);
    }
}

/* The libpq keywords of a parsed URL: where to connect, who, and the query's parameters. */
static void add_connection(struct dburl *u, const struct query *q)
{
    add(u, "host", u->host);
    add(u, "port", u->port);
    if (*u->user)
        add(u, "user", u->user);
    if (*u->password)
        add(u, "password", u->password);
    if (*u->dbname)
        add(u, "dbname", u->dbname);
    if (q->connect_timeout)
        add(u, "connect_timeout", q->connect_timeout);
    if (q->application_name)
        add(u, "application_name", q->application_name);
    if (q->options)
        add(u, "options", q->options);
    if (q->channel_binding) {
        /* Prisma falls back to prefer for a value it does not know; libpq would refuse it. */
        const char *cb = q->channel_binding;
        if (strcmp(cb, "disable") && strcmp(cb, "prefer") && strcmp(cb, "require"))
            cb = "prefer";
        add(u, "channel_binding", cb);
    }
}

/* TLS, from Prisma's sslmode/sslaccept/sslcert/sslidentity to libpq's keywords. */
static void add_tls(struct dburl *u, const struct query *q)
{
    bool strict = false;
    if (q->sslaccept)
        strict = strcmp(q->sslaccept, "accept_invalid_certs") != 0; /* unknown: strict */
    if (q->sslmode) {
        const char *m = q->sslmode;
        if (!strcmp(m, "require")) {
            m = strict ? "verify-full" : "require";
        } else if (strcmp(m, "disable") && strcmp(m, "prefer")) {
            snprintf(u->warning, sizeof u->warning,
                     "database url sslmode '%.40s' is not one Prisma knows (disable, prefer, "
                     "require): using 'prefer', as Prisma does",
                     m);
            m = "prefer";
        }
        add(u, "sslmode", m);
    }
    if (q->sslcert)
        add(u, "sslrootcert", q->sslcert);
    if (q->sslidentity)
        snprintf(u->warning, sizeof u->warning,
                 "database url parameter 'sslidentity' (a PKCS#12 client identity) has no "
                 "libpq form and is ignored: convert it to PEM and use a service file, or "
                 "drop it");
}

/* An '@' after the authority anywhere but in a query value: in the path, a query key or the
 * fragment. The URL standard ends the authority at the first '/', '?' or '#', so a password
 * holding one of those unencoded puts its tail and the real host there, and what the parser
 * then calls the host, port and database are pieces of the password ("app:2024/Summer!@db"
 * reads as host app, port 2024, database "Summer!@db:5432"). Prisma would connect there,
 * sending those pieces to DNS and printing them in its error; devinit refuses the URL. */
static bool stray_at(const char *p, const char *end)
{
    enum { PATH, KEY, VALUE, FRAGMENT } in = PATH;
    for (; p < end; p++) {
        char c = *p;
        if (c == '@' && in != VALUE)
            return true;
        if (c == '#')
            in = FRAGMENT;
        else if (in == PATH && c == '?')
            in = KEY;
        else if ((in == KEY || in == VALUE) && c == '&')
            in = KEY;
        else if (in == KEY && c == '=')
            in = VALUE;
    }
    return false;
}

static int parse(const char *url, struct dburl *u, char *err, size_t errlen)
{
    size_t len;
    const char *p;
    int r = parse_scheme(&url, &len, &p, err, errlen);
    if (r)
        return r;
    u->storage_cap = 2 * len + 64;
    u->storage = malloc(u->storage_cap);
    if (!u->storage)
        return -ENOMEM;
    u->storage_len = 0;

    /* The authority ends at the first '/', '?' or '#'. */
    const char *end = url + len, *auth_end = p;
    while (auth_end < end && *auth_end != '/' && *auth_end != '?' && *auth_end != '#')
        auth_end++;
    if (stray_at(auth_end, end)) {
        set_err(err, errlen,
                "database url has an '@' after its host part: a password with '/', '?', '#' "
                "or '@' must be percent-encoded (and an '@' in the database name as %%40)");
        return -EINVAL;
    }
    parse_userinfo(u, &p, auth_end);
    const char *host;
    if ((r = parse_host_port(u, p, auth_end, &host, err, errlen)))
        return r;

    const char *qs = memchr(auth_end, '?', (size_t)(end - auth_end));
    const char *hash = memchr(auth_end, '#', (size_t)(end - auth_end));
    if (hash && qs && hash < qs)
        qs = NULL;
    parse_database(u, auth_end, qs ? qs : hash ? hash : end);
    struct query q = {0};
    if (qs) {
        const char *qend = hash && hash > qs ? hash : end;
        if ((r = parse_query(u, (struct span){qs + 1, (size_t)(qend - qs - 1)}, &q, err, errlen)))
            return r;
    }

    /* ?host= wins over the URL's host; an empty one is ignored. No host at all: localhost. */
    if (q.host && *q.host)
        host = q.host;
    else if (!*host)
        host = "localhost";
    u->host = host;
    u->host_is_socket = host[0] == '/';
    u->host_is_ip = !u->host_is_socket && is_ip_literal(host);
    u->schema = q.schema ? q.schema : "public";
    add_connection(u, &q);
    add_tls(u, &q);
    return 0;
}

int dburl_parse(const char *url, struct dburl *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (err && errlen)
        err[0] = '\0';
    int r = parse(url ? url : "", u, err, errlen);
    if (r) {
        if (r == -ENOMEM)
            set_err(err, errlen, "out of memory while parsing the database url");
        dburl_free(u);
    }
    return r;
}

void dburl_free(struct dburl *u)
{
    if (!u)
        return;
    free(u->storage);
    memset(u, 0, sizeof *u);
}

const char *dburl_get(const struct dburl *u, const char *keyword)
{
    for (size_t i = 0; i < u->nparams; i++)
        if (!strcmp(u->keywords[i], keyword))
            return u->values[i];
    return NULL;
}

char *dburl_describe(const struct dburl *u, char *out, size_t outlen)
{
    bool v6 = u->host && strchr(u->host, ':') && !u->host_is_socket;
    char raw[1024];
    snprintf(raw, sizeof raw, "%s%s%s:%s/%s", v6 ? "[" : "", u->host ? u->host : "", v6 ? "]" : "",
             u->port ? u->port : "5432", u->dbname ? u->dbname : "");
    /* A ?host= or database name may itself quote a URL with credentials (found by fuzzing). */
    return redact(NULL, 0, raw, out, outlen);
}

/* Output with truncation: every write is bounded and out stays NUL-terminated. */
char *dburl_redact(const struct dburl *u, const char *text, char *out, size_t outlen)
{
    /* The longer form first, so a raw "p%40ss" is not left half-masked by "p@ss". */
    const char *secrets[2] = {NULL, NULL};
    if (u && u->password && *u->password) {
        secrets[0] = u->password;
        if (u->password_raw && strcmp(u->password_raw, u->password)) {
            secrets[1] = u->password_raw;
            if (strlen(secrets[1]) > strlen(secrets[0])) {
                secrets[1] = secrets[0];
                secrets[0] = u->password_raw;
            }
        }
    }
    return redact(secrets, secrets[1] ? 2 : secrets[0] ? 1 : 0, text, out, outlen);
}
