/* unzstd: zstd request bodies (contract in unzstd.h). Owns nothing past a call. */
#include "unzstd.h"

#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

#define FIRST_OUT (16u * 1024) /* the output buffer's first size, at least */

static enum unzstd_result fail(enum unzstd_result rc, char *err, size_t errlen, const char *what,
                               const char *detail) {
    if (errlen)
        snprintf(err, errlen, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return rc;
}

static enum unzstd_result too_large(size_t cap, char *err, size_t errlen) {
    if (errlen)
        snprintf(err, errlen, "request body too large: more than %zu bytes once decompressed", cap);
    return UNZSTD_TOO_LARGE;
}

enum unzstd_result unzstd_body_new(const void *in, size_t len, size_t cap, char **out,
                                   size_t *outlen, char *err, size_t errlen) {
    enum unzstd_result rc = UNZSTD_NOMEM;
    ZSTD_DCtx *d = NULL;
    char *buf = NULL;
    size_t size, ret = 0;
    *out = NULL;
    *outlen = 0;

    /* A first frame that says it holds more than cap: refused before any work. (A frame that
     * says less, or nothing, is held to cap while it decodes.) */
    unsigned long long declared = len ? ZSTD_getFrameContentSize(in, len) : 0;
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
        declared > cap)
        return too_large(cap, err, errlen);

    size = len > cap / 4 ? cap : len * 4;
    if (size < FIRST_OUT)
        size = FIRST_OUT;
    if (size > cap + 1)
        size = cap + 1;
    if (!(buf = malloc(size + 1))) /* + 1: the NUL */
        goto fail;
    if (!(d = ZSTD_createDCtx()) ||
        ZSTD_isError(ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, UNZSTD_WINDOW_LOG_MAX)))
        goto fail;

    ZSTD_inBuffer src = {in, len, 0};
    ZSTD_outBuffer dst = {buf, size, 0};
    /* Until the input is used up and the decoder has nothing more to write: ret is 0 at the
     * end of a frame (all of it written), else more of the frame is due, and a full output
     * buffer may hide some of it. */
    while (src.pos < src.size || (dst.pos == dst.size && ret != 0)) {
        if (dst.pos == dst.size) {
            if (dst.size > cap) { /* cap + 1 bytes written */
                rc = too_large(cap, err, errlen);
                goto fail;
            }
            size_t grown = dst.size > (cap + 1) / 2 ? cap + 1 : dst.size * 2;
            char *nb = realloc(buf, grown + 1);
            if (!nb)
                goto fail;
            buf = nb;
            dst.dst = buf;
            dst.size = grown;
        }
        size_t before_in = src.pos, before_out = dst.pos;
        ret = ZSTD_decompressStream(d, &dst, &src);
        if (ZSTD_isError(ret)) {
            rc = fail(UNZSTD_BAD, err, errlen, "failed to decompress request body",
                      ZSTD_getErrorName(ret));
            goto fail;
        }
        if (src.pos == before_in && dst.pos == before_out && dst.pos < dst.size)
            break; /* no progress with room to write: the input is used up */
    }
    if (dst.pos > cap) {
        rc = too_large(cap, err, errlen);
        goto fail;
    }
    if (ret != 0) {
        rc = fail(UNZSTD_BAD, err, errlen, "failed to decompress request body",
                  "the zstd frame is incomplete");
        goto fail;
    }
    ZSTD_freeDCtx(d);
    buf[dst.pos] = '\0';
    *out = buf;
    *outlen = dst.pos;
    return UNZSTD_OK;
fail:
    if (rc == UNZSTD_NOMEM)
        fail(UNZSTD_NOMEM, err, errlen, "out of memory", NULL);
    ZSTD_freeDCtx(d);
    free(buf);
    return rc;
}
