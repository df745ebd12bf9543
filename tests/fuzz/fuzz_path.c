/* libFuzzer target: access_path_normalize and access_path_encode, the request path keepwarm
 * decides on and forwards, and access_is_admin_path on it. Input: the raw path of a request
 * line. */
#include "access.h"
#include "fuzz.h"

/* Go's url.PathUnescape, the path Ollama's router matches: -1 on a bad escape. */
static int plain_decode(const char *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (i + 2 >= n)
            return -1;
        const char *hi = memchr(hex, in[i + 1] | 0x20, 16), *lo = memchr(hex, in[i + 2] | 0x20, 16);
        if (!hi || !lo || !in[i + 1] || !in[i + 2])
            return -1;
        out[o++] = (char)((hi - hex) << 4 | (lo - hex));
        i += 2;
    }
    out[o] = '\0';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char out[512], again[512], enc[1600], dec[4096];
    const char *raw = (const char *)data;
    if (size >= sizeof(dec))
        return 0;
    if (access_path_normalize(raw, size, out, sizeof(out)) < 0)
        return 0;
    size_t n = strlen(out);
    FUZZ_CHECK("path-rooted", n > 0 && out[0] == '/', "%s", out);
    FUZZ_CHECK("path-no-empty-segment", !strstr(out, "//"), "%s", out);
    FUZZ_CHECK("path-no-dot-segment",
               !strstr(out, "/./") && !strstr(out, "/../") &&
                   !(n >= 2 && strcmp(out + n - 2, "/.") == 0) &&
                   !(n >= 3 && strcmp(out + n - 3, "/..") == 0),
               "%s", out);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK("path-no-control", (unsigned char)out[i] >= 0x20 && out[i] != 0x7f, "%s", out);
    /* Forwarded as encoded, it decodes back to exactly itself, and normalising is idempotent. */
    FUZZ_CHECK("path-encode-fits", access_path_encode(out, enc, sizeof(enc)) == 0, "%s", out);
    FUZZ_CHECK("path-encode-clean", !strpbrk(enc, " ?#"), "%s", enc);
    FUZZ_CHECK("path-roundtrip",
               access_path_normalize(enc, strlen(enc), again, sizeof(again)) == 0 &&
                   strcmp(again, out) == 0,
               "%s -> %s -> %s", out, enc, again);
    /* Whatever Ollama's router would read as model management, keepwarm reads so too. gin's
     * /api/blobs/:digest takes one segment, so "/api/blobs/../x" is a 404 there, not a blob. */
    if (plain_decode(raw, size, dec) == 0 && access_is_admin_path(dec) &&
        !(strncmp(dec, "/api/blobs/", 11) == 0 &&
          (strchr(dec + 11, '/') || strcmp(dec + 11, ".") == 0 || strcmp(dec + 11, "..") == 0)))
        FUZZ_CHECK("path-admin-kept", access_is_admin_path(out), "%s read as %s", dec, out);
    return 0;
}
