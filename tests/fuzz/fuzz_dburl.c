/* DATABASE_URL: every input is a URL as the environment would hold it (up to its first NUL).
 *
 * Besides memory safety, checks what dburl.h promises:
 *   - the keyword/value arrays are NULL-terminated and hold only keywords libpq knows;
 *   - nothing devinit prints depends on the password: the same URL with another password of
 *     the same shape gives the same error, the same parameters (the password apart), the same
 *     description and the same redacted text;
 *   - dburl_redact() leaves no password in a message that quotes it, raw or decoded;
 *   - whatever the parser makes of the URL, the span a person may have meant as the password
 *     (secret_span(): from the first ':' after "://", or from "://" when the span holds a
 *     '/', '?' or '#' and no ':', to the last '@' of the token) is in neither the redacted
 *     URL nor, when the URL parses, its description.
 * A password that also appears elsewhere in the text (a user named like it, a one-letter
 * password) or that holds the mask's '*' cannot be judged by these comparisons: skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/dburl.h"
#include "fuzz.h"

static const char *const libpq_keywords[] = {
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "connect_timeout",
    "application_name",
    "options",
    "channel_binding",
    "sslmode",
    "sslrootcert",
    NULL,
};

static bool is_libpq_keyword(const char *k)
{
    for (size_t i = 0; libpq_keywords[i]; i++)
        if (!strcmp(k, libpq_keywords[i]))
            return true;
    return false;
}

static void check_parsed(const struct dburl *u)
{
    CHECK(u->nparams <= DBURL_MAX_PARAMS);
    CHECK(u->keywords[u->nparams] == NULL && u->values[u->nparams] == NULL);
    for (size_t i = 0; i < u->nparams; i++) {
        CHECK(u->keywords[i] && u->values[i]);
        CHECK(is_libpq_keyword(u->keywords[i]));
        for (size_t k = 0; k < i; k++)
            CHECK(strcmp(u->keywords[i], u->keywords[k]));
    }
    CHECK(u->host && u->port && u->user && u->dbname && u->schema);
    CHECK(u->password && u->password_raw);
    CHECK(*u->host);
    CHECK(dburl_get(u, "host") == u->host && dburl_get(u, "port") == u->port);
    CHECK(dburl_get(u, "password") == (*u->password ? u->password : NULL));
    CHECK(u->host_is_socket == (u->host[0] == '/'));
    /* A port libpq gets is canonical: 1..65535, no sign, no leading zero. */
    char *end;
    long port = strtol(u->port, &end, 10);
    CHECK(!*end && port >= 1 && port <= 65535 && isdigit((unsigned char)u->port[0]) &&
          u->port[0] != '0');
    CHECK(memchr(u->warning, '\0', sizeof u->warning));
}

/* Occurrences of needle in hay (overlapping ones too) outside [from, to). */
static size_t count_outside(const char *hay, const char *needle, size_t from, size_t to)
{
    size_t n = 0, nl = strlen(needle);
    if (!nl)
        return 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++) {
        size_t at = (size_t)(p - hay);
        if (at < from || at + nl > to)
            n++;
    }
    return n;
}

static size_t count_all(const char *hay, const char *needle)
{
    return count_outside(hay, needle, 0, 0);
}

/* Where the password is written: [*from, *to) of url, found the way Prisma (and dburl.c)
 * split the authority: after "://", up to the first '/', '?' or '#'; the userinfo ends at
 * its last '@' and the user at its first ':'. false when the URL has no password part. */
static bool password_span(const char *url, size_t *from, size_t *to)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < p + auth; q++)
        if (*q == '@')
            at = q;
    if (!at)
        return false;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon)
        return false;
    *from = (size_t)(colon + 1 - url);
    *to = (size_t)(at - url);
    return true;
}

/* The widest reading of "the password" in text's first URL token (the token ends at white
 * space or a quote, as in redact()): [*from, *to) up to the token's last '@', starting after
 * the first ':' or, when the userinfo-ish part has no ':' but a '/', '?' or '#' (so it cannot
 * be a plain user name), right after "://". false when there is none. */
static bool secret_span(const char *text, size_t *from, size_t *to)
{
    const char *p = strstr(text, "://");
    if (!p)
        return false;
    p += 3;
    const char *at = NULL, *e = p;
    for (; *e && !isspace((unsigned char)*e) && *e != '"' && *e != '\''; e++)
        if (*e == '@')
            at = e;
    if (!at || at == p)
        return false;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (colon) {
        p = colon + 1;
    } else {
        size_t n = (size_t)(at - p);
        if (!memchr(p, '/', n) && !memchr(p, '?', n) && !memchr(p, '#', n))
            return false;
    }
    *from = (size_t)(p - text);
    *to = (size_t)(at - text);
    return *to > *from;
}

/* The secret span of url (when it is one to judge: no '*' in it, and not also found once
 * the span itself is replaced by the mask) is absent from every redaction of the URL and,
 * when the URL parses, from its description unless the description of the same URL with a
 * filler in the span holds it too (a span "5432" and the default port), when the span ends
 * before any query. */
static void check_secret_span(const char *url, const struct dburl *u)
{
    size_t from, to;
    if (!secret_span(url, &from, &to))
        return;
    size_t n = to - from, len = strlen(url);
    char *span = strndup(url + from, n);
    char *masked = malloc(len + 4);
    if (!span || !masked)
        goto out;
    memcpy(masked, url, from);
    memcpy(masked + from, "***", 3);
    memcpy(masked + from + 3, url + to, len - to + 1);
    if (strchr(span, '*') || strstr(masked, span))
        goto out;
    char red[8192];
    dburl_redact(NULL, url, red, sizeof red);
    if (strstr(red, span)) {
        fprintf(stderr, "secret span '%s' left in the redacted URL '%s'\n", span, red);
        abort();
    }
    dburl_redact(u, url, red, sizeof red);
    CHECK(!strstr(red, span));
    /* An '@' in a query value is not a password's end: a ?host= quoting a URL is described
     * as written (pattern-redacted). Every other '@' after the authority is refused. */
    const char *q = strpbrk(strstr(url, "://") + 3, "?#");
    if (u && (!q || (size_t)(q - url) > to)) {
        char d[1024], d2[1024];
        dburl_describe(u, d, sizeof d);
        if (strstr(d, span)) {
            /* Same URL, filler in the span (no ':', '/', '?', '#' or '@': the span keeps its
             * shape-free reading); judged only when that one parses too. */
            char *url2 = strdup(url);
            struct dburl u2;
            char err2[512];
            bool judged = false;
            if (url2) {
                memset(url2 + from, 'Q', n);
                if (dburl_parse(url2, &u2, err2, sizeof err2) == 0) {
                    judged = !strstr(dburl_describe(&u2, d2, sizeof d2), span);
                    dburl_free(&u2);
                }
                free(url2);
            }
            if (judged) {
                fprintf(stderr, "secret span '%s' in the description '%s' of '%s'\n", span, d, url);
                abort();
            }
        }
    }
out:
    free(span);
    free(masked);
}

/* The redacted form of a message that quotes secret holds no secret. */
static void check_message(const struct dburl *u, const char *before, const char *secret,
                          const char *after)
{
    char text[4096], out[4096 + 64];
    if ((size_t)snprintf(text, sizeof text, "%s%s%s", before, secret, after) >= sizeof text)
        return;
    /* Redaction writes "***": a password made of it, or found twice, is not a leak to find. */
    if (strchr(secret, '*') || count_all(text, secret) != 1)
        return;
    dburl_redact(u, text, out, sizeof out);
    if (strstr(out, secret)) {
        fprintf(stderr, "password left in a redacted message: '%s' -> '%s'\n", text, out);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An environment variable cannot hold a NUL: the URL ends at the first one. */
    size_t len = strnlen((const char *)data, size);
    char *url = malloc(len + 1);
    if (!url)
        return 0;
    memcpy(url, data, len);
    url[len] = '\0';

    struct dburl u1, u2;
    char err1[512], err2[512];
    int rc1 = dburl_parse(url, &u1, err1, sizeof err1);
    CHECK(rc1 == 0 || rc1 == -EINVAL);
    CHECK(memchr(err1, '\0', sizeof err1) && (rc1 == 0) == (err1[0] == '\0'));
    if (rc1 == 0)
        check_parsed(&u1);

    char small[16], red[8192];
    dburl_redact(NULL, url, red, sizeof red);
    dburl_redact(rc1 == 0 ? &u1 : NULL, url, small, sizeof small);
    CHECK(strlen(small) < sizeof small);

    /* The same URL with the password replaced by a filler of the same shape: every byte the
     * redaction's URL pattern looks at (white space and quotes end a token, '@' ends a
     * userinfo) kept, every other byte a letter that appears nowhere else in the URL. */
    size_t from, to;
    char fill = 0;
    for (const char *c = "QZXJKVWqzxjkvw"; *c && !fill; c++)
        if (!strchr(url, *c))
            fill = *c;
    if (fill && password_span(url, &from, &to) && to > from) {
        char *url2 = strdup(url);
        if (!url2)
            goto out;
        for (size_t i = from; i < to; i++) {
            if (url[i] == '%' && i + 2 < to && isxdigit((unsigned char)url[i + 1]) &&
                isxdigit((unsigned char)url[i + 2]))
                i += 2; /* an escape stays one: "%00" is refused wherever it is */
            else if (!isspace((unsigned char)url[i]) && !strchr("\"'@", url[i]))
                url2[i] = fill;
        }
        int rc2 = dburl_parse(url2, &u2, err2, sizeof err2);
        CHECK(rc1 == rc2);
        CHECK(!strcmp(err1, err2));
        if (rc1 == 0) {
            /* dburl.c found the password where password_span() did. */
            CHECK(strlen(u1.password_raw) == to - from &&
                  !memcmp(u1.password_raw, url + from, to - from));
            CHECK(u1.nparams == u2.nparams);
            for (size_t i = 0; i < u1.nparams; i++) {
                CHECK(!strcmp(u1.keywords[i], u2.keywords[i]));
                if (strcmp(u1.keywords[i], "password"))
                    CHECK(!strcmp(u1.values[i], u2.values[i]));
            }
            CHECK(!strcmp(u1.host, u2.host) && !strcmp(u1.port, u2.port) &&
                  !strcmp(u1.user, u2.user) && !strcmp(u1.dbname, u2.dbname) &&
                  !strcmp(u1.schema, u2.schema) && !strcmp(u1.warning, u2.warning));
            char d1[1024], d2[1024];
            CHECK(!strcmp(dburl_describe(&u1, d1, sizeof d1), dburl_describe(&u2, d2, sizeof d2)));

            /* The URL itself, redacted, must not depend on the password either, unless the
             * password also stands somewhere else in it (then that place is masked too). */
            bool has_fill = strchr(u2.password_raw, fill) != NULL;
            if (has_fill && !count_outside(url, u1.password_raw, from, to) &&
                !count_outside(url, u1.password, from, to)) {
                char red2[8192];
                dburl_redact(&u1, url, red, sizeof red);
                dburl_redact(&u2, url2, red2, sizeof red2);
                if (strcmp(red, red2)) {
                    fprintf(stderr, "redaction depends on the password:\n  %s\n  %s\n", red, red2);
                    abort();
                }
            }
            dburl_free(&u2);
        }
        free(url2);
    }

    check_secret_span(url, rc1 == 0 ? &u1 : NULL);

    if (rc1 == 0 && *u1.password) {
        /* libpq's error text and conninfo strings quote the decoded password; a message may
         * quote the URL's raw form. */
        check_message(&u1, "connection failed: \"", u1.password, "\"");
        check_message(&u1, "host=h password=", u1.password, " dbname=d");
        check_message(&u1, "could not parse '", u1.password_raw, "'");
    }
out:
    if (rc1 == 0)
        dburl_free(&u1);
    free(url);
    return 0;
}
