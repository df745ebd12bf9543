/* log: one formatted line per call, written with a single fwrite so lines never interleave. */
#include "log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static enum log_level current = LOG_LEVEL_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, enum log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(enum log_level level) {
    current = level;
}

int log_enabled(enum log_level level) {
    return level >= current;
}

/* Access lines wait here (one write per many requests on a busy proxy); any other line, a
 * full buffer, or log_flush writes them out first, so the order is kept. */
static char pending[64 * 1024];
static size_t npending;

void log_flush(void) {
    if (npending) {
        fwrite(pending, 1, npending, stderr);
        npending = 0;
    }
}

static void log_vwrite(enum log_level level, int buffered, const char *fmt, va_list ap) {
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ level=%s ", (long)tv.tv_usec / 1000,
                  names[level]);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: the cap is one line */
    line[len++] = '\n';
    if (buffered && npending + len <= sizeof(pending)) {
        memcpy(pending + npending, line, len);
        npending += len;
        return;
    }
    log_flush();
    fwrite(line, 1, len, stderr);
}

void log_write(enum log_level level, const char *fmt, ...) {
    if (level < current)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, 0, fmt, ap);
    va_end(ap);
}

void log_access(const char *fmt, ...) {
    if (LOG_LEVEL_INFO < current)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_INFO, 1, fmt, ap);
    va_end(ap);
}

static void on_libevent_log(int severity, const char *msg) {
    log_write(severity >= EVENT_LOG_WARN ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
              "msg=\"libevent\" detail=\"%s\"", msg);
}

void log_hook_libevent(void) {
    event_set_log_callback(on_libevent_log);
}
