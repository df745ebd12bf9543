/* libFuzzer target: openai_embed_request_new on a client body, then policy_apply (request.h). */
#define FUZZ_TRANSLATE openai_embed_request_new
#define FUZZ_API       API_EMBED
#include "request.h"
