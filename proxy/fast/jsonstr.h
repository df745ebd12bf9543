/* jsonstr: the inside of a JSON string token, accepted exactly as jansson's json_loadb accepts
 * it (flags 0): no raw control bytes, valid UTF-8 (no overlong forms, surrogates or code points
 * past U+10FFFF), only the escapes \" \\ \/ \b \f \n \r \t and \uXXXX, no \u0000, surrogates
 * only as a high-low pair. The one string validator of the fast paths that read JSON without a
 * tree (jscan, and through it reqfast and splice; jtok, and through it openai_fast,
 * anthropic_fast and responses_fast);
 * openai.c uses jsonstr_utf8_len to check the texts it copies. Plain ASCII is passed over
 * eight bytes at a time. Pure; reads only within [p, end). */
#ifndef KEEPWARM_JSONSTR_H
#define KEEPWARM_JSONSTR_H

#include <stddef.h>

/* Scans from p, the first byte after an opening quote. Returns the closing quote, or NULL
 * with the reason in *why ("invalid UTF-8", ...; a static string). *escaped says whether the
 * string held a backslash. */
const char *jsonstr_scan(const char *p, const char *end, int *escaped, const char **why);

/* Length of the valid UTF-8 sequence at p whose first byte is >= 0x80 (no overlong forms,
 * surrogates or code points past U+10FFFF), or 0. Stops at the first byte that is not a
 * continuation byte, so it never reads past a NUL, nor past end. */
size_t jsonstr_utf8_len(const unsigned char *p, const unsigned char *end);

/* Four hex digits at p -> *v; -1 if there are fewer than four or they are not hex. */
int jsonstr_hex4(const char *p, const char *end, unsigned *v);

#endif
