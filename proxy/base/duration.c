/* duration: Ollama's keep_alive syntax. A port of Go's time.ParseDuration and of
 * api.Duration.UnmarshalJSON, with their error texts. Pure functions, no allocation except
 * duration_to_json_new's result. */
#include "duration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Go's strconv.Quote, simplified: printable ASCII and UTF-8 bytes kept, quotes and
 * backslashes escaped, control bytes as \xNN. */
void duration_quote(const char *s, char *out, size_t len) {
    size_t o = 0;
    if (len < 3) {
        if (len)
            out[0] = '\0';
        return;
    }
    out[o++] = '"';
    for (; *s && o + 5 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
}

static int fail(char *err, size_t errlen, const char *what, const char *orig) {
    char q[160];
    duration_quote(orig, q, sizeof(q));
    if (err && errlen)
        snprintf(err, errlen, "time: %s %s", what, q);
    return -1;
}

struct unit {
    const char *name;
    uint64_t ns;
};

static const struct unit units[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000}, /* U+03BC greek mu */
    {"ms", 1000000},
    {"s", 1000000000},
    {"m", UINT64_C(60) * 1000000000},
    {"h", UINT64_C(3600) * 1000000000},
};

int duration_parse_go(const char *orig, int64_t *ns, char *err, size_t errlen) {
    const char *s = orig;
    const uint64_t limit = UINT64_C(1) << 63;
    uint64_t d = 0;
    int neg = 0;

    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (*s == '\0')
        return fail(err, errlen, "invalid duration", orig);
    while (*s) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        int pre = 0, post = 0;

        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return fail(err, errlen, "invalid duration", orig);
        for (; *s >= '0' && *s <= '9'; s++, pre = 1) {
            if (v > (limit - 1) / 10)
                return fail(err, errlen, "invalid duration", orig);
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > limit)
                return fail(err, errlen, "invalid duration", orig);
        }
        if (*s == '.') {
            int overflow = 0;
            for (s++; *s >= '0' && *s <= '9'; s++, post = 1) {
                if (overflow)
                    continue;
                if (f > (limit - 1) / 10) {
                    overflow = 1; /* Go stops accumulating, keeps consuming digits */
                    continue;
                }
                f = f * 10 + (uint64_t)(*s - '0');
                scale *= 10;
            }
        }
        if (!pre && !post)
            return fail(err, errlen, "invalid duration", orig);

        size_t i = 0;
        while (s[i] && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9'))
            i++;
        if (i == 0)
            return fail(err, errlen, "missing unit in duration", orig);
        const struct unit *u = NULL;
        for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
            if (strlen(units[k].name) == i && memcmp(units[k].name, s, i) == 0)
                u = &units[k];
        }
        if (!u) {
            char name[64], q[160], msg[256];
            size_t n = i < sizeof(name) - 1 ? i : sizeof(name) - 1;
            memcpy(name, s, n);
            name[n] = '\0';
            duration_quote(name, q, sizeof(q));
            snprintf(msg, sizeof(msg), "unknown unit %s in duration", q);
            return fail(err, errlen, msg, orig);
        }
        s += i;
        if (v > limit / u->ns)
            return fail(err, errlen, "invalid duration", orig);
        v *= u->ns;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)u->ns / scale));
            if (v > limit)
                return fail(err, errlen, "invalid duration", orig);
        }
        d += v;
        if (d > limit)
            return fail(err, errlen, "invalid duration", orig);
    }
    if (neg) {
        *ns = d ? DURATION_FOREVER : 0; /* Ollama: a negative duration means forever */
        return 0;
    }
    if (d > limit - 1)
        return fail(err, errlen, "invalid duration", orig);
    *ns = (int64_t)d;
    return 0;
}

int duration_parse_config(const char *s, int64_t *ns, char *err, size_t errlen) {
    char goerr[256];
    if (duration_parse_go(s, ns, goerr, sizeof(goerr)) == 0)
        return 0;
    /* A bare integer is seconds, as OLLAMA_KEEP_ALIVE allows. */
    char *end = NULL;
    long long secs = strtoll(s, &end, 10);
    if (*s && end && *end == '\0' && s[0] != ' ' && s[0] != '\t') {
        if (secs < 0)
            *ns = DURATION_FOREVER;
        else if (secs > INT64_MAX / DURATION_SECOND)
            return fail(err, errlen, "invalid duration", s);
        else
            *ns = secs * DURATION_SECOND;
        return 0;
    }
    if (err && errlen)
        snprintf(err, errlen,
                 "%s (use -1 for forever, seconds, or units ns us ms s m h: 5m, 1h30m)", goerr);
    return -1;
}

static const char *json_type_go_name(const json_t *v) {
    switch (json_typeof(v)) {
        case JSON_TRUE:
        case JSON_FALSE:
            return "bool";
        case JSON_OBJECT:
            return "map[string]interface {}";
        case JSON_ARRAY:
            return "[]interface {}";
        default:
            return "<nil>";
    }
}

int duration_from_json(const json_t *v, int64_t *ns, char *err, size_t errlen) {
    if (json_is_number(v)) {
        double t = json_number_value(v);
        if (t < 0) {
            *ns = DURATION_FOREVER;
            return 0;
        }
        double n = t * (double)DURATION_SECOND;
        if (!(n < 9.2233720368547758e18)) {
            /* Go's float->int64 overflow yields a negative value, which Ollama treats as
             * "unload now"; report it instead of reproducing the trap. */
            if (err && errlen)
                snprintf(err, errlen, "keep_alive %g seconds is too large; use -1 for forever", t);
            return -1;
        }
        *ns = (int64_t)n;
        return 0;
    }
    if (json_is_string(v))
        return duration_parse_go(json_string_value(v), ns, err, errlen);
    if (err && errlen)
        snprintf(err, errlen, "Unsupported type: '%s'", json_type_go_name(v));
    return -1;
}

json_t *duration_to_json_new(int64_t ns) {
    char buf[64];
    if (ns == DURATION_FOREVER || ns < 0)
        return json_integer(-1);
    if (ns % DURATION_SECOND == 0)
        return json_integer(ns / DURATION_SECOND);
    duration_format(ns, buf, sizeof(buf));
    return json_string(buf);
}

/* Prints v / 10^prec with trailing zeros trimmed, like Go's fmtFrac + fmtInt. */
static int put_frac(char *buf, size_t len, uint64_t v, int prec) {
    uint64_t div = 1;
    for (int i = 0; i < prec; i++)
        div *= 10;
    uint64_t whole = v / div, frac = v % div;
    if (frac == 0)
        return snprintf(buf, len, "%llu", (unsigned long long)whole);
    char digits[32];
    snprintf(digits, sizeof(digits), "%0*llu", prec, (unsigned long long)frac);
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return snprintf(buf, len, "%llu.%s", (unsigned long long)whole, digits);
}

void duration_format(int64_t ns, char *buf, size_t len) {
    if (!len)
        return;
    if (ns == DURATION_FOREVER) {
        snprintf(buf, len, "forever");
        return;
    }
    if (ns == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    const char *sign = ns < 0 ? "-" : "";
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    char num[48];
    if (u < 1000) {
        snprintf(buf, len, "%s%lluns", sign, (unsigned long long)u);
    } else if (u < 1000000) {
        put_frac(num, sizeof(num), u, 3);
        snprintf(buf, len, "%s%sus", sign, num);
    } else if (u < 1000000000) {
        put_frac(num, sizeof(num), u, 6);
        snprintf(buf, len, "%s%sms", sign, num);
    } else {
        uint64_t secs_ns = u % (UINT64_C(60) * 1000000000);
        uint64_t mins = u / (UINT64_C(60) * 1000000000);
        put_frac(num, sizeof(num), secs_ns, 9);
        if (mins >= 60)
            snprintf(buf, len, "%s%lluh%llum%ss", sign, (unsigned long long)(mins / 60),
                     (unsigned long long)(mins % 60), num);
        else if (mins > 0)
            snprintf(buf, len, "%s%llum%ss", sign, (unsigned long long)mins, num);
        else
            snprintf(buf, len, "%s%ss", sign, num);
    }
}

size_t duration_to_json_text(int64_t ns, char *buf, size_t len) {
    char text[48];
    int n;
    if (ns == DURATION_FOREVER || ns < 0) {
        if (len < 3)
            return 0;
        memcpy(buf, "-1", 3);
        return 2;
    } else if (ns % DURATION_SECOND == 0) { /* by hand: this runs for every request */
        char digits[24];
        size_t d = 0;
        for (uint64_t s = (uint64_t)(ns / DURATION_SECOND); d == 0 || s; s /= 10)
            digits[d++] = (char)('0' + s % 10);
        if (d >= len)
            return 0;
        for (n = 0; d; n++)
            buf[n] = digits[--d];
        buf[n] = '\0';
    } else {
        /* Digits, '.', and unit letters only: nothing json_dumps would escape. */
        duration_format(ns, text, sizeof(text));
        n = snprintf(buf, len, "\"%s\"", text);
    }
    return n > 0 && (size_t)n < len ? (size_t)n : 0;
}
