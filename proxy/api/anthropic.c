/* anthropic: the Messages translation (contract in anthropic.h), after Ollama's
 * anthropic/anthropic.go and middleware/anthropic.go at fb30760: FromMessagesRequest and
 * convertMessage for the request, ToMessagesResponse for the answer, StreamConverter for the
 * stream, EstimateCountTokens for the estimate, NewError for the envelope. Function names
 * follow Ollama's where there is one. */
#include "anthropic.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "errtext.h"
#include "gojson.h"
#include "gokey.h"
#include "id.h"

/* ---- small helpers -------------------------------------------------------------------------- */

static int fail(struct api_err *err, const char *fmt, const char *a, const char *b) {
    err->status = 400;
    snprintf(err->message, sizeof(err->message), fmt, a ? a : "", b ? b : "");
    return -1;
}

/* A present, non-null member (Go leaves a field at its zero value for null). */
static const json_t *member(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_null(v) ? NULL : v;
}

static const char *str_or(const json_t *o, const char *key, const char *dflt) {
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* Go's bind error for a member of the wrong type. */
static int bind_type(struct api_err *err, const char *field, const json_t *v, const char *want) {
    char what[160];
    snprintf(what, sizeof(what), "%s into Go struct field %s", gojson_kind(v), field);
    return fail(err, "json: cannot unmarshal %s of type %s", what, want);
}

/* ---- request: the decoder's checks (ShouldBindJSON) ----------------------------------------- */

#define WANT(cond, field, v, type)                                                                 \
    do {                                                                                           \
        if ((v) && !(cond))                                                                        \
            return bind_type(err, field, v, type);                                                 \
    } while (0)

static int bind_block(const json_t *b, struct api_err *err) {
    if (!json_is_object(b))
        return bind_type(err, "MessageParam.messages.content", b, "anthropic.ContentBlock");
    const json_t *v;
    static const char *const strs[] = {"type",        "text",     "id",       "name",
                                       "tool_use_id", "thinking", "signature"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        v = member(b, strs[i]);
        char field[80];
        snprintf(field, sizeof(field), "ContentBlock.messages.content.%s", strs[i]);
        WANT(json_is_string(v), field, v, "string");
    }
    v = member(b, "source");
    WANT(json_is_object(v), "ContentBlock.messages.content.source", v, "anthropic.ImageSource");
    v = member(b, "input");
    WANT(json_is_object(v), "ContentBlock.messages.content.input", v,
         "api.ToolCallFunctionArguments");
    v = member(b, "is_error");
    WANT(json_is_boolean(v), "ContentBlock.messages.content.is_error", v, "bool");
    return 0;
}

static int bind_message(const json_t *m, struct api_err *err) {
    if (!json_is_object(m))
        return bind_type(err, "MessagesRequest.messages", m, "anthropic.MessageParam");
    const json_t *v = member(m, "role");
    WANT(json_is_string(v), "MessageParam.role", v, "string");
    const json_t *c = json_object_get(m, "content");
    if (!c)
        return fail(err, "unexpected end of JSON input%s%s", NULL, NULL);
    if (json_is_array(c)) {
        size_t i;
        const json_t *b;
        json_array_foreach(c, i, b) if (bind_block(b, err) < 0) return -1;
    } else if (!json_is_string(c) && !json_is_null(c)) {
        return fail(err, "json: cannot unmarshal %s into Go value of type %s", gojson_kind(c),
                    "[]anthropic.ContentBlock");
    }
    return 0;
}

static int bind_request(const json_t *in, struct api_err *err) {
    const json_t *v;
    size_t i;
    v = member(in, "model");
    WANT(json_is_string(v), "MessagesRequest.model", v, "string");
    v = member(in, "max_tokens");
    WANT(json_is_integer(v), "MessagesRequest.max_tokens", v, "int");
    v = member(in, "stream");
    WANT(json_is_boolean(v), "MessagesRequest.stream", v, "bool");
    static const char *const nums[] = {"temperature", "top_p"};
    for (i = 0; i < 2; i++) {
        char field[64];
        v = member(in, nums[i]);
        snprintf(field, sizeof(field), "MessagesRequest.%s", nums[i]);
        WANT(json_is_number(v), field, v, "float64");
    }
    v = member(in, "top_k");
    WANT(json_is_integer(v), "MessagesRequest.top_k", v, "int");
    v = member(in, "stop_sequences");
    WANT(json_is_array(v), "MessagesRequest.stop_sequences", v, "[]string");
    const json_t *e;
    if (v)
        json_array_foreach(v, i, e)
            WANT(json_is_string(e), "MessagesRequest.stop_sequences", e, "string");
    v = member(in, "thinking");
    WANT(json_is_object(v), "MessagesRequest.thinking", v, "anthropic.ThinkingConfig");
    if (v) {
        const json_t *t = member(v, "type");
        WANT(json_is_string(t), "ThinkingConfig.thinking.type", t, "string");
        t = member(v, "budget_tokens");
        WANT(json_is_integer(t), "ThinkingConfig.thinking.budget_tokens", t, "int");
    }
    v = member(in, "output_config");
    WANT(json_is_object(v), "MessagesRequest.output_config", v, "anthropic.OutputConfig");
    if (v) {
        const json_t *t = member(v, "effort");
        WANT(json_is_string(t), "OutputConfig.output_config.effort", t, "string");
    }
    v = member(in, "tools");
    WANT(json_is_array(v), "MessagesRequest.tools", v, "[]anthropic.Tool");
    if (v)
        json_array_foreach(v, i, e) {
            WANT(json_is_object(e), "MessagesRequest.tools", e, "anthropic.Tool");
            static const char *const ts[] = {"type", "name", "description"};
            for (size_t k = 0; k < 3; k++) {
                char field[64];
                const json_t *t = member(e, ts[k]);
                snprintf(field, sizeof(field), "Tool.tools.%s", ts[k]);
                WANT(json_is_string(t), field, t, "string");
            }
        }
    v = member(in, "messages");
    WANT(json_is_array(v), "MessagesRequest.messages", v, "[]anthropic.MessageParam");
    if (v)
        json_array_foreach(v, i, e) if (bind_message(e, err) < 0) return -1;
    return 0;
}

/* ---- request: FromMessagesRequest ------------------------------------------------------------ */

/* Appends the text of a "text" block (anything else adds nothing). */
static void text_of_block(const json_t *b, char **buf, size_t *len, int *oom) {
    if (!json_is_object(b) || strcmp(str_or(b, "type", ""), "text") != 0)
        return;
    const json_t *t = json_object_get(b, "text");
    if (!json_is_string(t))
        return;
    size_t n = json_string_length(t);
    char *p = realloc(*buf, *len + n + 1);
    if (!p) {
        *oom = 1;
        return;
    }
    memcpy(p + *len, json_string_value(t), n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
}

/* Appends the text of the "text" blocks of an array (system). */
static void text_of_blocks(const json_t *arr, char **buf, size_t *len, int *oom) {
    size_t i;
    const json_t *b;
    json_array_foreach(arr, i, b) text_of_block(b, buf, len, oom);
}

/* resolveImageSource: a base64 source's data, checked as Go decodes it; Ollama marshals the
 * decoded bytes back to standard base64. */
static json_t *image_new(const char *type, const char *data, struct api_err *err) {
    if (strcmp(type, "base64") != 0) {
        fail(err, "invalid image source type: %s. Only base64 images are supported.", type, NULL);
        return NULL;
    }
    size_t n;
    unsigned char *raw = base64_decode_new(data, &n);
    if (!raw) {
        fail(err, "invalid base64 image data: %s%s", "illegal base64 data", NULL);
        return NULL;
    }
    char *enc = base64_encode_new(raw, n);
    free(raw);
    json_t *s = enc ? json_string(enc) : NULL;
    free(enc);
    return s;
}

/* convertToolResultContent: the text and images of a tool_result's content. */
static int tool_result_content(const json_t *c, json_t *msg, struct api_err *err) {
    if (json_is_string(c)) {
        json_object_set(msg, "content", (json_t *)c);
        return 0;
    }
    if (!json_is_array(c)) {
        json_object_set_new(msg, "content", json_string(""));
        return 0;
    }
    char *text = NULL;
    size_t tl = 0;
    int oom = 0;
    json_t *images = json_array();
    size_t i;
    const json_t *b;
    json_array_foreach(c, i, b) {
        if (!json_is_object(b))
            continue;
        const char *type = str_or(b, "type", "");
        if (strcmp(type, "text") == 0) {
            text_of_block(b, &text, &tl, &oom);
        } else if (strcmp(type, "image") == 0) {
            const json_t *src = json_object_get(b, "source");
            if (!json_is_object(src)) {
                fail(err, "invalid tool_result image source%s%s", NULL, NULL);
                goto fail;
            }
            json_t *img = image_new(str_or(src, "type", ""), str_or(src, "data", ""), err);
            if (!img)
                goto fail;
            json_array_append_new(images, img);
        }
    }
    json_object_set_new(msg, "content", json_string(text ? text : ""));
    if (json_array_size(images))
        json_object_set(msg, "images", images);
    free(text);
    json_decref(images);
    return oom ? -1 : 0;
fail:
    free(text);
    json_decref(images);
    return -1;
}

/* "- title: url\n" lines, or the error text, as formatWebSearchToolResultContent. */
static json_t *web_search_result_text_new(const json_t *c) {
    if (json_is_string(c))
        return json_string(json_string_value(c));
    if (json_is_object(c) && strcmp(str_or(c, "type", ""), "web_search_tool_result_error") == 0) {
        const char *code = str_or(c, "error_code", "");
        char buf[300];
        snprintf(buf, sizeof(buf), "web_search_tool_result_error%s%.256s", *code ? ": " : "", code);
        return json_string(buf);
    }
    if (!json_is_array(c)) {
        if (!c)
            return json_string("null");
        char *d = gojson_dump_new(c, &(size_t){0});
        json_t *s = json_string(d ? d : "");
        free(d);
        return s;
    }
    size_t i, len = 0;
    const json_t *e;
    char *out = calloc(1, 1);
    json_array_foreach(c, i, e) {
        if (!json_is_object(e) || !out)
            continue;
        const char *type = str_or(e, "type", "");
        if (strcmp(type, "web_search_tool_result_error") == 0) {
            free(out);
            return web_search_result_text_new(e);
        }
        if (strcmp(type, "web_search_result") != 0)
            continue;
        const char *title = str_or(e, "title", ""), *url = str_or(e, "url", "");
        size_t n = strlen(title) + strlen(url) + 5;
        char *p = realloc(out, len + n + 1);
        if (!p)
            break;
        out = p;
        len += (size_t)snprintf(out + len, n + 1, "- %s: %s\n", title, url);
    }
    json_t *s = json_string(out ? out : "");
    free(out);
    return s;
}

static json_t *tool_call_new(const json_t *b) {
    const json_t *input = member(b, "input");
    json_t *fn = json_pack("{s:s}", "name", str_or(b, "name", ""));
    if (input)
        json_object_set(fn, "arguments", (json_t *)input);
    else
        json_object_set_new(fn, "arguments", json_object());
    json_t *call = json_object();
    if (*str_or(b, "id", ""))
        json_object_set_new(call, "id", json_string(str_or(b, "id", "")));
    json_object_set_new(call, "function", fn);
    return call;
}

/* convertMessage: one Anthropic message -> native messages appended to out. */
static int convert_message(const json_t *m, json_t *out, struct api_err *err) {
    char *role = strdup(str_or(m, "role", ""));
    if (!role)
        return fail(err, "out of memory%s%s", NULL, NULL);
    for (char *p = role; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    json_t *content = json_object_get(m, "content");
    json_t *blocks;
    if (json_is_array(content))
        blocks = json_incref(content);
    else
        blocks = json_pack("[{s:s,s:s}]", "type", "text", "text",
                           json_is_string(content) ? json_string_value(content) : "");
    char *text = NULL;
    size_t tl = 0;
    int oom = 0, rc = -1;
    const char *thinking = "";
    json_t *images = json_array(), *calls = json_array(), *results = json_array();
    size_t i;
    const json_t *b;
    json_array_foreach(blocks, i, b) {
        const char *type = str_or(b, "type", "");
        if (strcmp(type, "text") == 0) {
            text_of_block(b, &text, &tl, &oom);
        } else if (strcmp(type, "image") == 0) {
            const json_t *src = member(b, "source");
            if (!src) {
                fail(err, "invalid image source%s%s", NULL, NULL);
                goto done;
            }
            json_t *img = image_new(str_or(src, "type", ""), str_or(src, "data", ""), err);
            if (!img)
                goto done;
            json_array_append_new(images, img);
        } else if (strcmp(type, "tool_use") == 0 || strcmp(type, "server_tool_use") == 0) {
            if (type[0] == 't' && !*str_or(b, "id", "")) {
                fail(err, "tool_use block missing required 'id' field%s%s", NULL, NULL);
                goto done;
            }
            if (type[0] == 't' && !*str_or(b, "name", "")) {
                fail(err, "tool_use block missing required 'name' field%s%s", NULL, NULL);
                goto done;
            }
            json_array_append_new(calls, tool_call_new(b));
        } else if (strcmp(type, "tool_result") == 0) {
            json_t *msg = json_pack("{s:s}", "role", "tool");
            if (tool_result_content(member(b, "content"), msg, err) < 0) {
                json_decref(msg);
                goto done;
            }
            json_object_set_new(msg, "tool_call_id", json_string(str_or(b, "tool_use_id", "")));
            json_array_append_new(results, msg);
        } else if (strcmp(type, "web_search_tool_result") == 0) {
            json_t *msg = json_pack("{s:s}", "role", "tool");
            json_object_set_new(msg, "content", web_search_result_text_new(member(b, "content")));
            json_object_set_new(msg, "tool_call_id", json_string(str_or(b, "tool_use_id", "")));
            json_array_append_new(results, msg);
        } else if (strcmp(type, "thinking") == 0) {
            if (json_is_string(json_object_get(b, "thinking")))
                thinking = str_or(b, "thinking", "");
        }
    }
    if (oom)
        goto done;
    int user = strcmp(role, "user") == 0;
    if (user)
        json_array_extend(out, results);
    if (tl || json_array_size(images) || json_array_size(calls) || *thinking) {
        json_t *msg = json_pack("{s:s}", "role", role);
        json_object_set_new(msg, "content", json_string(text ? text : ""));
        if (*thinking)
            json_object_set_new(msg, "thinking", json_string(thinking));
        if (json_array_size(images))
            json_object_set(msg, "images", images);
        if (json_array_size(calls))
            json_object_set(msg, "tool_calls", calls);
        json_array_append_new(out, msg);
    }
    if (!user)
        json_array_extend(out, results);
    rc = 0;
done:
    free(role);
    free(text);
    json_decref(blocks);
    json_decref(images);
    json_decref(calls);
    json_decref(results);
    return rc;
}

static int is_web_search(const json_t *tool) {
    return strncmp(str_or(tool, "type", ""), "web_search", 10) == 0;
}

/* convertTool. input_schema is re-read as Go's ToolFunctionParameters: only type, $defs,
 * items, required and properties survive. */
static json_t *convert_tool_new(const json_t *t, struct api_err *err) {
    if (is_web_search(t))
        return json_pack(
            "{s:s,s:{s:s,s:s,s:{s:s,s:[s],s:{s:{s:s,s:s}}}}}", "type", "function", "function",
            "name", "web_search", "description",
            "Search the web for current information. Use this to find up-to-date information "
            "about any topic.",
            "parameters", "type", "object", "required", "query", "properties", "query", "type",
            "string", "description", "The search query to look up on the web");
    const char *name = str_or(t, "name", "");
    json_t *params = json_pack("{s:s,s:n}", "type", "", "properties");
    const json_t *schema = member(t, "input_schema");
    if (schema) {
        const json_t *v;
        if (!json_is_object(schema)) {
            fail(err, "invalid input_schema for tool \"%s\": json: cannot unmarshal %s", name,
                 gojson_kind(schema));
            json_decref(params);
            return NULL;
        }
        if ((v = member(schema, "type"))) {
            if (!json_is_string(v)) {
                fail(err, "invalid input_schema for tool \"%s\": %s", name,
                     "json: cannot unmarshal into Go struct field ToolFunctionParameters.type");
                json_decref(params);
                return NULL;
            }
            json_object_set(params, "type", (json_t *)v);
        }
        if ((v = member(schema, "$defs")))
            json_object_set(params, "$defs", (json_t *)v);
        if ((v = member(schema, "items")))
            json_object_set(params, "items", (json_t *)v);
        if ((v = member(schema, "required")))
            json_object_set(params, "required", (json_t *)v);
        if ((v = member(schema, "properties")))
            json_object_set(params, "properties", (json_t *)v);
    }
    json_t *fn = json_pack("{s:s}", "name", name);
    if (*str_or(t, "description", ""))
        json_object_set_new(fn, "description", json_string(str_or(t, "description", "")));
    json_object_set_new(fn, "parameters", params);
    return json_pack("{s:s,s:o}", "type", "function", "function", fn);
}

/* thinking / output_config -> think (a JSON value), or NULL for unset. */
static json_t *think_new(const json_t *in) {
    const char *ttype = str_or(member(in, "thinking"), "type", "");
    if (strcmp(ttype, "enabled") == 0)
        return json_true();
    if (strcmp(ttype, "disabled") == 0)
        return json_false();
    const json_t *oc = member(in, "output_config");
    if (!oc)
        return NULL;
    const char *effort = str_or(oc, "effort", "");
    while (isspace((unsigned char)*effort))
        effort++;
    char e[16];
    size_t n = strlen(effort);
    while (n && isspace((unsigned char)effort[n - 1]))
        n--;
    if (n >= sizeof(e))
        return NULL;
    for (size_t i = 0; i < n; i++)
        e[i] = (char)tolower((unsigned char)effort[i]);
    e[n] = '\0';
    if (strcmp(e, "xhigh") == 0)
        return json_string("high");
    if (!strcmp(e, "low") || !strcmp(e, "medium") || !strcmp(e, "high") || !strcmp(e, "max"))
        return json_string(e);
    return NULL;
}

/* MessagesRequest's fields: a key Go would read as one of them but spelled otherwise
 * ("Model", "MAX_TOKENS", "\u212Aeep") is refused, as the OpenAI translation refuses them: it
 * names something other than what keepwarm read (gokey.h). */
static const char *const request_fields[] = {
    "model",       "max_tokens", "messages", "system",         "stream",
    "temperature", "top_p",      "top_k",    "stop_sequences", "tools",
    "tool_choice", "thinking",   "metadata", "output_config",  NULL,
};

json_t *anthropic_request_new(const json_t *in, struct anthropic_meta *meta, struct api_err *err) {
    if (!json_is_object(in)) {
        fail(err, "json: cannot unmarshal %s into Go value of type %s", gojson_kind(in),
             "anthropic.MessagesRequest");
        return NULL;
    }
    const char *key;
    const json_t *kv;
    json_object_foreach((json_t *)in, key, kv) {
        const char *canonical = gokey_variant_of(key, strlen(key), request_fields);
        if (canonical) {
            err->status = 400;
            gokey_refusal(err->message, sizeof(err->message), key, canonical);
            return NULL;
        }
    }
    if (bind_request(in, err) < 0)
        return NULL;
    const char *model = str_or(in, "model", "");
    if (!*model) {
        fail(err, "model is required%s%s", NULL, NULL);
        return NULL;
    }
    const json_t *mt = member(in, "max_tokens");
    if (!mt || json_integer_value(mt) <= 0) {
        fail(err, "max_tokens is required and must be positive%s%s", NULL, NULL);
        return NULL;
    }
    const json_t *msgs = member(in, "messages");
    if (!json_array_size(msgs)) {
        fail(err, "messages is required%s%s", NULL, NULL);
        return NULL;
    }

    json_t *messages = json_array(), *tools = json_array(), *native = NULL;
    const json_t *sys = member(in, "system");
    if (json_is_string(sys) && json_string_length(sys)) {
        json_array_append_new(messages, json_pack("{s:s,s:O}", "role", "system", "content", sys));
    } else if (json_is_array(sys)) {
        char *text = NULL;
        size_t tl = 0;
        int oom = 0;
        text_of_blocks(sys, &text, &tl, &oom);
        if (tl)
            json_array_append_new(messages,
                                  json_pack("{s:s,s:s}", "role", "system", "content", text));
        free(text);
    }
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m) if (convert_message(m, messages, err) < 0) goto fail;

    const json_t *ts = member(in, "tools"), *t;
    int builtin = 0;
    json_array_foreach(ts, i, t) builtin |= is_web_search(t);
    json_array_foreach(ts, i, t) {
        if (builtin && !is_web_search(t) && strcmp(str_or(t, "name", ""), "web_search") == 0)
            continue;
        json_t *tool = convert_tool_new(t, err);
        if (!tool)
            goto fail;
        json_array_append_new(tools, tool);
    }

    json_t *options = json_pack("{s:O}", "num_predict", mt);
    const json_t *v;
    if ((v = member(in, "temperature")))
        json_object_set(options, "temperature", (json_t *)v);
    if ((v = member(in, "top_p")))
        json_object_set(options, "top_p", (json_t *)v);
    if ((v = member(in, "top_k")))
        json_object_set(options, "top_k", (json_t *)v);
    if ((v = member(in, "stop_sequences")) && json_array_size(v))
        json_object_set(options, "stop", (json_t *)v);

    int stream = json_is_true(json_object_get(in, "stream"));
    native = json_pack("{s:s,s:O,s:b}", "model", model, "messages", messages, "stream", stream);
    if (json_array_size(tools))
        json_object_set(native, "tools", tools);
    json_object_set_new(native, "options", options);
    json_t *think = think_new(in);
    if (think)
        json_object_set_new(native, "think", think);
    meta->stream = stream;
    meta->estimate = anthropic_estimate(in);
fail:
    json_decref(messages);
    json_decref(tools);
    return native;
}

/* ---- the estimate (EstimateCountTokens) ---------------------------------------------------- */

/* Bytes of Go's json.Marshal of a string: '"', '\\', control bytes and <, >, & escaped
 * (HTML-safe), U+2028 and U+2029 as \u2028. */
static size_t go_str_len(const char *s, size_t n) {
    size_t len = 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
            len += 2;
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            len += 6;
        else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                 ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
            len += 6;
            i += 2;
        } else
            len++;
    }
    return len;
}

/* Bytes of Go's json.Marshal of a decoded JSON value (maps with sorted keys: the count does not
 * depend on the order). */
static size_t go_len(const json_t *v) {
    char buf[40];
    size_t n = 0, i;
    const char *k;
    const json_t *e;
    switch (json_typeof(v)) {
        case JSON_OBJECT:
            n = 2;
            json_object_foreach((json_t *)v, k, e) n +=
                go_str_len(k, strlen(k)) + 1 + go_len(e) + 1;
            return json_object_size(v) ? n - 1 : n;
        case JSON_ARRAY:
            n = 2;
            json_array_foreach(v, i, e) n += go_len(e) + 1;
            return json_array_size(v) ? n - 1 : n;
        case JSON_STRING:
            return go_str_len(json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
            return (size_t)snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                                    json_integer_value(v));
        case JSON_REAL:
            gojson_format_real(buf, sizeof(buf), json_real_value(v));
            return strlen(buf);
        case JSON_TRUE:
            return 4;
        case JSON_FALSE:
            return 5;
        default:
            return 4;
    }
}

/* A "key":value member of a Go struct's encoding, with its separator. */
static size_t go_member(const char *key, size_t value_len) {
    return strlen(key) + 3 + value_len + 1;
}

/* json.Marshal(ContentBlock) for a decoded block, fields in the struct's order and omitted as
 * its tags say. */
static size_t go_block_len(const json_t *b) {
    size_t n = 1; /* '{', then each member with its ',' (the last one's becomes '}') */
    const json_t *v;
    n += go_member("type", go_str_len(str_or(b, "type", ""), strlen(str_or(b, "type", ""))));
    if (json_is_string(v = json_object_get(b, "text")))
        n += go_member("text", go_len(v));
    if (json_array_size(v = json_object_get(b, "citations")))
        n += go_member("citations", go_len(v));
    if (json_is_object(v = json_object_get(b, "source"))) {
        size_t s = 1;
        s += go_member("type", go_str_len(str_or(v, "type", ""), strlen(str_or(v, "type", ""))));
        static const char *const opt[] = {"media_type", "data", "url"};
        for (int i = 0; i < 3; i++) {
            const char *t = str_or(v, opt[i], "");
            if (*t)
                s += go_member(opt[i], go_str_len(t, strlen(t)));
        }
        n += go_member("source", s);
    }
    static const char *const strs[] = {"id", "name"};
    for (int i = 0; i < 2; i++) {
        const char *t = str_or(b, strs[i], "");
        if (*t)
            n += go_member(strs[i], go_str_len(t, strlen(t)));
    }
    if (json_is_object(v = json_object_get(b, "input")))
        n += go_member("input", go_len(v));
    const char *tu = str_or(b, "tool_use_id", "");
    if (*tu)
        n += go_member("tool_use_id", go_str_len(tu, strlen(tu)));
    v = json_object_get(b, "content");
    if (v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v)))
        n += go_member("content", go_len(v));
    if (json_is_true(json_object_get(b, "is_error")))
        n += go_member("is_error", 4);
    if (json_is_string(v = json_object_get(b, "thinking")))
        n += go_member("thinking", go_len(v));
    const char *sig = str_or(b, "signature", "");
    if (*sig)
        n += go_member("signature", go_str_len(sig, strlen(sig)));
    return n;
}

/* countContentBlock */
static size_t block_count(const json_t *b) {
    size_t n = 0;
    const json_t *v;
    if (!json_is_object(b))
        return 0;
    if (json_is_string(v = json_object_get(b, "text")))
        n += json_string_length(v);
    if (json_is_string(v = json_object_get(b, "thinking")))
        n += json_string_length(v);
    const char *type = str_or(b, "type", "");
    if (!strcmp(type, "tool_use") || !strcmp(type, "tool_result"))
        n += go_block_len(b);
    return n;
}

/* countAnyContent */
static size_t any_count(const json_t *c) {
    size_t n = 0, i;
    const json_t *b;
    if (!c || json_is_null(c))
        return 0;
    if (json_is_string(c))
        return json_string_length(c);
    if (json_is_array(c)) {
        json_array_foreach(c, i, b) n += block_count(b);
        return n;
    }
    return go_len(c);
}

long long anthropic_estimate(const json_t *in) {
    size_t total = 0, i;
    const json_t *m, *t;
    const json_t *sys = json_object_get(in, "system");
    total += any_count(sys);
    const json_t *msgs = json_object_get(in, "messages");
    json_array_foreach(msgs, i, m) {
        total += strlen(str_or(m, "role", ""));
        const json_t *c = json_object_get(m, "content");
        if (json_is_string(c))
            total += json_string_length(c);
        else if (json_is_array(c)) {
            size_t k;
            const json_t *b;
            json_array_foreach(c, k, b) total += block_count(b);
        }
    }
    json_array_foreach(json_object_get(in, "tools"), i, t) {
        total += strlen(str_or(t, "name", "")) + strlen(str_or(t, "description", ""));
        const json_t *schema = json_object_get(t, "input_schema");
        if (schema && !json_is_null(schema)) {
            /* the raw bytes as sent: jansson keeps no text, the compact form is the usual one */
            char *d = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
            total += d ? strlen(d) : 0;
            free(d);
        }
    }
    long long tokens = (long long)(total / 4);
    if (tokens == 0 && (json_array_size(msgs) || (sys && !json_is_null(sys))))
        tokens = 1;
    return tokens;
}

json_t *anthropic_count_tokens_new(const json_t *in, struct api_err *err) {
    const json_t *msgs = member(in, "messages"), *m;
    size_t i;
    if (msgs && !json_is_array(msgs)) {
        bind_type(err, "CountTokensRequest.messages", msgs, "[]anthropic.MessageParam");
        return NULL;
    }
    json_array_foreach(msgs, i, m) if (bind_message(m, err) < 0) return NULL;
    return json_pack("{s:I}", "input_tokens", (json_int_t)anthropic_estimate(in));
}

/* ---- the answer (ToMessagesResponse) ----------------------------------------------------------
 */

static const char *stop_reason(const char *done_reason, int tools) {
    if (tools)
        return "tool_use";
    if (!strcmp(done_reason, "stop"))
        return "end_turn";
    if (!strcmp(done_reason, "length"))
        return "max_tokens";
    return *done_reason ? "stop_sequence" : NULL;
}

static json_int_t count_of(const json_t *native, const char *key) {
    json_int_t v = json_integer_value(json_object_get(native, key));
    return v < 0 ? 0 : v;
}

static json_t *tool_use_block_new(const json_t *call) {
    const json_t *fn = json_object_get(call, "function");
    json_t *b = json_pack("{s:s,s:s,s:s}", "type", "tool_use", "id", str_or(call, "id", ""), "name",
                          str_or(fn, "name", ""));
    const json_t *args = json_object_get(fn, "arguments");
    json_object_set_new(b, "input",
                        json_is_object(args) ? json_copy((json_t *)args) : json_object());
    return b;
}

json_t *anthropic_response_new(const json_t *native, const char *id) {
    if (!json_is_object(native))
        return NULL;
    const json_t *msg = json_object_get(native, "message");
    const char *thinking = str_or(msg, "thinking", ""), *text = str_or(msg, "content", "");
    const json_t *calls = json_object_get(msg, "tool_calls");
    json_t *content = json_array();
    if (*thinking)
        json_array_append_new(content,
                              json_pack("{s:s,s:s}", "type", "thinking", "thinking", thinking));
    if (*text)
        json_array_append_new(content, json_pack("{s:s,s:s}", "type", "text", "text", text));
    size_t i;
    const json_t *c;
    json_array_foreach(calls, i, c) json_array_append_new(content, tool_use_block_new(c));
    json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "id", id, "type", "message", "role", "assistant",
                          "model", str_or(native, "model", ""));
    if (json_array_size(content))
        json_object_set(o, "content", content);
    else
        json_object_set_new(o, "content", json_null());
    json_decref(content);
    const char *sr = stop_reason(str_or(native, "done_reason", ""), json_array_size(calls) > 0);
    if (sr)
        json_object_set_new(o, "stop_reason", json_string(sr));
    json_object_set_new(o, "usage",
                        json_pack("{s:I,s:I}", "input_tokens",
                                  count_of(native, "prompt_eval_count"), "output_tokens",
                                  count_of(native, "eval_count")));
    return o;
}

/* ---- the stream (StreamConverter) ---------------------------------------------------------- */

void anthropic_stream_init(struct anthropic_stream *s, const char *id, const char *model,
                           long long estimate) {
    memset(s, 0, sizeof(*s));
    snprintf(s->id, sizeof(s->id), "%s", id);
    if (model)
        s->model_owned = strndup(model, ANTHROPIC_MAX_MODEL);
    s->estimate = estimate;
}

void anthropic_stream_close(struct anthropic_stream *s) {
    free(s->tool_ids_owned);
    free(s->model_owned);
    s->tool_ids_owned = NULL;
    s->model_owned = NULL;
    s->ntool_ids = s->tool_ids_cap = 0;
}

static void add(json_t *frames, json_t *f) {
    json_array_append_new(frames, f);
}

static void block_stop(json_t *frames, int index) {
    add(frames, json_pack("{s:s,s:i}", "type", "content_block_stop", "index", index));
}

static void block_start(json_t *frames, int index, json_t *block) {
    add(frames, json_pack("{s:s,s:i,s:o}", "type", "content_block_start", "index", index,
                          "content_block", block));
}

static void block_delta(json_t *frames, int index, json_t *delta) {
    add(frames,
        json_pack("{s:s,s:i,s:o}", "type", "content_block_delta", "index", index, "delta", delta));
}

static void message_start(struct anthropic_stream *s, json_int_t prompt, json_t *frames) {
    json_int_t input = prompt > 0 ? prompt : (json_int_t)s->estimate;
    add(frames, json_pack("{s:s,s:{s:s,s:s,s:s,s:s,s:[],s:{s:I,s:i}}}", "type", "message_start",
                          "message", "id", s->id, "type", "message", "role", "assistant", "model",
                          s->model_owned ? s->model_owned : "", "content", "usage", "input_tokens",
                          input, "output_tokens", 0));
    s->started = 1;
}

static void close_thinking(struct anthropic_stream *s, json_t *frames) {
    if (s->thinking_started && !s->thinking_done) {
        s->thinking_done = 1;
        block_stop(frames, s->index++);
    }
}

static void close_text(struct anthropic_stream *s, json_t *frames) {
    if (s->text_started) {
        block_stop(frames, s->index++);
        s->text_started = 0;
    }
}

/* FNV-1a: the tool-call id set's key (a collision among a stream's few ids is 2^-64 odds). */
static uint64_t tool_id_hash(const char *id) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

/* 1 when the id was sent already; else remembers it (up to the cap). */
static int tool_id_seen(struct anthropic_stream *s, const char *id) {
    uint64_t h = tool_id_hash(id);
    for (size_t i = 0; i < s->ntool_ids; i++)
        if (s->tool_ids_owned[i] == h)
            return 1;
    if (s->ntool_ids >= ANTHROPIC_MAX_TOOL_IDS)
        return 0;
    if (s->ntool_ids == s->tool_ids_cap) {
        size_t cap = s->tool_ids_cap ? s->tool_ids_cap * 2 : 4;
        uint64_t *p = realloc(s->tool_ids_owned, cap * sizeof(*p));
        if (!p)
            return 0;
        s->tool_ids_owned = p;
        s->tool_ids_cap = cap;
    }
    s->tool_ids_owned[s->ntool_ids++] = h;
    return 0;
}

static void tool_call(struct anthropic_stream *s, const json_t *call, json_t *frames) {
    const json_t *fn = json_object_get(call, "function");
    const char *id = str_or(call, "id", "");
    if (tool_id_seen(s, id))
        return;
    const json_t *args = json_object_get(fn, "arguments");
    json_t *empty = json_object();
    size_t n;
    char *partial = gojson_dump_new(json_is_object(args) ? args : empty, &n);
    json_decref(empty);
    if (!partial) /* Ollama skips a call whose arguments do not marshal */
        return;
    close_thinking(s, frames);
    close_text(s, frames);
    block_start(frames, s->index,
                json_pack("{s:s,s:s,s:s,s:{}}", "type", "tool_use", "id", id, "name",
                          str_or(fn, "name", ""), "input"));
    block_delta(frames, s->index,
                json_pack("{s:s,s:s}", "type", "input_json_delta", "partial_json", partial));
    block_stop(frames, s->index);
    free(partial);
    s->index++;
    s->tool_sent = 1;
}

static void message_end(struct anthropic_stream *s, const char *done_reason, json_int_t prompt,
                        json_int_t completion, json_t *frames) {
    if (s->text_started) {
        block_stop(frames, s->index);
        s->text_started = 0;
    } else if (s->thinking_started && !s->thinking_done) {
        block_stop(frames, s->index);
        s->thinking_done = 1;
    }
    json_t *delta = json_object();
    const char *sr = stop_reason(done_reason, s->tool_sent);
    if (sr)
        json_object_set_new(delta, "stop_reason", json_string(sr));
    add(frames, json_pack("{s:s,s:o,s:{s:I,s:I}}", "type", "message_delta", "delta", delta, "usage",
                          "input_tokens", prompt, "output_tokens", completion));
    add(frames, json_pack("{s:s}", "type", "message_stop"));
    s->finished = ANTHROPIC_FINISHED_DONE;
}

int anthropic_stream_feed(struct anthropic_stream *s, const json_t *line, json_t *frames) {
    if (s->finished)
        return s->finished == ANTHROPIC_FINISHED_DONE ? ANTHROPIC_STREAM_DONE
                                                      : ANTHROPIC_STREAM_ERROR;
    const json_t *e = json_object_get(line, "error");
    if (e && !json_is_null(e)) {
        const char *text =
            json_is_string(e) ? json_string_value(e) : str_or(e, "message", "error from Ollama");
        json_t *env = anthropic_error_new(500, text, NULL);
        json_object_del(env, "request_id"); /* an event carries none */
        add(frames, env);
        s->finished = ANTHROPIC_FINISHED_ERROR;
        return ANTHROPIC_STREAM_ERROR;
    }
    if (!s->started)
        message_start(s, count_of(line, "prompt_eval_count"), frames);
    const json_t *msg = json_object_get(line, "message");
    const char *thinking = str_or(msg, "thinking", ""), *text = str_or(msg, "content", "");
    if (*thinking && !s->thinking_done) {
        close_text(s, frames);
        if (!s->thinking_started) {
            s->thinking_started = 1;
            block_start(frames, s->index,
                        json_pack("{s:s,s:s}", "type", "thinking", "thinking", ""));
        }
        block_delta(frames, s->index,
                    json_pack("{s:s,s:s}", "type", "thinking_delta", "thinking", thinking));
    }
    if (*text) {
        close_thinking(s, frames);
        if (!s->text_started) {
            s->text_started = 1;
            block_start(frames, s->index, json_pack("{s:s,s:s}", "type", "text", "text", ""));
        }
        block_delta(frames, s->index, json_pack("{s:s,s:s}", "type", "text_delta", "text", text));
    }
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(msg, "tool_calls"), i, c) tool_call(s, c, frames);
    if (json_is_true(json_object_get(line, "done"))) {
        message_end(s, str_or(line, "done_reason", ""), count_of(line, "prompt_eval_count"),
                    count_of(line, "eval_count"), frames);
        return ANTHROPIC_STREAM_DONE;
    }
    return ANTHROPIC_STREAM_MORE;
}

int anthropic_stream_eof(struct anthropic_stream *s, json_t *frames) {
    if (s->finished)
        return s->finished == ANTHROPIC_FINISHED_DONE ? ANTHROPIC_STREAM_DONE
                                                      : ANTHROPIC_STREAM_ERROR;
    if (!s->started)
        message_start(s, 0, frames);
    message_end(s, "stop", 0, 0, frames);
    return ANTHROPIC_STREAM_DONE;
}

/* ---- errors ------------------------------------------------------------------------------- */

static const char *error_type(int status) {
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        default:
            return "api_error";
    }
}

json_t *anthropic_error_new(int status, const char *message, const char *code) {
    (void)code;
    char req[ID_MAX];
    id_unique(ID_REQUEST, req, sizeof(req)); /* as Ollama's generateID("req") */
    json_t *text = errtext_json_new(message);
    json_t *o =
        json_pack("{s:s,s:{s:s,s:o},s:s}", "type", "error", "error", "type", error_type(status),
                  "message", text ? text : json_string(""), "request_id", req);
    return o;
}

json_t *anthropic_error_from_native_new(int status, const char *body, size_t len) {
    struct errtext_native e;
    errtext_native_read(status, body, len, &e);
    json_t *o = anthropic_error_new(status, e.message ? e.message : "", NULL);
    errtext_native_clear(&e);
    return o;
}

/* ---- relax_thinking ----------------------------------------------------------------------- */

char *anthropic_relax_thinking_new(int status, const char *answer, size_t answer_len,
                                   const char *body, size_t body_len, size_t *out_len) {
    if (status != 400 || !answer || !body)
        return NULL;
    json_error_t jerr;
    json_t *a = json_loadb(answer, answer_len, 0, &jerr), *b = NULL;
    char *out = NULL;
    const char *text = str_or(a, "error", NULL);
    static const char tail[] = "\" does not support thinking";
    size_t tl = text ? strlen(text) : 0;
    if (tl < sizeof(tail) || strcmp(text + tl - (sizeof(tail) - 1), tail) != 0)
        goto done; /* any other refusal: the body (maybe megabytes) is not parsed */
    b = json_loadb(body, body_len, 0, &jerr);
    const char *model = str_or(b, "model", NULL);
    if (!model || !json_object_get(b, "think"))
        goto done;
    /* Go's %q of the model: only plain names are quoted as is; others are not matched */
    char want[600];
    int n = snprintf(want, sizeof(want), "\"%s\" does not support thinking", model);
    if (n < 0 || (size_t)n >= sizeof(want) || strcmp(text, want) != 0 || strpbrk(model, "\"\\"))
        goto done;
    json_object_del(b, "think");
    out = json_dumps(b, JSON_COMPACT);
    if (out)
        *out_len = strlen(out);
done:
    json_decref(a);
    json_decref(b);
    return out;
}
