#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonw.h"

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

/* The length of the UTF-8 character at p (at most avail bytes there), 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
    size_t n = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : 4;
    return n > avail ? 0 : jsonw_utf8_len(p);
}

size_t log_escape_text(char *out, size_t outlen, const char *in, size_t inlen, bool keep_lf)
{
    /* Messages quote names and values from files, the environment and the database: none of
     * their control bytes may reach the terminal (an escape sequence, a line of its own). The
     * C1 controls act like ESC + a letter (0x9b is CSI, as ESC [): as UTF-8 (U+0080..U+009F)
     * and as raw bytes, which a terminal in a Latin-1 or 8-bit mode obeys. A byte that is not
     * part of valid UTF-8 is shown as a number for the same reason. */
    size_t o = 0;
    if (outlen == 0)
        return 0;
    for (size_t i = 0; i < inlen;) {
        const unsigned char *p = (const unsigned char *)in + i;
        unsigned char c = p[0];
        size_t u = utf8_len(p, inlen - i);
        bool c1 = u == 2 && c == 0xc2 && p[1] <= 0x9f;
        bool ctl = u == 1 && ((c < 0x20 && c != '\t' && !(keep_lf && c == '\n')) || c == 0x7f);
        size_t need = c1 ? 8 : (u == 0 || ctl) ? 4 : u;
        if (!keep_lf && c == '\n')
            need = 1;
        if (o + need >= outlen)
            break;
        if (c1) {
            o += (size_t)snprintf(out + o, outlen - o, "\\xc2\\x%02x", p[1]);
        } else if (!keep_lf && c == '\n') {
            out[o++] = ' ';
        } else if (u == 0 || ctl) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
        } else {
            memcpy(out + o, p, u);
            o += u;
        }
        i += u ? u : 1;
    }
    out[o] = '\0';
    return o;
}

size_t log_vescape(char *out, size_t outlen, const char *fmt, va_list ap)
{
    char in[LOG_LINE_MAX];
    int n = vsnprintf(in, sizeof in, fmt, ap);
    size_t inlen = n > 0 ? ((size_t)n < sizeof in ? (size_t)n : sizeof in - 1) : 0;
    return log_escape_text(out, outlen, in, inlen, false);
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
