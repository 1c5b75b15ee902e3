/*
 * config.h — the server's settings, from one declarative table of options.
 *
 * Precedence: command-line flags > environment (DEPOT_<NAME>, dashes as
 * underscores) > config file (--config FILE or DEPOT_CONFIG; `name = value`
 * lines, # comments) > defaults. `depot serve --help` prints the table.
 */
#ifndef DEPOT_CONFIG_H
#define DEPOT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "../lib/err.h"

enum rl_class { RL_SEARCH, RL_DOWNLOAD, RL_PUBLISH, RL_OTHER, RL_NCLASS, RL_NONE = -1 };

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
    long rate[RL_NCLASS][2];  /* [class][0 anonymous, 1 authenticated] per hour; 0: none */
    long argon2_ops, argon2_mem;
    long cache_size;          /* MiB budget of the document cache */
    long auth_cache_ttl;      /* seconds a checked credential is trusted without the store (0: off) */
    const char *hex_repo;     /* the Hex repository's name, signed into every registry resource */
    const char *hex_key;      /* PEM private key path ("" → DATA/hex_repo_key.pem, made at first start) */
    long hex_max_tarball;     /* largest Hex package tarball, bytes */
    long hex_max_uncompressed; /* largest expansion of a Hex package's contents.tar.gz, bytes */
    long unpublish_window;    /* seconds after publish during which a version may be removed (0: never) */
    long upload_ttl;          /* seconds a two-step upload (pub) stays open */
    long pub_max_archive;     /* largest pub package archive (.tar.gz), bytes */
    long pub_max_unpacked;    /* largest expansion of a pub archive, bytes */
    long pub_max_entries;     /* most entries in a pub archive */
    const char *docs_url;     /* separate origin for hosted docs ("" → served under /docs on this server) */
    const char *server_name;  /* what people see: page titles, mail sender name and subjects */
    const char *smtp_url;     /* smtp://HOST:PORT or smtps://... for mail ("" → no mail) */
    const char *smtp_from;    /* sender address ("" → depot@<base URL host>) */
    char *owned[48];          /* strings made while loading, freed by config_free */
    int nowned;
} config;

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
