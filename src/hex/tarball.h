/*
 * tarball.h — reading a Hex package tarball (version 3) as a publish
 * receives it (facts: hex.md §2.1, §2.6).
 *
 * The outer file is a plain POSIX tar whose members must be exactly, and in
 * this order, VERSION ("3"), CHECKSUM (64 hex digits), metadata.config and
 * contents.tar.gz. The inner checksum, SHA-256 over the contents of VERSION,
 * metadata.config and contents.tar.gz, must equal CHECKSUM. contents.tar.gz
 * is read through (never unpacked) under the size caps, with every path
 * checked: relative, no "..", no duplicates, links only to paths inside the
 * package, no special files. Members are located by their offsets in the
 * file, so nothing large is copied but contents.tar.gz, once, into an
 * anonymous memory file for the gzip reader.
 */
#ifndef DEPOT_HEX_TARBALL_H
#define DEPOT_HEX_TARBALL_H

#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/err.h"
#include "metadata.h"

/* hex_core's caps (hex.md §2.1, §2.6). */
#define HEX_MAX_VERSION_FILE 32
#define HEX_MAX_CHECKSUM_FILE 128
#define HEX_MAX_METADATA (1u << 20)
/* The README kept for display (the web page), at most this much. */
#define HEX_MAX_README (512u << 10)

typedef struct hex_limits {
    uint64_t max_tarball;      /* the outer .tar, bytes (hex.pm: 16 MiB) */
    uint64_t max_uncompressed; /* contents.tar.gz expanded, bytes (hex.pm: 128 MiB) */
} hex_limits;

typedef struct hex_tarball {
    hex_metadata meta;
    char inner_checksum[65]; /* lower-case hex, verified against CHECKSUM */
    uint64_t contents_size;  /* contents.tar.gz, compressed bytes */
    int nfiles;              /* regular files in contents.tar.gz */
    const char *readme;      /* a README at the package's root, capped; NULL when none */
    size_t readme_len;
} hex_tarball;

/* Reads the tarball in fd (size bytes from offset 0) and fills out, in the arena.
 * build_tools is guessed from the package's files when the metadata has none.
 * Returns 0, or -1 with e filled: 422 "invalid" with a message "tar: why" for
 * the archive (too big, not a tar, wrong or missing members, checksum
 * mismatch, a bad path in contents) or "FIELD: why" for the metadata;
 * 500 when the file cannot be read. */
int hex_tarball_read(arena *a, int fd, uint64_t size, const hex_limits *lim, hex_tarball *out, derr *e);

#endif
