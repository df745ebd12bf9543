/* main: options, startup, signals and ordered teardown. Owns the event base, the
 * configuration, and the server/upstream/warm objects. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "duration.h"
#include "log.h"
#include "server.h"
#include "upstream.h"
#include "warm.h"

#ifndef KEEPWARM_VERSION
#define KEEPWARM_VERSION "0.0.0"
#endif

#define DRAIN_TICK_MS 50  /* while stopping: how often the drain checks what is still active */
#define LOG_TICK_MS   250 /* how often buffered access lines are written (4 times a second) */

extern char **environ;

struct app {
    int argc;
    char **argv;
    struct event_base *base;
    struct config cfg; /* its address is shared with every module; a reload swaps contents */
    struct upstream *up;
    struct server *srv;
    struct warm *warm;
    struct event *sigint, *sigterm, *sighup;
    struct event *drain;    /* polls in-flight requests while stopping */
    struct event *logtick;  /* writes buffered access lines */
    struct timeval stop_at; /* shutdown_timeout deadline */
    int stopping;
};

/* hdrs: CONFIG_MAX_LIST + 1 slots for the NULL-terminated upstream_header list (copied by
 * upstream_new and upstream_set_base). */
/* Said at start and at every reload, so an operator reading either sees it. */
static void warn_insecure(const struct config *c) {
    if (c->upstream_insecure)
        log_warn("msg=\"upstream_insecure = yes: Ollama's TLS certificate and name are not "
                 "checked\"");
}

static struct upstream_opts upstream_opts_from(const struct config *c, const char **hdrs);

static void on_log_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    log_flush();
}

/* While stopping: exit once nothing is in flight, or when shutdown_timeout has passed (then
 * teardown cancels what is left: evhttp_free closes the clients, relays cancel Ollama). */
static void on_drain_tick(evutil_socket_t fd, short what, void *arg) {
    struct app *a = arg;
    struct timeval now;
    (void)fd;
    (void)what;
    gettimeofday(&now, NULL);
    unsigned long long active = server_active(a->srv);
    if (active == 0) {
        log_info("msg=\"drained, exiting\"");
        event_base_loopexit(a->base, NULL);
    } else if (timercmp(&now, &a->stop_at, >=)) {
        log_warn("msg=\"shutdown_timeout reached, cancelling\" active=%llu", active);
        event_base_loopexit(a->base, NULL);
    }
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg) {
    struct app *a = arg;
    (void)what;
    if (a->stopping) {
        log_warn("msg=\"second signal, exiting now\" signal=%d", (int)sig);
        event_base_loopexit(a->base, NULL);
        return;
    }
    a->stopping = 1;
    server_stop_accepting(a->srv);
    struct timeval now, limit = {(time_t)(a->cfg.shutdown_timeout / 1000000000),
                                 (suseconds_t)(a->cfg.shutdown_timeout % 1000000000 / 1000)};
    gettimeofday(&now, NULL);
    timeradd(&now, &limit, &a->stop_at);
    log_info("msg=\"stopping: no new connections, draining\" signal=%d active=%llu "
             "shutdown_timeout_ms=%lld",
             (int)sig, server_active(a->srv), (long long)(a->cfg.shutdown_timeout / 1000000));
    struct timeval tick = {0, DRAIN_TICK_MS * 1000};
    a->drain = event_new(a->base, -1, EV_PERSIST, on_drain_tick, a);
    if (!a->drain || event_add(a->drain, &tick) < 0)
        event_base_loopexit(a->base, NULL);
    else
        on_drain_tick(-1, 0, a);
}

/* SIGHUP: re-read the configuration the way startup read it. A bad one keeps the old. */
static void on_reload_signal(evutil_socket_t sig, short what, void *arg) {
    struct app *a = arg;
    struct config fresh;
    enum config_action action;
    char err[CONFIG_ERR_LEN];
    (void)sig;
    (void)what;
    if (config_load(&fresh, a->argc, a->argv, environ, &action, err, sizeof(err)) < 0) {
        log_error("msg=\"reload failed, keeping the running configuration\" error=\"%s\"", err);
        return;
    }
    if (strcmp(fresh.listen_host, a->cfg.listen_host) != 0 ||
        fresh.listen_port != a->cfg.listen_port)
        log_warn("msg=\"listen address changes need a restart\" running=%s:%d", a->cfg.listen_host,
                 a->cfg.listen_port);
    /* An upstream the client cannot use (startup would refuse it) makes the whole file bad:
     * keeping the old upstream under the new file's name would show that name in /status and
     * in every 502 while requests still go to the old one. upstream copies what it keeps. */
    const char *hdrs[CONFIG_MAX_LIST + 1];
    struct upstream_opts uo = upstream_opts_from(&fresh, hdrs);
    if (upstream_set_base(a->up, fresh.upstream_url, &uo) < 0) {
        log_error("msg=\"reload failed, keeping the running configuration\" error=\"cannot use "
                  "the upstream %s\"",
                  fresh.upstream);
        config_free(&fresh);
        return;
    }
    config_free(&a->cfg);
    a->cfg = fresh; /* same address: every module sees the new values */
    log_set_level(a->cfg.log_level);
    warn_insecure(&a->cfg);
    server_reconfigure(a->srv);
    warm_set_config(a->warm, &a->cfg);
    char ka[32];
    duration_format(a->cfg.keep_alive, ka, sizeof(ka));
    log_info("msg=\"configuration reloaded\" upstream=%s keep_alive=%s pinned=%zu api_keys=%zu",
             a->cfg.upstream, ka, a->cfg.npins, a->cfg.napi_keys);
}

static struct upstream_opts upstream_opts_from(const struct config *c, const char **hdrs) {
    size_t n = 0;
    for (; n < c->nupstream_headers && n < CONFIG_MAX_LIST; n++)
        hdrs[n] = c->upstream_headers[n];
    hdrs[n] = NULL;
    struct upstream_opts o = {
        .connect_timeout_ms = (long)(c->connect_timeout / 1000000),
        .timeout_ms = (long)(c->request_timeout / 1000000),
        .read_timeout_ms = (long)(c->read_timeout / 1000000),
        .client = (enum upstream_client)c->upstream_client,
        .ca_file = c->upstream_ca_file,
        .client_cert = c->upstream_client_cert,
        .client_key = c->upstream_client_key,
        .insecure = c->upstream_insecure,
        .idle_timeout_ms = (long)(c->upstream_idle_timeout / 1000000),
        .extra_headers = hdrs,
    };
    return o;
}

int main(int argc, char **argv) {
    struct app a;
    enum config_action action;
    char err[CONFIG_ERR_LEN];
    int rc = 1;

    memset(&a, 0, sizeof(a));
    a.argc = argc;
    a.argv = argv;
    if (config_load(&a.cfg, argc, argv, environ, &action, err, sizeof(err)) < 0) {
        fprintf(stderr, "keepwarm: %s\n", err);
        return 2;
    }
    if (action == CONFIG_HELP) {
        fputs(config_usage(), stdout);
        config_free(&a.cfg);
        return 0;
    }
    if (action == CONFIG_VERSION) {
        printf("keepwarm %s (libevent %s, jansson %s)\n", KEEPWARM_VERSION, event_get_version(),
               JANSSON_VERSION);
        config_free(&a.cfg);
        return 0;
    }
    if (action == CONFIG_CHECK) {
        printf("keepwarm: configuration OK (listen %s:%d, upstream %s, %zu pinned, %zu models, %zu "
               "upstream headers)\n",
               a.cfg.listen_host, a.cfg.listen_port, a.cfg.upstream, a.cfg.npins, a.cfg.nmodels,
               a.cfg.nupstream_headers);
        config_free(&a.cfg);
        return 0;
    }
    log_set_level(a.cfg.log_level);
    log_hook_libevent();
    signal(SIGPIPE, SIG_IGN);
    /* Each stream holds two sockets (client and Ollama): take all the descriptors we may. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    /* The epoll changelist folds the switches made in one loop turn into one epoll_ctl or none:
     * evhttp turns a client's reading off and the relay on again, chunkw writes a reply in the
     * turn that made it and turns writing off again. keepwarm never dup()s a descriptor, the
     * one case the changelist gets wrong (event.h). */
    struct event_config *ecfg = event_config_new();
    if (ecfg)
        event_config_set_flag(ecfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    a.base = ecfg ? event_base_new_with_config(ecfg) : NULL;
    if (ecfg)
        event_config_free(ecfg);
    if (!a.base) {
        log_error("msg=\"cannot create event base\"");
        goto out;
    }
    const char *hdrs[CONFIG_MAX_LIST + 1];
    struct upstream_opts uo = upstream_opts_from(&a.cfg, hdrs);
    if (!(a.up = upstream_new(a.base, a.cfg.upstream_url, &uo, err, sizeof(err)))) {
        log_error("msg=\"%s\"", err);
        goto out;
    }
    if (!(a.srv = server_new(a.base, &a.cfg, a.up, err, sizeof(err)))) {
        log_error("msg=\"%s\"", err);
        goto out;
    }
    if (!(a.warm = warm_new(a.base, &a.cfg, a.up))) {
        log_error("msg=\"cannot create the warm loop\"");
        goto out;
    }
    server_set_warm(a.srv, a.warm);
    a.sigint = evsignal_new(a.base, SIGINT, on_stop_signal, &a);
    a.sigterm = evsignal_new(a.base, SIGTERM, on_stop_signal, &a);
    a.sighup = evsignal_new(a.base, SIGHUP, on_reload_signal, &a);
    if (!a.sigint || !a.sigterm || !a.sighup || evsignal_add(a.sigint, NULL) < 0 ||
        evsignal_add(a.sigterm, NULL) < 0 || evsignal_add(a.sighup, NULL) < 0) {
        log_error("msg=\"cannot install signal handlers\"");
        goto out;
    }
    log_info("msg=\"listening\" addr=%s:%d upstream=%s version=%s", a.cfg.listen_host,
             server_port(a.srv), a.cfg.upstream, KEEPWARM_VERSION);
    warn_insecure(&a.cfg);
    struct timeval quarter = {0, LOG_TICK_MS * 1000};
    a.logtick = event_new(a.base, -1, EV_PERSIST, on_log_tick, NULL);
    if (a.logtick)
        event_add(a.logtick, &quarter);
    warm_start(a.warm);
    event_base_dispatch(a.base);
    rc = 0;
out:
    /* The loop has stopped. Relays still alive (shutdown_timeout) are freed by server_free;
     * their on-2xx hook reaches the warm loop through the server, cut off first. */
    if (a.srv)
        server_set_warm(a.srv, NULL);
    warm_free(a.warm);
    server_free(a.srv);
    upstream_free(a.up);
    if (a.sigint)
        event_free(a.sigint);
    if (a.sigterm)
        event_free(a.sigterm);
    if (a.sighup)
        event_free(a.sighup);
    if (a.drain)
        event_free(a.drain);
    if (a.logtick)
        event_free(a.logtick);
    log_flush();
    if (a.base)
        event_base_free(a.base);
    libevent_global_shutdown();
    config_free(&a.cfg);
    return rc;
}
