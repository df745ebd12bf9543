/* responses: the Responses API <-> native /api/chat translation (responses.h). Request fields
 * are found as Go's encoding/json finds them (gokey: case-folded, the last key wins), and
 * shape errors are worded as Go words them, because Ollama's layer binds the body into Go
 * structs (ollama/ollama fb30760 openai/responses.go). */
#include "responses.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gojson.h"
#include "gokey.h"
#include "openai.h"
#include "policy.h"
#include "rfc3339.h"

static void set_err(struct responses_err *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(struct responses_err *err, int status, const char *fmt, ...) {
    va_list ap;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

/* ---- reading the request as Go binds it ---------------------------------------------------- */

/* The value Go's decoder assigns to the field tagged name: the last key that folds to it. */
static json_t *field(const json_t *obj, const char *name) {
    const char *key;
    json_t *v, *found = NULL;
    if (!json_is_object(obj))
        return NULL;
    json_object_foreach((json_t *)obj, key, v) {
        if (gokey_fold_equal(key, strlen(key), name))
            found = v;
    }
    return found;
}

enum gotype { GO_STRING, GO_FLOAT, GO_INT, GO_BOOL, GO_OBJECT, GO_ARRAY, GO_ANY };

/* 1 when v (not NULL) decodes into a Go value of type t; null decodes into anything. */
static int go_fits(const json_t *v, enum gotype t) {
    if (json_is_null(v) || t == GO_ANY)
        return 1;
    switch (t) {
        case GO_STRING:
            return json_is_string(v);
        case GO_FLOAT:
            return json_is_number(v);
        case GO_INT:
            return json_is_integer(v);
        case GO_BOOL:
            return json_is_boolean(v);
        case GO_OBJECT:
            return json_is_object(v);
        case GO_ARRAY:
            return json_is_array(v);
        default:
            return 1;
    }
}

/* Go's UnmarshalTypeError text for v at a struct field (path like "ResponsesRequest.top_p";
 * gotype the Go type's name). */
static void type_err(struct responses_err *err, const json_t *v, const char *path,
                     const char *gotype) {
    if (json_is_real(v)) {
        char num[32];
        gojson_format_real(num, sizeof(num), json_real_value(v));
        set_err(err, 400, "json: cannot unmarshal number %s into Go struct field %s of type %s",
                num, path, gotype);
    } else {
        set_err(err, 400, "json: cannot unmarshal %s into Go struct field %s of type %s",
                gojson_kind(v), path, gotype);
    }
}

/* The request's top-level fields Responses reads, their Go types. */
static const struct {
    const char *name;
    enum gotype type;
    const char *gotype;
} request_fields[] = {
    {"model", GO_STRING, "string"},
    {"instructions", GO_STRING, "string"},
    {"max_output_tokens", GO_INT, "int"},
    {"temperature", GO_FLOAT, "float64"},
    {"top_p", GO_FLOAT, "float64"},
    {"stream", GO_BOOL, "bool"},
    {"truncation", GO_STRING, "string"},
    {"background", GO_BOOL, "bool"},
    {"reasoning", GO_OBJECT, "openai.ResponsesReasoning"},
    {"text", GO_OBJECT, "openai.ResponsesText"},
    {"tools", GO_ARRAY, "[]openai.ResponsesTool"},
};

/* The top-level fields read, for the refusal of other spellings (policy_check_keys). */
static const char *const request_names[] = {
    "model", "input",  "instructions", "max_output_tokens", "temperature",
    "top_p", "stream", "truncation",   "background",        "reasoning",
    "text",  "tools",  NULL,
};

/* The first top-level member (in the body's order) Go could not decode into its field. */
static int check_types(const json_t *in, struct responses_err *err) {
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)in, key, v) {
        for (size_t i = 0; i < sizeof(request_fields) / sizeof(request_fields[0]); i++) {
            if (!gokey_fold_equal(key, strlen(key), request_fields[i].name))
                continue;
            if (!go_fits(v, request_fields[i].type)) {
                char path[96];
                snprintf(path, sizeof(path), "ResponsesRequest.%s", request_fields[i].name);
                type_err(err, v, path, request_fields[i].gotype);
                return -1;
            }
            break;
        }
    }
    return 0;
}

/* A string field's value ("" when absent, null or not a string). */
static const char *str_of(const json_t *obj, const char *name) {
    const json_t *v = field(obj, name);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* A nested object's string member, checked as Go does: 0, or -1 with err. */
static int sub_string(const json_t *obj, const char *name, const char *path, const char **out,
                      struct responses_err *err) {
    const json_t *v = field(obj, name);
    *out = "";
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        type_err(err, v, path, "string");
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* ---- input items -> messages ---------------------------------------------------------------- */

static json_t *last_message(json_t *messages) {
    size_t n = json_array_size(messages);
    return n ? json_array_get(messages, n - 1) : NULL;
}

static int is_role(const json_t *msg, const char *role) {
    return msg && !strcmp(str_of(msg, "role"), role);
}

/* Text parts concatenated and images collected (convertResponsesContent), from a content or
 * output array; where names the array in errors ("content", "output"). */
static int parts_convert(const json_t *parts, size_t item, const char *where, json_t **text,
                         json_t **images, struct responses_err *err) {
    size_t j;
    json_t *p;
    size_t cap = 0, len = 0;
    char *buf = NULL;
    int rc = -1;
    *images = NULL;
    json_array_foreach(parts, j, p) {
        const json_t *tv = field(p, "type");
        const char *type = json_is_string(tv) ? json_string_value(tv) : "";
        if (!json_is_object(p)) {
            set_err(err, 400,
                    "input[%zu]: %s[%zu]: json: cannot unmarshal %s into Go value of "
                    "type struct { Type string \"json:\\\"type\\\"\" }",
                    item, where, j, gojson_kind(p));
            goto out;
        }
        if (tv && !json_is_null(tv) && !json_is_string(tv)) {
            set_err(err, 400,
                    "input[%zu]: %s[%zu]: json: cannot unmarshal %s into Go struct "
                    "field .type of type string",
                    item, where, j, gojson_kind(tv));
            goto out;
        }
        if (!strcmp(type, "input_text") || !strcmp(type, "output_text")) {
            const json_t *t = field(p, "text");
            const char *s = json_is_string(t) ? json_string_value(t) : "";
            size_t n = json_is_string(t) ? json_string_length(t) : 0;
            if (t && !json_is_null(t) && !json_is_string(t)) {
                set_err(err, 400,
                        "input[%zu]: %s[%zu]: json: cannot unmarshal %s into Go struct "
                        "field .text of type string",
                        item, where, j, gojson_kind(t));
                goto out;
            }
            if (len + n + 1 > cap) {
                size_t ncap = (len + n + 1) * 2;
                char *nb = realloc(buf, ncap);
                if (!nb) {
                    set_err(err, 500, "out of memory");
                    goto out;
                }
                buf = nb;
                cap = ncap;
            }
            memcpy(buf + len, s, n);
            len += n;
        } else if (!strcmp(type, "input_image")) {
            const char *url = str_of(p, "image_url");
            struct openai_err oerr = {0};
            json_t *img;
            if (!*url)
                continue; /* no URL (file_id is not supported): skipped */
            if (!(img = openai_image_new(url, &oerr))) {
                set_err(err, oerr.status ? oerr.status : 400, "%s", oerr.message);
                goto out;
            }
            if (!*images)
                *images = json_array();
            json_array_append_new(*images, img);
        } else if (!strcmp(type, "input_file")) {
            set_err(err, 400, "file inputs are not currently supported");
            goto out;
        } else {
            set_err(err, 400, "input[%zu]: %s[%zu]: unknown content type: %s", item, where, j,
                    type);
            goto out;
        }
    }
    *text = json_stringn(buf ? buf : "", len);
    rc = 0;
out:
    free(buf);
    if (rc < 0) {
        json_decref(*images);
        *images = NULL;
    }
    return rc;
}

/* A message's content or a function_call_output's output: a string or an array of parts. */
static int content_convert(const json_t *c, size_t item, const char *where, json_t **text,
                           json_t **images, struct responses_err *err) {
    *images = NULL;
    if (!c || json_is_null(c)) {
        *text = json_string("");
        return 0;
    }
    if (json_is_string(c)) {
        *text = json_incref((json_t *)c);
        return 0;
    }
    if (json_is_array(c))
        return parts_convert(c, item, where, text, images, err);
    set_err(err, 400,
            "input[%zu]: %s must be a string or array: json: cannot unmarshal %s into Go value "
            "of type []json.RawMessage",
            item, where, gojson_kind(c));
    return -1;
}

/* The pending thinking of reasoning items, moved onto the next assistant message. */
struct pending {
    const char *thinking; /* "" when none */
};

static void take_thinking(json_t *msg, struct pending *pd) {
    if (*pd->thinking) {
        json_object_set_new(msg, "thinking", json_string(pd->thinking));
        pd->thinking = "";
    }
}

static void prefix_err(struct responses_err *err, size_t i) {
    char tmp[sizeof(err->message)];
    memcpy(tmp, err->message, sizeof(tmp));
    snprintf(err->message, sizeof(err->message), "input[%zu]: %.480s", i, tmp);
}

/* A "message" item. next is the following item (or NULL). */
static int item_message(json_t *messages, const json_t *it, const json_t *next, size_t i,
                        struct pending *pd, struct responses_err *err) {
    const char *role;
    json_t *text = NULL, *images = NULL, *msg;
    if (sub_string(it, "role", "ResponsesInputMessage.role", &role, err) < 0)
        goto fail_type;
    if (content_convert(field(it, "content"), i, "content", &text, &images, err) < 0)
        return -1;
    msg = json_pack("{s:s,s:o}", "role", role, "content", text);
    if (images)
        json_object_set_new(msg, "images", images);
    if (!strcmp(role, "assistant"))
        take_thinking(msg, pd);

    /* An assistant message replayed between a function_call and its output joins the call's
     * message, so the tool result follows the call it answers. */
    const char *out_id = NULL;
    if (next && !strcmp(str_of(next, "type"), "function_call_output"))
        out_id = str_of(next, "call_id");
    json_t *last = last_message(messages);
    if (!strcmp(role, "assistant") && out_id && *out_id && is_role(last, "assistant")) {
        json_t *calls = json_object_get(last, "tool_calls");
        size_t k;
        json_t *call;
        json_array_foreach(calls, k, call) {
            if (strcmp(str_of(call, "id"), out_id))
                continue;
            const char *a = str_of(last, "content"), *b = json_string_value(text);
            size_t na = strlen(a), nb = json_string_length(text);
            char *joined = malloc(na + nb + 2);
            if (!joined) {
                json_decref(msg);
                set_err(err, 500, "out of memory");
                return -1;
            }
            memcpy(joined, a, na);
            size_t n = na;
            if (na && nb)
                joined[n++] = '\n';
            memcpy(joined + n, b, nb);
            n += nb;
            json_object_set_new(last, "content", json_stringn(joined, n));
            free(joined);
            if (images) {
                json_t *li = json_object_get(last, "images");
                if (!li)
                    json_object_set(last, "images", images);
                else
                    json_array_extend(li, images);
            }
            json_t *th = json_object_get(msg, "thinking");
            if (th)
                json_object_set(last, "thinking", th);
            json_decref(msg);
            return 0;
        }
    }
    json_array_append_new(messages, msg);
    return 0;
fail_type:
    prefix_err(err, i);
    return -1;
}

static int item_function_call(json_t *messages, const json_t *it, size_t i, struct pending *pd,
                              struct responses_err *err) {
    const char *call_id, *name, *args;
    json_t *arguments = NULL;
    if (sub_string(it, "call_id", "ResponsesFunctionCall.call_id", &call_id, err) < 0 ||
        sub_string(it, "name", "ResponsesFunctionCall.name", &name, err) < 0 ||
        sub_string(it, "arguments", "ResponsesFunctionCall.arguments", &args, err) < 0) {
        prefix_err(err, i);
        return -1;
    }
    if (*args) {
        json_error_t jerr;
        arguments = json_loads(args, JSON_DECODE_ANY, &jerr);
        if (!arguments) {
            set_err(err, 400, "failed to parse function call arguments: %s", jerr.text);
            return -1;
        }
        if (!json_is_object(arguments) && !json_is_null(arguments)) {
            set_err(err, 400,
                    "failed to parse function call arguments: json: cannot unmarshal %s into Go "
                    "value of type map[string]interface {}",
                    gojson_kind(arguments));
            json_decref(arguments);
            return -1;
        }
        if (json_is_null(arguments)) {
            json_decref(arguments);
            arguments = NULL;
        }
    }
    json_t *fn = json_pack("{s:s}", "name", name);
    json_object_set_new(fn, "arguments", arguments ? arguments : json_object());
    json_t *call = json_object();
    if (*call_id)
        json_object_set_new(call, "id", json_string(call_id));
    json_object_set_new(call, "function", fn);

    json_t *last = last_message(messages);
    if (is_role(last, "assistant")) {
        json_t *calls = json_object_get(last, "tool_calls");
        if (!calls)
            json_object_set_new(last, "tool_calls", json_pack("[o]", call));
        else
            json_array_append_new(calls, call);
        take_thinking(last, pd);
    } else {
        json_t *msg =
            json_pack("{s:s,s:s,s:[o]}", "role", "assistant", "content", "", "tool_calls", call);
        take_thinking(msg, pd);
        json_array_append_new(messages, msg);
    }
    return 0;
}

static int item_function_output(json_t *messages, const json_t *it, size_t i,
                                struct responses_err *err) {
    const char *call_id;
    json_t *text = NULL, *images = NULL;
    if (sub_string(it, "call_id", "ResponsesFunctionCallOutput.call_id", &call_id, err) < 0) {
        prefix_err(err, i);
        return -1;
    }
    if (content_convert(field(it, "output"), i, "output", &text, &images, err) < 0)
        return -1;
    json_t *msg = json_pack("{s:s,s:o}", "role", "tool", "content", text);
    if (images)
        json_object_set_new(msg, "images", images);
    if (*call_id)
        json_object_set_new(msg, "tool_call_id", json_string(call_id));
    json_array_append_new(messages, msg);
    return 0;
}

static int input_items(json_t *messages, const json_t *items, struct responses_err *err) {
    struct pending pd = {""};
    size_t i, n = json_array_size(items);
    json_t *it;
    json_array_foreach(items, i, it) {
        const json_t *next = i + 1 < n ? json_array_get(items, i + 1) : NULL;
        if (!json_is_object(it)) {
            set_err(err, 400,
                    "input[%zu]: json: cannot unmarshal %s into Go value of type struct { Type "
                    "string \"json:\\\"type\\\"\"; Role string \"json:\\\"role\\\"\" }",
                    i, gojson_kind(it));
            return -1;
        }
        const json_t *tv = field(it, "type");
        if (tv && !json_is_null(tv) && !json_is_string(tv)) {
            set_err(err, 400,
                    "input[%zu]: json: cannot unmarshal %s into Go struct field .type of type "
                    "string",
                    i, gojson_kind(tv));
            return -1;
        }
        const char *type = str_of(it, "type");
        if (!*type) {
            if (!*str_of(it, "role")) {
                set_err(err, 400, "input[%zu]: input item missing required 'type' field", i);
                return -1;
            }
            type = "message";
        }
        int rc = 0;
        if (!strcmp(type, "message")) {
            rc = item_message(messages, it, next, i, &pd, err);
        } else if (!strcmp(type, "function_call")) {
            rc = item_function_call(messages, it, i, &pd, err);
        } else if (!strcmp(type, "function_call_output")) {
            rc = item_function_output(messages, it, i, err);
        } else if (!strcmp(type, "reasoning")) {
            const char *enc;
            if (sub_string(it, "encrypted_content", "ResponsesReasoningInput.encrypted_content",
                           &enc, err) < 0) {
                prefix_err(err, i);
                return -1;
            }
            pd.thinking = enc; /* a later one overwrites; an empty one clears */
        } else if (!strcmp(type, "web_search_call")) {
            /* history of the built-in tool: ignored, as Ollama does */
        } else {
            set_err(err, 400, "input[%zu]: unknown input item type: \"%s\"", i, type);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (*pd.thinking) /* trailing reasoning: its own assistant message, at the very end */
        json_array_append_new(messages, json_pack("{s:s,s:s,s:s}", "role", "assistant", "content",
                                                  "", "thinking", pd.thinking));
    return 0;
}

/* ---- tools ----------------------------------------------------------------------------------- */

static int tool_strings(const json_t *t, const char **type, const char **name,
                        struct responses_err *err) {
    const char *desc;
    if (sub_string(t, "type", "ResponsesRequest.tools.type", type, err) < 0 ||
        sub_string(t, "name", "ResponsesRequest.tools.name", name, err) < 0 ||
        sub_string(t, "description", "ResponsesRequest.tools.description", &desc, err) < 0)
        return -1;
    const json_t *p = field(t, "parameters"), *nested = field(t, "tools"), *s = field(t, "strict");
    if (p && !json_is_null(p) && !json_is_object(p)) {
        type_err(err, p, "ResponsesRequest.tools.parameters", "map[string]interface {}");
        return -1;
    }
    if (nested && !json_is_null(nested) && !json_is_array(nested)) {
        type_err(err, nested, "ResponsesRequest.tools.tools", "[]openai.ResponsesTool");
        return -1;
    }
    if (s && !json_is_null(s) && !json_is_boolean(s)) {
        type_err(err, s, "ResponsesRequest.tools.strict", "bool");
        return -1;
    }
    return 0;
}

/* Prefixes the names of out's functions from index `from` on with "<ns>.", unless they
 * already start with it. 0, or -1 with err. */
static int prefix_names(json_t *out, size_t from, const char *ns, struct responses_err *err) {
    size_t nlen = strlen(ns);
    for (size_t k = from; k < json_array_size(out); k++) {
        json_t *fn = json_object_get(json_array_get(out, k), "function");
        const char *fname = str_of(fn, "name");
        if (!strncmp(fname, ns, nlen) && fname[nlen] == '.')
            continue;
        size_t flen = strlen(fname);
        char *full = malloc(nlen + 1 + flen + 1);
        if (!full) {
            set_err(err, 500, "out of memory");
            return -1;
        }
        memcpy(full, ns, nlen);
        full[nlen] = '.';
        memcpy(full + nlen + 1, fname, flen + 1);
        json_object_set_new(fn, "name", json_string(full));
        free(full);
    }
    return 0;
}

/* One Responses tool -> native tools appended to out (a namespace expands into its members,
 * prefixed "<ns>."). */
static int tool_convert(json_t *out, const json_t *t, int depth, struct responses_err *err) {
    const char *type, *name;
    if (!json_is_object(t)) {
        type_err(err, t, "ResponsesRequest.tools", "openai.ResponsesTool");
        return -1;
    }
    if (tool_strings(t, &type, &name, err) < 0)
        return -1;
    if (!strcmp(type, "namespace")) {
        size_t i;
        json_t *m;
        if (depth > 16) {
            set_err(err, 400, "tool namespaces nested too deeply");
            return -1;
        }
        /* the prefix a member gets is its own namespace's, applied from the inside out */
        json_array_foreach(field(t, "tools"), i, m) {
            size_t before = json_array_size(out);
            if (tool_convert(out, m, depth + 1, err) < 0 ||
                (*name && prefix_names(out, before, name, err) < 0))
                return -1;
        }
        return 0;
    }
    if (!strcmp(type, "web_search")) {
        json_array_append_new(
            out, json_pack("{s:s,s:{s:s,s:s,s:{s:s,s:[s],s:{s:{s:s,s:s}}}}}", "type", "function",
                           "function", "name", "web_search", "description",
                           "Search the web for current information.", "parameters", "type",
                           "object", "required", "query", "properties", "query", "type", "string",
                           "description", "The search query."));
        return 0;
    }
    const json_t *params = field(t, "parameters");
    json_t *fn = json_pack("{s:s,s:s}", "name", name, "description", str_of(t, "description"));
    if (json_is_object(params))
        json_object_set(fn, "parameters", (json_t *)params);
    json_array_append_new(out, json_pack("{s:s,s:o}", "type", type, "function", fn));
    return 0;
}

static json_t *tools_convert(const json_t *tools, struct responses_err *err) {
    size_t i;
    json_t *t, *out = json_array();
    int has_ws = 0;
    json_array_foreach(tools, i, t) {
        if (!strcmp(str_of(t, "type"), "web_search"))
            has_ws = 1;
    }
    json_array_foreach(tools, i, t) {
        size_t before = json_array_size(out);
        if (tool_convert(out, t, 0, err) < 0) {
            json_decref(out);
            return NULL;
        }
        if (!has_ws || !strcmp(str_of(t, "type"), "web_search"))
            continue;
        for (size_t k = before; k < json_array_size(out);) { /* the built-in one wins */
            json_t *fn = json_object_get(json_array_get(out, k), "function");
            if (!strcmp(str_of(fn, "name"), "web_search"))
                json_array_remove(out, k);
            else
                k++;
        }
    }
    return out;
}

/* The tools as the answer echoes them: {type,name,description,strict,parameters[,tools]},
 * absent ones as null. */
static json_t *tools_echo_new(const json_t *tools) {
    size_t i;
    json_t *t, *out = json_array();
    json_array_foreach(tools, i, t) {
        const json_t *d = field(t, "description"), *s = field(t, "strict"),
                     *p = field(t, "parameters"), *nested = field(t, "tools");
        json_t *e = json_pack("{s:s,s:s}", "type", str_of(t, "type"), "name", str_of(t, "name"));
        json_object_set_new(e, "description",
                            json_is_string(d) ? json_incref((json_t *)d) : json_null());
        json_object_set_new(e, "strict",
                            json_is_boolean(s) ? json_incref((json_t *)s) : json_null());
        json_object_set_new(e, "parameters",
                            json_is_object(p) ? json_incref((json_t *)p) : json_null());
        if (json_array_size(nested))
            json_object_set_new(e, "tools", tools_echo_new(nested));
        json_array_append_new(out, e);
    }
    return out;
}

/* ---- request --------------------------------------------------------------------------------- */

/* reasoning.effort -> think (thinkFromReasoningEffort); *think NULL for unset. */
/* text.format as Ollama re-serializes it (type, name?, schema?, strict?), or NULL. */
static json_t *format_echo_new(const json_t *format, struct responses_err *err) {
    const char *type, *name;
    if (!format || json_is_null(format))
        return NULL;
    if (!json_is_object(format)) {
        type_err(err, format, "ResponsesRequest.text.format", "openai.ResponsesTextFormat");
        return NULL;
    }
    if (sub_string(format, "type", "ResponsesRequest.text.format.type", &type, err) < 0 ||
        sub_string(format, "name", "ResponsesRequest.text.format.name", &name, err) < 0)
        return NULL;
    const json_t *schema = field(format, "schema"), *strict = field(format, "strict");
    if (strict && !json_is_null(strict) && !json_is_boolean(strict)) {
        type_err(err, strict, "ResponsesRequest.text.format.strict", "bool");
        return NULL;
    }
    json_t *e = json_pack("{s:s}", "type", type);
    if (*name)
        json_object_set_new(e, "name", json_string(name));
    if (schema) /* a json.RawMessage: even null is kept */
        json_object_set(e, "schema", (json_t *)schema);
    if (json_is_boolean(strict))
        json_object_set(e, "strict", (json_t *)strict);
    return e;
}

json_t *responses_request_new(const json_t *in, int *stream, json_t **echo,
                              struct responses_err *err) {
    json_t *native = NULL, *messages = NULL, *options = NULL, *think = NULL, *tools = NULL;
    json_t *format = NULL, *ec = NULL;
    const char *effort = "", *summary = "";
    *echo = NULL;
    *stream = 0;
    if (!json_is_object(in)) {
        set_err(err, 400,
                "json: cannot unmarshal %s into Go value of type "
                "openai.ResponsesRequest",
                gojson_kind(in));
        return NULL;
    }
    /* A key Go would read as a field without being its name ("Model", "MODEL") is refused, as
     * on every keepwarm API: otherwise keepwarm and Ollama could disagree on the model. */
    if (policy_check_keys(in, request_names, err->message, sizeof(err->message)) < 0) {
        err->status = 400;
        return NULL;
    }
    if (check_types(in, err) < 0)
        return NULL;

    const json_t *reasoning = field(in, "reasoning");
    if (json_is_object(reasoning) &&
        (sub_string(reasoning, "effort", "ResponsesRequest.reasoning.effort", &effort, err) < 0 ||
         sub_string(reasoning, "summary", "ResponsesRequest.reasoning.summary", &summary, err) < 0))
        return NULL;
    const json_t *text = field(in, "text");
    if (json_is_object(text)) {
        format = format_echo_new(field(text, "format"), err);
        if (!format && err->status)
            return NULL;
    }

    messages = json_array();
    const char *instructions = str_of(in, "instructions");
    if (*instructions)
        json_array_append_new(messages,
                              json_pack("{s:s,s:s}", "role", "system", "content", instructions));
    const json_t *input = field(in, "input");
    if (json_is_string(input)) {
        if (json_string_length(input))
            json_array_append_new(messages,
                                  json_pack("{s:s,s:O}", "role", "user", "content", input));
    } else if (json_is_array(input)) {
        if (input_items(messages, input, err) < 0)
            goto fail;
    } else if (input && !json_is_null(input)) {
        set_err(err, 400,
                "input must be a string or array: json: cannot unmarshal %s into Go value of "
                "type []json.RawMessage",
                gojson_kind(input));
        goto fail;
    }

    options = json_object();
    const json_t *temp = field(in, "temperature"), *top_p = field(in, "top_p"),
                 *max = field(in, "max_output_tokens");
    json_object_set_new(options, "temperature",
                        json_is_number(temp) ? json_incref((json_t *)temp) : json_real(1.0));
    if (json_is_number(top_p))
        json_object_set(options, "top_p", (json_t *)top_p);
    if (json_is_integer(max))
        json_object_set(options, "num_predict", (json_t *)max);

    if (openai_effort_think(effort, &think) < 0) {
        set_err(err, 400, OPENAI_EFFORT_INVALID, effort);
        goto fail;
    }
    const json_t *in_tools = field(in, "tools");
    if (json_array_size(in_tools) && !(tools = tools_convert(in_tools, err)))
        goto fail;

    const json_t *st = field(in, "stream");
    *stream = json_is_true(st);
    native = json_pack("{s:s}", "model", str_of(in, "model"));
    json_object_set(native, "messages", json_array_size(messages) ? messages : json_null());
    json_object_set_new(native, "stream", json_boolean(*stream));
    if (format && !strcmp(str_of(format, "type"), "json_schema") &&
        json_object_get(format, "schema") && !json_is_null(json_object_get(format, "schema")))
        json_object_set(native, "format", json_object_get(format, "schema"));
    if (json_array_size(tools))
        json_object_set(native, "tools", tools);
    json_object_set(native, "options", options);
    if (think)
        json_object_set(native, "think", think);

    /* what the answer repeats */
    ec = json_pack("{s:s}", "model", str_of(in, "model"));
    if (*instructions)
        json_object_set_new(ec, "instructions", json_string(instructions));
    json_object_set_new(ec, "tools", tools_echo_new(in_tools));
    const json_t *trunc = field(in, "truncation");
    json_object_set_new(ec, "truncation",
                        json_string(json_is_string(trunc) ? json_string_value(trunc) : "disabled"));
    json_object_set_new(ec, "format",
                        format ? json_incref(format) : json_pack("{s:s}", "type", "text"));
    json_object_set_new(ec, "top_p",
                        json_is_number(top_p) ? json_incref((json_t *)top_p) : json_integer(1));
    json_object_set_new(ec, "temperature",
                        json_is_number(temp) ? json_incref((json_t *)temp) : json_integer(1));
    if (*effort)
        json_object_set_new(ec, "effort", json_string(effort));
    if (*summary)
        json_object_set_new(ec, "summary", json_string(summary));
    json_object_set_new(ec, "max_output_tokens",
                        json_is_integer(max) ? json_incref((json_t *)max) : json_null());
    json_object_set_new(ec, "background", json_boolean(json_is_true(field(in, "background"))));
    *echo = ec;
    goto out;
fail:
    json_decref(native);
    native = NULL;
out:
    json_decref(messages);
    json_decref(options);
    json_decref(think);
    json_decref(tools);
    json_decref(format);
    return native;
}

/* ---- the response object -----------------------------------------------------------------------
 */

static json_int_t count_of(const json_t *native, const char *key) {
    const json_t *v = json_object_get(native, key);
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < (1LL << 50))
        return json_integer_value(v);
    return 0;
}

static json_t *usage_new(const json_t *native) {
    json_int_t in = count_of(native, "prompt_eval_count"), out = count_of(native, "eval_count");
    return json_pack("{s:I,s:I,s:I,s:{s:i},s:{s:i}}", "input_tokens", in, "output_tokens", out,
                     "total_tokens", in + out, "input_tokens_details", "cached_tokens", 0,
                     "output_tokens_details", "reasoning_tokens", 0);
}

/* The echoed tools (borrowed, shared: never modified) for an answer: the same array, or for a
 * stream's snapshot one without the namespaces' nested tools (the tools that have them
 * copied shallowly). New reference. */
static json_t *tools_of(const json_t *echoed, int stream) {
    size_t i;
    json_t *t, *out;
    if (!json_is_array(echoed))
        return json_array();
    if (!stream)
        return json_incref((json_t *)echoed);
    out = json_array();
    json_array_foreach(echoed, i, t) {
        if (!json_object_get(t, "tools")) {
            json_array_append(out, t);
            continue;
        }
        json_t *c = json_copy(t);
        json_object_del(c, "tools");
        json_array_append_new(out, c);
    }
    return out;
}

/* The response object around output; stream: the snapshot form (tools without nested ones,
 * reasoning with nulls). */
static json_t *object_new(const json_t *echo, const char *id, long long created, const char *status,
                          json_t *completed_at, json_t *output, json_t *usage, int stream) {
    const json_t *ins = json_object_get(echo, "instructions");
    const json_t *effort = json_object_get(echo, "effort"),
                 *summary = json_object_get(echo, "summary");
    json_t *reasoning = json_null(), *tools;
    if (effort || summary) {
        reasoning = json_object();
        if (effort || stream)
            json_object_set_new(reasoning, "effort",
                                effort ? json_incref((json_t *)effort) : json_null());
        if (summary || stream)
            json_object_set_new(reasoning, "summary",
                                summary ? json_incref((json_t *)summary) : json_null());
    }
    tools = tools_of(json_object_get(echo, "tools"), stream);
    json_t *o = json_pack(
        "{s:s,s:s,s:I,s:o,s:s,s:n,s:s,s:n,s:O?,s:o,s:n,s:o,s:s,s:O,s:b,"
        "s:{s:O},s:O,s:i,s:i,s:i,s:O,s:o,s:o,s:O,s:n,s:b,s:O,s:s,s:{},s:n,s:n}",
        "id", id, "object", "response", "created_at", (json_int_t)created, "completed_at",
        completed_at, "status", status, "incomplete_details", "model", str_of(echo, "model"),
        "previous_response_id", "instructions", ins, "output", output, "error", "tools", tools,
        "tool_choice", "auto", "truncation", json_object_get(echo, "truncation"),
        "parallel_tool_calls", 1, "text", "format", json_object_get(echo, "format"), "top_p",
        json_object_get(echo, "top_p"), "presence_penalty", 0, "frequency_penalty", 0,
        "top_logprobs", 0, "temperature", json_object_get(echo, "temperature"), "reasoning",
        reasoning, "usage", usage, "max_output_tokens", json_object_get(echo, "max_output_tokens"),
        "max_tool_calls", "store", 0, "background", json_object_get(echo, "background"),
        "service_tier", "default", "metadata", "safety_identifier", "prompt_cache_key");
    if (o && !ins)
        json_object_set_new(o, "instructions", json_null());
    return o;
}

/* A tool call's arguments as Ollama writes them: compact, top-level order kept. */
static json_t *arguments_new(const json_t *args) {
    size_t n;
    json_t *empty = NULL;
    if (!args || json_is_null(args))
        args = empty = json_object();
    char *text = gojson_dump_new(args, &n);
    json_t *s = text ? json_stringn(text, n) : json_string("");
    free(text);
    json_decref(empty);
    return s;
}

static json_t *message_item_new(const char *id, const char *status, const json_t *text) {
    json_t *content = text ? json_pack("[{s:s,s:O,s:[],s:[]}]", "type", "output_text", "text", text,
                                       "annotations", "logprobs")
                           : json_array();
    return json_pack("{s:s,s:s,s:s,s:s,s:o}", "id", id, "type", "message", "status", status, "role",
                     "assistant", "content", content);
}

static json_t *reasoning_item_new(const char *id, const char *text, size_t n) {
    json_t *t = json_stringn(text, n);
    return json_pack("{s:s,s:s,s:[{s:s,s:O}],s:o}", "id", id, "type", "reasoning", "summary",
                     "type", "summary_text", "text", t, "encrypted_content", t);
}

static long long created_of(const json_t *native, long long now) {
    long long t;
    const json_t *c = json_object_get(native, "created_at");
    if (json_is_string(c) && rfc3339_parse(json_string_value(c), &t) == 0)
        return t;
    return now;
}

json_t *responses_response_new(const json_t *native, const json_t *echo, const char *resp_id,
                               const char *msg_id, long long now) {
    if (!json_is_object(native))
        return NULL;
    const json_t *msg = json_object_get(native, "message");
    const json_t *thinking = json_object_get(msg, "thinking");
    const json_t *calls = json_object_get(msg, "tool_calls");
    json_t *output = json_array();
    char id[ID_MAX + 16];
    if (json_is_string(thinking) && json_string_length(thinking)) {
        snprintf(id, sizeof(id), "rs_%s", resp_id);
        json_array_append_new(output, reasoning_item_new(id, json_string_value(thinking),
                                                         json_string_length(thinking)));
    }
    if (json_array_size(calls)) {
        size_t i;
        json_t *c;
        json_array_foreach(calls, i, c) {
            const json_t *fn = json_object_get(c, "function");
            snprintf(id, sizeof(id), "fc_%s_%zu", resp_id, i);
            json_t *item = json_pack("{s:s,s:s,s:s}", "id", id, "type", "function_call", "status",
                                     "completed");
            if (*str_of(c, "id"))
                json_object_set_new(item, "call_id", json_string(str_of(c, "id")));
            if (*str_of(fn, "name"))
                json_object_set_new(item, "name", json_string(str_of(fn, "name")));
            json_object_set_new(item, "arguments", arguments_new(json_object_get(fn, "arguments")));
            json_array_append_new(output, item);
        }
    } else {
        const json_t *c = json_object_get(msg, "content");
        json_t *text = json_is_string(c) ? json_incref((json_t *)c) : json_string("");
        json_array_append_new(output, message_item_new(msg_id, "completed", text));
        json_decref(text);
    }
    return object_new(echo, resp_id, created_of(native, now), "completed", json_integer(now),
                      output, usage_new(native), 0);
}

/* ---- stream ---------------------------------------------------------------------------------- */

void responses_stream_init(struct responses_stream *s, const json_t *echo, const char *resp_id,
                           const char *msg_id) {
    memset(s, 0, sizeof(*s));
    s->echo = json_incref((json_t *)echo);
    snprintf(s->resp_id, sizeof(s->resp_id), "%s", resp_id);
    snprintf(s->msg_id, sizeof(s->msg_id), "%s", msg_id);
    s->items = json_array();
    s->text_max = RESPONSES_TEXT_MAX;
    s->items_max = RESPONSES_ITEMS_MAX;
}

void responses_stream_free(struct responses_stream *s) {
    json_decref(s->echo);
    json_decref(s->items);
    free(s->text.p);
    free(s->thinking.p);
    s->echo = s->items = NULL;
    s->text.p = s->thinking.p = NULL;
}

/* An event: data gets "type" and "sequence_number" (Ollama's newEvent). Steals data. */
static void emit(struct responses_stream *s, json_t *events, const char *type, json_t *data) {
    json_object_set_new(data, "type", json_string(type));
    json_object_set_new(data, "sequence_number", json_integer(s->seq++));
    json_array_append_new(events, data);
}

json_t *responses_error_event_new(struct responses_stream *s, const char *code,
                                  const char *message) {
    json_t *m = openai_text_new(message ? message : "");
    json_t *e =
        json_pack("{s:s,s:s?,s:o,s:n}", "type", "error", "code", code, "message", m, "param");
    if (!json_object_get(e, "code"))
        json_object_set_new(e, "code", json_null());
    if (s)
        json_object_set_new(e, "sequence_number", json_integer(s->seq++));
    return e;
}

static int fail(struct responses_stream *s, json_t *events, const char *code, const char *msg) {
    json_array_append_new(events, responses_error_event_new(s, code, msg));
    s->finished = 1;
    return RESPONSES_STREAM_ERROR;
}

static json_t *snapshot_new(struct responses_stream *s, const char *status, long long now,
                            json_t *completed_at, json_t *output, json_t *usage) {
    return object_new(s->echo, s->resp_id, now, status, completed_at,
                      output ? output : json_array(), usage ? usage : json_null(), 1);
}

static void close_reasoning(struct responses_stream *s, json_t *events) {
    if (!s->reasoning_open)
        return;
    json_t *t = json_stringn(s->thinking.p ? s->thinking.p : "", s->thinking.len);
    emit(s, events, "response.reasoning_summary_text.done",
         json_pack("{s:s,s:I,s:i,s:O}", "item_id", s->rs_id, "output_index", (json_int_t)s->index,
                   "summary_index", 0, "text", t));
    json_t *item =
        reasoning_item_new(s->rs_id, s->thinking.p ? s->thinking.p : "", s->thinking.len);
    emit(s, events, "response.output_item.done",
         json_pack("{s:I,s:O}", "output_index", (json_int_t)s->index, "item", item));
    json_array_append_new(s->items, item);
    json_decref(t);
    s->index++;
    s->reasoning_open = 0;
    s->kept += s->thinking.len;
    s->thinking.len = 0;
}

/* A fresh item number: the digits of a unique response id. */
static void item_id(char *out, size_t cap, const char *prefix, const char *suffix) {
    char id[ID_MAX];
    id_unique(ID_RESPONSE, id, sizeof(id));
    snprintf(out, cap, "%s%s%s", prefix, id + 5, suffix);
}

static int too_many_items(struct responses_stream *s, size_t more, json_t *events) {
    if (json_array_size(s->items) + more <= s->items_max)
        return 0;
    fail(s, events, "server_error", "the answer has more output items than keepwarm keeps");
    return 1;
}

static int thinking_delta(struct responses_stream *s, const json_t *th, json_t *events) {
    if (!s->reasoning_open && too_many_items(s, 1, events))
        return RESPONSES_STREAM_ERROR;
    if (!s->reasoning_open) {
        item_id(s->rs_id, sizeof(s->rs_id), "rs_", "");
        s->reasoning_open = 1;
        s->thinking.len = 0;
        emit(s, events, "response.output_item.added",
             json_pack("{s:I,s:{s:s,s:s,s:[]}}", "output_index", (json_int_t)s->index, "item", "id",
                       s->rs_id, "type", "reasoning", "summary"));
    }
    if (!responses_room(s, json_string_length(th)) ||
        responses_text_add(&s->thinking, json_string_value(th), json_string_length(th)) < 0)
        return fail(s, events, "server_error", "the answer's thinking exceeds keepwarm's limit");
    emit(s, events, "response.reasoning_summary_text.delta",
         json_pack("{s:s,s:I,s:i,s:O}", "item_id", s->rs_id, "output_index", (json_int_t)s->index,
                   "summary_index", 0, "delta", th));
    return RESPONSES_STREAM_MORE;
}

/* The line's calls as function_call items; an error event instead past the stream's caps. */
static int tool_calls(struct responses_stream *s, const json_t *calls, json_t *events) {
    size_t i;
    json_t *c;
    close_reasoning(s, events);
    if (too_many_items(s, json_array_size(calls), events))
        return RESPONSES_STREAM_ERROR;
    json_array_foreach(calls, i, c) {
        char id[ID_MAX + 24], suffix[24];
        const json_t *fn = json_object_get(c, "function");
        json_int_t index = (json_int_t)s->index + (json_int_t)i;
        snprintf(suffix, sizeof(suffix), "_%zu", i);
        item_id(id, sizeof(id), "fc_", suffix);
        json_t *args = arguments_new(json_object_get(fn, "arguments"));
        if (!responses_room(s, json_string_length(args))) {
            json_decref(args);
            return fail(s, events, "server_error",
                        "the answer's tool calls exceed keepwarm's limit");
        }
        s->kept += json_string_length(args);
        json_t *added = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", id, "type", "function_call",
                                  "status", "in_progress", "call_id", str_of(c, "id"), "name",
                                  str_of(fn, "name"), "arguments", "");
        emit(s, events, "response.output_item.added",
             json_pack("{s:I,s:o}", "output_index", index, "item", added));
        emit(s, events, "response.function_call_arguments.delta",
             json_pack("{s:s,s:I,s:O}", "item_id", id, "output_index", index, "delta", args));
        emit(s, events, "response.function_call_arguments.done",
             json_pack("{s:s,s:I,s:O}", "item_id", id, "output_index", index, "arguments", args));
        json_t *done = json_pack("{s:s,s:s,s:s,s:s,s:s,s:O}", "id", id, "type", "function_call",
                                 "status", "completed", "call_id", str_of(c, "id"), "name",
                                 str_of(fn, "name"), "arguments", args);
        emit(s, events, "response.output_item.done",
             json_pack("{s:I,s:O}", "output_index", index, "item", done));
        json_array_append_new(s->items, done);
        json_decref(args);
    }
    s->index += (long long)json_array_size(calls);
    s->tools_sent = 1;
    return RESPONSES_STREAM_MORE;
}

static int content_delta(struct responses_stream *s, const json_t *content, json_t *events) {
    close_reasoning(s, events);
    if (!s->content_open) {
        s->content_open = 1;
        emit(s, events, "response.output_item.added",
             json_pack("{s:I,s:o}", "output_index", (json_int_t)s->index, "item",
                       message_item_new(s->msg_id, "in_progress", NULL)));
        emit(s, events, "response.content_part.added",
             json_pack("{s:s,s:I,s:i,s:{s:s,s:s,s:[],s:[]}}", "item_id", s->msg_id, "output_index",
                       (json_int_t)s->index, "content_index", 0, "part", "type", "output_text",
                       "text", "", "annotations", "logprobs"));
    }
    if (!responses_room(s, json_string_length(content)) ||
        responses_text_add(&s->text, json_string_value(content), json_string_length(content)) < 0)
        return fail(s, events, "server_error", "the answer's text exceeds keepwarm's limit");
    emit(s, events, "response.output_text.delta",
         json_pack("{s:s,s:I,s:i,s:O,s:[]}", "item_id", s->msg_id, "output_index",
                   (json_int_t)s->index, "content_index", 0, "delta", content, "logprobs"));
    return RESPONSES_STREAM_MORE;
}

static void completion(struct responses_stream *s, const json_t *line, long long now,
                       json_t *events) {
    close_reasoning(s, events);
    json_t *output = json_copy(s->items); /* the items themselves are done: shared */
    if (s->content_open) {
        json_t *text = json_stringn(s->text.p ? s->text.p : "", s->text.len);
        if (!s->tools_sent) {
            emit(s, events, "response.output_text.done",
                 json_pack("{s:s,s:I,s:i,s:O,s:[]}", "item_id", s->msg_id, "output_index",
                           (json_int_t)s->index, "content_index", 0, "text", text, "logprobs"));
            emit(s, events, "response.content_part.done",
                 json_pack("{s:s,s:I,s:i,s:{s:s,s:O,s:[],s:[]}}", "item_id", s->msg_id,
                           "output_index", (json_int_t)s->index, "content_index", 0, "part", "type",
                           "output_text", "text", text, "annotations", "logprobs"));
            emit(s, events, "response.output_item.done",
                 json_pack("{s:I,s:o}", "output_index", (json_int_t)s->index, "item",
                           message_item_new(s->msg_id, "completed", text)));
        }
        json_array_append_new(output, message_item_new(s->msg_id, "completed", text));
        json_decref(text);
    }
    emit(s, events, "response.completed",
         json_pack("{s:o}", "response",
                   snapshot_new(s, "completed", now, json_integer(now), output, usage_new(line))));
    s->finished = 1;
}

int responses_stream_feed(struct responses_stream *s, const json_t *line, long long now,
                          json_t *events) {
    if (s->finished)
        return RESPONSES_STREAM_MORE;
    const json_t *error = json_object_get(line, "error");
    if (error) {
        const char *m = json_is_string(error) ? json_string_value(error) : str_of(error, "message");
        return fail(s, events, "server_error", *m ? m : "Ollama reported an error");
    }
    const json_t *msg = json_object_get(line, "message");
    const json_t *content = json_object_get(msg, "content"),
                 *thinking = json_object_get(msg, "thinking"),
                 *calls = json_object_get(msg, "tool_calls");
    if (!s->started) {
        s->started = 1;
        emit(s, events, "response.created",
             json_pack("{s:o}", "response",
                       snapshot_new(s, "in_progress", now, json_null(), NULL, NULL)));
        emit(s, events, "response.in_progress",
             json_pack("{s:o}", "response",
                       snapshot_new(s, "in_progress", now, json_null(), NULL, NULL)));
    }
    if (json_is_string(thinking) && json_string_length(thinking) &&
        thinking_delta(s, thinking, events) != RESPONSES_STREAM_MORE)
        return RESPONSES_STREAM_ERROR;
    if (json_array_size(calls)) {
        if (tool_calls(s, calls, events) != RESPONSES_STREAM_MORE)
            return RESPONSES_STREAM_ERROR;
    } else if (!s->tools_sent && json_is_string(content) && json_string_length(content) &&
               content_delta(s, content, events) != RESPONSES_STREAM_MORE)
        return RESPONSES_STREAM_ERROR;
    if (json_is_true(json_object_get(line, "done"))) {
        completion(s, line, now, events);
        return RESPONSES_STREAM_DONE;
    }
    return RESPONSES_STREAM_MORE;
}

int responses_stream_eof(struct responses_stream *s, json_t *events) {
    if (s->finished)
        return RESPONSES_STREAM_MORE;
    return fail(s, events, "server_error", "Ollama's stream ended before the answer was complete");
}
