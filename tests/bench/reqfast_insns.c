/* Instructions per OpenAI chat request body: the jansson path (json_loadb with
 * JSON_REJECT_DUPLICATES, openai_chat_request_new, policy_apply, json_dumps) against the fast
 * path (jscan_body, reqfast_chat_new), as server.c runs them. Count with callgrind:
 *
 *   make && cc -O2 -g -D_GNU_SOURCE -Iproxy/{api,base,control,fast,net,upstream} \
 *       $(pkg-config --cflags jansson) tests/bench/reqfast_insns.c \
 *       $(find build/proxy -mindepth 2 -name '*.o') \
 *       $(pkg-config --libs jansson inih libevent libcurl) -lm -o build/reqfast_insns
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=slow_path \
 *       build/reqfast_insns tests/bench/chat-openai.json   # then --toggle-collect=fast_path;
 *                                                          # divide Ir by ROUNDS
 *
 * The body is the file argv[1], or tests/bench/chat-openai.json's request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jscan.h"
#include "openai.h"
#include "policy.h"
#include "reqfast.h"

#define ROUNDS 1000

__attribute__((noinline)) size_t slow_path(const struct config *c, const char *body, size_t len);
__attribute__((noinline)) size_t fast_path(const struct config *c, const char *body, size_t len);

size_t slow_path(const struct config *c, const char *body, size_t len) {
    char err[512];
    struct openai_meta meta;
    struct openai_err oerr;
    size_t n = 0;
    json_t *in = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *native = json_is_object(in) ? openai_chat_request_new(in, &meta, &oerr) : NULL;
    if (native && policy_apply(c, native, err, sizeof(err)) == 0) {
        char *out = json_dumps(native, JSON_COMPACT);
        n = out ? strlen(out) : 0;
        free(out);
    }
    json_decref(native);
    json_decref(in);
    return n;
}

size_t fast_path(const struct config *c, const char *body, size_t len) {
    struct jscan scan;
    struct openai_meta meta;
    size_t n = 0;
    if (jscan_body(body, len, &scan) == 0)
        free(reqfast_chat_new(c, body, len, &scan, &meta, &n, NULL));
    return n;
}

int main(int argc, char **argv) {
    static char buf[1 << 16];
    const char *body = "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"system\",\"content\":"
                       "\"You are a helpful assistant.\"},{\"role\":\"user\",\"content\":\"Why is "
                       "the sky blue?\"}],\"temperature\":0.7}";
    if (argc > 1) {
        FILE *f = fopen(argv[1], "rb");
        size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        body = buf;
    }
    struct config c;
    char err[CONFIG_ERR_LEN];
    size_t slow = 0, fast = 0, len = strlen(body);
    if (config_init(&c, NULL, err, sizeof(err)) < 0)
        return 1;
    for (int i = 0; i < ROUNDS; i++)
        slow += slow_path(&c, body, len);
    for (int i = 0; i < ROUNDS; i++)
        fast += fast_path(&c, body, len);
    printf("%d rounds: slow path %zu bytes out, fast path %zu bytes out\n", ROUNDS, slow / ROUNDS,
           fast / ROUNDS);
    config_free(&c);
    return fast ? 0 : 1;
}
