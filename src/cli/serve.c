/*
 * serve.c — `depot serve`: load the settings, open the registry, serve
 * until SIGTERM or SIGINT, then stop gracefully and exit 0.
 *
 * Signals are blocked in every thread and taken by sigwait() on the main
 * thread, so no handler ever runs inside libmicrohttpd or SQLite.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "../core/core_int.h"
#include "../core/documents.h"
#include "../core/downloads.h"
#include "../core/ecosystem.h"
#include "../http/server.h"
#include "../lib/log.h"
#include "cli.h"

int cli_serve(int argc, char **argv)
{
    config cfg;
    derr e;
    int rc = config_load(&cfg, argc, argv, NULL, NULL, stdout, &e);
    if (rc != 0) {
        config_free(&cfg);
        if (rc < 0)
            fprintf(stderr, "depot serve: %s\n", e.message);
        return rc < 0 ? 2 : 0;
    }
    log_set_level(cfg.log_level);
    log_set_format(cfg.log_format);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    core c;
    if (core_open(&c, &cfg, &e) < 0) {
        log_error("cannot open the registry", "error", e.message, NULL);
        config_free(&cfg);
        return 1;
    }
    /* The fronts' start-up hooks (keys made at first start, ...), before the first request. */
    if (ecosystems_start(&cfg, &e) < 0) {
        log_error("cannot start a front", "error", e.message, NULL);
        core_close(&c);
        config_free(&cfg);
        return 1;
    }
    documents_init((size_t)cfg.cache_size << 20);
    downloads_start(c.st, 5000);
    server *s = server_new(&cfg, &c, &e);
    if (!s || server_start(s, &e) < 0) {
        log_error("cannot start the server", "error", e.message, NULL);
        server_free(s);
        downloads_stop();
        core_close(&c);
        config_free(&cfg);
        return 1;
    }
    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig != SIGHUP)
            break;
        log_info("SIGHUP ignored (restart to change settings)", NULL);
    }
    log_info("shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
    server_stop(s);
    server_free(s);
    downloads_stop();
    documents_shutdown();
    core_close(&c);
    log_info("stopped", NULL);
    config_free(&cfg);
    return 0;
}
