/* Unit tests for log's formatter: every value is escaped, so one call is one line whose fields
 * are exactly the ones the format names, whatever a client put in a model name or a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "log.h"

static size_t fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

static size_t fmt(char *buf, size_t len, const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    size_t n = log_vformat(buf, len, f, ap);
    va_end(ap);
    return n;
}

/* A logfmt reader: key=value pairs separated by spaces; a value is a bare token or a quoted
 * string with backslash escapes. Returns the number of pairs and their keys (joined by ','),
 * or -1 when the text is not logfmt (an unterminated quote, a stray byte). */
static int parse_logfmt(const char *s, char *keys, size_t klen) {
    int n = 0;
    size_t kl = 0;
    keys[0] = '\0';
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        const char *k = s;
        while (*s && *s != '=' && *s != ' ' && *s != '"')
            s++;
        if (*s != '=' || s == k)
            return -1;
        if (kl + (size_t)(s - k) + 2 < klen) {
            if (kl)
                keys[kl++] = ',';
            memcpy(keys + kl, k, (size_t)(s - k));
            kl += (size_t)(s - k);
            keys[kl] = '\0';
        }
        s++;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && s[1])
                    s++;
                s++;
            }
            if (*s != '"')
                return -1;
            s++;
        } else {
            while (*s && *s != ' ') {
                if (*s == '"' || *s == '=')
                    return -1;
                s++;
            }
        }
        if (*s && *s != ' ')
            return -1;
        n++;
    }
    return n;
}

/* Quotes not escaped by a backslash come in pairs. */
static void assert_quotes_balanced(const char *s) {
    int open = 0;
    for (; *s; s++) {
        if (open && *s == '\\' && s[1])
            s++;
        else if (*s == '"')
            open = !open;
    }
    assert_false(open);
}

static void assert_one_clean_line(const char *out) {
    for (const unsigned char *p = (const unsigned char *)out; *p; p++)
        assert_true(*p >= 0x20 && *p != 0x7f);
}

static void test_quote_escapes(void **state) {
    char buf[256];
    (void)state;
    assert_string_equal(log_quote(buf, sizeof(buf), "llama3.2:3b"), "\"llama3.2:3b\"");
    assert_string_equal(log_quote(buf, sizeof(buf), ""), "\"\"");
    assert_string_equal(log_quote(buf, sizeof(buf), NULL), "\"\"");
    assert_string_equal(log_quote(buf, sizeof(buf), "a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(log_quote(buf, sizeof(buf), "x\ny\rz\tw"), "\"x\\ny\\rz\\tw\"");
    assert_string_equal(log_quote(buf, sizeof(buf), "\x01\x1b\x1f\x7f"),
                        "\"\\u0001\\u001b\\u001f\\u007f\"");
    /* UTF-8 passes as it is */
    assert_string_equal(log_quote(buf, sizeof(buf), "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

static void test_quote_caps(void **state) {
    char big[4096], buf[2048];
    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_quote(buf, sizeof(buf), big);
    assert_int_equal(strlen(buf), LOG_VALUE_MAX + 2);
    assert_memory_equal(buf + strlen(buf) - 4, "...\"", 4);
    /* exactly LOG_VALUE_MAX fits whole */
    big[LOG_VALUE_MAX] = '\0';
    log_quote(buf, sizeof(buf), big);
    assert_int_equal(strlen(buf), LOG_VALUE_MAX + 2);
    assert_int_equal(buf[LOG_VALUE_MAX], 'a');
    /* one byte more is cut, quoted by the format or bare */
    big[LOG_VALUE_MAX] = 'a';
    big[LOG_VALUE_MAX + 1] = '\0';
    log_quote(buf, sizeof(buf), big);
    assert_int_equal(strlen(buf), LOG_VALUE_MAX + 2);
    assert_memory_equal(buf + strlen(buf) - 4, "...\"", 4);
    size_t n = fmt(buf, sizeof(buf), "m=%s", big);
    assert_int_equal(n, 2 + LOG_VALUE_MAX); /* a bare token stays bare */
    assert_memory_equal(buf + n - 3, "...", 3);
    memset(big, 'a', sizeof(big) - 1);
    /* a small buffer still closes the quote and never splits an escape */
    char small[8];
    assert_string_equal(log_quote(small, sizeof(small), "\n\n\n"), "\"\\n\\n\"");
    assert_string_equal(log_quote(small, sizeof(small), "\x01\x02"), "\"\"");
    char tiny[3];
    assert_string_equal(log_quote(tiny, sizeof(tiny), "abc"), "\"\"");
}

static void test_bare_values(void **state) {
    char buf[512], keys[256];
    (void)state;
    fmt(buf, sizeof(buf), "msg=\"request\" model=%s status=%d", "llama3.2:3b", 200);
    assert_string_equal(buf, "msg=\"request\" model=llama3.2:3b status=200");
    fmt(buf, sizeof(buf), "model=%s", "");
    assert_string_equal(buf, "model=\"\"");
    fmt(buf, sizeof(buf), "model=%s n=1", "a b=c");
    assert_string_equal(buf, "model=\"a b=c\" n=1");
    /* the forging attempt: a newline and a level of its own */
    fmt(buf, sizeof(buf), "msg=\"loading\" model=%s", "x\n level=error msg=forged");
    assert_string_equal(buf, "msg=\"loading\" model=\"x\\n level=error msg=forged\"");
    assert_one_clean_line(buf);
    assert_int_equal(parse_logfmt(buf, keys, sizeof(keys)), 2);
    assert_string_equal(keys, "msg,model");
}

static void test_quoted_values(void **state) {
    char buf[512], keys[256];
    (void)state;
    fmt(buf, sizeof(buf), "msg=\"request\" path=\"%s\" model=\"%s\" status=%d", "/api/chat",
        "m\" injected=\"1", 404);
    assert_string_equal(buf, "msg=\"request\" path=\"/api/chat\" model=\"m\\\" injected=\\\"1\" "
                             "status=404");
    assert_int_equal(parse_logfmt(buf, keys, sizeof(keys)), 4);
    assert_string_equal(keys, "msg,path,model,status");
    /* a value inside a longer quoted text */
    fmt(buf, sizeof(buf), "msg=\"%s; keeping the addresses\" n=%zu", "bad\\host\r", (size_t)3);
    assert_string_equal(buf, "msg=\"bad\\\\host\\r; keeping the addresses\" n=3");
    /* a value whose text ends in a backslash cannot eat the closing quote */
    fmt(buf, sizeof(buf), "detail=\"%s\" x=1", "ends\\");
    assert_string_equal(buf, "detail=\"ends\\\\\" x=1");
    assert_int_equal(parse_logfmt(buf, keys, sizeof(keys)), 2);
}

static void test_conversions(void **state) {
    char buf[512];
    (void)state;
    fmt(buf, sizeof(buf), "a=%d b=%ld c=%lld d=%llu e=%zu f=%.1f g=%.0f h=%x i=%5.2f j=%% k=%c", -1,
        2L, -3LL, 4ULL, (size_t)5, 6.25, 7.6, 255u, 3.14159, 'q');
    assert_string_equal(buf, "a=-1 b=2 c=-3 d=4 e=5 f=6.2 g=8 h=ff i= 3.14 j=% k=q");
    fmt(buf, sizeof(buf), "a=\"%.3s\" b=%.*s c=%*d", "abcdef", 2, "xyz", 4, 7);
    assert_string_equal(buf, "a=\"abc\" b=xy c=   7");
    fmt(buf, sizeof(buf), "c=%c", '\n');
    assert_string_equal(buf, "c=\"\\n\"");
    fmt(buf, sizeof(buf), "q=\"%.200s\"", "a\"b");
    assert_string_equal(buf, "q=\"a\\\"b\"");
}

/* The integer conversions written without snprintf give snprintf's digits. */
static void test_integers_as_printf(void **state) {
    (void)state;
    static const long long v[] = {0,          1,
                                  -1,         9,
                                  10,         -10,
                                  99999,      -2147483647 - 1,
                                  2147483647, 4294967295LL,
                                  INT64_MAX,  INT64_MIN,
                                  1000000007, -123456789012LL};
    char got[256], want[256];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        fmt(got, sizeof(got), "a=%d b=%i c=%u", (int)v[i], (int)v[i], (unsigned)v[i]);
        snprintf(want, sizeof(want), "a=%d b=%i c=%u", (int)v[i], (int)v[i], (unsigned)v[i]);
        assert_string_equal(got, want);
        fmt(got, sizeof(got), "a=%ld b=%lld c=%llu d=%zu e=%zd f=%lu", (long)v[i], v[i],
            (unsigned long long)v[i], (size_t)v[i], (ssize_t)v[i], (unsigned long)v[i]);
        snprintf(want, sizeof(want), "a=%ld b=%lld c=%llu d=%zu e=%zd f=%lu", (long)v[i], v[i],
                 (unsigned long long)v[i], (size_t)v[i], (ssize_t)v[i], (unsigned long)v[i]);
        assert_string_equal(got, want);
        fmt(got, sizeof(got), "w=%5d p=%.3d m=%-4lld|", (int)v[i], (int)v[i], v[i] % 1000);
        snprintf(want, sizeof(want), "w=%5d p=%.3d m=%-4lld|", (int)v[i], (int)v[i], v[i] % 1000);
        assert_string_equal(got, want);
    }
}

static void test_line_cap(void **state) {
    char big[1024], buf[64], keys[256];
    (void)state;
    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t n = fmt(buf, sizeof(buf), "msg=\"x\" detail=\"%s\" status=%d", big, 1);
    assert_int_equal(n, strlen(buf));
    assert_true(n <= sizeof(buf) - 1);
    assert_int_equal(buf[n - 1], '"');
    assert_true(parse_logfmt(buf, keys, sizeof(keys)) >= 1);
    assert_quotes_balanced(buf);
    assert_one_clean_line(buf);
    n = fmt(buf, sizeof(buf), "msg=\"x\" model=%s", big);
    assert_int_equal(buf[n - 1], '"');
    assert_true(parse_logfmt(buf, keys, sizeof(keys)) == 2);
    /* a value longer than LOG_VALUE_MAX is cut, the fields after it kept */
    char line[LOG_LINE_MAX];
    memset(big, 'v', sizeof(big) - 1);
    fmt(line, sizeof(line), "model=\"%s\" status=%d", big, 200);
    assert_non_null(strstr(line, "...\" status=200"));
}

/* Random bytes in every value: one clean line, and exactly the fields of the format. */
static void test_random_values(void **state) {
    char v1[300], v2[300], buf[LOG_LINE_MAX], keys[256];
    (void)state;
    srandom(12);
    for (int round = 0; round < 20000; round++) {
        size_t l1 = (size_t)random() % sizeof(v1), l2 = (size_t)random() % sizeof(v2);
        for (size_t i = 0; i < l1; i++)
            v1[i] = (char)(1 + random() % 255);
        for (size_t i = 0; i < l2; i++)
            v2[i] = (char)(1 + random() % 255);
        v1[l1] = v2[l2] = '\0';
        size_t cap = round % 3 == 0 ? 40 + (size_t)random() % 200 : sizeof(buf);
        fmt(buf, cap, "msg=\"request\" model=%s path=\"%s\" status=%d", v1, v2, round);
        assert_one_clean_line(buf);
        assert_quotes_balanced(buf);
        if (cap == sizeof(buf)) {
            assert_int_equal(parse_logfmt(buf, keys, sizeof(keys)), 4);
            assert_string_equal(keys, "msg,model,path,status");
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_escapes), cmocka_unit_test(test_quote_caps),
        cmocka_unit_test(test_bare_values),   cmocka_unit_test(test_quoted_values),
        cmocka_unit_test(test_conversions),   cmocka_unit_test(test_integers_as_printf),
        cmocka_unit_test(test_line_cap),      cmocka_unit_test(test_random_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
