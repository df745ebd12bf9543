/* libFuzzer target: openai_completion_request_new on a client body, then policy_apply
 * (request.h). */
#define FUZZ_TRANSLATE openai_completion_request_new
#define FUZZ_API       API_COMPLETION
#include "request.h"
