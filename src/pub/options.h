/*
 * options.h — the pub front's settings (--upload-ttl, --pub-max-archive,
 * ...), which the config loader fills from the front's options table
 * (front.c).
 */
#ifndef DEPOT_PUB_OPTIONS_H
#define DEPOT_PUB_OPTIONS_H

#include "../core/config.h"

typedef struct pub_options {
    long upload_ttl;   /* seconds a two-step upload stays open */
    long max_archive;  /* largest pub package archive (.tar.gz), bytes */
    long max_unpacked; /* largest expansion of a pub archive, bytes */
    long max_entries;  /* most entries in a pub archive */
} pub_options;

/* The pub settings of cfg (borrowed from it); zeros when cfg was made by hand without them (the
 * archive limits then take pub.dev's). */
const pub_options *pub_opts(const config *cfg);

#endif
