/* The contract between the stream fast paths (openai_chat_stream_fast for token lines,
 * openai_{chat,completion}_stream_done_fast for the done line) and the jansson path
 * (json_loadb, note_tokens, openai_*_stream_feed, one compact dump per frame, "data: [DONE]"),
 * checked line by line. Each side runs a line as ep_openai.c's chat_line does, one side with the
 * fast paths first (falling back to jansson when they decline), the other with jansson only; after
 * every line the SSE bytes the line produced, the stream state and the token counts must be the
 * same. Shared by tests/unit/test_stream_fast.c and tests/fuzz/stream.h. */
#ifndef KEEPWARM_STREAM_EQUIV_H
#define KEEPWARM_STREAM_EQUIV_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "openai.h"
#include "openai_fast.h"

#define STREAM_EQUIV_OUT 8192 /* ep_openai.c's buffer for a fast path's events */

/* One side: what relay.c and ep_openai.c keep for a stream. */
struct stream_side {
    struct openai_stream s;
    long long prompt_tokens, completion_tokens; /* ep_openai.c's note_tokens */
    int over;                                   /* relay's stream_over */
    char *sse;                                  /* the bytes written to the client */
    size_t len, cap;
    const char *broke; /* a fast path broke its own contract (declining changed something, or
                          it wrote into a buffer one byte short) */
};

struct stream_equiv {
    struct stream_side slow, fast;
    int chat;
    int fast_tokens; /* lines openai_chat_stream_fast took */
    int fast_dones;  /* lines a done fast path took */
    int ticked;      /* the clock ticked during a line whose sides differ: comparison stopped */
    char why[2048];  /* the first mismatch */
};

static inline void stream_side_put(struct stream_side *d, const char *p, size_t n) {
    if (d->len + n + 1 > d->cap) {
        size_t cap = (d->len + n + 1) * 2;
        char *q = realloc(d->sse, cap);
        if (!q)
            abort();
        d->sse = q;
        d->cap = cap;
    }
    memcpy(d->sse + d->len, p, n);
    d->len += n;
    d->sse[d->len] = '\0';
}

#define STREAM_SIDE_LIT(d, lit) stream_side_put((d), (lit), sizeof(lit) - 1)

/* Frames and the stream result as ep_openai.c's sse_frames writes them. */
static inline void stream_side_frames(struct stream_side *d, const json_t *frames, int rc) {
    size_t i;
    const json_t *f;
    json_array_foreach(frames, i, f) {
        char *text = json_dumps(f, JSON_COMPACT);
        STREAM_SIDE_LIT(d, "data: ");
        if (text)
            stream_side_put(d, text, strlen(text));
        STREAM_SIDE_LIT(d, "\n\n");
        free(text);
    }
    if (rc == OPENAI_STREAM_DONE) {
        STREAM_SIDE_LIT(d, "data: [DONE]\n\n");
        d->over = 1;
    } else if (rc == OPENAI_STREAM_ERROR) {
        d->over = 1;
    }
}

/* One line as relay.c's on_line and ep_openai.c's *_line run it; use_fast 0: the jansson path only.
 * Returns 1 when a fast path took it as a token line, 2 as a done line, else 0. */
static inline int stream_side_line(struct stream_side *d, int chat, const char *line, size_t len,
                                   int use_fast) {
    if (d->over)
        return 0;
    if (use_fast) {
        char out[STREAM_EQUIV_OUT], short_out[STREAM_EQUIV_OUT];
        struct openai_fast_usage u = {-1, -1}, short_u = {-1, -1};
        struct openai_stream before, tmp;
        memcpy(&before, &d->s, sizeof(before));
        memcpy(&tmp, &d->s, sizeof(tmp));
        size_t n = chat ? openai_chat_stream_fast(&d->s, line, len, out, sizeof(out)) : 0;
        if (n) {
            if (openai_chat_stream_fast(&tmp, line, len, short_out, n - 1) ||
                memcmp(&tmp, &before, sizeof(tmp)))
                d->broke = "the token fast path wrote into a buffer one byte short";
            stream_side_put(d, out, n);
            return 1;
        }
        n = chat ? openai_chat_stream_done_fast(&d->s, line, len, out, sizeof(out), &u)
                 : openai_completion_stream_done_fast(&d->s, line, len, out, sizeof(out), &u);
        if (n) {
            size_t short_n =
                chat ? openai_chat_stream_done_fast(&tmp, line, len, short_out, n - 1, &short_u)
                     : openai_completion_stream_done_fast(&tmp, line, len, short_out, n - 1,
                                                          &short_u);
            if (short_n || memcmp(&tmp, &before, sizeof(tmp)) || short_u.prompt_tokens != -1)
                d->broke = "the done fast path wrote into a buffer one byte short";
            d->prompt_tokens = (long long)u.prompt_tokens;
            d->completion_tokens = (long long)u.completion_tokens;
            stream_side_put(d, out, n);
            STREAM_SIDE_LIT(d, "data: [DONE]\n\n");
            d->over = 1;
            return 2;
        }
        if (memcmp(&d->s, &before, sizeof(before)) || u.prompt_tokens != -1 ||
            u.completion_tokens != -1)
            d->broke = "a fast path that declined changed the stream or the counts";
    }
    json_t *v = json_loadb(line, len, 0, NULL);
    if (!v || !json_is_object(v)) {
        json_decref(v);
        STREAM_SIDE_LIT(d, "(error event: invalid JSON line from Ollama)");
        d->over = 1;
        return 0;
    }
    if (json_is_true(json_object_get(v, "done"))) {
        d->prompt_tokens = (long long)json_integer_value(json_object_get(v, "prompt_eval_count"));
        d->completion_tokens = (long long)json_integer_value(json_object_get(v, "eval_count"));
    }
    json_t *frames = json_array();
    int rc = chat ? openai_chat_stream_feed(&d->s, v, frames)
                  : openai_completion_stream_feed(&d->s, v, frames);
    stream_side_frames(d, frames, rc);
    json_decref(frames);
    json_decref(v);
    return 0;
}

/* The end of the upstream answer, as relay.c's on_done and ep_openai.c's *_end. */
static inline void stream_side_eof(struct stream_side *d, int chat) {
    if (d->over)
        return;
    json_t *frames = json_array();
    int rc =
        chat ? openai_chat_stream_eof(&d->s, frames) : openai_completion_stream_eof(&d->s, frames);
    stream_side_frames(d, frames, rc);
    json_decref(frames);
}

static inline void stream_equiv_init(struct stream_equiv *e, int chat, const char *id,
                                     int include_usage) {
    memset(e, 0, sizeof(*e));
    e->chat = chat;
    openai_stream_init(&e->slow.s, id, include_usage);
    openai_stream_init(&e->fast.s, id, include_usage);
}

static inline void stream_equiv_free(struct stream_equiv *e) {
    free(e->slow.sse);
    free(e->fast.sse);
    e->slow.sse = e->fast.sse = NULL;
}

static inline int stream_equiv_is_id(const char *p) {
    if (memcmp(p, "\"call_", 6) != 0)
        return 0;
    for (int i = 6; i < 14; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
            return 0;
    return p[14] == '"';
}

/* Byte for byte, but a generated tool-call id ("call_" and 8 of [a-z0-9], random on each side)
 * matches any other. Both strings are NUL-terminated. */
static inline int stream_equiv_same(const char *a, size_t an, const char *b, size_t bn) {
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        if (an - i >= 15 && bn - j >= 15 && stream_equiv_is_id(a + i) &&
            stream_equiv_is_id(b + j)) {
            i += 15;
            j += 15;
        } else if (a[i++] != b[j++]) {
            return 0;
        }
    }
    return i == an && j == bn;
}

/* The two sides' states are the same (the remembered model compared as a string). */
static inline int stream_equiv_state(const struct stream_equiv *e, char *why, size_t whylen) {
    const struct openai_stream *a = &e->slow.s, *b = &e->fast.s;
    if (strcmp(a->id, b->id) || a->created != b->created || a->created_set != b->created_set ||
        a->role_sent != b->role_sent || a->tool_sent != b->tool_sent ||
        a->include_usage != b->include_usage || a->finished != b->finished ||
        strcmp(a->model, b->model)) {
        snprintf(why, whylen,
                 "state: slow created %lld/%d role %d tool %d finished %d model \"%.40s\"; "
                 "fast created %lld/%d role %d tool %d finished %d model \"%.40s\"",
                 (long long)a->created, a->created_set, a->role_sent, a->tool_sent, a->finished,
                 a->model, (long long)b->created, b->created_set, b->role_sent, b->tool_sent,
                 b->finished, b->model);
        return 0;
    }
    if (e->slow.prompt_tokens != e->fast.prompt_tokens ||
        e->slow.completion_tokens != e->fast.completion_tokens || e->slow.over != e->fast.over) {
        snprintf(why, whylen, "counts or end: slow %lld/%lld over %d, fast %lld/%lld over %d",
                 e->slow.prompt_tokens, e->slow.completion_tokens, e->slow.over,
                 e->fast.prompt_tokens, e->fast.completion_tokens, e->fast.over);
        return 0;
    }
    return 1;
}

/* Compares what one step appended (from the given offsets) and the states. */
static inline int stream_equiv_check(struct stream_equiv *e, size_t slow_at, size_t fast_at,
                                     time_t t0, const char *what) {
    char why[1024] = "";
    if (e->fast.broke) {
        snprintf(e->why, sizeof(e->why), "%s: %s", what, e->fast.broke);
        return -1;
    }
    int same = stream_equiv_same(e->slow.sse + slow_at, e->slow.len - slow_at,
                                 e->fast.sse + fast_at, e->fast.len - fast_at);
    if (!same)
        snprintf(why, sizeof(why), "bytes differ");
    else
        same = stream_equiv_state(e, why, sizeof(why));
    if (same)
        return 0;
    if (time(NULL) != t0) { /* a created taken from the clock may differ: not a finding */
        e->ticked = 1;
        return 0;
    }
    snprintf(e->why, sizeof(e->why), "%s: %s\n slow: %.700s\n fast: %.700s", what, why,
             e->slow.sse + slow_at, e->fast.sse + fast_at);
    return -1;
}

/* Runs one line (len bytes) on both sides. Returns -1 on the first mismatch (see e->why),
 * else 0; after a mismatch or a clock tick the sides are not compared any more. */
static inline int stream_equiv_line(struct stream_equiv *e, const char *line, size_t len) {
    if (e->ticked || e->why[0])
        return e->why[0] ? -1 : 0;
    size_t slow_at = e->slow.len, fast_at = e->fast.len;
    time_t t0 = time(NULL);
    stream_side_line(&e->slow, e->chat, line, len, 0);
    int took = stream_side_line(&e->fast, e->chat, line, len, 1);
    e->fast_tokens += took == 1;
    e->fast_dones += took == 2;
    if (took) { /* a fast path may take only what jansson reads as an object */
        json_t *v = json_loadb(line, len, 0, NULL);
        int object = json_is_object(v);
        json_decref(v);
        if (!object) {
            snprintf(e->why, sizeof(e->why), "a fast path took a line json_loadb refuses: %.*s",
                     (int)(len < 300 ? len : 300), line);
            return -1;
        }
    }
    return stream_equiv_check(e, slow_at, fast_at, t0, "line");
}

/* The end of the upstream answer on both sides. */
static inline int stream_equiv_eof(struct stream_equiv *e) {
    if (e->ticked || e->why[0])
        return e->why[0] ? -1 : 0;
    size_t slow_at = e->slow.len, fast_at = e->fast.len;
    time_t t0 = time(NULL);
    stream_side_eof(&e->slow, e->chat);
    stream_side_eof(&e->fast, e->chat);
    return stream_equiv_check(e, slow_at, fast_at, t0, "eof");
}

#endif
