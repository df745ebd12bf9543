/* flog: the stand-in's log. Owns the level and the line format: one logfmt line per call on
 * stderr ("ts=2025-01-02T03:04:05.678Z level=info msg=\"listening\" addr=..."), the shape
 * keepwarm's own log has, and libevent's diagnostics routed into it. The "listening HOST:PORT"
 * line the tests wait for is not a log line: http.c prints it on stdout. */
#ifndef FAKE_OLLAMA_FLOG_H
#define FAKE_OLLAMA_FLOG_H

enum flog_level { FLOG_DEBUG = 0, FLOG_INFO, FLOG_WARN, FLOG_ERROR };

/* "debug", "info", "warn" or "error": 0 and *out set, else -1. */
int flog_level_parse(const char *s, enum flog_level *out);

/* Lines below level are dropped (the default is info until set). */
void flog_set_level(enum flog_level level);

/* fmt gives what follows "ts=... level=... ", e.g. "msg=\"loaded\" model=%s". Lines are cut
 * at 2 KiB and written with one fwrite each. */
void flog_write(enum flog_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define flog_debug(...) flog_write(FLOG_DEBUG, __VA_ARGS__)
#define flog_info(...)  flog_write(FLOG_INFO, __VA_ARGS__)
#define flog_warn(...)  flog_write(FLOG_WARN, __VA_ARGS__)
#define flog_error(...) flog_write(FLOG_ERROR, __VA_ARGS__)

/* libevent's warnings and errors become warn lines, the rest debug lines:
 * msg="libevent" detail="...". */
void flog_hook_libevent(void);

#endif
