/* Instructions per non-stream answer, jansson path vs fast path (proxy/fast/openai_fast.h), for a
 * typical 200-token chat answer. Build and count:
 *   make && cc -O2 -D_GNU_SOURCE -Iproxy/{api,base,control,fast,net,upstream} \
 *      $(pkg-config --cflags jansson) tests/bench/answer_cost.c \
 *      $(find build/proxy -mindepth 2 -name '*.o') \
 *      $(pkg-config --libs jansson inih libevent libcurl) -lm -o build/answer_cost
 *   for m in none slow fast; do valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *      build/answer_cost $m 1000 2>&1 | grep Collected; done
 * (Collected(mode) - Collected(none)) / 1000 is the cost of one answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openai.h"
#include "openai_fast.h"

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "fast";
    int iters = argc > 2 ? atoi(argv[2]) : 1000;
    static char body[16384], out[16384 + OPENAI_FAST_SLACK];
    size_t n = (size_t)snprintf(
        body, sizeof(body),
        "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-07-01T12:00:00.123456789Z\","
        "\"message\":{\"role\":\"assistant\",\"content\":\"");
    /* about 200 tokens: 20 lines of ~45 bytes, newlines and Go's HTML escapes included */
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "Step %d: the quick brown fox \\u003e the lazy dog.\\n", i);
    n += (size_t)snprintf(body + n, sizeof(body) - n,
                          "\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":"
                          "5043500667,\"load_duration\":5025959,\"prompt_eval_count\":26,"
                          "\"prompt_eval_duration\":325953000,\"eval_count\":200,"
                          "\"eval_duration\":4709213000}");
    size_t total = 0;
    for (int i = 0; i < iters; i++) {
        if (!strcmp(mode, "slow")) {
            json_t *native = json_loadb(body, n, 0, NULL);
            json_t *o = openai_chat_response_new(native, "chatcmpl-123");
            total += json_dumpb(o, out, sizeof(out), JSON_COMPACT);
            json_decref(o);
            json_decref(native);
        } else if (!strcmp(mode, "fast")) {
            struct openai_fast_usage u;
            total += openai_chat_response_fast(body, n, "chatcmpl-123", out, sizeof(out), &u);
        }
    }
    printf("%s: body %zu bytes, %d answers, %zu bytes out\n", mode, n, iters, total);
    return 0;
}
