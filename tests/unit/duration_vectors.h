/* The Go duration facts both duration parsers are held to: keepwarm's proxy/base/duration.c
 * (test_duration.c) and the stand-in Ollama's independent tests/fake_ollama/goduration.c
 * (test_fake_duration.c) each run every row here through the runners below, handing in their
 * own functions (the two share signatures), so a vector added once checks both. */
#ifndef KEEPWARM_DURATION_VECTORS_H
#define KEEPWARM_DURATION_VECTORS_H

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define DV_SECOND  INT64_C(1000000000)
#define DV_FOREVER INT64_MAX /* DURATION_FOREVER and GODURATION_FOREVER: Go's math.MaxInt64 */

/* A text that parses (want_ns) or fails with err_want, Go's exact message (NULL: parses). */
struct dv_row {
    const char *text;
    int64_t want_ns;
    const char *err_want;
};

/* Go's time.ParseDuration, with anything negative as forever. */
static const struct dv_row dv_go[] = {
    {"0", 0, NULL},
    {"-0", 0, NULL},
    {"0s", 0, NULL},
    {"5m", 300 * DV_SECOND, NULL},
    {"24h", 86400 * DV_SECOND, NULL},
    {"1h30m", 5400 * DV_SECOND, NULL},
    {"1.5h", 5400 * DV_SECOND, NULL},
    {"300ms", 300000000, NULL},
    {"10s", 10 * DV_SECOND, NULL},
    {"1us", 1000, NULL},
    {"1\xc2\xb5s", 1000, NULL},
    {"7ns", 7, NULL},
    {".5s", 500000000, NULL},
    {"+2s", 2 * DV_SECOND, NULL},
    {"-1m", DV_FOREVER, NULL},
    {"-1s", DV_FOREVER, NULL},
    {"-1h", DV_FOREVER, NULL},
    {"-1", 0, "time: missing unit in duration \"-1\""},
    {"300", 0, "time: missing unit in duration \"300\""},
    {"1d", 0, "time: unknown unit \"d\" in duration \"1d\""},
    {"1y", 0, "time: unknown unit \"y\" in duration \"1y\""},
    {"", 0, "time: invalid duration \"\""},
    {" 5m", 0, "time: invalid duration \" 5m\""},
    {"5m ", 0, "time: unknown unit \"m \" in duration \"5m \""},
    {"m", 0, "time: invalid duration \"m\""},
    {".s", 0, "time: invalid duration \".s\""},
    {"9999999999h", 0, "time: invalid duration \"9999999999h\""},
    {"99999999999999999999s", 0, "time: invalid duration \"99999999999999999999s\""},
};

/* Ollama's JSON keep_alive (vector V18 of the research notes): {}->unset, 42->42s,
 * 42.5->42.5s, "42m"->42m, -1->forever, -3.14->forever, "-1m"->forever. text is JSON. */
static const struct dv_row dv_json[] = {
    {"42", 42 * DV_SECOND, NULL},
    {"42.5", 42500000000LL, NULL},
    {"\"42m\"", 42 * 60 * DV_SECOND, NULL},
    {"-1", DV_FOREVER, NULL},
    {"-3.14", DV_FOREVER, NULL},
    {"\"-1m\"", DV_FOREVER, NULL},
    {"0", 0, NULL},
    {"-0", 0, NULL},
    {"\"0\"", 0, NULL},
    {"\"-1\"", 0, "time: missing unit in duration \"-1\""},
    {"\"1d\"", 0, "time: unknown unit \"d\" in duration \"1d\""},
    {"\"\"", 0, "time: invalid duration \"\""},
    {"true", 0, "Unsupported type: 'bool'"},
    {"{}", 0, "Unsupported type: 'map[string]interface {}'"},
    {"[]", 0, "Unsupported type: '[]interface {}'"},
    {"1e300", 0, "keep_alive 1e+300 seconds is too large; use -1 for forever"},
};

/* The config syntax (bare seconds or a Go duration). err_want here is a part of the message
 * (strstr), "" when any message will do. */
static const struct dv_row dv_config[] = {
    {"60", 60 * DV_SECOND, NULL},
    {"-1", DV_FOREVER, NULL},
    {"500ms", 500000000, NULL},
    {"1d", 0, "unknown unit \"d\""},
    {"1d", 0, "use -1 for forever"},
    {" 60", 0, ""},
    {"", 0, ""},
};

/* Duration.String, where both print the same; 1500ns is not here: Go prints "1.5µs" (U+00B5)
 * where keepwarm deliberately prints ASCII "1.5us", so each test checks its own. */
struct dv_format {
    int64_t ns;
    const char *want;
};

static const struct dv_format dv_format[] = {
    {0, "0s"},  {300 * DV_SECOND, "5m0s"}, {5400 * DV_SECOND, "1h30m0s"}, {500000000, "500ms"},
    {7, "7ns"}, {DV_FOREVER, "forever"},
};

/* Parsed, then formatted back: the same text. */
static const char *const dv_round_trip[] = {"1h2m3.5s"};

#define DV_COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef int (*dv_parse_fn)(const char *s, int64_t *ns, char *err, size_t errlen);
typedef int (*dv_json_fn)(const json_t *v, int64_t *ns, char *err, size_t errlen);
typedef void (*dv_format_fn)(int64_t ns, char *buf, size_t len);

/* One row's outcome against what it wants; err_part: err_want is a part of the message. */
static inline void dv_expect(const char *text, int rc, int64_t ns, const char *err,
                             const struct dv_row *r, int err_part) {
    if (!r->err_want) {
        if (rc != 0 || ns != r->want_ns)
            fail_msg("'%s': rc %d, %lld ns (%s); want %lld ns", text, rc, (long long)ns, err,
                     (long long)r->want_ns);
        return;
    }
    if (rc != -1)
        fail_msg("'%s': rc %d, want -1 (%s)", text, rc, r->err_want);
    if (err_part ? !strstr(err, r->err_want) : strcmp(err, r->err_want) != 0)
        fail_msg("'%s': message '%s', want %s'%s'", text, err, err_part ? "a part " : "",
                 r->err_want);
}

/* Every row through parse (a text parser); err_part as in dv_expect. */
static inline void dv_run_parse(const struct dv_row *rows, size_t n, dv_parse_fn parse,
                                int err_part) {
    for (size_t i = 0; i < n; i++) {
        int64_t ns = -42;
        char err[256] = "";
        int rc = parse(rows[i].text, &ns, err, sizeof(err));
        dv_expect(rows[i].text, rc, ns, err, &rows[i], err_part);
    }
}

/* Every row's JSON text, loaded, through from_json. */
static inline void dv_run_json(const struct dv_row *rows, size_t n, dv_json_fn from_json) {
    for (size_t i = 0; i < n; i++) {
        json_error_t jerr;
        json_t *v = json_loads(rows[i].text, JSON_DECODE_ANY, &jerr);
        assert_non_null(v);
        int64_t ns = -42;
        char err[256] = "";
        int rc = from_json(v, &ns, err, sizeof(err));
        json_decref(v);
        dv_expect(rows[i].text, rc, ns, err, &rows[i], 0);
    }
}

/* dv_format through format, then dv_round_trip through parse and format. */
static inline void dv_run_format(dv_format_fn format, dv_parse_fn parse) {
    char buf[64];
    for (size_t i = 0; i < DV_COUNT(dv_format); i++) {
        format(dv_format[i].ns, buf, sizeof(buf));
        assert_string_equal(buf, dv_format[i].want);
    }
    for (size_t i = 0; i < DV_COUNT(dv_round_trip); i++) {
        int64_t ns;
        char err[64];
        assert_int_equal(parse(dv_round_trip[i], &ns, err, sizeof(err)), 0);
        format(ns, buf, sizeof(buf));
        assert_string_equal(buf, dv_round_trip[i]);
    }
}

#endif
