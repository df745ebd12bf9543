/* libFuzzer target: modelname_normalize and modelname_equal. Input: a name, optionally a
 * newline and a second name. Invariants: a canonical form is "" exactly when there is none,
 * fits MODELNAME_MAX, is lower case, host/namespace/model:tag[:cloud], and is its own canonical
 * form; the name padded with white space, in upper case, or (for a bare "model[:tag]") with
 * "library/" or "registry.ollama.ai/library/" before it resolves the same (these take the full
 * parse where the name itself may take the short one); modelname_equal is reflexive and
 * symmetric, and for two names with canonical forms it is the equality of those forms. */
#include "fuzz.h"

#include <ctype.h>

#include "modelname.h"

static int norm(const char *s, char *out) {
    int rc = modelname_normalize(s, out, MODELNAME_MAX);
    FUZZ_CHECK("modelname-rc", (rc == 0) == (out[0] != '\0'), "rc %d, out \"%.100s\"", rc, out);
    return rc;
}

/* The same name written another way resolves the same. */
static void same_as(const char *what, const char *variant, int rc, const char *out) {
    char again[MODELNAME_MAX];
    int rc2 = norm(variant, again);
    FUZZ_CHECK("modelname-variant", rc2 == rc && strcmp(again, out) == 0,
               "%s \"%.200s\": rc %d \"%.200s\", the name itself: rc %d \"%.200s\"", what, variant,
               rc2, again, rc, out);
}

static void check_one(const char *s, size_t n) {
    char out[MODELNAME_MAX], again[MODELNAME_MAX];
    int rc = norm(s, out);
    if (rc == 0) {
        size_t len = strlen(out), slashes = 0;
        FUZZ_CHECK("modelname-cap", len < MODELNAME_MAX, "%zu bytes", len);
        for (size_t i = 0; i < len; i++) {
            FUZZ_CHECK("modelname-lower",
                       !(out[i] >= 'A' && out[i] <= 'Z') && out[i] > ' ' &&
                           (unsigned char)out[i] < 0x7f,
                       "\"%s\"", out);
            slashes += out[i] == '/';
        }
        FUZZ_CHECK("modelname-shape", slashes == 2 && strchr(strrchr(out, '/'), ':'), "\"%s\"",
                   out);
        FUZZ_CHECK("modelname-idempotent", norm(out, again) == 0 && strcmp(out, again) == 0,
                   "\"%s\" -> \"%s\"", out, again);
    }
    char *buf = malloc(n + 64);
    if (!buf)
        return;
    snprintf(buf, n + 64, " \t%s\n ", s);
    same_as("padded", buf, rc, out);
    for (size_t i = 0; i <= n; i++)
        buf[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
    same_as("upper case", buf, rc, out);
    if (n && !strchr(s, '/') && (isalnum((unsigned char)s[0]) || s[0] == '_')) {
        snprintf(buf, n + 64, "library/%s", s);
        same_as("with library/", buf, rc, out);
        snprintf(buf, n + 64, "registry.ollama.ai/library/%s", s);
        same_as("with the default host", buf, rc, out);
    }
    free(buf);
    FUZZ_CHECK("modelname-reflexive", modelname_equal(s, s), "\"%.200s\"", s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    size_t len = strlen(text); /* a NUL ends the input, as it ends a C string */
    char *b = memchr(text, '\n', len);
    if (b)
        *b++ = '\0';
    check_one(text, strlen(text));
    if (b) {
        char na[MODELNAME_MAX], nb[MODELNAME_MAX];
        check_one(b, strlen(b));
        int eq = modelname_equal(text, b);
        FUZZ_CHECK("modelname-symmetric", eq == modelname_equal(b, text), "\"%.200s\" \"%.200s\"",
                   text, b);
        if (norm(text, na) == 0 && norm(b, nb) == 0)
            FUZZ_CHECK("modelname-equal", eq == (strcmp(na, nb) == 0),
                       "\"%.200s\" \"%.200s\": equal %d, forms \"%s\" \"%s\"", text, b, eq, na, nb);
    }
    free(text);
    return 0;
}
