/*
 * downloads.h — download counts gathered in memory and written in batches:
 * a download costs a hash-table increment, never a write. A flusher thread
 * writes the batch every few seconds (and at shutdown) in one transaction.
 */
#ifndef DEPOT_DOWNLOADS_H
#define DEPOT_DOWNLOADS_H

#include <stdint.h>

#include "../store/store.h"

/* Starts the flusher (interval in milliseconds; 0: 5000). */
void downloads_start(store *st, int interval_ms);
/* Counts one download of a version. */
void downloads_count(int64_t version_id);
/* Writes what is gathered now (also called by downloads_stop). */
void downloads_flush(void);
/* Flushes and stops the flusher. */
void downloads_stop(void);

#endif
