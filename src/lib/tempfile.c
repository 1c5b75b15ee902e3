/*
 * tempfile.c — temp files removed when their request's arena is released.
 */
#include "tempfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void temp_file_drop(temp_file *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    if (t->path)
        unlink(t->path);
    t->path = NULL;
}

static void release(void *p)
{
    temp_file_drop(p);
}

temp_file *temp_file_new(arena *a, const char *dir, const char *prefix)
{
    temp_file *t = arena_zalloc(a, sizeof *t);
    t->path = arena_printf(a, "%s/%s-XXXXXX", dir, prefix);
    t->fd = mkostemp(t->path, O_CLOEXEC);
    if (t->fd < 0)
        return NULL;
    arena_on_release(a, release, t);
    return t;
}
