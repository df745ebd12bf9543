/* Unit tests for rfc3339: Go's RFC 3339 timestamps (created_at, modified_at, expires_at) as
 * unix seconds, and everything that must not parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "rfc3339.h"

static long long parsed(const char *s) {
    long long t = 42;
    if (rfc3339_parse(s, &t) != 0)
        fail_msg("\"%s\" did not parse", s);
    return t;
}

static void test_parse_time_valid(void **state) {
    (void)state;
    assert_int_equal(parsed("2009-02-13T23:31:30Z"), 1234567890);
    assert_int_equal(parsed("2023-06-16T17:03:22Z"), 1686935002);
    assert_int_equal(parsed("2024-06-04T14:38:31.83753-07:00"), 1717537111);
    assert_int_equal(parsed("2025-07-07T20:22:19.184789Z"), 1751919739);
    assert_int_equal(parsed("2024-02-29T12:00:00+05:30"), 1709188200);
    assert_int_equal(parsed("2024-12-31T23:59:59.999999999+23:59"), 1735603259);
    assert_int_equal(parsed("2009-02-13t23:31:30z"), 1234567890);
    assert_int_equal(parsed("0001-01-01T00:00:00Z"), -62135596800LL);
    assert_int_equal(parsed("2000-02-29T00:00:00Z"), 951782400);
}

static void test_parse_time_invalid(void **state) {
    static const char *const bad[] = {
        "",
        "garbage",
        "2023-06-16",
        "2023-06-16T17:03:22",        /* no zone */
        "2023-06-16 17:03:22Z",       /* space separator */
        "2023-06-16T17:03:22.Z",      /* empty fraction */
        "2023-06-16T17:03:22Zjunk",   /* trailing bytes */
        "2023-02-29T00:00:00Z",       /* not a leap year */
        "1900-02-29T00:00:00Z",       /* century rule */
        "2023-13-01T00:00:00Z",       /* month */
        "2023-00-01T00:00:00Z",       /* month */
        "2023-04-31T00:00:00Z",       /* day */
        "2023-06-16T24:00:00Z",       /* hour */
        "2023-06-16T17:60:00Z",       /* minute */
        "2023-06-16T17:03:60Z",       /* second */
        "2023-06-16T17:03:22+0700",   /* offset without colon */
        "2023-06-16T17:03:22+24:00",  /* offset hour */
        "2023-06-16T17:03:22+07:60",  /* offset minute */
        "2023-06-16T17:03:22+07:00 ", /* trailing space */
        "+2023-06-16T17:03:22Z",
        "2023-6-16T17:03:22Z",
    };
    (void)state;
    long long t = 42;
    assert_int_equal(rfc3339_parse(NULL, &t), -1);
    assert_int_equal(t, 42);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rfc3339_parse(bad[i], &t) != -1 || t != 42)
            fail_msg("parsed invalid time \"%s\"", bad[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time_valid),
        cmocka_unit_test(test_parse_time_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
