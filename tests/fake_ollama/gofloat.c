/* gofloat: Go's JSON text of a float32 (contract in gofloat.h). */
#include "gofloat.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* e ("[-]d.ddde[+-]x", p digits) with its last digit one up: d.dd9e5 -> d.de0e5 (the zeros
 * are dropped later), 9.99e5 -> 1.00e6. */
static void bump_last_digit(char *e, size_t size) {
    char *x = strchr(e, 'e'), *d = x - 1;
    int exp10 = atoi(x + 1);
    for (; d >= e; d--) {
        if (*d == '.')
            continue;
        if (*d == '-')
            break;
        if (*d < '9') {
            (*d)++;
            return;
        }
        *d = '0';
    }
    /* carried out of the first digit: all nines became zeros */
    char *first = e[0] == '-' ? e + 1 : e;
    *first = '1';
    snprintf(x, size - (size_t)(x - e), "e%d", exp10 + 1);
}

size_t gofloat32(float f, char out[GOFLOAT_MAX]) {
    char e[40], digits[16];
    size_t nd = 0, n = 0;
    int exp10 = 0;
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    if (f == 0)
        return (size_t)snprintf(out, GOFLOAT_MAX, "%s", signbit(f) ? "-0" : "0");
    /* The shortest digits that read back, the closest of their length (Go's Ryu). Those
     * correctly rounded are the closest; where they miss, none of their length reads back,
     * except at a power of two, whose lower neighbour is half as far as its upper one: there
     * the next decimal up may still read back (2^-96: 1.2621775e-29, not 1.26217745e-29). */
    for (int p = 1; p <= 9; p++) {
        snprintf(e, sizeof(e), "%.*e", p - 1, (double)f);
        if (strtof(e, NULL) == f)
            break;
        if ((bits & 0x7fffff) == 0 && p < 9) {
            bump_last_digit(e, sizeof(e));
            if (strtof(e, NULL) == f)
                break;
        }
    }
    const char *s = e;
    if (*s == '-')
        out[n++] = *s++;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            digits[nd++] = *s;
    exp10 = atoi(s + 1);
    while (nd > 1 && digits[nd - 1] == '0') /* %.*e may pad; Go's shortest never does */
        nd--;
    float a = fabsf(f);
    if (a < 1e-6f || a >= 1e21f) {
        out[n++] = digits[0];
        if (nd > 1) {
            out[n++] = '.';
            memcpy(out + n, digits + 1, nd - 1);
            n += nd - 1;
        }
        int x = exp10 < 0 ? -exp10 : exp10;
        /* Go writes at least two exponent digits, then json drops a negative one's leading 0 */
        n += (size_t)snprintf(out + n, GOFLOAT_MAX - n, "e%c%s%d", exp10 < 0 ? '-' : '+',
                              x < 10 && exp10 >= 0 ? "0" : "", x);
        return n;
    }
    if (exp10 < 0) {
        out[n++] = '0';
        out[n++] = '.';
        for (int i = -1; i > exp10; i--)
            out[n++] = '0';
        memcpy(out + n, digits, nd);
        n += nd;
    } else {
        for (int i = 0; i <= exp10; i++)
            out[n++] = (size_t)i < nd ? digits[i] : '0';
        if (nd > (size_t)exp10 + 1) {
            out[n++] = '.';
            memcpy(out + n, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            n += nd - (size_t)exp10 - 1;
        }
    }
    out[n] = '\0';
    return n;
}
