/* Prisma schema text, without running Prisma: a whitespace-insensitive form to compare and
 * hash schemas by, and the generator blocks with where each writes its output. Pure, apart
 * from the environment lookups prisma_generator_resolve() is handed. */
#ifndef DEVINIT_PRISMA_SCHEMA_H
#define DEVINIT_PRISMA_SCHEMA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* A whitespace-insensitive form of schema text, for comparing a schema with the formatted copy
 * Prisma embeds in the client (`prisma format` only moves whitespace) and for hashing it so a
 * whitespace-only edit is not a change. Stricter than deleting every ASCII whitespace byte,
 * and never equal where that is not: whitespace inside "string literals" is kept exactly, a
 * run between two word characters (`id Int`) becomes one space, a run that ends a // comment
 * becomes one newline, every other run is dropped. Returns the length written; out needs at
 * most len + 1 bytes and is NUL-terminated. */
size_t prisma_schema_normalize(const char *text, size_t len, char *out);

/* Whether a and b have the same prisma_schema_normalize() form. */
bool prisma_schema_equivalent(const char *a, size_t alen, const char *b, size_t blen);

enum prisma_gen_kind {
    PRISMA_GEN_OTHER = 0, /* any other generator: only its output's existence is checked */
    PRISMA_GEN_CLIENT_JS, /* prisma-client-js: <output>/index.js */
    PRISMA_GEN_CLIENT,    /* prisma-client: <output>/internal/class.ts (or .mts/.cts) */
};

#define PRISMA_MAX_GENERATORS 16
#define PRISMA_NAME_MAX       128

struct prisma_generator {
    char name[PRISMA_NAME_MAX];
    char provider[256];    /* the literal, or the variable's name when provider_env */
    char output[PATH_MAX]; /* as written; "" when the block has none */
    bool provider_env;     /* provider = env("NAME") */
    bool output_env;       /* output = env("NAME") */
    enum prisma_gen_kind kind;
    /* Filled by prisma_generator_resolve: */
    char resolved[PATH_MAX]; /* the output directory, "" when it cannot be known */
};

/* Appends the generator blocks of one schema file's text to gens (up to max in all; *count
 * is both the number already there and the result). Comments and strings are understood; a
 * block that is not `generator NAME { key = value ... }` is skipped. 0, or -E2BIG when more
 * than max generators are declared. */
int prisma_generators_parse(const char *text, size_t len, struct prisma_generator *gens, size_t max,
                            size_t *count);

/* Whether one schema file's text declares a datasource block; the variable its url reads
 * (Prisma 5 and 6: `url = env("DATABASE_URL")`) goes to var when it names one that fits, else
 * var is left as it is. Comments and strings are understood, as for generators. */
bool prisma_datasource_parse(const char *text, size_t len, char *var, size_t varlen);

/* Sets g->kind from the provider and g->resolved: the output joined to the directory of the
 * schema file that declares it (schema_dir, relative to the app or absolute), or for
 * prisma-client-js without output, "node_modules/.prisma/client" under app_dir. env("NAME")
 * values are looked up with getenv_fn (may be NULL: unknown). app_dir "" is the cwd. */
void prisma_generator_resolve(struct prisma_generator *g, const char *app_dir,
                              const char *schema_dir, const char *(*getenv_fn)(const char *));

#endif
