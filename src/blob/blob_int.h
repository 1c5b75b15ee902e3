/*
 * blob_int.h — what the blob store backends (file.c, s3.c) share, written
 * once in blob.c: the key check and the hash check of a file about to be
 * stored. Not for callers of the blob store: they see blob.h only.
 */
#ifndef DEPOT_BLOB_INT_H
#define DEPOT_BLOB_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/err.h"

/* Whether hex is a blob key: exactly 64 lower-case hex digits. */
bool blob_key_ok(const char *hex);

/* The 400 bad_key every backend answers for a key blob_key_ok refuses; returns -1. */
int blob_bad_key(derr *e);

/* Reads fd from offset 0 to its end (pread: the file offset stays) and
 * compares its SHA-256 with hex: 1 when equal, 0 when not, -1 on a read
 * error (errno set). *size (when not NULL) gets the bytes read. */
int blob_hash_matches(int fd, const char *hex, uint64_t *size);

#endif
