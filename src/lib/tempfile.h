/*
 * tempfile.h — a request's temp files.
 *
 * A temp file lives in a given folder (the blob store's, so that a finished
 * file can be renamed into place) and is closed and removed when its arena is
 * released: the server releases a request's arena before it queues the answer,
 * so a client that reads the answer finds no temp file of its request left.
 */
#ifndef DEPOT_TEMPFILE_H
#define DEPOT_TEMPFILE_H

#include "arena.h"

typedef struct temp_file {
    int fd;     /* open for reading and writing; -1 once dropped */
    char *path; /* NULL once dropped */
} temp_file;

/* A new empty file dir/PREFIX-XXXXXX (mode 0600, close-on-exec). NULL with errno set when it
 * cannot be created. */
temp_file *temp_file_new(arena *a, const char *dir, const char *prefix);

/* Closes and removes it now; again is a no-op. */
void temp_file_drop(temp_file *t);

#endif
