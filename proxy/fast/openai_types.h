/* openai_types: the plain data the OpenAI translation shares with its fast paths (reqfast,
 * openai_fast) — a refused request, what the relay must know about a translated one, a
 * stream's state and the token-count cap. Below both (fast/), so neither includes the other's
 * floor; the functions that work on these are in api/openai.h and fast/openai_fast.h. */
#ifndef KEEPWARM_OPENAI_TYPES_H
#define KEEPWARM_OPENAI_TYPES_H

#include <jansson.h>

/* A request the translation refuses: HTTP status (400, or 404 where Ollama says 404) and
 * a message in Ollama's words where Ollama has one. */
struct openai_err {
    int status;
    char message[512];
};

/* What the relay needs to know about a translated request. */
struct openai_meta {
    int stream;        /* client asked for SSE */
    int include_usage; /* stream_options.include_usage */
    int encoding_b64;  /* embeddings: encoding_format "base64" */
};

/* Token counts from Ollama beyond this are not counts: read as 0 by the jansson path
 * (openai.c) and declined by the fast path (openai_fast.c), so sums cannot overflow. */
#define OPENAI_COUNT_MAX 1000000000000000LL

enum openai_stream_result {
    OPENAI_STREAM_MORE = 0,  /* keep reading */
    OPENAI_STREAM_DONE = 1,  /* send "data: [DONE]" and end the stream */
    OPENAI_STREAM_ERROR = 2, /* frames got one {"error":{...}} payload; end without [DONE] */
};

/* struct openai_stream.finished: the stream ended with a done line (or EOF), or an error. */
enum { OPENAI_FINISHED_DONE = 1, OPENAI_FINISHED_ERROR = 2 };

struct openai_stream {
    char id[48];        /* fixed for the whole stream */
    int id_plain;       /* id is printable ASCII without '"' or '\\': JSON as it is */
    json_int_t created; /* unix(created_at of the first line), reused for every chunk */
    int created_set;
    int role_sent; /* role only on the first chunk */
    int tool_sent; /* any chunk carried tool_calls: "stop" becomes "tool_calls" */
    int include_usage;
    int finished;    /* 0, OPENAI_FINISHED_DONE or OPENAI_FINISHED_ERROR */
    char model[256]; /* last native "model", for chunks whose line lacks one */
};

/* An id JSON holds as it is: printable ASCII without '"' or '\\'. */
static inline int openai_id_plain(const char *id) {
    for (; *id; id++)
        if ((unsigned char)*id < 0x20 || (unsigned char)*id > 0x7e || *id == '"' || *id == '\\')
            return 0;
    return 1;
}

#endif
