/* err.c — filling the error struct. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int derr_set(derr *e, int status, const char *code, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->status = status;
    e->code = code;
    e->retry_after = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

int derr_storage(derr *e, int errnum, const char *what)
{
    if (errnum == ENOSPC || errnum == EDQUOT)
        return derr_set(e, 507, "insufficient_storage", "%s is out of space", what);
    if (errnum == EROFS || errnum == EIO)
        return derr_set(e, 503, "unavailable", "%s cannot be written now; try again later", what);
    return derr_set(e, 500, "internal", "%s failed; see the server log", what);
}

char *derr_clip(char *out, const char *s, size_t n, size_t max)
{
    size_t k = n > max ? max : n, i;
    for (i = 0; i < k; i++)
        out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (k < n)
        for (int j = 0; j < 3; j++)
            out[i++] = '.';
    out[i] = '\0';
    return out;
}

void derr_clear(derr *e)
{
    if (!e)
        return;
    e->status = 0;
    e->code = NULL;
    e->message[0] = '\0';
    e->retry_after = 0;
}
