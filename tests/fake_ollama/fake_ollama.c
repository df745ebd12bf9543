/* fake_ollama: a stand-in for Ollama's native API, used by keepwarm's integration tests and
 * benchmarks. This file owns the process: flags, the event loop, signals (TERM/INT exit 0 after
 * freeing everything) and the order of teardown. See README.md in this directory. */
#include "catalog.h"
#include "control.h"
#include "fake.h"
#include "flog.h"
#include "gen.h"
#include "goduration.h"
#include "http.h"
#include "sched.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fake_stats_bump(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: fake_ollama [--listen HOST:PORT] [--token-delay MS] [--load-delay MS]\n"
            "                   [--keep-alive DURATION] [--max-loaded N] [--models SPEC]\n"
            "                   [--log-level debug|info|warn|error]\n"
            "A stand-in for Ollama's native API (version %s). Prints \"listening HOST:PORT\"\n"
            "once ready; test controls live under /_fake/ (see tests/fake_ollama/README.md).\n"
            "  --listen      default 127.0.0.1:11434; port 0 picks a free port\n"
            "  --token-delay milliseconds between streamed tokens (default 0)\n"
            "  --load-delay  milliseconds a cold model load takes (default 0)\n"
            "  --keep-alive  server default keep-alive, OLLAMA_KEEP_ALIVE syntax (default 5m)\n"
            "  --max-loaded  OLLAMA_MAX_LOADED_MODELS (default 3; 0 = no limit)\n"
            "  --models      name[:tag][=cap+cap],... (default %s)\n",
            FAKE_OLLAMA_VERSION, CATALOG_DEFAULT_MODELS);
}

static int parse_ms(const char *flag, const char *s, int64_t max, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < 0 || v > max) {
        fprintf(stderr, "fake_ollama: %s wants an integer between 0 and %lld, got \"%s\"\n", flag,
                (long long)max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_listen(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon = strrchr(s, ':');
    const char *h = s, *p = colon ? colon + 1 : s;
    size_t hl = colon ? (size_t)(colon - s) : 0;
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (!colon || hl == 0)
        h = "127.0.0.1", hl = strlen(h);
    char *end = NULL;
    long v = strtol(p, &end, 10);
    if (!*p || *end || v < 0 || v > 65535 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)v;
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    struct fake *f = arg;
    flog_info("msg=\"stopping\" signal=%d", (int)sig);
    event_base_loopbreak(f->base);
}

int main(int argc, char **argv) {
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"token-delay", required_argument, NULL, 't'},
        {"load-delay", required_argument, NULL, 'd'},
        {"keep-alive", required_argument, NULL, 'k'},
        {"max-loaded", required_argument, NULL, 'n'},
        {"models", required_argument, NULL, 'm'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct fake f;
    memset(&f, 0, sizeof(f));
    f.cfg.keep_alive_ns = 5 * 60 * GODURATION_SECOND;
    f.cfg.max_loaded = 3;
    const char *listen = "127.0.0.1:11434", *models = CATALOG_DEFAULT_MODELS;
    char err[512], host[256];
    int port, c, rc = 1;
    int64_t v;
    enum flog_level level = FLOG_WARN;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
            case 'l':
                listen = optarg;
                break;
            case 't':
                if (parse_ms("--token-delay", optarg, 3600000, &f.cfg.token_delay_ms) != 0)
                    return 2;
                break;
            case 'd':
                if (parse_ms("--load-delay", optarg, 3600000, &f.cfg.load_delay_ms) != 0)
                    return 2;
                break;
            case 'k':
                if (goduration_parse_config(optarg, &f.cfg.keep_alive_ns, err, sizeof(err)) != 0) {
                    fprintf(stderr, "fake_ollama: --keep-alive: %s\n", err);
                    return 2;
                }
                break;
            case 'n':
                if (parse_ms("--max-loaded", optarg, CATALOG_MAX_MODELS, &v) != 0)
                    return 2;
                f.cfg.max_loaded = (int)v;
                break;
            case 'm':
                models = optarg;
                break;
            case 'L':
                if (flog_level_parse(optarg, &level) != 0) {
                    fprintf(stderr, "fake_ollama: --log-level: debug, info, warn or error\n");
                    return 2;
                }
                break;
            case 'h':
                usage(stdout);
                return 0;
            default:
                usage(stderr);
                return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fake_ollama: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }
    if (parse_listen(listen, host, sizeof(host), &port) != 0) {
        fprintf(stderr, "fake_ollama: --listen wants HOST:PORT, got \"%s\"\n", listen);
        return 2;
    }
    flog_set_level(level);
    flog_hook_libevent();
    f.cfg_start = f.cfg;
    signal(SIGPIPE, SIG_IGN);

    struct event *sigterm = NULL, *sigint = NULL;
    if (catalog_new(models, &f.catalog, err, sizeof(err)) != 0) {
        fprintf(stderr, "fake_ollama: %s\n", err);
        return 2;
    }
    f.base = event_base_new();
    f.stats.loads = json_object();
    f.stats.unloads = json_object();
    f.empty = json_object();
    if (!f.base || !f.stats.loads || !f.stats.unloads || !f.empty)
        goto out;
    f.sched = sched_new(&f);
    f.control = control_new(&f);
    sigterm = evsignal_new(f.base, SIGTERM, on_signal, &f);
    sigint = evsignal_new(f.base, SIGINT, on_signal, &f);
    if (!f.sched || !f.control || !sigterm || !sigint || evsignal_add(sigterm, NULL) != 0 ||
        evsignal_add(sigint, NULL) != 0)
        goto out;
    if (http_start(&f, host, port, err, sizeof(err)) != 0) {
        fprintf(stderr, "fake_ollama: %s\n", err);
        goto out;
    }
    event_base_dispatch(f.base);
    rc = 0;
out:
    http_stop(&f); /* closes connections: their gens see the close and free themselves */
    gen_free_all(&f);
    sched_free(f.sched);
    control_free(f.control);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    json_decref(f.stats.loads);
    json_decref(f.stats.unloads);
    json_decref(f.empty);
    catalog_free(f.catalog);
    if (f.base)
        event_base_free(f.base);
    libevent_global_shutdown();
    return rc;
}
