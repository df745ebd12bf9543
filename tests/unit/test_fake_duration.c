/* Unit tests for the stand-in Ollama's own duration code (tests/fake_ollama/goduration.c and
 * goquote.c), linked without any keepwarm object. The first tests run the rows of
 * duration_vectors.h, as test_duration.c does, so keepwarm's proxy/base/duration.c and this
 * independent implementation are held to one list of Go facts; the rest are Go facts only the
 * stand-in models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "duration_vectors.h"
#include "goduration.h"
#include "goquote.h"

static int64_t go_ok(const char *s) {
    int64_t ns = -42;
    char err[256] = "";
    assert_int_equal(goduration_parse(s, &ns, err, sizeof(err)), 0);
    return ns;
}

static void go_err(const char *s, const char *want) {
    int64_t ns;
    char err[256] = "";
    assert_int_equal(goduration_parse(s, &ns, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

/* The rows test_duration.c runs against keepwarm's parser (duration_vectors.h). */
static void test_go(void **state) {
    (void)state;
    dv_run_parse(dv_go, DV_COUNT(dv_go), goduration_parse, 0);
}

static int json_rc(const char *text, int64_t *ns, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    assert_non_null(v);
    int rc = goduration_from_json(v, ns, err, errlen);
    json_decref(v);
    return rc;
}

static int64_t json_ok(const char *text) {
    int64_t ns = -42;
    char err[256] = "";
    assert_int_equal(json_rc(text, &ns, err, sizeof(err)), 0);
    return ns;
}

static void json_err(const char *text, const char *want) {
    int64_t ns;
    char err[256] = "";
    assert_int_equal(json_rc(text, &ns, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_json_v18(void **state) {
    (void)state;
    dv_run_json(dv_json, DV_COUNT(dv_json), goduration_from_json);
}

static void test_config_syntax(void **state) {
    (void)state;
    dv_run_parse(dv_config, DV_COUNT(dv_config), goduration_parse_config, 1);
}

static void expect_format(int64_t ns, const char *want) {
    char buf[64];
    goduration_format(ns, buf, sizeof(buf));
    assert_string_equal(buf, want);
}

/* The shared rows, and 1500ns as Go's Duration.String prints it: "1.5µs" (U+00B5), where
 * keepwarm deliberately prints ASCII "1.5us". */
static void test_format(void **state) {
    (void)state;
    dv_run_format(goduration_format, goduration_parse);
    expect_format(1500, "1.5\xc2\xb5s");
}

/* Go facts beyond keepwarm's vectors. */
static void test_go_more(void **state) {
    (void)state;
    assert_true(go_ok("1\xce\xbcs") == 1000); /* U+03BC is a unit too */
    assert_true(go_ok("+0") == 0);
    assert_true(go_ok("-0s") == 0);
    assert_true(go_ok("1.s") == GODURATION_SECOND);
    assert_true(go_ok("1h1m1s1ms1us1ns") == 3661001001001LL);
    assert_true(go_ok("0.000000001s") == 1);
    assert_true(go_ok("0.1234567891s") == 123456789); /* truncated, not rounded */
    assert_true(go_ok("2562047h47m16.854775807s") == INT64_MAX);
    assert_true(go_ok("-2562047h47m16.854775808s") == GODURATION_FOREVER);
    go_err("2562047h47m16.854775808s", "time: invalid duration \"2562047h47m16.854775808s\"");
    go_err("-", "time: invalid duration \"-\"");
    go_err("+", "time: invalid duration \"+\"");
    go_err("--1s", "time: invalid duration \"--1s\"");
    go_err("1s-1s", "time: unknown unit \"s-\" in duration \"1s-1s\"");
    go_err("1.5", "time: missing unit in duration \"1.5\"");
    go_err("1S", "time: unknown unit \"S\" in duration \"1S\"");
    /* package time quotes every byte outside printable ASCII as \xNN (not strconv.Quote) */
    go_err("1\xc2\xb5", "time: unknown unit \"\\xc2\\xb5\" in duration \"1\\xc2\\xb5\"");
    go_err("5m\n", "time: unknown unit \"m\\x0a\" in duration \"5m\\x0a\"");
    go_err("\"1\"s", "time: invalid duration \"\\\"1\\\"s\"");
    /* a JSON string may hold a NUL, which Go keeps */
    json_err("\"5m\\u0000\"", "time: unknown unit \"m\\x00\" in duration \"5m\\x00\"");
    assert_true(json_ok("0.0000000015") == 1);
    assert_true(json_ok("9223372036") == 9223372036 * GODURATION_SECOND);
    json_err("null", "keep_alive is null: treat it as unset");
}

static void test_config_more(void **state) {
    (void)state;
    int64_t ns;
    char err[256];
    assert_int_equal(goduration_parse_config("+60", &ns, err, sizeof(err)), 0);
    assert_true(ns == 60 * GODURATION_SECOND);
    assert_int_equal(goduration_parse_config("-0", &ns, err, sizeof(err)), 0);
    assert_true(ns == 0);
    assert_int_equal(goduration_parse_config("-9223372036854775808", &ns, err, sizeof(err)), 0);
    assert_true(ns == GODURATION_FOREVER);
    assert_int_equal(goduration_parse_config("9223372036", &ns, err, sizeof(err)), 0);
    assert_true(ns == 9223372036 * GODURATION_SECOND);
    assert_int_equal(goduration_parse_config("9223372037", &ns, err, sizeof(err)), -1);
    assert_string_equal(err, "keep_alive 9223372037 seconds is too large; use -1 for forever");
    /* strconv.ParseInt takes no spaces of any kind, no underscores, nothing out of range */
    assert_int_equal(goduration_parse_config("\n60", &ns, err, sizeof(err)), -1);
    assert_int_equal(goduration_parse_config("60 ", &ns, err, sizeof(err)), -1);
    assert_int_equal(goduration_parse_config("1_000", &ns, err, sizeof(err)), -1);
    assert_int_equal(goduration_parse_config("-9223372036854775809", &ns, err, sizeof(err)), -1);
}

static void test_format_more(void **state) {
    (void)state;
    expect_format(-1500000000, "-1.5s");
    expect_format(999, "999ns");
    expect_format(1000, "1\xc2\xb5s");
    expect_format(1000000, "1ms");
    expect_format(59999999999LL, "59.999999999s");
    expect_format(3600 * GODURATION_SECOND, "1h0m0s");
    expect_format(INT64_MAX - 1, "2562047h47m16.854775806s");
    expect_format(INT64_MIN, "-2562047h47m16.854775808s");
    char small[4];
    goduration_format(300 * GODURATION_SECOND, small, sizeof(small));
    assert_string_equal(small, "5m0");
}

static void expect_quote(const char *s, size_t n, const char *want) {
    char out[128];
    assert_int_equal(goquote_n(s, n, out, sizeof(out)), 0);
    assert_string_equal(out, want);
}

/* strconv.Quote, as %q prints names in Ollama's messages. */
static void test_quote(void **state) {
    (void)state;
    expect_quote("llama3.2:3b", 11, "\"llama3.2:3b\"");
    expect_quote("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_quote("\a\b\f\n\r\t\v", 7, "\"\\a\\b\\f\\n\\r\\t\\v\"");
    expect_quote("\x01\x1f\x7f", 3, "\"\\x01\\x1f\\x7f\"");
    expect_quote("\0", 1, "\"\\x00\"");
    expect_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82", 14,
                 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82\""); /* printable: kept */
    expect_quote("\xff", 1, "\"\\xff\"");                          /* invalid UTF-8 */
    expect_quote("\xc0\xaf", 2, "\"\\xc0\\xaf\"");                 /* overlong */
    expect_quote("\xed\xa0\x80", 3, "\"\\xed\\xa0\\x80\"");        /* surrogate */
    expect_quote("\xe2\x82", 2, "\"\\xe2\\x82\"");                 /* cut short */
    expect_quote("\xc2\x85\xc2\xa0\xe2\x80\xa8", 7, "\"\\u0085\\u00a0\\u2028\"");
    expect_quote("\xef\xbb\xbf", 3, "\"\\ufeff\"");
    expect_quote("\xf3\xa0\x80\x81", 4, "\"\\U000e0001\"");
    expect_quote("\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\""); /* a real U+FFFD is printable */
    char out[8];
    assert_int_equal(goquote("abcdefgh", out, sizeof(out)), -1);
    assert_string_equal(out, "\"abcde\"");
    assert_int_equal(goquote("ab\ncd", out, sizeof(out)), -1);
    assert_string_equal(out, "\"ab\\nc\"");
    assert_int_equal(goquote("abcd\n", out, sizeof(out)), -1);
    assert_string_equal(out, "\"abcd\"");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go),
        cmocka_unit_test(test_json_v18),
        cmocka_unit_test(test_config_syntax),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_go_more),
        cmocka_unit_test(test_config_more),
        cmocka_unit_test(test_format_more),
        cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
