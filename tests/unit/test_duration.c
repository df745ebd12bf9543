/* Unit tests for duration: Go's ParseDuration port, Ollama's JSON keep_alive rules (vector
 * V18 of the research notes), the config syntax, and what keepwarm sends upstream. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

static int64_t go_ok(const char *s) {
    int64_t ns = -42;
    char err[256] = "";
    assert_int_equal(duration_parse_go(s, &ns, err, sizeof(err)), 0);
    return ns;
}

static void go_err(const char *s, const char *want) {
    int64_t ns;
    char err[256] = "";
    assert_int_equal(duration_parse_go(s, &ns, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_go_valid(void **state) {
    (void)state;
    assert_true(go_ok("0") == 0);
    assert_true(go_ok("-0") == 0);
    assert_true(go_ok("0s") == 0);
    assert_true(go_ok("5m") == 300 * DURATION_SECOND);
    assert_true(go_ok("24h") == 86400 * DURATION_SECOND);
    assert_true(go_ok("1h30m") == 5400 * DURATION_SECOND);
    assert_true(go_ok("1.5h") == 5400 * DURATION_SECOND);
    assert_true(go_ok("300ms") == 300000000);
    assert_true(go_ok("10s") == 10 * DURATION_SECOND);
    assert_true(go_ok("1us") == 1000);
    assert_true(go_ok("1\xc2\xb5s") == 1000);
    assert_true(go_ok("7ns") == 7);
    assert_true(go_ok(".5s") == 500000000);
    assert_true(go_ok("+2s") == 2 * DURATION_SECOND);
    assert_true(go_ok("-1m") == DURATION_FOREVER);
    assert_true(go_ok("-1s") == DURATION_FOREVER);
    assert_true(go_ok("-1h") == DURATION_FOREVER);
}

static void test_go_errors(void **state) {
    (void)state;
    go_err("-1", "time: missing unit in duration \"-1\"");
    go_err("300", "time: missing unit in duration \"300\"");
    go_err("1d", "time: unknown unit \"d\" in duration \"1d\"");
    go_err("1y", "time: unknown unit \"y\" in duration \"1y\"");
    go_err("", "time: invalid duration \"\"");
    go_err(" 5m", "time: invalid duration \" 5m\"");
    go_err("5m ", "time: unknown unit \"m \" in duration \"5m \"");
    go_err("m", "time: invalid duration \"m\"");
    go_err(".s", "time: invalid duration \".s\"");
    go_err("9999999999h", "time: invalid duration \"9999999999h\"");
    go_err("99999999999999999999s", "time: invalid duration \"99999999999999999999s\"");
}

static int64_t json_ok(const char *text) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    assert_non_null(v);
    int64_t ns = -42;
    char err[256] = "";
    int rc = duration_from_json(v, &ns, err, sizeof(err));
    json_decref(v);
    assert_int_equal(rc, 0);
    return ns;
}

static void json_err(const char *text, const char *want) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
    assert_non_null(v);
    int64_t ns;
    char err[256] = "";
    int rc = duration_from_json(v, &ns, err, sizeof(err));
    json_decref(v);
    assert_int_equal(rc, -1);
    assert_string_equal(err, want);
}

/* V18: {}->unset, 42->42s, 42.5->42.5s, "42m"->42m, -1->forever, -3.14->forever, "-1m"->forever */
static void test_json_v18(void **state) {
    (void)state;
    assert_true(json_ok("42") == 42 * DURATION_SECOND);
    assert_true(json_ok("42.5") == 42500000000LL);
    assert_true(json_ok("\"42m\"") == 42 * 60 * DURATION_SECOND);
    assert_true(json_ok("-1") == DURATION_FOREVER);
    assert_true(json_ok("-3.14") == DURATION_FOREVER);
    assert_true(json_ok("\"-1m\"") == DURATION_FOREVER);
    assert_true(json_ok("0") == 0);
    assert_true(json_ok("-0") == 0);
    assert_true(json_ok("\"0\"") == 0);
    json_err("\"-1\"", "time: missing unit in duration \"-1\"");
    json_err("\"1d\"", "time: unknown unit \"d\" in duration \"1d\"");
    json_err("\"\"", "time: invalid duration \"\"");
    json_err("true", "Unsupported type: 'bool'");
    json_err("{}", "Unsupported type: 'map[string]interface {}'");
    json_err("[]", "Unsupported type: '[]interface {}'");
    json_err("1e300", "keep_alive 1e+300 seconds is too large; use -1 for forever");
}

static void test_config_syntax(void **state) {
    (void)state;
    int64_t ns;
    char err[256];
    assert_int_equal(duration_parse_config("60", &ns, err, sizeof(err)), 0);
    assert_true(ns == 60 * DURATION_SECOND);
    assert_int_equal(duration_parse_config("-1", &ns, err, sizeof(err)), 0);
    assert_true(ns == DURATION_FOREVER);
    assert_int_equal(duration_parse_config("500ms", &ns, err, sizeof(err)), 0);
    assert_true(ns == 500000000);
    assert_int_equal(duration_parse_config("1d", &ns, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown unit \"d\""));
    assert_non_null(strstr(err, "use -1 for forever"));
    assert_int_equal(duration_parse_config(" 60", &ns, err, sizeof(err)), -1);
    assert_int_equal(duration_parse_config("", &ns, err, sizeof(err)), -1);
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

static void expect_format(int64_t ns, const char *want) {
    char buf[64];
    duration_format(ns, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

static void test_format(void **state) {
    (void)state;
    expect_format(0, "0s");
    expect_format(300 * DURATION_SECOND, "5m0s");
    expect_format(5400 * DURATION_SECOND, "1h30m0s");
    expect_format(500000000, "500ms");
    expect_format(1500, "1.5us");
    expect_format(7, "7ns");
    expect_format(DURATION_FOREVER, "forever");
    /* round trip through the parser */
    int64_t ns;
    char err[64];
    assert_int_equal(duration_parse_go("1h2m3.5s", &ns, err, sizeof(err)), 0);
    expect_format(ns, "1h2m3.5s");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_valid), cmocka_unit_test(test_go_errors),
        cmocka_unit_test(test_json_v18), cmocka_unit_test(test_config_syntax),
        cmocka_unit_test(test_to_json),  cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
