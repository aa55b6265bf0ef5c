/* The app directory's `.env` file, read as Prisma users expect: a fallback for a variable the
 * environment lacks, never overriding the environment.
 *
 * Syntax (the dotenv subset Prisma's CLI accepts): one KEY=VALUE per line; blank lines and
 * lines starting with '#' are ignored; an optional `export ` prefix; spaces around the key and
 * the '=' are ignored; VALUE may be
 *   - unquoted: up to an unquoted " #" comment, trailing spaces trimmed;
 *   - 'single quoted': taken literally;
 *   - "double quoted": \n, \r, \t, \\ and \" are unescaped; may span lines;
 *   - `backquoted`: taken literally.
 * Variable expansion ($VAR) is not done. Pure logic apart from envfile_lookup(). */
#ifndef DEVINIT_ENVFILE_H
#define DEVINIT_ENVFILE_H

#include <stddef.h>

/* Finds key in the text of a .env file (len bytes, need not be NUL-terminated). The last
 * definition wins, as with dotenv. On success *value is a malloc'd string the caller frees.
 * Returns 0, -ENOENT (not defined), -ENOMEM. A malformed line is skipped. */
int envfile_parse_get(const char *text, size_t len, const char *key, char **value);

/* The value of variable key: from the environment if set (even empty), else from
 * `<dir>/.env` (dir "" or NULL = the working directory). *value is malloc'd (caller frees);
 * *from, when not NULL, is set to "environment" or ".env". Returns 0, -ENOENT (neither has
 * it, or there is no .env), -ENOMEM, or another -errno when .env exists but cannot be read. */
int envfile_lookup(const char *dir, const char *key, char **value, const char **from);

#endif
