/* config: keepwarm's settings, layered defaults < INI file (-c) < KEEPWARM_* environment <
 * command-line flags. Every layer goes through config_set(), so a key means the same thing
 * and is validated the same way wherever it comes from; every error names its source
 * ("file:line: key", "KEEPWARM_X", "--flag") and what is allowed.
 *
 * A struct config is plain data, owned by whoever initialised it (config_init) and released
 * with config_free. It is immutable once loaded: a reload builds a new one. */
#ifndef KEEPWARM_CONFIG_H
#define KEEPWARM_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define CONFIG_ERR_LEN    512
#define CONFIG_MAX_LIST   64 /* pins, api keys, models: each at most this many */
#define CONFIG_MAX_STRING 1024

enum keep_alive_policy {
    KEEP_ALIVE_OVERRIDE = 0, /* keepwarm's keep_alive always wins */
    KEEP_ALIVE_DEFAULT,      /* a valid client keep_alive is honoured; ours fills the gap */
};

/* The section whose keys apply to every model without its own: [model "*"]. A named section
 * overrides it key by key (runner options one by one); a request and a warm ping resolve a
 * model the same way (config_model). */
#define CONFIG_DEFAULTS_SECTION "*"

/* Per-model settings from a [model "NAME"] section, with the defaults section's keys that
 * the section does not set itself filled in. */
struct model_conf {
    char *name;                /* as written; matched as Ollama resolves names (modelname.h) */
    unsigned set_mask;         /* the keys this section set itself (bit = index in the key table) */
    char *key;                 /* name's canonical form (owned), NULL when it has none */
    int has_keep_alive;        /* keep_alive set for this model */
    int64_t keep_alive;        /* ns, DURATION_FOREVER for -1 */
    json_t *options;           /* pinned runner options (object, owned; may be empty) */
    long long num_predict_max; /* cap on generated tokens; 0 = no cap */
    long long max_concurrent;  /* requests at once for this model; 0 = the global value */
};

enum admin_api {
    ADMIN_ALLOW = 0, /* model management (/api/pull, /api/delete, ...) open to all */
    ADMIN_DENY,      /* refused with 403 */
    ADMIN_KEYS,      /* like every other endpoint: a key when keys are configured */
};

struct config {
    char *listen_host; /* "127.0.0.1" */
    int listen_port;   /* 11435 */
    /* Ollama's base URL without trailing slash, as shown in logs, errors, /status and --check:
     * a password in it is replaced by "***" ("http://alice:***@gpu:11434") */
    char *upstream;
    char *upstream_url; /* the same as given, credentials included: only for upstream_new and
                         * upstream_set_base, never logged */
    /* "Name: value" strings sent on every request to Ollama, replacing a client's header of
     * the same name (upstream_header, repeatable; KEEPWARM_UPSTREAM_HEADER: one per line).
     * Secrets: never logged. */
    char *upstream_headers[CONFIG_MAX_LIST];
    size_t nupstream_headers;
    int upstream_client;        /* enum upstream_client: 0 auto, 1 builtin, 2 curl */
    char *upstream_ca_file;     /* PEM CA bundle for https:// (NULL: the system store) */
    char *upstream_client_cert; /* PEM client certificate for https:// (NULL: none) */
    char *upstream_client_key;  /* its key (NULL: in the certificate's file) */
    int upstream_insecure;      /* https:// without verification (explicit choice only) */
    int64_t keep_alive;         /* ns injected into native requests; DURATION_FOREVER = -1 */
    enum keep_alive_policy keep_alive_policy;
    int64_t ping_interval; /* ns between warm-loop rounds */
    char *pins[CONFIG_MAX_LIST];
    size_t npins;
    char *api_keys[CONFIG_MAX_LIST]; /* from api_keys, --api-key and api_keys_file */
    size_t napi_keys;
    char *api_keys_file; /* one key per line, re-read on reload; NULL for none */
    enum admin_api admin_api;
    char *cors_origins[CONFIG_MAX_LIST]; /* origins allowed by CORS; "*" for any */
    size_t ncors_origins;
    char *allowed_hosts[CONFIG_MAX_LIST]; /* Host names allowed on a loopback listener; "*" any */
    size_t nallowed_hosts;
    enum log_level log_level;
    struct model_conf models[CONFIG_MAX_LIST];
    size_t nmodels;
    size_t max_body;               /* request body cap in bytes (413 above) */
    size_t max_line;               /* cap on one upstream NDJSON line in bytes */
    int64_t connect_timeout;       /* ns to connect to Ollama before 502/504 */
    int64_t request_timeout;       /* ns a whole upstream request may take; 0 = unlimited */
    int64_t read_timeout;          /* ns Ollama may stay silent mid-request; 0 = unlimited */
    int64_t upstream_idle_timeout; /* ns a kept-alive connection to Ollama may idle */
    int64_t idle_timeout;          /* ns a client may idle, dawdle over headers, or stall reading */
    int64_t header_timeout;        /* ns for a request's whole head (line and headers); 0 = off */
    int64_t body_timeout;          /* ns for a request's whole body, +1 s per MiB; 0 = off */
    int64_t shutdown_timeout;      /* ns SIGTERM waits for in-flight requests */
    long long max_concurrent;      /* requests at once per model (429 beyond); 0 = unlimited */
    long long max_connections;     /* client connections at once; more wait in the backlog */
    int pin_requested;             /* also keep warm the models clients use ... */
    long long max_pinned;          /* ... up to this many (pinned ones included) */
    long long retries;             /* retries of a request whose runner crashed before any byte */
    int64_t wait_comment_interval; /* ns between ": waiting for model" SSE comments; 0 = off */
    char *config_file;             /* the -c file, or NULL */
};

/* What main should do after config_load. */
enum config_action { CONFIG_RUN = 0, CONFIG_CHECK, CONFIG_HELP, CONFIG_VERSION };

/* Defaults, with OLLAMA_HOST (from env, may be NULL) as the upstream. Returns 0 or -1. */
int config_init(struct config *c, const char *ollama_host, char *err, size_t errlen);
void config_free(struct config *c);

/* Sets one key. section is NULL for [keepwarm], or the model name for [model "NAME"].
 * Returns 0, or -1 with "key: what is wrong (allowed: ...)" in err. */
int config_set(struct config *c, const char *model, const char *key, const char *value, char *err,
               size_t errlen);

/* Reads an INI file into c. Errors: "FILE:LINE: key: message". */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/* Applies KEEPWARM_* variables from envp (NULL-terminated "K=V" strings). */
int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen);

/* The whole layering: defaults, -c FILE (or KEEPWARM_CONFIG), environment, flags.
 * argv is not modified. *action says whether to run, check, or print help/version. */
int config_load(struct config *c, int argc, char *const *argv, char *const *envp,
                enum config_action *action, char *err, size_t errlen);

/* The [model] section for name ("llama3.2" matches "llama3.2:latest" and back), else the
 * defaults section [model "*"], or NULL when there is neither. */
const struct model_conf *config_model(const struct config *c, const char *name);

/* Model names name the same model for Ollama: "m", "m:latest", "library/m",
 * "registry.ollama.ai/library/m:latest", "M:LATEST", "m:local", ... (modelname.h). */
int config_names_match(const char *a, const char *b);

/* The usage text for --help. */
const char *config_usage(void);

#endif
