/* gokey: Go's case-insensitive JSON key matching (encoding/json foldName, bytes.EqualFold)
 * against ASCII field names; pure. */
#include "gokey.h"

#include <stdio.h>
#include <string.h>

static unsigned char ascii_upper(unsigned char c) {
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* The UTF-8 of the two runes outside ASCII that fold onto an ASCII letter (CaseFolding.txt:
 * 212A; C; 006B and 017F; C; 0073). Any other byte >= 0x80 starts a rune that is either
 * outside every ASCII fold set or invalid (U+FFFD to Go, overlong forms included). */
static const char KELVIN[] = "\xE2\x84\xAA"; /* U+212A, folds with K and k */
static const char LONG_S[] = "\xC5\xBF";     /* U+017F, folds with S and s */

int gokey_fold_equal(const char *key, size_t n, const char *canonical) {
    const unsigned char *k = (const unsigned char *)key, *end = k + n;
    const unsigned char *c = (const unsigned char *)canonical;
    for (; k < end; c++) {
        if (*c == '\0')
            return 0; /* the key is longer */
        unsigned char want = ascii_upper(*c);
        if (*k < 0x80) {
            if (ascii_upper(*k) != want)
                return 0;
            k++;
        } else if (want == 'K' && (size_t)(end - k) >= 3 && memcmp(k, KELVIN, 3) == 0) {
            k += 3;
        } else if (want == 'S' && (size_t)(end - k) >= 2 && memcmp(k, LONG_S, 2) == 0) {
            k += 2;
        } else {
            return 0;
        }
    }
    return *c == '\0';
}

const char *gokey_variant_of(const char *key, size_t n, const char *const *names) {
    for (; *names; names++) {
        if (strlen(*names) == n && memcmp(key, *names, n) == 0)
            return NULL; /* the canonical spelling itself */
        if (gokey_fold_equal(key, n, *names))
            return *names;
    }
    return NULL;
}

/* Whether the NUL-terminated s starts with the NUL-terminated prefix (never reads past s's
 * terminator, unlike memcmp). */
static int starts_with(const char *s, const char *prefix) {
    for (; *prefix && *s == *prefix; s++)
        prefix++;
    return *prefix == '\0';
}

void gokey_refusal(char *buf, size_t len, const char *key, const char *canonical) {
    char shown[128];
    size_t o = 0;
    const char *p = key;
    /* A variant is at most three bytes per letter of a short name; cut anything longer. */
    while (*p && o + 7 < sizeof(shown)) {
        if (starts_with(p, KELVIN)) {
            memcpy(shown + o, "\\u212A", 6);
            o += 6;
            p += 3;
        } else if (starts_with(p, LONG_S)) {
            memcpy(shown + o, "\\u017F", 6);
            o += 6;
            p += 2;
        } else if ((unsigned char)*p >= 0x80) {
            break; /* not part of a variant: stop before cutting a UTF-8 sequence */
        } else {
            shown[o++] = *p++;
        }
    }
    shown[o] = '\0';
    snprintf(buf, len,
             "invalid key \"%s\": Ollama reads it as \"%s\" (Go matches JSON keys "
             "case-insensitively); send \"%s\" exactly, once",
             shown, canonical, canonical);
}
