/* libFuzzer target: a native /api/chat NDJSON stream through the /v1/responses converter, as
 * relay.c runs it (the bytes split by the ndjson splitter, each line to the stream hook), with
 * the fast path against the jansson path on every line (../unit/responses_equiv.h): the same
 * SSE bytes and state whenever the fast path takes a line, nothing changed when it declines.
 * Also: sequence numbers count up from 0 without a gap, the stream ends at most once, every
 * event encodes, and the stream's end (a done line, an error line, or eof) is one terminal
 * event (response.completed or error).
 *
 * Input: an optional first line "#FLAGS" (e: call eof after the last line; r: a request with
 * reasoning, tools and instructions for the echo), then the NDJSON body. */
#include "../unit/responses_equiv.h"
#include "fuzz.h"
#include "ndjson.h"

struct run {
    struct responses_equiv q;
    json_t *echo;
};

static int on_line(void *arg, const char *line, size_t len) {
    struct run *r = arg;
    FUZZ_CHECK("responses-equiv", responses_equiv_line(&r->q, line, len) == 0, "%s", r->q.why);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    int do_eof = 0, rich = 0;
    if (size && p[0] == '#') {
        const char *nl = memchr(p, '\n', size);
        size_t n = nl ? (size_t)(nl - p) + 1 : size;
        do_eof = memchr(p, 'e', n) != NULL;
        rich = memchr(p, 'r', n) != NULL;
        p += n;
        size -= n;
    }
    json_t *req = json_loads(rich ? "{\"model\":\"m\",\"instructions\":\"i\",\"reasoning\":{"
                                    "\"effort\":\"high\"},\"tools\":[{\"type\":\"function\","
                                    "\"name\":\"f\"}]}"
                                  : "{\"model\":\"m\"}",
                             0, NULL);
    json_t *echo = NULL;
    struct responses_err err = {0};
    int stream;
    json_t *native = responses_request_new(req, &stream, &echo, &err);
    struct run r;
    r.echo = echo;
    responses_equiv_init(&r.q, echo);
    struct ndjson nd;
    ndjson_init(&nd, 1u << 20);
    if (ndjson_feed(&nd, p, size, on_line, &r) == 0)
        ndjson_finish(&nd, on_line, &r);
    ndjson_cleanup(&nd);
    long long seq_before = r.q.s.seq;
    if (do_eof) {
        json_t *events = json_array();
        responses_stream_eof(&r.q.s, events);
        FUZZ_CHECK("responses-eof", r.q.s.finished || r.q.done, "eof left the stream unfinished");
        FUZZ_CHECK("responses-eof-once", json_array_size(events) <= 1, "eof wrote %zu events",
                   json_array_size(events));
        if (json_array_size(events))
            FUZZ_CHECK("responses-eof-seq",
                       json_integer_value(json_object_get(json_array_get(events, 0),
                                                          "sequence_number")) == seq_before,
                       "eof event's sequence number");
        json_decref(events);
    }
    FUZZ_CHECK("responses-text-cap",
               r.q.s.kept + r.q.s.text.len + r.q.s.thinking.len <= r.q.s.text_max,
               "the kept text passed its cap");
    FUZZ_CHECK("responses-items-cap", json_array_size(r.q.s.items) <= r.q.s.items_max,
               "the kept items passed their cap");
    responses_equiv_free(&r.q);
    json_decref(native);
    json_decref(echo);
    json_decref(req);
    return 0;
}
