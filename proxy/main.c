/* main: options, startup, signals and ordered teardown. Owns the event base, the libcurl
 * global state, the configuration, and the server/upstream/warm objects. */
#include <curl/curl.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "upstream.h"
#include "warm.h"

#ifndef KEEPWARM_VERSION
#define KEEPWARM_VERSION "0.0.0"
#endif

extern char **environ;

struct app {
    struct event_base *base;
    struct config cfg;
    struct upstream *up;
    struct server *srv;
    struct warm *warm;
    struct event *sigint, *sigterm;
};

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    (void)what;
    log_info("msg=\"stopping\" signal=%d active=%llu", (int)sig, server_active(a->srv));
    event_base_loopexit(a->base, NULL);
}

static struct upstream_opts upstream_opts_from(const struct config *c)
{
    struct upstream_opts o = {
        .connect_timeout_ms = (long)(c->connect_timeout / 1000000),
        .timeout_ms = (long)(c->request_timeout / 1000000),
    };
    return o;
}

int main(int argc, char **argv)
{
    struct app a;
    enum config_action action;
    char err[CONFIG_ERR_LEN];
    int rc = 1;

    memset(&a, 0, sizeof(a));
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
        printf("keepwarm %s (libevent %s, %s, jansson %s)\n", KEEPWARM_VERSION,
               event_get_version(), curl_version(), JANSSON_VERSION);
        config_free(&a.cfg);
        return 0;
    }
    if (action == CONFIG_CHECK) {
        printf("keepwarm: configuration OK (listen %s:%d, upstream %s, %zu pinned, %zu models)\n",
               a.cfg.listen_host, a.cfg.listen_port, a.cfg.upstream, a.cfg.npins, a.cfg.nmodels);
        config_free(&a.cfg);
        return 0;
    }
    log_set_level(a.cfg.log_level);
    log_hook_libevent();
    signal(SIGPIPE, SIG_IGN);
    srandom((unsigned)time(NULL) ^ (unsigned)getpid());

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("msg=\"cannot initialise libcurl\"");
        goto out;
    }
    if (!(a.base = event_base_new())) {
        log_error("msg=\"cannot create event base\"");
        goto out;
    }
    struct upstream_opts uo = upstream_opts_from(&a.cfg);
    if (!(a.up = upstream_new(a.base, a.cfg.upstream, &uo, err, sizeof(err)))) {
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
    if (!a.sigint || !a.sigterm || evsignal_add(a.sigint, NULL) < 0 ||
        evsignal_add(a.sigterm, NULL) < 0) {
        log_error("msg=\"cannot install signal handlers\"");
        goto out;
    }
    log_info("msg=\"listening\" addr=%s:%d upstream=%s version=%s", a.cfg.listen_host,
             server_port(a.srv), a.cfg.upstream, KEEPWARM_VERSION);
    warm_start(a.warm);
    event_base_dispatch(a.base);
    rc = 0;
out:
    warm_free(a.warm);
    server_free(a.srv);
    upstream_free(a.up);
    if (a.sigint)
        event_free(a.sigint);
    if (a.sigterm)
        event_free(a.sigterm);
    if (a.base)
        event_base_free(a.base);
    curl_global_cleanup();
    libevent_global_shutdown();
    config_free(&a.cfg);
    return rc;
}
