/* main() for a fuzz target without libFuzzer, after jansson's standaloneengine: replays
 * every file named on the command line, and every file of every directory named (one level,
 * in name order, dot files skipped), through LLVMFuzzerTestOneInput. `make fuzz-replay` runs
 * each target over tests/fuzz/corpus/<target>/ with gcc and the normal (or SANITIZE) flags.
 *
 * A crash, a sanitizer report or a failed invariant names the input being replayed. An empty
 * directory is an error: a corpus that lost its files would otherwise pass. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_SANITIZER 1
#endif
#endif
#ifdef HAVE_SANITIZER
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

static const char *current;

static void name_current(void) {
    if (!current)
        return;
    static const char msg[] = "\nfuzz-replay: failed on input ";
    ssize_t rc = write(2, msg, sizeof(msg) - 1);
    rc = write(2, current, strlen(current));
    rc = write(2, "\n", 1);
    (void)rc;
}

static void on_signal(int sig) {
    name_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        fprintf(stderr, "fuzz-replay: %s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* An exact-size copy, so ASan sees reads past the end of the input. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact)
        abort();
    memcpy(exact, buf, len);
    free(buf);
    current = path;
    LLVMFuzzerTestOneInput(exact, len);
    current = NULL;
    free(exact);
    return 0;
}

static int filter(const struct dirent *d) {
    return d->d_name[0] != '.';
}

static int run_dir(const char *dir, size_t *count) {
    struct dirent **list;
    int n = scandir(dir, &list, filter, alphasort);
    if (n < 0) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
        if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = run_file(path);
            (*count)++;
        }
        free(list[i]);
    }
    free(list);
    if (rc == 0 && *count == 0) {
        fprintf(stderr, "fuzz-replay: %s: no inputs\n", dir);
        rc = -1;
    }
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    signal(SIGABRT, on_signal); /* FUZZ_CHECK */
#ifdef HAVE_SANITIZER
    __sanitizer_set_death_callback(name_current); /* ASan owns SIGSEGV and friends */
#else
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
#endif
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    for (int i = 1; i < argc; i++) {
        struct stat st;
        size_t count = 0;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : (count = 1, run_file(argv[i])))
            return 1;
        printf("fuzz-replay: %s: %zu inputs ok\n", name, count);
    }
    return 0;
}
