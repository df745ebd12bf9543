/* openai: the OpenAI <-> Ollama native translation (contract in openai.h). Owns the request
 * field mapping, the response shapes, the streaming chunk state machine and the OpenAI error
 * envelope. Functions over jansson values with no I/O (the clock and id.c's generator are the
 * only inputs besides the arguments, see openai.h). Results are new references that may
 * share (incref'd) subtrees with the borrowed inputs, so callers must not modify nested values
 * of a result in place. */
#include "openai.h"
#include "base64.h"
#include "errtext.h"
#include "gojson.h"
#include "gokey.h"
#include "id.h"
#include "jsonstr.h"
#include "openai_fields.h"
#include "rfc3339.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FINGERPRINT "fp_ollama"

/* Length of the valid UTF-8 sequence at p in a NUL-terminated string (jansson's rules), or 0;
 * jsonstr_utf8_len stops at the first byte that is not a continuation, so never reads past
 * the NUL. */
static size_t utf8_seq(const unsigned char *p) {
    return p[0] < 0x80 ? 1 : jsonstr_utf8_len(p, p + 4);
}

/* Copies src into dst (size len), cutting only between whole UTF-8 sequences. */
static void utf8_copy(char *dst, size_t len, const char *src) {
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)src;
    while (*p) {
        size_t n = utf8_seq(p);
        if (!n)
            n = 1; /* not UTF-8 at all: the JSON layer refuses it later, as it would anyway */
        if (o + n >= len)
            break;
        memcpy(dst + o, p, n);
        o += n;
        p += n;
    }
    dst[o] = '\0';
}

/* ---- errors and type checks ------------------------------------------------------------ */

static void set_err(struct openai_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(struct openai_err *err, int status, const char *fmt, ...) {
    va_list ap;
    if (!err)
        return;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* JSON type as a client would name it. */
static const char *type_name(const json_t *v) {
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
            return "boolean";
        case JSON_NULL:
            break;
    }
    return "null";
}

/* Go's %T of a value decoded into `any`, for the texts Ollama builds with it. */
static const char *go_type_name(const json_t *v) {
    if (!v)
        return "<nil>";
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            return "map[string]interface {}";
        case JSON_ARRAY:
            return "[]interface {}";
        case JSON_STRING:
            return "string";
        case JSON_INTEGER:
        case JSON_REAL:
            return "float64";
        case JSON_TRUE:
        case JSON_FALSE:
            return "bool";
        case JSON_NULL:
            break;
    }
    return "<nil>";
}

enum kind { K_STRING, K_NUMBER, K_INTEGER, K_BOOL, K_OBJECT, K_ARRAY };

static const char *const kind_names[] = {
    [K_STRING] = "string", [K_NUMBER] = "number", [K_INTEGER] = "integer",
    [K_BOOL] = "boolean",  [K_OBJECT] = "object", [K_ARRAY] = "array",
};

/* An integer, or a real with an integral value in range (100.0 is a fine max_tokens). */
static int is_integral(const json_t *v) {
    double d;
    if (json_is_integer(v))
        return 1;
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    return d == floor(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0;
}

static json_int_t int_value(const json_t *v) {
    return json_is_integer(v) ? json_integer_value(v) : (json_int_t)json_real_value(v);
}

static int kind_ok(const json_t *v, enum kind k) {
    switch (k) {
        case K_STRING:
            return json_is_string(v);
        case K_NUMBER:
            return json_is_number(v);
        case K_INTEGER:
            return is_integral(v);
        case K_BOOL:
            return json_is_boolean(v);
        case K_OBJECT:
            return json_is_object(v);
        case K_ARRAY:
            return json_is_array(v);
    }
    return 0;
}

static int type_err(struct openai_err *err, const char *prefix, const char *key, enum kind k,
                    const json_t *v) {
    set_err(err, 400, "invalid type for '%s%s': expected %s, got %s", prefix, key, kind_names[k],
            type_name(v));
    return -1;
}

/* obj[key] checked against kind k. JSON null counts as absent, as in Go decoding: *out is
 * NULL then. A wrong type is a 400 naming prefix+key. */
static int get_field(const json_t *obj, const char *prefix, const char *key, enum kind k,
                     const json_t **out, struct openai_err *err) {
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!kind_ok(v, k))
        return type_err(err, prefix, key, k, v);
    *out = v;
    return 0;
}

/* The client body's top-level members are read only through these, by their id in
 * openai_fields.h's table (shared with the fast path, which declines what it does not take). */
static json_t *member(const json_t *in, enum openai_field id) {
    return json_object_get(in, openai_fields[id].name);
}

static int get_member(const json_t *in, enum openai_field id, enum kind k, const json_t **out,
                      struct openai_err *err) {
    return get_field(in, "", openai_fields[id].name, k, out, err);
}

/* The string at obj[key], or "" when absent or not a string (lenient reading of upstream). */
static const char *str_or_empty(const json_t *obj, const char *key) {
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* obj[key] when it is a non-empty array, else NULL. */
static const json_t *nonempty_array(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    return json_is_array(v) && json_array_size(v) > 0 ? v : NULL;
}

/* A token count from Ollama: a non-negative number, else 0 (so sums cannot overflow). */
static json_int_t count_value(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    double d = json_is_number(v) ? json_number_value(v) : 0;
    if (json_is_integer(v) && json_integer_value(v) >= 0 &&
        json_integer_value(v) <= OPENAI_COUNT_MAX)
        return json_integer_value(v);
    if (json_is_real(v) && d >= 0 && d <= (double)OPENAI_COUNT_MAX)
        return (json_int_t)d;
    return 0;
}

/* Compact JSON text of v as a new json string (key order kept, Go-style reals). */
static json_t *compact_string_new(const json_t *v) {
    size_t n;
    char *text = gojson_dump_new(v, &n);
    json_t *s = text ? json_stringn(text, n) : NULL;
    free(text);
    return s;
}

/* A tool call id where the native answer has none (id.c: Ollama's "call_" + 8 [a-z0-9]). */
static json_t *tool_call_id_new(void) {
    char id[ID_TOOL_CALL_SIZE];
    id_tool_call(id);
    return json_string(id);
}

/* ---- request: shared pieces -------------------------------------------------------------- */

enum api { API_CHAT, API_COMPLETION, API_EMBED };

/* model, stream and stream_options, common to chat and completions. */
struct common {
    const char *model;
    int stream;
    int include_usage;
};

static int read_common(const json_t *in, struct common *c, struct openai_err *err) {
    const json_t *model, *stream, *so, *usage = NULL;
    if (get_member(in, OF_MODEL, K_STRING, &model, err) ||
        get_member(in, OF_STREAM, K_BOOL, &stream, err) ||
        get_member(in, OF_STREAM_OPTIONS, K_OBJECT, &so, err) ||
        (so && get_field(so, "stream_options.", "include_usage", K_BOOL, &usage, err)))
        return -1;
    c->model = model ? json_string_value(model) : "";
    c->stream = stream && json_is_true(stream);
    c->include_usage = usage && json_is_true(usage);
    return 0;
}

/* n: Ollama always produces one choice, so n > 1 is refused rather than silently ignored. */
static int check_n(const json_t *in, struct openai_err *err) {
    const json_t *n;
    if (get_member(in, OF_N, K_INTEGER, &n, err))
        return -1;
    if (n && int_value(n) > 1) {
        set_err(err, 400, "n > 1 is not supported: Ollama returns one choice");
        return -1;
    }
    if (n && int_value(n) < 1) {
        set_err(err, 400, "%" JSON_INTEGER_FORMAT " is less than the minimum of 1 - 'n'",
                int_value(n));
        return -1;
    }
    return 0;
}

/* A number copied with its JSON type (integer stays integer). */
static json_t *number_new(const json_t *v) {
    return json_is_integer(v) ? json_integer(json_integer_value(v))
                              : json_real(json_number_value(v));
}

/* options.stop from "stop": a string becomes ["s"]. In an array, chat drops non-strings
 * (Ollama) and completions refuse them with Ollama's text. */
static int map_stop(const json_t *in, enum api api, json_t *opts, struct openai_err *err) {
    const json_t *stop = member(in, OF_STOP), *item;
    json_t *list;
    size_t i;

    if (!stop || json_is_null(stop))
        return 0;
    if (json_is_string(stop)) {
        json_object_set_new(opts, "stop", json_pack("[O]", stop));
        return 0;
    }
    if (!json_is_array(stop)) {
        set_err(err, 400, "invalid type for 'stop': expected string or array of strings, got %s",
                type_name(stop));
        return -1;
    }
    list = json_array();
    json_array_foreach(stop, i, item) {
        if (json_is_string(item)) {
            json_array_append(list, (json_t *)item);
        } else if (api == API_COMPLETION) {
            set_err(err, 400, "invalid type for 'stop' field: %s", go_type_name(item));
            json_decref(list);
            return -1;
        }
    }
    json_object_set_new(opts, "stop", list);
    return 0;
}

/* Sets key from the number field when present, else the default when the client's own
 * options do not already carry the key. */
static int map_number(const json_t *in, enum openai_field id, json_t *opts, double dflt,
                      int has_dflt, struct openai_err *err) {
    const char *key = openai_fields[id].name;
    const json_t *v;
    if (get_member(in, id, K_NUMBER, &v, err))
        return -1;
    if (v)
        json_object_set_new(opts, key, number_new(v));
    else if (has_dflt && !json_object_get(opts, key))
        json_object_set_new(opts, key, json_real(dflt));
    return 0;
}

/* The native "options" object: the client's own "options" (an Ollama extra) as the base,
 * then the mapped OpenAI fields over it, Ollama's /v1 defaults for keys still unset, and a
 * top-level "num_ctx" last. Embeddings take only the extras. */
static json_t *options_new(const json_t *in, enum api api, struct openai_err *err) {
    const json_t *client, *v, *mct, *mt, *num_ctx;
    json_t *opts = json_object();

    if (!opts) {
        set_err(err, 500, "out of memory");
        return NULL;
    }
    if (get_member(in, OF_OPTIONS, K_OBJECT, &client, err))
        goto fail;
    if (client)
        json_object_update(opts, (json_t *)client);

    if (api != API_EMBED) {
        if (get_member(in, OF_MAX_COMPLETION_TOKENS, K_INTEGER, &mct, err) ||
            get_member(in, OF_MAX_TOKENS, K_INTEGER, &mt, err))
            goto fail;
        if (mct || mt)
            json_object_set_new(opts, "num_predict", json_integer(int_value(mct ? mct : mt)));

        if (map_number(in, OF_TEMPERATURE, opts, 1.0, 1, err))
            goto fail;

        /* completions: top_p 0 counts as unset (a non-pointer float32 in Ollama) */
        if (get_member(in, OF_TOP_P, K_NUMBER, &v, err))
            goto fail;
        if (v && !(api == API_COMPLETION && json_number_value(v) == 0))
            json_object_set_new(opts, "top_p", number_new(v));
        else if (v || !json_object_get(opts, "top_p"))
            json_object_set_new(opts, "top_p", json_real(1.0));

        if (get_member(in, OF_SEED, K_INTEGER, &v, err))
            goto fail;
        if (v)
            json_object_set_new(opts, "seed", json_integer(int_value(v)));

        /* chat sends penalties only when given; completions always (0 by default) */
        if (map_number(in, OF_FREQUENCY_PENALTY, opts, 0.0, api == API_COMPLETION, err) ||
            map_number(in, OF_PRESENCE_PENALTY, opts, 0.0, api == API_COMPLETION, err) ||
            map_stop(in, api, opts, err))
            goto fail;
    }

    if (get_member(in, OF_NUM_CTX, K_INTEGER, &num_ctx, err))
        goto fail;
    if (num_ctx)
        json_object_set_new(opts, "num_ctx", json_integer(int_value(num_ctx)));
    return opts;
fail:
    json_decref(opts);
    return NULL;
}

/* keep_alive is copied as given: policy validates and overrides it. */
static void map_keep_alive(const json_t *in, json_t *out) {
    json_t *ka = member(in, OF_KEEP_ALIVE);
    if (ka && !json_is_null(ka))
        json_object_set(out, "keep_alive", ka);
}

static int map_debug_render(const json_t *in, json_t *out, struct openai_err *err) {
    const json_t *v;
    if (get_member(in, OF_DEBUG_RENDER_ONLY, K_BOOL, &v, err))
        return -1;
    if (v && json_is_true(v))
        json_object_set_new(out, "_debug_render_only", json_true());
    return 0;
}

/* ---- chat request ------------------------------------------------------------------------ */

/* Go's base64 image bytes, re-encoded as Ollama marshals []byte (standard, padded). */
static json_t *base64_canonical_new(const char *b64) {
    size_t n;
    unsigned char *bytes = base64_decode_new(b64, &n);
    char *text;
    json_t *s;
    if (!bytes)
        return NULL;
    text = base64_encode_new(bytes, n);
    free(bytes);
    s = text ? json_string(text) : NULL;
    free(text);
    return s;
}

/* A data URI (data:image/(jpeg|jpg|png|webp);base64,... or data:;base64,...) -> the native
 * images[] entry. */
static json_t *image_new(const char *url, struct openai_err *err) {
    static const char *const prefixes[] = {
        "data:;base64,",          "data:image/jpeg;base64,", "data:image/jpg;base64,",
        "data:image/png;base64,", "data:image/webp;base64,",
    };
    json_t *img;

    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8)) {
        set_err(err, 400,
                "image URLs are not currently supported, please use base64 encoded data instead");
        return NULL;
    }
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t len = strlen(prefixes[i]);
        if (!strncmp(url, prefixes[i], len)) {
            img = base64_canonical_new(url + len);
            if (!img)
                set_err(err, 400, "invalid image input");
            return img;
        }
    }
    set_err(err, 400, "invalid image input");
    return NULL;
}

json_t *openai_image_new(const char *url, struct openai_err *err) {
    return image_new(url, err);
}

static json_t *message_new(const char *role, const char *content) {
    return json_pack("{s:s,s:s}", "role", role, "content", content);
}

/* One content part -> one native message: text, image_url (object or bare string) or
 * input_audio. Anything else is Ollama's "invalid message format". */
static json_t *part_message_new(const json_t *part, const char *role, struct openai_err *err) {
    const char *type = json_string_value(json_object_get(part, "type"));
    const json_t *v;
    json_t *msg, *media;

    if (!json_is_object(part) || !type)
        goto bad;
    if (!strcmp(type, "text")) {
        v = json_object_get(part, "text");
        if (!json_is_string(v))
            goto bad;
        return message_new(role, json_string_value(v));
    }
    if (!strcmp(type, "image_url")) {
        v = json_object_get(part, "image_url");
        if (json_is_object(v))
            v = json_object_get(v, "url");
        if (!json_is_string(v))
            goto bad;
        media = image_new(json_string_value(v), err);
    } else if (!strcmp(type, "input_audio")) {
        v = json_object_get(json_object_get(part, "input_audio"), "data");
        if (!json_is_string(v))
            goto bad;
        media = base64_canonical_new(json_string_value(v));
        if (!media)
            goto bad;
    } else {
        goto bad;
    }
    if (!media)
        return NULL;
    msg = message_new(role, "");
    json_object_set_new(msg, "images", json_pack("[o]", media));
    return msg;
bad:
    set_err(err, 400, "invalid message format");
    return NULL;
}

/* Assistant tool_calls -> native: {"id"?, "function":{"index":0,"name","arguments":{...}}}.
 * arguments is a JSON string holding an object (an object given directly is accepted too). */
static json_t *native_tool_calls_new(const json_t *calls, const char *prefix,
                                     struct openai_err *err) {
    json_t *out = json_array(), *call;
    const json_t *item;
    size_t i;
    char path[96];

    json_array_foreach(calls, i, item) {
        const json_t *id, *fn, *name = NULL, *args = NULL;
        json_t *parsed;

        snprintf(path, sizeof(path), "%stool_calls[%zu]", prefix, i);
        if (!json_is_object(item)) {
            set_err(err, 400, "invalid type for '%s': expected object, got %s", path,
                    type_name(item));
            goto fail;
        }
        snprintf(path, sizeof(path), "%stool_calls[%zu].", prefix, i);
        if (get_field(item, path, "id", K_STRING, &id, err) ||
            get_field(item, path, "function", K_OBJECT, &fn, err))
            goto fail;
        snprintf(path, sizeof(path), "%stool_calls[%zu].function.", prefix, i);
        if (fn && get_field(fn, path, "name", K_STRING, &name, err))
            goto fail;
        if (fn)
            args = json_object_get(fn, "arguments");

        if (json_is_object(args)) {
            parsed = json_incref((json_t *)args);
        } else if (json_is_string(args)) {
            parsed = json_loads(json_string_value(args), JSON_DECODE_ANY, NULL);
            if (json_is_null(parsed)) {
                json_decref(parsed);
                parsed = json_object();
            } else if (!json_is_object(parsed)) {
                json_decref(parsed);
                parsed = NULL;
            }
        } else {
            parsed = NULL;
        }
        if (!parsed) {
            set_err(err, 400, "invalid tool call arguments");
            goto fail;
        }

        call = json_object();
        if (id && json_string_length(id))
            json_object_set(call, "id", (json_t *)id);
        json_object_set_new(call, "function",
                            json_pack("{s:i,s:s,s:o}", "index", 0, "name",
                                      name ? json_string_value(name) : "", "arguments", parsed));
        json_array_append_new(out, call);
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* tool_name for a role:"tool" message without "name": the function of the assistant tool
 * call with that id, the last one winning (Ollama's nameFromToolCallID). */
static const char *tool_name_from_id(const json_t *messages, const char *id) {
    for (size_t i = json_array_size(messages); i-- > 0;) {
        const json_t *calls = json_object_get(json_array_get(messages, i), "tool_calls"), *tc;
        size_t j;
        json_array_foreach(calls, j, tc) {
            const char *tid = json_string_value(json_object_get(tc, "id"));
            const char *name =
                json_string_value(json_object_get(json_object_get(tc, "function"), "name"));
            if (tid && name && !strcmp(tid, id))
                return name;
        }
    }
    return "";
}

static void set_nonempty(json_t *obj, const char *key, const char *value) {
    if (value && *value)
        json_object_set_new(obj, key, json_string(value));
}

/* Converts messages[i], appending one or more native messages to out. */
static int convert_message(const json_t *messages, size_t idx, json_t *out,
                           struct openai_err *err) {
    const json_t *m = json_array_get(messages, idx);
    const json_t *role_v, *reasoning_v, *name_v, *tcid_v, *calls_v, *content, *part;
    const char *role, *reasoning, *tool_call_id, *tool_name = "";
    json_t *calls = NULL, *last = NULL;
    char prefix[48];
    size_t i, before = json_array_size(out);

    snprintf(prefix, sizeof(prefix), "messages[%zu]", idx);
    if (!json_is_object(m)) {
        set_err(err, 400, "invalid type for '%s': expected object, got %s", prefix, type_name(m));
        return -1;
    }
    snprintf(prefix, sizeof(prefix), "messages[%zu].", idx);
    if (get_field(m, prefix, "role", K_STRING, &role_v, err) ||
        get_field(m, prefix, "reasoning", K_STRING, &reasoning_v, err) ||
        get_field(m, prefix, "name", K_STRING, &name_v, err) ||
        get_field(m, prefix, "tool_call_id", K_STRING, &tcid_v, err) ||
        get_field(m, prefix, "tool_calls", K_ARRAY, &calls_v, err))
        return -1;
    role = role_v ? json_string_value(role_v) : "";
    reasoning = reasoning_v ? json_string_value(reasoning_v) : "";
    tool_call_id = tcid_v ? json_string_value(tcid_v) : "";

    if (!strcasecmp(role, "tool")) {
        if (name_v && json_string_length(name_v))
            tool_name = json_string_value(name_v);
        else if (*tool_call_id)
            tool_name = tool_name_from_id(messages, tool_call_id);
    }
    if (calls_v && !(calls = native_tool_calls_new(calls_v, prefix, err)))
        return -1;

    content = json_object_get(m, "content");
    if (content && json_is_null(content))
        content = NULL;
    if (json_is_string(content)) {
        last = message_new(role, json_string_value(content));
        json_array_append_new(out, last);
    } else if (json_is_array(content)) {
        json_array_foreach(content, i, part) {
            json_t *msg = part_message_new(part, role, err);
            if (!msg)
                goto fail;
            json_array_append_new(out, msg);
        }
        /* Ollama attaches tool metadata to the last part only when there are tool calls,
         * so a tool result with array content loses its id; we always attach it. */
        if (json_array_size(out) > before)
            last = json_array_get(out, json_array_size(out) - 1);
        else if (calls && json_array_size(calls))
            json_array_append_new(out, last = message_new(role, ""));
    } else if (!content && calls_v) {
        /* content is optional only when tool_calls is present */
        last = message_new(role, "");
        json_array_append_new(out, last);
    } else {
        set_err(err, 400, "invalid message content type: %s", go_type_name(content));
        goto fail;
    }

    if (last) {
        set_nonempty(last, "thinking", reasoning);
        if (calls && json_array_size(calls))
            json_object_set(last, "tool_calls", calls);
        set_nonempty(last, "tool_name", tool_name);
        set_nonempty(last, "tool_call_id", tool_call_id);
    }
    json_decref(calls);
    return 0;
fail:
    json_decref(calls);
    return -1;
}

/* reasoning.effort (when set) or reasoning_effort -> think. */
int openai_effort_think(const char *effort, json_t **think) {
    static const struct {
        const char *effort, *think; /* think NULL: false */
    } table[] = {
        {"none", NULL},   {"minimal", "low"}, {"low", "low"},   {"medium", "medium"},
        {"high", "high"}, {"xhigh", "max"},   {"ultra", "max"}, {"max", "max"},
    };
    *think = NULL;
    if (!*effort)
        return 0;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (!strcmp(effort, table[i].effort)) {
            *think = table[i].think ? json_string(table[i].think) : json_false();
            return 0;
        }
    }
    return -1;
}

static int map_think(const json_t *in, json_t *out, struct openai_err *err) {
    const json_t *reasoning, *effort_v = NULL;
    const char *effort = "";
    json_t *think;

    if (get_member(in, OF_REASONING, K_OBJECT, &reasoning, err) ||
        (reasoning && get_field(reasoning, "reasoning.", "effort", K_STRING, &effort_v, err)))
        return -1;
    if (effort_v)
        effort = json_string_value(effort_v);
    if (!*effort) {
        if (get_member(in, OF_REASONING_EFFORT, K_STRING, &effort_v, err))
            return -1;
        effort = effort_v ? json_string_value(effort_v) : "";
    }
    if (openai_effort_think(effort, &think) < 0) {
        set_err(err, 400, OPENAI_EFFORT_INVALID, effort);
        return -1;
    }
    if (think)
        json_object_set_new(out, "think", think);
    return 0;
}

/* response_format: json_object -> "json", json_schema -> the schema; type is trimmed and
 * compared case-insensitively; anything else means no format. */
static int map_format(const json_t *in, json_t *out, struct openai_err *err) {
    const json_t *rf, *type_v, *js, *schema;
    const char *type;
    size_t len;

    if (get_member(in, OF_RESPONSE_FORMAT, K_OBJECT, &rf, err))
        return -1;
    if (!rf)
        return 0;
    if (get_field(rf, "response_format.", "type", K_STRING, &type_v, err) ||
        get_field(rf, "response_format.", "json_schema", K_OBJECT, &js, err))
        return -1;
    type = type_v ? json_string_value(type_v) : "";
    while (*type == ' ' || *type == '\t' || *type == '\n' || *type == '\r')
        type++;
    len = strlen(type);
    while (len && strchr(" \t\n\r", type[len - 1]))
        len--;
    if (len == 11 && !strncasecmp(type, "json_object", len)) {
        json_object_set_new(out, "format", json_string("json"));
    } else if (len == 11 && !strncasecmp(type, "json_schema", len) && js) {
        schema = json_object_get(js, "schema");
        if (schema && !json_is_null(schema))
            json_object_set(out, "format", (json_t *)schema);
    }
    return 0;
}

/* tools pass through as given (native /api/chat decodes them the same way /v1 does);
 * tool_choice "none" drops them. */
static int map_tools(const json_t *in, json_t *out, struct openai_err *err) {
    const json_t *tools = member(in, OF_TOOLS), *choice = member(in, OF_TOOL_CHOICE);
    const json_t *item;
    size_t i;

    if (choice && !json_is_null(choice) && !json_is_string(choice) && !json_is_object(choice)) {
        set_err(err, 400, "invalid type for 'tool_choice': expected string or object, got %s",
                type_name(choice));
        return -1;
    }
    if (get_member(in, OF_TOOLS, K_ARRAY, &tools, err))
        return -1;
    json_array_foreach(tools, i, item) {
        if (!json_is_object(item)) {
            set_err(err, 400, "invalid type for 'tools[%zu]': expected object, got %s", i,
                    type_name(item));
            return -1;
        }
    }
    if (json_is_string(choice) && !strcmp(json_string_value(choice), "none"))
        return 0;
    if (tools && json_array_size(tools))
        json_object_set(out, "tools", (json_t *)tools);
    return 0;
}

static int map_chat_logprobs(const json_t *in, json_t *out, struct openai_err *err) {
    const json_t *lp, *top;
    if (get_member(in, OF_LOGPROBS, K_BOOL, &lp, err) ||
        get_member(in, OF_TOP_LOGPROBS, K_INTEGER, &top, err))
        return -1;
    if (lp && json_is_true(lp))
        json_object_set_new(out, "logprobs", json_true());
    if (top && int_value(top) != 0)
        json_object_set_new(out, "top_logprobs", json_integer(int_value(top)));
    return 0;
}

static void fill_meta(struct openai_meta *meta, int stream, int include_usage, int b64) {
    if (!meta)
        return;
    meta->stream = stream;
    meta->include_usage = include_usage;
    meta->encoding_b64 = b64;
}

/* The end of a chat or completion request: _debug_render_only and keep_alive into out, then
 * the empty model refused with status and message (the last check, as Ollama's), meta filled.
 * Returns out, or NULL having released it. */
static json_t *request_finish(const json_t *in, json_t *out, const struct common *c,
                              struct openai_meta *meta, struct openai_err *err, int status,
                              const char *no_model) {
    if (map_debug_render(in, out, err))
        goto fail;
    map_keep_alive(in, out);
    if (!*c->model) {
        set_err(err, status, "%s", no_model);
        goto fail;
    }
    fill_meta(meta, c->stream, c->include_usage, 0);
    return out;
fail:
    json_decref(out);
    return NULL;
}

/* A client key that Go's decoder would take for a member the translations use ("Model",
 * "KEEP_ALIVE", "\u212Aeep_alive") is refused, as the key names something other than what
 * keepwarm read (gokey.h). The members are openai_fields.h's table, by which every top-level
 * member is read here; OpenAI itself refuses unknown members. */
static int check_body(const json_t *in, struct openai_err *err) {
    const char *key;
    const json_t *v;
    if (!json_is_object(in)) {
        set_err(err, 400, "invalid request body: expected a JSON object, got %s",
                in ? type_name(in) : "nothing");
        return -1;
    }
    json_object_foreach((json_t *)in, key, v) {
        const char *canonical = gokey_variant_of(key, strlen(key), openai_field_names);
        if (canonical) {
            if (err) {
                err->status = 400;
                gokey_refusal(err->message, sizeof(err->message), key, canonical);
            }
            return -1;
        }
    }
    return 0;
}

json_t *openai_chat_request_new(const json_t *in, struct openai_meta *meta,
                                struct openai_err *err) {
    struct common c;
    const json_t *messages;
    json_t *out, *msgs, *opts;

    if (check_body(in, err) || read_common(in, &c, err) || check_n(in, err) ||
        get_member(in, OF_MESSAGES, K_ARRAY, &messages, err))
        return NULL;
    if (!messages || !json_array_size(messages)) {
        set_err(err, 400, "[] is too short - 'messages'");
        return NULL;
    }

    out = json_object();
    msgs = json_array();
    json_object_set_new(out, "model", json_string(c.model));
    json_object_set_new(out, "messages", msgs);
    for (size_t i = 0; i < json_array_size(messages); i++)
        if (convert_message(messages, i, msgs, err))
            goto fail;
    json_object_set_new(out, "stream", json_boolean(c.stream));
    if (map_format(in, out, err) || !(opts = options_new(in, API_CHAT, err)))
        goto fail;
    json_object_set_new(out, "options", opts);
    if (map_tools(in, out, err) || map_think(in, out, err) || map_chat_logprobs(in, out, err))
        goto fail;
    return request_finish(in, out, &c, meta, err, 400, "model is required");
fail:
    json_decref(out);
    return NULL;
}

/* ---- completions and embeddings requests ------------------------------------------------- */

json_t *openai_completion_request_new(const json_t *in, struct openai_meta *meta,
                                      struct openai_err *err) {
    struct common c;
    const json_t *prompt, *suffix, *logprobs;
    json_t *out, *opts;

    if (check_body(in, err) || read_common(in, &c, err) || check_n(in, err) ||
        get_member(in, OF_PROMPT, K_STRING, &prompt, err) ||
        get_member(in, OF_SUFFIX, K_STRING, &suffix, err) ||
        get_member(in, OF_LOGPROBS, K_INTEGER, &logprobs, err))
        return NULL;
    if (!(opts = options_new(in, API_COMPLETION, err)))
        return NULL;

    out = json_object();
    json_object_set_new(out, "model", json_string(c.model));
    json_object_set_new(out, "prompt", json_string(prompt ? json_string_value(prompt) : ""));
    if (suffix && json_string_length(suffix))
        json_object_set(out, "suffix", (json_t *)suffix);
    json_object_set_new(out, "stream", json_boolean(c.stream));
    json_object_set_new(out, "options", opts);
    if (logprobs && int_value(logprobs) > 0) {
        json_object_set_new(out, "logprobs", json_true());
        json_object_set_new(out, "top_logprobs", json_integer(int_value(logprobs)));
    }
    return request_finish(in, out, &c, meta, err, 404, "model '' not found");
}

json_t *openai_embed_request_new(const json_t *in, struct openai_meta *meta,
                                 struct openai_err *err) {
    const json_t *model, *input, *dims, *fmt;
    const char *format = "";
    json_t *out, *opts;

    if (check_body(in, err) || get_member(in, OF_MODEL, K_STRING, &model, err))
        return NULL;
    input = member(in, OF_INPUT);
    if (!input || json_is_null(input) || (json_is_array(input) && !json_array_size(input))) {
        set_err(err, 400, "invalid input");
        return NULL;
    }
    if (!json_is_string(input) && !json_is_array(input)) {
        set_err(err, 400, "invalid input type");
        return NULL;
    }
    if (get_member(in, OF_DIMENSIONS, K_INTEGER, &dims, err) ||
        get_member(in, OF_ENCODING_FORMAT, K_STRING, &fmt, err))
        return NULL;
    if (fmt)
        format = json_string_value(fmt);
    if (*format && strcasecmp(format, "float") && strcasecmp(format, "base64")) {
        set_err(err, 400,
                "Invalid value for 'encoding_format' = %.200s. Supported values: ['float', "
                "'base64'].",
                format);
        return NULL;
    }
    if (!(opts = options_new(in, API_EMBED, err)))
        return NULL;

    out = json_object();
    json_object_set_new(out, "model", json_string(model ? json_string_value(model) : ""));
    if (json_is_string(input) && !json_string_length(input))
        json_object_set_new(out, "input", json_pack("[s]", ""));
    else
        json_object_set(out, "input", (json_t *)input);
    if (dims && int_value(dims) != 0)
        json_object_set_new(out, "dimensions", json_integer(int_value(dims)));
    if (json_object_size(opts))
        json_object_set_new(out, "options", opts);
    else
        json_decref(opts);
    map_keep_alive(in, out);
    if (!model || !json_string_length(model)) {
        set_err(err, 404, "model '' not found");
        json_decref(out);
        return NULL;
    }
    fill_meta(meta, 0, 0, !strcasecmp(format, "base64"));
    return out;
}

/* ---- responses ----------------------------------------------------------------------------- */

/* unix(created_at), or now when it is missing, unparsable or Go's zero time. */
static json_int_t created_of(const json_t *native) {
    long long t;
    if (rfc3339_parse(json_string_value(json_object_get(native, "created_at")), &t) == 0 && t > 0)
        return (json_int_t)t;
    return (json_int_t)time(NULL);
}

static json_t *usage_new(const json_t *native) {
    json_int_t p = count_value(native, "prompt_eval_count");
    json_int_t c = count_value(native, "eval_count");
    return json_pack("{s:I,s:I,s:I}", "prompt_tokens", p, "completion_tokens", c, "total_tokens",
                     p + c);
}

static json_t *zero_usage_new(void) {
    return json_pack("{s:i,s:i,s:i}", "prompt_tokens", 0, "completion_tokens", 0, "total_tokens",
                     0);
}

/* Native tool calls -> OpenAI: id (generated when missing), index from function.index,
 * type "function", arguments re-serialised as a compact JSON string. */
static json_t *openai_tool_calls_new(const json_t *calls) {
    json_t *out = json_array();
    const json_t *tc;
    size_t i;

    json_array_foreach(calls, i, tc) {
        const json_t *fn = json_object_get(tc, "function");
        const json_t *id = json_object_get(tc, "id"), *args = json_object_get(fn, "arguments");
        json_t *call, *fnout;

        call = json_object();
        json_object_set_new(call, "id",
                            json_is_string(id) && json_string_length(id) ? json_incref((json_t *)id)
                                                                         : tool_call_id_new());
        json_object_set_new(call, "index", json_integer(count_value(fn, "index")));
        json_object_set_new(call, "type", json_string("function"));
        fnout = json_object();
        json_object_set_new(fnout, "name", json_string(str_or_empty(fn, "name")));
        if (json_is_string(args))
            json_object_set(fnout, "arguments", (json_t *)args);
        else if (!args || json_is_null(args))
            json_object_set_new(fnout, "arguments", json_string("{}"));
        else
            json_object_set_new(fnout, "arguments", compact_string_new(args));
        json_object_set_new(call, "function", fnout);
        json_array_append_new(out, call);
    }
    return out;
}

static json_t *logprobs_new(const json_t *lp) {
    return json_pack("{s:O}", "content", lp);
}

/* id, object, created, model, system_fingerprint: the head of every response object. */
static json_t *head_new(const char *id, const char *object, json_int_t created, const char *model) {
    return json_pack("{s:s,s:s,s:I,s:s,s:s}", "id", id ? id : "", "object", object, "created",
                     created, "model", model, "system_fingerprint", FINGERPRINT);
}

json_t *openai_chat_response_new(const json_t *native, const char *id) {
    const json_t *msg, *calls, *lp;
    const char *role, *thinking, *reason;
    json_t *out, *message, *choice;

    if (!json_is_object(native))
        return NULL;
    msg = json_object_get(native, "message");
    calls = nonempty_array(msg, "tool_calls");
    lp = nonempty_array(native, "logprobs");
    role = str_or_empty(msg, "role");
    thinking = str_or_empty(msg, "thinking");
    reason = str_or_empty(native, "done_reason");

    message = json_pack("{s:s,s:s}", "role", *role ? role : "assistant", "content",
                        str_or_empty(msg, "content"));
    set_nonempty(message, "reasoning", thinking);
    if (calls)
        json_object_set_new(message, "tool_calls", openai_tool_calls_new(calls));
    if (calls && !strcmp(reason, "stop"))
        reason = "tool_calls";

    choice = json_pack("{s:i,s:o}", "index", 0, "message", message);
    json_object_set_new(choice, "finish_reason", *reason ? json_string(reason) : json_null());
    if (lp)
        json_object_set_new(choice, "logprobs", logprobs_new(lp));

    out = head_new(id, "chat.completion", created_of(native), str_or_empty(native, "model"));
    json_object_set_new(out, "choices", json_pack("[o]", choice));
    json_object_set_new(out, "usage", usage_new(native));
    return out;
}

json_t *openai_completion_response_new(const json_t *native, const char *id) {
    const char *reason;
    json_t *out, *choice;

    if (!json_is_object(native))
        return NULL;
    reason = str_or_empty(native, "done_reason");
    choice = json_pack("{s:s,s:i}", "text", str_or_empty(native, "response"), "index", 0);
    json_object_set_new(choice, "finish_reason", *reason ? json_string(reason) : json_null());

    out = head_new(id, "text_completion", created_of(native), str_or_empty(native, "model"));
    json_object_set_new(out, "choices", json_pack("[o]", choice));
    json_object_set_new(out, "usage", usage_new(native));
    return out;
}

/* One float32 vector as little-endian bytes in standard base64. */
static json_t *floats_b64_new(const json_t *vec) {
    size_t n = json_array_size(vec);
    unsigned char *bytes = malloc(n * 4 + 1);
    char *text;
    json_t *s;

    if (!bytes)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        float f = (float)json_number_value(json_array_get(vec, i));
        uint32_t u;
        memcpy(&u, &f, sizeof(u));
        bytes[i * 4] = (unsigned char)u;
        bytes[i * 4 + 1] = (unsigned char)(u >> 8);
        bytes[i * 4 + 2] = (unsigned char)(u >> 16);
        bytes[i * 4 + 3] = (unsigned char)(u >> 24);
    }
    text = base64_encode_new(bytes, n * 4);
    free(bytes);
    s = text ? json_string(text) : NULL;
    free(text);
    return s;
}

json_t *openai_embed_response_new(const json_t *native, const char *model, int encoding_b64) {
    const json_t *embs, *vec;
    json_int_t prompt;
    json_t *data;
    size_t i;

    if (!json_is_object(native))
        return NULL;
    embs = json_object_get(native, "embeddings");
    prompt = count_value(native, "prompt_eval_count");
    data = json_array();
    json_array_foreach(embs, i, vec) {
        json_t *e = encoding_b64 ? floats_b64_new(vec) : json_incref((json_t *)vec);
        json_array_append_new(data, json_pack("{s:s,s:o,s:I}", "object", "embedding", "embedding",
                                              e, "index", (json_int_t)i));
    }
    return json_pack("{s:s,s:o,s:s,s:{s:I,s:I}}", "object", "list", "data", data, "model",
                     model ? model : str_or_empty(native, "model"), "usage", "prompt_tokens",
                     prompt, "total_tokens", prompt);
}

/* owned_by: the namespace of an Ollama model name [host/][namespace/]model[:tag][@digest],
 * i.e. the path component before the model ("library" when there is none). */
static json_t *owned_by_new(const char *id) {
    const char *end = strchr(id, '@'), *last = NULL, *ns;
    if (!end)
        end = id + strlen(id);
    for (const char *p = id; p < end; p++)
        if (*p == '/')
            last = p;
    if (!last)
        return json_string("library");
    for (ns = last; ns > id && ns[-1] != '/'; ns--)
        ;
    return ns < last ? json_stringn(ns, (size_t)(last - ns)) : json_string("library");
}

static json_t *model_entry_new(const char *id, const json_t *native) {
    json_t *m = json_pack("{s:s,s:s}", "id", id, "object", "model");
    long long t;
    if (rfc3339_parse(str_or_empty(native, "modified_at"), &t) < 0)
        t = 0;
    json_object_set_new(m, "created", json_integer((json_int_t)t));
    json_object_set_new(m, "owned_by", owned_by_new(id));
    return m;
}

json_t *openai_models_list_new(const json_t *tags) {
    const json_t *m;
    json_t *data;
    size_t i;

    if (!json_is_object(tags))
        return NULL;
    data = json_array();
    json_array_foreach(json_object_get(tags, "models"), i, m) {
        const char *id = str_or_empty(m, "model");
        if (!*id)
            id = str_or_empty(m, "name");
        if (*id)
            json_array_append_new(data, model_entry_new(id, m));
    }
    return json_pack("{s:s,s:o}", "object", "list", "data", data);
}

json_t *openai_model_new(const char *id, const json_t *show) {
    if (!id || !json_is_object(show))
        return NULL;
    return model_entry_new(id, show);
}

/* ---- streaming ------------------------------------------------------------------------------ */

void openai_stream_init(struct openai_stream *s, const char *id, int include_usage) {
    memset(s, 0, sizeof(*s));
    utf8_copy(s->id, sizeof(s->id), id ? id : "");
    s->id_plain = openai_id_plain(s->id);
    s->include_usage = include_usage;
}

/* The line's model (remembered for lines and EOF chunks that lack one). */
static const char *stream_model(struct openai_stream *s, const json_t *line) {
    const char *model = json_string_value(json_object_get(line, "model"));
    if (model && *model) {
        utf8_copy(s->model, sizeof(s->model), model);
        return model;
    }
    return s->model;
}

static json_t *stream_chunk_new(struct openai_stream *s, const char *object, const json_t *line) {
    if (!s->created_set) {
        s->created = created_of(line);
        s->created_set = 1;
    }
    return head_new(s->id, object, s->created, stream_model(s, line));
}

/* Handles what chat and completion streams share before the content: an already finished
 * stream, a non-object line, a native {"error":...} line. Returns a stream result, or -1 to
 * go on with the line. */
static int stream_prologue(struct openai_stream *s, const json_t *line, json_t *frames) {
    const json_t *e;
    const char *text = NULL;
    json_t *dumped = NULL;

    if (s->finished)
        return s->finished == OPENAI_FINISHED_ERROR ? OPENAI_STREAM_ERROR : OPENAI_STREAM_DONE;
    if (json_is_object(line)) {
        e = json_object_get(line, "error");
        if (!e || json_is_null(e))
            return -1;
        text = json_string_value(e);
        if (!text)
            text = json_string_value(json_object_get(e, "message"));
        if (!text && (dumped = compact_string_new(e)))
            text = json_string_value(dumped);
    }
    if (!text)
        text = "invalid response from upstream";
    else if (!*text)
        text = "Ollama reported an error without a message";
    json_array_append_new(
        frames, openai_error_new(
                    500, text, errtext_is_context_length(text) ? "context_length_exceeded" : NULL));
    json_decref(dumped);
    s->finished = OPENAI_FINISHED_ERROR;
    return OPENAI_STREAM_ERROR;
}

/* Finish reason of a stream: done_reason, "" -> "stop", and "stop" -> "tool_calls" once a
 * chunk carried tool calls; anything else (length, load, unload, ...) passes through. */
static const char *stream_finish_reason(const char *done_reason, int tool_sent) {
    if (!done_reason || !*done_reason)
        done_reason = "stop";
    if (tool_sent && !strcmp(done_reason, "stop"))
        return "tool_calls";
    return done_reason;
}

static void append_chat_chunk(struct openai_stream *s, const json_t *line, json_t *frames,
                              json_t *delta, const char *finish, const json_t *lp) {
    json_t *chunk = stream_chunk_new(s, "chat.completion.chunk", line);
    json_t *choice = json_pack("{s:i,s:o}", "index", 0, "delta", delta);
    json_object_set_new(choice, "finish_reason", finish ? json_string(finish) : json_null());
    if (lp)
        json_object_set_new(choice, "logprobs", logprobs_new(lp));
    json_object_set_new(chunk, "choices", json_pack("[o]", choice));
    json_array_append_new(frames, chunk);
}

/* A content delta: role on the stream's first chunk only; content omitted when NULL;
 * reasoning when non-empty; tool_calls when given. */
static json_t *delta_new(struct openai_stream *s, const char *content, const char *reasoning,
                         const json_t *calls) {
    json_t *d = json_object();
    if (!s->role_sent) {
        json_object_set_new(d, "role", json_string("assistant"));
        s->role_sent = 1;
    }
    if (content)
        json_object_set_new(d, "content", json_string(content));
    set_nonempty(d, "reasoning", reasoning);
    if (calls) {
        json_object_set_new(d, "tool_calls", openai_tool_calls_new(calls));
        s->tool_sent = 1;
    }
    return d;
}

/* The finish chunk, then the usage chunk when asked; ends the stream. */
static int chat_stream_finish(struct openai_stream *s, const json_t *line, json_t *frames) {
    append_chat_chunk(s, line, frames, json_object(),
                      stream_finish_reason(str_or_empty(line, "done_reason"), s->tool_sent), NULL);
    if (s->include_usage) {
        json_t *chunk = stream_chunk_new(s, "chat.completion.chunk", line);
        json_object_set_new(chunk, "choices", json_array());
        json_object_set_new(chunk, "usage", usage_new(line));
        json_array_append_new(frames, chunk);
    }
    s->finished = OPENAI_FINISHED_DONE;
    return OPENAI_STREAM_DONE;
}

int openai_chat_stream_feed(struct openai_stream *s, const json_t *line, json_t *frames) {
    const json_t *msg, *calls, *lp;
    const char *content, *thinking;
    int done, r = stream_prologue(s, line, frames);

    if (r >= 0)
        return r;
    msg = json_object_get(line, "message");
    content = str_or_empty(msg, "content");
    thinking = str_or_empty(msg, "thinking");
    calls = nonempty_array(msg, "tool_calls");
    lp = nonempty_array(line, "logprobs");
    done = json_is_true(json_object_get(line, "done"));

    /* A done line with nothing to say after the first chunk is a metrics-only trailer. */
    if (!(done && s->role_sent && !*content && !*thinking && !calls && !lp)) {
        if (*thinking && (*content || calls)) {
            /* split: reasoning (with the logprobs) first, then content and tool calls */
            append_chat_chunk(s, line, frames, delta_new(s, NULL, thinking, NULL), NULL, lp);
            append_chat_chunk(s, line, frames, delta_new(s, content, NULL, calls), NULL, NULL);
        } else {
            append_chat_chunk(s, line, frames, delta_new(s, content, thinking, calls), NULL, lp);
        }
    }
    return done ? chat_stream_finish(s, line, frames) : OPENAI_STREAM_MORE;
}

int openai_chat_stream_eof(struct openai_stream *s, json_t *frames) {
    if (s->finished)
        return s->finished == OPENAI_FINISHED_ERROR ? OPENAI_STREAM_ERROR : OPENAI_STREAM_DONE;
    if (!s->role_sent)
        append_chat_chunk(s, NULL, frames, delta_new(s, "", NULL, NULL), NULL, NULL);
    return chat_stream_finish(s, NULL, frames);
}

static void append_completion_chunk(struct openai_stream *s, const json_t *line, json_t *frames,
                                    const char *finish) {
    json_t *chunk = stream_chunk_new(s, "text_completion", line);
    json_t *choice = json_pack("{s:s,s:i}", "text", str_or_empty(line, "response"), "index", 0);
    json_object_set_new(choice, "finish_reason", finish ? json_string(finish) : json_null());
    json_object_set_new(chunk, "choices", json_pack("[o]", choice));
    if (s->include_usage)
        json_object_set_new(chunk, "usage", zero_usage_new());
    json_array_append_new(frames, chunk);
    s->role_sent = 1;
}

static int completion_stream_finish(struct openai_stream *s, const json_t *line, json_t *frames) {
    append_completion_chunk(s, line, frames,
                            stream_finish_reason(str_or_empty(line, "done_reason"), 0));
    if (s->include_usage) {
        json_t *chunk = stream_chunk_new(s, "text_completion", line);
        json_object_set_new(chunk, "choices", json_array());
        json_object_set_new(chunk, "usage", usage_new(line));
        json_array_append_new(frames, chunk);
    }
    s->finished = OPENAI_FINISHED_DONE;
    return OPENAI_STREAM_DONE;
}

int openai_completion_stream_feed(struct openai_stream *s, const json_t *line, json_t *frames) {
    int r = stream_prologue(s, line, frames);
    if (r >= 0)
        return r;
    if (json_is_true(json_object_get(line, "done")))
        return completion_stream_finish(s, line, frames);
    append_completion_chunk(s, line, frames, NULL);
    return OPENAI_STREAM_MORE;
}

int openai_completion_stream_eof(struct openai_stream *s, json_t *frames) {
    if (s->finished)
        return s->finished == OPENAI_FINISHED_ERROR ? OPENAI_STREAM_ERROR : OPENAI_STREAM_DONE;
    return completion_stream_finish(s, NULL, frames);
}

/* ---- errors ------------------------------------------------------------------------------- */

json_t *openai_text_new(const char *text) {
    return errtext_json_new(text);
}

json_t *openai_error_new(int status, const char *message, const char *code) {
    const char *type = status == 400   ? "invalid_request_error"
                       : status == 404 ? "not_found_error"
                                       : "api_error";
    return json_pack("{s:{s:o,s:s,s:n,s:o?}}", "error", "message", openai_text_new(message), "type",
                     type, "param", "code", code ? openai_text_new(code) : NULL);
}

json_t *openai_error_from_native_new(int status, const char *body, size_t len) {
    struct errtext_native e;
    json_t *out;
    errtext_native_read(status, body, len, &e);
    out = openai_error_new(status, e.message, e.code);
    errtext_native_clear(&e);
    return out;
}
