/* libFuzzer target: config_load_file on an INI file holding the input (inih parses it,
 * config_set validates every key), then the invariants of any loaded configuration. */
#include "config_lines.h"
#include "tmpfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_tmp_write(data, size);
    if (!path)
        return 0;
    struct config c;
    char err[CONFIG_ERR_LEN] = "";
    if (config_init(&c, NULL, err, sizeof(err)) < 0)
        abort();
    int rc = config_load_file(&c, path, err, sizeof(err));
    FUZZ_CHECK("config-file-rc", rc == 0 || rc == -1, "config_load_file returned %d", rc);
    FUZZ_CHECK("config-file-err", (rc == 0) == (err[0] == '\0'), "rc %d with err \"%s\"", rc, err);
    if (rc < 0)
        FUZZ_CHECK("config-file-err-names-file",
                   !strncmp(err, path, strlen(path)) && err[strlen(path)] == ':',
                   "error does not start with \"FILE:\": \"%s\"", err);
    fuzz_config_check(&c, rc == 0);
    config_free(&c);
    return 0;
}
