/* libFuzzer target: policy_apply (and policy_ping_new) on a native request body under a
 * fuzzed configuration. Input: config_set lines as in fuzz_config_set ("key=value",
 * "[MODEL]key=value"), an empty line, then the JSON body (parsed as server.c does, with
 * JSON_REJECT_DUPLICATES). Without an empty line the whole input is the body and the
 * configuration is the default one. */
#include "config_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    const char *body_text = text;
    size_t body_len = size;
    char *sep = memmem(text, size, "\n\n", 2);
    struct config c;
    char err[CONFIG_ERR_LEN];
    if (config_init(&c, NULL, err, sizeof(err)) < 0)
        abort();
    if (sep) {
        *sep = '\0';
        body_text = sep + 2;
        body_len = size - (size_t)(body_text - text);
        fuzz_config_lines(&c, text);
    }
    json_t *body = json_loadb(body_text, body_len, JSON_REJECT_DUPLICATES, NULL);
    fuzz_policy_check(&c, body);
    json_decref(body);
    config_free(&c);
    free(text);
    return 0;
}
