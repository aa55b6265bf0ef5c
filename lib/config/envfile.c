/* The .env fallback. See envfile.h for the syntax and the contract. */
#include "config/envfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

#define ENVFILE_MAX (1024 * 1024)

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses the value starting at p (after '=' and blanks); returns a malloc'd string and moves
 * *next past the value's line(s). NULL only when out of memory. */
static char *parse_value(const char *p, const char *end, const char **next)
{
    char *v = malloc((size_t)(end - p) + 1);
    size_t n = 0;
    if (!v)
        return NULL;
    if (p < end && (*p == '\'' || *p == '"' || *p == '`')) {
        char q = *p++;
        const char *close = p;
        while (close < end && *close != q) {
            if (q == '"' && *close == '\\' && close + 1 < end)
                close++;
            close++;
        }
        if (close < end) {
            for (const char *s = p; s < close; s++) {
                if (q == '"' && *s == '\\' && s + 1 < close) {
                    s++;
                    switch (*s) {
                    case 'n':
                        v[n++] = '\n';
                        break;
                    case 'r':
                        v[n++] = '\r';
                        break;
                    case 't':
                        v[n++] = '\t';
                        break;
                    default:
                        v[n++] = *s;
                        break; /* \\ \" and anything else: the char */
                    }
                } else {
                    v[n++] = *s;
                }
            }
            v[n] = '\0';
            const char *nl = memchr(close, '\n', (size_t)(end - close));
            *next = nl ? nl + 1 : end;
            return v;
        }
        /* No closing quote: dotenv then takes the line as an unquoted value. */
        p--;
    }
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *e = nl ? nl : end;
    for (const char *s = p; s < e; s++) {
        if (*s == '#' && (s == p || is_blank(s[-1])))
            break;
        v[n++] = *s;
    }
    while (n && (is_blank(v[n - 1]) || v[n - 1] == '\r'))
        n--;
    v[n] = '\0';
    *next = nl ? nl + 1 : end;
    return v;
}

int envfile_parse_get(const char *text, size_t len, const char *key, char **value)
{
    const char *p = text, *end = text + len;
    size_t klen = strlen(key);
    char *found = NULL;

    while (p < end) {
        while (p < end && (is_blank(*p) || *p == '\r' || *p == '\n'))
            p++;
        if (p >= end)
            break;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (*p == '#') {
            p = nl ? nl + 1 : end;
            continue;
        }
        if ((size_t)(eol - p) > 7 && !strncmp(p, "export", 6) && is_blank(p[6])) {
            p += 7;
            while (p < eol && is_blank(*p))
                p++;
        }
        const char *k = p;
        while (p < eol && *p != '=' && !is_blank(*p))
            p++;
        size_t kn = (size_t)(p - k);
        while (p < eol && is_blank(*p))
            p++;
        if (p >= eol || *p != '=' || kn == 0) {
            p = nl ? nl + 1 : end; /* malformed: skipped */
            continue;
        }
        p++;
        while (p < eol && is_blank(*p))
            p++;
        const char *next;
        char *v = parse_value(p, end, &next);
        if (!v) {
            free(found);
            return -ENOMEM;
        }
        if (kn == klen && !memcmp(k, key, klen)) {
            free(found); /* the last definition wins */
            found = v;
        } else {
            free(v);
        }
        p = next;
    }
    if (!found)
        return -ENOENT;
    *value = found;
    return 0;
}

int envfile_lookup(const char *dir, const char *key, char **value, const char **from)
{
    const char *env = getenv(key);
    if (env) {
        *value = strdup(env);
        if (!*value)
            return -ENOMEM;
        if (from)
            *from = "environment";
        return 0;
    }

    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s.env", dir && *dir ? dir : "",
                     dir && *dir && dir[strlen(dir) - 1] != '/' ? "/" : "");
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    char *buf;
    size_t got;
    int rc = file_read(AT_FDCWD, path, 0, ENVFILE_MAX, &buf, &got);
    if (rc < 0)
        return rc;
    int r = envfile_parse_get(buf, got, key, value);
    free(buf);
    if (r == 0 && from)
        *from = ".env";
    return r;
}
