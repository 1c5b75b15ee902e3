/*
 * front.c — what the rest of the program asks of the npm front (its
 * descriptor is in routes.c): the dashboard's install and publish lines,
 * and deprecation as a status action.
 */
#include <string.h>

#include "npm.h"

int npm_snippets(req *r, const char *name, const char *version, front_snippet *out, int max)
{
    const char *base = r->cfg->base_url;
    const char *ver = version ? version : "0.1.0";
    if (max < 2)
        return 0;
    out[0] = (front_snippet){"Command", arena_printf(r->a, "npm install %s --registry %s/npm/", name, base)};
    out[1] = (front_snippet){"package.json", arena_printf(r->a, "\"%s\": \"^%s\"", name, ver)};
    return 2;
}

const char *npm_publish_lines(req *r, const char *token)
{
    const char *base = r->cfg->base_url;
    const char *host = strstr(base, "://") ? strstr(base, "://") + 3 : base;
    return arena_printf(r->a, "npm config set //%s/npm/:_authToken %s\nnpm publish --registry %s/npm/", host,
                        token, base);
}

const front_action npm_actions[] = {
    {"deprecate", ECO_DEPRECATE, true, true, "Deprecate",
     "npm warns everyone who installs this version, with your message.", true},
    {"undeprecate", ECO_DEPRECATE, false, true, "Undeprecate", "npm stops warning about this version.",
     false},
    {NULL},
};
