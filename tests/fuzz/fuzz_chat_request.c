/* libFuzzer target: openai_chat_request_new on a client body, then policy_apply (request.h). */
#define FUZZ_TRANSLATE openai_chat_request_new
#define FUZZ_API       API_CHAT
#include "request.h"
