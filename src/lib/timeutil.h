/*
 * timeutil.h — wall-clock and monotonic time, and RFC 3339 text.
 */
#ifndef DEPOT_TIMEUTIL_H
#define DEPOT_TIMEUTIL_H

#include <stdint.h>

#include "arena.h"

/* Seconds since the epoch. */
int64_t now_unix(void);
/* Milliseconds since the epoch (rate limits, which several servers share). */
int64_t now_unix_ms(void);
/* Monotonic nanoseconds, for durations. */
uint64_t now_mono_ns(void);
/* "2026-11-22T02:40:48Z" into out (at least 21 bytes). */
void time_rfc3339(int64_t t, char out[32]);
/* The same in the arena. */
char *time_rfc3339_a(arena *a, int64_t t);
/* A length of time in words for messages, in its largest whole unit: "one hour", "3 days",
 * "90 minutes", "45 seconds". In the arena. */
const char *time_span_words(arena *a, long seconds);
/* Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". 0 or -1. */
int time_parse_rfc3339(const char *s, int64_t *out);

#endif
