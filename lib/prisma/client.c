/* The generated client: see client.h. */
#include "prisma/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/json.h"

static bool ascii_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

/* Finds `key` used as an object key (quoted or not) and returns the offset of the string
 * literal that is its value, or SIZE_MAX. */
static size_t find_key_string(const char *text, size_t len, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen <= len; i++) {
        const char *hit = memmem(text + i, len - i, key, klen);
        if (!hit)
            return SIZE_MAX;
        size_t at = (size_t)(hit - text);
        i = at;
        if (at > 0 && (word_char(text[at - 1])))
            continue;
        size_t p = at + klen;
        if (p < len && text[p] == '"')
            p++;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p >= len || text[p] != ':')
            continue;
        p++;
        while (p < len && ascii_ws(text[p]))
            p++;
        if (p < len && text[p] == '"')
            return p;
    }
    return SIZE_MAX;
}

int prisma_client_extract(const char *text, size_t len, char *version, size_t vlen, char **schema)
{
    *schema = NULL;
    size_t v = find_key_string(text, len, "clientVersion");
    size_t s = find_key_string(text, len, "inlineSchema");
    if (v == SIZE_MAX || s == SIZE_MAX)
        return -ENOENT;
    char *ver = json_decode_string(text + v, len - v, NULL);
    if (!ver)
        return -EINVAL;
    int rc = 0;
    if (strlen(ver) >= vlen)
        rc = -E2BIG;
    else
        strcpy(version, ver);
    free(ver);
    if (rc < 0)
        return rc;
    *schema = json_decode_string(text + s, len - s, NULL);
    return *schema ? 0 : -EINVAL;
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int prisma_client_file(const struct prisma_generator *g, char *out, size_t outlen)
{
    if (!g->resolved[0])
        return -ENOENT;
    static const char *const js[] = {"index.js", NULL};
    static const char *const ts[] = {"internal/class.ts", "internal/class.mts",
                                     "internal/class.cts", NULL};
    const char *const *names = g->kind == PRISMA_GEN_CLIENT_JS ? js
                               : g->kind == PRISMA_GEN_CLIENT  ? ts
                                                               : NULL;
    if (!names)
        return -ENOENT;
    for (size_t i = 0; names[i]; i++) {
        int n = snprintf(out, outlen, "%s/%s", g->resolved, names[i]);
        if (n < 0 || (size_t)n >= outlen)
            return -ENAMETOOLONG;
        if (is_file(out))
            return 0;
    }
    return -ENOENT;
}
