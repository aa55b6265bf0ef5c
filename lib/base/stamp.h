/* Stamps: small text files that record what a step's last successful act was made from, so
 * the next start can tell "already done" from "needed" by comparing a few hashes instead of
 * doing the work again. A stamp is a list of "key value" lines:
 *
 *     # devinit deps stamp: ...        (comment lines are ignored)
 *     stamp 1
 *     lockfile 3f5a...                 (one field per input, in a fixed order)
 *
 * Keeping one field per input (rather than one hash of everything) lets a step say *which*
 * input changed ("package-lock.json changed since the last install").
 *
 * A stamp is written only after the act succeeded, and atomically (temporary file, fsync,
 * rename, fsync of the directory): after a crash or a signal at any point the stamp is either
 * the old one, the new one, or absent, never a torn file that could match by accident. */
#ifndef DEVINIT_STAMP_H
#define DEVINIT_STAMP_H

#include <stdbool.h>
#include <stddef.h>

#define STAMP_MAX_FIELDS 32
#define STAMP_KEY_MAX    64
#define STAMP_VALUE_MAX  1024

struct stamp_field {
    char key[STAMP_KEY_MAX];     /* no whitespace */
    char value[STAMP_VALUE_MAX]; /* one line; may contain spaces */
};

struct stamp {
    unsigned count;
    struct stamp_field fields[STAMP_MAX_FIELDS];
};

void stamp_init(struct stamp *s);

/* Sets key to value, replacing an earlier value of the same key (order of first set is
 * kept). 0; -EINVAL for an empty key, a key with whitespace or a value with a newline;
 * -E2BIG when the stamp is full or the key or value is too long. */
int stamp_set(struct stamp *s, const char *key, const char *value);

/* The value of key, or NULL. */
const char *stamp_get(const struct stamp *s, const char *key);

/* The first key (in want's order) whose value in have differs or is absent, then the first
 * key of have that want lacks; NULL when both hold the same fields and values. */
const char *stamp_first_difference(const struct stamp *want, const struct stamp *have);

/* Parses a stamp's text. 0, or -EINVAL when a line is not "key value" or there are too many
 * fields (the file is then treated as no stamp by callers). */
int stamp_parse(const char *text, size_t len, struct stamp *s);

/* Formats s, after the optional one-line comment, into buf. Returns the length it needs
 * (like snprintf): a result >= len means buf was too small. */
size_t stamp_format(const struct stamp *s, const char *comment, char *buf, size_t len);

/* Reads and parses the stamp at path. 0; -ENOENT when there is none (also when a directory
 * on the path is missing); -EINVAL when the file is not a stamp; other -errno from I/O. */
int stamp_read(const char *path, struct stamp *s);

/* Replaces the stamp at path atomically: writes "<dir>/.<name>.tmp", fsyncs it, renames it
 * over path and fsyncs the directory. The temporary file is removed on every failure.
 * 0, or -errno (-ENOSPC when the disk is full, -ENOENT when the directory does not exist).
 * Logs nothing: the caller knows what the stamp stands for. */
int stamp_write(const char *path, const struct stamp *s, const char *comment);

/* Removes the stamp before an act starts, so an act interrupted halfway leaves no stamp that
 * still matches. An absent stamp is success. 0 or -errno. */
int stamp_remove(const char *path);

#endif
