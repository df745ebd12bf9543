/* metrics: fixed tables, no allocation after start. Single-threaded like the rest. */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

#define MAX_CODES  24
#define MAX_MODELS 64
#define NBUCKETS   14

static const double buckets[NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                         0.1,    0.25,  0.5,    1,     2.5,  10,    60};

struct histogram {
    unsigned long long counts[NBUCKETS];
    unsigned long long n;
    double sum;
};

struct code_count {
    int code;
    unsigned long long n;
};

static struct {
    struct code_count codes[ROUTE_COUNT][MAX_CODES];
    struct histogram duration[ROUTE_COUNT];
    struct histogram ttft;
    struct {
        char name[128];
        unsigned long long prompt, completion;
    } models[MAX_MODELS];
    int nmodels;
    unsigned long long other_prompt, other_completion;
    unsigned long long upstream_errors[UPERR_COUNT];
    unsigned long long cancels, retries, pauses;
    unsigned long long fastpath[FASTPATH_COUNT][2]; /* [path][0 decline, 1 hit] */
    long long streams;
} m;

static const char *const route_names[ROUTE_COUNT] = {
    "chat",   "completions",    "embeddings", "models", "responses", "messages", "native_generate",
    "native", "v1_passthrough", "own",        "other",
};

static const char *const uperr_names[UPERR_COUNT] = {
    "refused", "timeout", "broken", "status_5xx", "runner_crash", "context_overflow",
};

static const char *const fastpath_names[FASTPATH_COUNT] = {
    "request_chat", "request_completion", "request_native", "stream_token", "stream_done",
    "answer",       "responses_token",    "messages_token",
};

static void observe(struct histogram *h, double v) {
    for (int i = 0; i < NBUCKETS; i++)
        if (v <= buckets[i])
            h->counts[i]++;
    h->n++;
    h->sum += v;
}

void metrics_request_done(enum metrics_route route, int status, double seconds) {
    if (route >= ROUTE_COUNT)
        route = ROUTE_OTHER;
    struct code_count *cc = m.codes[route];
    int i;
    for (i = 0; i < MAX_CODES && cc[i].code && cc[i].code != status; i++)
        ;
    if (i == MAX_CODES)
        i = MAX_CODES - 1; /* table full: the last slot absorbs the rest */
    cc[i].code = cc[i].code ? cc[i].code : status;
    cc[i].n++;
    observe(&m.duration[route], seconds);
}

void metrics_ttft(double seconds) {
    observe(&m.ttft, seconds);
}

void metrics_tokens(const char *model, long long prompt, long long completion) {
    if (prompt < 0)
        prompt = 0;
    if (completion < 0)
        completion = 0;
    for (int i = 0; i < m.nmodels; i++) {
        if (strcmp(m.models[i].name, model) == 0) {
            m.models[i].prompt += (unsigned long long)prompt;
            m.models[i].completion += (unsigned long long)completion;
            return;
        }
    }
    if (m.nmodels < MAX_MODELS && strlen(model) < sizeof(m.models[0].name)) {
        snprintf(m.models[m.nmodels].name, sizeof(m.models[0].name), "%s", model);
        m.models[m.nmodels].prompt = (unsigned long long)prompt;
        m.models[m.nmodels].completion = (unsigned long long)completion;
        m.nmodels++;
        return;
    }
    m.other_prompt += (unsigned long long)prompt;
    m.other_completion += (unsigned long long)completion;
}

void metrics_upstream_error(enum metrics_upstream_error kind) {
    if (kind < UPERR_COUNT)
        m.upstream_errors[kind]++;
}

void metrics_cancel(void) {
    m.cancels++;
}

void metrics_retry(void) {
    m.retries++;
}

void metrics_pause(void) {
    m.pauses++;
}

void metrics_streams_add(int delta) {
    m.streams += delta;
}

void metrics_fastpath_hit(enum metrics_fastpath path) {
    m.fastpath[path][1]++;
}

void metrics_fastpath_decline(enum metrics_fastpath path) {
    m.fastpath[path][0]++;
}

void metrics_label(struct evbuffer *out, const char *v) {
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            evbuffer_add_printf(out, "\\%c", *v);
        else if (*v == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, v, 1);
    }
}

static void render_histogram(struct evbuffer *out, const char *name, const char *labels,
                             const struct histogram *h) {
    const char *sep = *labels ? "," : "";
    for (int i = 0; i < NBUCKETS; i++)
        evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, buckets[i],
                            h->counts[i]);
    evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, h->n);
    evbuffer_add_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum, name,
                        labels, h->n);
}

void metrics_render(struct evbuffer *out) {
    evbuffer_add_printf(out, "# HELP keepwarm_requests_total Requests answered, by route and "
                             "status.\n# TYPE keepwarm_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int i = 0; i < MAX_CODES && m.codes[r][i].code; i++)
            evbuffer_add_printf(out, "keepwarm_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                                route_names[r], m.codes[r][i].code, m.codes[r][i].n);
    evbuffer_add_printf(out, "# HELP keepwarm_request_duration_seconds Time from request to "
                             "the end of the answer.\n"
                             "# TYPE keepwarm_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        if (!m.duration[r].n)
            continue;
        char labels[64];
        snprintf(labels, sizeof(labels), "route=\"%s\"", route_names[r]);
        render_histogram(out, "keepwarm_request_duration_seconds", labels, &m.duration[r]);
    }
    evbuffer_add_printf(out, "# HELP keepwarm_time_to_first_token_seconds Time from request to "
                             "the first streamed byte.\n"
                             "# TYPE keepwarm_time_to_first_token_seconds histogram\n");
    render_histogram(out, "keepwarm_time_to_first_token_seconds", "", &m.ttft);
    evbuffer_add_printf(out, "# HELP keepwarm_tokens_total Tokens reported by Ollama.\n"
                             "# TYPE keepwarm_tokens_total counter\n");
    for (int i = 0; i < m.nmodels; i++) {
        evbuffer_add_printf(out, "keepwarm_tokens_total{model=\"");
        metrics_label(out, m.models[i].name);
        evbuffer_add_printf(out, "\",kind=\"prompt\"} %llu\n", m.models[i].prompt);
        evbuffer_add_printf(out, "keepwarm_tokens_total{model=\"");
        metrics_label(out, m.models[i].name);
        evbuffer_add_printf(out, "\",kind=\"completion\"} %llu\n", m.models[i].completion);
    }
    if (m.other_prompt || m.other_completion)
        evbuffer_add_printf(out,
                            "keepwarm_tokens_total{model=\"other\",kind=\"prompt\"} %llu\n"
                            "keepwarm_tokens_total{model=\"other\",kind=\"completion\"} %llu\n",
                            m.other_prompt, m.other_completion);
    evbuffer_add_printf(out, "# HELP keepwarm_upstream_errors_total Failures talking to Ollama.\n"
                             "# TYPE keepwarm_upstream_errors_total counter\n");
    for (int i = 0; i < UPERR_COUNT; i++)
        evbuffer_add_printf(out, "keepwarm_upstream_errors_total{kind=\"%s\"} %llu\n",
                            uperr_names[i], m.upstream_errors[i]);
    evbuffer_add_printf(out, "# HELP keepwarm_fastpath_total Fast path tries: served from the "
                             "bytes (hit) or handed to the jansson path (decline).\n"
                             "# TYPE keepwarm_fastpath_total counter\n");
    for (int i = 0; i < FASTPATH_COUNT; i++)
        evbuffer_add_printf(out,
                            "keepwarm_fastpath_total{path=\"%s\",result=\"hit\"} %llu\n"
                            "keepwarm_fastpath_total{path=\"%s\",result=\"decline\"} %llu\n",
                            fastpath_names[i], m.fastpath[i][1], fastpath_names[i],
                            m.fastpath[i][0]);
    evbuffer_add_printf(out,
                        "# HELP keepwarm_cancels_total Upstream requests cancelled because the "
                        "client left.\n# TYPE keepwarm_cancels_total counter\n"
                        "keepwarm_cancels_total %llu\n"
                        "# HELP keepwarm_retries_total Requests retried after a runner crash.\n"
                        "# TYPE keepwarm_retries_total counter\nkeepwarm_retries_total %llu\n"
                        "# HELP keepwarm_upstream_pauses_total Times a slow client paused "
                        "reading from Ollama.\n# TYPE keepwarm_upstream_pauses_total counter\n"
                        "keepwarm_upstream_pauses_total %llu\n"
                        "# HELP keepwarm_active_streams Streaming answers in progress.\n"
                        "# TYPE keepwarm_active_streams gauge\nkeepwarm_active_streams %lld\n",
                        m.cancels, m.retries, m.pauses, m.streams);
}
