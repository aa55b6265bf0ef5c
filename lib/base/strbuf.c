#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>

void strbuf_init(struct strbuf *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->truncated = false;
    buf[0] = '\0';
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
    size_t room = sb->cap - sb->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= room) {
        sb->len = sb->cap - 1;
        sb->truncated = true;
        return;
    }
    sb->len += (size_t)n;
}

void strbuf_join(struct strbuf *sb, const char *const *items, const char *sep)
{
    for (size_t i = 0; items[i]; i++)
        strbuf_addf(sb, "%s%s", i ? sep : "", items[i]);
}
