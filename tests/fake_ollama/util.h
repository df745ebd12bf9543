/* util: clocks, Go-style timestamps, hashing and JSON-to-evbuffer output for the stand-in.
 * Pure helpers with no state. */
#ifndef FAKE_OLLAMA_UTIL_H
#define FAKE_OLLAMA_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define UTIL_TIME_LEN 48

/* Monotonic clock in nanoseconds (durations, metrics). */
int64_t util_now_ns(void);

/* Now in UTC as Go's RFC3339Nano ("2025-07-07T20:22:19.184789Z"): Ollama's created_at. */
void util_time_utc_now(char *buf, size_t len);

/* A wall-clock instant in local time with offset, RFC3339Nano ("...31.83753-07:00", "Z" for a
 * zero offset, as Go prints it): Ollama's expires_at and modified_at. */
void util_time_local(const struct timespec *ts, char *buf, size_t len);

/* *out = now (wall clock) + ns; ns may be up to INT64_MAX (about 292 years, Go's "forever"). */
void util_wall_after(struct timespec *out, int64_t ns);

/* a < b: -1, a == b: 0, a > b: 1. */
int util_timespec_cmp(const struct timespec *a, const struct timespec *b);

/* Milliseconds or nanoseconds as a libevent timeval. */
struct timeval util_tv_ms(int64_t ms);
struct timeval util_tv_ns(int64_t ns);

/* FNV-1a, 64 bits. */
uint64_t util_hash(const void *data, size_t len, uint64_t seed);

/* json_dump_callback sink that appends to a struct evbuffer *. */
int util_dump_to_evbuffer(const char *buf, size_t len, void *evbuffer);

/* Number of whitespace-separated words in s (a deterministic stand-in for a token count). */
int64_t util_count_words(const char *s);

/* Case-insensitive ASCII comparison of two NUL-terminated strings. */
int util_streq_nocase(const char *a, const char *b);

#endif
