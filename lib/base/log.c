#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static enum log_level threshold = LOG_INFO;
static int use_color = -1; /* -1: not decided yet */
static enum log_color color_policy = LOG_COLOR_AUTO;

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const char *const level_colors[] = {"\033[1;31m", "\033[1;33m", "\033[0;36m", "\033[0;90m"};

void log_setup(enum log_level level, enum log_color color)
{
    threshold = level;
    color_policy = color;
    use_color = -1;
}

enum log_level log_get_level(void)
{
    return threshold;
}

static bool colors_on(void)
{
    if (use_color < 0) {
        /* https://no-color.org: any non-empty NO_COLOR disables colour, even when forced. */
        const char *nc = getenv("NO_COLOR");
        if (nc && *nc)
            use_color = 0;
        else if (color_policy == LOG_COLOR_ALWAYS)
            use_color = 1;
        else if (color_policy == LOG_COLOR_NEVER)
            use_color = 0;
        else
            use_color = isatty(STDERR_FILENO);
    }
    return use_color == 1;
}

/* One write(2) per line: lines from devinit and its children interleave whole, and a line
 * is never split by stdio buffering when devinit exits with _exit(). */
static void emit(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

size_t log_vescape(char *out, size_t outlen, const char *fmt, va_list ap)
{
    char in[LOG_LINE_MAX];
    int n = vsnprintf(in, sizeof in, fmt, ap);
    size_t inlen = n > 0 ? ((size_t)n < sizeof in ? (size_t)n : sizeof in - 1) : 0;
    /* Messages quote names and values from files, the environment and the database: none of
     * their control bytes may reach the terminal (an escape sequence, a line of its own). */
    size_t o = 0;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        /* The C1 controls in UTF-8 (CSI is U+009B): terminals act on them as on ESC [. */
        bool c1 = c == 0xc2 && i + 1 < inlen && (unsigned char)in[i + 1] >= 0x80 &&
                  (unsigned char)in[i + 1] <= 0x9f;
        bool hex = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f;
        if (o + (c1 ? 8 : hex ? 4 : 1) >= outlen)
            break;
        if (c1) {
            o += (size_t)snprintf(out + o, outlen - o, "\\xc2\\x%02x", (unsigned char)in[++i]);
        } else if (hex) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        } else {
            out[o++] = c == '\n' ? ' ' : (char)c;
        }
    }
    out[o] = '\0';
    return o;
}

void log_vmsg(enum log_level level, const char *step, const char *fmt, va_list ap)
{
    if (level > threshold)
        return;
    int saved = errno;
    char line[LOG_LINE_MAX];
    size_t len = 0;
    bool color = colors_on();
    int n;
    if (step)
        n = snprintf(line, sizeof line, "devinit: %s: %s%s%s: ", step,
                     color ? level_colors[level] : "", level_names[level], color ? "\033[0m" : "");
    else
        n = snprintf(line, sizeof line, "devinit: %s%s%s: ", color ? level_colors[level] : "",
                     level_names[level], color ? "\033[0m" : "");
    if (n > 0)
        len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    errno = saved; /* %m in fmt must see the caller's errno */
    len += log_vescape(line + len, sizeof line - len, fmt, ap);
    if (len >= sizeof line - 1)
        len = sizeof line - 2;
    line[len++] = '\n';
    emit(line, len);
    errno = saved;
}

void log_msg(enum log_level level, const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, step, fmt, ap);
    va_end(ap);
}

void log_child_line(const char *step, const char *text, size_t len)
{
    if (LOG_INFO > threshold)
        return;
    int saved = errno;
    char line[LOG_LINE_MAX];
    int n = snprintf(line, sizeof line, "devinit: %s| ", step);
    size_t off = n > 0 ? (size_t)n : 0;
    if (len > sizeof line - off - 1)
        len = sizeof line - off - 1;
    memcpy(line + off, text, len);
    off += len;
    line[off++] = '\n';
    emit(line, off);
    errno = saved;
}
