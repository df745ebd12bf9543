/* The OpenAI request fast path (jscan + reqfast) against the jansson path (json_loadb,
 * openai_*_request_new, policy_apply, json_dumps): every golden request of $TRANSLATE_CASES
 * and a set of hand-made bodies, as chat and as completion requests, under configurations
 * with and without pinned options and both keep_alive policies, must come out json_equal with
 * the same meta and model (or be declined); enough of them must take the fast path; and the
 * exact bytes for the common shape. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openai_fields.h"
#include "reqfast_equiv.h"

#define MSG    "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]"
#define PROMPT "\"prompt\":\"Hi\""

/* Hand-made bodies; want_chat / want_completion: 1 when the fast path must take it under the
 * plain configuration and the override policy, 0 when it must decline, -1 either. As a
 * completion request, a body's MSG is PROMPT (as_completion). */
static const struct {
    const char *body;
    int want_chat, want_completion;
} cases[] = {
    /* the common shapes */
    {"{\"model\":\"llama3.2\"," MSG "}", 1, 1},
    {"{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
     "{\"role\":\"user\",\"content\":\"Why is the sky blue?\"},{\"role\":\"assistant\","
     "\"content\":\"Rayleigh.\"},{\"role\":\"user\",\"content\":\"More\"}],\"temperature\":0.7}",
     1, 0},
    {"{\"model\":\"m\"," MSG ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"stream\":false,\"stream_options\":{\"include_usage\":false,"
     "\"x\":[1]}}",
     1, 1},
    {"{\"model\":\"m\"," MSG ",\"stream_options\":{\"include_usage\":null}}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"stream_options\":null,\"stream\":null}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"max_tokens\":100,\"top_p\":0.9,\"seed\":42,\"stop\":\"\\n\","
     "\"frequency_penalty\":0.5,\"presence_penalty\":-0.5,\"n\":1}",
     1, 1},
    /* fails closed: a member the fast path does not take, even one the translation ignores */
    {"{\"model\":\"m\"," MSG ",\"user\":\"u1\"}", 0, 0},
    {"{\"model\":\"m\",\"prompt\":\"\",\"echo\":true,\"best_of\":3}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"max_completion_tokens\":7,\"max_tokens\":100}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"max_tokens\":-3,\"seed\":-0,\"num_ctx\":8192}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"stop\":[\"a\",\"b\\u00e9\"],\"temperature\":1e-3}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"stop\":[]}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"top_p\":0}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"top_p\":-0.0e5}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"top_p\":1e-390}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"temperature\":3.0,\"top_p\":6}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"options\":{\"num_ctx\":8192,\"temperature\":0.2,\"top_p\":0.1,"
     "\"num_gpu\":99,\"stop\":[\"x\"],\"frequency_penalty\":1}}",
     1, 1},
    {"{\"model\":\"m\"," MSG ",\"options\":{\"temperature\":0.2},\"temperature\":0.9,"
     "\"num_ctx\":4096,\"options\":{}}",
     0, 0}, /* duplicate key */
    {"{\"model\":\"m\"," MSG ",\"options\":{\"temperature\":0.2,\"num_predict\":5},"
     "\"temperature\":0.9,\"max_tokens\":9,\"num_ctx\":4096,\"stop\":\"s\",\"top_p\":0}",
     1, 1},
    {"{\"model\":\"m\"," MSG ",\"options\":{}}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"options\":null}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":\"5m\"}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":\"-1\"}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":-1}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":null}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":\"1d\"}", 1, 1}, /* override: ours anyway */
    {"{\"model\":\"m\"," MSG ",\"keep_alive\":true}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"_debug_render_only\":true}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"_debug_render_only\":false}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"logprobs\":false,\"top_logprobs\":0,\"tools\":[],"
     "\"reasoning_effort\":\"\",\"tool_choice\":null,\"response_format\":null}",
     1, 0},
    {" {\n \"model\" : \"m\" ,\r\n \"messages\" : [ { \"content\" : \"x\\\"y\\\\\" , \"role\" : "
     "\"user\" , \"name\" : \"bob\" } , {\"role\":\"developer\",\"content\":\"\"} ] } \n",
     1, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud83d\\ude00 \\u00e9 "
     "\xc3\xa9 \\/\\b\\f\\n\\r\\t\",\"images\":null,\"extra\":{\"a\":[1,{\"b\":\"]}\"}]}}]}",
     1, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"reasoning\":null,"
     "\"tool_calls\":null,\"tool_call_id\":null,\"name\":null}]}",
     1, 0},
    {"{\"model\":\"m\\u00e9\\/x\"," MSG "}", 1, 1},
    {"{\"model\":\"m\",\"prompt\":\"Once upon\",\"suffix\":\"end\",\"max_tokens\":5}", 0, 1},
    {"{\"model\":\"m\",\"prompt\":\"Once upon\",\"suffix\":\"\",\"logprobs\":0}", 0, 1},
    {"{\"model\":\"m\",\"prompt\":\"\",\"logprobs\":-2}", 0, 1},
    {"{\"model\":\"m\",\"prompt\":null,\"suffix\":null,\"logprobs\":null}", 0, 1},
    {"{\"model\":\"m\"}", 0, 1},
    /* declined: what the translation treats specially, or refuses */
    {"{\"model\":\"m\",\"prompt\":\"p\",\"logprobs\":2}", 0, 0},
    {"{\"model\":\"m\",\"prompt\":[\"p\"]}", 0, 0},
    {"{\"model\":\"m\",\"prompt\":\"p\",\"suffix\":1}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"logprobs\":true}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"top_logprobs\":3}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}",
     0, 0},
    {"{\"model\":\"m\"," MSG ",\"tool_choice\":\"auto\"}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":{\"type\":\"json_object\"}}", 1, 0},
    {"{\"model\":\"m\"," MSG
     ",\"response_format\":{\"type\":\"text\",\"x\":1,\"json_schema\":null}}",
     1, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":{\"type\":\" JSON_object\"}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
     "{\"schema\":{}}}}",
     0, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":{\"type\":\"text\",\"json_schema\":1}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":{}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"response_format\":\"json\"}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"reasoning_effort\":\"high\"}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"reasoning\":{}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"n\":2}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"n\":1.0}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"n\":0}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"max_tokens\":100.0}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"max_tokens\":\"100\"}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"seed\":1e2}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"temperature\":\"hot\"}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"stream\":1}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"stream_options\":true}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"stream_options\":{\"include_usage\":1}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"stop\":[\"a\",1]}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"stop\":{}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"options\":[]}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"_debug_render_only\":1}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"num_ctx\":1.5}", 0, 0},
    {"{\"model\":\"\"," MSG "}", 0, 0},
    {"{\"model\":null," MSG "}", 0, 0},
    {"{\"model\":7," MSG "}", 0, 0},
    {"{" MSG "}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":{}}", 0, 0},
    {"{\"model\":\"m\",\"messages\":null}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[\"hi\"]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"tool\",\"content\":\"42\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"TooL\",\"content\":\"42\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"\\u0074ool\",\"content\":\"42\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":null}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
     "\"text\":\"hi\"}]}]}",
     0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"name\":3}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
     "[{\"id\":\"c\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]}",
     0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":\"a\",\"reasoning\":"
     "\"r\"}]}",
     0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"role\":\"x\"}]}", 0, 0},
    {"{\"model\":\"pinned\"," MSG "}", -1, -1},
    {"{\"model\":\"capped\"," MSG ",\"max_tokens\":1000}", -1, -1},
    {"{\"model\":\"only-ka\"," MSG ",\"keep_alive\":\"10s\"}", 1, 1},
    {"{\"model\":\"m\"," MSG ",}", 0, 0},
    {"{\"model\":\"m\"," MSG "} x", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\\u0000\"}]}", 0, 0},
    {"{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\"}]}", 0, 0},
    {"[]", 0, 0},
    {"", 0, 0},
    /* keys Go would fold onto the ones the translation reads or writes: declined here,
     * refused by the translation */
    {"{\"model\":\"m\"," MSG ",\"KEEP_ALIVE\":0}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"Options\":{\"num_ctx\":131072}}", 0, 0},
    {"{\"Model\":\"other\",\"model\":\"m\"," MSG "}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"Stream\":true}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"\xE2\x84\xAA"
     "eep_alive\":0}",
     0, 0},
    {"{\"model\":\"m\"," MSG ",\"option\xC5\xBF\":{}}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"\\u212Aeep_alive\":0}", 0, 0},
    {"{\"model\":\"m\"," MSG ",\"User\":\"u\"}", 0, 0},
    /* not variants: inside options (exact in Ollama) and '-' for '_' (which the translation
     * ignores, and the fast path, failing closed, declines) */
    {"{\"model\":\"m\"," MSG ",\"options\":{\"NUM_CTX\":1}}", 1, 1},
    {"{\"model\":\"m\"," MSG ",\"keep-alive\":0}", 0, 0},
};

/* The configurations: plain; pinned models (with test-model, the golden cases' model). */
static void config_for(struct config *c, int which, enum keep_alive_policy policy) {
    char err[CONFIG_ERR_LEN];
    static const char *const sets[][3] = {
        {NULL, "keep_alive", "10m"},         {"pinned", "num_ctx", "8192"},
        {"capped", "num_predict_max", "64"}, {"only-ka", "keep_alive", "90s"},
        {"test-model", "num_ctx", "4096"},
    };
    assert_int_equal(config_init(c, NULL, err, sizeof(err)), 0);
    c->keep_alive_policy = policy;
    if (which == 0)
        return;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        assert_int_equal(config_set(c, sets[i][0], sets[i][1], sets[i][2], err, sizeof(err)), 0);
}

static int taken, declined;

/* Both ways under every configuration; returns the outcome under the plain one with the
 * override policy. */
static int both_ways(int completion, const char *body, size_t len, const char *what) {
    int first = -1;
    for (int which = 0; which < 2; which++)
        for (int policy = 0; policy < 2; policy++) {
            struct config c;
            char why[2048];
            config_for(&c, which, policy ? KEEP_ALIVE_DEFAULT : KEEP_ALIVE_OVERRIDE);
            enum reqfast_outcome rc = reqfast_compare(&c, completion, body, len, why, sizeof(why));
            config_free(&c);
            if (rc == REQFAST_MISMATCH)
                fail_msg("%s %s (config %d, policy %d): %s", completion ? "completion" : "chat",
                         what, which, policy, why);
            taken += rc == REQFAST_TAKEN;
            declined += rc == REQFAST_DECLINED;
            if (first < 0)
                first = rc == REQFAST_TAKEN;
        }
    return first;
}

/* A case as a completion request: its MSG, a member completions do not take (reqfast fails
 * closed), becomes PROMPT, so the rest of the body is still tried on the completion path. */
static char *as_completion(const char *body) {
    const char *at = strstr(body, MSG);
    size_t n = strlen(body) + sizeof(PROMPT);
    char *out = malloc(n);
    assert_non_null(out);
    if (!at)
        snprintf(out, n, "%s", body);
    else
        snprintf(out, n, "%.*s%s%s", (int)(at - body), body, PROMPT, at + strlen(MSG));
    return out;
}

static void test_hand_made(void **state) {
    (void)state;
    int wrong = 0;
    taken = declined = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *b = cases[i].body;
        char *cb = as_completion(b);
        int chat = both_ways(0, b, strlen(b), b);
        int completion = both_ways(1, cb, strlen(cb), cb);
        if (cases[i].want_chat >= 0 && chat != cases[i].want_chat) {
            print_message("chat %s: want %s\n", b, cases[i].want_chat ? "fast path" : "declined");
            wrong++;
        }
        if (cases[i].want_completion >= 0 && completion != cases[i].want_completion) {
            print_message("completion %s: want %s\n", cb,
                          cases[i].want_completion ? "fast path" : "declined");
            wrong++;
        }
        free(cb);
    }
    assert_int_equal(wrong, 0);
    assert_true(taken > 150);
    assert_true(declined > 150);
}

/* reqfast fails closed: a top-level member that openai_fields.h does not mark as taken by the
 * api's fast path makes it decline, whatever its value, so a member the jansson translation
 * maps is never dropped; every member it does take, given as null (absent), keeps the common
 * body on the fast path. */
static int fast_takes(const struct config *c, int completion, const char *body) {
    struct jscan scan;
    struct openai_meta meta;
    size_t n;
    if (jscan_body(body, strlen(body), &scan) < 0)
        return 0;
    char *out = (completion ? reqfast_completion_new : reqfast_chat_new)(c, body, strlen(body),
                                                                         &scan, &meta, &n, NULL);
    free(out);
    return out != NULL;
}

static void test_fails_closed(void **state) {
    static const char *const unknown[] = {"user",   "metadata", "store",      "zzz",
                                          "model_", "mode",     "keep-alive", "_debug"};
    static const char *const values[] = {"null", "1", "\"x\"", "[]", "{}", "true"};
    struct config c;
    char body[512];
    (void)state;
    config_for(&c, 0, KEEP_ALIVE_OVERRIDE);
    for (int completion = 0; completion < 2; completion++) {
        const char *base =
            completion ? "{\"model\":\"m\",\"prompt\":\"Hi\"" : "{\"model\":\"m\"," MSG;
        unsigned api = completion ? OF_API_COMPLETION : OF_API_CHAT;
        snprintf(body, sizeof(body), "%s}", base);
        assert_true(fast_takes(&c, completion, body));
        for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
            for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
                snprintf(body, sizeof(body), "%s,\"%s\":%s}", base, unknown[i], values[v]);
                if (fast_takes(&c, completion, body))
                    fail_msg("%s took %s", completion ? "completion" : "chat", body);
            }
        for (int id = 0; id < OF_COUNT; id++) {
            const struct openai_field_row *f = &openai_fields[id];
            if (id == OF_MODEL || (completion ? id == OF_PROMPT : id == OF_MESSAGES))
                continue; /* in the base body already */
            for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
                snprintf(body, sizeof(body), "%s,\"%s\":%s}", base, f->name, values[v]);
                int took = fast_takes(&c, completion, body);
                if (!(f->fast & api) && took)
                    fail_msg("%s took %s, a member its fast path does not take",
                             completion ? "completion" : "chat", body);
                if ((f->fast & api) && v == 0 && !took)
                    fail_msg("%s declined %s (null counts as absent)",
                             completion ? "completion" : "chat", body);
            }
        }
    }
    config_free(&c);
}

/* The table itself: names unique and found, fast a subset of used, the NULL-terminated list. */
static void test_field_table(void **state) {
    (void)state;
    for (int i = 0; i < OF_COUNT; i++) {
        const struct openai_field_row *f = &openai_fields[i];
        assert_int_equal(f->len, strlen(f->name));
        assert_int_equal(openai_field_find(f->name, f->len), i);
        assert_true((f->fast & ~f->used) == 0);
        assert_true((f->fast & OF_API_EMBED) == 0); /* no fast path for embeddings */
        assert_string_equal(openai_field_names[i], f->name);
    }
    assert_null(openai_field_names[OF_COUNT]);
    assert_int_equal(openai_field_find("mode", 4), -1);
    assert_int_equal(openai_field_find("models", 6), -1);
    assert_int_equal(openai_field_find("Model", 5), -1);
    assert_int_equal(openai_field_find("", 0), -1);
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* The golden case's kind: 0 chat, 1 completion, -1 anything else. */
static int case_kind(const char *dir) {
    char path[1100];
    size_t len;
    snprintf(path, sizeof(path), "%s/case.json", dir);
    char *text = read_text(path, &len);
    if (!text)
        return 0;
    json_t *c = json_loads(text, 0, NULL);
    const char *kind = json_string_value(json_object_get(c, "kind"));
    int k = !kind || !strcmp(kind, "chat") ? 0 : !strcmp(kind, "completion") ? 1 : -1;
    json_decref(c);
    free(text);
    return k;
}

/* Every request.json of the golden cases, as its own kind and as the other one. */
static void test_golden(void **state) {
    (void)state;
    const char *root = getenv("TRANSLATE_CASES") ? getenv("TRANSLATE_CASES") : "tests/translate";
    DIR *d = opendir(root);
    struct dirent *e;
    int files = 0, fast = 0;
    taken = declined = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        char dir[1024], path[1100];
        size_t len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
        snprintf(path, sizeof(path), "%s/request.json", dir);
        char *text = read_text(path, &len);
        if (!text)
            continue;
        int kind = case_kind(dir);
        for (int completion = 0; completion < 2; completion++)
            if (both_ways(completion, text, len, path) == 1 && completion == kind)
                fast++;
        free(text);
        files += kind >= 0;
    }
    closedir(d);
    print_message("golden: %d chat/completion requests, %d on the fast path as their kind\n", files,
                  fast);
    assert_true(files > 80);
    assert_true(fast >= 20);
}

/* The exact bytes of the common shape. */
static void expect_fast(const struct config *c, int completion, const char *in, const char *want,
                        int stream, int usage) {
    struct jscan scan;
    struct openai_meta meta = {-1, -1, -1};
    size_t len = 0;
    assert_int_equal(jscan_body(in, strlen(in), &scan), 0);
    char *out = completion ? reqfast_completion_new(c, in, strlen(in), &scan, &meta, &len, NULL)
                           : reqfast_chat_new(c, in, strlen(in), &scan, &meta, &len, NULL);
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(meta.stream, stream);
    assert_int_equal(meta.include_usage, usage);
    assert_int_equal(meta.encoding_b64, 0);
    free(out);
}

static void test_exact(void **state) {
    (void)state;
    struct config c;
    config_for(&c, 1, KEEP_ALIVE_OVERRIDE);
    expect_fast(&c, 0,
                "{\"model\":\"llama3.2:3b\",\"messages\":[{\"role\":\"system\",\"content\":\"You "
                "are a helpful assistant.\"},{\"role\":\"user\",\"content\":\"Why is the sky "
                "blue?\"}],\"temperature\":0.7}",
                "{\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful "
                "assistant.\"},{\"role\":\"user\",\"content\":\"Why is the sky blue?\"}],"
                "\"model\":\"llama3.2:3b\",\"stream\":false,\"options\":{\"temperature\":0.7,\"top_"
                "p\":1.0},"
                "\"keep_alive\":600}",
                0, 0);
    expect_fast(&c, 0,
                "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\",\"name\":"
                "\"n\"}],\"stream\":true,\"stream_options\":{\"include_usage\":true},\"stop\":"
                "\"x\",\"options\":{\"top_p\":0.5,\"seed\":3},\"seed\":4,\"max_tokens\":9}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"model\":\"m\",\"stream\":"
                "true,\"options\":{\"top_p\":0.5,\"num_predict\":9,\"temperature\":1.0,\"seed\":4,"
                "\"stop\":[\"x\"]},\"keep_alive\":600}",
                1, 1);
    expect_fast(&c, 1, "{\"model\":\"m\",\"prompt\":\"p\",\"suffix\":\"s\",\"top_p\":0}",
                "{\"model\":\"m\",\"prompt\":\"p\",\"suffix\":\"s\",\"stream\":false,\"options\":"
                "{\"temperature\":1.0,\"top_p\":1.0,\"frequency_penalty\":0.0,\"presence_penalty\":"
                "0.0},\"keep_alive\":600}",
                0, 0);
    c.keep_alive_policy = KEEP_ALIVE_DEFAULT;
    expect_fast(&c, 1, "{\"model\":\"only-ka\",\"keep_alive\":\"-1\"}",
                "{\"model\":\"only-ka\",\"prompt\":\"\",\"stream\":false,\"options\":{"
                "\"temperature\":1.0,\"top_p\":1.0,\"frequency_penalty\":0.0,\"presence_penalty\":"
                "0.0},\"keep_alive\":-1}",
                0, 0);
    config_free(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made),   cmocka_unit_test(test_golden),
        cmocka_unit_test(test_exact),       cmocka_unit_test(test_fails_closed),
        cmocka_unit_test(test_field_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
