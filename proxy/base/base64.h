/* base64: RFC 4648 standard base64 ('+', '/', '=' padding), the form of OpenAI's base64
 * embeddings and of the image bytes Ollama marshals; decoded by Go's rules, since Ollama is
 * the one that reads what keepwarm forwards. Pure: no I/O, no globals. */
#ifndef KEEPWARM_BASE64_H
#define KEEPWARM_BASE64_H

#include <stddef.h>

/* n bytes at p -> padded standard base64, NUL-terminated, malloc'd (the caller frees).
 * NULL when out of memory or n is too large for the text to fit in a size_t. */
char *base64_encode_new(const unsigned char *p, size_t n);

/* Go's base64.StdEncoding.DecodeString: padding required, '\r' and '\n' ignored anywhere,
 * non-zero trailing bits tolerated. Returns the bytes (*len of them; malloc'd, the caller
 * frees), or NULL when s is not valid base64 or out of memory. */
unsigned char *base64_decode_new(const char *s, size_t *len);

#endif
