/* Unit tests for base64: RFC 4648's vectors both ways, and Go's StdEncoding decoding rules
 * (padding required, line breaks ignored, trailing bits tolerated, nothing after padding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_rfc4648(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
        size_t n = 99;
        char *text = base64_encode_new((const unsigned char *)plain[i], strlen(plain[i]));
        unsigned char *bytes = base64_decode_new(coded[i], &n);
        assert_non_null(text);
        assert_string_equal(text, coded[i]);
        assert_non_null(bytes);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(bytes, plain[i], n);
        free(text);
        free(bytes);
    }
}

static void test_all_bytes(void **state) {
    unsigned char in[256];
    size_t n = 0;
    (void)state;
    for (int i = 0; i < 256; i++)
        in[i] = (unsigned char)(255 - i);
    char *text = base64_encode_new(in, sizeof(in));
    assert_non_null(text);
    assert_int_equal(strlen(text), (sizeof(in) + 2) / 3 * 4);
    unsigned char *back = base64_decode_new(text, &n);
    assert_non_null(back);
    assert_int_equal(n, sizeof(in));
    assert_memory_equal(back, in, n);
    free(text);
    free(back);
}

static void decodes(const char *s, const char *want) {
    size_t n = 0;
    unsigned char *bytes = base64_decode_new(s, &n);
    if (!bytes)
        fail_msg("\"%s\" refused", s);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(bytes, want, n);
    free(bytes);
}

static void test_go_rules(void **state) {
    static const char *const bad[] = {
        "Zg",        /* padding required */
        "Zg=",       /* half the padding */
        "Zm9v=",     /* padding after a whole quantum */
        "Z===",      /* one character and padding */
        "Zg==Zg==",  /* data after padding */
        "Zg== x",    /* anything but line breaks after padding */
        "Zm9v YmFy", /* spaces are not ignored */
        "Zm9-",      /* URL alphabet */
        "Zm9vY",     /* a lone trailing character */
    };
    (void)state;
    decodes("Zm9v\r\nYmFy", "foobar"); /* line breaks anywhere */
    decodes("\nZ\ng\n=\n=\n", "f");
    decodes("Zh==", "f"); /* non-zero trailing bits: Go's StdEncoding accepts them */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n;
        unsigned char *bytes = base64_decode_new(bad[i], &n);
        if (bytes)
            fail_msg("\"%s\" decoded", bad[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648),
        cmocka_unit_test(test_all_bytes),
        cmocka_unit_test(test_go_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
