/*
 * config.h — the server's settings, from one declarative table of options.
 *
 * Precedence: command-line flags > environment (DEPOT_<NAME>, dashes as
 * underscores) > config file (--config FILE or DEPOT_CONFIG; `name = value`
 * lines, # comments) > defaults. `depot serve --help` prints the table.
 * The fronts add their own options (ecosystem.h): the loader loops over the
 * table of fronts, so a front's option works in all four places too.
 */
#ifndef DEPOT_CONFIG_H
#define DEPOT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "../lib/err.h"

/* What a route's requests spend, each class a bucket per key (SECURITY.md has the table):
 * authentication (login, register, password reset; per IP whoever calls), publishing (the
 * uploads of a version or its docs), other writes, search, reads (metadata and downloads).
 * RL_OTHER is no class of its own: a GET or HEAD that does not write is a read, the rest a
 * write (router.h's route_rate_class). */
enum rl_class { RL_AUTH, RL_PUBLISH, RL_WRITE, RL_SEARCH, RL_READ, RL_NCLASS, RL_NONE = -1, RL_OTHER = -2 };

/* The most entries the table of fronts may have. */
#define CONFIG_FRONTS_MAX 16

typedef struct config {
    const char *listen;      /* HOST:PORT */
    const char *data;        /* data folder */
    const char *base_url;    /* public URL, no trailing slash */
    bool base_url_derived;   /* base_url was made from listen (so port 0 becomes the bound port) */
    const char *store_url;   /* sqlite:PATH (default DATA/depot.db) */
    const char *blob_url;    /* file:DIR (default DATA/blobs) or s3://BUCKET... (tmp= defaults to DATA/s3-tmp) */
    bool blob_redirect;      /* downloads answered with a 302 to a presigned URL (S3 only) */
    const char *redis_url;   /* shared rate limits ("" → per process) */
    const char *config_file;
    const char *log_level, *log_format;
    long threads;            /* HTTP event threads (0: one per core) */
    long workers;            /* threads for slow work: password hashing (0: one per core) */
    long max_body;           /* JSON bodies */
    long max_upload;         /* package uploads */
    long max_url, max_headers;
    long max_connections, max_connections_per_ip;
    long connection_timeout, request_timeout, shutdown_timeout;
    const char *tls_cert, *tls_key; /* PEM files for HTTPS ("" both: plain HTTP) */
    bool https;               /* browsers reach this server over HTTPS: TLS here, or an https:// --base-url
                               * (a TLS-terminating proxy); HSTS and Secure cookies follow */
    const char *cors_origins; /* comma-separated, "" none, "*" any */
    const char *trusted_proxies; /* networks whose X-Forwarded-For names the client ("" none) */
    const char *registration; /* open | closed */
    bool private_mode;
    const char *jwt_secret;   /* "" → generated and kept in DATA/jwt.key */
    long jwt_ttl;
    bool rate_limit;
    long rate[RL_NCLASS][2];  /* [class][0 requests an hour sustained, 1 burst]; 0: unlimited */
    long login_failures;      /* failed password checks an account may take in any login_lock seconds */
    long login_lock;          /* (0 failures: no account lock) */
    long argon2_ops, argon2_mem;
    long cache_size;          /* MiB budget of the document cache */
    long auth_cache_ttl;      /* seconds a checked credential is trusted without the store (0: off) */
    long unpublish_window;    /* seconds after publish during which a version may be removed (0: never) */
    const char *docs_url;     /* separate origin for hosted docs ("" → served under /docs on this server) */
    const char *server_name;  /* what people see: page titles, mail sender name and subjects */
    const char *smtp_url;     /* smtp://HOST:PORT or smtps://... for mail ("" → no mail) */
    const char *smtp_from;    /* sender address ("" → depot@<base URL host>) */
    /* The options of the fronts, one block per entry of the table of fronts (ecosystem.h's
     * opts), made by config_load and freed by config_free; read them with config_eco(). */
    void *eco_opts[CONFIG_FRONTS_MAX];
    char *owned[48];          /* strings made while loading, freed by config_free */
    int nowned;
} config;

/* One option: its name (the flag --NAME, the config-file key, and DEPOT_NAME upper-cased with
 * dashes as underscores), type, default, where it lands (an offset into struct config, or into
 * a front's block), its bounds (numbers) and its help line. */
enum config_type { CONFIG_STR, CONFIG_LONG, CONFIG_BOOL };
typedef struct config_opt {
    const char *name;
    enum config_type type;
    const char *def;
    size_t off;
    long min, max;
    const char *help;
} config_opt;

/* The block of a front's options (ecosystem.h), as config_load filled it; NULL when the settings
 * were not loaded (a config made by hand). Borrowed from c. */
struct eco_desc;
void *config_eco(const config *c, const struct eco_desc *eco);
/* Puts a block of a front's options into a config made by hand (tests). Borrowed. */
void config_set_eco(config *c, const struct eco_desc *eco, void *opts);

/* Fills c from defaults, file, environment and argv (argv[0] is the command name).
 * Options the table does not know, and positional words, are copied in order to
 * rest[] (*nrest of them; rest must hold argc entries) when rest is not NULL,
 * otherwise they are an error. Returns 0, 1 when --help was asked (printed to out),
 * or -1 with e filled. */
int config_load(config *c, int argc, char **argv, char **rest, int *nrest, FILE *out, derr *e);

/* Frees what config_load made. */
void config_free(config *c);

/* Prints the option table (used by --help). */
void config_usage(FILE *out);

#endif
