/* Unit tests for duration: Go's ParseDuration port, Ollama's JSON keep_alive rules (vector
 * V18 of the research notes), the config syntax, and what keepwarm sends upstream. The Go
 * facts are rows of duration_vectors.h, which test_fake_duration.c runs against the stand-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "duration_vectors.h"

/* The shared rows (duration_vectors.h), which the stand-in's parser runs too. */
static void test_go(void **state) {
    (void)state;
    dv_run_parse(dv_go, DV_COUNT(dv_go), duration_parse_go, 0);
}

/* V18: {}->unset, 42->42s, 42.5->42.5s, "42m"->42m, -1->forever, -3.14->forever, "-1m"->forever */
static void test_json_v18(void **state) {
    (void)state;
    dv_run_json(dv_json, DV_COUNT(dv_json), duration_from_json);
}

static void test_config_syntax(void **state) {
    (void)state;
    dv_run_parse(dv_config, DV_COUNT(dv_config), duration_parse_config, 1);
}

static void expect_json(int64_t ns, const char *want) {
    json_t *v = duration_to_json_new(ns);
    char *s = json_dumps(v, JSON_ENCODE_ANY);
    assert_string_equal(s, want);
    free(s);
    json_decref(v);
}

static void test_to_json(void **state) {
    (void)state;
    expect_json(DURATION_FOREVER, "-1"); /* a number: the string "-1" is a 400 at Ollama */
    expect_json(0, "0");
    expect_json(300 * DURATION_SECOND, "300");
    expect_json(500000000, "\"500ms\"");
    expect_json(1500000000, "\"1.5s\"");
}

static void test_format(void **state) {
    (void)state;
    dv_run_format(duration_format, duration_parse_go);
    char buf[64];
    duration_format(1500, buf, sizeof(buf));
    assert_string_equal(buf, "1.5us"); /* ASCII, where Go prints U+00B5 */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go),
        cmocka_unit_test(test_json_v18),
        cmocka_unit_test(test_config_syntax),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
