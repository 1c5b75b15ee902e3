/*
 * names.c — npm package names in paths, tarball file names and URLs.
 *
 * npm escapes a scoped name as one path segment ("@scope%2fname") for
 * packuments, publish, dist-tags and owners, but tarball URLs are whatever
 * the registry put in dist.tarball, which for depot (as for the public
 * registry) keeps a literal slash: /npm/@scope/name/-/name-1.0.0.tgz. The
 * router decodes each segment, so both arrive as parameters here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/timeutil.h"
#include "../lib/url.h"
#include "npm.h"

static bool name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' ||
           c == '!' || c == '*' || c == '\'' || c == '(' || c == ')';
}

/* One part of a name (the scope without '@', or the name): non-empty, URL-safe, lower case. */
static int part_check(const char *s, size_t n, const char *what, derr *e)
{
    if (n == 0)
        return derr_set(e, 400, "bad_request", "name: the %s is empty", what);
    if (s[0] == '.' || s[0] == '_')
        return derr_set(e, 400, "bad_request", "name: the %s must not start with '.' or '_'", what);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            return derr_set(e, 400, "bad_request", "name: new packages must have lower-case names");
        if (!name_char(c))
            return derr_set(e, 400, "bad_request",
                            "name: the %s may hold only a-z, 0-9 and - . _ ~ ! * ' ( ) (found '%c')", what,
                            c >= ' ' && c < 127 ? c : '?');
    }
    return 0;
}

int npm_name_check(const char *name, derr *e)
{
    size_t n = strlen(name);
    if (n == 0 || n > NPM_NAME_MAX)
        return derr_set(e, 400, "bad_request", "name: 1 to %d characters", NPM_NAME_MAX);
    if (strcmp(name, "node_modules") == 0 || strcmp(name, "favicon.ico") == 0)
        return derr_set(e, 400, "bad_request", "name: '%s' is not allowed as a package name", name);
    if (name[0] != '@')
        return part_check(name, n, "name", e);
    const char *slash = strchr(name, '/');
    if (!slash)
        return derr_set(e, 400, "bad_request", "name: a scoped name is @scope/name");
    if (part_check(name + 1, (size_t)(slash - name - 1), "scope", e) < 0)
        return -1;
    return part_check(slash + 1, strlen(slash + 1), "name after the scope", e);
}

const char *npm_req_name(req *r)
{
    const char *scope = req_param(r, "scope");
    const char *name = req_param(r, "name");
    if (!name)
        return NULL;
    if (scope) {
        if (scope[0] != '@' || strchr(scope, '/') || strchr(name, '/'))
            return NULL;
        return arena_printf(r->a, "%s/%s", scope, name);
    }
    /* One segment: "foo" or "@scope/foo" (sent as @scope%2ffoo). */
    const char *slash = strchr(name, '/');
    if (slash && (name[0] != '@' || strchr(slash + 1, '/')))
        return NULL;
    if (!slash && name[0] == '@')
        return NULL;
    return name;
}

const char *npm_req_name_or_404(req *r)
{
    const char *name = npm_req_name(r);
    if (!name)
        npm_not_found(r);
    return name;
}

const char *npm_base_name(const char *name)
{
    const char *slash = name[0] == '@' ? strchr(name, '/') : NULL;
    return slash ? slash + 1 : name;
}

const char *npm_tarball_version(arena *a, const char *name, const char *file)
{
    const char *base = npm_base_name(name);
    size_t bl = strlen(base), fl = strlen(file);
    /* base "-" version ".tgz", with a non-empty version. The base is compared ignoring case,
     * as package names are found ignoring case. */
    if (fl < bl + 1 + 1 + 4 || strncasecmp(file, base, bl) != 0 || file[bl] != '-' ||
        strcmp(file + fl - 4, ".tgz") != 0)
        return NULL;
    return arena_strndup(a, file + bl + 1, fl - bl - 1 - 4);
}

const char *npm_seg(arena *a, const char *s)
{
    return url_encode(a, s, NULL);
}

const char *npm_tarball_url(req *r, const char *name, const char *version)
{
    const char *base = npm_base_name(name);
    const char *file = arena_printf(r->a, "%s-%s.tgz", base, version);
    if (name[0] == '@') {
        const char *slash = strchr(name, '/');
        const char *scope = arena_strndup(r->a, name, (size_t)(slash - name));
        return arena_printf(r->a, "%s/npm/@%s/%s/-/%s", r->cfg->base_url, npm_seg(r->a, scope + 1),
                            npm_seg(r->a, base), npm_seg(r->a, file));
    }
    return arena_printf(r->a, "%s/npm/%s/-/%s", r->cfg->base_url, npm_seg(r->a, name), npm_seg(r->a, file));
}

const char *npm_noreply_email(req *r, const char *username)
{
    return arena_printf(r->a, "%s@users.noreply.%s", username, req_host(r));
}

json_t *npm_person(req *r, const char *key, const char *username)
{
    json_t *o = json_object();
    json_object_set_new(o, key, json_string(username ? username : ""));
    if (username && *username)
        json_object_set_new(o, "email", json_string(npm_noreply_email(r, username)));
    return o;
}

const char *npm_time(arena *a, int64_t t)
{
    if (!t)
        return NULL;
    char b[32];
    time_rfc3339(t, b); /* "2026-11-22T02:40:48Z" */
    size_t n = strlen(b);
    if (n && b[n - 1] == 'Z')
        b[n - 1] = '\0';
    return arena_printf(a, "%s.000Z", b);
}

bool npm_accepts_abbreviated(const char *accept)
{
    static const char corgi[] = "application/vnd.npm.install-v1+json";
    if (!accept)
        return false;
    for (const char *p = accept; (p = strcasestr(p, corgi)); p += sizeof corgi - 1) {
        /* Look for ";q=0" (or 0.0, 0.00 ...) among this entry's parameters. */
        const char *q = p + sizeof corgi - 1;
        const char *end = strchr(q, ',');
        size_t len = end ? (size_t)(end - q) : strlen(q);
        bool refused = false;
        for (size_t i = 0; i + 1 < len; i++) {
            if ((q[i] == 'q' || q[i] == 'Q') && q[i + 1] == '=') {
                char *stop;
                double v = strtod(q + i + 2, &stop);
                refused = stop != q + i + 2 && v <= 0.0;
                break;
            }
        }
        if (!refused)
            return true;
    }
    return false;
}
