/* The non-stream fast path (openai_fast.h) must write exactly what the jansson path writes
 * (json_loadb, openai_{chat,completion}_response_new, json_dumpb compact, as relay.c does):
 * every non-stream golden case, every native stream line, and a set of awkward bodies are run
 * both ways, and whenever the fast path answers its bytes must equal the jansson path's dump. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "openai.h"
#include "openai_fast.h"

enum kind { CHAT, COMPLETION };

static int fast_hits;

/* The jansson path: the dump, or NULL when the body does not parse. Tokens as relay's
 * note_tokens reads them. */
static char *slow(enum kind k, const char *body, size_t len, const char *id,
                  struct openai_fast_usage *u) {
    json_t *native = json_loadb(body, len, 0, NULL);
    if (!native)
        return NULL;
    json_t *out = k == CHAT ? openai_chat_response_new(native, id)
                            : openai_completion_response_new(native, id);
    u->prompt_tokens = u->completion_tokens = 0;
    if (json_is_true(json_object_get(native, "done"))) {
        u->prompt_tokens = json_integer_value(json_object_get(native, "prompt_eval_count"));
        u->completion_tokens = json_integer_value(json_object_get(native, "eval_count"));
    }
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    json_decref(out);
    json_decref(native);
    return text;
}

static size_t fast(enum kind k, const char *body, size_t len, const char *id, char *out,
                   size_t outlen, struct openai_fast_usage *u) {
    return k == CHAT ? openai_chat_response_fast(body, len, id, out, outlen, u)
                     : openai_completion_response_fast(body, len, id, out, outlen, u);
}

/* Runs body both ways. expect: 1 the fast path must answer, 0 it must not, -1 either. */
static void both_ways(enum kind k, const char *body, size_t len, int expect, const char *what) {
    const char *id = k == CHAT ? "chatcmpl-test" : "cmpl-test";
    size_t cap = len + OPENAI_FAST_SLACK;
    char *out = malloc(cap);
    struct openai_fast_usage fu = {-7, -7}, su;
    assert_non_null(out);
    size_t n = fast(k, body, len, id, out, cap, &fu);
    if (expect >= 0 && (n > 0) != expect)
        fail_msg("%s: fast path %s: %.*s", what, n ? "answered" : "fell back", (int)len, body);
    if (!n) {
        assert_int_equal(fu.prompt_tokens, -7); /* untouched */
        free(out);
        return;
    }
    fast_hits++;
    char *ref = slow(k, body, len, id, &su);
    if (!ref)
        fail_msg("%s: fast path answered a body jansson refuses: %.*s", what, (int)len, body);
    if (strlen(ref) != n || memcmp(ref, out, n) != 0)
        fail_msg("%s:\n slow %s\n fast %.*s", what, ref, (int)n, out);
    json_t *a = json_loadb(out, n, 0, NULL), *b = json_loads(ref, 0, NULL);
    assert_non_null(a);
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    assert_int_equal(fu.prompt_tokens, su.prompt_tokens);
    assert_int_equal(fu.completion_tokens, su.completion_tokens);
    /* One byte short: nothing. */
    struct openai_fast_usage tu = {-7, -7};
    assert_int_equal(fast(k, body, len, id, out, n - 1, &tu), 0);
    assert_int_equal(tu.prompt_tokens, -7);
    free(ref);
    free(out);
}

static void both(enum kind k, const char *body, int expect, const char *what) {
    both_ways(k, body, strlen(body), expect, what);
}

#define HEAD "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-07-01T12:00:00.123456789Z\","
#define TAIL                                                                                       \
    "\"done_reason\":\"stop\",\"done\":true,\"total_duration\":5043500667,\"load_duration\":"      \
    "5025959,\"prompt_eval_count\":26,\"prompt_eval_duration\":325953000,\"eval_count\":290,"      \
    "\"eval_duration\":4709213000}"
#define MSG(content) "\"message\":{\"role\":\"assistant\",\"content\":\"" content "\"},"

static void test_chat_shapes(void **state) {
    (void)state;
    both(CHAT, HEAD MSG("Hello there!") TAIL, 1, "plain");
    both(CHAT,
         HEAD MSG("a \\\"q\\\"\\n\\t\\\\ \\/ \\b\\f\\r \\u00e9 \\u00C9 \\u003cb\\u003e \\u0026 "
                  "\\ud83d\\ude00 \\u001f \\u0001 \\u007f \\u2028 \\u0022 \\u005c \\u002f") TAIL,
         1, "escapes");
    both(CHAT, HEAD MSG("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82 \x7f") TAIL, 1, "raw UTF-8");
    both(CHAT,
         " \n{ \"done\" : true ,\t\"message\" : { \"content\" : \"x\" , \"role\" : \"assistant\" } "
         ", \"created_at\" : \"2009-02-13T23:31:30Z\" , \"model\" : \"m\" }\r\n ",
         1, "reordered, spaced");
    both(CHAT, HEAD MSG("x") "\"done\":true}", 1, "no done_reason, no counts");
    both(CHAT, HEAD MSG("x") "\"done_reason\":\"\",\"done\":true}", 1, "empty done_reason");
    both(CHAT, HEAD MSG("x") "\"done_reason\":\"length\",\"done\":true}", 1, "length");
    both(CHAT, HEAD MSG("x") "\"done_reason\":\"unl\\u006fad\",\"done\":true}", 1, "odd reason");
    both(CHAT, HEAD "\"message\":{\"role\":\"\",\"content\":\"x\"},\"done\":true}", 1, "no role");
    both(CHAT, HEAD "\"message\":{\"content\":\"x\"},\"done\":true}", 1, "role absent");
    both(CHAT, HEAD "\"message\":{\"role\":\"tool\"},\"done\":true}", 1, "content absent");
    both(CHAT, HEAD "\"message\":{},\"done\":true}", 1, "empty message");
    both(CHAT, HEAD "\"done\":true}", 1, "no message");
    both(CHAT, "{\"created_at\":\"2009-02-13T23:31:30Z\"," MSG("x") "\"done\":true}", 1,
         "no model");
    both(CHAT,
         "{\"model\":\"m\\u00e9\\\"\",\"created_at\":\"2009-02-13T23:31:30+02:00\"," MSG(
             "x") "\"done\":true}",
         1, "escaped model, offset time");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":1000000000000000}", 1, "count max");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":0,\"total_duration\":-0}", 1, "zeros");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"total_duration\":999999999999999999}", 1,
         "18 digits");
    both(CHAT, HEAD MSG("") TAIL, 1, "empty content");

    /* fall back */
    both(CHAT, HEAD MSG("x") "\"done\":false}", 0, "done false");
    both(CHAT, HEAD MSG("x") "\"done_reason\":\"stop\"}", 0, "no done");
    both(CHAT,
         HEAD "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hm\"}," TAIL, 0,
         "thinking");
    both(CHAT,
         HEAD "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
              "{\"name\":\"f\",\"arguments\":{}}}]}," TAIL,
         0, "tool calls");
    both(CHAT, HEAD "\"message\":{\"role\":\"assistant\",\"content\":\"\",\"images\":null}," TAIL,
         0, "images");
    both(CHAT, HEAD MSG("x") "\"logprobs\":[{\"token\":\"x\",\"logprob\":-0.5}]," TAIL, 0,
         "logprobs");
    both(CHAT, HEAD MSG("x") "\"remote_model\":\"r\"," TAIL, 0, "unknown member");
    both(CHAT, HEAD MSG("x") "\"model\":\"n\"," TAIL, 0, "duplicate model");
    both(CHAT, HEAD "\"message\":{\"role\":\"a\",\"role\":\"b\"}," TAIL, 0, "duplicate role");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"total_duration\":99999999999999999999}", 0,
         "too big integer");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"total_duration\":1e3}", 0, "real duration");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":3.0}", 0, "real count");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":-1}", 0, "negative count");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":1000000000000001}", 0, "count past max");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":01}", 0, "leading zero");
    both(CHAT, HEAD MSG("x") "\"done\":true,\"eval_count\":null}", 0, "null count");
    both(CHAT, HEAD MSG("a\\u0000b") TAIL, 0, "NUL escape");
    both(CHAT, HEAD MSG("\\ud800") TAIL, 0, "lone high surrogate");
    both(CHAT, HEAD MSG("\\udc00x") TAIL, 0, "lone low surrogate");
    both(CHAT, HEAD MSG("\\ud800\\u0041") TAIL, 0, "high surrogate, no low");
    both(CHAT, HEAD MSG("\\u12") TAIL, 0, "short escape");
    both(CHAT, HEAD MSG("\\x") TAIL, 0, "unknown escape");
    both(CHAT, HEAD MSG("\xff") TAIL, 0, "invalid byte");
    both(CHAT, HEAD MSG("\xc0\x80") TAIL, 0, "overlong");
    both(CHAT, HEAD MSG("\xed\xa0\x80") TAIL, 0, "encoded surrogate");
    both(CHAT, HEAD MSG("\xf4\x90\x80\x80") TAIL, 0, "past U+10FFFF");
    both(CHAT, HEAD MSG("\xe2\x82") TAIL, 0, "cut sequence");
    both(CHAT, HEAD MSG("tab\there") TAIL, 0, "raw control byte");
    both(CHAT, "{\"model\":\"m\"," MSG("x") "\"done\":true}", 0, "no created_at");
    both(CHAT, "{\"created_at\":\"yesterday\"," MSG("x") "\"done\":true}", 0, "bad created_at");
    both(CHAT, "{\"created_at\":\"0001-01-01T00:00:00Z\"," MSG("x") "\"done\":true}", 0,
         "zero time");
    both(CHAT, "{\"created_at\":\"2009-02-13T23:31:30\\u005a\"," MSG("x") "\"done\":true}", 0,
         "escaped created_at");
    both(CHAT, HEAD MSG("x") TAIL "x", 0, "trailing garbage");
    both(CHAT, HEAD MSG("x") TAIL "{}", 0, "two objects");
    both(CHAT, HEAD MSG("x") "\"done\":true,}", 0, "trailing comma");
    both(CHAT, HEAD MSG("x") "\"done\":truex}", 0, "bad literal");
    both(CHAT, "{\"mod\\u0065l\":\"m\",\"created_at\":\"2009-02-13T23:31:30Z\",\"done\":true}", 0,
         "escaped key");
    both(CHAT, HEAD "\"message\":null,\"done\":true}", 0, "null message");
    both(CHAT, HEAD "\"message\":{\"content\":null},\"done\":true}", 0, "null content");
    both(CHAT, HEAD "\"message\":{\"content\":7},\"done\":true}", 0, "number content");
    both(CHAT, HEAD "\"response\":\"x\",\"done\":true}", 0, "response in chat");
    both(CHAT, "", 0, "empty body");
    both(CHAT, "[]", 0, "array");
    both(CHAT, "{}", 0, "empty object");
    const char *plain = HEAD MSG("x") TAIL;
    for (size_t cut = 0; cut < strlen(plain); cut++)
        both_ways(CHAT, plain, cut, 0, "truncated");
    /* an embedded NUL byte */
    static const char nul[] = HEAD MSG("a\0b") TAIL;
    both_ways(CHAT, nul, sizeof(nul) - 1, 0, "raw NUL");

    /* ids the output cannot carry as they are */
    char out[1024];
    struct openai_fast_usage u;
    assert_int_equal(openai_chat_response_fast(plain, strlen(plain), "a\"b", out, sizeof(out), &u),
                     0);
    assert_int_equal(openai_chat_response_fast(plain, strlen(plain),
                                               "0123456789012345678901234567890123456789012345678"
                                               "901234567890123456789",
                                               out, sizeof(out), &u),
                     0);
    assert_true(openai_chat_response_fast(plain, strlen(plain), "", out, sizeof(out), &u) > 0);
}

#define GEN_HEAD "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-07-01T12:00:00Z\","

static void test_completion_shapes(void **state) {
    (void)state;
    both(COMPLETION, GEN_HEAD "\"response\":\"The sky \\u003cis\\u003e blue.\"," TAIL, 1, "plain");
    both(COMPLETION,
         GEN_HEAD "\"response\":\"x\",\"thinking\":\"hmm \\n\",\"done\":true,\"done_reason\":"
                  "\"stop\",\"context\":[128006,882,128007,271,-1,0, 7 ],\"eval_count\":3}",
         1, "context and thinking");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"context\":[],\"done\":true}", 1, "no context");
    both(COMPLETION, GEN_HEAD "\"done\":true}", 1, "no response");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"context\":[[1]],\"done\":true}", 0,
         "nested context");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"context\":[1,],\"done\":true}", 0,
         "context trailing comma");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"context\":[1.5],\"done\":true}", 0,
         "real context");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"thinking\":null,\"done\":true}", 0,
         "null thinking");
    both(COMPLETION, GEN_HEAD MSG("x") "\"done\":true}", 0, "message in generate");
    both(COMPLETION, GEN_HEAD "\"response\":\"x\",\"done\":false}", 0, "done false");
    both(COMPLETION,
         GEN_HEAD "\"response\":\"x\",\"logprobs\":[{\"token\":\"x\",\"logprob\":-1}],"
                  "\"done\":true}",
         0, "logprobs");
}

static int slurp(const char *path, char *buf, size_t cap, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    *len = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[*len] = '\0';
    return 0;
}

/* Every non-stream golden case (as written and compact, as Ollama sends it), and every native
 * stream line as if it were a whole answer, both ways and both kinds. */
static void test_golden(void **state) {
    (void)state;
    const char *root = getenv("TRANSLATE_CASES");
    root = root ? root : "tests/translate";
    DIR *d = opendir(root);
    assert_non_null(d);
    struct dirent *e;
    int responses = 0, lines = 0, golden_hits = 0;
    static char text[1 << 20];
    fast_hits = 0;
    while ((e = readdir(d))) {
        char path[1024], what[1200];
        size_t n;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s/case.json", root, e->d_name);
        json_t *c = json_load_file(path, 0, NULL);
        const char *kind = json_string_value(json_object_get(c, "kind"));
        int k = !kind || !strcmp(kind, "chat") ? CHAT
                : !strcmp(kind, "completion")  ? COMPLETION
                                               : -1;
        json_decref(c);
        snprintf(path, sizeof(path), "%s/%s/response.json", root, e->d_name);
        FILE *f = fopen(path, "r");
        if (f)
            fclose(f);
        snprintf(path, sizeof(path), "%s/%s/native.json", root, e->d_name);
        if (f && k >= 0 && slurp(path, text, sizeof(text), &n) == 0) {
            int before = fast_hits;
            snprintf(what, sizeof(what), "%s (as written)", e->d_name);
            both_ways((enum kind)k, text, n, -1, what);
            json_t *v = json_loadb(text, n, 0, NULL);
            char *compact = json_dumps(v, JSON_COMPACT);
            snprintf(what, sizeof(what), "%s (compact)", e->d_name);
            both_ways((enum kind)k, compact, strlen(compact), -1, what);
            free(compact);
            json_decref(v);
            golden_hits += fast_hits > before;
            responses++;
        }
        snprintf(path, sizeof(path), "%s/%s/native.ndjson", root, e->d_name);
        if (slurp(path, text, sizeof(text), &n) == 0) {
            for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
                 l = strtok_r(NULL, "\n", &save)) {
                snprintf(what, sizeof(what), "%s (a stream line)", e->d_name);
                both_ways(CHAT, l, strlen(l), -1, what);
                both_ways(COMPLETION, l, strlen(l), -1, what);
                lines++;
            }
        }
    }
    closedir(d);
    print_message("%d responses, %d stream lines, %d fast answers, %d golden responses fast\n",
                  responses, lines, fast_hits, golden_hits);
    assert_true(responses >= 9);
    assert_true(lines >= 50);
    assert_true(golden_hits >= 4); /* chat response, no done_reason, completion, load */
}

/* A typical 200-token answer (about 900 bytes of text with the usual escapes). */
static void test_typical_answer(void **state) {
    (void)state;
    char body[8192];
    size_t n = (size_t)snprintf(body, sizeof(body),
                                HEAD "\"message\":{\"role\":\"assistant\",\"content\":\"");
    for (int i = 0; i < 20; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n,
                              "Line %d of the answer: the quick brown fox \\u003e jumps.\\n", i);
    n += (size_t)snprintf(body + n, sizeof(body) - n, "\"}," TAIL);
    fast_hits = 0;
    both_ways(CHAT, body, n, 1, "typical answer");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chat_shapes),
        cmocka_unit_test(test_completion_shapes),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_typical_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
