/* The one logging module. Every line goes to stderr as
 *     devinit: <step>: <level>: <message>
 * ("devinit: <level>: <message>" when no step is given), one line per event, never longer
 * than LOG_LINE_MAX. Colours only when stderr is a TTY, NO_COLOR is unset and the colour
 * setting allows it. Every function preserves errno, so a caller may log and then return
 * -errno. */
#ifndef DEVINIT_LOG_H
#define DEVINIT_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum log_color { LOG_COLOR_AUTO = 0, LOG_COLOR_ALWAYS, LOG_COLOR_NEVER };

#define LOG_LINE_MAX 4096

/* Sets the threshold and the colour policy. Safe to call again when configuration arrives;
 * before the first call the level is LOG_INFO and colour is auto. */
void log_setup(enum log_level level, enum log_color color);
enum log_level log_get_level(void);

/* Logs one event. step may be NULL. The message goes through log_escape(), so a line stays
 * one event and quoted outside input cannot drive the terminal. */
void log_msg(enum log_level level, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vmsg(enum log_level level, const char *step, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Copies inlen bytes of in to out as printable text: control bytes but tab (and LF when
 * keep_lf), DEL, the C1 controls (U+0080..U+009F, "\xc2\xNN") and every byte that is not part
 * of valid UTF-8 (a raw 0x9b, CSI to an 8-bit terminal) become "\xNN"; LF becomes a space
 * unless keep_lf. Stops where the next character would not fit; out is always NUL-terminated
 * (outlen > 0). Returns the length written. */
size_t log_escape_text(char *out, size_t outlen, const char *in, size_t inlen, bool keep_lf);

/* Formats fmt (up to LOG_LINE_MAX bytes) into out as one printable line, escaped as
 * log_escape_text does without keep_lf. Stops where the next character would not
 * fit; out is always NUL-terminated (outlen > 0). Returns the length written. For every
 * message that quotes outside input: the log's own lines, step reasons, config errors. */
size_t log_vescape(char *out, size_t outlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Writes one line of a child's output, prefixed "devinit: <step>| ", at LOG_INFO (shown
 * unless quiet). Used by the supervisor for steps' output. */
void log_child_line(const char *step, const char *line, size_t len);

#define log_error(step, ...) log_msg(LOG_ERROR, step, __VA_ARGS__)
#define log_warn(step, ...)  log_msg(LOG_WARN, step, __VA_ARGS__)
#define log_info(step, ...)  log_msg(LOG_INFO, step, __VA_ARGS__)
#define log_debug(step, ...) log_msg(LOG_DEBUG, step, __VA_ARGS__)

#endif
