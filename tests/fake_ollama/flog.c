/* flog: levelled logfmt lines on stderr for the stand-in (see flog.h). */
#include "flog.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static enum flog_level threshold = FLOG_INFO;

int flog_level_parse(const char *s, enum flog_level *out) {
    for (int l = FLOG_DEBUG; l <= FLOG_ERROR; l++) {
        if (strcmp(s, level_names[l]) == 0) {
            *out = (enum flog_level)l;
            return 0;
        }
    }
    return -1;
}

void flog_set_level(enum flog_level level) {
    threshold = level;
}

void flog_write(enum flog_level level, const char *fmt, ...) {
    if (level < threshold)
        return;
    char line[2048];
    struct timeval now;
    struct tm utc;
    gettimeofday(&now, NULL);
    gmtime_r(&now.tv_sec, &utc);
    size_t n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &utc);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ level=%s ", (int)(now.tv_usec / 1000),
                          level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int body = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (body > 0)
        n += (size_t)body;
    if (n > sizeof(line) - 2) /* cut: keep room for the newline */
        n = sizeof(line) - 2;
    line[n++] = '\n';
    fwrite(line, 1, n, stderr);
}

static void on_libevent(int severity, const char *text) {
    flog_write(severity >= EVENT_LOG_WARN ? FLOG_WARN : FLOG_DEBUG,
               "msg=\"libevent\" detail=\"%s\"", text);
}

void flog_hook_libevent(void) {
    event_set_log_callback(on_libevent);
}
