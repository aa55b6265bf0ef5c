/* Reading JSON: see json.h. */
#include "base/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct jscan {
    const char *s;
    size_t len, pos;
};

static bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void jskip_ws(struct jscan *j)
{
    while (j->pos < j->len && json_ws(j->s[j->pos]))
        j->pos++;
}

static int jskip_string(struct jscan *j)
{
    if (j->pos >= j->len || j->s[j->pos] != '"')
        return -EINVAL;
    for (j->pos++; j->pos < j->len; j->pos++) {
        char c = j->s[j->pos];
        if (c == '\\')
            j->pos++;
        else if (c == '"') {
            j->pos++;
            return 0;
        }
    }
    return -EINVAL;
}

/* Skips one value. Depth is bounded so a hostile file cannot exhaust the stack. */
static int jskip_value(struct jscan *j, int depth)
{
    if (depth > 64)
        return -EINVAL;
    jskip_ws(j);
    if (j->pos >= j->len)
        return -EINVAL;
    char c = j->s[j->pos];
    if (c == '"')
        return jskip_string(j);
    if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->pos++;
        jskip_ws(j);
        if (j->pos < j->len && j->s[j->pos] == close) {
            j->pos++;
            return 0;
        }
        for (;;) {
            if (c == '{') {
                jskip_ws(j);
                if (jskip_string(j) < 0)
                    return -EINVAL;
                jskip_ws(j);
                if (j->pos >= j->len || j->s[j->pos] != ':')
                    return -EINVAL;
                j->pos++;
            }
            if (jskip_value(j, depth + 1) < 0)
                return -EINVAL;
            jskip_ws(j);
            if (j->pos >= j->len)
                return -EINVAL;
            if (j->s[j->pos] == ',') {
                j->pos++;
                continue;
            }
            if (j->s[j->pos] == close) {
                j->pos++;
                return 0;
            }
            return -EINVAL;
        }
    }
    /* A number, true, false or null: a run of their characters. */
    size_t start = j->pos;
    while (j->pos < j->len && j->s[j->pos] && strchr("+-.0123456789eEtrufalsn", j->s[j->pos]))
        j->pos++;
    return j->pos > start ? 0 : -EINVAL;
}

static void utf8_put(char *out, size_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xF0 | (cp >> 18));
        out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

static int hex4(const char *s, size_t len, size_t at, uint32_t *v)
{
    if (at + 4 > len)
        return -EINVAL;
    *v = 0;
    for (size_t i = at; i < at + 4; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (d < 0)
            return -EINVAL;
        *v = (*v << 4) | (uint32_t)d;
    }
    return 0;
}

char *json_decode_string(const char *s, size_t len, size_t *end)
{
    if (len == 0 || s[0] != '"')
        return NULL;
    /* Decoding never grows the text: every escape is at least as long as its UTF-8. */
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == '"') {
            out[o] = '\0';
            if (end)
                *end = i + 1;
            return out;
        }
        if (c != '\\') {
            out[o++] = c;
            continue;
        }
        if (++i >= len)
            break;
        /* The one-letter escapes, letter and byte at the same index. */
        static const char letters[] = "ntrbf", bytes[] = "\n\t\r\b\f";
        const char *l = s[i] ? strchr(letters, s[i]) : NULL;
        if (l) {
            out[o++] = bytes[l - letters];
            continue;
        }
        switch (s[i]) {
        case 'u': {
            uint32_t cp;
            if (hex4(s, len, i + 1, &cp) < 0)
                goto bad;
            i += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < len && s[i + 1] == '\\' && s[i + 2] == 'u') {
                uint32_t lo;
                if (hex4(s, len, i + 3, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            utf8_put(out, &o, cp);
            break;
        }
        default:
            out[o++] = s[i];
            break; /* \" \\ \/ and, leniently, anything else */
        }
    }
bad:
    free(out);
    return NULL;
}

/* Positions j at the value of key in the object that starts at j->pos. As JSON.parse does,
 * a later duplicate key wins. */
static int jfind_key(struct jscan *j, const char *key)
{
    jskip_ws(j);
    if (j->pos >= j->len || j->s[j->pos] != '{')
        return -EINVAL;
    j->pos++;
    size_t found = SIZE_MAX;
    jskip_ws(j);
    if (j->pos < j->len && j->s[j->pos] == '}')
        return -ENOENT;
    for (;;) {
        jskip_ws(j);
        size_t kstart = j->pos;
        if (jskip_string(j) < 0)
            return -EINVAL;
        size_t kend = j->pos;
        jskip_ws(j);
        if (j->pos >= j->len || j->s[j->pos] != ':')
            return -EINVAL;
        j->pos++;
        jskip_ws(j);
        size_t vstart = j->pos;
        if (jskip_value(j, 1) < 0)
            return -EINVAL;
        char *k = json_decode_string(j->s + kstart, kend - kstart, NULL);
        if (!k)
            return -ENOMEM;
        if (strcmp(k, key) == 0)
            found = vstart;
        free(k);
        jskip_ws(j);
        if (j->pos >= j->len)
            return -EINVAL;
        if (j->s[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->s[j->pos] == '}')
            break;
        return -EINVAL;
    }
    if (found == SIZE_MAX)
        return -ENOENT;
    j->pos = found;
    return 0;
}

/* Moves j to the value at path. 0, -ENOENT, -EINVAL, -ENOMEM. */
static int jfind_path(struct jscan *j, const char *const *path)
{
    for (size_t i = 0; path[i]; i++) {
        int rc = jfind_key(j, path[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int json_get_int(const char *json, size_t len, const char *const *path, long long *out)
{
    struct jscan j = {json, len, 0};
    int rc = jfind_path(&j, path);
    if (rc < 0)
        return rc;
    size_t start = j.pos;
    if (jskip_value(&j, 1) < 0)
        return -EINVAL;
    char num[24];
    size_t n = j.pos - start;
    if (n == 0 || n >= sizeof num)
        return -EINVAL;
    memcpy(num, json + start, n);
    num[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(num, &end, 10);
    if (*end || errno || !(num[0] == '-' || (num[0] >= '0' && num[0] <= '9')))
        return -EINVAL;
    *out = v;
    return 0;
}

int json_get_string(const char *json, size_t len, const char *const *path, char *out, size_t outlen)
{
    struct jscan j = {json, len, 0};
    int rc = jfind_path(&j, path);
    if (rc < 0)
        return rc;
    if (j.pos >= j.len || json[j.pos] != '"')
        return -EINVAL;
    char *v = json_decode_string(json + j.pos, len - j.pos, NULL);
    if (!v)
        return -EINVAL;
    size_t vlen = strlen(v);
    rc = 0;
    if (vlen >= outlen)
        rc = -E2BIG;
    else
        memcpy(out, v, vlen + 1);
    free(v);
    return rc;
}

int json_each(const char *json, size_t len, const char *const *path,
              int (*fn)(void *data, const char *key, const char *value, size_t vlen), void *data)
{
    struct jscan j = {json, len, 0};
    int rc = path ? jfind_path(&j, path) : 0;
    if (rc < 0)
        return rc;
    jskip_ws(&j);
    if (j.pos >= j.len || (j.s[j.pos] != '{' && j.s[j.pos] != '['))
        return -EINVAL;
    bool object = j.s[j.pos] == '{';
    char close = object ? '}' : ']';
    j.pos++;
    jskip_ws(&j);
    if (j.pos < j.len && j.s[j.pos] == close)
        return 0;
    for (;;) {
        jskip_ws(&j);
        char *k = NULL;
        if (object) {
            size_t kstart = j.pos;
            if (jskip_string(&j) < 0)
                return -EINVAL;
            k = json_decode_string(j.s + kstart, j.pos - kstart, NULL);
            if (!k)
                return -ENOMEM;
            jskip_ws(&j);
            if (j.pos >= j.len || j.s[j.pos] != ':') {
                free(k);
                return -EINVAL;
            }
            j.pos++;
            jskip_ws(&j);
        }
        size_t vstart = j.pos;
        if (jskip_value(&j, 1) < 0) {
            free(k);
            return -EINVAL;
        }
        rc = fn(data, k, j.s + vstart, j.pos - vstart);
        free(k);
        if (rc != 0)
            return rc;
        jskip_ws(&j);
        if (j.pos >= j.len)
            return -EINVAL;
        if (j.s[j.pos] == ',') {
            j.pos++;
            continue;
        }
        if (j.s[j.pos] == close)
            return 0;
        return -EINVAL;
    }
}
