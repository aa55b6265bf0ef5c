/* The generated-client reader (clientVersion and inlineSchema from index.js/class.ts), the
 * schema normaliser and the generator-block parser: all read files a user's tools wrote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prisma_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    char version[64];
    char *schema = NULL;
    if (prisma_client_extract(text, size, version, sizeof version, &schema) == 0)
        free(schema);

    char *norm = malloc(size + 1);
    if (norm) {
        size_t n = prisma_schema_normalize(text, size, norm);
        if (n > size)
            __builtin_trap();
        /* Normalising is idempotent: a normalised schema is equivalent to itself. */
        if (!prisma_schema_equivalent(text, size, norm, n))
            __builtin_trap();
        free(norm);
    }

    static struct prisma_generator gens[PRISMA_MAX_GENERATORS];
    size_t count = 0;
    prisma_generators_parse(text, size, gens, PRISMA_MAX_GENERATORS, &count);
    if (count > PRISMA_MAX_GENERATORS)
        __builtin_trap();

    char out[256];
    static const char *const path[] = {"prisma", "schema", NULL};
    prisma_json_string(text, size, path, out, sizeof out);
    prisma_config_schema(text, size, out, sizeof out);
    return 0;
}
