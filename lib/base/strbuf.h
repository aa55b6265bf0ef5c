/* A message assembled from parts in a fixed buffer: each strbuf_addf() formats onto the end,
 * and what does not fit is cut, never overflows. The buffer always holds a NUL-terminated
 * string, so it can be used at any point. */
#ifndef DEVINIT_STRBUF_H
#define DEVINIT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *buf;
    size_t len, cap;
    bool truncated; /* something was cut */
};

/* Starts an empty string in buf (cap > 0 bytes, owned by the caller). */
void strbuf_init(struct strbuf *sb, char *buf, size_t cap);

/* Appends printf-style text. */
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends the strings of a NULL-terminated list, sep between them (for names, argv). */
void strbuf_join(struct strbuf *sb, const char *const *items, const char *sep);

#endif
