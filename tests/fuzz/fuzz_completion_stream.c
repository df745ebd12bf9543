/* libFuzzer target: native /api/generate NDJSON -> openai_completion_stream_feed / _eof
 * (stream.h). */
#define FUZZ_CHAT 0
#include "stream.h"
