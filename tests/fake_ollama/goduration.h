/* goduration: the keep_alive durations of the stand-in Ollama. Owns Go's time.ParseDuration
 * (with its error texts), Duration.String, Ollama's api.Duration.UnmarshalJSON rules and the
 * OLLAMA_KEEP_ALIVE syntax. Written independently of keepwarm's proxy/base/duration.c so that a
 * mistake in one is caught by the other (tests/unit/test_fake_duration.c runs keepwarm's
 * vectors against this file).
 *
 * Durations are int64 nanoseconds; anything negative is stored as GODURATION_FOREVER
 * (math.MaxInt64), as Ollama does. Functions return 0, or -1 with a message in the caller's
 * err buffer (err may be NULL). */
#ifndef FAKE_OLLAMA_GODURATION_H
#define FAKE_OLLAMA_GODURATION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define GODURATION_FOREVER INT64_MAX
#define GODURATION_SECOND  INT64_C(1000000000)

/* time.ParseDuration over the n bytes at s (a JSON string may hold a NUL): "5m", "1h30m",
 * "1.5h", ".5s", "300ms", "1us", "1µs", "+2s", "0", "-0"; a negative result is FOREVER.
 * Errors are Go's texts: time: invalid duration "x", time: missing unit in duration "-1",
 * time: unknown unit "d" in duration "1d"; names in them are quoted the way package time
 * quotes (every byte outside printable ASCII as \xNN). */
int goduration_parse_n(const char *s, size_t n, int64_t *ns, char *err, size_t errlen);
int goduration_parse(const char *s, int64_t *ns, char *err, size_t errlen);

/* OLLAMA_KEEP_ALIVE (envconfig.KeepAlive), strict: a Go duration, else a strconv.ParseInt
 * base-10 integer of seconds; negative is FOREVER. Where Ollama would silently keep its default
 * (unparsable text) or wrap around (too many seconds) this fails, the message ending in a hint
 * that says "use -1 for forever". */
int goduration_parse_config(const char *s, int64_t *ns, char *err, size_t errlen);

/* api.Duration.UnmarshalJSON: a number is seconds (fraction kept, truncated to the
 * nanosecond; negative is FOREVER), a string is a Go duration, anything else fails with
 * Ollama's "Unsupported type: 'bool'" ('map[string]interface {}', '[]interface {}'). A number
 * too large for int64 nanoseconds fails ("keep_alive 1e+300 seconds is too large; use -1 for
 * forever") instead of reproducing Go's overflowed conversion. JSON null fails with "null" in
 * err: callers treat null as unset before calling. */
int goduration_from_json(const json_t *v, int64_t *ns, char *err, size_t errlen);

/* Duration.String: "0s", "7ns", "1.5µs", "500ms", "5m0s", "1h2m3.5s", "-1.5s"; FOREVER prints
 * as "forever". Always NUL-terminates (cuts when len is short; 32 bytes always fit). */
void goduration_format(int64_t ns, char *buf, size_t len);

#endif
