/* endpoint: the routing table (method and path to entry, or the 404/405 a family answers in its
 * envelope), the entries' error envelopes, and request_build for the entries without a body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "endpoint.h"
#include "request.h"

static void routes_to(enum evhttp_cmd_type m, const char *path, const struct endpoint *want) {
    int status = 0;
    const char *message = NULL;
    const struct endpoint *errors = NULL;
    const struct endpoint *ep = endpoint_route(m, path, &status, &message, &errors);
    if (ep != want)
        fail_msg("%s: routed to %s, want %s", path, ep ? ep->name : "(none)", want->name);
    assert_int_equal(status, 0);
}

static void refused(enum evhttp_cmd_type m, const char *path, int want_status,
                    const char *want_message, const struct endpoint *want_errors) {
    int status = 0;
    const char *message = NULL;
    const struct endpoint *errors = NULL;
    assert_null(endpoint_route(m, path, &status, &message, &errors));
    assert_int_equal(status, want_status);
    assert_string_equal(message, want_message);
    assert_ptr_equal(errors->error_new, want_errors->error_new);
}

static void test_routes(void **state) {
    (void)state;
    routes_to(EVHTTP_REQ_POST, "/v1/chat/completions", &endpoint_openai_chat);
    routes_to(EVHTTP_REQ_POST, "/v1/completions", &endpoint_openai_completions);
    routes_to(EVHTTP_REQ_POST, "/v1/embeddings", &endpoint_openai_embeddings);
    routes_to(EVHTTP_REQ_GET, "/v1/models", &endpoint_openai_models);
    routes_to(EVHTTP_REQ_GET, "/v1/models/llama3.2:3b", &endpoint_openai_model);
    routes_to(EVHTTP_REQ_GET, "/v1/models/hf.co/org/model:q4", &endpoint_openai_model);
    routes_to(EVHTTP_REQ_GET, "/v1/models/", &endpoint_openai_model); /* 404 by the entry */
    /* every other /v1/ path goes to Ollama untouched, whatever the method */
    routes_to(EVHTTP_REQ_POST, "/v1/audio/transcriptions", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_GET, "/v1/next/endpoint", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_DELETE, "/v1/files/x", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_GET, "/v1/", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_POST, "/v1/chat/completions/x", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_POST, "/v1/chat/completionsx", &endpoint_openai_pass);
    routes_to(EVHTTP_REQ_POST, "/v1/responses", &endpoint_openai_responses);
    for (const char *const *p = (const char *const[]){"/api/generate", "/api/chat", "/api/embed",
                                                      "/api/embeddings", NULL};
         *p; p++) {
        routes_to(EVHTTP_REQ_POST, *p, &endpoint_native_inject);
        routes_to(EVHTTP_REQ_GET, *p, &endpoint_native_pass);
    }
    routes_to(EVHTTP_REQ_POST, "/api/pull", &endpoint_native_pass);
    routes_to(EVHTTP_REQ_DELETE, "/api/delete", &endpoint_native_pass);
    routes_to(EVHTTP_REQ_GET, "/api/tags", &endpoint_native_pass);
    routes_to(EVHTTP_REQ_GET, "/", &endpoint_native_pass);
    routes_to(EVHTTP_REQ_HEAD, "/", &endpoint_native_pass);
}

static void test_refusals(void **state) {
    (void)state;
    const struct endpoint *oa = &endpoint_openai_chat, *nat = &endpoint_native_pass;
    refused(EVHTTP_REQ_GET, "/v1/chat/completions", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_PUT, "/v1/completions", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_GET, "/v1/embeddings", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_POST, "/v1/models", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_DELETE, "/v1/models/x", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_GET, "/v1/modelsx", 405, "method not allowed", oa); /* as before */
    /* a translated path with a trailing '/' is never passed through raw */
    const char *slash = "unknown endpoint (no trailing '/' on this path)";
    refused(EVHTTP_REQ_POST, "/v1/chat/completions/", 404, slash, oa);
    refused(EVHTTP_REQ_POST, "/v1/completions/", 404, slash, oa);
    refused(EVHTTP_REQ_GET, "/v1/embeddings/", 404, slash, oa);
    refused(EVHTTP_REQ_GET, "/v1/responses", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_DELETE, "/v1/responses", 405, "method not allowed", oa);
    refused(EVHTTP_REQ_GET, "/v1", 404, "404 page not found", nat);
    refused(EVHTTP_REQ_POST, "/", 404, "404 page not found", nat);
    refused(EVHTTP_REQ_GET, "/api", 404, "404 page not found", nat);
    refused(EVHTTP_REQ_GET, "/other", 404, "404 page not found", nat);
    assert_ptr_equal(endpoint_errors_for("/v1/x")->error_new, oa->error_new);
    assert_ptr_equal(endpoint_errors_for("/api/x")->error_new, nat->error_new);
}

static void envelope_is(const struct endpoint *ep, const char *want) {
    json_t *e = ep->error_new(404, "nope", NULL);
    char *text = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(text, want);
    free(text);
    json_decref(e);
}

static void test_envelopes(void **state) {
    (void)state;
    envelope_is(&endpoint_openai_chat,
                "{\"error\":{\"code\":null,\"message\":\"nope\",\"param\":null,"
                "\"type\":\"not_found_error\"}}");
    envelope_is(&endpoint_native_inject, "{\"error\":\"nope\"}");
    envelope_is(&endpoint_native_pass, "{\"error\":\"nope\"}");
    /* The front door's answers (server.c's frontdoor_reply) are these envelopes dumped compact,
     * in their own key order: the bytes it wrote before it asked the entry. */
    const struct {
        const struct endpoint *ep;
        int status;
        const char *want;
    } fd[] = {
        {&endpoint_openai_chat, 408,
         "{\"error\":{\"message\":\"slow\",\"type\":\"api_error\",\"param\":null,\"code\":null}}"},
        {&endpoint_openai_chat, 400,
         "{\"error\":{\"message\":\"slow\",\"type\":\"invalid_request_error\",\"param\":null,"
         "\"code\":null}}"},
        {&endpoint_native_pass, 413, "{\"error\":\"slow\"}"},
    };
    for (size_t i = 0; i < sizeof(fd) / sizeof(fd[0]); i++) {
        json_t *e = endpoint_errors_for(fd[i].ep == &endpoint_openai_chat ? "/v1/x" : "/api/x")
                        ->error_new(fd[i].status, "slow", NULL);
        char *text = json_dumps(e, JSON_COMPACT);
        assert_string_equal(text, fd[i].want);
        free(text);
        json_decref(e);
    }
}

/* Every entry the table routes to has what the relay calls for it. */
static void test_entries_complete(void **state) {
    (void)state;
    const struct endpoint *all[] = {&endpoint_openai_chat,       &endpoint_openai_completions,
                                    &endpoint_openai_embeddings, &endpoint_openai_models,
                                    &endpoint_openai_model,      &endpoint_native_inject,
                                    &endpoint_native_pass,       &endpoint_openai_responses};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const struct endpoint *ep = all[i];
        assert_non_null(ep->name);
        assert_non_null(ep->error_new);
        if (ep->flags & EP_PASSTHROUGH)
            continue;
        assert_non_null(ep->native_method);
        assert_non_null(ep->native_path);
        assert_non_null(ep->native_error_new);
        assert_non_null(ep->answer);
        assert_non_null(ep->stream_event);
        if (ep->stream_type)
            assert_true(ep->stream_size > 0 && ep->stream_open && ep->stream_line &&
                        ep->stream_end);
    }
}

static void test_request_without_body(void **state) {
    (void)state;
    struct config c;
    struct request_out out;
    struct api_err err;
    char cerr[256];
    assert_int_equal(config_init(&c, NULL, cerr, sizeof(cerr)), 0);
    assert_int_equal(request_build(&endpoint_openai_models, &c, "/v1/models", NULL, 0, &out, &err),
                     0);
    assert_string_equal(out.path, "/api/tags");
    assert_null(out.body);
    assert_null(out.model);
    request_out_cleanup(&out);
    assert_int_equal(
        request_build(&endpoint_openai_model, &c, "/v1/models/a/b:c", NULL, 0, &out, &err), 0);
    assert_string_equal(out.path, "/api/show");
    assert_string_equal(out.body, "{\"model\":\"a/b:c\"}");
    assert_string_equal(out.model, "a/b:c");
    request_out_cleanup(&out);
    assert_int_equal(request_build(&endpoint_openai_model, &c, "/v1/models/", NULL, 0, &out, &err),
                     -1);
    assert_int_equal(err.status, 404);
    assert_string_equal(err.message, "model id is empty");
    assert_int_equal(
        request_build(&endpoint_openai_chat, &c, "/v1/chat/completions", NULL, 0, &out, &err), -1);
    assert_int_equal(err.status, 400);
    assert_string_equal(err.message, "missing request body");
    config_free(&c);
}

static void usage_is(const char *tail, long long prompt, long long completion) {
    struct endpoint_usage u = {-1, -1};
    endpoint_native_inject.pass_usage(tail, strlen(tail), &u);
    if (u.prompt_tokens != prompt || u.completion_tokens != completion)
        fail_msg("%s: %lld/%lld, want %lld/%lld", tail, u.prompt_tokens, u.completion_tokens,
                 prompt, completion);
}

/* The native inject entry's token counts, from the end of Ollama's answer. */
static void test_native_usage(void **state) {
    (void)state;
    assert_null(endpoint_native_pass.pass_usage); /* nothing else counts */
    usage_is("{\"model\":\"m\",\"done\":true,\"done_reason\":\"stop\",\"total_duration\":9,"
             "\"prompt_eval_count\":26,\"prompt_eval_duration\":1,\"eval_count\":290,"
             "\"eval_duration\":2}\n",
             26, 290);
    /* a stream: only the last line counts, trailing blanks aside */
    usage_is("{\"eval_count\":1}\n{\"done\":true,\"prompt_eval_count\":3,\"eval_count\":4}\r\n\n",
             3, 4);
    usage_is("{\"prompt_eval_count\":7,\"eval_count\":8}\n{\"error\":\"runner died\"}\n", 0, 0);
    /* the tail starts mid-line (a long context before): the counts are at its end */
    usage_is("1,2,3],\"total_duration\":5,\"prompt_eval_count\":12,\"eval_count\":34}", 12, 34);
    /* escaped quotes in content are never a key */
    usage_is("{\"response\":\"x\\\"eval_count\\\":99\",\"done\":true,\"eval_count\":5}", 0, 5);
    usage_is("{\"message\":{\"content\":\"\\\"prompt_eval_count\\\":9\"},\"done\":false}", 0, 0);
    /* /api/embed: prompt tokens only; nothing at all; an absurd number capped at 18 digits */
    usage_is("{\"model\":\"e\",\"embeddings\":[[0.1]],\"prompt_eval_count\":6}", 6, 0);
    usage_is("", 0, 0);
    usage_is("{\"eval_count\":123456789012345678901234}", 0, 123456789012345678LL);
}

/* endpoint_add_json writes what json_dumps writes, at every size around its 16 KiB buffer:
 * tokens that fill it exactly, overflow it by one, and a single token larger than it. */
static void test_add_json_sizes(void **state) {
    (void)state;
    size_t sizes[] = {0, 1, 16000, 16370, 16380, 16384, 16385, 40000, 100000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        for (int shape = 0; shape < 2; shape++) {
            json_t *v = json_array();
            if (shape == 0) { /* one long string token */
                char *t = malloc(sizes[i] + 1);
                assert_non_null(t);
                memset(t, 'x', sizes[i]);
                t[sizes[i]] = '\0';
                json_array_append_new(v, json_string(t));
                free(t);
            } else { /* many small tokens */
                for (size_t k = 0; k < sizes[i] / 8; k++)
                    json_array_append_new(v, json_integer((json_int_t)k));
            }
            char *want = json_dumps(v, JSON_COMPACT);
            struct evbuffer *b = evbuffer_new();
            endpoint_add_json(b, v);
            size_t n = evbuffer_get_length(b);
            assert_int_equal(n, strlen(want));
            assert_memory_equal(evbuffer_pullup(b, -1), want, n);
            evbuffer_free(b);
            free(want);
            json_decref(v);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_usage),
        cmocka_unit_test(test_add_json_sizes),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_envelopes),
        cmocka_unit_test(test_entries_complete),
        cmocka_unit_test(test_request_without_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
