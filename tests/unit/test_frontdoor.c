/* Unit tests for frontdoor: the raw head scanner, Content-Length parsing, the header checks,
 * body deadlines, the JSON value counter and the front door's own answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>

#include "frontdoor.h"

/* Scans text whole and cut into pieces of every size: the same verdict and head length. */
static const char *scan(const char *text, size_t n, size_t *head_len) {
    struct frontdoor_head whole;
    frontdoor_head_init(&whole);
    *head_len = frontdoor_head_feed(&whole, text, n);
    for (size_t piece = 1; piece < 8; piece++) {
        struct frontdoor_head h;
        size_t used = 0;
        frontdoor_head_init(&h);
        for (size_t off = 0; off < n; off += piece)
            used += frontdoor_head_feed(&h, text + off, off + piece < n ? piece : n - off);
        assert_int_equal(used, *head_len);
        assert_int_equal(h.done, whole.done);
        assert_true((h.bad == NULL) == (whole.bad == NULL));
    }
    return whole.done ? (whole.bad ? whole.bad : "") : NULL;
}
#define SCAN(lit, len) scan(lit, sizeof(lit) - 1, len)

static void test_head_scan(void **state) {
    size_t len;
    (void)state;
    assert_string_equal(SCAN("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY\0\1", &len), "");
    assert_int_equal(len, 27);
    assert_string_equal(SCAN("GET / HTTP/1.1\nHost: x\n\nrest", &len), "");
    assert_int_equal(len, 24);
    assert_string_equal(SCAN("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", &len), ""); /* HTAB is fine */
    assert_non_null(strstr(SCAN("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", &len), "NUL"));
    assert_non_null(strstr(SCAN("GET /\0 HTTP/1.1\r\n\r\n", &len), "NUL"));
    assert_non_null(strstr(SCAN("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", &len), "bare CR"));
    assert_non_null(strstr(SCAN("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", &len), "obs-fold"));
    assert_non_null(strstr(SCAN("GET / HTTP/1.1\r\nX: \x7f\r\n\r\n", &len), "control"));
    assert_null(SCAN("GET / HTTP/1.1\r\nHost: x\r\n", &len)); /* not done yet */
    assert_int_equal(len, 25);
    /* High bytes (obs-text) are allowed in values, as nginx allows them. */
    assert_string_equal(SCAN("GET / HTTP/1.1\r\nX: \xc3\xa9\r\n\r\n", &len), "");
}

static void test_parse_length(void **state) {
    uint64_t v = 7;
    (void)state;
    assert_int_equal(frontdoor_parse_length("0", &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(frontdoor_parse_length("9223372036854775807", &v), 0);
    assert_true(v == INT64_MAX);
    static const char *const bad[] = {"",
                                      "+2",
                                      "-1",
                                      "0x2",
                                      " 2",
                                      "2 ",
                                      "2\t",
                                      "\t2",
                                      "2,2",
                                      "1e3",
                                      "9223372036854775808",
                                      "18446744073709551617",
                                      "99999999999999999999",
                                      "00000000000000000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(frontdoor_parse_length(bad[i], &v), -1);
}

static int check(enum evhttp_cmd_type cmd, const char *lines, struct frontdoor_verdict *v) {
    struct evkeyvalq h;
    TAILQ_INIT(&h);
    char *copy = strdup(lines), *save = NULL;
    for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(l, ':');
        *colon = '\0';
        struct evkeyval *kv = calloc(1, sizeof(*kv));
        kv->key = strdup(l);
        kv->value = strdup(colon + 1);
        TAILQ_INSERT_TAIL(&h, kv, next);
    }
    free(copy);
    int rc = frontdoor_check(cmd, &h, 1000, v);
    evhttp_clear_headers(&h);
    return rc;
}

static void test_check(void **state) {
    struct frontdoor_verdict v;
    (void)state;
    assert_int_equal(check(EVHTTP_REQ_POST, "Host:x\nContent-Length:12", &v), 0);
    assert_int_equal(v.body, 1);
    assert_int_equal(v.length, 12);
    assert_int_equal(check(EVHTTP_REQ_POST, "Transfer-Encoding:Chunked", &v), 0);
    assert_int_equal(v.body, 2);
    assert_int_equal(check(EVHTTP_REQ_GET, "Host:x", &v), 0);
    assert_int_equal(v.body, 0);
    assert_int_equal(check(EVHTTP_REQ_HEAD, "Content-Length:5", &v), 0);
    assert_int_equal(v.body, 0); /* evhttp reads no body for HEAD */
    assert_int_equal(check(EVHTTP_REQ_POST, "Content-Length:100\nExpect:100-Continue", &v), 0);

    struct {
        enum evhttp_cmd_type cmd;
        const char *headers;
        int status;
    } bad[] = {
        {EVHTTP_REQ_POST, "Content-Length:2\nContent-Length:59", 400},
        {EVHTTP_REQ_POST, "Content-Length:2\ncontent-length:2", 400},
        {EVHTTP_REQ_POST, "Content-Length:2\nTransfer-Encoding:chunked", 400},
        {EVHTTP_REQ_POST, "Transfer-Encoding:chunked\nTransfer-Encoding:chunked", 400},
        {EVHTTP_REQ_POST, "Transfer-Encoding:gzip, chunked", 501},
        {EVHTTP_REQ_POST, "Transfer-Encoding:identity", 501},
        {EVHTTP_REQ_POST, "Content-Length:+2", 400},
        {EVHTTP_REQ_POST, "Content-Length:", 400},
        {EVHTTP_REQ_POST, "Content-Length:99999999999999999999", 400},
        {EVHTTP_REQ_POST, "Transfer-Encoding :chunked", 400},
        {EVHTTP_REQ_GET, "X Y:1", 400},
        {EVHTTP_REQ_GET, ":1", 400},
        {EVHTTP_REQ_GET, "X-A(b):1", 400},
        {EVHTTP_REQ_GET, "X-A:a\001b", 400},
        {EVHTTP_REQ_POST, "Content-Length:1001\nExpect:100-continue", 413},
        {EVHTTP_REQ_POST, "Content-Length:10\nExpect:200-ok", 417},
        {EVHTTP_REQ_GET, "Expect:100-continue\nExpect:100-continue", 417},
        {EVHTTP_REQ_CONNECT, "Host:x", 501},
        {EVHTTP_REQ_TRACE, "Host:x", 501},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check(bad[i].cmd, bad[i].headers, &v), -1);
        assert_int_equal(v.status, bad[i].status);
        assert_non_null(v.message);
    }
    /* Over max_body without Expect: 413 too (evhttp's would be an HTML page). */
    assert_int_equal(check(EVHTTP_REQ_POST, "Content-Length:5000", &v), -1);
    assert_int_equal(v.status, 413);
    assert_int_equal(check(EVHTTP_REQ_POST, "Content-Length:1000", &v), 0);
}

static void test_body_deadline(void **state) {
    (void)state;
    assert_int_equal(frontdoor_body_deadline_ms(60000, 0), 60000);
    assert_int_equal(frontdoor_body_deadline_ms(60000, 32u << 20), 92000);
    assert_int_equal(frontdoor_body_deadline_ms(1000, (1u << 20) - 1), 1000);
}

static void test_json_values(void **state) {
    (void)state;
    const long k = FRONTDOOR_JSON_CONTAINER_COST;
#define COST(lit) frontdoor_json_cost(lit, sizeof(lit) - 1, 1000)
    assert_int_equal(COST("{}"), k);
    assert_int_equal(COST("{\"a\":1}"), k + 2);
    assert_int_equal(COST("{\"a\":[1,22,true,null,-1.5e3]}"), 2 * k + 6);
    assert_int_equal(COST("{\"s\":\"[{},{}] \\\" {}\"}"), k + 2); /* brackets inside strings */
    assert_int_equal(COST("[{},{},{}]"), 4 * k);
    assert_int_equal(COST(" [ 1 , 2 ] "), k + 2);
    assert_int_equal(COST(""), 0);
    /* The cap: a cost over cap is -1, exactly cap is fine. */
    char big[4001];
    for (int i = 0; i < 2000; i++)
        memcpy(big + 2 * i, "{}", 2);
    assert_int_equal(frontdoor_json_cost(big, 4000, 2000 * k), 2000 * k);
    assert_int_equal(frontdoor_json_cost(big, 4000, 2000 * k - 1), -1);
    assert_true(FRONTDOOR_MAX_JSON_COST >= 100000);
}

static void test_reply(void **state) {
    char out[1024];
    (void)state;
#define BODY(lit) lit, sizeof(lit) - 1
    size_t n = frontdoor_reply_format(out, sizeof(out), 400,
                                      BODY("{\"error\":\"invalid Content-Length\"}"), 0);
    assert_true(n > 0 && n == strlen(out));
    assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request\r\n"));
    assert_non_null(strstr(out, "Connection: close\r\n"));
    assert_non_null(strstr(out, "Content-Length: 34\r\n"));
    assert_non_null(strstr(out, "\r\n\r\n{\"error\":\"invalid Content-Length\"}"));
    /* HEAD: the same headers (Content-Length of the body a GET would get), no body. */
    char get[1024];
    frontdoor_reply_format(get, sizeof(get), 400, BODY("{\"error\":\"x\"}"), 0);
    n = frontdoor_reply_format(out, sizeof(out), 400, BODY("{\"error\":\"x\"}"), 1);
    assert_int_equal(strncmp(out, get, n), 0);
    assert_string_equal(out + n - 4, "\r\n\r\n");
    assert_int_equal(frontdoor_reply_format(out, 20, 400, BODY("{\"error\":\"x\"}"), 0), 0);
    /* a body that does not fit after the head: nothing */
    n = frontdoor_reply_format(get, sizeof(get), 400, BODY("{\"error\":\"x\"}"), 0);
    assert_int_equal(frontdoor_reply_format(out, n, 400, BODY("{\"error\":\"x\"}"), 0), 0);
    assert_int_equal(frontdoor_reply_format(out, n + 1, 400, BODY("{\"error\":\"x\"}"), 0), n);
#undef BODY
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_head_scan),   cmocka_unit_test(test_parse_length),
        cmocka_unit_test(test_check),       cmocka_unit_test(test_body_deadline),
        cmocka_unit_test(test_json_values), cmocka_unit_test(test_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
