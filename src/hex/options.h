/*
 * options.h — the Hex front's settings (--hex-repo, --hex-key, ...), which
 * the config loader fills from the front's options table (front.c).
 */
#ifndef DEPOT_HEX_OPTIONS_H
#define DEPOT_HEX_OPTIONS_H

#include "../core/config.h"

typedef struct hex_options {
    const char *repo;      /* the Hex repository's name, signed into every registry resource */
    const char *key;       /* PEM private key path ("" → DATA/hex_repo_key.pem, made at first start) */
    long max_tarball;      /* largest Hex package tarball, bytes */
    long max_uncompressed; /* largest expansion of a Hex package's contents.tar.gz, bytes */
    long replace_window;   /* seconds after publication a release may be replaced or reverted (0: never) */
} hex_options;

/* The Hex settings of cfg (borrowed from it); empty ones when cfg was made by hand without them. */
const hex_options *hex_opts(const config *cfg);
/* The descriptor's replace_window: --hex-replace-window. */
long hex_replace_window(const config *cfg);

#endif
