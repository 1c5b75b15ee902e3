/* err.c — filling the error struct. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

int derr_set(derr *e, int status, const char *code, const char *fmt, ...)
{
    if (!e)
        return -1;
    e->status = status;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return -1;
}

void derr_clear(derr *e)
{
    if (!e)
        return;
    e->status = 0;
    e->code = NULL;
    e->message[0] = '\0';
}
