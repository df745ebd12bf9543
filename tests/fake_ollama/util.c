/* util: clocks, Go-style RFC3339Nano timestamps, FNV hashing and the jansson-to-evbuffer sink.
 * No state; every function is safe to call from any callback. */
#include "util.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int64_t util_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Go's ".999999999" layout: the fraction with trailing zeros removed, nothing when zero. */
static void format_frac(long nsec, char *buf, size_t len) {
    if (nsec <= 0) {
        buf[0] = '\0';
        return;
    }
    char digits[24];
    snprintf(digits, sizeof(digits), "%09ld", nsec);
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0')
        digits[--n] = '\0';
    snprintf(buf, len, ".%s", digits);
}

static void format_tm(const struct tm *tm, long nsec, long gmtoff, char *buf, size_t len) {
    char frac[24], zone[32];
    format_frac(nsec, frac, sizeof(frac));
    if (gmtoff == 0) {
        snprintf(zone, sizeof(zone), "Z");
    } else {
        long off = gmtoff < 0 ? -gmtoff : gmtoff;
        snprintf(zone, sizeof(zone), "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+', off / 3600,
                 (off / 60) % 60);
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s%s", tm->tm_year + 1900, tm->tm_mon + 1,
             tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, frac, zone);
}

void util_time_utc_now(char *buf, size_t len) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    format_tm(&tm, ts.tv_nsec, 0, buf, len);
}

void util_time_local(const struct timespec *ts, char *buf, size_t len) {
    struct tm tm;
    localtime_r(&ts->tv_sec, &tm);
    format_tm(&tm, ts->tv_nsec, tm.tm_gmtoff, buf, len);
}

void util_wall_after(struct timespec *out, int64_t ns) {
    clock_gettime(CLOCK_REALTIME, out);
    if (ns < 0)
        ns = 0;
    out->tv_sec += (time_t)(ns / 1000000000);
    out->tv_nsec += (long)(ns % 1000000000);
    if (out->tv_nsec >= 1000000000) {
        out->tv_sec++;
        out->tv_nsec -= 1000000000;
    }
}

int util_timespec_cmp(const struct timespec *a, const struct timespec *b) {
    if (a->tv_sec != b->tv_sec)
        return a->tv_sec < b->tv_sec ? -1 : 1;
    if (a->tv_nsec != b->tv_nsec)
        return a->tv_nsec < b->tv_nsec ? -1 : 1;
    return 0;
}

struct timeval util_tv_ms(int64_t ms) {
    struct timeval tv;
    if (ms < 0)
        ms = 0;
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
    return tv;
}

struct timeval util_tv_ns(int64_t ns) {
    struct timeval tv;
    if (ns < 0)
        ns = 0;
    tv.tv_sec = (time_t)(ns / 1000000000);
    tv.tv_usec = (suseconds_t)((ns % 1000000000) / 1000);
    return tv;
}

uint64_t util_hash(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = UINT64_C(14695981039346656037) ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

int util_dump_to_evbuffer(const char *buf, size_t len, void *evbuffer) {
    return evbuffer_add(evbuffer, buf, len);
}

int64_t util_count_words(const char *s) {
    int64_t n = 0;
    int in_word = 0;
    for (; s && *s; s++) {
        if (isspace((unsigned char)*s)) {
            in_word = 0;
        } else if (!in_word) {
            in_word = 1;
            n++;
        }
    }
    return n;
}

int util_streq_nocase(const char *a, const char *b) {
    return strcasecmp(a, b) == 0;
}
