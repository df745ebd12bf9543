/* id: response and tool call ids, and the process's random source (contract in id.h). */
#include "id.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define GOLDEN_GAMMA UINT64_C(0x9e3779b97f4a7c15) /* splitmix64's increment */

static uint64_t rng_state;
static uint64_t unique_salt, unique_count;
static int unique_seeded;

/* splitmix64's output function: a bijection on 64 bits, so distinct inputs stay distinct. */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t id_random(void) {
    if (!rng_state) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        rng_state = (uint64_t)ts.tv_sec * UINT64_C(1000000007) ^ (uint64_t)ts.tv_nsec ^
                    (uint64_t)getpid() << 40 ^ (uint64_t)(uintptr_t)&rng_state;
        if (!rng_state)
            rng_state = GOLDEN_GAMMA;
    }
    return mix64(rng_state += GOLDEN_GAMMA);
}

/* The next value of the process's unique sequence: mix64(salt + n) for n = 0, 1, 2, ... */
static uint64_t unique_next(void) {
    if (!unique_seeded) {
        unique_salt = id_random();
        unique_seeded = 1;
    }
    return mix64(unique_salt + unique_count++);
}

int id_unique(enum id_kind kind, char *out, size_t cap) {
    static const char *const prefixes[] = {
        [ID_CHAT] = "chatcmpl-", [ID_COMPLETION] = "cmpl-", [ID_RESPONSE] = "resp_",
        [ID_MESSAGE] = "msg_",   [ID_REQUEST] = "req_",
    };
    uint64_t u;
    int n = -1;

    if ((size_t)kind >= sizeof(prefixes) / sizeof(prefixes[0]))
        goto fail;
    u = unique_next();
    if (kind == ID_MESSAGE || kind == ID_REQUEST)
        n = snprintf(out, cap, "%s%08x%016llx", prefixes[kind], (unsigned)(id_random() >> 32),
                     (unsigned long long)u);
    else
        n = snprintf(out, cap, "%s%llu", prefixes[kind], (unsigned long long)u);
    if (n >= 0 && (size_t)n < cap)
        return 0;
fail:
    if (cap)
        out[0] = '\0';
    return -1;
}

void id_tool_call(char out[ID_TOOL_CALL_SIZE]) {
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    memcpy(out, "call_", 5);
    for (int i = 0; i < 8; i++)
        out[5 + i] = alnum[id_random() % 36];
    out[13] = '\0';
}
