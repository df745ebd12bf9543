/* goquote: Go's strconv.Quote, which is what Ollama's messages print with %q ("model \"x\"
 * does not support thinking", "invalid think value: \"hi\\n\" ..."). Owns nothing else: the
 * time package's own, different, quoting inside duration errors lives in goduration.c. */
#ifndef FAKE_OLLAMA_GOQUOTE_H
#define FAKE_OLLAMA_GOQUOTE_H

#include <stddef.h>

/* Quotes the n bytes at s into out as strconv.Quote would: '"' and '\\' backslashed,
 * \a \b \f \n \r \t \v by name, other C0 controls and DEL as \xNN, bytes that are not valid
 * UTF-8 as \xNN, runes Go does not count as printable as \uNNNN or \UNNNNNNNN, the rest kept
 * as they are. When out (len bytes, at least 3) is too small the text is cut before the first
 * escape or rune that does not fit and the closing quote is still written. Always
 * NUL-terminates when len > 0. Returns 0, or -1 when the text was cut. */
int goquote_n(const char *s, size_t n, char *out, size_t len);

/* goquote_n over a NUL-terminated string. */
int goquote(const char *s, char *out, size_t len);

#endif
