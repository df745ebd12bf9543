/* Instructions per native request body: the jansson path (json_loadb with
 * JSON_REJECT_DUPLICATES, policy_apply, json_dumps) against the fast path (jscan_body,
 * splice_native_new), as server.c runs them. Count with callgrind:
 *
 *   make && cc -O2 -g -D_GNU_SOURCE -Iproxy/{api,base,control,fast,net,upstream} \
 *       $(pkg-config --cflags jansson) tests/bench/splice_insns.c \
 *       $(find build/proxy -mindepth 2 -name '*.o') \
 *       $(pkg-config --libs jansson inih libevent libcurl) -lm -o build/splice_insns
 *   valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect=slow_path \
 *       build/splice_insns      # then --toggle-collect=fast_path; divide Ir by ROUNDS
 *
 * The body is argv[1], or a typical /api/chat request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jscan.h"
#include "policy.h"
#include "splice.h"

#define ROUNDS 1000

__attribute__((noinline)) size_t slow_path(const struct config *c, const char *body, size_t len);
__attribute__((noinline)) size_t fast_path(const struct config *c, const char *body, size_t len);

size_t slow_path(const struct config *c, const char *body, size_t len) {
    char err[512];
    size_t n = 0;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (v && json_is_object(v) && policy_apply(c, v, err, sizeof(err)) == 0) {
        char *out = json_dumps(v, JSON_COMPACT);
        n = out ? strlen(out) : 0;
        free(out);
    }
    json_decref(v);
    return n;
}

size_t fast_path(const struct config *c, const char *body, size_t len) {
    struct jscan scan;
    size_t n = 0;
    if (jscan_body(body, len, &scan) == 0)
        free(splice_native_new(c, body, len, &scan, &n, NULL));
    return n;
}

int main(int argc, char **argv) {
    const char *body = argc > 1 ? argv[1]
                                : "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\","
                                  "\"content\":\"Hello there, how are you today?\"}],"
                                  "\"stream\":false}";
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
