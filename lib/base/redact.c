/* Secrets masked in text: see redact.h. */
#include "base/redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MASK "***"

struct sink {
    char *out;
    size_t len, cap;
};

static void sink_put(struct sink *s, const char *p, size_t n)
{
    while (n-- && s->len + 1 < s->cap)
        s->out[s->len++] = *p++;
    s->out[s->len] = '\0';
}

static bool ends_value(char c)
{
    return c == '\0' || isspace((unsigned char)c) || c == '&' || c == '"' || c == '\'' ||
           c == ',' || c == ';' || c == ')';
}

/* Replaces every occurrence of the secrets (longer first at each place) with the mask.
 * Returns a malloc'ed string, or NULL when memory runs out. */
static char *mask_secrets(const char *const *secrets, size_t n, const char *text)
{
    size_t len = strlen(text);
    /* A one-byte secret becomes three: the text can at most triple. */
    char *out = malloc(3 * len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (const char *p = text; *p;) {
        bool masked = false;
        for (size_t i = 0; i < n && !masked; i++) {
            size_t k = secrets[i] ? strlen(secrets[i]) : 0;
            if (k && !strncmp(p, secrets[i], k)) {
                memcpy(out + o, MASK, strlen(MASK));
                o += strlen(MASK);
                p += k;
                masked = true;
            }
        }
        if (!masked)
            out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

/* scheme://user:secret@ — up to the last '@' before the end of the token, so an unencoded
 * '/', '?' or '@' in the password is still covered (over-masking is harmless). Returns a
 * malloc'ed string, or NULL when memory runs out. */
static char *mask_urls(const char *text)
{
    size_t len = strlen(text);
    /* The shortest masked span, "://x:@" (or "://" + "/@"), grows by at most 3 bytes. */
    size_t cap = 2 * len + 4;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    struct sink s = {buf, 0, cap};
    buf[0] = '\0';
    const char *p = text;
    while (*p) {
        if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
            const char *tok = p + 3, *e = tok, *at = NULL;
            while (*e && !isspace((unsigned char)*e) && *e != '"' && *e != '\'') {
                if (*e == '@')
                    at = e;
                e++;
            }
            const char *colon = at ? memchr(tok, ':', (size_t)(at - tok)) : NULL;
            if (colon) {
                sink_put(&s, p, (size_t)(colon + 1 - p));
                sink_put(&s, MASK, strlen(MASK));
                p = at;
                continue;
            }
            /* No ':' but a '/', '?' or '#' before the '@': not a plain "user@", so the
             * whole span may be a password (or hold one); mask all of it. */
            size_t span = at ? (size_t)(at - tok) : 0;
            if (span &&
                (memchr(tok, '/', span) || memchr(tok, '?', span) || memchr(tok, '#', span))) {
                sink_put(&s, p, 3);
                sink_put(&s, MASK, strlen(MASK));
                p = at;
                continue;
            }
        }
        sink_put(&s, p++, 1);
    }
    return buf;
}

char *redact(const char *const *secrets, size_t nsecrets, const char *text, char *out,
             size_t outlen)
{
    struct sink s = {out, 0, outlen};
    if (!outlen)
        return out;
    out[0] = '\0';
    if (!text)
        return out;
    /* The known secrets go first, everywhere: the patterns below stop at white space and
     * take the last '@' they see, so a password holding a space after an '@' would be cut in
     * two by them, its tail printed (found by fuzzing). Then the URLs, over the whole text,
     * before the pairs: a "password=" value ends at '&', which would otherwise start the
     * URL scan in the middle of a URL and leave its userinfo (found by fuzzing). Out of
     * memory: print nothing. */
    char *masked = NULL, *urls = NULL;
    if (nsecrets) {
        masked = mask_secrets(secrets, nsecrets, text);
        if (!masked) {
            sink_put(&s, MASK, strlen(MASK));
            return out;
        }
        text = masked;
    }
    urls = mask_urls(text);
    free(masked);
    if (!urls) {
        sink_put(&s, MASK, strlen(MASK));
        return out;
    }

    const char *p = urls;
    while (*p) {
        /* password=secret, sslpassword=secret (conninfo strings, query strings) */
        if ((p == urls || !isalnum((unsigned char)p[-1])) &&
            (!strncasecmp(p, "password=", 9) || !strncasecmp(p, "sslpassword=", 12))) {
            const char *v = strchr(p, '=') + 1;
            sink_put(&s, p, (size_t)(v - p));
            if (*v == '\'' || *v == '"') {
                char qc = *v;
                const char *e = v + 1;
                while (*e && *e != qc)
                    e += (*e == '\\' && e[1]) ? 2 : 1;
                p = *e ? e + 1 : e;
            } else {
                const char *e = v;
                while (!ends_value(*e))
                    e++;
                p = e;
            }
            sink_put(&s, MASK, strlen(MASK));
            continue;
        }
        sink_put(&s, p++, 1);
    }
    free(urls);
    return out;
}
