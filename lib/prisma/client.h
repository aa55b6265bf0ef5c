/* A generated Prisma client, read without running it: what it was generated from (the schema
 * it embeds and the Prisma version that wrote it), and which file holds that. */
#ifndef DEVINIT_PRISMA_CLIENT_H
#define DEVINIT_PRISMA_CLIENT_H

#include <stddef.h>

#include "prisma/schema.h"

/* Extracts the config object's "clientVersion" (into version) and "inlineSchema" (decoded,
 * malloc'ed into *schema, caller frees) from a generated index.js or internal/class.ts.
 * 0, or -ENOENT when either is missing (not a Prisma 5+ client), -EINVAL/-ENOMEM. Pure. */
int prisma_client_extract(const char *text, size_t len, char *version, size_t vlen, char **schema);

/* Where the client of a generator keeps its embedded config (index.js or internal/class.ts),
 * for generators of a client kind whose output is known. 0, or -ENOENT when no such file. */
int prisma_client_file(const struct prisma_generator *g, char *out, size_t outlen);

#endif
