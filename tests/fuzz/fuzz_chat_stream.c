/* libFuzzer target: native /api/chat NDJSON -> openai_chat_stream_feed / _eof (stream.h). */
#define FUZZ_CHAT 1
#include "stream.h"
