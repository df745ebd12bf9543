/* Unit tests for runopts (canonical texts) and residency: churn within a residency, its caps
 * (models, values per option), admission (a name not admitted owns no state), failure
 * classification and the crash warning rule, the history ring (50, oldest first), the error
 * text cap, and the /status shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "residency.h"
#include "runopts.h"

#define FOREVER (-1LL)

static struct runopts ctx(const char *text) {
    struct runopts ro = {0};
    if (text)
        runopts_set_text(&ro, 0, text, strlen(text));
    return ro;
}

static json_t *model_status(const struct residency *r, const char *model) {
    json_t *o = json_object();
    residency_status_model(r, model, o);
    return o;
}

static long long churn_count(const struct residency *r, const char *model) {
    json_t *o = model_status(r, model);
    json_t *c = json_array_get(json_object_get(o, "churn"), 0);
    long long n = c ? json_integer_value(json_object_get(c, "count")) : 0;
    json_decref(o);
    return n;
}

static void test_runopts_texts(void **state) {
    (void)state;
    struct runopts a = {0}, b = {0};
    runopts_set_text(&a, 0, "8192", 4);
    runopts_set_text(&b, 0, "8192.0", 6);
    assert_string_equal(a.value[0], "8192");
    assert_string_equal(b.value[0], "8192");
    runopts_set_text(&b, 0, "8.192e3", 7);
    assert_string_equal(b.value[0], "8192");
    runopts_set_text(&a, 5, "true", 4);
    assert_string_equal(runopts_value(&a, 5), "true");
    runopts_set_text(&a, 1, "\"512\"", 5);
    assert_string_equal(runopts_value(&a, 1), "other");
    assert_string_equal(runopts_value(&a, 2), "default");
    runopts_set_text(&a, 2, "0.5", 3);
    assert_string_equal(a.value[2], "0.5");
    /* a long number is cut to the cap, NUL-terminated */
    runopts_set_text(&a, 3, "1e300", 5);
    assert_true(strlen(a.value[3]) < RUNOPTS_VALUE_MAX);
    assert_int_equal(runopts_index("num_thread", 10), 4);
    assert_int_equal(runopts_index("num_ctxx", 8), -1);
    /* the jansson path's texts are the same */
    json_t *o = json_pack("{s:f,s:b,s:s,s:i}", "num_ctx", 8192.0, "use_mmap", 0, "num_batch", "x",
                          "temperature", 1);
    struct runopts j = {0};
    runopts_from_json(&j, o);
    assert_string_equal(runopts_value(&j, 0), "8192");
    assert_string_equal(runopts_value(&j, 5), "false");
    assert_string_equal(runopts_value(&j, 1), "other");
    assert_int_equal(j.set, 1u | 2u | 32u);
    json_decref(o);
}

static void test_churn(void **state) {
    (void)state;
    struct residency *r = residency_new();
    struct runopts a = ctx("2048"), b = ctx("8192"), none = ctx(NULL);
    residency_admit(r, "m");
    residency_admit(r, "k");
    residency_request(r, "m", &a, FOREVER, 1000);
    residency_request(r, "m:latest", &a, FOREVER, 2000); /* same model, same options */
    assert_int_equal(churn_count(r, "m"), 0);
    residency_request(r, "m", &b, FOREVER, 3000);
    assert_int_equal(churn_count(r, "m"), 1);
    residency_request(r, "m", &none, FOREVER, 4000); /* absent: Ollama's default, a value */
    assert_int_equal(churn_count(r, "m"), 2);
    json_t *o = model_status(r, "m");
    json_t *c = json_array_get(json_object_get(o, "churn"), 0);
    assert_string_equal(json_string_value(json_object_get(c, "option")), "num_ctx");
    assert_int_equal(json_array_size(json_object_get(c, "values")), 3);
    assert_int_equal(json_integer_value(json_object_get(c, "last_at")), 4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "reload_causes"), "options")), 2);
    json_decref(o);
    /* past the keep_alive the model is gone anyway: a new residency, no churn */
    residency_request(r, "k", &a, 1000000000LL, 0); /* 1 s */
    residency_request(r, "k", &b, 1000000000LL, 5000);
    assert_int_equal(churn_count(r, "k"), 0);
    /* an eviction forgets the last options too */
    residency_event(r, "k", RES_EVICTED, NULL, 5100);
    residency_request(r, "k", &a, 1000000000LL, 5200);
    assert_int_equal(churn_count(r, "k"), 0);
    residency_free(r);
}

/* Caps: values per option, models tracked (the least recently used gives way). */
static void test_churn_caps(void **state) {
    (void)state;
    struct residency *r = residency_new();
    char v[16];
    residency_admit(r, "m");
    for (int i = 0; i < 20; i++) {
        snprintf(v, sizeof(v), "%d", 1000 + i);
        struct runopts ro = ctx(v);
        residency_request(r, "m", &ro, FOREVER, i);
    }
    json_t *o = model_status(r, "m");
    json_t *c = json_array_get(json_object_get(o, "churn"), 0);
    json_t *values = json_object_get(c, "values");
    assert_int_equal(json_array_size(values), RESIDENCY_MAX_VALUES);
    assert_string_equal(json_string_value(json_array_get(values, RESIDENCY_MAX_VALUES - 1)),
                        "1019");
    assert_int_equal(json_integer_value(json_object_get(c, "count")), 19);
    json_decref(o);

    char name[64];
    struct runopts a = ctx("1"), b = ctx("2");
    for (int i = 0; i < RESIDENCY_MAX_MODELS + 10; i++) {
        snprintf(name, sizeof(name), "model%d", i);
        residency_admit(r, name);
        residency_request(r, name, &a, FOREVER, 100);
        residency_request(r, name, &b, FOREVER, 100);
    }
    assert_int_equal(churn_count(r, "model0"), 0); /* given way */
    assert_int_equal(churn_count(r, "m"), 0);
    snprintf(name, sizeof(name), "model%d", RESIDENCY_MAX_MODELS + 9);
    assert_int_equal(churn_count(r, name), 1);
    /* a name too long to track is ignored */
    char longname[RESIDENCY_NAME_MAX + 10];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    residency_admit(r, longname);
    residency_request(r, longname, &a, FOREVER, 1);
    residency_request(r, longname, &b, FOREVER, 2);
    assert_int_equal(churn_count(r, longname), 0);
    residency_free(r);
}

/* Issue 12's rule: a name not admitted owns no state. Its request's options wait aside for its
 * admission (the first request of a new model still counts); a flood of made-up names, even
 * ones whose "not found" text reads as a failure, pushes out no admitted model's data and
 * writes no history. */
static void test_admission(void **state) {
    (void)state;
    struct residency *r = residency_new();
    struct runopts a = ctx("2048"), b = ctx("8192");
    residency_request(r, "real", &a, FOREVER, 1000); /* before Ollama's 2xx */
    residency_admit(r, "real:latest");               /* Ollama answered 2xx */
    residency_request(r, "real", &b, FOREVER, 2000);
    assert_int_equal(churn_count(r, "real"), 1);
    residency_failure(r, "real", 500, "llama runner process has terminated", 2500);
    char name[64], text[128];
    for (int i = 0; i < 2 * RESIDENCY_MAX_MODELS; i++) {
        snprintf(name, sizeof(name), "made-up-%d", i);
        snprintf(text, sizeof(text), "model \"%s erroroutofmemory\" not found", name);
        residency_request(r, name, &a, FOREVER, 3000 + i);
        residency_request(r, name, &b, FOREVER, 3000 + i);
        residency_failure(r, name, 404, text, 3000 + i);
        assert_int_equal(churn_count(r, name), 0);
    }
    assert_int_equal(churn_count(r, "real"), 1);
    json_t *o = model_status(r, "real");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "failures"), "runner_crash")), 1);
    json_decref(o);
    json_t *h = residency_history_new(r);
    assert_int_equal(json_array_size(h), 2); /* real's reload_options and crash */
    for (size_t i = 0; i < json_array_size(h); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(h, i), "model")),
                            "real:latest"); /* the admitted spelling */
    json_decref(h);
    struct evbuffer *m = evbuffer_new();
    residency_metrics(r, m);
    evbuffer_add(m, "", 1);
    assert_null(strstr((const char *)evbuffer_pullup(m, -1), "made-up"));
    evbuffer_free(m);
    /* only the RESIDENCY_PENDING latest names keep their options aside */
    residency_request(r, "late", &a, FOREVER, 9000);
    for (int i = 0; i < RESIDENCY_PENDING; i++) {
        snprintf(name, sizeof(name), "other-%d", i);
        residency_request(r, name, &a, FOREVER, 9000);
    }
    residency_admit(r, "late");
    residency_request(r, "late", &b, FOREVER, 9100);
    assert_int_equal(churn_count(r, "late"), 0);
    residency_free(r);
}

static void test_classify(void **state) {
    (void)state;
    assert_int_equal(residency_classify("llama runner process has terminated: exit status 2"),
                     1u << RES_FAIL_CRASH);
    assert_int_equal(residency_classify("Deepseek2 does not support K-shift"),
                     1u << RES_FAIL_CRASH);
    assert_int_equal(residency_classify("the input length exceeds the context length"),
                     1u << RES_FAIL_OVERFLOW);
    assert_int_equal(residency_classify("CUDA error: out of memory"), 1u << RES_FAIL_OOM);
    assert_int_equal(residency_classify("model requires more system memory (9 GiB)"),
                     1u << RES_FAIL_OOM);
    assert_int_equal(
        residency_classify("llama runner process has terminated: cudaMalloc failed: out of memory"),
        (1u << RES_FAIL_CRASH) | (1u << RES_FAIL_OOM));
    assert_int_equal(residency_classify("model \"x\" not found, try pulling it first"), 0);
    assert_int_equal(residency_classify(NULL), 0);
}

static void test_failures(void **state) {
    (void)state;
    struct residency *r = residency_new();
    struct runopts big = ctx("32768");
    residency_admit(r, "m");
    residency_request(r, "m", &big, FOREVER, 0);
    char text[2 * RESIDENCY_ERROR_MAX];
    memset(text, 'e', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    memcpy(text, "llama runner process has terminated\n", 36);
    residency_failure(r, "m", 500, text, 5000);
    residency_failure(r, "m", 404, "model not found", 6000); /* not counted */
    json_t *o = model_status(r, "m");
    json_t *f = json_object_get(o, "failures");
    assert_int_equal(json_integer_value(json_object_get(f, "runner_crash")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "last_num_ctx")), 32768);
    assert_int_equal(json_integer_value(json_object_get(f, "last_at")), 5);
    const char *last = json_string_value(json_object_get(f, "last_error"));
    assert_int_equal(strlen(last), RESIDENCY_ERROR_MAX - 1); /* capped */
    assert_null(strchr(last, '\n'));                         /* one line */
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "reload_causes"), "crashed")), 1);
    json_decref(o);
    assert_true(residency_crashed_since_load(r, "m"));
    residency_event(r, "m", RES_CRASHED, "gone", 7000); /* already recorded with the text */
    json_t *h = residency_history_new(r);
    assert_int_equal(json_array_size(h), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "event")),
                        "crashed");
    json_decref(h);
    residency_event(r, "m", RES_LOADED, NULL, 8000);
    assert_false(residency_crashed_since_load(r, "m"));
    residency_free(r);
}

static const char *hint_of(const struct residency *r, const char *model, char *buf, size_t len) {
    json_t *o = model_status(r, model);
    snprintf(buf, len, "%s",
             json_string_value(json_object_get(json_object_get(o, "failures"), "hint")));
    json_decref(o);
    return buf;
}

/* RESIDENCY_CRASH_WARN crashes within an hour at one num_ctx: the hint; at several, or
 * spread over more than an hour, none. */
static void test_crash_rule(void **state) {
    (void)state;
    struct residency *r = residency_new();
    char buf[256];
    const char *crash = "llama runner process has terminated: exit status 2";
    struct runopts a = ctx("8192"), b = ctx("4096");
    residency_admit(r, "spread");
    residency_admit(r, "mixed");
    residency_admit(r, "same");
    for (int i = 0; i < RESIDENCY_CRASH_WARN; i++) {
        residency_request(r, "spread", &a, FOREVER, i * 3600 * 1000LL);
        residency_failure(r, "spread", 500, crash, i * 3600 * 1000LL);
        residency_request(r, "mixed", i % 2 ? &a : &b, FOREVER, i);
        residency_failure(r, "mixed", 500, crash, i);
    }
    assert_string_equal(hint_of(r, "spread", buf, sizeof(buf)), "");
    assert_string_equal(hint_of(r, "mixed", buf, sizeof(buf)), "");
    for (int i = 0; i < RESIDENCY_CRASH_WARN; i++) {
        residency_request(r, "same", &a, FOREVER, 1000 + i);
        residency_failure(r, "same", 500, crash, 1000 + i);
        if (i < RESIDENCY_CRASH_WARN - 1)
            assert_string_equal(hint_of(r, "same", buf, sizeof(buf)), "");
    }
    assert_string_equal(hint_of(r, "same", buf, sizeof(buf)),
                        "3 crashes within an hour at num_ctx 8192: pin num_ctx = 4096");
    residency_free(r);
}

static void test_history_ring(void **state) {
    (void)state;
    struct residency *r = residency_new();
    char detail[RESIDENCY_DETAIL_MAX * 2];
    memset(detail, 'd', sizeof(detail) - 1);
    detail[sizeof(detail) - 1] = '\0';
    for (int i = 0; i < RESIDENCY_HISTORY + 7; i++)
        residency_event(r, "m", i % 2 ? RES_EVICTED : RES_REPAIRED, detail, 1000 + i);
    json_t *h = residency_history_new(r);
    assert_int_equal(json_array_size(h), RESIDENCY_HISTORY);
    json_t *first = json_array_get(h, 0), *lastev = json_array_get(h, RESIDENCY_HISTORY - 1);
    assert_int_equal(json_integer_value(json_object_get(first, "at")), 1007); /* oldest kept */
    assert_int_equal(json_integer_value(json_object_get(lastev, "at")),
                     1000 + RESIDENCY_HISTORY + 6);
    assert_string_equal(json_string_value(json_object_get(first, "model")), "m");
    assert_string_equal(json_string_value(json_object_get(first, "event")), "evicted");
    assert_int_equal(strlen(json_string_value(json_object_get(first, "detail"))),
                     RESIDENCY_DETAIL_MAX - 1);
    json_decref(h);
    json_t *o = model_status(r, "m");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "reload_causes"), "evicted")),
        (RESIDENCY_HISTORY + 7) / 2);
    json_decref(o);
    /* an unknown model has the same shape, all zero */
    o = model_status(r, "other");
    assert_int_equal(json_array_size(json_object_get(o, "churn")), 0);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(o, "failures"), "last_error")), "");
    json_decref(o);
    residency_free(r);
}

int main(void) {
    log_set_level(LOG_LEVEL_ERROR); /* the warnings are the integration tests' business */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runopts_texts), cmocka_unit_test(test_churn),
        cmocka_unit_test(test_churn_caps),    cmocka_unit_test(test_admission),
        cmocka_unit_test(test_classify),      cmocka_unit_test(test_failures),
        cmocka_unit_test(test_crash_rule),    cmocka_unit_test(test_history_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
