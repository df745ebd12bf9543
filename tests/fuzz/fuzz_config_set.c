/* libFuzzer target: a sequence of config_set calls, one per input line ("key=value", or
 * "[MODEL]key=value" for a [model "MODEL"] key), on one configuration, then the invariants
 * of the result. A failed set must leave the configuration valid. */
#include "config_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    struct config c;
    char err[CONFIG_ERR_LEN];
    if (config_init(&c, NULL, err, sizeof(err)) < 0)
        abort();
    int failed = fuzz_config_lines(&c, text);
    fuzz_config_check(&c, failed == 0);
    config_free(&c);
    free(text);
    return 0;
}
