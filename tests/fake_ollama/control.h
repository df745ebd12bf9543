/* control: the test controls under /_fake/ (requests log, stats, reset, evict, crash, fail,
 * script, config) and the state they steer: the request log ring, injected failures and the
 * scripted reply. Inference code asks it what to answer (control_script, control_take_fail). */
#ifndef FAKE_OLLAMA_CONTROL_H
#define FAKE_OLLAMA_CONTROL_H

#include "catalog.h"
#include "fake.h"
#include "http.h"

#include <event2/http.h>
#include <jansson.h>

#define CONTROL_LOG_ENTRIES  256
#define CONTROL_LOG_BODY_MAX (64u * 1024)
#define CONTROL_MAX_RULES    64
#define CONTROL_MAX_TOKENS   100000

enum fail_when { FAIL_NONE = 0, FAIL_BEFORE, FAIL_MID, FAIL_CLOSE };

struct fail_rule {
    enum fail_when when;
    int status;
    char error[512];
};

struct control *control_new(struct fake *f);
void control_free(struct control *c);

/* Records one native-API request in the ring (the last CONTROL_LOG_ENTRIES are kept). */
void control_log_request(struct control *c, struct evhttp_request *req, const char *uri,
                         const struct http_body *body);

/* Serves /_fake/... */
void control_handle(struct fake *f, struct evhttp_request *req, const char *path,
                    const struct http_body *body);

/* Consumes one injected failure that applies to a generation for m; 1 when one does. */
int control_take_fail(struct control *c, const struct model *m, struct fail_rule *out);

/* The scripted reply for m (its own, else the global one), or NULL: borrowed. Keys present only
 * when set: "content", "thinking" and "after_tool" (arrays of strings), "tool_calls" (array),
 * "done_reason". */
json_t *control_script(struct control *c, const struct model *m);
/* The default reply tokens (borrowed arrays of strings, alive until control_free). */
json_t *control_default_content(struct control *c);
json_t *control_default_thinking(struct control *c);

#endif
