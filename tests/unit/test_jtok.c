/* Unit tests for jtok, the stream fast paths' token reader: string tokens with every escape
 * decoded (surrogate pairs too), the step after a member (its three outcomes), keys, and bounds:
 * each input is copied into a buffer of exactly its size, so ASan sees any read past end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jtok.h"

/* s copied to the heap, exactly strlen(s) bytes (no NUL; "" gets malloc(0), which ASan holds
 * to zero bytes). */
static char *exact(const char *s, size_t *n) {
    *n = strlen(s);
    char *b = malloc(*n);
    assert_true(b || !*n);
    if (*n)
        memcpy(b, s, *n);
    return b;
}

/* A string token: its decoded text must be want (wlen bytes); NULL: it must be refused. */
static void check_string(const char *tok, const char *want, size_t wlen) {
    size_t n;
    char *b = exact(tok, &n);
    struct jtok t = {0};
    const char *after = jtok_string(b, b + n, &t);
    if (!want) {
        assert_null(after);
        assert_int_equal(t.set, 0);
        free(b);
        return;
    }
    assert_non_null(after);
    assert_ptr_equal(after, b + n);
    assert_int_equal(t.set, 1);
    assert_ptr_equal(t.p, b + 1);
    assert_int_equal(t.n, n - 2);
    char *d = malloc(t.n ? t.n : 1);
    size_t dn = jtok_decode(&t, d);
    assert_int_equal(dn, wlen);
    assert_memory_equal(d, want, wlen);
    assert_int_equal(t.esc, strchr(tok, '\\') != NULL);
    free(d);
    free(b);
}

static void test_strings(void **state) {
    (void)state;
    check_string("\"\"", "", 0);
    check_string("\"plain\"", "plain", 5);
    check_string("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", "a\"b\\c/d\be\ff\ng\rh\ti", 17);
    check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    check_string("\"\\u0001\\u001f\"", "\x01\x1f", 2);
    check_string("\"x\\ud83d\\ude00y\"", "x\xf0\x9f\x98\x80y", 6); /* U+1F600 */
    check_string("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);     /* U+10FFFF */
    check_string("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80", 4);     /* U+10000 */
    check_string("\"\xc3\xa9\\n\"", "\xc3\xa9\n", 3);              /* raw UTF-8 next to an escape */
    /* Refused, as json_loadb refuses them. */
    check_string("\"\\ud83d\"", NULL, 0);     /* lone high surrogate */
    check_string("\"\\ude00\"", NULL, 0);     /* lone low surrogate */
    check_string("\"\\u0000\"", NULL, 0);     /* NUL */
    check_string("\"\\x\"", NULL, 0);         /* unknown escape */
    check_string("\"\\u12\"", NULL, 0);       /* short \u */
    check_string("\"a\nb\"", NULL, 0);        /* raw control byte */
    check_string("\"\xff\"", NULL, 0);        /* invalid UTF-8 */
    check_string("\"abc", NULL, 0);           /* unterminated: end reached */
    check_string("\"abc\\", NULL, 0);         /* a backslash last */
    check_string("\"\\ud83d\\ude0", NULL, 0); /* cut inside the pair */
    check_string("abc", NULL, 0);             /* not a string */
    check_string("", NULL, 0);
}

static void test_utf8(void **state) {
    (void)state;
    char b[4];
    assert_int_equal(jtok_utf8(0x7f, b), 1);
    assert_int_equal((unsigned char)b[0], 0x7f);
    assert_int_equal(jtok_utf8(0x80, b), 2);
    assert_memory_equal(b, "\xc2\x80", 2);
    assert_int_equal(jtok_utf8(0x7ff, b), 2);
    assert_memory_equal(b, "\xdf\xbf", 2);
    assert_int_equal(jtok_utf8(0x800, b), 3);
    assert_memory_equal(b, "\xe0\xa0\x80", 3);
    assert_int_equal(jtok_utf8(0xffff, b), 3);
    assert_memory_equal(b, "\xef\xbf\xbf", 3);
    assert_int_equal(jtok_utf8(0x10000, b), 4);
    assert_memory_equal(b, "\xf0\x90\x80\x80", 4);
}

/* jtok_next on s with close: the outcome, and where *pp ends (offset into s, -1: unchanged). */
static void check_next(const char *s, char close, int want, long at) {
    size_t n;
    char *b = exact(s, &n);
    const char *p = b;
    assert_int_equal(jtok_next(&p, b + n, close), want);
    assert_ptr_equal(p, at < 0 ? b : b + at);
    free(b);
}

static void test_next(void **state) {
    (void)state;
    check_next(",\"k\"", '}', 1, 1);
    check_next(" \t\r\n, \"k\"", '}', 1, 6); /* spaces on both sides of the comma */
    check_next(",", '}', 1, 1);              /* another one, at end: the caller's token fails */
    check_next("}", '}', 0, 1);
    check_next("  ]x", ']', 0, 3);
    check_next("]", '}', -1, -1); /* the other close */
    check_next(":", '}', -1, -1);
    check_next("   ", '}', -1, -1); /* end of input */
    check_next("", '}', -1, -1);
}

static void test_keys(void **state) {
    (void)state;
    size_t n;
    char *b = exact("\"model\" : \"m\"", &n);
    struct jtok k = {0};
    const char *v = jtok_key(b, b + n, &k);
    assert_ptr_equal(v, b + 10);
    assert_true(jtok_key_is(&k, "model"));
    assert_false(jtok_key_is(&k, "mode"));
    assert_false(jtok_key_is(&k, "models"));
    assert_false(jtok_key_is(&k, "Model"));
    free(b);
    b = exact("\"model\"", &n); /* no ':' before end */
    assert_null(jtok_key(b, b + n, &k));
    free(b);
    b = exact("\"model\"  ", &n);
    assert_null(jtok_key(b, b + n, &k));
    free(b);
    b = exact("\"mod\\u0065l\":1", &n); /* an escaped key: the jansson path's */
    assert_null(jtok_key(b, b + n, &k));
    free(b);
    b = exact("  x", &n);
    assert_ptr_equal(jtok_skip_ws(b, b + n), b + 2);
    assert_ptr_equal(jtok_skip_ws(b, b + 1), b + 1); /* stops at end */
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
