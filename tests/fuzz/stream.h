/* A native NDJSON stream translated to OpenAI SSE payloads, fuzzed as relay.c runs it: the
 * bytes split by the ndjson splitter, each line parsed and fed, then (optionally) the end of
 * the stream. Included by fuzz_{chat,completion}_stream.c, which define FUZZ_CHAT (1 or 0).
 * Alongside, every line also runs through the stream fast paths (../unit/stream_equiv.h: the
 * token line and done line fast paths with the jansson fallback, against jansson alone, as
 * relay.c's on_line): the SSE bytes, stream state and token counts must be the same after
 * every line and at the end.
 *
 * Input: an optional first line "#FLAGS" (u: stream_options.include_usage, e: call the eof
 * function after the last line), then the NDJSON body. Lines that are not JSON are skipped
 * (relay ends the stream there; skipping lets the fuzzer reach what follows). */
#ifndef KEEPWARM_FUZZ_STREAM_H
#define KEEPWARM_FUZZ_STREAM_H

#include "../unit/stream_equiv.h"
#include "fuzz.h"
#include "ndjson.h"
#include "openai.h"

#define STREAM_ID (FUZZ_CHAT ? "chatcmpl-fuzz" : "cmpl-fuzz")

struct run {
    struct openai_stream s;
    json_t *frames;
    int ended;  /* the result that ended the stream (DONE or ERROR), 0, or -1 (unchecked) */
    int chunks; /* chunks seen (not error envelopes) */
    int roles;  /* chat chunks whose delta carried a role */
    json_int_t created;
    struct stream_equiv eq; /* the fast paths against jansson, as relay.c runs them */
};

static int feed(struct openai_stream *s, const json_t *line, json_t *frames) {
    return FUZZ_CHAT ? openai_chat_stream_feed(s, line, frames)
                     : openai_completion_stream_feed(s, line, frames);
}

static int eof(struct openai_stream *s, json_t *frames) {
    return FUZZ_CHAT ? openai_chat_stream_eof(s, frames) : openai_completion_stream_eof(s, frames);
}

static const char *finish_of(const json_t *chunk) {
    const json_t *fr =
        json_object_get(json_array_get(json_object_get(chunk, "choices"), 0), "finish_reason");
    return json_string_value(fr);
}

/* One chunk (not an error envelope): shape, the stream's id and created, role once. */
static void check_chunk(struct run *r, const json_t *chunk) {
    const char *object = json_string_value(json_object_get(chunk, "object"));
    FUZZ_CHECK("stream-chunk-object",
               object && !strcmp(object, FUZZ_CHAT ? "chat.completion.chunk" : "text_completion"),
               "chunk object \"%s\"", object ? object : "(none)");
    FUZZ_CHECK("stream-chunk-id", fuzz_str_is(json_object_get(chunk, "id"), STREAM_ID),
               "chunk id differs from the stream's");
    FUZZ_CHECK("stream-chunk-model", json_is_string(json_object_get(chunk, "model")),
               "chunk without a model");
    const json_t *created = json_object_get(chunk, "created");
    FUZZ_CHECK("stream-chunk-created", json_is_integer(created), "chunk without created");
    if (r->chunks == 0)
        r->created = json_integer_value(created);
    FUZZ_CHECK("stream-created-fixed", json_integer_value(created) == r->created,
               "created changed mid-stream");
    const json_t *choices = json_object_get(chunk, "choices");
    FUZZ_CHECK("stream-chunk-choices", json_is_array(choices) && json_array_size(choices) <= 1,
               "choices is not an array of at most one");
    const json_t *choice = json_array_get(choices, 0);
    if (choice) {
        const json_t *fr = json_object_get(choice, "finish_reason");
        FUZZ_CHECK("stream-finish-type", json_is_null(fr) || json_string_length(fr) > 0,
                   "finish_reason is neither null nor a reason");
        if (FUZZ_CHAT) {
            const json_t *delta = json_object_get(choice, "delta");
            FUZZ_CHECK("stream-delta", json_is_object(delta), "chat chunk without delta");
            int role = json_object_get(delta, "role") != NULL;
            FUZZ_CHECK("stream-role-first", role == (r->chunks == 0),
                       "role on chunk %d (it belongs on the first only)", r->chunks);
            r->roles += role;
        } else {
            FUZZ_CHECK("stream-text", json_is_string(json_object_get(choice, "text")),
                       "completion chunk without text");
        }
    } else {
        FUZZ_CHECK("stream-usage-only", json_is_object(json_object_get(chunk, "usage")),
                   "a chunk without choices must carry usage");
    }
    FUZZ_CHECK("stream-encodes", fuzz_encodes(chunk), "chunk does not encode");
    r->chunks++;
}

/* What one feed (or eof) call appended, given what it returned. */
static void check_call(struct run *r, size_t before, int rc, int at_eof) {
    size_t after = json_array_size(r->frames);
    /* The model remembered for lines without one goes into every later chunk. When it is
     * not UTF-8 (cut inside a character) those chunks cannot be built; report the cause,
     * not the missing frames. */
    if (!fuzz_valid_utf8(r->s.model, strlen(r->s.model))) {
        FUZZ_CHECK("stream-model-utf8", 0,
                   "the stream's remembered model is not UTF-8 (a long name cut inside a "
                   "character), so chunks built with it are dropped");
        r->ended = -1;
        return;
    }
    if (r->ended < 0)
        return;
    FUZZ_CHECK("stream-rc",
               rc == OPENAI_STREAM_MORE || rc == OPENAI_STREAM_DONE || rc == OPENAI_STREAM_ERROR,
               "returned %d", rc);
    if (r->ended) {
        FUZZ_CHECK("stream-after-end", rc == r->ended && after == before,
                   "called after the stream ended (rc %d): returned %d and appended %zu frames",
                   r->ended, rc, after - before);
        return;
    }
    FUZZ_CHECK("stream-eof-ends", !at_eof || rc != OPENAI_STREAM_MORE, "eof returned MORE");
    if (rc == OPENAI_STREAM_ERROR) {
        const json_t *e = json_object_get(json_array_get(r->frames, before), "error");
        FUZZ_CHECK("stream-error-frame", after == before + 1 && json_is_object(e),
                   "an error must append exactly one envelope (appended %zu)", after - before);
        FUZZ_CHECK("stream-error-message", json_string_length(json_object_get(e, "message")) > 0,
                   "error envelope without a message");
        FUZZ_CHECK("stream-error-encodes", fuzz_encodes(json_array_get(r->frames, before)),
                   "error envelope does not encode");
        r->ended = rc;
        return;
    }
    for (size_t i = before; i < after; i++)
        check_chunk(r, json_array_get(r->frames, i));
    if (rc == OPENAI_STREAM_MORE) {
        for (size_t i = before; i < after; i++)
            FUZZ_CHECK("stream-no-early-finish", !finish_of(json_array_get(r->frames, i)),
                       "a finish_reason before the stream is done");
        /* A line that does not end the stream always says something. */
        FUZZ_CHECK("stream-line-frames", after > before,
                   "a content line produced no chunk (a chunk could not be built?)");
        return;
    }
    /* DONE: the finish chunk, then the usage chunk when asked. */
    size_t finish_at = after - 1 - (size_t)(r->s.include_usage != 0);
    FUZZ_CHECK("stream-done-frames", after >= before + 1 + (size_t)(r->s.include_usage != 0),
               "DONE with %zu frames", after - before);
    FUZZ_CHECK("stream-done-finish", finish_of(json_array_get(r->frames, finish_at)) != NULL,
               "DONE without a finish_reason chunk");
    if (r->s.include_usage) {
        const json_t *last = json_array_get(r->frames, after - 1);
        const json_t *u = json_object_get(last, "usage");
        FUZZ_CHECK("stream-usage",
                   fuzz_usage_ok(u) && json_array_size(json_object_get(last, "choices")) == 0,
                   "usage chunk missing or inconsistent");
    }
    if (FUZZ_CHAT)
        FUZZ_CHECK("stream-role-sent", r->roles == 1, "a finished chat stream sent %d roles",
                   r->roles);
    r->ended = rc;
}

static int on_line(void *arg, const char *line, size_t len) {
    struct run *r = arg;
    FUZZ_CHECK("stream-fast-equiv", stream_equiv_line(&r->eq, line, len) == 0, "%s", r->eq.why);
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY, NULL);
    if (!v)
        return 0;
    json_t *copy = json_deep_copy(v);
    size_t before = json_array_size(r->frames);
    int rc = feed(&r->s, v, r->frames);
    check_call(r, before, rc, 0);
    FUZZ_CHECK("stream-line-unchanged", json_equal(v, copy), "the native line was modified");
    json_decref(copy);
    json_decref(v);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *p = (const char *)data;
    int usage = 0, at_eof = 0;
    if (size && p[0] == '#') {
        const char *nl = memchr(p, '\n', size);
        size_t hl = nl ? (size_t)(nl - p) + 1 : size;
        usage = memchr(p, 'u', hl) != NULL;
        at_eof = memchr(p, 'e', hl) != NULL;
        p += hl;
        size -= hl;
    }
    struct run r = {.frames = json_array()};
    openai_stream_init(&r.s, STREAM_ID, usage);
    stream_equiv_init(&r.eq, FUZZ_CHAT, STREAM_ID, usage);
    struct ndjson nd;
    ndjson_init(&nd, 1 << 20);
    if (ndjson_feed(&nd, p, size, on_line, &r) == 0)
        ndjson_finish(&nd, on_line, &r);
    ndjson_cleanup(&nd);
    if (at_eof) {
        FUZZ_CHECK("stream-fast-equiv", stream_equiv_eof(&r.eq) == 0, "%s", r.eq.why);
        size_t before = json_array_size(r.frames);
        check_call(&r, before, eof(&r.s, r.frames), 1);
        /* A second eof changes nothing. */
        before = json_array_size(r.frames);
        check_call(&r, before, eof(&r.s, r.frames), 1);
    }
    stream_equiv_free(&r.eq);
    json_decref(r.frames);
    return 0;
}

#endif
