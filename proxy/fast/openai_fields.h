/* openai_fields: the one table of the top-level members of an OpenAI request body that
 * keepwarm's translations use (openai.c reads them from the client's body or writes them into
 * the native one) and that the request fast path may take (reqfast.c). openai.c reads a
 * top-level member only by its id here, and refuses a client key Go would fold onto one of
 * these names (gokey.h); reqfast declines a body holding any member not marked for its
 * translation. So a member mapped one day in openai.c is a new row, and until reqfast takes
 * it, plain requests carrying it go to the jansson path instead of losing it: reqfast fails
 * closed. Pure data and a lookup; no I/O, no allocation. */
#ifndef KEEPWARM_OPENAI_FIELDS_H
#define KEEPWARM_OPENAI_FIELDS_H

#include <stddef.h>

/* The translations, as bits. */
#define OF_API_CHAT       (1u << 0) /* /v1/chat/completions -> /api/chat */
#define OF_API_COMPLETION (1u << 1) /* /v1/completions -> /api/generate */
#define OF_API_EMBED      (1u << 2) /* /v1/embeddings -> /api/embed */

#define OF_CP  (OF_API_CHAT | OF_API_COMPLETION)
#define OF_CPE (OF_API_CHAT | OF_API_COMPLETION | OF_API_EMBED)

/* X(id, name, used, fast). used: the translations that read the member or write it (a member
 * a translation does not use, it ignores). fast: the translations whose fast path takes it,
 * writing what the jansson path would or declining a value it does not cover; a subset of
 * used. */
#define OPENAI_FIELDS(X)                                                                           \
    X(MODEL, "model", OF_CPE, OF_CP)                                                               \
    X(MESSAGES, "messages", OF_API_CHAT, OF_API_CHAT)                                              \
    X(PROMPT, "prompt", OF_API_COMPLETION, OF_API_COMPLETION)                                      \
    X(SUFFIX, "suffix", OF_API_COMPLETION, OF_API_COMPLETION)                                      \
    X(INPUT, "input", OF_API_EMBED, 0)                                                             \
    X(STREAM, "stream", OF_CP, OF_CP)                                                              \
    X(STREAM_OPTIONS, "stream_options", OF_CP, OF_CP)                                              \
    X(N, "n", OF_CP, OF_CP)                                                                        \
    X(OPTIONS, "options", OF_CPE, OF_CP)                                                           \
    X(MAX_COMPLETION_TOKENS, "max_completion_tokens", OF_CP, OF_CP)                                \
    X(MAX_TOKENS, "max_tokens", OF_CP, OF_CP)                                                      \
    X(TEMPERATURE, "temperature", OF_CP, OF_CP)                                                    \
    X(TOP_P, "top_p", OF_CP, OF_CP)                                                                \
    X(SEED, "seed", OF_CP, OF_CP)                                                                  \
    X(FREQUENCY_PENALTY, "frequency_penalty", OF_CP, OF_CP)                                        \
    X(PRESENCE_PENALTY, "presence_penalty", OF_CP, OF_CP)                                          \
    X(STOP, "stop", OF_CP, OF_CP)                                                                  \
    X(NUM_CTX, "num_ctx", OF_CPE, OF_CP)                                                           \
    X(KEEP_ALIVE, "keep_alive", OF_CPE, OF_CP)                                                     \
    X(DEBUG_RENDER_ONLY, "_debug_render_only", OF_CP, OF_CP)                                       \
    X(LOGPROBS, "logprobs", OF_CP, OF_CP)                                                          \
    X(TOP_LOGPROBS, "top_logprobs", OF_CP, OF_API_CHAT)                                            \
    X(TOOLS, "tools", OF_API_CHAT, OF_API_CHAT)                                                    \
    X(TOOL_CHOICE, "tool_choice", OF_API_CHAT, OF_API_CHAT)                                        \
    X(RESPONSE_FORMAT, "response_format", OF_API_CHAT, OF_API_CHAT)                                \
    X(REASONING, "reasoning", OF_API_CHAT, OF_API_CHAT)                                            \
    X(REASONING_EFFORT, "reasoning_effort", OF_API_CHAT, OF_API_CHAT)                              \
    X(FORMAT, "format", OF_API_CHAT, 0)                                                            \
    X(THINK, "think", OF_API_CHAT, 0)                                                              \
    X(DIMENSIONS, "dimensions", OF_API_EMBED, 0)                                                   \
    X(ENCODING_FORMAT, "encoding_format", OF_API_EMBED, 0)

enum openai_field {
#define OPENAI_FIELD_ID(id, name, used, fast) OF_##id,
    OPENAI_FIELDS(OPENAI_FIELD_ID)
#undef OPENAI_FIELD_ID
        OF_COUNT
};

struct openai_field_row {
    const char *name;
    size_t len;
    unsigned used, fast; /* OF_API_* bits */
};

extern const struct openai_field_row openai_fields[OF_COUNT];

/* Every name, NULL-terminated (the list gokey_variant_of takes). */
extern const char *const openai_field_names[OF_COUNT + 1];

/* The member whose name is exactly key[0, n): its id, or -1. */
int openai_field_find(const char *key, size_t n);

#endif
