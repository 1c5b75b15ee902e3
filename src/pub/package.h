/*
 * package.h — checking an uploaded pub package archive before it is
 * published: gzip + tar read under pub.dev's limits (configurable), no
 * links, special files, escaping or duplicate paths, no two paths that
 * differ only in case, pubspec.yaml at the root (≤ 128 KiB) that parses
 * (pubspec.h), and the README kept for display.
 */
#ifndef DEPOT_PUB_PACKAGE_H
#define DEPOT_PUB_PACKAGE_H

#include <stdint.h>

#include "../core/config.h"
#include "../lib/arena.h"
#include "../lib/err.h"
#include "options.h"
#include "pubspec.h"

typedef struct pub_package {
    pubspec ps;
    const char *readme; /* README.md at the root (any case), NULL when absent or over 512 KiB */
} pub_package;

/* Reads the archive in fd (size bytes, read from offset 0) into *out, in the arena. Returns 0,
 * or -1 with e filled: 422 "invalid" with a message that names the problem ("archive: ...",
 * "pubspec.yaml: ..."), 500 when the file cannot be read. Limits: pub_opts(cfg)->max_archive,
 * pub_max_unpacked, pub_max_entries. */
int pub_package_read(arena *a, int fd, uint64_t size, const config *cfg, pub_package *out, derr *e);

#endif
