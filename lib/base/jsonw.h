/* A minimal JSON writer into a growing buffer: enough for `devinit check --json` and the
 * control socket. It tracks commas itself; the caller keeps objects and arrays balanced. */
#ifndef DEVINIT_JSONW_H
#define DEVINIT_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
    char *buf;
    size_t len, cap;
    bool need_comma;
    bool failed; /* an allocation failed; the buffer is incomplete */
};

/* The length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when it is not one
 * (a stray byte, a truncated or overlong sequence, a surrogate, beyond U+10FFFF). Reads no
 * further than a NUL. JSON text must be UTF-8; others that must know use this too. */
size_t jsonw_utf8_len(const unsigned char *p);

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* Writes "key": — the value call must follow. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_string(struct jsonw *w, const char *s); /* NULL writes null */
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

#endif
