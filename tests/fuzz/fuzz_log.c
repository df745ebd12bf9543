/* libFuzzer target: log's formatter (proxy/base/log.h). Whatever two client values hold, a line is
 * one line (no byte below 0x20, no DEL), its quotes are balanced, it has exactly the fields
 * its format names, and each value reads back as the client's text (or, when cut, a prefix of
 * it followed by "...").
 *
 * Input: byte 0 picks the output size (0: a whole line, else 16..271 bytes), then the two
 * values, separated by the first NUL (a second value absent: empty). */
#include "fuzz.h"
#include "log.h"

#include <stdarg.h>

static size_t fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

static size_t fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    size_t n = log_vformat(buf, len, f, ap);
    va_end(ap);
    return n;
}

/* The next key=value of s at *pos: the key into key, the decoded value into val (*vlen).
 * Returns 1, 0 at the end, -1 when s is not logfmt. */
static int next_field(const char *s, size_t *pos, char *key, size_t klen, char *val, size_t *vlen) {
    size_t i = *pos, k = 0, v = 0;
    while (s[i] == ' ')
        i++;
    if (!s[i])
        return 0;
    while (s[i] && s[i] != '=' && s[i] != ' ' && s[i] != '"' && k + 1 < klen)
        key[k++] = s[i++];
    key[k] = '\0';
    if (s[i] != '=' || k == 0)
        return -1;
    i++;
    if (s[i] == '"') {
        for (i++;; i++) {
            if (!s[i])
                return -1;
            if (s[i] == '"')
                break;
            if (s[i] == '\\') {
                char c = s[++i];
                if (c == 'n')
                    val[v++] = '\n';
                else if (c == 'r')
                    val[v++] = '\r';
                else if (c == 't')
                    val[v++] = '\t';
                else if (c == '"' || c == '\\')
                    val[v++] = c;
                else if (c == 'u' && s[i + 1] == '0' && s[i + 2] == '0' && s[i + 3] && s[i + 4]) {
                    char hex[3] = {s[i + 3], s[i + 4], '\0'};
                    val[v++] = (char)strtol(hex, NULL, 16);
                    i += 4;
                } else
                    return -1;
            } else {
                val[v++] = s[i];
            }
        }
        i++;
    } else {
        while (s[i] && s[i] != ' ') {
            if (s[i] == '"')
                return -1;
            val[v++] = s[i++];
        }
    }
    if (s[i] && s[i] != ' ')
        return -1;
    *pos = i;
    *vlen = v;
    return 1;
}

/* got is what was logged for want[0..wn): the same, or a prefix ending in "..." when cut. */
static int value_ok(const char *got, size_t gn, const char *want, size_t wn) {
    if (gn == wn && memcmp(got, want, wn) == 0)
        return 1;
    return gn >= 3 && memcmp(got + gn - 3, "...", 3) == 0 && gn - 3 <= wn &&
           memcmp(got, want, gn - 3) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t cap = data[0] ? 16 + (size_t)data[0] : LOG_LINE_MAX;
    const char *rest = (const char *)data + 1;
    size_t n = size - 1;
    const char *nul = memchr(rest, '\0', n);
    size_t n1 = nul ? (size_t)(nul - rest) : n;
    char *v1 = malloc(n1 + 1);
    size_t n2 = nul ? n - n1 - 1 : 0;
    char *v2 = malloc(n2 + 1);
    if (!v1 || !v2)
        abort();
    memcpy(v1, rest, n1);
    v1[n1] = '\0';
    if (nul)
        memcpy(v2, nul + 1, n2);
    v2[n2] = '\0';
    n2 = strlen(v2); /* a later NUL ends the C string */

    char *line = malloc(cap);
    char *val = malloc(LOG_LINE_MAX);
    char key[64];
    if (!line || !val)
        abort();
    static const char *const keys[] = {"msg", "model", "path", "status"};
    for (int form = 0; form < 2; form++) {
        size_t len =
            form ? fmt(line, cap, "msg=\"request\" model=%s path=\"%s\" status=%d", v1, v2, 200)
                 : fmt(line, cap, "msg=\"%s; kept\" model=\"%s\" path=%s status=%d", v1, v2, v2,
                       404);
        FUZZ_CHECK("log-length", len < cap && line[len] == '\0' && strlen(line) == len,
                   "wrote %zu bytes into %zu", len, cap);
        for (size_t i = 0; i < len; i++)
            FUZZ_CHECK("log-one-line", (unsigned char)line[i] >= 0x20 && line[i] != 0x7f,
                       "byte 0x%02x at %zu", (unsigned char)line[i], i);
        size_t pos = 0, vlen = 0, nf = 0;
        int rc;
        while ((rc = next_field(line, &pos, key, sizeof(key), val, &vlen)) == 1) {
            FUZZ_CHECK("log-fields", nf < 4 && strcmp(key, keys[nf]) == 0,
                       "field %zu is \"%s\" in: %s", nf, key, line);
            if (cap == LOG_LINE_MAX && form && nf == 1)
                FUZZ_CHECK("log-value", value_ok(val, vlen, v1, n1), "model reads back wrong: %s",
                           line);
            if (cap == LOG_LINE_MAX && nf == 2)
                FUZZ_CHECK("log-value", value_ok(val, vlen, v2, n2), "path reads back wrong: %s",
                           line);
            nf++;
        }
        /* a cut line may end inside a key it could not finish; a whole one is all logfmt */
        FUZZ_CHECK("log-logfmt", rc == 0 || cap != LOG_LINE_MAX, "not logfmt: %s", line);
        FUZZ_CHECK("log-all-fields", cap != LOG_LINE_MAX || nf == 4, "%zu fields in: %s", nf, line);
    }
    free(line);
    free(val);
    free(v1);
    free(v2);
    return 0;
}
