#include "base/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
    memset(w, 0, sizeof *w);
}

void jsonw_free(struct jsonw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

static void put(struct jsonw *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *p = realloc(w->buf, cap);
        if (!p) {
            w->failed = true;
            return;
        }
        w->buf = p;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(struct jsonw *w, const char *s)
{
    put(w, s, strlen(s));
}

/* A value (or key) starts: separate it from the previous one. */
static void value_begin(struct jsonw *w)
{
    if (w->need_comma)
        put(w, ",", 1);
    w->need_comma = true;
}

void jsonw_object_begin(struct jsonw *w)
{
    value_begin(w);
    put(w, "{", 1);
    w->need_comma = false;
}

void jsonw_object_end(struct jsonw *w)
{
    put(w, "}", 1);
    w->need_comma = true;
}

void jsonw_array_begin(struct jsonw *w)
{
    value_begin(w);
    put(w, "[", 1);
    w->need_comma = false;
}

void jsonw_array_end(struct jsonw *w)
{
    put(w, "]", 1);
    w->need_comma = true;
}

size_t jsonw_utf8_len(const unsigned char *p)
{
    size_t n;
    uint32_t min;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xe0) == 0xc0)
        n = 2, min = 0x80;
    else if ((p[0] & 0xf0) == 0xe0)
        n = 3, min = 0x800;
    else if ((p[0] & 0xf8) == 0xf0)
        n = 4, min = 0x10000;
    else
        return 0;
    uint32_t cp = p[0] & (0x7fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* JSON text must be UTF-8: a byte that is not (a migration folder named in Latin-1, a line
 * of a tool's output) becomes U+FFFD rather than making the whole document unreadable. */
static void put_escaped(struct jsonw *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            puts_(w, "\\\"");
            break;
        case '\\':
            puts_(w, "\\\\");
            break;
        case '\n':
            puts_(w, "\\n");
            break;
        case '\r':
            puts_(w, "\\r");
            break;
        case '\t':
            puts_(w, "\\t");
            break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                puts_(w, esc);
            } else {
                size_t n = jsonw_utf8_len(p);
                if (n == 0) {
                    puts_(w, "\\ufffd");
                } else if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f) {
                    /* A C1 control (U+009B is CSI): as an escape, so that printing the
                     * document cannot drive a terminal. */
                    snprintf(esc, sizeof esc, "\\u%04x", p[1]);
                    puts_(w, esc);
                    p++;
                } else {
                    put(w, (const char *)p, n);
                    p += n - 1;
                }
            }
        }
    }
    put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
    value_begin(w);
    put_escaped(w, key);
    put(w, ":", 1);
    w->need_comma = false;
}

void jsonw_string(struct jsonw *w, const char *s)
{
    if (!s) {
        jsonw_null(w);
        return;
    }
    value_begin(w);
    put_escaped(w, s);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
    char buf[32];
    value_begin(w);
    snprintf(buf, sizeof buf, "%" PRId64, v);
    puts_(w, buf);
}

void jsonw_bool(struct jsonw *w, bool v)
{
    value_begin(w);
    puts_(w, v ? "true" : "false");
}

void jsonw_null(struct jsonw *w)
{
    value_begin(w);
    puts_(w, "null");
}
