/* gojson: compact JSON text with Go's number forms (contract in gojson.h). */
#include "gojson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Growable text buffer: once an allocation fails it writes nothing more (oom set). */
struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;
        while (cap < b->len + n + 1)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) {
    buf_add(b, s, strlen(s));
}

static void dump_string(struct buf *b, const char *s, size_t n) {
    buf_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        switch (c) {
            case '"':
                buf_str(b, "\\\"");
                break;
            case '\\':
                buf_str(b, "\\\\");
                break;
            case '\n':
                buf_str(b, "\\n");
                break;
            case '\r':
                buf_str(b, "\\r");
                break;
            case '\t':
                buf_str(b, "\\t");
                break;
            case '\b':
                buf_str(b, "\\b");
                break;
            case '\f':
                buf_str(b, "\\f");
                break;
            default:
                if (c < 0x20) {
                    snprintf(esc, sizeof(esc), "\\u%04x", c);
                    buf_str(b, esc);
                } else {
                    buf_add(b, (const char *)&s[i], 1);
                }
        }
    }
    buf_add(b, "\"", 1);
}

void gojson_format_real(char *out, size_t cap, double d) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

static void dump_value(struct buf *b, const json_t *v) {
    char num[40];
    const char *key;
    json_t *item;
    size_t i;
    int first = 1;

    switch (json_typeof(v)) {
        case JSON_OBJECT:
            buf_add(b, "{", 1);
            json_object_foreach((json_t *)v, key, item) {
                if (!first)
                    buf_add(b, ",", 1);
                first = 0;
                dump_string(b, key, strlen(key));
                buf_add(b, ":", 1);
                dump_value(b, item);
            }
            buf_add(b, "}", 1);
            break;
        case JSON_ARRAY:
            buf_add(b, "[", 1);
            json_array_foreach(v, i, item) {
                if (i)
                    buf_add(b, ",", 1);
                dump_value(b, item);
            }
            buf_add(b, "]", 1);
            break;
        case JSON_STRING:
            dump_string(b, json_string_value(v), json_string_length(v));
            break;
        case JSON_INTEGER:
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            buf_str(b, num);
            break;
        case JSON_REAL:
            gojson_format_real(num, sizeof(num), json_real_value(v));
            buf_str(b, num);
            break;
        case JSON_TRUE:
            buf_str(b, "true");
            break;
        case JSON_FALSE:
            buf_str(b, "false");
            break;
        case JSON_NULL:
            buf_str(b, "null");
            break;
    }
}

char *gojson_dump_new(const json_t *v, size_t *len) {
    struct buf b = {0};
    dump_value(&b, v);
    if (b.oom || !b.p) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* Go's word for a JSON value's kind in "cannot unmarshal <kind> into ..."; NULL -> "null". */
const char *gojson_kind(const json_t *v) {
    if (!v)
        return "null";
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            return "object";
        case JSON_ARRAY:
            return "array";
        case JSON_STRING:
            return "string";
        case JSON_INTEGER:
        case JSON_REAL:
            return "number";
        case JSON_TRUE:
        case JSON_FALSE:
            return "bool";
        default:
            return "null";
    }
}
