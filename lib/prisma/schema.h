/* What devinit needs to know about a Prisma project without running Prisma: where the schema
 * and the config file are, which generators the schema declares and where they write, and
 * what an existing generated client was generated from (its embedded schema and version).
 *
 * Text functions are pure (no I/O); the prisma_find_* functions only stat and read small
 * files. Paths are joined lexically, as Node's path.resolve() does for Prisma. */
#ifndef DEVINIT_PRISMA_SCHEMA_H
#define DEVINIT_PRISMA_SCHEMA_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- JSON (package.json, the generated client's config object) ---- */

/* Finds the string at a path of object keys, e.g. {"prisma", "schema", NULL} in package.json,
 * and copies it decoded (JSON escapes, \uXXXX as UTF-8) into out. 0; -ENOENT when the path
 * is absent; -EINVAL when the text is not JSON or the value is not a string; -E2BIG when out
 * is too small. */
int prisma_json_string(const char *json, size_t len, const char *const *path, char *out,
                       size_t outlen);

/* Decodes the JSON string literal starting at s[0] == '"' (s holds len bytes). Returns a
 * malloc'ed NUL-terminated string (caller frees) and sets *end to the byte after the closing
 * quote, or NULL when the literal is malformed or memory runs out. */
char *prisma_json_decode(const char *s, size_t len, size_t *end);

/* ---- Schema text ---- */

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

/* Sets g->kind from the provider and g->resolved: the output joined to the directory of the
 * schema file that declares it (schema_dir, relative to the app or absolute), or for
 * prisma-client-js without output, "node_modules/.prisma/client" under app_dir. env("NAME")
 * values are looked up with getenv_fn (may be NULL: unknown). app_dir "" is the cwd. */
void prisma_generator_resolve(struct prisma_generator *g, const char *app_dir,
                              const char *schema_dir, const char *(*getenv_fn)(const char *));

/* ---- A generated client ---- */

/* Extracts the config object's "clientVersion" (into version) and "inlineSchema" (decoded,
 * malloc'ed into *schema, caller frees) from a generated index.js or internal/class.ts.
 * 0, or -ENOENT when either is missing (not a Prisma 5+ client), -EINVAL/-ENOMEM. */
int prisma_client_extract(const char *text, size_t len, char *version, size_t vlen, char **schema);

/* ---- Prisma config file ---- */

/* The schema location written as a string literal in a prisma.config.* file
 * (`schema: "prisma/schema.prisma"`), comments skipped. 0; -ENOENT when there is no schema
 * key; -EINVAL when its value is not a plain literal (devinit cannot evaluate it). */
int prisma_config_schema(const char *text, size_t len, char *out, size_t outlen);

/* ---- Paths ---- */

/* Joins base and rel lexically (rel absolute: rel alone; base "": rel alone) and removes "."
 * and "name/.." segments, as path.resolve() does. 0 or -ENAMETOOLONG. */
int prisma_path_join(const char *base, const char *rel, char *out, size_t outlen);

/* The directory part of path ("" for a bare name, "/" for a file in the root). */
void prisma_path_dirname(const char *path, char *out, size_t outlen);

/* ---- Discovery (reads the file system) ---- */

/* Where the schema was found, for messages. */
enum prisma_schema_origin {
    PRISMA_FROM_CONFIG_KEY = 0, /* [prisma] schema */
    PRISMA_FROM_CONFIG_FILE,    /* schema: in prisma.config.* */
    PRISMA_FROM_PACKAGE_JSON,   /* package.json's prisma.schema */
    PRISMA_FROM_DEFAULT,        /* prisma/schema.prisma or prisma/schema/ */
};

#define PRISMA_MAX_SCHEMA_FILES 256

struct prisma_project {
    char app_dir[PATH_MAX]; /* as configured: "" is the cwd */
    char config[PATH_MAX];  /* the Prisma config file (joined to app_dir), "" when none */
    char schema[PATH_MAX];  /* the schema file or folder (joined to app_dir) */
    bool schema_is_dir;
    enum prisma_schema_origin origin;
    size_t nfiles;
    char *files[PRISMA_MAX_SCHEMA_FILES]; /* every *.prisma file, in path order; owned */
    size_t ngens;
    struct prisma_generator gens[PRISMA_MAX_GENERATORS];
};

/* Finds the Prisma config file: cfg_config when non-empty (it must exist), else the first of
 * prisma.config.{ts,mts,cts,js,mjs,cjs} and .config/prisma.{ts,...} in app_dir. 0 with the
 * path (joined to app_dir) in out, -ENOENT when there is none. */
int prisma_find_config(const char *app_dir, const char *cfg_config, char *out, size_t outlen);

/* Finds the schema (see enum prisma_schema_origin for the order), lists its files and parses
 * its generators. p must be zeroed by the caller; prisma_project_free releases it.
 * 0; -ENOENT when no schema exists (err says where devinit looked); -EINVAL with err for a
 * schema that cannot be used (an unevaluable config value, too many generators); -errno. */
int prisma_find_project(struct prisma_project *p, const char *app_dir, const char *cfg_schema,
                        const char *cfg_config, const char *(*getenv_fn)(const char *), char *err,
                        size_t errlen);

void prisma_project_free(struct prisma_project *p);

/* Reads a whole small file into a malloc'ed, NUL-terminated buffer (caller frees).
 * 0, -ENOENT, -EFBIG beyond max bytes, or -errno. */
int prisma_read_file(const char *path, size_t max, char **text, size_t *len);

/* The "version" of node_modules/<package>/package.json, looked up from app_dir upwards as
 * Node resolves packages. 0 with the version, and the package's directory in dir when dir is
 * non-NULL; -ENOENT when the package is not installed. */
int prisma_package_version(const char *app_dir, const char *package, char *version, size_t vlen,
                           char *dir, size_t dirlen);

/* Where the client of a generator keeps its embedded config (index.js or internal/class.ts),
 * for generators of a client kind whose output is known. 0, or -ENOENT when no such file. */
int prisma_client_file(const struct prisma_generator *g, char *out, size_t outlen);

#endif
