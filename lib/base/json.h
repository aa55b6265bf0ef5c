/* Reading JSON: just enough for package.json, the package managers' records and the config
 * object of a generated Prisma client. Pure: no I/O, no allocation but the returned strings.
 * (Writing JSON is jsonw.h.) */
#ifndef DEVINIT_JSON_H
#define DEVINIT_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Finds the string at a path of object keys, e.g. {"prisma", "schema", NULL} in package.json,
 * and copies it decoded (JSON escapes, \uXXXX as UTF-8) into out. A later duplicate key wins.
 * 0; -ENOENT when the path is absent; -EINVAL when the text is not JSON or the value is not a
 * string; -E2BIG when out is too small. */
int json_get_string(const char *json, size_t len, const char *const *path, char *out,
                    size_t outlen);

/* The same for an integer value (no fraction, no exponent, within int64). 0; -ENOENT; -EINVAL
 * when the text is not JSON or the value is not such a number. */
int json_get_int(const char *json, size_t len, const char *const *path, long long *out);

/* Decodes the JSON string literal starting at s[0] == '"' (s holds len bytes). Returns a
 * malloc'ed NUL-terminated string (caller frees) and sets *end (when not NULL) to the byte
 * after the closing quote, or NULL when the literal is malformed or memory runs out. */
char *json_decode_string(const char *s, size_t len, size_t *end);

/* Calls fn for each member of the object (key decoded) or element of the array (key NULL) at
 * path (NULL: the top), with the value's raw text, in file order; a nonzero return from fn
 * stops and is returned. 0; -ENOENT when the path is absent; -EINVAL when the text is not JSON
 * or the value is neither an object nor an array; -ENOMEM. */
int json_each(const char *json, size_t len, const char *const *path,
              int (*fn)(void *data, const char *key, const char *value, size_t vlen), void *data);

#endif
