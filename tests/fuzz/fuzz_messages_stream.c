/* libFuzzer target: native /api/chat NDJSON -> the /v1/messages stream converter
 * (anthropic_stream_feed / _eof), fed through the ndjson splitter as relay.c feeds it, with
 * the token-line fast path (anthropic_stream_fast) tried first on every line, as
 * ep_anthropic.c does. Checks: whenever the fast path takes a line, its bytes are the SSE
 * framing of the converter's events for that line and the state is left as the converter
 * leaves it; the events form Anthropic's sequence (message_start first and once; blocks
 * started, delta'd and stopped in order with indices 0, 1, 2...; message_delta then
 * message_stop last; or one error event last); nothing follows the end.
 *
 * Input: an optional first line "#e" (call anthropic_stream_eof after the last line), then the
 * NDJSON body. Lines that are not JSON objects are skipped. */
#include <jansson.h>

#include "anthropic.h"
#include "anthropic_fast.h"
#include "fuzz.h"
#include "ndjson.h"

struct run {
    struct anthropic_stream s;
    int ended, open, next_index, started;
};

static void check_event(struct run *r, const json_t *f) {
    const char *type = json_string_value(json_object_get(f, "type"));
    FUZZ_CHECK("event-type", type != NULL, "event without a type");
    FUZZ_CHECK("after-end", !r->ended, "event %s after the end", type);
    int index = (int)json_integer_value(json_object_get(f, "index"));
    if (!strcmp(type, "message_start")) {
        FUZZ_CHECK("start-once", !r->started, "second message_start");
        r->started = 1;
        return;
    }
    if (!strcmp(type, "error")) {
        r->ended = 1;
        return;
    }
    FUZZ_CHECK("start-first", r->started, "%s before message_start", type);
    if (!strcmp(type, "content_block_start")) {
        FUZZ_CHECK("block-order", !r->open && index == r->next_index, "start %d (open %d, next %d)",
                   index, r->open, r->next_index);
        r->open = 1;
    } else if (!strcmp(type, "content_block_delta")) {
        FUZZ_CHECK("delta-open", r->open && index == r->next_index, "delta %d outside its block",
                   index);
    } else if (!strcmp(type, "content_block_stop")) {
        FUZZ_CHECK("stop-open", r->open && index == r->next_index, "stop %d outside its block",
                   index);
        r->open = 0;
        r->next_index++;
    } else if (!strcmp(type, "message_delta")) {
        FUZZ_CHECK("delta-closed", !r->open, "message_delta with a block open");
    } else if (!strcmp(type, "message_stop")) {
        r->ended = 1;
    } else {
        FUZZ_CHECK("known-event", 0, "unknown event %s", type);
    }
}

static int on_line(void *arg, const char *line, size_t len) {
    struct run *r = arg;
    char fast[8192];
    struct anthropic_stream before = r->s;
    size_t n = anthropic_stream_fast(&r->s, line, len, fast, sizeof(fast));
    json_error_t e;
    json_t *v = json_loadb(line, len, 0, &e);
    if (!json_is_object(v)) {
        FUZZ_CHECK("fast-invalid", n == 0, "the fast path took a line jansson refuses");
        json_decref(v);
        return 0;
    }
    json_t *frames = json_array();
    anthropic_stream_feed(&r->s, v, frames);
    size_t i;
    json_t *f;
    char *slow = NULL;
    size_t sl = 0;
    json_array_foreach(frames, i, f) {
        check_event(r, f);
        char *d = json_dumps(f, JSON_COMPACT);
        const char *type = json_string_value(json_object_get(f, "type"));
        size_t add = strlen(d) + strlen(type) + 32;
        slow = realloc(slow, sl + add);
        sl += (size_t)snprintf(slow + sl, add, "event: %s\ndata: %s\n\n", type, d);
        free(d);
    }
    if (n) {
        FUZZ_CHECK("fast-bytes", n == sl && !memcmp(fast, slow, n), "fast and jansson differ");
        FUZZ_CHECK("fast-state",
                   before.index == r->s.index && before.text_started == r->s.text_started &&
                       before.thinking_started == r->s.thinking_started &&
                       before.thinking_done == r->s.thinking_done &&
                       before.finished == r->s.finished && before.tool_sent == r->s.tool_sent,
                   "the converter changed state on a line the fast path took");
    }
    free(slow);
    json_decref(frames);
    json_decref(v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct run r = {0};
    int eof = 0;
    if (size >= 2 && data[0] == '#') {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t hl = nl ? (size_t)(nl - data) : size;
        eof = memchr(data, 'e', hl) != NULL;
        data += nl ? hl + 1 : size;
        size -= nl ? hl + 1 : size;
    }
    anthropic_stream_init(&r.s, "msg_0123456789abcdef01234567", "fuzz-model", 3);
    struct ndjson nd;
    ndjson_init(&nd, 1 << 20);
    ndjson_feed(&nd, (const char *)data, size, on_line, &r);
    ndjson_finish(&nd, on_line, &r);
    ndjson_cleanup(&nd);
    if (eof) {
        json_t *frames = json_array();
        size_t i;
        json_t *f;
        anthropic_stream_eof(&r.s, frames);
        json_array_foreach(frames, i, f) check_event(&r, f);
        FUZZ_CHECK("eof-ends", r.ended, "eof did not end the stream");
        json_decref(frames);
    }
    anthropic_stream_close(&r.s);
    return 0;
}
