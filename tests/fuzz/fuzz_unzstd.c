/* libFuzzer target: zstd request bodies (proxy/base/unzstd.h), against libzstd's one-shot
 * decoder as the reference: what unzstd_body_new returns is the reference's bytes, it is never
 * more than the cap, and it refuses only what the reference refuses, holds past the cap, or
 * asks for a window above 8 MiB.
 *
 * Input: byte 0: bits 0-6 pick the cap (1 + 97 * n bytes), bit 7 compresses the rest first
 * (a round trip: the body must come back whole when it fits); then the bytes. */
#include <zstd.h>

#include "fuzz.h"
#include "unzstd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    size_t cap = 1 + 97 * (size_t)(data[0] & 0x7f);
    int round_trip = data[0] & 0x80;
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    uint8_t *z = NULL;
    if (round_trip) {
        size_t zcap = ZSTD_compressBound(len);
        if (!(z = malloc(zcap)))
            return 0;
        size_t zn = ZSTD_compress(z, zcap, in, len, 3);
        FUZZ_CHECK("unzstd-compress", !ZSTD_isError(zn), "%s", ZSTD_getErrorName(zn));
        in = z;
        len = zn;
    }

    char *out = (char *)1, err[256];
    size_t outlen = 0;
    enum unzstd_result rc = unzstd_body_new(in, len, cap, &out, &outlen, err, sizeof(err));

    /* the reference: one shot into cap + 1 bytes (more than cap shows as cap + 1 bytes, or as
     * an error) */
    uint8_t *ref = malloc(cap + 1);
    if (!ref)
        abort();
    size_t rn = ZSTD_decompress(ref, cap + 1, in, len);
    int ref_ok = !ZSTD_isError(rn) && rn <= cap;

    if (rc == UNZSTD_OK) {
        FUZZ_CHECK("unzstd-cap", outlen <= cap && out[outlen] == '\0',
                   "%zu bytes for a cap of %zu, or not NUL-terminated", outlen, cap);
        FUZZ_CHECK("unzstd-ref",
                   (ref_ok && rn == outlen && memcmp(ref, out, outlen) == 0) ||
                       (len == 0 && outlen == 0),
                   "decoded %zu bytes; the reference says %s (%zu)", outlen,
                   ZSTD_isError(rn) ? ZSTD_getErrorName(rn) : "ok", rn);
        free(out);
    } else {
        FUZZ_CHECK("unzstd-null", out == NULL && err[0], "an error left out set or no message");
        if (rc == UNZSTD_TOO_LARGE)
            FUZZ_CHECK("unzstd-large", !ref_ok, "too large, but the reference made %zu of %zu", rn,
                       cap);
        if (rc == UNZSTD_BAD)
            FUZZ_CHECK("unzstd-bad", !ref_ok || strstr(err, "memory") != NULL,
                       "refused (%s), but the reference decoded %zu bytes", err, rn);
    }
    if (round_trip && (size - 1) <= cap)
        FUZZ_CHECK("unzstd-round-trip", rc == UNZSTD_OK && outlen == size - 1,
                   "a body of %zu bytes (cap %zu) did not come back: %s", size - 1, cap,
                   rc == UNZSTD_OK ? "short" : err);
    free(ref);
    free(z);
    return 0;
}
