/* One temporary file per fuzzing process ($TMPDIR or /tmp), rewritten with each input and
 * removed at exit (a crash leaves it behind; run.sh points TMPDIR into build/libfuzzer/). */
#ifndef KEEPWARM_FUZZ_TMPFILE_H
#define KEEPWARM_FUZZ_TMPFILE_H

#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

static char fuzz_tmp_path[4096];

static void fuzz_tmp_remove(void) {
    if (fuzz_tmp_path[0])
        unlink(fuzz_tmp_path);
}

/* Writes data to the file and returns its path (NULL if the file cannot be written). */
static inline const char *fuzz_tmp_write(const uint8_t *data, size_t size) {
    if (!fuzz_tmp_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_tmp_path, sizeof(fuzz_tmp_path), "%s/keepwarm-fuzz-XXXXXX",
                 dir && *dir && strlen(dir) < sizeof(fuzz_tmp_path) - 32 ? dir : "/tmp");
        int fd = mkstemp(fuzz_tmp_path);
        if (fd < 0) {
            perror("fuzz: mkstemp");
            abort();
        }
        close(fd);
        atexit(fuzz_tmp_remove);
    }
    int fd = open(fuzz_tmp_path, O_WRONLY | O_TRUNC);
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            close(fd);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return fuzz_tmp_path;
}

#endif
