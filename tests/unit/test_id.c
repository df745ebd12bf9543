/* Unit tests for id: every kind's format (prefix, character set, length), no repeat over a
 * million ids of mixed kinds, tool call ids in Ollama's format, and short buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "id.h"

#define MANY 1000000

static const char *const prefix_of[] = {
    [ID_CHAT] = "chatcmpl-",
    [ID_COMPLETION] = "cmpl-",
    [ID_RESPONSE] = "resp_",
    [ID_MESSAGE] = "msg_",
};

/* Checks id's format for its kind and returns its unique 64-bit part. */
static uint64_t unique_part(enum id_kind kind, const char *id) {
    size_t plen = strlen(prefix_of[kind]), n = strlen(id);
    const char *p = id + plen;
    if (strncmp(id, prefix_of[kind], plen))
        fail_msg("\"%s\" lacks its prefix \"%s\"", id, prefix_of[kind]);
    if (n >= ID_MAX)
        fail_msg("\"%s\" is longer than ID_MAX", id);
    if (kind == ID_MESSAGE) {
        if (n - plen != 24 || strspn(p, "0123456789abcdef") != 24)
            fail_msg("\"%s\" is not msg_ + 24 lower-case hex digits", id);
        return strtoull(p + 8, NULL, 16);
    }
    if (n == plen || n - plen > 20 || strspn(p, "0123456789") != n - plen || (p[0] == '0' && p[1]))
        fail_msg("\"%s\" is not its prefix + a decimal number", id);
    return strtoull(p, NULL, 10);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_unique_million(void **state) {
    uint64_t *seen = malloc(MANY * sizeof(*seen));
    char id[ID_MAX];
    size_t longest = 0;
    (void)state;
    assert_non_null(seen);
    for (size_t i = 0; i < MANY; i++) {
        enum id_kind kind = (enum id_kind)(i % 4);
        assert_int_equal(id_unique(kind, id, sizeof(id)), 0);
        seen[i] = unique_part(kind, id);
        if (strlen(id) > longest)
            longest = strlen(id);
    }
    qsort(seen, MANY, sizeof(*seen), cmp_u64);
    for (size_t i = 1; i < MANY; i++)
        if (seen[i] == seen[i - 1])
            fail_msg("an id repeated after %d: %llu", MANY, (unsigned long long)seen[i]);
    assert_true(longest < ID_MAX);
    free(seen);
}

static void test_short_buffer(void **state) {
    char id[ID_MAX];
    (void)state;
    memset(id, 'x', sizeof(id));
    assert_int_equal(id_unique(ID_CHAT, id, 9), -1); /* not even the prefix and one digit */
    assert_string_equal(id, "");
    assert_int_equal(id_unique(ID_MESSAGE, id, 28), -1); /* "msg_" + 24 needs 29 */
    assert_string_equal(id, "");
    assert_int_equal(id_unique(ID_MESSAGE, id, 29), 0);
    assert_int_equal(strlen(id), 28);
    assert_int_equal(id_unique(ID_CHAT, NULL, 0), -1);
    assert_int_equal(id_unique((enum id_kind)99, id, sizeof(id)), -1);
    assert_string_equal(id, "");
}

static void test_tool_call(void **state) {
    char a[ID_TOOL_CALL_SIZE], b[ID_TOOL_CALL_SIZE];
    (void)state;
    id_tool_call(a);
    id_tool_call(b);
    assert_int_equal(strlen(a), 13);
    assert_memory_equal(a, "call_", 5);
    assert_int_equal(strspn(a + 5, "abcdefghijklmnopqrstuvwxyz0123456789"), 8);
    assert_string_not_equal(a, b); /* 36^8 values: equal twice in a row is a broken generator */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique_million),
        cmocka_unit_test(test_short_buffer),
        cmocka_unit_test(test_tool_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
