/* gokey: which JSON object keys Go's encoding/json would read as a given struct field. Ollama
 * decodes request bodies into structs (api/types.go ChatRequest, GenerateRequest, EmbedRequest,
 * EmbeddingRequest, bound with gin's ShouldBindJSON in server/routes.go; ollama commit fb30760,
 * Go 1.26): a key matches a field whose json tag it equals exactly or, failing that, under
 * bytes.EqualFold (encoding/json's foldName, Go >= 1.21; the same with GOEXPERIMENT=jsonv2,
 * whose v1 mode adds MatchCaseSensitiveDelimiter, so '_' and '-' still count), and when several
 * keys match one field the last one wins. So "KEEP_ALIVE" after "keep_alive" replaces it, and
 * so do "\u212Aeep_alive" (U+212A KELVIN SIGN folds to k) and "option\u017F" (U+017F LATIN
 * SMALL LETTER LONG S folds to s): the only two runes outside ASCII whose fold set holds an
 * ASCII letter. Keys inside "options" (a map[string]any) are matched exactly by Ollama's
 * Options.FromMap. Keys are compared decoded (escapes resolved, as jansson hands them over).
 * Pure: no I/O, no allocation. */
#ifndef KEEPWARM_GOKEY_H
#define KEEPWARM_GOKEY_H

#include <stddef.h>

/* 1 when Go matches the key key[0, n) (UTF-8, may hold any byte) to a field tagged canonical
 * (an ASCII name, NUL-terminated): equal under ASCII case folding, U+212A matching k and
 * U+017F matching s; 0 otherwise. Invalid UTF-8 never matches (Go decodes it as U+FFFD). */
int gokey_fold_equal(const char *key, size_t n, const char *canonical);

/* The first of names (a NULL-terminated list of ASCII names) that Go would match key[0, n)
 * to although the key is not that name byte for byte; NULL when there is none (the key is
 * one of the names exactly, or matches none). */
const char *gokey_variant_of(const char *key, size_t n, const char *const *names);

/* The message a client gets for key (NUL-terminated) spelling canonical differently, into
 * buf (len bytes, always terminated): the key with U+212A and U+017F written as \u escapes,
 * so that the difference is visible. */
void gokey_refusal(char *buf, size_t len, const char *key, const char *canonical);

#endif
