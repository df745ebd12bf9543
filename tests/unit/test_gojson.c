/* Unit tests for gojson_kind: Go's word for each JSON kind in "cannot unmarshal <kind> into
 * ...", NULL as null. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "gojson.h"

static void check(const char *text, const char *want) {
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(v);
    assert_string_equal(gojson_kind(v), want);
    json_decref(v);
}

static void test_kind(void **state) {
    (void)state;
    check("{}", "object");
    check("[1]", "array");
    check("\"s\"", "string");
    check("1", "number");
    check("1.5", "number");
    check("true", "bool");
    check("false", "bool");
    check("null", "null");
    assert_string_equal(gojson_kind(NULL), "null");
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kind)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
