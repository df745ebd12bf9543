/* special8: a word-at-a-time test shared by the JSON fast paths (openai.c, openai_fast.c).
 * Whether any of the 8 bytes at p may need a look inside a JSON string: a control byte, '"',
 * '\\' or non-ASCII. No false negatives; a false positive only sends those bytes to the
 * caller's byte loop. p must have 8 readable bytes. */
#ifndef KEEPWARM_SPECIAL8_H
#define KEEPWARM_SPECIAL8_H

#include <stdint.h>
#include <string.h>

static inline int special8(const char *p) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t x, q, b;
    memcpy(&x, p, 8);
    q = x ^ (ones * '"');
    b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | x) & highs ? 1 : 0;
}

#endif
