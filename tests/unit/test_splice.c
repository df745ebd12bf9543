/* The native fast path (jscan + splice) against the jansson path (json_loadb + policy_apply):
 * every golden body of $TRANSLATE_CASES and a set of hand-made native bodies, under several
 * configurations and both keep_alive policies, must come out json_equal (or be declined);
 * and the exact bytes the splice writes for the common cases. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"
#include "splice_equiv.h"

static const char *const bodies[] = {
    "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello there, how are "
    "you today?\"}],\"stream\":false}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\"}",
    "{\"model\":\"llama3.2:latest\",\"prompt\":\"hi\",\"keep_alive\":\"5m\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"-1\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"300\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"1.5\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":-5}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":0}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":1.25}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":1e3}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"1d\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"99999999999\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":\"5\\u006d\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":true}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":[]}",
    "{\"model\":\"llama3.2\",\"prompt\":\"hi\",\"keep_alive\":null}",
    "{\"keep_alive\":\"1h\",\"model\":\"llama3.2\"}",
    "{\"model\":\"llama3.2\",\"options\":{\"temperature\":0.2,\"num_ctx\":2048}}",
    "{\"model\":\"llama3.2\",\"options\":null}",
    "{\"model\":\"llama3.2\",\"options\":[]}",
    "{\"model\":\"llama3.2\",\"options\":\"x\"}",
    "{\"model\":\"pinned\",\"prompt\":\"hi\"}",
    "{\"model\":\"pinned:latest\",\"prompt\":\"hi\"}",
    "{\"model\":\"capped\",\"prompt\":\"hi\",\"options\":{\"num_predict\":5}}",
    "{\"model\":\"only-ka\",\"prompt\":\"hi\"}",
    "{\"model\":\"only-ka:latest\",\"prompt\":\"hi\",\"keep_alive\":\"10s\"}",
    "{\"model\":\"ms\",\"prompt\":\"hi\"}",
    "{\"model\":\"o\\u006ely-ka\",\"prompt\":\"hi\"}",
    "{\"model\":7}",
    "{\"model\":null}",
    "{\"model\":\"\"}",
    "{\"prompt\":\"no model\"}",
    "{}",
    " {\n} \n",
    "{ \"model\" : \"llama3.2\" , \"prompt\" : \"spaced\" }\r\n",
    "{\"model\":\"llama3.2\",\"input\":[\"a\",\"b\"],\"truncate\":true}",
    "{\"model\":\"llama3.2\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"\\u00e9\\uD83D\\uDE00\","
    "\"images\":[\"aGk=\"]}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"number\"}}}}}],"
    "\"format\":{\"type\":\"object\"},\"think\":true,\"n\":[1.5e10,-0,1E-7,9223372036854775807]}",
    "{\"model\":\"llama3.2\",\"a\":{\"b\":1,\"b\":2}}",
    "{\"model\":\"llama3.2\",\"model\":\"llama3.2\"}",
    "{\"model\":\"llama3.2\",\"prompt\":\"\\u0000\"}",
    "[{\"model\":\"llama3.2\"}]",
    "{\"model\":\"llama3.2\",}",
    /* keys Go folds onto the ones policy owns: declined here, refused by policy_apply */
    "{\"model\":\"llama3.2\",\"keep_alive\":-1,\"KEEP_ALIVE\":0}",
    "{\"model\":\"llama3.2\",\"Options\":{\"num_ctx\":131072}}",
    "{\"model\":\"pinned\",\"options\":{\"num_ctx\":8192},\"Options\":{\"num_ctx\":1}}",
    "{\"Model\":\"other\",\"model\":\"llama3.2\"}",
    "{\"model\":\"llama3.2\",\"\xE2\x84\xAA"
    "eep_alive\":0}",
    "{\"model\":\"llama3.2\",\"option\xC5\xBF\":{}}",
    "{\"model\":\"llama3.2\",\"\\u212Aeep_alive\":0}",
    "{\"model\":\"llama3.2\",\"Raw\":true}",
    /* not variants: spliced */
    "{\"model\":\"llama3.2\",\"keep-alive\":0,\"options\":{\"NUM_CTX\":1}}",
};

/* The configurations: plain; pinned models; and models with only a keep_alive. */
static void config_for(struct config *c, int which, enum keep_alive_policy policy) {
    char err[CONFIG_ERR_LEN];
    static const char *const sets[][3] = {
        {NULL, "keep_alive", "10m"},         {"pinned", "num_ctx", "8192"},
        {"capped", "num_predict_max", "64"}, {"only-ka", "keep_alive", "90s"},
        {"ms", "keep_alive", "1500ms"},      {"test-model", "num_ctx", "4096"},
    };
    assert_int_equal(config_init(c, NULL, err, sizeof(err)), 0);
    c->keep_alive_policy = policy;
    if (which == 0)
        return;
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        assert_int_equal(config_set(c, sets[i][0], sets[i][1], sets[i][2], err, sizeof(err)), 0);
}

static int spliced, declined;

static void both_ways(const char *body, size_t len, const char *what) {
    for (int which = 0; which < 2; which++)
        for (int policy = 0; policy < 2; policy++) {
            struct config c;
            char why[2048];
            config_for(&c, which, policy ? KEEP_ALIVE_DEFAULT : KEEP_ALIVE_OVERRIDE);
            enum splice_outcome rc = splice_compare(&c, body, len, why, sizeof(why));
            config_free(&c);
            if (rc == SPLICE_MISMATCH)
                fail_msg("%s (config %d, policy %d): %s", what, which, policy, why);
            spliced += rc == SPLICE_SPLICED;
            declined += rc == SPLICE_DECLINED;
        }
}

static void test_hand_made(void **state) {
    (void)state;
    spliced = declined = 0;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        both_ways(bodies[i], strlen(bodies[i]), bodies[i]);
    assert_true(spliced > 80);
    assert_true(declined > 40);
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

/* Every request.json and native.json of the golden cases, as a native body. */
static void test_golden(void **state) {
    (void)state;
    const char *root = getenv("TRANSLATE_CASES") ? getenv("TRANSLATE_CASES") : "tests/translate";
    DIR *d = opendir(root);
    struct dirent *e;
    int files = 0;
    spliced = declined = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        static const char *const names[] = {"request.json", "native.json"};
        if (e->d_name[0] == '.')
            continue;
        for (size_t i = 0; i < 2; i++) {
            char path[1024];
            size_t len;
            snprintf(path, sizeof(path), "%s/%s/%s", root, e->d_name, names[i]);
            char *text = read_text(path, &len);
            if (!text)
                continue;
            both_ways(text, len, path);
            free(text);
            files++;
        }
    }
    closedir(d);
    assert_true(files > 50);
    assert_true(spliced > files);
}

/* The bytes of the common cases: client bytes kept, keep_alive written as json_dumps would. */
static void expect_splice(const struct config *c, const char *in, const char *want) {
    struct jscan scan;
    size_t len = 0;
    assert_int_equal(jscan_body(in, strlen(in), &scan), 0);
    char *out = splice_native_new(c, in, strlen(in), &scan, &len, NULL);
    if (!want) {
        assert_null(out);
        return;
    }
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
    free(out);
}

static void test_exact(void **state) {
    (void)state;
    struct config c;
    config_for(&c, 1, KEEP_ALIVE_OVERRIDE);
    expect_splice(&c, "{\"model\":\"llama3.2\",\"prompt\":\"x\"}",
                  "{\"model\":\"llama3.2\",\"prompt\":\"x\",\"keep_alive\":600}");
    expect_splice(&c, "{}", "{\"keep_alive\":600}");
    expect_splice(&c, " { \n} ", " { \n\"keep_alive\":600} ");
    expect_splice(&c, "{\"model\":\"only-ka\",\"keep_alive\":\"5m\",\"x\":1}",
                  "{\"model\":\"only-ka\",\"keep_alive\":90,\"x\":1}");
    expect_splice(&c, "{\"keep_alive\":{\"a\":[1]},\"model\":\"ms\"}",
                  "{\"keep_alive\":\"1.5s\",\"model\":\"ms\"}");
    expect_splice(&c, "{\"model\":\"pinned\"}", NULL);
    expect_splice(&c, "{\"model\":\"capped\"}", NULL);
    expect_splice(&c, "{\"model\":1}", NULL);
    expect_splice(&c, "{\"model\":\"x\",\"options\":null}", NULL);
    expect_splice(&c, "{\"model\":\"x\",\"options\":{\"seed\":1}}",
                  "{\"model\":\"x\",\"options\":{\"seed\":1},\"keep_alive\":600}");
    c.keep_alive_policy = KEEP_ALIVE_DEFAULT;
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":\"-1\"}",
                  "{\"model\":\"x\",\"keep_alive\":-1}");
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":\"1h30m\"}",
                  "{\"model\":\"x\",\"keep_alive\":5400}");
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":0.5}",
                  "{\"model\":\"x\",\"keep_alive\":\"500ms\"}");
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":null}",
                  "{\"model\":\"x\",\"keep_alive\":600}");
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":\"1d\"}", NULL);
    expect_splice(&c, "{\"model\":\"x\",\"keep_alive\":false}", NULL);
    config_free(&c);
}

/* duration_to_json_text is json_dumps(duration_to_json_new(ns)). */
static void test_duration_text(void **state) {
    (void)state;
    static const int64_t cases[] = {DURATION_FOREVER,
                                    -1,
                                    0,
                                    1,
                                    999,
                                    1000,
                                    1500000,
                                    DURATION_SECOND,
                                    1500000000,
                                    90 * DURATION_SECOND,
                                    INT64_C(9200000000) * DURATION_SECOND / 1000 + 7,
                                    INT64_MAX - 1};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[SPLICE_KEEP_ALIVE_MAX];
        json_t *v = duration_to_json_new(cases[i]);
        char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        size_t n = duration_to_json_text(cases[i], buf, sizeof(buf));
        assert_int_equal(n, strlen(want));
        assert_string_equal(buf, want);
        assert_int_equal(duration_to_json_text(cases[i], buf, n), 0); /* no room for NUL */
        free(want);
        json_decref(v);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_made),
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_duration_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
