/* libFuzzer target: the OpenAI request fast path (jscan_body + reqfast_*_new) against the
 * jansson path (json_loadb with JSON_REJECT_DUPLICATES, openai_*_request_new, policy_apply,
 * json_dumps), as a chat and as a completion request, under both keep_alive policies. Input as
 * fuzz_splice: config_set lines, an empty line, then the body; without an empty line the whole
 * input is the body, run under a plain configuration and under fuzz_fixed_config's (pinned
 * options). Invariants (tests/unit/reqfast_equiv.h): a fast body exists only when the jansson
 * path succeeds, parses, is json_equal to its body, with the same meta and model; a declined
 * request leaves meta untouched. */
#include "../unit/reqfast_equiv.h"
#include "config_lines.h"

static void run(struct config *c, const char *body, size_t len) {
    for (int policy = 0; policy < 2; policy++)
        for (int completion = 0; completion < 2; completion++) {
            char why[2048];
            c->keep_alive_policy = policy ? KEEP_ALIVE_DEFAULT : KEEP_ALIVE_OVERRIDE;
            enum reqfast_outcome rc = reqfast_compare(c, completion, body, len, why, sizeof(why));
            FUZZ_CHECK("reqfast-equiv", rc != REQFAST_MISMATCH, "%s, %s policy: %s",
                       completion ? "completion" : "chat", policy ? "default" : "override", why);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    char *sep = memmem(text, size, "\n\n", 2);
    struct config c;
    char err[CONFIG_ERR_LEN];
    if (config_init(&c, NULL, err, sizeof(err)) < 0)
        abort();
    if (sep) {
        *sep = '\0';
        const char *body = sep + 2;
        fuzz_config_lines(&c, text);
        run(&c, body, size - (size_t)(body - text));
        config_free(&c);
    } else {
        run(&c, text, size);
        config_free(&c);
        fuzz_fixed_config(&c, KEEP_ALIVE_OVERRIDE);
        run(&c, text, size);
        config_free(&c);
    }
    free(text);
    return 0;
}
