/* chatline: a native chat stream's token line scanned from its bytes (chatline.h). */
#include "chatline.h"

#include <string.h>

/* A string token, read once: a second one is a duplicate member (the jansson path's). */
static inline const char *scan_str(const char *p, const char *end, struct jtok *t) {
    return t->set ? NULL : jtok_string(p, end, t);
}

/* {"role","content","thinking"}: strings, each at most once, nothing else. */
static const char *scan_message(const char *p, const char *end, struct chatline *l) {
    struct jtok k;
    if (l->message || p >= end || *p != '{')
        return NULL;
    l->message = 1;
    p = jtok_skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (!(p = jtok_key(p, end, &k)))
            return NULL;
        if (jtok_key_is(&k, "role"))
            p = scan_str(p, end, &l->role);
        else if (jtok_key_is(&k, "content"))
            p = scan_str(p, end, &l->content);
        else if (jtok_key_is(&k, "thinking"))
            p = scan_str(p, end, &l->thinking);
        else
            return NULL;
        if (!p)
            return NULL;
        int more = jtok_next(&p, end, '}');
        if (more < 0)
            return NULL;
        if (!more)
            return p;
    }
}

int chatline_scan(const char *line, size_t len, struct chatline *l) {
    const char *p = line, *end = line + len;
    struct jtok k;
    int done = 0;
    memset(l, 0, sizeof(*l));
    p = jtok_skip_ws(p, end);
    if (p >= end || *p != '{')
        return -1;
    p = jtok_skip_ws(p + 1, end);
    for (;;) {
        if (!(p = jtok_key(p, end, &k)))
            return -1;
        if (jtok_key_is(&k, "model")) {
            p = scan_str(p, end, &l->model);
        } else if (jtok_key_is(&k, "created_at")) {
            p = scan_str(p, end, &l->created_at);
        } else if (jtok_key_is(&k, "message")) {
            p = scan_message(p, end, l);
        } else if (jtok_key_is(&k, "done")) {
            if (done || (size_t)(end - p) < 5 || memcmp(p, "false", 5) != 0)
                return -1;
            done = 1;
            p += 5;
        } else {
            return -1;
        }
        if (!p)
            return -1;
        int more = jtok_next(&p, end, '}');
        if (more < 0)
            return -1;
        if (!more)
            break;
    }
    return jtok_skip_ws(p, end) == end && done ? 0 : -1;
}
