/*
 * snippets.c — the lines a person copies to install a package, in its
 * ecosystem's own client's words: each front writes them (its descriptor's
 * snippets hook), following its custom for "compatible with this version".
 */
#include "web.h"

int web_snippets(req *r, const char *eco, const char *name, const char *version, snippet *out, int max)
{
    const front *f = front_find(eco);
    return f && f->snippets ? f->snippets(r, name, version, out, max) : 0;
}
