/*
 * front.c — what the rest of the program asks of the native ecosystem
 * (its descriptor is in routes.c): how its names fold, and the lines the
 * dashboard shows for the depot client.
 */
#include "native.h"

void native_fold_name(char *key)
{
    for (; *key; key++)
        if (*key == '-')
            *key = '_';
}

int native_snippets(req *r, const char *name, const char *version, front_snippet *out, int max)
{
    const char *base = r->cfg->base_url;
    const char *ver = version ? version : "0.1.0";
    if (max < 2)
        return 0;
    out[0] =
        (front_snippet){"Command", arena_printf(r->a, "depot install %s@^%s --registry %s", name, ver, base)};
    out[1] = (front_snippet){"depot.json", arena_printf(r->a, "\"%s\": \"^%s\"", name, ver)};
    return 2;
}

const char *native_publish_lines(req *r, const char *token)
{
    (void)token;
    const char *base = r->cfg->base_url;
    return arena_printf(r->a, "depot login --registry %s\ndepot publish --registry %s", base, base);
}
