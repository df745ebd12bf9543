/* Unit tests for modelname: Ollama's name resolution, with the vectors of Ollama's
 * types/model/name_test.go (TestParseNameParts, testCases, TestNameparseNameDefault) and of
 * internal/modelref (source suffixes), plus the aliases keepwarm must not miss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modelname.h"

#define PART80 "88888888888888888888888888888888888888888888888888888888888888888888888888888888"
#define PART350                                                                                    \
    "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"   \
    "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"   \
    "333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333"   \
    "33333333333333333333333333333333333333333333333333333333333333333333333333333333"

static void expect(const char *in, const char *want) {
    char out[MODELNAME_MAX];
    int rc = modelname_normalize(in, out, sizeof(out));
    if (!want) {
        if (rc != -1 || out[0] != '\0')
            fail_msg("%s: got \"%s\" (rc %d), want no name", in, out, rc);
        return;
    }
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("%s: got \"%s\" (rc %d), want \"%s\"", in, out, rc, want);
}

/* TestParseNameParts: ParseName's Filepath, which is host/namespace/model/tag. */
static void test_parse_name_parts(void **state) {
    (void)state;
    assert_int_equal(strlen(PART350), 350);
    expect("registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_K",
           "registry.ollama.ai/library/dolphin-mistral:7b-v2.6-dpo-laser-q6_k");
    expect("scheme://host:port/namespace/model:tag", "host:port/namespace/model:tag");
    expect("host/namespace/model:tag", "host/namespace/model:tag");
    expect("host:port/namespace/model:tag", "host:port/namespace/model:tag");
    expect("host/namespace/model", "host/namespace/model:latest");
    expect("host:port/namespace/model", "host:port/namespace/model:latest");
    expect("namespace/model", "registry.ollama.ai/namespace/model:latest");
    expect("model", "registry.ollama.ai/library/model:latest");
    expect("h/nn/mm:t", "h/nn/mm:t");
    expect(PART80 "/" PART80 "/" PART80 ":" PART80, PART80 "/" PART80 "/" PART80 ":" PART80);
    expect(PART350 "/" PART80 "/" PART80 ":" PART80, PART350 "/" PART80 "/" PART80 ":" PART80);
    /* TestNameparseNameDefault */
    expect("xx", "registry.ollama.ai/library/xx:latest");
}

/* testCases of name_test.go whose verdict does not depend on the defaults ParseName adds. */
static void test_valid_and_invalid(void **state) {
    (void)state;
    expect("_why/_the/_lucky:_stiff", "_why/_the/_lucky:_stiff");
    expect("h/n/m:t", "h/n/m:t");
    expect("host/namespace/model:tag", "host/namespace/model:tag");
    expect("host:https/namespace/model:tag", "host:https/namespace/model:tag");
    static const char *const invalid[] = {
        "",
        "n/m:",
        "@t",
        "m@d",
        "^",
        "mm:",
        "/nn/mm",
        "//",
        "//mm",
        "hh//",
        "//mm:@",
        "00@",
        "@",
        "-hh/nn/mm:tt",
        "hh/-nn/mm:tt",
        "hh/nn/-mm:tt",
        "hh/nn/mm:-tt",
        "host/name:space/model:tag",
        /* too long: a part of 81 bytes, a host of 351 */
        "h/n/" PART80 "8:t",
        PART350 "3/n/m:t",
        /* digests, other bytes */
        "llama3.2@sha256:abc",
        "llama3.2:1b@sha256:abc",
        "caf\xc3\xa9",
        "a b",
        "a\tb:c",
        "name.space/m",
        "h/n/m:t/x",
        "m:t:x",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        expect(invalid[i], NULL);
}

/* The spellings of one model that must share its [model] settings and counters. */
static void test_aliases(void **state) {
    (void)state;
    const char *want = "registry.ollama.ai/library/llama3.2:1b";
    expect("llama3.2:1b", want);
    expect("library/llama3.2:1b", want);
    expect("registry.ollama.ai/library/llama3.2:1b", want);
    expect("REGISTRY.OLLAMA.AI/Library/Llama3.2:1B", want);
    expect("https://registry.ollama.ai/library/llama3.2:1b", want);
    expect("http://registry.ollama.ai/library/llama3.2:1b", want);
    expect("https:///library/llama3.2:1b", want); /* an empty host takes the default */
    expect("  llama3.2:1b\n", want);
    expect("\xc2\xa0llama3.2:1b\xe3\x80\x80", want); /* U+00A0, U+3000: Go's TrimSpace */
    expect("llama3.2:1b:local", want);
    expect("llama3.2:1b:LOCAL", want);
    expect("llama3.2:1b: local ", want);
    expect("llama3.2", "registry.ollama.ai/library/llama3.2:latest");
    expect("llama3.2:local", "registry.ollama.ai/library/llama3.2:latest");
    /* cloud: its own model, never the local one */
    expect("llama3.2:1b:cloud", "registry.ollama.ai/library/llama3.2:1b:cloud");
    expect("llama3.2:1b-cloud", "registry.ollama.ai/library/llama3.2:1b:cloud");
    expect("llama3.2:1B-Cloud", "registry.ollama.ai/library/llama3.2:1b:cloud");
    expect("llama3.2: 1b-cloud", "registry.ollama.ai/library/llama3.2:1b:cloud");
    expect("llama3.2:cloud", "registry.ollama.ai/library/llama3.2:latest:cloud");
    expect("gpt-oss:20b-cloud", "registry.ollama.ai/library/gpt-oss:20b:cloud");
    /* two sources, or a cloud tag with nothing left */
    expect("llama3.2:cloud:local", NULL);
    expect("llama3.2:1b-cloud:local", NULL);
    expect("llama3.2:local:local", NULL);
    expect("llama3.2:-cloud", NULL);
    expect(":cloud", NULL);
    expect(":t-cloud", NULL);
    expect("local", "registry.ollama.ai/library/local:latest");
    expect("   ", NULL);
    /* the host keeps its port; '/' in the suffix is no source */
    expect("localhost:5000/ns/m", "localhost:5000/ns/m:latest");
    expect("h:x-cloud/ns/m:t", "h:x-cloud/ns/m:t");
}

static void test_out_buffer(void **state) {
    (void)state;
    char out[16];
    assert_int_equal(modelname_normalize("llama3.2:1b", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    /* the longest name: every part at its cap, a cloud tag */
    char big[MODELNAME_MAX];
    assert_int_equal(
        modelname_normalize(PART350 "/" PART80 "/" PART80 ":" PART80 "-cloud", big, sizeof(big)),
        0);
    assert_int_equal(strlen(big), MODELNAME_MAX - 1);
    assert_int_equal(modelname_normalize(PART350 "/" PART80 "/" PART80 ":" PART80 "-cloud", big,
                                         MODELNAME_MAX - 1),
                     -1);
}

static void test_equal(void **state) {
    (void)state;
    assert_true(modelname_equal("llama3.2:1b", "registry.ollama.ai/library/llama3.2:1b"));
    assert_true(modelname_equal("library/llama3.2:1b", "LLAMA3.2:1b"));
    assert_true(modelname_equal("m", "m:latest"));
    assert_true(modelname_equal("m:latest", "library/m"));
    assert_false(modelname_equal("m:1b", "m:3b"));
    assert_false(modelname_equal("m:1b", "m:1b:cloud"));
    assert_false(modelname_equal("other/m:1b", "m:1b"));
    /* no canonical form: byte for byte, and the old ":latest" rule */
    assert_true(modelname_equal("caf\xc3\xa9", "caf\xc3\xa9"));
    assert_true(modelname_equal("caf\xc3\xa9", "caf\xc3\xa9:latest"));
    assert_false(modelname_equal("caf\xc3\xa9", "CAF\xc3\xa9"));
    assert_false(modelname_equal("m@d", "m"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_name_parts),
        cmocka_unit_test(test_valid_and_invalid),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_out_buffer),
        cmocka_unit_test(test_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
