/* unzstd: a request body sent with Content-Encoding: zstd, decompressed as Ollama does for its
 * /v1 routes (ollama/ollama fb30760, server/cloud_proxy.go: klauspost/compress zstd with
 * WithDecoderMaxMemory(8 MiB), the result read through http.MaxBytesReader(20 MiB)). Streamed
 * into a buffer that grows to the cap and no further, the window limited, the frame's declared
 * size never trusted to be small: a 20 KiB bomb that would inflate to gigabytes costs at most
 * the cap. Any number of concatenated (and skippable) frames; an empty body is empty. Pure: no
 * I/O; one libzstd context per call. */
#ifndef KEEPWARM_UNZSTD_H
#define KEEPWARM_UNZSTD_H

#include <stddef.h>

/* The window a frame may ask for: 2^23 = 8 MiB (Ollama's decoder memory limit). */
#define UNZSTD_WINDOW_LOG_MAX 23
/* Ollama's cap on a decompressed body (maxDecompressedBodySize, 20 MiB). */
#define UNZSTD_MAX_OUT ((size_t)20 << 20)

enum unzstd_result {
    UNZSTD_OK = 0,
    UNZSTD_BAD = -1,       /* not a complete zstd stream (bad magic, corrupt, truncated, window) */
    UNZSTD_TOO_LARGE = -2, /* more than cap bytes once decompressed */
    UNZSTD_NOMEM = -3,
};

/* Decompresses in[0, len) into *out (malloc'd, NUL-terminated past *outlen; owned by the
 * caller), at most cap bytes. Returns UNZSTD_OK, or an error with *out NULL and a message in
 * err (errlen bytes). */
enum unzstd_result unzstd_body_new(const void *in, size_t len, size_t cap, char **out,
                                   size_t *outlen, char *err, size_t errlen);

#endif
