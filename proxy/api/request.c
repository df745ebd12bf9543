/* request: the request pipeline (request.h). Owns nothing past a call: the parsed tree, the
 * translated tree and the scan live for one request_build. */
#include "request.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontdoor.h"
#include "jscan.h"
#include "metrics.h"
#include "policy.h"

/* A body this large, or a tree this costly, has its heap handed back to the system afterwards
 * (the server's sweep): glibc keeps freed small blocks otherwise. */
#define TRIM_AFTER_BODY (1u << 20)
#define TRIM_AFTER_COST 50000

static int refuse(struct api_err *err, int status, const char *message) {
    err->status = status;
    snprintf(err->message, sizeof(err->message), "%s", message);
    return -1;
}

/* Parses the request body as one JSON object, rejecting duplicate keys (a parser
 * differential between keepwarm and Ollama would let a request say two things), and bodies
 * whose tree would cost more than FRONTDOOR_MAX_JSON_COST (counted before jansson builds it). */
static json_t *body_json_new(const char *data, size_t n, int *costly, struct api_err *err) {
    if (n == 0) {
        refuse(err, 400, "missing request body");
        return NULL;
    }
    if (!data) {
        refuse(err, 400, "out of memory");
        return NULL;
    }
    long cost = frontdoor_json_cost(data, n, FRONTDOOR_MAX_JSON_COST);
    if (cost < 0) {
        err->status = 400;
        snprintf(err->message, sizeof(err->message),
                 "request body has too many JSON values (objects and arrays count %d; at most "
                 "%d)",
                 FRONTDOOR_JSON_CONTAINER_COST, FRONTDOOR_MAX_JSON_COST);
        return NULL;
    }
    if (n >= TRIM_AFTER_BODY || cost >= TRIM_AFTER_COST)
        *costly = 1;
    json_error_t jerr;
    json_t *v = json_loadb(data, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        err->status = 400;
        snprintf(err->message, sizeof(err->message),
                 "invalid JSON in request body at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        refuse(err, 400, "request body must be a JSON object");
        return NULL;
    }
    return v;
}

static const char *model_of(const json_t *body) {
    const json_t *m = json_object_get(body, "model");
    return json_is_string(m) ? json_string_value(m) : NULL;
}

/* The jansson path: parse (EP_JSON_BODY), translate, policy, dump. */
static int build_jansson(const struct endpoint *ep, const struct config *cfg, const char *path,
                         const char *body, size_t len, struct request_out *out,
                         struct api_err *err) {
    json_t *in = NULL, *native = NULL;
    int rc = -1;
    if (ep->flags & EP_JSON_BODY) {
        if (!(in = body_json_new(body, len, &out->costly, err)))
            return -1;
    }
    if (ep->request_new) {
        err->status = 0;
        err->message[0] = '\0';
        native = ep->request_new(path, in, &out->meta, err);
        if (!native) {
            if (!err->status)
                err->status = 400;
            goto cleanup;
        }
    } else if (in) {
        native = json_incref(in); /* the client's body is the native body */
    }
    if (native && (ep->flags & EP_POLICY) &&
        policy_apply(cfg, native, err->message, sizeof(err->message)) < 0) {
        err->status = 400;
        goto cleanup;
    }
    if (native && (ep->flags & EP_POLICY)) {
        runopts_from_json(&out->runner, json_object_get(native, "options"));
        out->has_runner = 1;
    }
    const char *model = model_of(in ? in : native);
    if (native && !(out->body = json_dumps(native, JSON_COMPACT))) {
        refuse(err, 500, "out of memory");
        goto cleanup;
    }
    out->body_len = out->body ? strlen(out->body) : 0;
    if (model && !(out->model = strdup(model))) {
        free(out->body);
        out->body = NULL;
        refuse(err, 500, "out of memory");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (rc < 0) {
        json_decref(out->meta.echo);
        out->meta.echo = NULL;
    }
    json_decref(native);
    json_decref(in);
    return rc;
}

int request_build_way(const struct endpoint *ep, const struct config *cfg, const char *path,
                      const char *body, size_t len, enum request_way way, struct request_out *out,
                      struct api_err *err) {
    struct jscan scan;
    out->body = NULL;
    out->body_len = 0;
    out->model = NULL;
    out->costly = 0;
    memset(&out->runner, 0, sizeof(out->runner));
    out->has_runner = 0;
    out->path = ep->native_path ? ep->native_path : path;
    if (way != REQUEST_JANSSON && ep->request_fast && len && body) {
        if (jscan_body(body, len, &scan) == 0 &&
            ep->request_fast(cfg, body, len, &scan, out) == 0) {
            metrics_fastpath_hit(ep->request_fastpath);
            return 0;
        }
        metrics_fastpath_decline(ep->request_fastpath);
    }
    if (way == REQUEST_FAST)
        return 1;
    return build_jansson(ep, cfg, path, body, len, out, err);
}

int request_build(const struct endpoint *ep, const struct config *cfg, const char *path,
                  const char *body, size_t len, struct request_out *out, struct api_err *err) {
    memset(&out->meta, 0, sizeof(out->meta));
    return request_build_way(ep, cfg, path, body, len, REQUEST_ANY, out, err);
}

void request_out_cleanup(struct request_out *out) {
    free(out->body);
    free(out->model);
    json_decref(out->meta.echo);
    out->body = NULL;
    out->model = NULL;
    out->meta.echo = NULL;
}
