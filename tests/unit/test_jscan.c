/* Unit tests for jscan: what it accepts and rejects (always as jansson with
 * JSON_REJECT_DUPLICATES does), the spans and the decoded model, and its caps, which make it
 * decline rather than decide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jscan.h"

/* Scans s (len bytes, or strlen) and checks the outcome: 0 accepted, 1 invalid, 2 declined.
 * Also holds jansson to the same verdict where jscan is sure. */
static void check_n(const char *s, size_t len, int want, struct jscan *out) {
    int rc = jscan_body(s, len, out);
    int got = rc == 0 ? 0 : out->invalid ? 1 : 2;
    if (got != want)
        fail_msg("%.200s: got %d (%s), want %d", s, got, out->why ? out->why : "-", want);
    json_t *v = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
    int jansson_ok = v && json_is_object(v);
    json_decref(v);
    if (want == 0 && !jansson_ok)
        fail_msg("%.200s: jansson rejects what jscan accepts", s);
    if (want == 1 && jansson_ok)
        fail_msg("%.200s: jansson accepts what jscan calls invalid", s);
}

static void check(const char *s, int want) {
    struct jscan out;
    check_n(s, strlen(s), want, &out);
}

static void test_valid(void **state) {
    (void)state;
    check("{}", 0);
    check(" \t\r\n{ \t\r\n} \t\r\n", 0);
    check("{\"a\":1}", 0);
    check("{\"a\":[],\"b\":{},\"c\":[[]],\"d\":[{}],\"e\":\"\"}", 0);
    check("{\"a\":[1,-2,3.5,-0.0,1e5,1E+5,1e-5,0,-0,true,false,null,\"x\"]}", 0);
    check("{\"\":1}", 0);
    check("{\"a\":{\"a\":{\"a\":1}}}", 0); /* same key at different depths */
    check("{\"a\":[{\"k\":1},{\"k\":2}]}", 0);
    check("{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00 \\uffff\"}", 0);
    check("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \x7f\"}", 0);
    check("{\"n\":9223372036854775807,\"m\":-9223372036854775808}", 0);
    check("{\"n\":1e307,\"m\":1.7e300,\"k\":1e-400,\"z\":0e400}", 2); /* exponent cap */
    check("{\"n\":1e307,\"m\":1.7e300,\"k\":1e-300}", 0);
}

static void test_invalid(void **state) {
    (void)state;
    check("", 1);
    check("   ", 1);
    check("[1]", 1); /* valid JSON, but not an object */
    check("\"x\"", 1);
    check("{", 1);
    check("{\"a\"}", 1);
    check("{\"a\":}", 1);
    check("{\"a\":1,}", 1);
    check("{\"a\":[1,]}", 1);
    check("{,}", 1);
    check("{\"a\":1}}", 1);
    check("{\"a\":1} x", 1);
    check("{\"a\":1}{}", 1);
    check("{a:1}", 1);
    check("{'a':1}", 1);
    check("{\"a\":01}", 1);
    check("{\"a\":1.}", 1);
    check("{\"a\":.5}", 1);
    check("{\"a\":+1}", 1);
    check("{\"a\":-}", 1);
    check("{\"a\":1e}", 1);
    check("{\"a\":1e+}", 1);
    check("{\"a\":NaN}", 1);
    check("{\"a\":tru}", 1);
    check("{\"a\":truex}", 1);
    check("{\"a\":nulls}", 1);
    check("{\"n\":9223372036854775808}", 1);
    check("{\"n\":-9223372036854775809}", 1);
    check("{\"n\":12345678901234567890}", 1);
    check("{\"s\":\"\\u0000\"}", 1);
    check("{\"s\":\"\\uDC00\"}", 1);
    check("{\"s\":\"\\uD800\"}", 1);
    check("{\"s\":\"\\uD800x\"}", 1);
    check("{\"s\":\"\\uD800\\u0041\"}", 1);
    check("{\"s\":\"\\uD800\\n\"}", 1);
    check("{\"s\":\"\\u12\"}", 1);
    check("{\"s\":\"\\u12G4\"}", 1);
    check("{\"s\":\"\\x41\"}", 1);
    check("{\"s\":\"\\'\"}", 1);
    check("{\"s\":\"a\tb\"}", 1);
    check("{\"s\":\"a\nb\"}", 1);
    check("{\"s\":\"abc}", 1);
    check("{\"s\":\"abc\\", 1);
    check("\xef\xbb\xbf{}", 1);               /* BOM */
    check("{\"s\":\"\xc0\xaf\"}", 1);         /* overlong '/' */
    check("{\"s\":\"\xe0\x80\xaf\"}", 1);     /* overlong, 3 bytes */
    check("{\"s\":\"\xf0\x80\x80\xaf\"}", 1); /* overlong, 4 bytes */
    check("{\"s\":\"\xed\xa0\x80\"}", 1);     /* UTF-8 surrogate */
    check("{\"s\":\"\xf4\x90\x80\x80\"}", 1); /* above U+10FFFF */
    check("{\"s\":\"\xf5\x80\x80\x80\"}", 1);
    check("{\"s\":\"\x80\"}", 1); /* lone continuation */
    check("{\"s\":\"\xc3\"}", 1); /* cut sequence */
    check("{\"s\":\"\xe2\x82\"}", 1);
    check("{\"s\":\"\xff\"}", 1);
    check("{\"a\":1,\"a\":2}", 1);
    check("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", 1);
    check("{\"x\":[{\"b\":1,\"b\":1}]}", 1);
    check("{\"model\":\"a\",\"model\":\"a\"}", 1);
}

static void test_nul_bytes(void **state) {
    (void)state;
    struct jscan out;
    /* jansson skips a NUL it gives back after a number: unsure, so declined. */
    check_n("{\"a\":1\0}", 8, 2, &out);
    check_n("{\"a\":true\0}", 11, 2, &out);
    check_n("{\"a\":\"\0\"}", 9, 2, &out);
    check_n("{}\0", 3, 2, &out);
}

static void test_spans(void **state) {
    (void)state;
    struct jscan s;
    const char *b = "{ \"options\" : {\"a\":[1,{\"model\":2}]} , \"model\":\"llama3.2\","
                    "\"keep_alive\":  \"5m\" ,\"x\":{\"keep_alive\":1}}";
    assert_int_equal(jscan_body(b, strlen(b), &s), 0);
    assert_int_equal(s.members, 4);
    assert_int_equal(s.options.len, strlen("{\"a\":[1,{\"model\":2}]}"));
    assert_memory_equal(b + s.options.off, "{\"a\":[1,{\"model\":2}]}", s.options.len);
    assert_int_equal(s.model.len, 10);
    assert_memory_equal(b + s.model.off, "\"llama3.2\"", 10);
    assert_int_equal(s.keep_alive.len, 4);
    assert_memory_equal(b + s.keep_alive.off, "\"5m\"", 4);
    assert_true(s.has_model);
    assert_string_equal(s.model_name, "llama3.2");
    assert_int_equal(b[s.close], '}');
    assert_int_equal(s.close, strlen(b) - 1);

    b = " { } ";
    assert_int_equal(jscan_body(b, strlen(b), &s), 0);
    assert_int_equal(s.members, 0);
    assert_int_equal(s.close, 3);
    assert_int_equal(s.model.len + s.keep_alive.len + s.options.len, 0);
    assert_false(s.has_model);

    b = "{\"model\":7,\"keep_alive\":null,\"options\":null}";
    assert_int_equal(jscan_body(b, strlen(b), &s), 0);
    assert_false(s.has_model);
    assert_memory_equal(b + s.model.off, "7", s.model.len);
    assert_memory_equal(b + s.keep_alive.off, "null", s.keep_alive.len);
    assert_memory_equal(b + s.options.off, "null", s.options.len);
}

static void test_model_decoding(void **state) {
    (void)state;
    struct jscan s;
    const char *b = "{\"model\":\"a\\\"b\\\\c\\/d\\u00e9\\uD83D\\uDE00\\t\\u20ac:latest\"}";
    assert_int_equal(jscan_body(b, strlen(b), &s), 0);
    assert_true(s.has_model);
    assert_string_equal(s.model_name, "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80\t\xe2\x82\xac:latest");

    b = "{\"model\":\"\"}";
    assert_int_equal(jscan_body(b, strlen(b), &s), 0);
    assert_true(s.has_model);
    assert_string_equal(s.model_name, "");
}

static void test_caps(void **state) {
    (void)state;
    static char buf[32768];
    struct jscan s;
    size_t n = 0;

    /* Nesting: JSCAN_MAX_DEPTH levels scan, one more is declined. */
    for (int depth = JSCAN_MAX_DEPTH; depth <= JSCAN_MAX_DEPTH + 1; depth++) {
        n = 0;
        buf[n++] = '{';
        n += (size_t)sprintf(buf + n, "\"a\":");
        for (int i = 1; i < depth; i++)
            buf[n++] = '[';
        for (int i = 1; i < depth; i++)
            buf[n++] = ']';
        buf[n++] = '}';
        buf[n] = '\0';
        check(buf, depth <= JSCAN_MAX_DEPTH ? 0 : 2);
    }

    /* Keys: JSCAN_MAX_KEYS in open objects scan, one more is declined; closed ones free. */
    n = (size_t)sprintf(buf, "{");
    for (int i = 0; i < JSCAN_MAX_KEYS; i++)
        n += (size_t)sprintf(buf + n, "%s\"k%d\":%d", i ? "," : "", i, i);
    sprintf(buf + n, "}");
    check(buf, 0);
    sprintf(buf + n, ",\"x\":1}");
    check(buf, 2);
    n = (size_t)sprintf(buf, "{\"a\":[");
    for (int i = 0; i < 400; i++)
        n += (size_t)sprintf(buf + n, "%s{\"role\":\"user\",\"content\":\"x\"}", i ? "," : "");
    sprintf(buf + n, "]}");
    check(buf, 0);

    /* A key with an escape is declined (its duplicates would need decoding). */
    check("{\"\\u0061\":1}", 2);
    check("{\"a\":1,\"\\u0061\":2}", 2);

    /* A top-level key Go might fold onto another (an upper-case ASCII letter, a byte outside
     * ASCII) is declined; the jansson path decides. Nested keys are not (options are matched
     * exactly by Ollama, and nothing else nested is policy's). */
    check("{\"KEEP_ALIVE\":0}", 2);
    check("{\"model\":\"m\",\"Options\":{}}", 2);
    check("{\"Anything\":1}", 2);
    check("{\"\xE2\x84\xAA"
          "eep_alive\":0}",
          2);
    check("{\"option\xC5\xBF\":{}}", 2);
    check("{\"caf\xC3\xA9\":1}", 2);
    check("{\"options\":{\"NUM_CTX\":1,\"caf\xC3\xA9\":2}}", 0);
    check("{\"keep-alive\":0,\"_debug_render_only\":true,\"a1\":[{\"B\":1}]}", 0);

    /* Reals that might overflow a double are declined; integers are exact. */
    check("{\"n\":1e308}", 2);
    check("{\"n\":1e309}", 2);
    check("{\"n\":1e401}", 2);
    check("{\"n\":1e-401}", 2);
    check("{\"n\":1.5e307}", 0);

    /* The model name: JSCAN_MAX_MODEL - 1 bytes decode, longer ones are declined. */
    n = (size_t)sprintf(buf, "{\"model\":\"");
    memset(buf + n, 'm', JSCAN_MAX_MODEL - 1);
    n += JSCAN_MAX_MODEL - 1;
    sprintf(buf + n, "\"}");
    assert_int_equal(jscan_body(buf, strlen(buf), &s), 0);
    assert_int_equal(strlen(s.model_name), JSCAN_MAX_MODEL - 1);
    sprintf(buf + n, "m\"}");
    check(buf, 2);
    /* A long string elsewhere is no problem. */
    n = (size_t)sprintf(buf, "{\"prompt\":\"");
    memset(buf + n, 'p', 4000);
    sprintf(buf + n + 4000, "\"}");
    check(buf, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),          cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_nul_bytes),      cmocka_unit_test(test_spans),
        cmocka_unit_test(test_model_decoding), cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
