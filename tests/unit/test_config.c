/* Unit tests for config: every validation error of config_set, INI files (file:line
 * messages), environment and flags layering, model lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "duration.h"

static void init(struct config *c) {
    char err[CONFIG_ERR_LEN];
    assert_int_equal(config_init(c, NULL, err, sizeof(err)), 0);
}

static void test_defaults(void **state) {
    (void)state;
    struct config c;
    init(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 11435);
    assert_string_equal(c.upstream, "http://127.0.0.1:11434");
    assert_true(c.keep_alive == DURATION_FOREVER);
    assert_int_equal(c.keep_alive_policy, KEEP_ALIVE_OVERRIDE);
    assert_true(c.ping_interval == 60 * DURATION_SECOND);
    assert_int_equal(c.npins, 0);
    assert_int_equal(c.napi_keys, 0);
    assert_int_equal(c.max_body, 32u << 20);
    config_free(&c);
}

static void test_ollama_host(void **state) {
    (void)state;
    static const char *const cases[][2] = {
        {"0.0.0.0", "http://127.0.0.1:11434"},
        {"0.0.0.0:9999", "http://127.0.0.1:9999"},
        {":8080", "http://127.0.0.1:8080"},
        {"example.internal", "http://example.internal:11434"},
        {"http://10.0.0.2:11434/", "http://10.0.0.2:11434"},
        {"http://127.0.0.1:11434/prefix", "http://127.0.0.1:11434/prefix"},
        {"https://ollama.example", "https://ollama.example:443"},
        {"https://ollama.example:8443/", "https://ollama.example:8443"},
        {"http://u:p%40ss@gpu:8080/", "http://u:***@gpu:8080"},
        {"tok@gpu", "http://***@gpu:11434"},
        {"http://u:p@ss@[::1]", "http://u:***@[::1]:11434"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config c;
        char err[CONFIG_ERR_LEN];
        assert_int_equal(config_init(&c, cases[i][0], err, sizeof(err)), 0);
        assert_string_equal(c.upstream, cases[i][1]);
        config_free(&c);
    }
    struct config c;
    char err[CONFIG_ERR_LEN];
    assert_int_equal(config_init(&c, "ftp://x", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "OLLAMA_HOST: upstream:"));
}

/* Each row: section (NULL = [keepwarm]), key, value, expected error fragment. */
static const char *const bad[][4] = {
    {NULL, "listen", "nowhere", "listen: \"nowhere\" is not HOST:PORT"},
    {NULL, "listen", "127.0.0.1:99999", "port in \"127.0.0.1:99999\" must be 0..65535"},
    {NULL, "listen", "127.0.0.1:", "must be 0..65535"},
    {NULL, "listen", ":80", "is not HOST:PORT"},
    {NULL, "upstream", "ftp://x", "is not an http URL"},
    {NULL, "upstream", "http://h:port", "is not an http URL"},
    {NULL, "upstream_client", "libcurl", "(allowed: auto, builtin, curl)"},
    {NULL, "upstream_insecure", "maybe", "upstream_insecure"},
    {NULL, "upstream", "http://u:p w@h:1", "\"http://u:***@h:1\" is not an http URL"},
    {NULL, "upstream", "http://u:p%zz@h:1", "\"http://u:***@h:1\" is not an http URL"},
    {NULL, "upstream_header", "X A: v", "want \"Name: value\""},
    {NULL, "upstream_header", "X-A : v", "a blank before the colon"},
    {NULL, "upstream_header", "X-A v", "want \"Name: value\""},
    {NULL, "upstream_header", "X-A:", "X-A has an empty value"},
    {NULL, "upstream_header", "X-A: a\rb", "X-A: the value may not hold control characters"},
    {NULL, "upstream_header", "content-length: 1", "content-length is keepwarm's to send"},
    {NULL, "upstream_header", "Host: h", "Host is keepwarm's to send"},
    {NULL, "keep_alive", "1d", "keep_alive: time: unknown unit \"d\""},
    {NULL, "keep_alive", "", "keep_alive: time: invalid duration"},
    {NULL, "keep_alive_policy", "maybe", "(allowed: override, default)"},
    {NULL, "ping_interval", "-1", "must be a positive duration"},
    {NULL, "ping_interval", "1ms", "is too short"},
    {NULL, "ping_interval", "soon", "ping_interval: time: invalid duration"},
    {NULL, "log_level", "loud", "(allowed: debug, info, warn, error)"},
    {NULL, "max_body_size", "0", "is not a size"},
    {NULL, "max_body_size", "12parsecs", "is not a size"},
    {NULL, "max_body_size", "-5", "is not a size"},
    {NULL, "max_line_size", "9999999G", "is not a size"},
    {NULL, "connect_timeout", "-1", "must be a positive duration"},
    {NULL, "request_timeout", "x", "request_timeout: time: invalid duration"},
    {NULL, "whatever", "1", "unknown key \"whatever\" (allowed: listen,"},
    {"m", "keep_alive", "1w", "keep_alive: time: unknown unit \"w\""},
    {"m", "num_ctx", "lots", "num_ctx: \"lots\" is not an integer"},
    {"m", "num_ctx", "0", "num_ctx: \"0\" is not an integer in 1.."},
    {"m", "max_concurrent", "-1", "max_concurrent: \"-1\" is not an integer in 0..1000000"},
    {NULL, "admin_api", "sometimes",
     "admin_api: \"sometimes\" is not allowed (allowed: allow, deny, keys)"},
    {NULL, "idle_timeout", "10ms", "idle_timeout: \"10ms\" is too short (at least 1s)"},
    {NULL, "shutdown_timeout", "-1", "shutdown_timeout: \"-1\" must be a positive duration"},
    {NULL, "max_concurrent", "x", "max_concurrent: \"x\" is not an integer"},
    {NULL, "retries", "6", "retries: \"6\" is not an integer in 0..5"},
    {NULL, "wait_comment_interval", "1ms", "is too short (at least 100ms)"},
    {"m", "num_gpu", "-2", "num_gpu: \"-2\" is not an integer in -1.."},
    {"m", "num_batch", "99999999999", "is not an integer"},
    {"m", "use_mmap", "maybe", "use_mmap: \"maybe\" is not a boolean"},
    {"m", "num_predict_max", "-1", "num_predict_max: \"-1\" is not an integer"},
    {"m", "temperature", "1", "unknown key \"temperature\" in [model \"m\"]"},
    {"", "num_ctx", "1", "the model name is empty"},
    {NULL, "pin", "caf\xc3", "pin: the value is not valid UTF-8"},
    {"bad\xff", "num_ctx", "1", "the model name is not valid UTF-8"},
};

static void test_every_set_error(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct config c;
        char err[CONFIG_ERR_LEN] = "";
        init(&c);
        int rc = config_set(&c, bad[i][0], bad[i][1], bad[i][2], err, sizeof(err));
        if (rc != -1 || !strstr(err, bad[i][3]))
            fail_msg("row %zu (%s=%s): rc=%d err=\"%s\" want \"%s\"", i, bad[i][1], bad[i][2], rc,
                     err, bad[i][3]);
        config_free(&c);
    }
}

static void test_set_values(void **state) {
    (void)state;
    struct config c;
    char err[CONFIG_ERR_LEN];
    init(&c);
    assert_int_equal(config_set(&c, NULL, "listen", "[::1]:8080", err, sizeof(err)), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(c.listen_port, 8080);
    assert_int_equal(config_set(&c, NULL, "keep_alive", " 10m ", err, sizeof(err)), 0);
    assert_true(c.keep_alive == 600 * DURATION_SECOND);
    assert_int_equal(config_set(&c, NULL, "max_body_size", "64KiB", err, sizeof(err)), 0);
    assert_int_equal(c.max_body, 65536);
    assert_int_equal(
        config_set(&c, NULL, "upstream", "http://al%69ce:p%3A@h:1/x", err, sizeof(err)), 0);
    assert_string_equal(c.upstream, "http://al%69ce:***@h:1/x");
    assert_string_equal(c.upstream_url, "http://al%69ce:p%3A@h:1/x");
    assert_int_equal(config_set(&c, NULL, "upstream_header", "X-A:  a, b ", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, NULL, "upstream_header", "\nAuthorization: Bearer t\r\n\nX-B:c",
                                err, sizeof(err)),
                     0);
    assert_int_equal(c.nupstream_headers, 3); /* each adds one; commas are part of a value */
    assert_string_equal(c.upstream_headers[0], "X-A: a, b");
    assert_string_equal(c.upstream_headers[1], "Authorization: Bearer t");
    assert_string_equal(c.upstream_headers[2], "X-B: c");
    assert_int_equal(config_set(&c, NULL, "pin", "a, b ,,a", err, sizeof(err)), 0);
    assert_int_equal(c.npins, 2); /* empty and duplicate entries dropped */
    assert_int_equal(config_set(&c, "llama3.2", "num_ctx", "8192", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "llama3.2", "use_mmap", "no", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "llama3.2", "keep_alive", "-1", err, sizeof(err)), 0);
    const struct model_conf *m = config_model(&c, "llama3.2:latest");
    assert_non_null(m);
    assert_true(m->has_keep_alive && m->keep_alive == DURATION_FOREVER);
    assert_int_equal(json_integer_value(json_object_get(m->options, "num_ctx")), 8192);
    assert_true(json_is_false(json_object_get(m->options, "use_mmap")));
    assert_null(config_model(&c, "llama3.2:1b"));
    config_free(&c);
}

/* [model] sections match every name Ollama resolves to the same model (modelname.h). */
static void test_model_aliases(void **state) {
    (void)state;
    struct config c;
    char err[CONFIG_ERR_LEN];
    init(&c);
    assert_int_equal(config_set(&c, "llama3.2:1b", "num_ctx", "8192", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "library/qwen3", "max_concurrent", "2", err, sizeof(err)), 0);
    assert_int_equal(config_set(&c, "caf\xc3\xa9", "num_ctx", "512", err, sizeof(err)), 0);
    static const char *const llama[] = {
        "llama3.2:1b",
        "library/llama3.2:1b",
        "registry.ollama.ai/library/llama3.2:1b",
        "LLAMA3.2:1B",
        "https://registry.ollama.ai/library/llama3.2:1b",
        " llama3.2:1b ",
        "llama3.2:1b:local",
    };
    for (size_t i = 0; i < sizeof(llama) / sizeof(llama[0]); i++) {
        const struct model_conf *m = config_model(&c, llama[i]);
        if (!m || strcmp(m->name, "llama3.2:1b") != 0)
            fail_msg("%s: not [model \"llama3.2:1b\"]", llama[i]);
    }
    assert_null(config_model(&c, "llama3.2:3b"));
    assert_null(config_model(&c, "llama3.2:1b:cloud"));
    assert_null(config_model(&c, "llama3.2:1b-cloud"));
    assert_null(config_model(&c, "other/llama3.2:1b"));
    assert_null(config_model(&c, "llama3.2@sha256:0"));
    const struct model_conf *q = config_model(&c, "qwen3:latest");
    assert_non_null(q);
    assert_int_equal(q->max_concurrent, 2);
    assert_ptr_equal(config_model(&c, "QWEN3"), q);
    /* a name Ollama would not resolve matches itself only */
    assert_non_null(config_model(&c, "caf\xc3\xa9"));
    assert_null(config_model(&c, "CAF\xc3\xa9"));
    /* sections naming one model are one section */
    assert_int_equal(config_set(&c, "registry.ollama.ai/library/llama3.2:1b", "num_batch", "64",
                                err, sizeof(err)),
                     0);
    assert_int_equal(c.nmodels, 3);
    assert_int_equal(
        json_integer_value(json_object_get(config_model(&c, "llama3.2:1b")->options, "num_batch")),
        64);
    assert_true(config_names_match("llama3.2:1b", "library/llama3.2:1b"));
    assert_false(config_names_match("llama3.2:1b", "llama3.2:3b"));
    config_free(&c);
}

static void test_list_cap(void **state) {
    (void)state;
    struct config c;
    char err[CONFIG_ERR_LEN], name[32];
    init(&c);
    for (int i = 0; i < CONFIG_MAX_LIST; i++) {
        snprintf(name, sizeof(name), "m%d", i);
        assert_int_equal(config_set(&c, NULL, "pin", name, err, sizeof(err)), 0);
    }
    assert_int_equal(config_set(&c, NULL, "pin", "one-too-many", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 64 entries"));
    for (int i = 0; i < CONFIG_MAX_LIST; i++) {
        snprintf(name, sizeof(name), "model%d", i);
        assert_int_equal(config_set(&c, name, "num_ctx", "1", err, sizeof(err)), 0);
    }
    assert_int_equal(config_set(&c, "extra", "num_ctx", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 64 model sections"));
    char longv[CONFIG_MAX_STRING + 10];
    memset(longv, 'a', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    assert_int_equal(config_set(&c, NULL, "upstream", longv, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than"));
    config_free(&c);
}

static char *write_tmp(const char *text) {
    char *path = strdup("/tmp/kw-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* [model "*"]: its keys apply to every model without a section of its own; a named section
 * overrides key by key, whichever comes first in the file. */
static void test_model_defaults(void **state) {
    (void)state;
    struct config c;
    char err[CONFIG_ERR_LEN];
    char *f = write_tmp("[model \"named\"]\nnum_ctx = 2048\n"
                        "[model \"*\"]\nnum_ctx = 8192\nnum_batch = 256\nkeep_alive = 1h\n"
                        "num_predict_max = 100\nmax_concurrent = 3\n"
                        "[model \"later\"]\nmax_concurrent = 1\n");
    init(&c);
    assert_int_equal(config_load_file(&c, f, err, sizeof(err)), 0);
    const struct model_conf *any = config_model(&c, "unconfigured:7b");
    assert_non_null(any);
    assert_string_equal(any->name, "*");
    assert_int_equal(json_integer_value(json_object_get(any->options, "num_ctx")), 8192);
    assert_true(any->has_keep_alive && any->keep_alive == 3600 * DURATION_SECOND);
    const struct model_conf *named = config_model(&c, "named:latest");
    assert_string_equal(named->name, "named");
    assert_int_equal(json_integer_value(json_object_get(named->options, "num_ctx")), 2048);
    assert_int_equal(json_integer_value(json_object_get(named->options, "num_batch")), 256);
    assert_true(named->has_keep_alive && named->keep_alive == 3600 * DURATION_SECOND);
    assert_int_equal(named->num_predict_max, 100);
    assert_int_equal(named->max_concurrent, 3);
    const struct model_conf *later = config_model(&c, "later");
    assert_int_equal(json_integer_value(json_object_get(later->options, "num_ctx")), 8192);
    assert_int_equal(later->max_concurrent, 1);
    assert_int_equal(later->num_predict_max, 100);
    /* "*" is no model name: no model resolves to it by name, and no name lookup is NULL */
    assert_null(config_model(&c, NULL));
    assert_int_equal(config_names_match("*", "named"), 0);
    config_free(&c);
    init(&c);
    assert_null(config_model(&c, "m")); /* no sections at all */
    assert_int_equal(config_set(&c, "*", "temperature", "1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown key \"temperature\" in [model \"*\"]"));
    config_free(&c);
    unlink(f);
    free(f);
}

static void test_file(void **state) {
    (void)state;
    struct config c;
    char err[CONFIG_ERR_LEN];
    char *good = write_tmp("[keepwarm]\nkeep_alive = 24h ; a comment\npin = llama3.2:3b, nomic\n"
                           "[model \"llama3.2:3b\"]\nnum_ctx = 8192\n");
    init(&c);
    assert_int_equal(config_load_file(&c, good, err, sizeof(err)), 0);
    assert_true(c.keep_alive == 86400 * DURATION_SECOND);
    assert_int_equal(c.npins, 2);
    assert_string_equal(c.pins[1], "nomic");
    assert_int_equal(c.nmodels, 1);
    config_free(&c);

    char *badf = write_tmp("[keepwarm]\n\nlisten = 127.0.0.1:1\nkeep_alive = 1d\n");
    init(&c);
    assert_int_equal(config_load_file(&c, badf, err, sizeof(err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:4: keep_alive: time: unknown unit \"d\"", badf);
    assert_non_null(strstr(err, want));
    config_free(&c);

    char *sect = write_tmp("[model m]\nnum_ctx = 1\n");
    init(&c);
    assert_int_equal(config_load_file(&c, sect, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: unknown section [model m]"));
    config_free(&c);

    /* A line longer than libinih's buffer is refused whole: its tail is never a setting. */
    char longline[512];
    snprintf(longline, sizeof(longline), "[keepwarm]\nupstream_header = X-T: %0*d keep_alive = 0\n",
             300, 0);
    char *longf = write_tmp(longline);
    init(&c);
    int64_t ka = c.keep_alive;
    assert_int_equal(config_load_file(&c, longf, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":2: line longer than 199 bytes"));
    assert_true(c.keep_alive == ka);
    config_free(&c);
    /* 199 bytes and its newline still fit. */
    snprintf(longline, sizeof(longline), "[keepwarm]\nupstream_header = X-T: %0*d\n",
             199 - (int)strlen("upstream_header = X-T: "), 7);
    char *fits = write_tmp(longline);
    init(&c);
    assert_int_equal(config_load_file(&c, fits, err, sizeof(err)), 0);
    assert_int_equal(c.nupstream_headers, 1);
    config_free(&c);
    unlink(longf);
    unlink(fits);
    free(longf);
    free(fits);

    init(&c);
    assert_int_equal(config_load_file(&c, "/nonexistent/kw.ini", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/kw.ini: cannot open"));
    config_free(&c);
    unlink(good);
    unlink(badf);
    unlink(sect);
    free(good);
    free(badf);
    free(sect);
}

static void test_layers(void **state) {
    (void)state;
    struct config c;
    enum config_action action;
    char err[CONFIG_ERR_LEN];
    char *f = write_tmp("[keepwarm]\npin = a, b\nkeep_alive = 5m\nlisten = 127.0.0.1:1111\n");
    char cfg_env[256];
    snprintf(cfg_env, sizeof(cfg_env), "KEEPWARM_CONFIG=%s", f);
    char *envp[] = {cfg_env, "KEEPWARM_PIN=c", "KEEPWARM_KEEP_ALIVE=10m", "KEEPWARM_UNRELATED=1",
                    NULL};
    char *argv[] = {"keepwarm", "--keep-alive", "1h", "--pin", "x", "--pin", "y", NULL};
    assert_int_equal(config_load(&c, 7, argv, envp, &action, err, sizeof(err)), 0);
    assert_int_equal(action, CONFIG_RUN);
    assert_int_equal(c.listen_port, 1111);               /* file */
    assert_true(c.keep_alive == 3600 * DURATION_SECOND); /* flag beats env beats file */
    assert_int_equal(c.npins, 2);                        /* flags replace env's list */
    assert_string_equal(c.pins[0], "x");
    assert_string_equal(c.pins[1], "y");
    config_free(&c);

    char *argv2[] = {"keepwarm", "--check", NULL};
    char *envp2[] = {cfg_env, "KEEPWARM_PIN=c", NULL};
    assert_int_equal(config_load(&c, 2, argv2, envp2, &action, err, sizeof(err)), 0);
    assert_int_equal(action, CONFIG_CHECK);
    assert_int_equal(c.npins, 1); /* env replaces the file's list */
    assert_string_equal(c.pins[0], "c");
    config_free(&c);

    char *argv3[] = {"keepwarm", "--nope", NULL};
    assert_int_equal(config_load(&c, 2, argv3, NULL, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown option \"--nope\""));
    char *argv4[] = {"keepwarm", "--listen", NULL};
    assert_int_equal(config_load(&c, 2, argv4, NULL, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "needs a value"));
    /* https needs libcurl: refused with the builtin client forced, and a key needs its cert */
    char *argvh[] = {"keepwarm", "--upstream", "https://127.0.0.1:8443", NULL};
    char *envph[] = {"KEEPWARM_UPSTREAM_CLIENT=builtin", NULL};
    assert_int_equal(config_load(&c, 3, argvh, envph, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "upstream_client: builtin speaks plain http:// only"));
    char *envpk[] = {"KEEPWARM_UPSTREAM_CLIENT_KEY=/k.pem", NULL};
    assert_int_equal(config_load(&c, 3, argvh, envpk, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "set upstream_client_cert too"));
    char *envpc[] = {"KEEPWARM_UPSTREAM_CA_FILE=/ca.pem", "KEEPWARM_UPSTREAM_INSECURE=yes", NULL};
    assert_int_equal(config_load(&c, 3, argvh, envpc, &action, err, sizeof(err)), 0);
    assert_string_equal(c.upstream, "https://127.0.0.1:8443");
    assert_string_equal(c.upstream_ca_file, "/ca.pem");
    assert_int_equal(c.upstream_insecure, 1);
    assert_int_equal(c.upstream_client, 0); /* auto */
    config_free(&c);
    char *argv5[] = {"keepwarm", "stray", NULL};
    assert_int_equal(config_load(&c, 2, argv5, NULL, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unexpected argument \"stray\""));
    char *argv6[] = {"keepwarm", "--ping-interval", "0", NULL};
    assert_int_equal(config_load(&c, 3, argv6, NULL, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--ping-interval: ping_interval:"));
    char *envp7[] = {"KEEPWARM_LOG_LEVEL=loud", NULL};
    assert_int_equal(config_load(&c, 1, argv, envp7, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "KEEPWARM_LOG_LEVEL: log_level:"));
    char *argv8[] = {"keepwarm", "--version", NULL};
    assert_int_equal(config_load(&c, 2, argv8, NULL, &action, err, sizeof(err)), 0);
    assert_int_equal(action, CONFIG_VERSION);
    config_free(&c);
    unlink(f);
    free(f);
}

static void test_keys_file(void **state) {
    (void)state;
    struct config c;
    enum config_action action;
    char err[CONFIG_ERR_LEN];
    char *keys = write_tmp("# keys\nsk-first-key\n\n  sk-second-key  \nsk-first-key\n");
    char setting[256];
    snprintf(setting, sizeof(setting), "KEEPWARM_API_KEYS_FILE=%s", keys);
    char *envp[] = {setting, "KEEPWARM_API_KEYS=sk-env-key-1", NULL};
    char *argv[] = {"keepwarm", NULL};
    assert_int_equal(config_load(&c, 1, argv, envp, &action, err, sizeof(err)), 0);
    assert_int_equal(c.napi_keys, 3);
    assert_string_equal(c.api_keys[0], "sk-env-key-1");
    assert_string_equal(c.api_keys[2], "sk-second-key");
    config_free(&c);
    char *short_file = write_tmp("short\n");
    snprintf(setting, sizeof(setting), "KEEPWARM_API_KEYS_FILE=%s", short_file);
    char *envp2[] = {setting, NULL};
    assert_int_equal(config_load(&c, 1, argv, envp2, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":1: an API key must be at least 8 characters"));
    char *envp3[] = {"KEEPWARM_API_KEYS_FILE=/nonexistent/keys", NULL};
    assert_int_equal(config_load(&c, 1, argv, envp3, &action, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "api_keys_file: /nonexistent/keys: cannot open"));
    unlink(keys);
    unlink(short_file);
    free(keys);
    free(short_file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_ollama_host),
        cmocka_unit_test(test_every_set_error),
        cmocka_unit_test(test_set_values),
        cmocka_unit_test(test_list_cap),
        cmocka_unit_test(test_model_aliases),
        cmocka_unit_test(test_file),
        cmocka_unit_test(test_model_defaults),
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_keys_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
