/* The streaming fast path (openai_chat_stream_fast) must produce exactly what the jansson path
 * (openai_chat_stream_feed) produces: every chat stream golden case and a set of awkward lines
 * are fed both ways and the frames compared as JSON values. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openai.h"

static int fast_hits;

/* Feeds lines (NUL-separated in one buffer) through one path; returns the frames. */
static json_t *run(const char *const *lines, size_t n, int include_usage, int use_fast) {
    struct openai_stream s;
    json_t *frames = json_array();
    openai_stream_init(&s, "chatcmpl-test", include_usage);
    for (size_t i = 0; i < n; i++) {
        if (use_fast) {
            char out[8192];
            size_t len = openai_chat_stream_fast(&s, lines[i], strlen(lines[i]), out, sizeof(out));
            if (len) {
                assert_true(len > 8 && strncmp(out, "data: ", 6) == 0);
                assert_memory_equal(out + len - 2, "\n\n", 2);
                json_error_t e;
                json_t *v = json_loadb(out + 6, len - 8, 0, &e);
                if (!v)
                    fail_msg("fast path wrote invalid JSON: %.*s (%s)", (int)len, out, e.text);
                json_array_append_new(frames, v);
                fast_hits++;
                continue;
            }
        }
        json_error_t e;
        json_t *line = json_loads(lines[i], 0, &e);
        int rc = openai_chat_stream_feed(&s, line, frames);
        json_decref(line);
        if (rc == OPENAI_STREAM_DONE)
            json_array_append_new(frames, json_string("[DONE]"));
    }
    return frames;
}

/* Generated tool-call ids are random: give them one name before comparing. */
static void normalise_ids(json_t *v) {
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) normalise_ids(x);
    } else if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (strcmp(k, "tool_calls") == 0 && json_is_array(x)) {
                json_t *call;
                json_array_foreach(x, i, call) json_object_set_new(call, "id", json_string("call"));
            } else {
                normalise_ids(x);
            }
        }
    }
}

static void same_both_ways(const char *const *lines, size_t n, int include_usage,
                           const char *what) {
    json_t *slow = run(lines, n, include_usage, 0);
    json_t *fast = run(lines, n, include_usage, 1);
    normalise_ids(slow);
    normalise_ids(fast);
    if (!json_equal(slow, fast)) {
        char *a = json_dumps(slow, JSON_COMPACT), *b = json_dumps(fast, JSON_COMPACT);
        fail_msg("%s\n slow %s\n fast %s", what, a, b);
    }
    json_decref(slow);
    json_decref(fast);
}

static void test_awkward_lines(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"model\":\"m\",\"created_at\":\"2009-02-13T23:31:30Z\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"Hello\"},\"done\":false}",
        "{\"model\":\"m\",\"created_at\":\"2009-02-13T23:31:31Z\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"a \\\"quoted\\\"\\n\\ttab \\\\ back\\b\\f\\r caf\xc3\xa9 "
        "\xf0\x9f\x99\x82\"},"
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\\u00e9 escaped\"},"
        "\"done\":false}",
        /* jansson writes a '/' bare: \/ cannot be copied as it is */
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"a\\/b\"},"
        "\"done\":false}",
        "{\"done\":false,\"message\":{\"content\":\"\",\"role\":\"assistant\"},\"model\":\"m\"}",
        " { \"model\" : \"m\" , \"message\" : { \"content\" : \"spaced\" } , \"done\" : false } ",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"t\",\"thinking\":\"x\"}"
        ","
        "\"done\":false}",
        "{\"model\":\"other\",\"message\":{\"role\":\"assistant\",\"content\":\"renamed\"},"
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false,"
        "\"logprobs\":[{\"token\":\"x\",\"logprob\":-0.5}]}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"end\"},\"done\":true,"
        "\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":7}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"after\"},\"done\":"
        "false}",
    };
    fast_hits = 0;
    same_both_ways(lines, sizeof(lines) / sizeof(lines[0]), 1, "awkward lines");
    assert_int_equal(fast_hits, 5); /* plain, escaped, empty, reordered, spaced */
    static const char *const first_is_slow[] = {
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hm\"}"
        ","
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"then fast\"},"
        "\"done\":false}",
    };
    same_both_ways(first_is_slow, 2, 0, "role sent by the slow path first");
    /* sizeof - 1, not strlen: the last one holds a backslash and a NUL byte */
#define BAD(text)                                                                                  \
    { text, sizeof(text) - 1 }
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"cut"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"\xff\"},\"done\":false}"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"x\"},\"done\":false}}"),
        BAD("{\"model\":\"m\",\"model\":\"n\",\"message\":{\"content\":\"x\"},\"done\":false}"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"a\\\0b\"},\"done\":false}"),
    };
#undef BAD
    struct openai_stream s;
    openai_stream_init(&s, "id", 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[256];
        assert_int_equal(openai_chat_stream_fast(&s, bad[i].text, bad[i].len, out, sizeof(out)), 0);
    }
    assert_false(s.role_sent);
    char tiny[16];
    assert_int_equal(openai_chat_stream_fast(&s, lines[0], strlen(lines[0]), tiny, sizeof(tiny)),
                     0);
    assert_false(s.role_sent);
}

/* Every chat stream case of the golden suite, both ways. */
static void test_golden_streams(void **state) {
    (void)state;
    const char *root = getenv("TRANSLATE_CASES");
    DIR *d = opendir(root ? root : "tests/translate");
    assert_non_null(d);
    struct dirent *e;
    int cases = 0;
    fast_hits = 0;
    while ((e = readdir(d))) {
        char path[1024], text[65536];
        snprintf(path, sizeof(path), "%s/%s/native.ndjson", root ? root : "tests/translate",
                 e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        snprintf(path, sizeof(path), "%s/%s/case.json", root ? root : "tests/translate", e->d_name);
        json_t *c = json_load_file(path, 0, NULL);
        const char *kind = json_string_value(json_object_get(c, "kind"));
        int usage = json_is_true(json_object_get(c, "include_usage")) ||
                    json_integer_value(json_object_get(c, "include_usage")) > 0;
        int eof = json_is_true(json_object_get(c, "eof"));
        int other = kind && strcmp(kind, "stream") != 0 && strcmp(kind, "chat") != 0;
        json_decref(c); /* kind dies with c */
        if (other || strstr(e->d_name, "completion") || eof)
            continue;
        const char *lines[256];
        size_t nl = 0;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && nl < 256;
             l = strtok_r(NULL, "\n", &save))
            if (*l)
                lines[nl++] = l;
        same_both_ways(lines, nl, usage, e->d_name);
        cases++;
    }
    closedir(d);
    assert_true(cases >= 10);
    assert_true(fast_hits > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_lines),
        cmocka_unit_test(test_golden_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
