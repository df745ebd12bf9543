/* goduration: Go's time.ParseDuration and Duration.String and Ollama's keep_alive rules,
 * written from Go's time/format.go semantics and Ollama's api/types.go and envconfig, not from
 * keepwarm's proxy/base/duration.c. Pure functions; nothing allocated. */
#include "goduration.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LIMIT (UINT64_C(1) << 63) /* |math.MinInt64|: the magnitude the parser may reach */

/* A bounded writer into the caller's message buffer; text past the end is dropped. */
struct msg {
    char *buf;
    size_t len, used;
};

static void msg_puts(struct msg *m, const char *s, size_t n) {
    if (!m->buf || !m->len)
        return;
    for (size_t i = 0; i < n && m->used + 1 < m->len; i++)
        m->buf[m->used++] = s[i];
    m->buf[m->used] = '\0';
}

static void msg_str(struct msg *m, const char *s) {
    msg_puts(m, s, strlen(s));
}

/* Package time's quote (not strconv's): printable ASCII kept with '"' and '\\' backslashed,
 * and every other byte, each byte of a multi-byte rune included, as \xNN. */
static void msg_time_quote(struct msg *m, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    msg_puts(m, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            msg_puts(m, e, 4);
        } else {
            if (c == '"' || c == '\\')
                msg_puts(m, "\\", 1);
            msg_puts(m, (const char *)&s[i], 1);
        }
    }
    msg_puts(m, "\"", 1);
}

/* "time: <what> <quoted s>" */
static int go_error(char *err, size_t errlen, const char *what, const char *s, size_t n) {
    struct msg m = {err, errlen, 0};
    msg_str(&m, "time: ");
    msg_str(&m, what);
    msg_puts(&m, " ", 1);
    msg_time_quote(&m, s, n);
    return -1;
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* time's unitMap. */
static uint64_t unit_ns(const char *u, size_t n) {
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xc2\xb5s", 1000}, /* U+00B5 MICRO SIGN */
        {"\xce\xbcs", 1000}, /* U+03BC GREEK SMALL LETTER MU */
        {"ms", 1000 * 1000},
        {"s", 1000 * 1000 * 1000},
        {"m", UINT64_C(60) * 1000 * 1000 * 1000},
        {"h", UINT64_C(3600) * 1000 * 1000 * 1000},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

int goduration_parse_n(const char *s, size_t n, int64_t *ns, char *err, size_t errlen) {
    size_t i = 0;
    int negative = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        i = 1;
    }
    if (n - i == 1 && s[i] == '0') { /* the one number allowed without a unit */
        *ns = 0;
        return 0;
    }
    if (i == n)
        return go_error(err, errlen, "invalid duration", s, n);
    uint64_t total = 0;
    while (i < n) {
        if (s[i] != '.' && !is_digit(s[i]))
            return go_error(err, errlen, "invalid duration", s, n);
        /* Whole part: it may not pass 2^63 at any digit. */
        uint64_t whole = 0;
        size_t start = i;
        for (; i < n && is_digit(s[i]); i++) {
            if (whole > LIMIT / 10)
                return go_error(err, errlen, "invalid duration", s, n);
            whole = whole * 10 + (uint64_t)(s[i] - '0');
            if (whole > LIMIT)
                return go_error(err, errlen, "invalid duration", s, n);
        }
        int has_whole = i > start;
        /* Fraction: digits past what fits are read and ignored (lost precision, no error). */
        uint64_t frac = 0;
        double scale = 1;
        int has_frac = 0;
        if (i < n && s[i] == '.') {
            i++;
            int full = 0;
            for (start = i; i < n && is_digit(s[i]); i++) {
                if (full)
                    continue;
                uint64_t next;
                if (frac > (LIMIT - 1) / 10 ||
                    (next = frac * 10 + (uint64_t)(s[i] - '0')) > LIMIT) {
                    full = 1;
                    continue;
                }
                frac = next;
                scale *= 10;
            }
            has_frac = i > start;
        }
        if (!has_whole && !has_frac) /* ".s", "-." */
            return go_error(err, errlen, "invalid duration", s, n);
        /* The unit runs to the next digit or '.', or to the end. */
        start = i;
        while (i < n && s[i] != '.' && !is_digit(s[i]))
            i++;
        if (i == start)
            return go_error(err, errlen, "missing unit in duration", s, n);
        uint64_t unit = unit_ns(s + start, i - start);
        if (!unit) {
            struct msg m = {err, errlen, 0};
            msg_str(&m, "time: unknown unit ");
            msg_time_quote(&m, s + start, i - start);
            msg_str(&m, " in duration ");
            msg_time_quote(&m, s, n);
            return -1;
        }
        if (whole > LIMIT / unit)
            return go_error(err, errlen, "invalid duration", s, n);
        uint64_t v = whole * unit;
        if (frac > 0) {
            /* float64, as Go does: exact to the nanosecond even for fractions of hours. */
            v += (uint64_t)((double)frac * ((double)unit / scale));
            if (v > LIMIT)
                return go_error(err, errlen, "invalid duration", s, n);
        }
        total += v;
        if (total > LIMIT)
            return go_error(err, errlen, "invalid duration", s, n);
    }
    if (negative) {
        *ns = total ? GODURATION_FOREVER : 0; /* Go: -d, which Ollama turns into forever */
        return 0;
    }
    if (total > LIMIT - 1)
        return go_error(err, errlen, "invalid duration", s, n);
    *ns = (int64_t)total;
    return 0;
}

int goduration_parse(const char *s, int64_t *ns, char *err, size_t errlen) {
    return goduration_parse_n(s, strlen(s), ns, err, errlen);
}

/* strconv.ParseInt(s, 10, 64): an optional sign and at least one digit, nothing else, in
 * range. Returns 0 with the value, or -1. */
static int parse_int64(const char *s, int64_t *out) {
    int negative = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    if (!*s)
        return -1;
    uint64_t v = 0, max = negative ? LIMIT : LIMIT - 1;
    for (; *s; s++) {
        if (!is_digit(*s))
            return -1;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v; /* 0 - 2^63 wraps to MinInt64 */
    return 0;
}

int goduration_parse_config(const char *s, int64_t *ns, char *err, size_t errlen) {
    char goerr[256];
    if (goduration_parse(s, ns, goerr, sizeof(goerr)) == 0)
        return 0;
    int64_t secs;
    if (parse_int64(s, &secs) == 0) {
        if (secs < 0) {
            *ns = GODURATION_FOREVER;
            return 0;
        }
        if (secs <= INT64_MAX / GODURATION_SECOND) {
            *ns = secs * GODURATION_SECOND;
            return 0;
        }
        if (err && errlen)
            snprintf(err, errlen, "keep_alive %s seconds is too large; use -1 for forever", s);
        return -1;
    }
    if (err && errlen)
        snprintf(err, errlen, "%s (use -1 for forever, whole seconds, or a Go duration: 5m, 1h30m)",
                 goerr);
    return -1;
}

/* reflect.TypeOf of what encoding/json decodes into an interface{}, for the non-number,
 * non-string cases. */
static const char *go_type_name(const json_t *v) {
    if (json_is_boolean(v))
        return "bool";
    if (json_is_object(v))
        return "map[string]interface {}";
    if (json_is_array(v))
        return "[]interface {}";
    return NULL;
}

int goduration_from_json(const json_t *v, int64_t *ns, char *err, size_t errlen) {
    if (json_is_string(v))
        return goduration_parse_n(json_string_value(v), json_string_length(v), ns, err, errlen);
    if (json_is_number(v)) {
        double secs = json_number_value(v); /* Go decodes every JSON number to float64 */
        if (secs < 0) {
            *ns = GODURATION_FOREVER;
            return 0;
        }
        double total = secs * 1e9; /* t * float64(time.Second), truncated by the conversion */
        if (total >= 9223372036854775808.0) {
            if (err && errlen)
                snprintf(err, errlen, "keep_alive %g seconds is too large; use -1 for forever",
                         secs);
            return -1;
        }
        *ns = (int64_t)total;
        return 0;
    }
    const char *type = go_type_name(v);
    if (err && errlen) {
        if (type)
            snprintf(err, errlen, "Unsupported type: '%s'", type);
        else
            snprintf(err, errlen, "keep_alive is null: treat it as unset");
    }
    return -1;
}

/* Writes the digits of v right-aligned ending at end; returns the new start. */
static char *put_uint(char *end, uint64_t v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* Go's fmtFrac: the last prec digits of v as a fraction with trailing zeros dropped (and no
 * '.' when they are all zero), written right-aligned ending at *end; returns v / 10^prec. */
static uint64_t put_frac(char **end, uint64_t v, int prec) {
    int started = 0;
    for (int i = 0; i < prec; i++, v /= 10) {
        int digit = (int)(v % 10);
        if (digit || started) {
            *--*end = (char)('0' + digit);
            started = 1;
        }
    }
    if (started)
        *--*end = '.';
    return v;
}

void goduration_format(int64_t ns, char *buf, size_t len) {
    if (!len)
        return;
    if (ns == GODURATION_FOREVER) {
        snprintf(buf, len, "forever");
        return;
    }
    char text[40], *end = text + sizeof(text) - 1, *p;
    *end = '\0';
    uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    if (u == 0) {
        p = end - 2;
        memcpy(p, "0s", 2);
    } else if (u < 1000 * 1000 * 1000) {
        /* Under a second: one unit, the largest that keeps a whole part. */
        const char *unit = u < 1000 ? "ns" : u < 1000 * 1000 ? "\xc2\xb5s" : "ms";
        int prec = u < 1000 ? 0 : u < 1000 * 1000 ? 3 : 6;
        p = end - strlen(unit);
        memcpy(p, unit, strlen(unit));
        u = put_frac(&p, u, prec);
        p = put_uint(p, u);
    } else {
        /* Hours, minutes and seconds; hours is the largest unit Go prints. */
        p = end;
        *--p = 's';
        u = put_frac(&p, u, 9); /* u: whole seconds */
        p = put_uint(p, u % 60);
        u /= 60; /* minutes */
        if (u) {
            *--p = 'm';
            p = put_uint(p, u % 60);
            u /= 60; /* hours */
            if (u) {
                *--p = 'h';
                p = put_uint(p, u);
            }
        }
    }
    if (ns < 0)
        *--p = '-';
    snprintf(buf, len, "%s", p);
}
