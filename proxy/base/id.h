/* id: the ids keepwarm makes up for the answers it writes (response ids, tool call ids), and
 * the one random source they draw from. Not pure, by design: a per-process generator
 * (splitmix64) seeded once, at first use, from the clock, the pid and an address. Ids need to
 * be unlikely to repeat across processes and never to repeat within one, not to be
 * unpredictable: nothing here is for secrets. One thread only (keepwarm has one). */
#ifndef KEEPWARM_ID_H
#define KEEPWARM_ID_H

#include <stddef.h>
#include <stdint.h>

/* Room for any id made here, the NUL included. */
#define ID_MAX 48

/* The response ids of each API, in the character set Ollama's own layers use for them
 * (ollama/ollama fb30760: middleware/openai.go, anthropic/anthropic.go generateID). */
enum id_kind {
    ID_CHAT,       /* "chatcmpl-" + decimal digits (Ollama: "chatcmpl-%d", rand.Intn(999)) */
    ID_COMPLETION, /* "cmpl-" + decimal digits (Ollama: "cmpl-%d", rand.Intn(999)) */
    ID_RESPONSE,   /* "resp_" + decimal digits (Ollama: "resp_%d", rand.Intn(999999)) */
    ID_MESSAGE,    /* "msg_" + 24 lower-case hex digits (Ollama: 12 random bytes, "%x") */
    ID_REQUEST,    /* "req_" + 24 lower-case hex digits (Anthropic's error request_id, the same) */
};

/* Writes a new id of the kind into out (cap bytes; ID_MAX is always enough). The decimal
 * part, and the last 16 hex digits of a message id, are a bijective mix of a random
 * per-process salt plus a counter shared by all kinds, so no two ids of one process repeat
 * (for 2^64 calls), whatever their kind; up to 20 digits instead of Ollama's 3 or 6, which
 * repeat within a few dozen requests. Returns 0, or -1 when cap is too small (out is then
 * the empty string, if cap > 0). */
int id_unique(enum id_kind kind, char *out, size_t cap);

/* "call_" + 8 random [a-z0-9] (the format of Ollama's toolCallId, server/routes.go), the id of
 * a tool call whose native answer has none; not guaranteed unique, as in Ollama. out holds at
 * least ID_TOOL_CALL_SIZE bytes. */
#define ID_TOOL_CALL_SIZE 14
void id_tool_call(char out[ID_TOOL_CALL_SIZE]);

/* The next 64 random bits of the process's generator. */
uint64_t id_random(void);

#endif
