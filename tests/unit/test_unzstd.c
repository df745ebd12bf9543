/* Unit tests for unzstd: round trips, empty bodies, concatenated and skippable frames, bad and
 * truncated frames, the cap exactly (declared sizes refused before any work, undeclared ones
 * held to the cap while decoding: a bomb costs at most the cap), and the 8 MiB window. The
 * frames are made here with libzstd's compressor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "unzstd.h"

/* src compressed into a new buffer (*n bytes). declare: the frame says its content size.
 * window_log: 0 for the default. */
static char *frame_new(const void *src, size_t len, int declare, int window_log, size_t *n) {
    ZSTD_CCtx *c = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(len) + 64;
    char *out = malloc(cap);
    assert_non_null(c);
    assert_non_null(out);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, declare);
    if (window_log)
        ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log);
    ZSTD_outBuffer o = {out, cap, 0};
    if (declare) {
        ZSTD_inBuffer i = {src, len, 0};
        assert_int_equal(ZSTD_compressStream2(c, &o, &i, ZSTD_e_end), 0);
    } else {
        /* fed in two steps, so the compressor cannot know (or declare) the size */
        ZSTD_inBuffer i = {src, len / 2, 0};
        assert_false(ZSTD_isError(ZSTD_compressStream2(c, &o, &i, ZSTD_e_continue)));
        ZSTD_inBuffer j = {(const char *)src + len / 2, len - len / 2, 0};
        assert_int_equal(ZSTD_compressStream2(c, &o, &j, ZSTD_e_end), 0);
    }
    ZSTD_freeCCtx(c);
    *n = o.pos;
    return out;
}

static enum unzstd_result run(const void *in, size_t len, size_t cap, char **out, size_t *outlen,
                              char *err) {
    return unzstd_body_new(in, len, cap, out, outlen, err, 256);
}

static void test_round_trip(void **state) {
    (void)state;
    const char *body = "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"user\","
                       "\"content\":\"hi\"}],\"stream\":true}";
    for (int declare = 0; declare <= 1; declare++) {
        size_t n, outlen;
        char *z = frame_new(body, strlen(body), declare, 0, &n), *out, err[256];
        assert_int_equal(run(z, n, UNZSTD_MAX_OUT, &out, &outlen, err), UNZSTD_OK);
        assert_int_equal(outlen, strlen(body));
        assert_string_equal(out, body); /* NUL-terminated */
        free(out);
        free(z);
    }
    /* bodies that end exactly where the output buffer is full (16 KiB, then doubled): the
     * decoder has finished the frame, nothing more is due */
    for (size_t len = 16384; len <= 65536; len *= 2) {
        for (size_t d = 0; d < 3; d++) {
            size_t m = len + d - 1, zn, got;
            char *src = malloc(m), *o, e[256];
            for (size_t i = 0; i < m; i++)
                src[i] = (char)(i * 31 % 251);
            char *z = frame_new(src, m, 0, 0, &zn);
            assert_int_equal(run(z, zn, UNZSTD_MAX_OUT, &o, &got, e), UNZSTD_OK);
            assert_int_equal(got, m);
            assert_memory_equal(o, src, m);
            free(o);
            free(z);
            free(src);
        }
    }
    /* a body larger than the first buffer, growing several times */
    size_t big = 3u << 20, n, outlen;
    char *src = malloc(big), *out, err[256];
    for (size_t i = 0; i < big; i++)
        src[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    char *z = frame_new(src, big, 0, 0, &n);
    assert_int_equal(run(z, n, UNZSTD_MAX_OUT, &out, &outlen, err), UNZSTD_OK);
    assert_int_equal(outlen, big);
    assert_memory_equal(out, src, big);
    free(out);
    free(z);
    free(src);
}

static void test_empty(void **state) {
    (void)state;
    char *out, err[256];
    size_t outlen = 99;
    /* no bytes at all: an empty body (the request then says what an empty body gets) */
    assert_int_equal(run("", 0, 100, &out, &outlen, err), UNZSTD_OK);
    assert_int_equal(outlen, 0);
    assert_string_equal(out, "");
    free(out);
    /* a frame of nothing */
    size_t n;
    char *z = frame_new("", 0, 1, 0, &n);
    assert_int_equal(run(z, n, 100, &out, &outlen, err), UNZSTD_OK);
    assert_int_equal(outlen, 0);
    free(out);
    free(z);
}

static void test_concatenated(void **state) {
    (void)state;
    size_t n1, n2, outlen;
    char *a = frame_new("{\"model\":", 9, 1, 0, &n1), *b = frame_new("\"x\"}", 4, 0, 0, &n2);
    /* a skippable frame (magic 0x184D2A50, 4 bytes of length, that many bytes) between them */
    static const unsigned char skip[] = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'z', 'z', 'z'};
    char *both = malloc(n1 + sizeof(skip) + n2), *out, err[256];
    memcpy(both, a, n1);
    memcpy(both + n1, skip, sizeof(skip));
    memcpy(both + n1 + sizeof(skip), b, n2);
    assert_int_equal(run(both, n1 + sizeof(skip) + n2, 100, &out, &outlen, err), UNZSTD_OK);
    assert_string_equal(out, "{\"model\":\"x\"}");
    free(out);
    free(both);
    free(a);
    free(b);
}

static void test_bad_frames(void **state) {
    (void)state;
    char *out = (char *)1, err[256];
    size_t outlen, n;
    /* not zstd: a plain JSON body sent as zstd */
    assert_int_equal(run("{\"model\":\"x\"}", 13, 100, &out, &outlen, err), UNZSTD_BAD);
    assert_null(out);
    assert_non_null(strstr(err, "failed to decompress request body: "));
    /* truncated: every proper prefix of a frame is refused, none is taken for the whole */
    const char *body = "{\"model\":\"llama3.2:3b\",\"prompt\":\"a longer prompt, a longer one\"}";
    char *z = frame_new(body, strlen(body), 0, 0, &n);
    for (size_t cut = 1; cut < n; cut++) {
        enum unzstd_result rc = run(z, cut, 1000, &out, &outlen, err);
        if (rc != UNZSTD_BAD)
            fail_msg("a prefix of %zu of %zu bytes decoded", cut, n);
    }
    assert_int_equal(run(z, n - 1, 1000, &out, &outlen, err), UNZSTD_BAD);
    assert_string_equal(err, "failed to decompress request body: the zstd frame is incomplete");
    /* a frame followed by garbage */
    char *tail = malloc(n + 3);
    memcpy(tail, z, n);
    memcpy(tail + n, "xyz", 3);
    assert_int_equal(run(tail, n + 3, 1000, &out, &outlen, err), UNZSTD_BAD);
    /* a flipped byte in the compressed data: the checksum or the decoder says so */
    for (size_t i = 6; i < n; i++) {
        memcpy(tail, z, n);
        tail[i] ^= 0x40;
        enum unzstd_result rc = run(tail, n, 1000, &out, &outlen, err);
        if (rc == UNZSTD_OK) {
            free(out); /* a flip that still decodes (a literal's byte without a checksum) */
            continue;
        }
        assert_int_equal(rc, UNZSTD_BAD);
        assert_null(out);
    }
    free(tail);
    free(z);
}

static void test_cap(void **state) {
    (void)state;
    size_t len = 100000, n, outlen;
    char *src = malloc(len), *out, err[256];
    memset(src, 'x', len);
    for (int declare = 0; declare <= 1; declare++) {
        char *z = frame_new(src, len, declare, 0, &n);
        assert_int_equal(run(z, n, len, &out, &outlen, err), UNZSTD_OK); /* exactly the cap */
        assert_int_equal(outlen, len);
        free(out);
        out = (char *)1;
        assert_int_equal(run(z, n, len - 1, &out, &outlen, err), UNZSTD_TOO_LARGE);
        assert_null(out);
        assert_string_equal(err, "request body too large: more than 99999 bytes once decompressed");
        free(z);
    }
    free(src);
}

/* 1 GiB of zeros in a few dozen KiB, its size not declared: refused once the cap is reached,
 * never inflated further (the test would take seconds and a GiB otherwise). And the same bomb
 * declaring its size: refused before any work. */
static void test_bomb(void **state) {
    (void)state;
    size_t chunk = 1u << 20, n = 0, cap = 1u << 20;
    char *zeros = calloc(1, chunk), *out, err[256];
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
    size_t zcap = 1u << 20;
    char *z = malloc(zcap);
    ZSTD_outBuffer o = {z, zcap, 0};
    for (int i = 0; i < 1024; i++) {
        ZSTD_inBuffer in = {zeros, chunk, 0};
        assert_false(ZSTD_isError(ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue)));
    }
    ZSTD_inBuffer none = {zeros, 0, 0};
    assert_int_equal(ZSTD_compressStream2(c, &o, &none, ZSTD_e_end), 0);
    n = o.pos;
    assert_true(n < 200000);
    size_t outlen;
    assert_int_equal(run(z, n, cap, &out, &outlen, err), UNZSTD_TOO_LARGE);
    assert_int_equal(run(z, n, UNZSTD_MAX_OUT, &out, &outlen, err), UNZSTD_TOO_LARGE);
    /* declared: a frame header saying 1 GiB, refused from the header alone */
    size_t dn;
    char *d = frame_new(zeros, chunk, 1, 0, &dn);
    assert_int_equal(run(d, dn, chunk - 1, &out, &outlen, err), UNZSTD_TOO_LARGE);
    free(d);
    ZSTD_freeCCtx(c);
    free(z);
    free(zeros);
}

/* A frame whose window is larger than 8 MiB needs that much memory to decode: refused, as
 * Ollama's decoder (WithDecoderMaxMemory(8 MiB)) refuses it; 8 MiB is taken. */
static void test_window(void **state) {
    (void)state;
    size_t len = 64u << 10, n, outlen;
    char *src = malloc(len), *out, err[256];
    for (size_t i = 0; i < len; i++)
        src[i] = (char)(i * 31 % 251);
    char *z = frame_new(src, len, 0, UNZSTD_WINDOW_LOG_MAX + 1, &n);
    assert_int_equal(run(z, n, UNZSTD_MAX_OUT, &out, &outlen, err), UNZSTD_BAD);
    assert_non_null(strstr(err, "failed to decompress request body: "));
    free(z);
    z = frame_new(src, len, 0, UNZSTD_WINDOW_LOG_MAX, &n);
    enum unzstd_result rc = run(z, n, UNZSTD_MAX_OUT, &out, &outlen, err);
    if (rc != UNZSTD_OK)
        fail_msg("%s", err);
    assert_memory_equal(out, src, len);
    free(out);
    free(z);
    free(src);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_empty),
        cmocka_unit_test(test_concatenated), cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_cap),          cmocka_unit_test(test_bomb),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
