/* The app directory's .env file: every input is the text of one, as devinit reads it when the
 * environment has no DATABASE_URL.
 *
 * Besides memory safety, checks what envfile.h promises:
 *   - the last definition wins: a definition appended after any text is the one found;
 *   - a "double-quoted" value gives back exactly the bytes its \\ \" \n \r \t escapes stand for;
 *   - a 'single-quoted' value is taken literally, newlines included.
 * The quoted round trips use the input up to its first NUL (a value is a C string). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/envfile.h"
#include "fuzz.h"

#define KEY  "DATABASE_URL"
#define LAST "postgresql://last@db/app"

/* envfile_parse_get on len bytes of text; the value (malloc'd) or NULL when not defined. */
static char *get(const char *text, size_t len)
{
    char *v = NULL;
    int r = envfile_parse_get(text, len, KEY, &v);
    CHECK(r == 0 || r == -ENOENT);
    CHECK((r == 0) == (v != NULL));
    return v;
}

/* KEY=<open><body><close>\n parsed gives want. */
static void round_trip(const char *body, size_t blen, char quote, const char *want)
{
    size_t len = sizeof KEY + 3 + blen;
    char *text = malloc(len);
    if (!text)
        return;
    int n = snprintf(text, len, KEY "=%c", quote);
    memcpy(text + n, body, blen);
    text[n + blen] = quote;
    text[n + blen + 1] = '\n';
    char *v = get(text, (size_t)n + blen + 2);
    CHECK(v && !strcmp(v, want));
    free(v);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    free(get(in, size));

    /* The last definition wins, whatever came before it. */
    static const char tail[] = "\n" KEY "=" LAST "\n";
    char *text = malloc(size + sizeof tail);
    if (!text)
        return 0;
    memcpy(text, in, size);
    memcpy(text + size, tail, sizeof tail - 1);
    char *v = get(text, size + sizeof tail - 1);
    CHECK(v && !strcmp(v, LAST));
    free(v);
    free(text);

    size_t slen = strnlen(in, size);
    char *want = malloc(slen + 1);
    char *esc = malloc(2 * slen + 1);
    if (want && esc) {
        memcpy(want, in, slen);
        want[slen] = '\0';
        size_t e = 0;
        for (size_t i = 0; i < slen; i++) {
            const char *s = strchr("\\\"\n\r\t", in[i]);
            if (s) {
                esc[e++] = '\\';
                esc[e++] = "\\\"nrt"[s - "\\\"\n\r\t"];
            } else {
                esc[e++] = in[i];
            }
        }
        round_trip(esc, e, '"', want);
        if (!memchr(in, '\'', slen))
            round_trip(in, slen, '\'', want);
    }
    free(want);
    free(esc);
    return 0;
}
