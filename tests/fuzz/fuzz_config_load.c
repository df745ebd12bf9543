/* libFuzzer target: config_load, the whole layering: defaults, -c FILE or KEEPWARM_CONFIG,
 * KEEPWARM_* environment, flags.
 *
 * Input: argument lines (argv[1..]), an empty line, environment lines ("K=V"), an empty
 * line, then the INI file. An argument or variable ending in '@' has the '@' replaced by the
 * file's path ("-c@", "--config=@", "KEEPWARM_CONFIG=@"). An input with a string whose
 * first '/' is not that of "SCHEME://" is skipped (see safe()). */
#include <getopt.h>

#include "config_lines.h"
#include "tmpfile.h"

#define MAX_STRINGS 64

/* Splits lines[0..] of text until an empty line or the end; returns the count. */
static size_t take_lines(char **text, char **out, size_t max) {
    size_t n = 0;
    while (**text) {
        char *line = *text, *nl = strchr(line, '\n');
        if (nl) {
            *nl = '\0';
            *text = nl + 1;
        } else {
            *text = line + strlen(line);
        }
        if (!*line)
            break;
        if (n < max)
            out[n++] = line;
    }
    return n;
}

/* The first '/' may only be that of "://" after a scheme, so a path built from the string
 * starts with a relative directory named "SCHEME:", which does not exist: no input opens a
 * device, a FIFO or a large file. "http://host/prefix" stays possible. */
static int safe(const char *s) {
    const char *p = strchr(s, '/');
    return !p || (p > s && p[-1] == ':' && p[1] == '/');
}

/* s with a trailing '@' replaced by path (malloc'd), or a copy of s. */
static char *expand(const char *s, const char *path) {
    size_t n = strlen(s);
    int at = n && s[n - 1] == '@';
    char *out = malloc(n + (at ? strlen(path) : 0) + 1);
    if (!out)
        abort();
    memcpy(out, s, n - (size_t)at);
    strcpy(out + n - (size_t)at, at ? path : "");
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    char *cur = text, *args[MAX_STRINGS], *envs[MAX_STRINGS];
    size_t nargs = take_lines(&cur, args, MAX_STRINGS);
    size_t nenvs = take_lines(&cur, envs, MAX_STRINGS);
    for (size_t i = 0; i < nargs; i++)
        if (!safe(args[i]))
            goto out;
    for (size_t i = 0; i < nenvs; i++)
        if (!safe(envs[i]))
            goto out;
    const char *path = fuzz_tmp_write((const uint8_t *)cur, strlen(cur));
    if (!path)
        goto out;

    char *argv[MAX_STRINGS + 2], *envp[MAX_STRINGS + 1];
    argv[0] = strdup("keepwarm");
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = expand(args[i], path);
    argv[nargs + 1] = NULL;
    for (size_t i = 0; i < nenvs; i++)
        envp[i] = expand(envs[i], path);
    envp[nenvs] = NULL;

    struct config c;
    memset(&c, 0, sizeof(c));
    enum config_action action = CONFIG_RUN;
    char err[CONFIG_ERR_LEN] = "";
    int rc = config_load(&c, (int)nargs + 1, argv, envp, &action, err, sizeof(err));
    FUZZ_CHECK("config-load-rc", rc == 0 || rc == -1, "config_load returned %d", rc);
    FUZZ_CHECK("config-load-err", (rc == 0) == (err[0] == '\0'), "rc %d with err \"%s\"", rc, err);
    if (rc == 0) {
        FUZZ_CHECK("config-load-action",
                   action == CONFIG_RUN || action == CONFIG_CHECK || action == CONFIG_HELP ||
                       action == CONFIG_VERSION,
                   "action %d", (int)action);
        fuzz_config_check(&c, 1);
    }
    config_free(&c);

    /* config_load leaves glibc's getopt in mid-parse when it stops at a bad option; reset
     * it (optind = 0 is glibc's full reinitialisation) before argv is freed, so the next
     * input does not resume inside this one's arguments. See tests/fuzz/README.md. */
    optind = 0;
    char *dummy[] = {argv[0], NULL};
    while (getopt(1, dummy, "") != -1)
        ;
    for (size_t i = 0; i <= nargs; i++)
        free(argv[i]);
    for (size_t i = 0; i < nenvs; i++)
        free(envp[i]);
out:
    free(text);
    return 0;
}
