/* duration: Ollama's keep_alive duration syntax, parsed and printed.
 *
 * Durations are int64 nanoseconds. Negative inputs mean "forever" and are stored as
 * DURATION_FOREVER (Go's math.MaxInt64), exactly as Ollama's api.Duration does.
 * Error texts match Go's time.ParseDuration / Ollama's messages, so a proxy or a stand-in
 * can answer with the same words Ollama would. */
#ifndef KEEPWARM_DURATION_H
#define KEEPWARM_DURATION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define DURATION_FOREVER INT64_MAX
#define DURATION_SECOND  INT64_C(1000000000)

/* Go time.ParseDuration: "5m", "1h30m", "1.5h", "500ms", "-1m" (negative -> FOREVER).
 * Returns 0, or -1 with Go's message in err ("time: invalid duration \"x\"",
 * "time: missing unit in duration \"-1\"", "time: unknown unit \"d\" in duration \"1d\""). */
int duration_parse_go(const char *s, int64_t *ns, char *err, size_t errlen);

/* Configuration and environment syntax (OLLAMA_KEEP_ALIVE rules, but strict): a Go duration
 * or a bare integer number of seconds; negative means forever. Invalid -> -1 with message. */
int duration_parse_config(const char *s, int64_t *ns, char *err, size_t errlen);

/* Ollama's JSON keep_alive rules (api.Duration.UnmarshalJSON): a number is seconds (fraction
 * kept, negative -> forever), a string is a Go duration, anything else is an error whose text
 * is Ollama's ("Unsupported type: 'bool'"). json null -> -1 with "null" in err: callers treat
 * null as unset before calling. */
int duration_from_json(const json_t *v, int64_t *ns, char *err, size_t errlen);

/* The JSON value keepwarm sends upstream: FOREVER -> integer -1, whole seconds -> integer
 * seconds, anything else -> a Go duration string ("500ms"), which every Ollama parses exactly
 * (older servers truncate fractional numbers, so 0.5 would unload there). New reference. */
json_t *duration_to_json_new(int64_t ns);

/* The compact JSON text of duration_to_json_new(ns), as json_dumps(JSON_COMPACT) writes it:
 * -1, 300 or "500ms". Returns its length, or 0 when it does not fit len (64 always does). */
size_t duration_to_json_text(int64_t ns, char *buf, size_t len);

/* Go's strconv.Quote, as Ollama's messages print names with %q: quotes, backslashes and
 * control bytes escaped. Always NUL-terminates out (at least 3 bytes). */
void duration_quote(const char *s, char *out, size_t len);

/* Go-style text ("5m0s", "500ms", "0s"); FOREVER prints as "forever". Always NUL-terminates. */
void duration_format(int64_t ns, char *buf, size_t len);

#endif
