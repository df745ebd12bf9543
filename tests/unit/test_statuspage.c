/* Unit tests for statuspage: the Accept negotiation between the page and the JSON, the
 * headers the page goes out with, and what the page's script must never do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "statuspage.h"

static void test_browsers_get_the_page(void **state) {
    (void)state;
    /* Chromium's and Firefox's navigation Accept, and HTML alone. */
    assert_true(statuspage_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,"
                                      "image/avif,image/webp,image/apng,*/*;q=0.8,"
                                      "application/signed-exchange;v=b3;q=0.7"));
    assert_true(
        statuspage_wants_html("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
    assert_true(statuspage_wants_html("text/html"));
    assert_true(statuspage_wants_html("TEXT/HTML"));
    assert_true(statuspage_wants_html("text/*"));
    assert_true(statuspage_wants_html(" text/html ; q=1.000 , application/json ; q=0.999"));
    assert_true(statuspage_wants_html("application/json;q=0, */*"));
}

static void test_programs_keep_the_json(void **state) {
    (void)state;
    assert_false(statuspage_wants_html(NULL));
    assert_false(statuspage_wants_html(""));
    assert_false(statuspage_wants_html("*/*"));                            /* curl, fetch */
    assert_false(statuspage_wants_html("application/json"));               /* the page's own poll */
    assert_false(statuspage_wants_html("application/json, text/html"));    /* a tie: JSON */
    assert_false(statuspage_wants_html("text/html;q=0.5, application/*")); /* type/asterisk */
    assert_false(statuspage_wants_html("text/html;q=0, */*;q=0.1"));
    assert_false(statuspage_wants_html("text/plain, text/htmlx, text/htm"));
    assert_false(statuspage_wants_html("text/html;q=0.8, */*"));
}

static void test_malformed_ranges_are_dropped(void **state) {
    (void)state;
    /* A bad q drops the range: HTML then has no q at all. */
    assert_false(statuspage_wants_html("text/html;q=2"));
    assert_false(statuspage_wants_html("text/html;q=1.5"));
    assert_false(statuspage_wants_html("text/html;q=0.1234"));
    assert_false(statuspage_wants_html("text/html;q="));
    assert_false(statuspage_wants_html("text/html;q=x"));
    assert_false(statuspage_wants_html("text/html;q=.5"));
    assert_false(statuspage_wants_html("html, /, text/, ;q=1, ,,"));
    /* Other parameters are kept apart from q. */
    assert_true(statuspage_wants_html("text/html;level=1;q=0.9, application/json;q=0.5"));
    assert_true(statuspage_wants_html("text/html;charset=utf-8"));
}

static void test_headers(void **state) {
    (void)state;
    const char *csp = NULL, *nosniff = NULL, *cache = NULL, *referrer = NULL;
    for (const struct statuspage_header *h = statuspage_headers; h->name; h++) {
        if (strcmp(h->name, "Content-Security-Policy") == 0)
            csp = h->value;
        else if (strcmp(h->name, "X-Content-Type-Options") == 0)
            nosniff = h->value;
        else if (strcmp(h->name, "Cache-Control") == 0)
            cache = h->value;
        else if (strcmp(h->name, "Referrer-Policy") == 0)
            referrer = h->value;
    }
    assert_non_null(csp);
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "connect-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_null(strstr(csp, "unsafe-eval"));
    assert_string_equal(nosniff, "nosniff");
    assert_string_equal(cache, "no-store");
    assert_string_equal(referrer, "no-referrer");
}

static void test_page(void **state) {
    (void)state;
    size_t len = 0;
    const char *html = statuspage_html(&len);
    assert_int_equal(strlen(html), len);
    assert_true(len < 16384); /* small */
    assert_non_null(strstr(html, "fetch(location.origin + '/status'"));
    /* Anything from /status is text: the script never hands a string to the HTML parser. */
    assert_null(strstr(html, "innerHTML"));
    assert_null(strstr(html, "outerHTML"));
    assert_null(strstr(html, "insertAdjacentHTML"));
    assert_null(strstr(html, "document.write"));
    assert_null(strstr(html, "eval("));
    /* One inline style and one inline script, which the CSP hashes cover; no other source. */
    assert_null(strstr(strstr(html, "<script>") + 1, "<script"));
    assert_null(strstr(strstr(html, "<style>") + 1, "<style"));
    assert_null(strstr(html, " style="));
    assert_null(strstr(html, " src="));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browsers_get_the_page),
        cmocka_unit_test(test_programs_keep_the_json),
        cmocka_unit_test(test_malformed_ranges_are_dropped),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
