/* embraw: the numbers of a /v1/embeddings answer as Ollama wrote them. Ollama's embeddings are
 * float32 written in Go's shortest form (0.348155); read into a double and written again they
 * become 0.34815499999999999, twice the bytes on embedding-heavy traffic, and not what Ollama's
 * own /v1 layer sends (api.EmbedResponse's [][]float32 in api/types.go at fb30760, put as they
 * are into openai/openai.go's Embedding, written by encoding/json the same way). So the
 * arrays' bytes are copied, token by token, from Ollama's answer into the translated one. Pure:
 * no I/O. */
#ifndef KEEPWARM_EMBRAW_H
#define KEEPWARM_EMBRAW_H

#include <event2/buffer.h>
#include <stddef.h>

/* answer[0, alen) is the /v1 answer dumped with an empty array for each embedding
 * ("embedding":[], in order); native[0, nlen) is Ollama's /api/embed answer it was made from
 * (already parsed whole by jansson). Appends the answer with each "embedding":[] holding the
 * matching array of the native top-level "embeddings", its numbers byte for byte (blanks
 * between them dropped) to out. Returns 0, or -1 having appended nothing when the native
 * answer is not that shape (a key with an escape or twice, a vector holding anything but
 * numbers, counts that differ): the caller then writes the numbers itself. */
int embraw_splice(const char *native, size_t nlen, const char *answer, size_t alen,
                  struct evbuffer *out);

#endif
