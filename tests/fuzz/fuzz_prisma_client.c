/* The generated-client reader: clientVersion and inlineSchema out of a generated index.js or
 * internal/class.ts, and the JSON reader behind it and behind package.json's prisma.schema.
 * Files other tools wrote. (The schema text itself: fuzz_prisma_schema.c.) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "prisma/client.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;

    char version[64];
    char *schema = (char *)"unset";
    int rc = prisma_client_extract(text, size, version, sizeof version, &schema);
    if (rc == 0) {
        CHECK(schema && memchr(version, '\0', sizeof version));
        /* Decoding never grows the text. */
        CHECK(strlen(schema) < size);
        free(schema);
    } else {
        CHECK(schema == NULL);
    }

    /* package.json: a path of keys to a string; a small buffer reaches -E2BIG. */
    static const char *const path[] = {"prisma", "schema", NULL};
    char out[32];
    rc = json_get_string(text, size, path, out, sizeof out);
    if (rc == 0)
        CHECK(memchr(out, '\0', sizeof out));

    /* A string literal read on its own, where the text starts with one. */
    size_t end = 0;
    char *s = json_decode_string(text, size, &end);
    if (s) {
        CHECK(size && text[0] == '"' && end >= 2 && end <= size && text[end - 1] == '"');
        CHECK(strlen(s) <= end - 2);
        free(s);
    }
    return 0;
}
