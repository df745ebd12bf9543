/* binding: Go-compatible binding of inference request bodies (see binding.h). Field tables
 * mirror api.GenerateRequest, api.ChatRequest, api.EmbedRequest and api.EmbeddingRequest; only
 * the types are checked, values are read later by gen.c. */
#include "binding.h"

#include "goduration.h"
#include "goquote.h"

#include <stdio.h>
#include <string.h>

enum ftype { FT_STRING, FT_BOOL, FT_INT, FT_OBJECT, FT_ARRAY, FT_ANY, FT_SPECIAL };

struct field {
    const char *name;
    enum ftype type;
    const char *gotype;
};

static const struct field generate_fields[] = {
    {"model", FT_STRING, "string"},
    {"prompt", FT_STRING, "string"},
    {"suffix", FT_STRING, "string"},
    {"system", FT_STRING, "string"},
    {"template", FT_STRING, "string"},
    {"context", FT_ARRAY, "[]int"},
    {"stream", FT_BOOL, "bool"},
    {"raw", FT_BOOL, "bool"},
    {"format", FT_ANY, ""},
    {"keep_alive", FT_SPECIAL, ""},
    {"images", FT_ARRAY, "[]api.ImageData"},
    {"options", FT_OBJECT, "map[string]interface {}"},
    {"think", FT_SPECIAL, ""},
    {"truncate", FT_BOOL, "bool"},
    {"shift", FT_BOOL, "bool"},
    {"logprobs", FT_BOOL, "bool"},
    {"top_logprobs", FT_INT, "int"},
    {"_debug_render_only", FT_BOOL, "bool"},
    {NULL, FT_ANY, NULL},
};

static const struct field chat_fields[] = {
    {"model", FT_STRING, "string"},
    {"messages", FT_ARRAY, "[]api.Message"},
    {"tools", FT_ARRAY, "api.Tools"},
    {"stream", FT_BOOL, "bool"},
    {"format", FT_ANY, ""},
    {"keep_alive", FT_SPECIAL, ""},
    {"options", FT_OBJECT, "map[string]interface {}"},
    {"think", FT_SPECIAL, ""},
    {"truncate", FT_BOOL, "bool"},
    {"shift", FT_BOOL, "bool"},
    {"logprobs", FT_BOOL, "bool"},
    {"top_logprobs", FT_INT, "int"},
    {"_debug_render_only", FT_BOOL, "bool"},
    {NULL, FT_ANY, NULL},
};

static const struct field embed_fields[] = {
    {"model", FT_STRING, "string"}, {"input", FT_ANY, ""},
    {"keep_alive", FT_SPECIAL, ""}, {"truncate", FT_BOOL, "bool"},
    {"dimensions", FT_INT, "int"},  {"options", FT_OBJECT, "map[string]interface {}"},
    {NULL, FT_ANY, NULL},
};

static const struct field embeddings_fields[] = {
    {"model", FT_STRING, "string"}, {"prompt", FT_STRING, "string"},
    {"keep_alive", FT_SPECIAL, ""}, {"options", FT_OBJECT, "map[string]interface {}"},
    {NULL, FT_ANY, NULL},
};

static const struct field message_fields[] = {
    {"role", FT_STRING, "string"},
    {"content", FT_STRING, "string"},
    {"thinking", FT_STRING, "string"},
    {"images", FT_ARRAY, "[]api.ImageData"},
    {"tool_calls", FT_ARRAY, "[]api.ToolCall"},
    {"tool_name", FT_STRING, "string"},
    {"tool_call_id", FT_STRING, "string"},
    {NULL, FT_ANY, NULL},
};

static const char *json_kind(const json_t *v) {
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

static int type_ok(const json_t *v, enum ftype t) {
    if (json_is_null(v))
        return 1;
    switch (t) {
        case FT_STRING:
            return json_is_string(v);
        case FT_BOOL:
            return json_is_boolean(v);
        case FT_INT:
            return json_is_integer(v);
        case FT_OBJECT:
            return json_is_object(v);
        case FT_ARRAY:
            return json_is_array(v);
        default:
            return 1;
    }
}

/* ThinkValue.UnmarshalJSON: a bool or "high" | "medium" | "low" | "max". */
static int think_check(const json_t *v, char *err, size_t errlen) {
    if (json_is_null(v) || json_is_boolean(v))
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "high") || !strcmp(s, "medium") || !strcmp(s, "low") || !strcmp(s, "max"))
            return 0;
        char q[256];
        goquote_n(s, json_string_length(v), q, sizeof(q));
        snprintf(err, errlen,
                 "invalid think value: %s (must be \"high\", \"medium\", \"low\", \"max\", true, "
                 "or false)",
                 q);
        return -1;
    }
    snprintf(err, errlen,
             "think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or "
             "false)");
    return -1;
}

int binding_think_truthy(const json_t *v) {
    return json_is_true(v) || (json_is_string(v) && json_string_length(v) > 0);
}

/* Binds like gin's ShouldBindJSON: custom unmarshalers (keep_alive, think) fail first, then
 * the first type mismatch in document order. */
static int check_fields(const json_t *body, const struct field *fields, const char *strct,
                        char *err, size_t errlen) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        const struct field *fd = fields;
        while (fd->name && strcmp(fd->name, key) != 0)
            fd++;
        if (fd->type != FT_SPECIAL) /* unknown keys (name NULL) are FT_ANY: ignored */
            continue;
        if (!strcmp(key, "keep_alive") && !json_is_null(v)) {
            int64_t ns;
            if (goduration_from_json(v, &ns, err, errlen) != 0)
                return -1;
        } else if (!strcmp(key, "think") && think_check(v, err, errlen) != 0) {
            return -1;
        }
    }
    json_object_foreach((json_t *)body, key, v) {
        for (const struct field *fd = fields; fd->name; fd++) {
            if (strcmp(fd->name, key) != 0)
                continue;
            if (!type_ok(v, fd->type)) {
                snprintf(err, errlen,
                         "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
                         json_kind(v), strct, key, fd->gotype);
                return -1;
            }
        }
    }
    if (fields == chat_fields) {
        size_t i;
        json_t *msg;
        json_array_foreach(json_object_get(body, "messages"), i, msg) {
            if (!json_is_object(msg)) {
                snprintf(err, errlen,
                         "json: cannot unmarshal %s into Go struct field ChatRequest.messages of "
                         "type api.Message",
                         json_kind(msg));
                return -1;
            }
            json_object_foreach(msg, key, v) {
                for (const struct field *fd = message_fields; fd->name; fd++) {
                    if (!strcmp(fd->name, key) && !type_ok(v, fd->type)) {
                        snprintf(err, errlen,
                                 "json: cannot unmarshal %s into Go struct field "
                                 "ChatRequest.messages.%s of type %s",
                                 json_kind(v), key, fd->gotype);
                        return -1;
                    }
                }
            }
        }
    }
    return 0;
}

/* api.Options.FromMap for the options that matter here; Ollama answers these errors with 500. */
/* Go's int64(float64) without C's undefined behaviour: truncated, saturated. */
static int64_t real_to_int(double d) {
    if (!(d == d))
        return 0;
    if (d >= 9.2233720368547758e18)
        return INT64_MAX;
    if (d <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)d;
}

int binding_options(const json_t *opts, struct runner_opts *ro, int64_t *num_predict, char *err,
                    size_t errlen) {
    static const char *const ints[] = {"num_keep",      "seed",     "num_predict", "top_k",
                                       "repeat_last_n", "mirostat", "num_ctx",     "num_batch",
                                       "num_gpu",       "main_gpu", "num_thread",  NULL};
    static const char *const bools[] = {"use_mmap", "use_mlock",  "numa",       "penalize_newline",
                                        "low_vram", "vocab_only", "logits_all", NULL};
    static const char *const floats[] = {"temperature",
                                         "top_p",
                                         "min_p",
                                         "typical_p",
                                         "repeat_penalty",
                                         "presence_penalty",
                                         "frequency_penalty",
                                         "tfs_z",
                                         "mirostat_tau",
                                         "mirostat_eta",
                                         NULL};
    sched_opts_default(ro);
    *num_predict = -1;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)opts, key, v) {
        if (json_is_null(v))
            continue;
        for (size_t i = 0; ints[i]; i++) {
            if (strcmp(key, ints[i]) != 0)
                continue;
            if (!json_is_number(v)) {
                snprintf(err, errlen, "option \"%s\" must be of type integer", key);
                return -1;
            }
            int64_t n = json_is_integer(v) ? (int64_t)json_integer_value(v)
                                           : real_to_int(json_real_value(v));
            if (!strcmp(key, "num_ctx"))
                ro->num_ctx = n;
            else if (!strcmp(key, "num_batch"))
                ro->num_batch = n;
            else if (!strcmp(key, "num_gpu"))
                ro->num_gpu = n;
            else if (!strcmp(key, "main_gpu"))
                ro->main_gpu = n;
            else if (!strcmp(key, "num_thread"))
                ro->num_thread = n;
            else if (!strcmp(key, "num_predict"))
                *num_predict = n;
        }
        for (size_t i = 0; bools[i]; i++) {
            if (strcmp(key, bools[i]) != 0)
                continue;
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "option \"%s\" must be of type boolean", key);
                return -1;
            }
            if (!strcmp(key, "use_mmap"))
                ro->use_mmap = json_is_true(v);
        }
        for (size_t i = 0; floats[i]; i++) {
            if (!strcmp(key, floats[i]) && !json_is_number(v)) {
                snprintf(err, errlen, "option \"%s\" must be of type float32", key);
                return -1;
            }
        }
        if (!strcmp(key, "stop")) {
            if (!json_is_array(v)) {
                snprintf(err, errlen, "option \"%s\" must be of type array", key);
                return -1;
            }
            size_t i;
            json_t *s;
            json_array_foreach(v, i, s) {
                if (!json_is_string(s)) {
                    snprintf(err, errlen, "option \"%s\" must be of an array of strings", key);
                    return -1;
                }
            }
        }
    }
    return 0;
}

int binding_request(const struct http_body *body, enum gen_kind kind, char *err, size_t errlen) {
    static const struct {
        const struct field *fields;
        const char *strct;
    } kinds[] = {
        [GEN_GENERATE] = {generate_fields, "GenerateRequest"},
        [GEN_CHAT] = {chat_fields, "ChatRequest"},
        [GEN_EMBED] = {embed_fields, "EmbedRequest"},
        [GEN_EMBEDDINGS] = {embeddings_fields, "EmbeddingRequest"},
    };
    if (body->blank) {
        snprintf(err, errlen, "missing request body");
        return -1;
    }
    if (!body->json) {
        snprintf(err, errlen, "%s", body->error);
        return -1;
    }
    if (json_is_null(body->json))
        return 0; /* Go binds null to the zero request */
    if (!json_is_object(body->json)) {
        snprintf(err, errlen, "json: cannot unmarshal %s into Go value of type api.%s",
                 json_kind(body->json), kinds[kind].strct);
        return -1;
    }
    return check_fields(body->json, kinds[kind].fields, kinds[kind].strct, err, errlen);
}
