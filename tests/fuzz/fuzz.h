/* Shared by the fuzz targets (tests/fuzz/fuzz_*.c). Each target defines
 * LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer it is a libFuzzer binary
 * (tests/fuzz/run.sh, `make fuzz`), built with standalone.c it replays a corpus directory
 * (`make fuzz-replay`, part of `make test`).
 *
 * FUZZ_CHECK(tag, cond, fmt, ...) asserts an invariant of the code under test: on failure it
 * prints the tag and the message and aborts, so libFuzzer saves the input and the replayer
 * fails. A long fuzzing run can step over a finding that is already reported by listing its
 * tag in FUZZ_IGNORE (comma-separated); `make test` never sets it. */
#ifndef KEEPWARM_FUZZ_H
#define KEEPWARM_FUZZ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline int fuzz_ignored(const char *tag) {
    const char *list = getenv("FUZZ_IGNORE");
    size_t n = strlen(tag);
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && memcmp(p, tag, n) == 0)
            return 1;
        p += len + (p[len] == ',');
    }
    return 0;
}

#define FUZZ_CHECK(tag, cond, ...)                                                                 \
    do {                                                                                           \
        if (!(cond) && !fuzz_ignored(tag)) {                                                       \
            fprintf(stderr, "\nfuzz: invariant [%s] failed at %s:%d: %s\nfuzz: ", tag, __FILE__,   \
                    __LINE__, #cond);                                                              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of the input (inputs are not terminated), or NULL when out of
 * memory. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (s) {
        if (size)
            memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

/* The compact text the server would send upstream; every value a translation returns must
 * encode. Returns 1 if it does. */
static inline int fuzz_encodes(const json_t *v) {
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int ok = text != NULL;
    free(text);
    return ok;
}

static inline int fuzz_valid_utf8(const char *s, size_t n) {
    json_t *v = json_stringn(s, n);
    int ok = v != NULL;
    json_decref(v);
    return ok;
}

/* usage {prompt_tokens, completion_tokens, total_tokens}: integers, total the sum (when the
 * sum fits; an overflow is the sanitizer's to report, in the code under test). */
static inline int fuzz_usage_ok(const json_t *u) {
    const json_t *p = json_object_get(u, "prompt_tokens");
    const json_t *c = json_object_get(u, "completion_tokens");
    const json_t *t = json_object_get(u, "total_tokens");
    json_int_t sum;
    if (!json_is_integer(p) || !json_is_integer(c) || !json_is_integer(t))
        return 0;
    return __builtin_add_overflow(json_integer_value(p), json_integer_value(c), &sum) ||
           sum == json_integer_value(t);
}

/* v is a JSON string equal to s. */
static inline int fuzz_str_is(const json_t *v, const char *s) {
    return json_is_string(v) && strcmp(json_string_value(v), s) == 0;
}

#endif
