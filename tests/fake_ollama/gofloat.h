/* gofloat: a float32 as Go's encoding/json writes it (Ollama's embeddings are []float32):
 * strconv.AppendFloat(f, 'f', -1, 32), or 'e' below 1e-6 and from 1e21 on, the exponent's
 * leading zero dropped ("1e-07" -> "1e-7"); the shortest digits that read back as the same
 * float32. */
#ifndef FAKE_GOFLOAT_H
#define FAKE_GOFLOAT_H

#include <stddef.h>

#define GOFLOAT_MAX 48 /* room for any float32, NUL included */

/* Writes f into out (GOFLOAT_MAX bytes); returns the length. f must be finite (Go refuses NaN
 * and infinities). */
size_t gofloat32(float f, char out[GOFLOAT_MAX]);

#endif
