/* A /v1/embeddings answer, jansson path (every number read into a double and printed again with
 * %.17g) vs the entry's answer (embraw.h: Ollama's number tokens copied), for 8 vectors of 768
 * float32s in Go's shortest form, as Ollama writes them. Prints the bytes of each answer and the
 * time of each way in one run (their ratio is the figure; the absolute times are this machine's):
 *   make && cc -O2 -D_GNU_SOURCE -Iproxy/{api,base,control,fast,net,upstream} \
 *      $(pkg-config --cflags jansson libevent) tests/bench/embed_cost.c \
 *      $(find build/proxy -mindepth 2 -name '*.o') \
 *      $(pkg-config --libs jansson inih libevent libcurl libzstd) -lm -o build/embed_cost
 *   build/embed_cost 200 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "endpoint.h"
#include "openai.h"

#define VECS 8
#define DIMS 768

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* f's shortest digits that read back as the float32 (Go's form, up to the notation) */
static int shortest(char *out, size_t cap, float f) {
    int n = 0;
    for (int p = 1; p <= 9; p++) {
        n = snprintf(out, cap, "%.*g", p, (double)f);
        if (strtof(out, NULL) == f)
            break;
    }
    return n;
}

int main(int argc, char **argv) {
    int iters = argc > 1 ? atoi(argv[1]) : 200;
    size_t cap = (size_t)VECS * DIMS * 16 + 256, n = 0;
    char *body = malloc(cap);
    unsigned long long x = 88172645463325252ULL;
    n += (size_t)snprintf(body + n, cap - n, "{\"model\":\"nomic-embed-text\",\"embeddings\":[");
    for (int v = 0; v < VECS; v++) {
        body[n++] = v ? ',' : '[';
        if (v)
            body[n++] = '[';
        for (int d = 0; d < DIMS; d++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            float f = (float)((double)(x >> 11) / 9007199254740992.0 * 0.2 - 0.1);
            if (d)
                body[n++] = ',';
            n += (size_t)shortest(body + n, cap - n, f);
        }
        body[n++] = ']';
    }
    n += (size_t)snprintf(body + n, cap - n,
                          "],\"total_duration\":14143917,\"load_duration\":"
                          "1019500,\"prompt_eval_count\":8}");
    struct endpoint_meta meta = {0};
    size_t bytes[2] = {0, 0};
    double t[2] = {0, 0};
    for (int way = 0; way < 2; way++) {
        double t0 = now();
        for (int i = 0; i < iters; i++) {
            struct evbuffer *out = evbuffer_new();
            struct endpoint_usage u = {0};
            const char *why;
            if (way == 0) { /* the jansson path, as before */
                json_t *native = json_loadb(body, n, 0, NULL);
                json_t *o = openai_embed_response_new(native, "nomic-embed-text", 0);
                endpoint_add_json(out, o);
                json_decref(o);
                json_decref(native);
            } else if (endpoint_openai_embeddings.answer(&meta, "nomic-embed-text", body, n, 0, out,
                                                         &u, &why) < 0) {
                fprintf(stderr, "the entry refused the body\n");
                return 1;
            }
            bytes[way] = evbuffer_get_length(out);
            evbuffer_free(out);
        }
        t[way] = now() - t0;
    }
    printf("native body %zu bytes; answer: jansson %zu bytes, Ollama's numbers %zu bytes (%.2fx); "
           "time per answer: jansson %.0f us, Ollama's numbers %.0f us (%.2fx)\n",
           n, bytes[0], bytes[1], (double)bytes[0] / (double)bytes[1], t[0] / iters * 1e6,
           t[1] / iters * 1e6, t[0] / t[1]);
    free(body);
    return 0;
}
