/* catalog: the stand-in's pulled models. Parses --models, resolves names the way Ollama's
 * ParseName/getExistingName do (default host registry.ollama.ai, namespace library, tag latest,
 * case-insensitive match), and derives stable fake metadata (size, digest, family, parameter
 * size) from each name so every run reports the same numbers. */
#include "catalog.h"

#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_HOST "registry.ollama.ai"
#define DEFAULT_NS   "library"
#define DEFAULT_TAG  "latest"

struct catalog {
    struct model models[CATALOG_MAX_MODELS];
    size_t n;
};

struct name_parts {
    char host[64], ns[64], name[96], tag[64];
};

static int part_char_ok(char c, int is_ns) {
    if (c == '.')
        return !is_ns;
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

static int copy_part(char *dst, size_t cap, const char *src, size_t n, int is_ns) {
    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!part_char_ok(src[i], is_ns))
            return -1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* [http(s)://][host/][namespace/]model[:tag][+build][@digest] -> parts with defaults filled. */
static int name_parse(const char *s, struct name_parts *out) {
    char buf[512];
    if (strncmp(s, "http://", 7) == 0)
        s += 7;
    else if (strncmp(s, "https://", 8) == 0)
        s += 8;
    size_t len = strlen(s);
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len + 1);
    char *at = strchr(buf, '@');
    if (at)
        *at = '\0';
    char *plus = strrchr(buf, '+');
    if (plus)
        *plus = '\0';

    char *segs[4];
    size_t nseg = 0;
    char *p = buf;
    for (;;) {
        if (nseg == 4)
            return -1;
        segs[nseg++] = p;
        char *slash = strchr(p, '/');
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    if (nseg > 3)
        return -1;
    char *last = segs[nseg - 1];
    char *colon = strrchr(last, ':');
    const char *tag = DEFAULT_TAG;
    if (colon) {
        *colon = '\0';
        tag = colon + 1;
    }
    const char *ns = nseg >= 2 ? segs[nseg - 2] : DEFAULT_NS;
    const char *host = nseg == 3 ? segs[0] : DEFAULT_HOST;
    if (copy_part(out->name, sizeof(out->name), last, strlen(last), 0) ||
        copy_part(out->tag, sizeof(out->tag), tag, strlen(tag), 0) ||
        copy_part(out->ns, sizeof(out->ns), ns, strlen(ns), 1))
        return -1;
    /* Hosts may carry a port. */
    size_t hl = strlen(host);
    if (hl == 0 || hl >= sizeof(out->host))
        return -1;
    for (size_t i = 0; i < hl; i++) {
        if (!part_char_ok(host[i], 0) && host[i] != ':')
            return -1;
    }
    memcpy(out->host, host, hl + 1);
    return 0;
}

int catalog_name_valid(const char *name) {
    struct name_parts np;
    return name_parse(name, &np);
}

static unsigned cap_parse(const char *s, size_t n) {
    static const struct {
        const char *name;
        unsigned cap;
    } caps[] = {
        {"completion", CAP_COMPLETION}, {"tools", CAP_TOOLS},   {"thinking", CAP_THINKING},
        {"embedding", CAP_EMBEDDING},   {"insert", CAP_INSERT}, {"vision", CAP_VISION},
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        if (strlen(caps[i].name) == n && strncmp(caps[i].name, s, n) == 0)
            return caps[i].cap;
    }
    return 0;
}

/* "3b" -> 3e9, "1.5b" -> 1.5e9, "137m" -> 137e6; 0 when the tag is not a size. */
static int64_t tag_params(const char *tag, char *label, size_t labellen) {
    char *end = NULL;
    double v = strtod(tag, &end);
    if (end == tag || !(v > 0) ||
        (end[0] != 'b' && end[0] != 'B' && end[0] != 'm' && end[0] != 'M'))
        return 0;
    int billions = end[0] == 'b' || end[0] == 'B';
    snprintf(label, labellen, "%.*s%c", (int)(end - tag), tag, billions ? 'B' : 'M');
    return (int64_t)(v * (billions ? 1e9 : 1e6));
}

static void model_derive(struct model *m, size_t index) {
    int embed_only = (m->caps & CAP_EMBEDDING) && !(m->caps & CAP_COMPLETION);
    uint64_t h = util_hash(m->display, strlen(m->display), 0);

    size_t f = 0;
    for (const char *p = m->name; *p && isalpha((unsigned char)*p) && f + 1 < sizeof(m->family);
         p++)
        m->family[f++] = (char)tolower((unsigned char)*p);
    m->family[f] = '\0';
    if (f == 0)
        snprintf(m->family, sizeof(m->family), "llama");

    char label[sizeof(m->parameter_size)] = "";
    m->parameter_count = tag_params(m->tag, label, sizeof(label));
    memcpy(m->parameter_size, label, sizeof(label));
    if (m->parameter_count == 0) {
        m->parameter_count = embed_only ? 137000000 : 7000000000;
        snprintf(m->parameter_size, sizeof(m->parameter_size), "%s", embed_only ? "137M" : "7B");
    }
    m->quantization = embed_only ? "F16" : "Q4_K_M";
    double bytes_per_param = embed_only ? 2.0 : 0.62;
    m->size = (int64_t)((double)m->parameter_count * bytes_per_param) + (int64_t)(h % 50000000);
    m->context_length = embed_only ? 2048 : 131072;
    m->embedding_length = embed_only ? 768 : 3072;
    for (int i = 0; i < 4; i++) {
        uint64_t d = util_hash(m->full, strlen(m->full), (uint64_t)i + 1);
        snprintf(m->digest + i * 16, 17, "%016llx", (unsigned long long)d);
    }
    /* Pulled an hour apart, most recent first in the order given. */
    clock_gettime(CLOCK_REALTIME, &m->modified);
    m->modified.tv_sec -= (time_t)(3600 * (index + 1));
    m->modified.tv_nsec = (long)(h % 1000000000);
}

static void model_names(struct model *m) {
    /* through locals: GCC cannot tell the fields of *m apart (-Wrestrict) */
    char host[sizeof(m->host)], ns[sizeof(m->ns)], name[sizeof(m->name)], tag[sizeof(m->tag)];
    char display[sizeof(m->display)], full[sizeof(m->full)];
    memcpy(host, m->host, sizeof(host));
    memcpy(ns, m->ns, sizeof(ns));
    memcpy(name, m->name, sizeof(name));
    memcpy(tag, m->tag, sizeof(tag));
    if (util_streq_nocase(host, DEFAULT_HOST) && util_streq_nocase(ns, DEFAULT_NS))
        snprintf(display, sizeof(display), "%s:%s", name, tag);
    else if (util_streq_nocase(host, DEFAULT_HOST))
        snprintf(display, sizeof(display), "%s/%s:%s", ns, name, tag);
    else
        snprintf(display, sizeof(display), "%s/%s/%s:%s", host, ns, name, tag);
    snprintf(full, sizeof(full), "%s/%s/%s:%s", host, ns, name, tag);
    memcpy(m->display, display, sizeof(display));
    memcpy(m->full, full, sizeof(full));
}

static int add_model(struct catalog *c, const char *item, size_t n, char *err, size_t errlen) {
    char buf[512];
    if (n == 0 || n >= sizeof(buf)) {
        snprintf(err, errlen, "--models: empty or too long entry");
        return -1;
    }
    memcpy(buf, item, n);
    buf[n] = '\0';
    unsigned caps = 0;
    char *eq = strchr(buf, '=');
    if (eq) {
        *eq = '\0';
        for (char *p = eq + 1; *p;) {
            size_t k = strcspn(p, "+");
            unsigned cap = cap_parse(p, k);
            if (!cap) {
                snprintf(err, errlen,
                         "--models: unknown capability \"%.*s\" (completion, tools, thinking, "
                         "embedding, insert, vision)",
                         (int)k, p);
                return -1;
            }
            caps |= cap;
            p += k;
            if (*p == '+')
                p++;
        }
    }
    if (caps == 0)
        caps = CAP_COMPLETION;
    struct name_parts np;
    if (name_parse(buf, &np) != 0) {
        snprintf(err, errlen, "--models: invalid model name \"%s\"", buf);
        return -1;
    }
    if (c->n == CATALOG_MAX_MODELS) {
        snprintf(err, errlen, "--models: at most %d models", CATALOG_MAX_MODELS);
        return -1;
    }
    struct model *m = &c->models[c->n];
    memset(m, 0, sizeof(*m));
    memcpy(m->host, np.host, sizeof(m->host));
    memcpy(m->ns, np.ns, sizeof(m->ns));
    memcpy(m->name, np.name, sizeof(m->name));
    memcpy(m->tag, np.tag, sizeof(m->tag));
    m->caps = caps;
    model_names(m);
    if (catalog_find(c, m->full)) {
        snprintf(err, errlen, "--models: \"%s\" given twice", m->display);
        return -1;
    }
    model_derive(m, c->n);
    c->n++;
    return 0;
}

int catalog_new(const char *spec, struct catalog **out, char *err, size_t errlen) {
    struct catalog *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = spec; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 0 && add_model(c, p, n, err, errlen) != 0) {
            free(c);
            return -1;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (c->n == 0) {
        snprintf(err, errlen, "--models: no models given");
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void catalog_free(struct catalog *c) {
    free(c);
}

size_t catalog_count(const struct catalog *c) {
    return c->n;
}

struct model *catalog_at(struct catalog *c, size_t i) {
    return i < c->n ? &c->models[i] : NULL;
}

struct model *catalog_find(struct catalog *c, const char *name) {
    struct name_parts np;
    if (!name || name_parse(name, &np) != 0)
        return NULL;
    for (size_t i = 0; i < c->n; i++) {
        struct model *m = &c->models[i];
        if (util_streq_nocase(m->host, np.host) && util_streq_nocase(m->ns, np.ns) &&
            util_streq_nocase(m->name, np.name) && util_streq_nocase(m->tag, np.tag))
            return m;
    }
    return NULL;
}

json_t *catalog_details_json(const struct model *m) {
    return json_pack("{s:s, s:s, s:s, s:[s], s:s, s:s}", "parent_model", "", "format", "gguf",
                     "family", m->family, "families", m->family, "parameter_size",
                     m->parameter_size, "quantization_level", m->quantization);
}

json_t *catalog_capabilities_json(const struct model *m) {
    static const struct {
        unsigned cap;
        const char *name;
    } names[] = {
        {CAP_COMPLETION, "completion"}, {CAP_TOOLS, "tools"},   {CAP_THINKING, "thinking"},
        {CAP_EMBEDDING, "embedding"},   {CAP_INSERT, "insert"}, {CAP_VISION, "vision"},
    };
    json_t *a = json_array();
    for (size_t i = 0; a && i < sizeof(names) / sizeof(names[0]); i++) {
        if (m->caps & names[i].cap)
            json_array_append_new(a, json_string(names[i].name));
    }
    return a;
}

json_t *catalog_tags_json(struct catalog *c) {
    json_t *models = json_array();
    for (size_t i = 0; models && i < c->n; i++) {
        const struct model *m = &c->models[i];
        char modified[UTIL_TIME_LEN];
        util_time_local(&m->modified, modified, sizeof(modified));
        json_array_append_new(models, json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o}", "name",
                                                m->display, "model", m->display, "modified_at",
                                                modified, "size", (json_int_t)m->size, "digest",
                                                m->digest, "details", catalog_details_json(m),
                                                "capabilities", catalog_capabilities_json(m)));
    }
    return json_pack("{s:o}", "models", models ? models : json_array());
}

json_t *catalog_show_json(const struct model *m) {
    char modified[UTIL_TIME_LEN], modelfile[1024], arch_ctx[64], arch_emb[64];
    util_time_local(&m->modified, modified, sizeof(modified));
    snprintf(modelfile, sizeof(modelfile),
             "# Modelfile generated by \"ollama show\"\n"
             "# To build a new Modelfile based on this, replace FROM with:\n"
             "# FROM %s\n\n"
             "FROM /root/.ollama/models/blobs/sha256-%s\n"
             "TEMPLATE {{ .Prompt }}\n",
             m->display, m->digest);
    snprintf(arch_ctx, sizeof(arch_ctx), "%s.context_length", m->family);
    snprintf(arch_emb, sizeof(arch_emb), "%s.embedding_length", m->family);
    json_t *info = json_pack(
        "{s:s, s:I, s:i, s:I, s:I}", "general.architecture", m->family, "general.parameter_count",
        (json_int_t)m->parameter_count, "general.quantization_version", 2, arch_ctx,
        (json_int_t)m->context_length, arch_emb, (json_int_t)m->embedding_length);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "modelfile", modelfile, "parameters",
                     "", "template", "{{ .Prompt }}", "details", catalog_details_json(m),
                     "model_info", info ? info : json_object(), "capabilities",
                     catalog_capabilities_json(m), "modified_at", modified);
}
