/* Schema text as a user writes it: the whitespace normaliser (what decides whether a schema
 * changed), the generator-block parser with the output path resolution behind it, and the
 * datasource reader (which variable holds the URL). (The Prisma config file:
 * fuzz_prisma_config.c.)
 *
 * The normaliser's contract is checked, not only its memory safety: its output is no longer
 * than its input, normalising twice changes nothing, and it only ever touches white space
 * (deleting every white-space byte from input and output gives the same text), so two schemas
 * it calls equivalent differ in white space alone. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prisma/schema.h"
#include "fuzz.h"

__attribute__((no_sanitize("coverage"))) static bool white(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Whether a and b are the same once every white-space byte is gone. Not instrumented: the
 * fuzzer has nothing to learn from the checker's comparisons, and they cost time. */
__attribute__((no_sanitize("coverage"))) static bool same_without_white(const char *a, size_t alen,
                                                                        const char *b, size_t blen)
{
    size_t i = 0, k = 0;
    for (;;) {
        while (i < alen && white(a[i]))
            i++;
        while (k < blen && white(b[k]))
            k++;
        if (i == alen || k == blen)
            return i == alen && k == blen;
        if (a[i++] != b[k++])
            return false;
    }
}

static const char *fake_env(const char *name)
{
    return strcmp(name, "OUT") ? NULL : "../generated/from-env";
}

static void check_normalize(const char *text, size_t size)
{
    char *norm = malloc(size + 1);
    if (!norm)
        return;
    size_t n = prisma_schema_normalize(text, size, norm);
    CHECK(n <= size && norm[n] == '\0');
    CHECK(same_without_white(text, size, norm, n));

    char *again = malloc(n + 1);
    if (again) {
        size_t n2 = prisma_schema_normalize(norm, n, again);
        if (n2 != n || memcmp(norm, again, n)) {
            fprintf(stderr, "normalising is not idempotent:\n  once:  %.*s\n  twice: %.*s\n",
                    (int)n, norm, (int)n2, again);
            abort();
        }
        free(again);
    }
    free(norm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    /* prisma_schema_equivalent() is this normaliser applied to both sides and a memcmp. */
    check_normalize(text, size);

    /* Static: sixteen generators hold 130 KiB of path buffers, too much to clear per run;
     * the parser clears each one it fills. */
    static struct prisma_generator gens[PRISMA_MAX_GENERATORS];
    size_t count = 0;
    int rc = prisma_generators_parse(text, size, gens, PRISMA_MAX_GENERATORS, &count);
    CHECK((rc == 0 || rc == -E2BIG) && count <= PRISMA_MAX_GENERATORS);
    for (size_t i = 0; i < count; i++) {
        struct prisma_generator *g = &gens[i];
        CHECK(memchr(g->name, '\0', sizeof g->name) && g->name[0]);
        CHECK(memchr(g->provider, '\0', sizeof g->provider));
        CHECK(memchr(g->output, '\0', sizeof g->output));
        prisma_generator_resolve(g, i % 2 ? "/app" : "", "prisma/schema", fake_env);
        CHECK(memchr(g->resolved, '\0', sizeof g->resolved));
        CHECK(g->kind == PRISMA_GEN_OTHER || g->kind == PRISMA_GEN_CLIENT_JS ||
              g->kind == PRISMA_GEN_CLIENT);
        /* Resolved paths are lexically clean: no "." segment survives path.resolve(). */
        CHECK(!strstr(g->resolved, "/./") && !strstr(g->resolved, "//"));
    }

    /* The datasource's variable: a whole name that fits, or var untouched. */
    char var[16] = "untouched";
    prisma_datasource_parse(text, size, var, sizeof var);
    CHECK(memchr(var, '\0', sizeof var));

    return 0;
}
