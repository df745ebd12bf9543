/* catalog: the models the stand-in pretends to have pulled (--models), Ollama's model-name
 * rules, and the JSON that describes a model (/api/tags, /api/show, /api/ps details).
 * The catalog is built once at start and never changes; models are owned by it and outlive
 * every request. */
#ifndef FAKE_OLLAMA_CATALOG_H
#define FAKE_OLLAMA_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CATALOG_DEFAULT_MODELS                                                                     \
    "llama3.2:3b=completion+tools,qwen3:8b=completion+tools+thinking,"                             \
    "nomic-embed-text:latest=embedding,codellama:7b=completion+insert"
#define CATALOG_MAX_MODELS 64

enum model_cap {
    CAP_COMPLETION = 1u << 0,
    CAP_TOOLS = 1u << 1,
    CAP_THINKING = 1u << 2,
    CAP_EMBEDDING = 1u << 3,
    CAP_INSERT = 1u << 4,
    CAP_VISION = 1u << 5,
};

struct model {
    char host[64], ns[64], name[96], tag[64];
    char display[320]; /* "llama3.2:3b", as /api/tags and /api/ps name it */
    char full[320];    /* "registry.ollama.ai/library/llama3.2:3b", Go's Name.String() */
    unsigned caps;
    int64_t size; /* bytes; size_vram is the same (100% GPU) */
    char digest[65];
    char family[32];
    char parameter_size[16];
    const char *quantization;
    int64_t parameter_count;
    int64_t context_length;   /* the model's trained context (model_info) */
    int64_t embedding_length; /* model_info */
    struct timespec modified;
    int crash_pending; /* /_fake/crash: the next scheduling request fails once */
};

struct catalog;

/* Parses "name[:tag][=cap1+cap2],..." (caps: completion tools thinking embedding insert vision;
 * none given means completion). Returns 0, or -1 with a message. */
int catalog_new(const char *spec, struct catalog **out, char *err, size_t errlen);
void catalog_free(struct catalog *c);

size_t catalog_count(const struct catalog *c);
struct model *catalog_at(struct catalog *c, size_t i);

/* Ollama's ParseName: 0 when name is a valid model reference ("llama3.2", "library/x:tag",
 * "registry.ollama.ai/library/x:tag"); -1 for "" or bad characters. */
int catalog_name_valid(const char *name);

/* The model name refers to (case-insensitive, ":latest" when no tag), or NULL. */
struct model *catalog_find(struct catalog *c, const char *name);

/* New references. */
json_t *catalog_details_json(const struct model *m);
json_t *catalog_capabilities_json(const struct model *m);
json_t *catalog_tags_json(struct catalog *c);
json_t *catalog_show_json(const struct model *m);

#endif
