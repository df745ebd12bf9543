/* libFuzzer target: the native fast path (jscan_body + splice_native_new) against the jansson
 * path (json_loadb with JSON_REJECT_DUPLICATES + policy_apply), under both keep_alive
 * policies. Input as fuzz_policy: config_set lines, an empty line, then the body; without an
 * empty line the whole input is the body and the configuration is fuzz_fixed_config's.
 * Invariants (tests/unit/splice_equiv.h): jscan never accepts what jansson rejects nor calls
 * invalid what it accepts, its spans and decoded model are jansson's values, and a spliced body
 * exists only when policy_apply succeeds, parses, and is json_equal to its result. */
#include "../unit/splice_equiv.h"
#include "config_lines.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    const char *body = text;
    size_t body_len = size;
    char *sep = memmem(text, size, "\n\n", 2);
    struct config c;
    char err[CONFIG_ERR_LEN];
    if (sep) {
        if (config_init(&c, NULL, err, sizeof(err)) < 0)
            abort();
        *sep = '\0';
        body = sep + 2;
        body_len = size - (size_t)(body - text);
        fuzz_config_lines(&c, text);
    } else {
        fuzz_fixed_config(&c, KEEP_ALIVE_OVERRIDE);
    }
    for (int policy = 0; policy < 2; policy++) {
        char why[2048];
        c.keep_alive_policy = policy ? KEEP_ALIVE_DEFAULT : KEEP_ALIVE_OVERRIDE;
        enum splice_outcome rc = splice_compare(&c, body, body_len, why, sizeof(why));
        FUZZ_CHECK("splice-equiv", rc != SPLICE_MISMATCH, "%s policy: %s",
                   policy ? "default" : "override", why);
    }
    config_free(&c);
    free(text);
    return 0;
}
