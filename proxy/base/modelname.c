/* modelname: Ollama's model-name resolution (ParseRef, ParseName, IsValid, EqualFold) as a
 * canonical lower-case string; pure. */
#include "modelname.h"

#include <string.h>
#include <strings.h>

/* A piece of the input: p[0, n). */
struct piece {
    const char *p;
    size_t n;
};

/* The length of the white space rune Go's unicode.IsSpace takes at p (before end), or 0:
 * '\t' '\n' '\v' '\f' '\r' ' ', U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000. */
static size_t space_at(const unsigned char *p, const unsigned char *end) {
    size_t left = (size_t)(end - p);
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (left >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0))
        return 2;
    if (left < 3)
        return 0;
    if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) /* U+1680 */
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;                                     /* U+2000-U+200A, U+2028, U+2029, U+202F */
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) /* U+205F */
        return 3;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

/* The length of the white space rune ending at end (after p), or 0. */
static size_t space_before(const unsigned char *p, const unsigned char *end) {
    for (size_t len = 1; len <= 3 && len <= (size_t)(end - p); len++)
        if (space_at(end - len, end) == len)
            return len;
    return 0;
}

/* strings.TrimSpace. */
static struct piece trim(struct piece s) {
    const unsigned char *p = (const unsigned char *)s.p, *end = p + s.n;
    size_t k;
    while (p < end && (k = space_at(p, end)))
        p += k;
    while (end > p && (k = space_before(p, end)))
        end -= k;
    return (struct piece){(const char *)p, (size_t)(end - p)};
}

static int ieq(struct piece s, const char *lit) {
    size_t n = strlen(lit);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)lit[i])
            return 0;
    }
    return 1;
}

/* The last occurrence of c in s, or -1. */
static long last_of(struct piece s, char c) {
    for (size_t i = s.n; i > 0; i--)
        if (s.p[i - 1] == c)
            return (long)(i - 1);
    return -1;
}

enum source { SOURCE_NONE, SOURCE_LOCAL, SOURCE_CLOUD };

/* A name without its source suffix: head, or head ":" tag when tag.p is set (the tag of
 * "m:t-cloud" without its "-cloud", which Ollama rebuilds as a new string). */
struct base {
    struct piece head, tag;
};

/* modelref.parseSourceSuffix of raw: the source a ":local", ":cloud" or ":...-cloud" suffix
 * (any case, trimmed) names, and the rest in *b. */
static enum source source_suffix(struct piece raw, struct base *b) {
    long idx = last_of(raw, ':');
    b->head = raw;
    b->tag = (struct piece){NULL, 0};
    if (idx < 0)
        return SOURCE_NONE;
    struct piece suffix = trim((struct piece){raw.p + idx + 1, raw.n - (size_t)idx - 1});
    if (ieq(suffix, "cloud") || ieq(suffix, "local")) {
        b->head.n = (size_t)idx;
        return ieq(suffix, "cloud") ? SOURCE_CLOUD : SOURCE_LOCAL;
    }
    if (suffix.n >= 6 && !memchr(suffix.p, '/', suffix.n) &&
        ieq((struct piece){suffix.p + suffix.n - 6, 6}, "-cloud")) {
        b->head.n = (size_t)idx;
        b->tag = (struct piece){suffix.p, suffix.n - 6};
        return SOURCE_CLOUD;
    }
    return SOURCE_NONE;
}

/* Whether b, once rebuilt, has a source suffix of its own ("use either :local or :cloud,
 * not both"). */
static int nested_source(const struct base *b) {
    struct base inner;
    if (!b->tag.p)
        return source_suffix(b->head, &inner) != SOURCE_NONE;
    /* head ":" tag: the tag follows the last ':' (it holds none) */
    struct piece t = trim(b->tag);
    return ieq(t, "cloud") || ieq(t, "local") ||
           (t.n >= 6 && !memchr(t.p, '/', t.n) && ieq((struct piece){t.p + t.n - 6, 6}, "-cloud"));
}

enum part { PART_HOST, PART_NAMESPACE, PART_MODEL, PART_TAG };

static int alnum_(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* types/model/name.go isValidPart (bytes: any byte outside ASCII fails). */
static int valid_part(enum part kind, struct piece s) {
    size_t max = kind == PART_HOST ? 350 : 80;
    if (s.n < 1 || s.n > max || !alnum_((unsigned char)s.p[0]))
        return 0;
    for (size_t i = 1; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (alnum_(c) || c == '-' || (c == '.' && kind != PART_NAMESPACE) ||
            (c == ':' && kind == PART_HOST))
            continue;
        return 0;
    }
    return 1;
}

/* cutPromised at the last sep: 1 when found, with an empty side made invalid (empty, but
 * flagged: Ollama's "!MISSING!"). */
static int cut_last(struct piece s, char sep, struct piece *before, struct piece *after,
                    int *missing) {
    long i = last_of(s, sep);
    if (i < 0)
        return 0;
    *before = (struct piece){s.p, (size_t)i};
    *after = (struct piece){s.p + i + 1, s.n - (size_t)i - 1};
    if (!before->n || !after->n)
        *missing = 1;
    return 1;
}

/* Appends s in lower case to out at *o (the caller checked the room). */
static void put_lower(char *out, size_t *o, struct piece s) {
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        out[(*o)++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
}

/* The common spelling, "model" or "model:tag" in lower case (no host, namespace, space or
 * source suffix): 1 with the model and tag parts (tag "latest" when absent), or 0 (outputs
 * untouched) for any other spelling. Its canonical form is "registry.ollama.ai/library/model:tag"
 * (tag "latest" when absent), so two such names compare without building it. */
static int simple(const char *s, struct piece *model, struct piece *tag) {
    const char *colon = NULL, *p = s;
    for (;; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')
            continue;
        if (c == ':' && !colon) {
            colon = p;
            continue;
        }
        if (c != '\0')
            return 0;
        break;
    }
    struct piece m = {s, (size_t)((colon ? colon : p) - s)};
    struct piece t =
        colon ? (struct piece){colon + 1, (size_t)(p - colon - 1)} : (struct piece){"", 0};
    if (!valid_part(PART_MODEL, m) || (colon && !valid_part(PART_TAG, t)))
        return 0;
    /* a tag that is a source suffix: the slow path */
    if (colon && (ieq(t, "local") || ieq(t, "cloud") ||
                  (t.n >= 6 && ieq((struct piece){t.p + t.n - 6, 6}, "-cloud"))))
        return 0;
    *model = m;
    *tag = t.n ? t : (struct piece){"latest", 6};
    return 1;
}

static int same(struct piece a, struct piece b) {
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

int modelname_normalize(const char *in, char *out, size_t outlen) {
    struct piece raw = trim((struct piece){in, strlen(in)}), s;
    struct piece host = {0}, ns = {0}, model = {0}, tag = {0};
    struct base b;
    int missing = 0;

    if (outlen)
        out[0] = '\0';
    if (simple(in, &model, &tag)) { /* the common spelling, without the parse below */
        static const char prefix[] = "registry.ollama.ai/library/";
        size_t o = sizeof(prefix) - 1;
        if (o + model.n + 1 + tag.n + 1 > outlen)
            return -1;
        memcpy(out, prefix, o);
        memcpy(out + o, model.p, model.n);
        o += model.n;
        out[o++] = ':';
        memcpy(out + o, tag.p, tag.n);
        o += tag.n;
        out[o] = '\0';
        return 0;
    }
    if (!raw.n)
        return -1; /* "model is required" */
    enum source src = source_suffix(raw, &b);
    if (src != SOURCE_NONE && nested_source(&b))
        return -1;

    /* ParseNameBare */
    s = b.head;
    if (b.tag.p) {
        tag = b.tag;
        missing = !tag.n || !s.n;
    } else if (last_of(s, ':') > last_of(s, '/')) {
        cut_last(s, ':', &s, &tag, &missing);
    }
    if (!cut_last(s, '/', &s, &model, &missing)) {
        model = s;
    } else if (!cut_last(s, '/', &s, &ns, &missing)) {
        ns = s;
    } else {
        const char *sep = memmem(s.p, s.n, "://", 3);
        host = sep ? (struct piece){sep + 3, s.n - (size_t)(sep + 3 - s.p)} : s;
    }
    if (missing)
        return -1;
    /* Merge with DefaultName */
    if (!host.n)
        host = (struct piece){"registry.ollama.ai", 18};
    if (!ns.n)
        ns = (struct piece){"library", 7};
    if (!tag.n)
        tag = (struct piece){"latest", 6};
    if (!valid_part(PART_HOST, host) || !valid_part(PART_NAMESPACE, ns) ||
        !valid_part(PART_MODEL, model) || !valid_part(PART_TAG, tag))
        return -1;

    size_t o = 0, need = host.n + ns.n + model.n + tag.n + 3 + (src == SOURCE_CLOUD ? 6 : 0);
    if (need + 1 > outlen)
        return -1;
    put_lower(out, &o, host);
    out[o++] = '/';
    put_lower(out, &o, ns);
    out[o++] = '/';
    put_lower(out, &o, model);
    out[o++] = ':';
    put_lower(out, &o, tag);
    if (src == SOURCE_CLOUD) {
        memcpy(out + o, ":cloud", 6);
        o += 6;
    }
    out[o] = '\0';
    return 0;
}

static int model_char(unsigned char c) {
    return alnum_(c) || c == '-' || c == '.';
}

/* The model part of a name Ollama resolves: the run of model bytes after the last '/' (after
 * leading white space when there is no '/'), which ends at the tag's ':', a source suffix or
 * trailing white space. Equal names have equal model parts (in any case), so names whose parts
 * differ are unequal without a full parse; for a name Ollama refuses it is some run, and such
 * a name equals only itself (and "itself:latest"), whose run is the same. */
static struct piece model_run(const char *s) {
    const char *slash = strrchr(s, '/'), *p = slash ? slash + 1 : s, *q;
    if (!slash)
        while (*p && !model_char((unsigned char)*p))
            p++;
    for (q = p; model_char((unsigned char)*q); q++)
        ;
    return (struct piece){p, (size_t)(q - p)};
}

int modelname_equal(const char *a, const char *b) {
    char na[MODELNAME_MAX], nb[MODELNAME_MAX];
    struct piece ma, ta, mb, tb;
    if (strcmp(a, b) == 0)
        return 1;
    ma = model_run(a);
    mb = model_run(b);
    if (ma.n != mb.n || strncasecmp(ma.p, mb.p, ma.n) != 0)
        return 0;
    if (simple(a, &ma, &ta) && simple(b, &mb, &tb))
        return same(ma, mb) && same(ta, tb);
    if (modelname_normalize(a, na, sizeof(na)) == 0 && modelname_normalize(b, nb, sizeof(nb)) == 0)
        return strcmp(na, nb) == 0;
    size_t la = strlen(a), lb = strlen(b);
    /* no canonical form: "m" == "m:latest" still */
    if (la + 7 == lb && strncmp(a, b, la) == 0 && strcmp(b + la, ":latest") == 0)
        return 1;
    return lb + 7 == la && strncmp(a, b, lb) == 0 && strcmp(a + lb, ":latest") == 0;
}
