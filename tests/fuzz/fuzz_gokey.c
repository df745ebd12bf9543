/* libFuzzer target: gokey (Go's case-insensitive JSON key matching) against a reference that
 * decodes UTF-8 rune by rune as Go's utf8.DecodeRune does and folds as encoding/json's
 * foldName does for an ASCII name; and the native fast path's scanner against it.
 * Input: a first line, the canonical name (bytes outside printable ASCII make it "keep_alive"),
 * then the key's bytes. The key is also read as a request body: when jansson parses it as an
 * object, policy_check_keys refuses it exactly when one of its keys is a variant of a member
 * in policy_native_keys, and when jscan_body accepts it none of its keys is a variant of any
 * lower-case name (so the fast paths never carry one past the jansson path's refusal). */
#include "fuzz.h"

#include "gokey.h"
#include "jscan.h"
#include "policy.h"

/* Go's utf8.DecodeRune: the rune at p (n > 0 bytes), its length in *len; U+FFFD and length 1
 * for anything invalid (overlong, surrogate, above U+10FFFF, cut). */
static unsigned ref_decode(const unsigned char *p, size_t n, size_t *len) {
    unsigned b0 = p[0], lo = 0x80, hi = 0xBF, need, r;
    *len = 1;
    if (b0 < 0x80)
        return b0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        r = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        r = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0;
        if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        r = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90;
        if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        return 0xFFFD;
    }
    if (n < need + 1)
        return 0xFFFD;
    for (unsigned i = 1; i <= need; i++) {
        unsigned b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF))
            return 0xFFFD;
        r = r << 6 | (b & 0x3F);
    }
    *len = need + 1;
    return r;
}

/* foldName's rune for the fold sets that hold an ASCII letter; any other rune stands for
 * itself (its fold set holds no ASCII, so it never equals an ASCII name's rune). */
static unsigned ref_fold(unsigned r) {
    if (r >= 'a' && r <= 'z')
        return r - 'a' + 'A';
    if (r == 0x212A)
        return 'K';
    if (r == 0x17F)
        return 'S';
    return r;
}

static int ref_fold_equal(const unsigned char *key, size_t n, const char *canonical) {
    size_t i = 0, j = 0, cn = strlen(canonical), len;
    while (i < n && j < cn) {
        unsigned r = ref_decode(key + i, n - i, &len);
        if (ref_fold(r) != ref_fold((unsigned char)canonical[j]))
            return 0;
        i += len;
        j++;
    }
    return i == n && j == cn;
}

/* Some key in the list is a variant of a name in names (by the reference). */
static const char *ref_variant(const char *key, size_t n, const char *const *names) {
    for (; *names; names++)
        if (ref_fold_equal((const unsigned char *)key, n, *names) &&
            !(strlen(*names) == n && memcmp(key, *names, n) == 0))
            return *names;
    return NULL;
}

/* The key is no variant of any lower-case ASCII name: no upper-case ASCII letter, no rune
 * outside ASCII that folds onto one. */
static int ref_lower(const char *key, size_t n) {
    const unsigned char *k = (const unsigned char *)key;
    size_t len;
    for (size_t i = 0; i < n; i += len) {
        unsigned r = ref_decode(k + i, n - i, &len);
        if ((r >= 'A' && r <= 'Z') || (r >= 0x80 && ref_fold(r) < 0x80))
            return 0;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *nl = memchr(data, '\n', size);
    char canonical[65] = "keep_alive";
    const char *key = (const char *)data;
    size_t n = size;
    if (nl) {
        size_t cn = (size_t)(nl - data);
        int printable = cn < sizeof(canonical);
        for (size_t i = 0; printable && i < cn; i++)
            printable = data[i] >= 0x20 && data[i] < 0x7F;
        if (printable) {
            memcpy(canonical, data, cn);
            canonical[cn] = '\0';
        }
        key = (const char *)nl + 1;
        n = size - cn - 1;
    }

    int got = gokey_fold_equal(key, n, canonical);
    int want = ref_fold_equal((const unsigned char *)key, n, canonical);
    FUZZ_CHECK("gokey-fold", got == want, "gokey_fold_equal(%.*s, %s) = %d, reference %d",
               (int)(n < 200 ? n : 200), key, canonical, got, want);
    FUZZ_CHECK("gokey-self", gokey_fold_equal(canonical, strlen(canonical), canonical),
               "%s does not fold to itself", canonical);

    const char *names[] = {canonical, "model", "options", NULL};
    const char *v = gokey_variant_of(key, n, names);
    const char *rv = ref_variant(key, n, names);
    FUZZ_CHECK("gokey-variant", (v == NULL) == (rv == NULL) && (!v || strcmp(v, rv) == 0),
               "gokey_variant_of: %s, reference %s", v ? v : "none", rv ? rv : "none");

    char msg[96];
    char *keyz = fuzz_strndup((const uint8_t *)key, n);
    if (keyz) {
        gokey_refusal(msg, sizeof(msg), keyz, canonical);
        FUZZ_CHECK("gokey-refusal",
                   memchr(msg, '\0', sizeof(msg)) != NULL && fuzz_valid_utf8(msg, strlen(msg)),
                   "refusal text not terminated or not UTF-8");
        free(keyz);
    }

    /* The key bytes as a request body. */
    json_t *body = json_loadb(key, n, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(body)) {
        const char *k, *bad = NULL;
        json_t *val;
        char err[512];
        json_object_foreach(body, k, val) {
            if (!bad)
                bad = ref_variant(k, strlen(k), policy_native_keys);
        }
        int rc = policy_check_keys(body, policy_native_keys, err, sizeof(err));
        FUZZ_CHECK("gokey-policy", (rc < 0) == (bad != NULL), "policy_check_keys %d, variant %s",
                   rc, bad ? bad : "none");
        struct jscan scan;
        if (jscan_body(key, n, &scan) == 0) {
            json_object_foreach(body, k, val)
                FUZZ_CHECK("gokey-jscan", ref_lower(k, strlen(k)),
                           "jscan accepted a body with the top-level key %.100s", k);
        }
    }
    json_decref(body);
    return 0;
}
