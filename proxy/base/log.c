/* log: one formatted line per call, written with a single fwrite so lines never interleave.
 * Owns the formatter that escapes every value (log.h), so a line can neither be split nor get
 * a field it was not written with. */
#include "log.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>

static enum log_level current = LOG_LEVEL_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, enum log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(enum log_level level) {
    current = level;
}

/* ---- the formatter --------------------------------------------------------------------- */

/* Output being built: cap leaves room for a closing quote and the NUL; full is set once
 * something did not fit, and nothing is written after it. quoted tracks whether the output
 * stands inside a quoted value (values are escaped, so only the format's quotes count). */
struct lbuf {
    char *p;
    size_t n, cap;
    int full;
    int quoted;
};

static int fits(struct lbuf *b, size_t n) {
    if (b->full || b->n + n > b->cap) {
        b->full = 1;
        return 0;
    }
    return 1;
}

/* Trusted text (the format's literals, numbers): a quote opens or closes a value. */
static void put_raw(struct lbuf *b, const char *s, size_t n) {
    if (b->full)
        return;
    size_t room = b->cap - b->n, k = n <= room ? n : room;
    memcpy(b->p + b->n, s, k);
    b->n += k;
    for (const char *q = s; (q = memchr(q, '"', (size_t)(s + k - q))) != NULL; q++)
        b->quoted = !b->quoted;
    if (k < n)
        b->full = 1;
}

static int needs_escape(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == '"' || c == '\\';
}

/* A bare value is a plain token: not empty, no space, '=', quote, backslash or control byte. */
static int needs_quotes(const char *s, size_t n) {
    if (n == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '=' || needs_escape((unsigned char)s[i]))
            return 1;
    return 0;
}

/* The escape of c into e (not terminated); its length. */
static size_t escape_byte(unsigned char c, char e[6]) {
    static const char hex[] = "0123456789abcdef";
    const char *two = c == '"'    ? "\\\""
                      : c == '\\' ? "\\\\"
                      : c == '\n' ? "\\n"
                      : c == '\r' ? "\\r"
                      : c == '\t' ? "\\t"
                                  : NULL;
    if (two) {
        memcpy(e, two, 2);
        return 2;
    }
    if (!needs_escape(c)) {
        e[0] = (char)c;
        return 1;
    }
    memcpy(e, "\\u00", 4);
    e[4] = hex[c >> 4];
    e[5] = hex[c & 15];
    return 6;
}

/* Up to n bytes of s, as many as the line has room for (escapes of one byte). */
static void put_bytes(struct lbuf *b, const char *s, size_t n) {
    size_t room = b->cap - b->n, k = n <= room ? n : room;
    if (b->full)
        return;
    memcpy(b->p + b->n, s, k);
    b->n += k;
    if (k < n)
        b->full = 1;
}

/* s[0..n) escaped, whole escapes only; one longer than LOG_VALUE_MAX escaped bytes is cut
 * before LOG_VALUE_MAX - 3 and ends with "...". The plain bytes before the first one to escape
 * are scanned once and copied whole: the common value has nothing to escape. */
static void put_escaped(struct lbuf *b, const char *s, size_t n) {
    char e[6];
    size_t plain = 0;
    while (plain < n && plain <= LOG_VALUE_MAX && !needs_escape((unsigned char)s[plain]))
        plain++;
    if (plain == n && n <= LOG_VALUE_MAX) { /* whole, or nothing when the line is full */
        if (fits(b, n))
            put_bytes(b, s, n);
        return;
    }
    size_t total = plain, limit = LOG_VALUE_MAX;
    for (size_t i = plain; i < n && total <= LOG_VALUE_MAX; i++)
        total += escape_byte((unsigned char)s[i], e);
    if (total > LOG_VALUE_MAX)
        limit = LOG_VALUE_MAX - 3;
    size_t used = plain < limit ? plain : limit;
    put_bytes(b, s, used);
    for (size_t i = used; i < n && !b->full; i++) {
        size_t el = escape_byte((unsigned char)s[i], e);
        if (used + el > limit)
            break;
        if (!fits(b, el))
            return;
        memcpy(b->p + b->n, e, el);
        b->n += el;
        used += el;
    }
    if (total > LOG_VALUE_MAX && fits(b, 3)) {
        memcpy(b->p + b->n, "...", 3);
        b->n += 3;
    }
}

/* One untrusted value: escaped inside the format's quotes, else a token or quoted. A plain
 * token has nothing to escape: copied at once. */
static void put_value(struct lbuf *b, const char *s, size_t n) {
    if (b->quoted) {
        put_escaped(b, s, n);
        return;
    }
    if (!needs_quotes(s, n)) {
        if (n > LOG_VALUE_MAX)
            put_escaped(b, s, n);
        else if (fits(b, n))
            put_bytes(b, s, n);
        return;
    }
    put_raw(b, "\"", 1);
    put_escaped(b, s, n);
    put_raw(b, "\"", 1);
}

/* Decimal digits of v, written backwards from end; returns where they start. */
static char *put_decimal(char *end, unsigned long long v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

/* A conversion other than %s and %c: the common integer ones written here, the rest formatted
 * by snprintf from its own spec (a number). */
static void put_number(struct lbuf *b, const char *spec, char conv, const char *len, va_list *ap) {
    char tmp[512];
    int m = -1;
    int l = len[0] == 'l' ? (len[1] == 'l' ? 2 : 1) : len[0] == 'h' ? -1 : 0;
    /* The common conversions without flags, width or precision ("%d", "%lld", "%zu"), written
     * without snprintf (a tenth of its cost on an access line): the same digits. */
    if ((conv == 'd' || conv == 'i' || conv == 'u') && len[0] != 'h' &&
        strlen(spec) == 2 + strlen(len)) {
        char digits[24], *end = digits + sizeof(digits), *start;
        unsigned long long u;
        int neg = 0;
        if (conv == 'u') {
            u = len[0] == 'z'   ? (unsigned long long)va_arg(*ap, size_t)
                : len[0] == 'j' ? (unsigned long long)va_arg(*ap, uintmax_t)
                : len[0] == 't' ? (unsigned long long)va_arg(*ap, ptrdiff_t)
                : l == 2        ? va_arg(*ap, unsigned long long)
                : l == 1        ? va_arg(*ap, unsigned long)
                                : va_arg(*ap, unsigned);
        } else {
            long long v = len[0] == 'z'   ? (long long)va_arg(*ap, ssize_t)
                          : len[0] == 'j' ? (long long)va_arg(*ap, intmax_t)
                          : len[0] == 't' ? (long long)va_arg(*ap, ptrdiff_t)
                          : l == 2        ? va_arg(*ap, long long)
                          : l == 1        ? va_arg(*ap, long)
                                          : va_arg(*ap, int);
            neg = v < 0;
            u = neg ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        }
        start = put_decimal(end, u);
        if (neg)
            *--start = '-';
        put_raw(b, start, (size_t)(end - start));
        return;
    }
    switch (conv) {
        case 'd':
        case 'i':
            if (len[0] == 'z')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, ssize_t));
            else if (len[0] == 'j')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, intmax_t));
            else if (len[0] == 't')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, ptrdiff_t));
            else if (l == 2)
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long long));
            else if (l == 1)
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long));
            else
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, int));
            break;
        case 'u':
        case 'x':
        case 'X':
        case 'o':
            if (len[0] == 'z')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, size_t));
            else if (len[0] == 'j')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, uintmax_t));
            else if (len[0] == 't')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, ptrdiff_t));
            else if (l == 2)
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned long long));
            else if (l == 1)
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned long));
            else
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, unsigned));
            break;
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
        case 'a':
        case 'A':
            if (len[0] == 'L')
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, long double));
            else
                m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, double));
            break;
        case 'p':
            m = snprintf(tmp, sizeof(tmp), spec, va_arg(*ap, void *));
            break;
        default:
            break; /* unknown (and %n): nothing consumed, nothing written */
    }
    if (m > 0)
        put_raw(b, tmp, (size_t)m < sizeof(tmp) ? (size_t)m : sizeof(tmp) - 1);
}

size_t log_vformat(char *buf, size_t len, const char *fmt, va_list ap) {
    struct lbuf b = {buf, 0, len >= 2 ? len - 2 : 0, 0, 0};
    va_list aq;
    va_copy(aq, ap);
    if (len == 0) {
        va_end(aq);
        return 0;
    }
    const char *f = fmt;
    while (*f && !b.full) {
        if (*f != '%') {
            size_t lit = strcspn(f, "%");
            put_raw(&b, f, lit);
            f += lit;
            continue;
        }
        /* %[flags][width][.precision][length]conversion */
        char spec[64];
        size_t sl = 0;
        spec[sl++] = *f++;
        if (*f == '%') {
            put_raw(&b, "%", 1);
            f++;
            continue;
        }
        while (*f && strchr("-+ #0'", *f) && sl < 16)
            spec[sl++] = *f++;
        if (*f == '*') {
            sl += (size_t)snprintf(spec + sl, 16, "%d", va_arg(aq, int));
            f++;
        } else {
            while (*f >= '0' && *f <= '9' && sl < 32)
                spec[sl++] = *f++;
        }
        long prec = -1;
        if (*f == '.') {
            spec[sl++] = *f++;
            if (*f == '*') {
                int pv = va_arg(aq, int);
                prec = pv < 0 ? -1 : pv;
                sl += (size_t)snprintf(spec + sl, 16, "%d", pv < 0 ? 0 : pv);
                f++;
            } else {
                prec = 0;
                while (*f >= '0' && *f <= '9' && sl < 48) {
                    prec = prec * 10 + (*f - '0');
                    spec[sl++] = *f++;
                }
            }
        }
        char lenmod[3] = "";
        size_t ll = 0;
        while (*f && strchr("hlLjzt", *f) && ll < 2) {
            lenmod[ll++] = *f;
            spec[sl++] = *f++;
        }
        lenmod[ll] = '\0';
        char conv = *f;
        if (!conv)
            break;
        f++;
        spec[sl++] = conv;
        spec[sl] = '\0';
        if (conv == 's') {
            const char *s = va_arg(aq, const char *);
            if (!s)
                s = "";
            size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
            put_value(&b, s, n);
        } else if (conv == 'c') {
            char c = (char)va_arg(aq, int);
            put_value(&b, &c, 1);
        } else {
            put_number(&b, spec, conv, lenmod, &aq);
        }
    }
    va_end(aq);
    if (b.quoted)
        buf[b.n++] = '"'; /* the room for it was kept */
    buf[b.n] = '\0';
    return b.n;
}

char *log_quote(char *buf, size_t len, const char *s) {
    struct lbuf b = {buf, 0, len >= 2 ? len - 2 : 0, 0, 0};
    if (len < 3) {
        if (len)
            buf[0] = '\0';
        return buf;
    }
    put_raw(&b, "\"", 1);
    put_escaped(&b, s ? s : "", s ? strlen(s) : 0);
    if (!b.full)
        put_raw(&b, "\"", 1);
    if (b.quoted)
        buf[b.n++] = '"';
    buf[b.n] = '\0';
    return buf;
}

/* ---- lines ------------------------------------------------------------------------------ */

/* Access lines wait here (one write per many requests on a busy proxy); any other line, a
 * full buffer, or log_flush writes them out first, so the order is kept. */
static char pending[64 * 1024];
static size_t npending;

void log_flush(void) {
    if (npending) {
        fwrite(pending, 1, npending, stderr);
        npending = 0;
    }
}

/* "ts=2006-01-02T15:04:05.000Z level=info " into line (at least 48 bytes); its length. The
 * text up to the seconds is made once a second (strftime and gmtime cost more than the rest of
 * an access line's fields together). */
static size_t put_prefix(char *line, enum log_level level) {
    static time_t sec = (time_t)-1;
    static char head[32];
    static size_t nhead;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        nhead = strftime(head, sizeof(head), "ts=%Y-%m-%dT%H:%M:%S", &tm);
        sec = tv.tv_sec;
    }
    unsigned ms = (unsigned)tv.tv_usec / 1000;
    size_t n = nhead, ln = strlen(names[level]);
    memcpy(line, head, n);
    line[n++] = '.';
    line[n++] = (char)('0' + ms / 100);
    line[n++] = (char)('0' + ms / 10 % 10);
    line[n++] = (char)('0' + ms % 10);
    memcpy(line + n, "Z level=", 8);
    n += 8;
    memcpy(line + n, names[level], ln);
    n += ln;
    line[n++] = ' ';
    return n;
}

static void log_vwrite(enum log_level level, int buffered, const char *fmt, va_list ap) {
    char line[LOG_LINE_MAX];
    size_t n = put_prefix(line, level);
    /* the fields leave one byte for the newline; a cut line still closes its quotes */
    size_t len = n + log_vformat(line + n, sizeof(line) - 1 - n, fmt, ap);
    line[len++] = '\n';
    if (buffered && npending + len <= sizeof(pending)) {
        memcpy(pending + npending, line, len);
        npending += len;
        return;
    }
    log_flush();
    fwrite(line, 1, len, stderr);
}

void log_write(enum log_level level, const char *fmt, ...) {
    if (level < current)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, 0, fmt, ap);
    va_end(ap);
}

void log_access(const char *fmt, ...) {
    if (LOG_LEVEL_INFO < current)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(LOG_LEVEL_INFO, 1, fmt, ap);
    va_end(ap);
}

static void on_libevent_log(int severity, const char *msg) {
    log_write(severity >= EVENT_LOG_WARN ? LOG_LEVEL_WARN : LOG_LEVEL_DEBUG,
              "msg=\"libevent\" detail=\"%s\"", msg);
}

void log_hook_libevent(void) {
    event_set_log_callback(on_libevent_log);
}
