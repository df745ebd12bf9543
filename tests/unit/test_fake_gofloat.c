/* The stand-in's float32 writer (tests/fake_ollama/gofloat.h) against Go's encoding/json text
 * of the same float32s (strconv.AppendFloat 'f'/'e' with -1 precision, bits 32, and json's
 * exponent clean-up), linked with the stand-in's object only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gofloat.h"

static void test_vectors(void **state) {
    (void)state;
    static const struct {
        float f;
        const char *go;
    } v[] = {
        {0.348155f, "0.348155"},
        {0.1f, "0.1"},
        {-0.5f, "-0.5"},
        {1.0f, "1"},
        {100.0f, "100"},
        {0.0f, "0"},
        {-0.0f, "-0"},
        {0.016201293f, "0.016201293"},
        {1e-6f, "0.000001"},
        {1.5e-6f, "0.0000015"},
        {9.99999e-7f, "9.99999e-7"},
        {1e-7f, "1e-7"},
        {1.1754944e-38f, "1.1754944e-38"},
        {1.4e-45f, "1e-45"},
        {123456789.0f, "123456790"},
        {16777216.0f, "16777216"},
        {1e20f, "100000000000000000000"},
        {1e21f, "1e+21"},
        {3.4028235e38f, "3.4028235e+38"},
        /* powers of two whose shortest text lies above the correctly rounded one (their lower
         * neighbour is nearer): Ryu's shortest, as Go's strconv writes them */
        {0x1p-96f, "1.2621775e-29"},
        {-0x1p-96f, "-1.2621775e-29"},
        {0x1p87f, "1.5474251e+26"},
        {0x1p90f, "1.2379401e+27"},
        {0x1p-1f, "0.5"},
        {0x1p-126f, "1.1754944e-38"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char out[GOFLOAT_MAX];
        size_t n = gofloat32(v[i].f, out);
        if (n != strlen(v[i].go) || strcmp(out, v[i].go) != 0)
            fail_msg("%.9g: %s, Go writes %s", (double)v[i].f, out, v[i].go);
    }
}

/* Every float32 written reads back as itself, in at most 9 significant digits. */
static void test_round_trip(void **state) {
    (void)state;
    uint32_t bits = 0x3f800000;
    for (int i = 0; i < 200000; i++) {
        bits = bits * 1664525u + 1013904223u;
        float f;
        memcpy(&f, &bits, sizeof(f));
        if (f != f || f - f != 0) /* NaN, infinities: Go refuses them */
            continue;
        char out[GOFLOAT_MAX];
        gofloat32(f, out);
        if (strtof(out, NULL) != f)
            fail_msg("%s does not read back as %.9g", out, (double)f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
