/* log: levelled logfmt lines on stderr ("ts=... level=info msg=... key=value").
 * Process-wide state: the level and the output stream. Also hooks libevent's
 * own diagnostics into the same stream at debug level.
 *
 * One call is always exactly one line, whatever its arguments hold: every %s (and %c) value is
 * escaped by the formatter itself, so no call site can forget to. A value the format already
 * puts between quotes ("detail=\"%s\"") has its quotes, backslashes and control bytes escaped
 * (\" \\ \n \r \t, others as \u00XX); a bare one ("model=%s") is written as is when it is a
 * plain token and quoted and escaped otherwise (empty, or holding a space, '=', a quote, a
 * backslash or a control byte). A value is cut at LOG_VALUE_MAX bytes ("..." marks the cut), a
 * line at LOG_LINE_MAX, and an open quote is always closed. Formats are literals; they are
 * printf formats (flags, width, precision, * and the length modifiers; no %n). */
#ifndef KEEPWARM_LOG_H
#define KEEPWARM_LOG_H

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* "debug|info|warn|error" -> level; -1 when unknown. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);

#include <stdarg.h>
#include <stddef.h>

#define LOG_LINE_MAX  2048 /* one line, ts and level and newline included */
#define LOG_VALUE_MAX 512  /* escaped bytes of one %s value, its quotes excluded */

/* The fields of one line from fmt and its arguments into buf[len], escaped as above, without
 * the newline; always NUL-terminated. Returns the length written. */
size_t log_vformat(char *buf, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* s as one quoted logfmt value ("...", escaped and capped as above) into buf[len], which is
 * always NUL-terminated with its quotes closed (len >= 3). Returns buf. */
char *log_quote(char *buf, size_t len, const char *s);

/* fmt produces the fields after ts and level, e.g. "msg=\"listening\" addr=%s". */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An access line (info level), buffered: written with the next other line, when 64 KiB are
 * waiting, or by log_flush (main calls it a few times a second and at exit). */
void log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_flush(void);

#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Routes libevent's internal warnings into log_write at debug/warn. */
void log_hook_libevent(void);

#endif
