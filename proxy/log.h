/* log: levelled logfmt lines on stderr ("ts=... level=info msg=... key=value").
 * Process-wide state: the level and the output stream. Also hooks libevent's
 * own diagnostics into the same stream at debug level. */
#ifndef KEEPWARM_LOG_H
#define KEEPWARM_LOG_H

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* "debug|info|warn|error" -> level; -1 when unknown. */
int log_level_parse(const char *s, enum log_level *out);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

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
