/* The stream fast paths (openai_chat_stream_fast for token lines, openai_*_stream_done_fast
 * for the done line) must write exactly the bytes the jansson path writes and leave the same
 * stream state and token counts (stream_equiv.h runs both as relay.c does, line by line).
 * Every golden stream case and a set of awkward token and done lines are run both ways, with
 * include_usage on and off. */
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
#include "rfc3339.h"
#include "stream_equiv.h"

struct hits {
    int tokens, dones;
};

/* Runs the lines (each NUL-terminated) both ways, then the end of the answer when eof is set;
 * fails on any difference. Again when the clock ticked during a line whose created came from
 * it. */
static struct hits run_both(const char *what, const char *const *lines, size_t n, int chat,
                            int include_usage, int eof) {
    struct stream_equiv e;
    for (int attempt = 0; attempt < 3; attempt++) {
        stream_equiv_init(&e, chat, chat ? "chatcmpl-test" : "cmpl-test", include_usage);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = stream_equiv_line(&e, lines[i], strlen(lines[i]));
        if (rc == 0 && eof)
            rc = stream_equiv_eof(&e);
        if (rc < 0)
            fail_msg("%s (usage %d, eof %d): %s", what, include_usage, eof, e.why);
        stream_equiv_free(&e);
        if (!e.ticked)
            return (struct hits){e.fast_tokens, e.fast_dones};
    }
    fail_msg("%s: the clock ticked on every attempt", what);
    return (struct hits){0, 0};
}

/* Both include_usage settings, with and without the end of the answer; the hits of one run. */
static struct hits run_all_ways(const char *what, const char *const *lines, size_t n, int chat) {
    struct hits h = run_both(what, lines, n, chat, 0, 0);
    struct hits u = run_both(what, lines, n, chat, 1, 1);
    run_both(what, lines, n, chat, 0, 1);
    run_both(what, lines, n, chat, 1, 0);
    assert_int_equal(h.tokens, u.tokens);
    assert_int_equal(h.dones, u.dones);
    return h;
}

/* ---- token lines ----------------------------------------------------------------------------- */

static void test_awkward_lines(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"model\":\"m\",\"created_at\":\"2009-02-13T23:31:30Z\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"Hello\"},\"done\":false}",
        "{\"model\":\"m\",\"created_at\":\"2009-02-13T23:31:31Z\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"a \\\"quoted\\\"\\n\\ttab \\\\ back\\b\\f\\r caf\xc3\xa9 "
        "\xf0\x9f\x99\x82\"},"
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\\u00e9 escaped\"},"
        "\"done\":false}",
        /* jansson writes a '/' bare: the fast path re-escapes it as jansson does */
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"a\\/b\"},"
        "\"done\":false}",
        "{\"done\":false,\"message\":{\"content\":\"\",\"role\":\"assistant\"},\"model\":\"m\"}",
        " { \"model\" : \"m\" , \"message\" : { \"content\" : \"spaced\" } , \"done\" : false } ",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"t\",\"thinking\":\"x\"}"
        ","
        "\"done\":false}",
        "{\"model\":\"other\",\"message\":{\"role\":\"assistant\",\"content\":\"renamed\"},"
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"x\"},\"done\":false,"
        "\"logprobs\":[{\"token\":\"x\",\"logprob\":-0.5}]}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"end\"},\"done\":true,"
        "\"done_reason\":\"stop\",\"prompt_eval_count\":3,\"eval_count\":7}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"after\"},\"done\":"
        "false}",
    };
    struct hits h = run_all_ways("awkward lines", lines, sizeof(lines) / sizeof(lines[0]), 1);
    assert_int_equal(h.tokens,
                     7);          /* plain, escaped, \u00e9, \/, empty reordered, spaced, renamed */
    assert_int_equal(h.dones, 1); /* "end" */
    static const char *const first_is_slow[] = {
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":\"hm\"}"
        ","
        "\"done\":false}",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"then fast\"},"
        "\"done\":false}",
    };
    h = run_all_ways("role sent by the slow path first", first_is_slow, 2, 1);
    assert_int_equal(h.tokens, 1);
    /* sizeof - 1, not strlen: the last one holds a backslash and a NUL byte */
#define BAD(text)                                                                                  \
    { text, sizeof(text) - 1 }
    static const struct {
        const char *text;
        size_t len;
    } bad[] = {
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"cut"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"\xff\"},\"done\":false}"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"x\"},\"done\":false}}"),
        BAD("{\"model\":\"m\",\"model\":\"n\",\"message\":{\"content\":\"x\"},\"done\":false}"),
        BAD("{\"model\":\"m\",\"message\":{\"content\":\"a\\\0b\"},\"done\":false}"),
    };
#undef BAD
    struct openai_stream s;
    openai_stream_init(&s, "id", 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char out[256];
        assert_int_equal(openai_chat_stream_fast(&s, bad[i].text, bad[i].len, out, sizeof(out)), 0);
    }
    assert_false(s.role_sent);
    char tiny[16];
    assert_int_equal(openai_chat_stream_fast(&s, lines[0], strlen(lines[0]), tiny, sizeof(tiny)),
                     0);
    assert_false(s.role_sent);
}

/* ---- done lines ------------------------------------------------------------------------------ */

#define TOKEN                                                                                      \
    "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-05-01T10:00:00.123456789Z\",\"message\":{"   \
    "\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}"
#define MODEL   "\"model\":\"llama3.2:3b\""
#define CREATED "\"created_at\":\"2024-05-01T10:00:01.5Z\""
#define MSG(c)  "\"message\":{\"role\":\"assistant\",\"content\":\"" c "\"}"
#define METRICS                                                                                    \
    "\"total_duration\":123,\"load_duration\":4,\"prompt_eval_count\":26,"                         \
    "\"prompt_eval_duration\":5,\"eval_count\":38,\"eval_duration\":6"
/* Ollama's own done line, with a reason and members spliced in where the test needs them. */
#define DONE_WITH(reason, extra)                                                                   \
    "{" MODEL "," CREATED "," MSG("") ",\"done_reason\":" reason ",\"done\":true," METRICS extra "}"
#define DONE DONE_WITH("\"stop\"", "")
#define COUNTS(p, c)                                                                               \
    "{" MODEL "," CREATED "," MSG("") ",\"done\":true,\"prompt_eval_count\":" p                    \
                                      ",\"eval_count\":" c "}"

/* The same for /api/generate. */
#define GEN_TOKEN                                                                                  \
    "{\"model\":\"llama3.2:3b\",\"created_at\":\"2024-05-01T10:00:00Z\",\"response\":\"Hi\","      \
    "\"done\":false}"
#define GEN_DONE(extra)                                                                            \
    "{" MODEL "," CREATED                                                                          \
    ",\"response\":\"\",\"done\":true,\"done_reason\":\"stop\",\"context\":["                      \
    "1,2,3]," METRICS extra "}"

enum { SLOW = 0, FAST = 1 };

struct done_case {
    const char *what;
    const char *line;
    int first, after; /* expected: a done fast path takes it as the first line / after a token */
};

static const struct done_case chat_cases[] = {
    {"Ollama's done line", DONE, FAST, FAST},
    {"length", DONE_WITH("\"length\"", ""), FAST, FAST},
    {"empty reason", DONE_WITH("\"\"", ""), FAST, FAST},
    {"no reason", "{" MODEL "," CREATED "," MSG("") ",\"done\":true," METRICS "}", FAST, FAST},
    {"content on the done line", "{" MODEL "," CREATED "," MSG("The end.") ",\"done\":true}", FAST,
     FAST},
    {"escapes re-escaped as jansson writes them",
     "{" MODEL "," CREATED "," MSG("a\\n\\\"q\\\" \\\\ \\/ \\u00e9 \\u001f \\u007f \\ud83d\\ude00 "
                                   "\\u2028 \\b\\f\\r\\t \xe2\x82\xac") ",\"done\":true}",
     FAST, FAST},
    {"any order",
     "{\"done\":true,\"eval_count\":38,\"done_reason\":\"stop\"," MSG(
         "") "," CREATED ",\"prompt_eval_count\":26," MODEL "}",
     FAST, FAST},
    {"white space",
     " {\t\"model\" : \"llama3.2:3b\" ,\r\n\"done\" : true , " CREATED
     " , \"message\" : { \"content\" : \"\" , \"role\" : \"assistant\" } } ",
     FAST, FAST},
    {"no message", "{" MODEL "," CREATED ",\"done\":true,\"done_reason\":\"stop\"}", FAST, FAST},
    {"empty message", "{" MODEL "," CREATED ",\"message\":{},\"done\":true}", FAST, FAST},
    {"message without content",
     "{" MODEL "," CREATED ",\"message\":{\"role\":\"x\"},\"done\":true}", FAST, FAST},
    {"no counts", "{" MODEL "," CREATED "," MSG("") ",\"done\":true}", FAST, FAST},
    {"zero counts", COUNTS("0", "0"), FAST, FAST},
    {"counts at 10^15", COUNTS("1000000000000000", "999999999999999"), FAST, FAST},
    {"negative durations (ignored)",
     "{" MODEL "," CREATED ",\"done\":true,\"total_duration\":-5,\"eval_duration\":-1}", FAST,
     FAST},
    {"18-digit duration",
     "{" MODEL "," CREATED ",\"done\":true,\"total_duration\":999999999999999999,"
     "\"load_duration\":-999999999999999999}",
     FAST, FAST},
    {"no created_at", "{" MODEL "," MSG("") ",\"done\":true}", SLOW, FAST},
    {"created_at that does not parse", "{" MODEL ",\"created_at\":\"yesterday\",\"done\":true}",
     SLOW, FAST},
    {"escaped created_at",
     "{" MODEL ",\"created_at\":\"2024-05-01T10:00:01\\u005a\",\"done\":true}", SLOW, FAST},
    {"UTF-8 model", "{\"model\":\"caf\xc3\xa9:7b\"," CREATED ",\"done\":true}", FAST, FAST},
    /* declined */
    {"reason load", DONE_WITH("\"load\"", ""), SLOW, SLOW},
    {"reason unload", DONE_WITH("\"unload\"", ""), SLOW, SLOW},
    {"reason tool_calls", DONE_WITH("\"tool_calls\"", ""), SLOW, SLOW},
    {"escaped reason", DONE_WITH("\"st\\u006fp\"", ""), SLOW, SLOW},
    {"null reason", DONE_WITH("null", ""), SLOW, SLOW},
    {"number reason", DONE_WITH("5", ""), SLOW, SLOW},
    {"unknown member", DONE_WITH("\"stop\"", ",\"foo\":1"), SLOW, SLOW},
    {"remote_model", DONE_WITH("\"stop\"", ",\"remote_model\":\"x\""), SLOW, SLOW},
    {"logprobs", DONE_WITH("\"stop\"", ",\"logprobs\":[]"), SLOW, SLOW},
    {"error member", DONE_WITH("\"stop\"", ",\"error\":\"boom\""), SLOW, SLOW},
    {"null error member", DONE_WITH("\"stop\"", ",\"error\":null"), SLOW, SLOW},
    {"thinking",
     "{" MODEL "," CREATED ",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":"
     "\"hm\"},\"done\":true}",
     SLOW, SLOW},
    {"tool calls",
     "{" MODEL "," CREATED ",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
     "[{\"function\":{\"name\":\"f\",\"arguments\":{}}}]},\"done\":true}",
     SLOW, SLOW},
    {"images",
     "{" MODEL "," CREATED ",\"message\":{\"content\":\"\",\"images\":null},\"done\":true}", SLOW,
     SLOW},
    {"count past 10^15", COUNTS("1000000000000001", "1"), SLOW, SLOW},
    {"count past 2^53", COUNTS("9007199254740993", "1"), SLOW, SLOW},
    {"count at INT64_MAX", COUNTS("9223372036854775807", "1"), SLOW, SLOW},
    {"count past INT64_MAX (jansson refuses the line)", COUNTS("1", "9223372036854775808"), SLOW,
     SLOW},
    {"count of 20 digits", COUNTS("99999999999999999999", "1"), SLOW, SLOW},
    {"negative count", COUNTS("-1", "5"), SLOW, SLOW},
    {"minus zero count (jansson reads 0)", COUNTS("-0", "5"), FAST, FAST},
    {"real count", COUNTS("3.0", "5"), SLOW, SLOW},
    {"exponent count", COUNTS("1e2", "5"), SLOW, SLOW},
    {"fraction count", COUNTS("26", "38.5"), SLOW, SLOW},
    {"leading zero count (jansson refuses the line)", COUNTS("026", "38"), SLOW, SLOW},
    {"real duration", "{" MODEL "," CREATED ",\"done\":true,\"total_duration\":1.5}", SLOW, SLOW},
    {"duration of 19 digits",
     "{" MODEL "," CREATED ",\"done\":true,\"total_duration\":1234567890123456789}", SLOW, SLOW},
    {"overflowing real (jansson refuses the line)",
     "{" MODEL "," CREATED ",\"done\":true,\"total_duration\":1e400}", SLOW, SLOW},
    {"done twice", "{" MODEL "," CREATED ",\"done\":true,\"done\":true}", SLOW, SLOW},
    {"count twice", "{" MODEL "," CREATED ",\"done\":true,\"eval_count\":1,\"eval_count\":2}", SLOW,
     SLOW},
    {"escaped key", "{" MODEL "," CREATED ",\"\\u0064one\":true}", SLOW, SLOW},
    {"escaped model", "{\"model\":\"llama\\/3\"," CREATED ",\"done\":true}", SLOW, SLOW},
    {"empty model", "{\"model\":\"\"," CREATED ",\"done\":true}", SLOW, SLOW},
    {"no model", "{" CREATED "," MSG("x") ",\"done\":true}", SLOW, SLOW},
    {"number model", "{\"model\":5," CREATED ",\"done\":true}", SLOW, SLOW},
    {"trailing garbage", "{" MODEL "," CREATED ",\"done\":true}x", SLOW, SLOW},
    {"two objects", "{" MODEL ",\"done\":true}{}", SLOW, SLOW},
    {"invalid UTF-8", "{" MODEL "," CREATED "," MSG("\xff") ",\"done\":true}", SLOW, SLOW},
    {"\\u0000", "{" MODEL "," CREATED "," MSG("a\\u0000") ",\"done\":true}", SLOW, SLOW},
    {"lone surrogate", "{" MODEL "," CREATED "," MSG("\\ud800") ",\"done\":true}", SLOW, SLOW},
    {"True", "{" MODEL "," CREATED ",\"done\":True}", SLOW, SLOW},
    {"done as a string", "{" MODEL "," CREATED ",\"done\":\"true\"}", SLOW, SLOW},
    {"done false", "{" MODEL "," CREATED ",\"done\":false,\"done_reason\":\"stop\"}", SLOW, SLOW},
    {"an array", "[" DONE "]", SLOW, SLOW},
    {"a cut line", "{" MODEL "," CREATED ",\"done\":true", SLOW, SLOW},
};

/* line i of a case list, alone and after a token line, all four ways; the fast path must take
 * it exactly when the case says so. */
static void run_done_case(const struct done_case *c, int chat, const char *token) {
    const char *alone[] = {c->line}, *after[] = {token, c->line};
    struct hits h = run_all_ways(c->what, alone, 1, chat);
    if (h.dones != c->first)
        fail_msg("%s, as the first line: fast path %s", c->what, h.dones ? "took it" : "declined");
    h = run_all_ways(c->what, after, 2, chat);
    if (h.dones != c->after)
        fail_msg("%s, after a token: fast path %s", c->what, h.dones ? "took it" : "declined");
}

static void test_done_lines(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(chat_cases) / sizeof(chat_cases[0]); i++)
        run_done_case(&chat_cases[i], 1, TOKEN);
}

/* Long model names: whole in s->model (255 bytes) or not (256). */
static void test_done_model_length(void **state) {
    (void)state;
    char line[1024], name[300];
    for (size_t n = 254; n <= 257; n++) {
        memset(name, 'm', n);
        name[n] = '\0';
        snprintf(line, sizeof(line), "{\"model\":\"%s\"," CREATED ",\"done\":true}", name);
        const char *lines[] = {TOKEN, line};
        struct hits h = run_all_ways("long model", lines, 2, 1);
        assert_int_equal(h.dones, n < sizeof(((struct openai_stream *)0)->model));
    }
}

/* Streams whose earlier lines took the jansson path: tool calls ("stop" becomes
 * "tool_calls"), thinking, logprobs. */
static void test_done_after_slow_lines(void **state) {
    (void)state;
    static const char *const tool[] = {
        "{" MODEL "," CREATED
        ",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":"
        "[{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},\"done\":"
        "false}",
        DONE,
    };
    struct hits h = run_all_ways("tool call, then stop", tool, 2, 1);
    assert_int_equal(h.dones, 1);
    const char *const tool_length[] = {tool[0], DONE_WITH("\"length\"", "")};
    h = run_all_ways("tool call, then length", tool_length, 2, 1);
    assert_int_equal(h.dones, 1);
    static const char *const thinking[] = {
        "{" MODEL "," CREATED ",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"thinking\":"
        "\"hm\"},\"done\":false}",
        TOKEN,
        "{" MODEL "," MSG(" more") ",\"done\":true,\"done_reason\":\"length\"}",
    };
    h = run_all_ways("thinking, token, done", thinking, 3, 1);
    assert_int_equal(h.tokens, 1);
    assert_int_equal(h.dones, 1);
    /* the model changes on the done line: the done line's name on its chunks and remembered */
    static const char *const renamed[] = {TOKEN, "{\"model\":\"other:1b\",\"done\":true}"};
    h = run_all_ways("renamed on the done line", renamed, 2, 1);
    assert_int_equal(h.dones, 1);
    /* after the done line nothing more is read: a second done line changes nothing */
    static const char *const twice[] = {TOKEN, DONE, DONE_WITH("\"length\"", "")};
    h = run_all_ways("two done lines", twice, 3, 1);
    assert_int_equal(h.dones, 1);
}

/* The state and counts the relay reads, spelled out once, and what declining leaves. */
static void test_done_state(void **state) {
    (void)state;
    struct openai_stream s;
    struct openai_fast_usage u = {-1, -1};
    char out[4096];
    const char *line = DONE;
    openai_stream_init(&s, "chatcmpl-7", 1);
    size_t n = openai_chat_stream_done_fast(&s, line, strlen(line), out, sizeof(out), &u);
    assert_true(n > 0);
    assert_int_equal(s.finished, OPENAI_FINISHED_DONE);
    assert_true(s.role_sent && s.created_set);
    long long created;
    assert_int_equal(rfc3339_parse("2024-05-01T10:00:01.5Z", &created), 0);
    assert_int_equal(s.created, created);
    assert_string_equal(s.model, "llama3.2:3b");
    assert_int_equal(u.prompt_tokens, 26);
    assert_int_equal(u.completion_tokens, 38);
    static const char want[] =
        "data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1714557601,"
        "\"model\":\"llama3.2:3b\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1714557601,"
        "\"model\":\"llama3.2:3b\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[{\"index\":0,"
        "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: {\"id\":\"chatcmpl-7\",\"object\":\"chat.completion.chunk\",\"created\":1714557601,"
        "\"model\":\"llama3.2:3b\",\"system_fingerprint\":\"fp_ollama\",\"choices\":[],\"usage\":{"
        "\"prompt_tokens\":26,\"completion_tokens\":38,\"total_tokens\":64}}\n\n";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);

    /* finished: declined, nothing touched */
    struct openai_stream before = s;
    u.prompt_tokens = u.completion_tokens = -1;
    assert_int_equal(openai_chat_stream_done_fast(&s, line, strlen(line), out, sizeof(out), &u), 0);
    assert_memory_equal(&s, &before, sizeof(s));
    assert_int_equal(u.prompt_tokens, -1);

    /* an id jansson would escape */
    openai_stream_init(&s, "id\"x", 0);
    assert_int_equal(openai_chat_stream_done_fast(&s, line, strlen(line), out, sizeof(out), &u), 0);
    assert_false(s.finished);
    openai_stream_init(&s, "id\\x", 0);
    assert_int_equal(openai_chat_stream_done_fast(&s, line, strlen(line), out, sizeof(out), &u), 0);
    assert_int_equal(openai_chat_stream_done_fast(&s, NULL, 0, out, sizeof(out), &u), 0);
    assert_int_equal(openai_chat_stream_done_fast(NULL, line, strlen(line), out, sizeof(out), &u),
                     0);
}

/* Every buffer one byte too small or more declines and changes nothing; the exact size works. */
static void test_done_short_buffer(void **state) {
    (void)state;
    static const char *const lines[2][2] = {
        {GEN_DONE(""), "{" MODEL "," CREATED ",\"response\":\"some \\\"text\\\"\",\"done\":true}"},
        {DONE, "{" MODEL "," CREATED "," MSG("some \\\"text\\\"") ",\"done\":true}"},
    };
    for (int chat = 0; chat <= 1; chat++) {
        for (int usage = 0; usage <= 1; usage++) {
            for (size_t l = 0; l < 2; l++) {
                const char *line = lines[chat][l];
                size_t len = strlen(line);
                struct openai_stream s, before;
                struct openai_fast_usage u = {-1, -1};
                char out[4096], ref[4096];
                openai_stream_init(&s, "chatcmpl-7", usage);
                memcpy(&before, &s, sizeof(s));
                size_t n =
                    chat ? openai_chat_stream_done_fast(&s, line, len, ref, sizeof(ref), &u)
                         : openai_completion_stream_done_fast(&s, line, len, ref, sizeof(ref), &u);
                assert_true(n > 0);
                for (size_t cap = 0; cap < n; cap++) {
                    memcpy(&s, &before, sizeof(s));
                    u.prompt_tokens = u.completion_tokens = -1;
                    size_t m =
                        chat ? openai_chat_stream_done_fast(&s, line, len, out, cap, &u)
                             : openai_completion_stream_done_fast(&s, line, len, out, cap, &u);
                    assert_int_equal(m, 0);
                    assert_memory_equal(&s, &before, sizeof(s));
                    assert_int_equal(u.prompt_tokens, -1);
                }
                memcpy(&s, &before, sizeof(s));
                size_t m = chat ? openai_chat_stream_done_fast(&s, line, len, out, n, &u)
                                : openai_completion_stream_done_fast(&s, line, len, out, n, &u);
                assert_int_equal(m, n);
                assert_memory_equal(out, ref, n);
            }
        }
    }
}

/* ---- completions ----------------------------------------------------------------------------- */

static const struct done_case completion_cases[] = {
    {"Ollama's done line", GEN_DONE(""), FAST, FAST},
    {"text on the done line",
     "{" MODEL "," CREATED ",\"response\":\" end\\n\\u00e9\",\"done\":true,"
     "\"done_reason\":\"length\"}",
     FAST, FAST},
    {"thinking (ignored)", GEN_DONE(",\"thinking\":\"hm\""), FAST, FAST},
    {"empty context", "{" MODEL "," CREATED ",\"context\":[],\"done\":true}", FAST, FAST},
    {"no created_at", "{" MODEL ",\"response\":\"\",\"done\":true}", SLOW, FAST},
    {"reason unload", "{" MODEL "," CREATED ",\"done\":true,\"done_reason\":\"unload\"}", SLOW,
     SLOW},
    {"message (a chat member)", "{" MODEL "," CREATED "," MSG("") ",\"done\":true}", SLOW, SLOW},
    {"unknown member", GEN_DONE(",\"images\":null"), SLOW, SLOW},
    {"real in context", "{" MODEL "," CREATED ",\"context\":[1.5],\"done\":true}", SLOW, SLOW},
    {"tool calls", GEN_DONE(",\"tool_calls\":[]"), SLOW, SLOW},
    {"count past 10^15", "{" MODEL "," CREATED ",\"done\":true,\"eval_count\":1000000000000001}",
     SLOW, SLOW},
};

static void test_completion_done_lines(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(completion_cases) / sizeof(completion_cases[0]); i++)
        run_done_case(&completion_cases[i], 0, GEN_TOKEN);
}

/* ---- golden streams -------------------------------------------------------------------------- */

/* Every stream case of the golden suite (chat and completions), both ways. */
static void test_golden_streams(void **state) {
    (void)state;
    const char *root = getenv("TRANSLATE_CASES");
    DIR *d = opendir(root ? root : "tests/translate");
    assert_non_null(d);
    struct dirent *e;
    int cases = 0, completions = 0;
    struct hits total = {0, 0};
    while ((e = readdir(d))) {
        char path[1024], text[65536];
        snprintf(path, sizeof(path), "%s/%s/native.ndjson", root ? root : "tests/translate",
                 e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        snprintf(path, sizeof(path), "%s/%s/case.json", root ? root : "tests/translate", e->d_name);
        json_t *c = json_load_file(path, 0, NULL);
        const char *kind = json_string_value(json_object_get(c, "kind"));
        int chat = !kind || strcmp(kind, "completion") != 0;
        json_decref(c);
        const char *lines[256];
        size_t nl = 0;
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && nl < 256;
             l = strtok_r(NULL, "\n", &save))
            if (*l)
                lines[nl++] = l;
        struct hits h = run_all_ways(e->d_name, lines, nl, chat);
        total.tokens += h.tokens;
        total.dones += h.dones;
        cases++;
        completions += !chat;
    }
    closedir(d);
    print_message("golden: %d streams (%d completions), each 4 ways; fast paths took %d token and "
                  "%d done lines per way\n",
                  cases, completions, total.tokens, total.dones);
    assert_true(cases >= 20);
    assert_true(completions >= 2);
    assert_true(total.tokens > 0);
    assert_true(total.dones >= 10);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_awkward_lines),
        cmocka_unit_test(test_done_lines),
        cmocka_unit_test(test_done_model_length),
        cmocka_unit_test(test_done_after_slow_lines),
        cmocka_unit_test(test_done_state),
        cmocka_unit_test(test_done_short_buffer),
        cmocka_unit_test(test_completion_done_lines),
        cmocka_unit_test(test_golden_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
