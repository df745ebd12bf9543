/* errtext: error texts shared by every API's envelope (contract in errtext.h). */
#include "errtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonstr.h"

#define BODY_TEXT_MAX 4096 /* a plain-text error body is cut here */

/* Length of the valid UTF-8 sequence at p in a NUL-terminated string (jansson's rules), or 0;
 * jsonstr_utf8_len stops at the first byte that is not a continuation, so never reads past
 * the NUL. */
static size_t utf8_seq(const unsigned char *p) {
    return p[0] < 0x80 ? 1 : jsonstr_utf8_len(p, p + 4);
}

json_t *errtext_json_new(const char *text) {
    const unsigned char *p = (const unsigned char *)(text ? text : "");
    size_t len = strlen((const char *)p), ok = 1;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i);
        if (!n) {
            ok = 0;
            break;
        }
        i += n;
    }
    if (ok)
        return json_stringn((const char *)p, len);
    /* Invalid or cut sequences (a message truncated mid-character, a binary body) become
     * U+FFFD; at most 3 output bytes per input byte. */
    char *buf = malloc(len * 3 + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(p + i);
        if (n) {
            memcpy(buf + o, p + i, n);
            o += n;
            i += n;
        } else {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    json_t *v = json_stringn(buf, o);
    free(buf);
    return v;
}

json_t *errtext_native_new(const char *message) {
    return json_pack("{s:o}", "error", errtext_json_new(message));
}

int errtext_is_context_length(const char *msg) {
    if (strcasestr(msg, "context_length_exceeded"))
        return 1;
    return (strcasestr(msg, "context length") || strcasestr(msg, "context window")) &&
           (strcasestr(msg, "exceed") || strcasestr(msg, "longer than") ||
            strcasestr(msg, "too long"));
}

void errtext_native_read(int status, const char *body, size_t len, struct errtext_native *e) {
    const json_t *err;

    memset(e, 0, sizeof(*e));
    if (body && len) {
        e->parsed_ = json_loadb(body, len, 0, NULL);
        err = json_object_get(e->parsed_, "error");
        if (json_is_string(err)) {
            e->message = json_string_value(err);
        } else if (json_is_object(err)) {
            e->message = json_string_value(json_object_get(err, "message"));
            e->code = json_string_value(json_object_get(err, "code"));
        }
        if (!e->message || !*e->message) {
            /* plain text (or JSON without an error text): the body itself, trimmed */
            while (len && strchr(" \t\r\n", body[len - 1]))
                len--;
            while (len && strchr(" \t\r\n", *body)) {
                body++;
                len--;
            }
            if (len > BODY_TEXT_MAX)
                len = BODY_TEXT_MAX;
            e->text_ = strndup(body, len);
            e->message = e->text_;
        }
    }
    if (!e->message || !*e->message) {
        free(e->text_);
        e->text_ = malloc(64);
        if (e->text_)
            snprintf(e->text_, 64, "upstream returned HTTP %d", status);
        e->message = e->text_;
    }
    if (!e->code && e->message && errtext_is_context_length(e->message))
        e->code = "context_length_exceeded";
}

void errtext_native_clear(struct errtext_native *e) {
    json_decref(e->parsed_);
    free(e->text_);
    memset(e, 0, sizeof(*e));
}
