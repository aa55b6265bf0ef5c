/* The Prisma config file (prisma.config.ts and its kin), as a user writes it: the one reader
 * of its schema and migrations.path values. Beyond memory safety: every value is one of the
 * documented outcomes, a found path is a whole non-empty C string, and a comment never changes
 * what is read. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prisma/config.h"
#include "fuzz.h"

static void check_value(const struct prisma_config_value *v)
{
    CHECK(v->rc == 0 || v->rc == -ENOENT || v->rc == -EINVAL || v->rc == -ENAMETOOLONG);
    CHECK(memchr(v->path, '\0', sizeof v->path));
    if (v->rc == 0)
        CHECK(v->path[0] != '\0');
    else
        CHECK(v->path[0] == '\0');
}

static bool same(const struct prisma_config_value *a, const struct prisma_config_value *b)
{
    return a->rc == b->rc && strcmp(a->path, b->path) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    static struct prisma_config_values v, w;
    prisma_config_parse(text, size, &v);
    check_value(&v.schema);
    check_value(&v.migrations);

    /* A comment line before the text reads the same: comments never change what is read. */
    static const char head[] = "// schema: 'not/this' migrations: { path: 'nor/this' }\n";
    char *more = malloc(size + sizeof head);
    CHECK(more);
    memcpy(more, head, sizeof head - 1);
    memcpy(more + sizeof head - 1, text, size);
    prisma_config_parse(more, size + sizeof head - 1, &w);
    CHECK(same(&v.schema, &w.schema) && same(&v.migrations, &w.migrations));
    free(more);
    return 0;
}
