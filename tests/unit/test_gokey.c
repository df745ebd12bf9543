/* Unit tests for gokey: Go's encoding/json key folding (bytes.EqualFold against an ASCII
 * field name), the variant lookup and the refusal text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gokey.h"

#define KELVIN "\xE2\x84\xAA" /* U+212A KELVIN SIGN: folds with K and k */
#define LONG_S "\xC5\xBF"     /* U+017F LATIN SMALL LETTER LONG S: folds with S and s */

static int eq(const char *key, const char *canonical) {
    return gokey_fold_equal(key, strlen(key), canonical);
}

static void test_ascii(void **state) {
    (void)state;
    assert_true(eq("keep_alive", "keep_alive"));
    assert_true(eq("KEEP_ALIVE", "keep_alive"));
    assert_true(eq("Keep_Alive", "keep_alive"));
    assert_true(eq("kEEP_aLIVE", "keep_alive"));
    assert_true(eq("MODEL", "model"));
    assert_true(eq("Options", "options"));
    assert_true(eq("", ""));
    assert_true(eq("_Debug_Render_Only", "_debug_render_only"));
    /* '_' and '-' are compared exactly (v1 semantics; jsonv2's v1 mode keeps them) */
    assert_false(eq("keep-alive", "keep_alive"));
    assert_false(eq("keepalive", "keep_alive"));
    assert_false(eq("KeepAlive", "keep_alive"));
    /* length */
    assert_false(eq("model", "models"));
    assert_false(eq("models", "model"));
    assert_false(eq("", "model"));
    assert_false(eq("model ", "model"));
    /* only letters fold: '@' (0x40) is not '`' (0x60), '[' is not '{' */
    assert_false(eq("@", "`"));
    assert_false(eq("[", "{"));
    assert_false(eq("^", "~"));
}

static void test_unicode(void **state) {
    (void)state;
    assert_true(eq(KELVIN "eep_alive", "keep_alive"));
    assert_true(eq(KELVIN "EEP_ALIVE", "keep_alive"));
    assert_true(eq("option" LONG_S, "options"));
    assert_true(eq("OPTION" LONG_S, "options"));
    assert_true(eq(LONG_S "tream", "stream"));
    assert_true(eq("ma" KELVIN "e", "make"));
    /* the special runes match only their own letter */
    assert_false(eq(KELVIN "odel", "model"));
    assert_false(eq("option" KELVIN, "options"));
    assert_false(eq("model" LONG_S, "models"
                                    "x"));
    /* not folded by Go: U+0130 and U+0131 (Turkic i, no simple fold), U+FF4B (fullwidth k),
     * U+1E9E (capital sharp s), a combining mark */
    assert_false(eq("opt\xC4\xB0ons", "options"));
    assert_false(eq("opt\xC4\xB1ons", "options"));
    assert_false(eq("\xEF\xBD\x8B"
                    "eep_alive",
                    "keep_alive"));
    assert_false(eq("\xE1\xBA\x9E", "ss"));
    /* invalid UTF-8 is U+FFFD to Go: overlong 'K', a cut Kelvin sign, stray bytes */
    assert_false(eq("\xC1\x8B"
                    "eep_alive",
                    "keep_alive"));
    assert_false(eq("\xE2\x84"
                    "eep_alive",
                    "keep_alive"));
    assert_false(eq("\xE2\x84", "k"));
    assert_false(eq("\xC5", "s"));
    assert_false(eq("\xFF", "s"));
    /* a NUL in the key is a byte like any other, not the end of the name */
    assert_false(gokey_fold_equal("model\0", 6, "model"));
    assert_false(gokey_fold_equal("mod\0l", 5, "model"));
    /* a length cut inside the Kelvin sign */
    assert_false(gokey_fold_equal(KELVIN, 2, "k"));
    assert_true(gokey_fold_equal(KELVIN "xyz", 3, "k"));
}

static void test_variant_of(void **state) {
    (void)state;
    static const char *const names[] = {"model", "keep_alive", "options", NULL};
    const char *r;
    assert_null(gokey_variant_of("model", 5, names));
    assert_null(gokey_variant_of("keep_alive", 10, names));
    assert_null(gokey_variant_of("prompt", 6, names));
    assert_null(gokey_variant_of("keep-alive", 10, names));
    assert_null(gokey_variant_of("", 0, names));
    r = gokey_variant_of("Model", 5, names);
    assert_non_null(r);
    assert_string_equal(r, "model");
    r = gokey_variant_of("KEEP_ALIVE", 10, names);
    assert_non_null(r);
    assert_string_equal(r, "keep_alive");
    r = gokey_variant_of(KELVIN "eep_alive", strlen(KELVIN "eep_alive"), names);
    assert_non_null(r);
    assert_string_equal(r, "keep_alive");
    r = gokey_variant_of("option" LONG_S, strlen("option" LONG_S), names);
    assert_non_null(r);
    assert_string_equal(r, "options");
    static const char *const none[] = {NULL};
    assert_null(gokey_variant_of("Model", 5, none));
}

static void test_refusal(void **state) {
    (void)state;
    char buf[512];
    gokey_refusal(buf, sizeof(buf), "KEEP_ALIVE", "keep_alive");
    assert_string_equal(buf, "invalid key \"KEEP_ALIVE\": Ollama reads it as \"keep_alive\" (Go "
                             "matches JSON keys case-insensitively); send \"keep_alive\" exactly, "
                             "once");
    gokey_refusal(buf, sizeof(buf), KELVIN "eep_alive", "keep_alive");
    assert_non_null(strstr(buf, "invalid key \"\\u212Aeep_alive\""));
    gokey_refusal(buf, sizeof(buf), "option" LONG_S, "options");
    assert_non_null(strstr(buf, "invalid key \"option\\u017F\""));
    /* other bytes outside ASCII end the shown key rather than being cut */
    gokey_refusal(buf, sizeof(buf), "ab\xC3\xA9z", "x");
    assert_non_null(strstr(buf, "invalid key \"ab\""));
    /* a small buffer: cut, terminated */
    gokey_refusal(buf, 8, "Model", "model");
    assert_string_equal(buf, "invalid");
    /* a long key is cut before the shown buffer ends */
    char long_key[400];
    memset(long_key, 'K', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    gokey_refusal(buf, sizeof(buf), long_key, "k");
    assert_true(strlen(buf) < sizeof(buf));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_unicode),
        cmocka_unit_test(test_variant_of),
        cmocka_unit_test(test_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
