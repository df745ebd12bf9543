/* Unit tests for errtext: UTF-8 repair, Ollama's native envelope, context-length texts and a
 * native error answer read for its message and code (the OpenAI envelopes built from them are
 * tested in test_openai). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "errtext.h"

static void test_json_text(void **state) {
    json_t *v;
    (void)state;
    v = errtext_json_new("caf\xc3\xa9");
    assert_string_equal(json_string_value(v), "caf\xc3\xa9");
    json_decref(v);
    v = errtext_json_new("cut \xc3");
    assert_string_equal(json_string_value(v), "cut \xef\xbf\xbd");
    json_decref(v);
    v = errtext_json_new(NULL);
    assert_string_equal(json_string_value(v), "");
    json_decref(v);
    v = errtext_native_new("bad \xff");
    char *text = json_dumps(v, JSON_COMPACT);
    assert_string_equal(text, "{\"error\":\"bad \xef\xbf\xbd\"}");
    free(text);
    json_decref(v);
}

static void test_context_length(void **state) {
    (void)state;
    assert_true(errtext_is_context_length("context_length_exceeded"));
    assert_true(errtext_is_context_length("the input length exceeds the context length"));
    assert_true(errtext_is_context_length("prompt is longer than the Context Window"));
    assert_true(errtext_is_context_length("context length: input too long"));
    assert_false(errtext_is_context_length("context length 4096"));
    assert_false(errtext_is_context_length("model not found"));
    assert_false(errtext_is_context_length(""));
}

static void read_native(int status, const char *body, const char *message, const char *code) {
    struct errtext_native e;
    errtext_native_read(status, body, body ? strlen(body) : 0, &e);
    assert_non_null(e.message);
    assert_string_equal(e.message, message);
    if (code)
        assert_string_equal(e.code, code);
    else
        assert_null(e.code);
    errtext_native_clear(&e);
    assert_null(e.message);
}

static void test_native_read(void **state) {
    (void)state;
    read_native(400, "{\"error\":\"model is required\"}", "model is required", NULL);
    read_native(429, "{\"error\":{\"message\":\"slow\",\"code\":\"rate\"}}", "slow", "rate");
    read_native(500, "{\"error\":\"input exceeds the context length\"}",
                "input exceeds the context length", "context_length_exceeded");
    read_native(404, " 404 page not found\r\n", "404 page not found", NULL);
    read_native(500, "{\"error\":\"\"}", "{\"error\":\"\"}", NULL);
    read_native(502, "", "upstream returned HTTP 502", NULL);
    read_native(503, NULL, "upstream returned HTTP 503", NULL);
    read_native(500, " \t\n", "upstream returned HTTP 500", NULL);

    char *big = malloc(10000);
    assert_non_null(big);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    struct errtext_native e;
    errtext_native_read(500, big, 9999, &e);
    assert_int_equal(strlen(e.message), 4096);
    errtext_native_clear(&e);
    free(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text),
        cmocka_unit_test(test_context_length),
        cmocka_unit_test(test_native_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
