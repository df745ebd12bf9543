/* gojson: compact JSON text written where keepwarm must print a value as Ollama's Go code
 * would rather than as jansson does: reals in the shortest form that reads back as the same
 * float64 (0.1, not jansson 2.14's 0.10000000000000001); and Go's name of a value's kind in
 * decode errors. Pure: no I/O, no globals. */
#ifndef KEEPWARM_GOJSON_H
#define KEEPWARM_GOJSON_H

#include <jansson.h>
#include <stddef.h>

/* The shortest "%.Ng" (N from 15 to 17) that strtod reads back as d, as Go's strconv
 * 'g' -1 prints a float64; out holds at least 32 bytes. */
void gojson_format_real(char *out, size_t cap, double d);

/* v as compact JSON text: no spaces, object keys in the order v holds them, strings with '"',
 * '\\' and control bytes escaped (\n \r \t \b \f, else \u00xx) and everything else as is,
 * integers in decimal, reals by gojson_format_real. Returns the text (NUL-terminated, *len
 * bytes without the NUL; malloc'd, the caller frees), or NULL when out of memory. */
char *gojson_dump_new(const json_t *v, size_t *len);

/* Go's word for v's kind in encoding/json's "cannot unmarshal <kind> into ..." errors: "object",
 * "array", "string", "number", "bool", or "null" (also for NULL). A static string. */
const char *gojson_kind(const json_t *v);

#endif
