/*
 * hash.h — the string hash of depot's in-memory hash tables (the rate
 * limiter's shards, the tar reader's path set): FNV-1a, 64 bits. Fast and
 * well spread for short keys; not keyed, so only for tables whose size and
 * probing stay bounded whatever keys a client picks.
 */
#ifndef DEPOT_HASH_H
#define DEPOT_HASH_H

#include <stdint.h>

/* FNV-1a of the C string s (from the basis these tables have always used). */
uint64_t hash_str(const char *s);

#endif
