/* metrics: process-wide counters, gauges and histograms, rendered as Prometheus text
 * (names prefixed keepwarm_). Plain data with fixed-size tables: a label value that does not
 * fit is counted under "other", so memory is bounded whatever clients send. */
#ifndef KEEPWARM_METRICS_H
#define KEEPWARM_METRICS_H

#include <event2/buffer.h>

enum metrics_route {
    ROUTE_CHAT = 0,    /* /v1/chat/completions */
    ROUTE_COMPLETIONS, /* /v1/completions */
    ROUTE_EMBEDDINGS,  /* /v1/embeddings */
    ROUTE_MODELS,      /* /v1/models[/{id}] */
    ROUTE_RESPONSES,   /* /v1/responses */
    ROUTE_MESSAGES,    /* /v1/messages, /v1/messages/count_tokens */
    ROUTE_NATIVE_GEN,  /* /api/generate, /api/chat, /api/embed, /api/embeddings */
    ROUTE_NATIVE,      /* every other /api/ path, and / */
    ROUTE_V1_PASS,     /* any other /v1/ path: passed through to Ollama */
    ROUTE_OWN,         /* /healthz, /readyz, /status, /metrics */
    ROUTE_OTHER,
    ROUTE_COUNT
};

enum metrics_upstream_error {
    UPERR_REFUSED = 0,
    UPERR_TIMEOUT,
    UPERR_BROKEN,
    UPERR_STATUS_5XX,
    UPERR_RUNNER_CRASH,
    UPERR_CONTEXT_OVERFLOW,
    UPERR_COUNT
};

/* keepwarm_fastpath_total's path label: each place a fast path (proxy/fast/README.md) is tried. */
enum metrics_fastpath {
    FASTPATH_REQUEST_CHAT = 0,   /* reqfast: /v1/chat/completions body -> /api/chat */
    FASTPATH_REQUEST_COMPLETION, /* reqfast: /v1/completions body -> /api/generate */
    FASTPATH_REQUEST_NATIVE,     /* splice: keep_alive into a native body */
    FASTPATH_STREAM_TOKEN,       /* openai_fast: a chat stream's token line */
    FASTPATH_STREAM_DONE,        /* openai_fast: a chat or completion stream's done line */
    FASTPATH_ANSWER,             /* openai_fast: a chat or completion non-stream answer */
    FASTPATH_RESPONSES_TOKEN,    /* responses_fast: a /v1/responses stream's token line */
    FASTPATH_MESSAGES_TOKEN,     /* anthropic_fast: a /v1/messages stream's token line */
    FASTPATH_COUNT
};

void metrics_request_done(enum metrics_route route, int status, double seconds);
void metrics_ttft(double seconds);
void metrics_tokens(const char *model, long long prompt, long long completion);
void metrics_upstream_error(enum metrics_upstream_error kind);
void metrics_cancel(void);
void metrics_retry(void);
void metrics_pause(void);            /* a slow client paused an upstream transfer */
void metrics_streams_add(int delta); /* active streaming replies */

/* One try of a fast path: it served (hit) or handed over to the jansson path (decline). A
 * plain array increment: the stream paths call it once per line. */
void metrics_fastpath_hit(enum metrics_fastpath path);
void metrics_fastpath_decline(enum metrics_fastpath path);

/* Appends a label value escaped for Prometheus (backslash, quote, newline). */
void metrics_label(struct evbuffer *out, const char *value);

/* Appends every metric in Prometheus text format 0.0.4. */
void metrics_render(struct evbuffer *out);

#endif
