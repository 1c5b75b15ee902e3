/*
 * manifest.c — checking a native manifest field by field.
 *
 * Each field has a small checker that knows its JSON type (a wrong type is
 * 400: the client sent a different document shape) and its rule (a broken
 * rule is 422: the shape is right, the value is not acceptable). The first
 * problem wins; the message starts with the field's path so a person can
 * find it ("dependencies.foo: ...", "keywords[3]: ..."). Values shown back
 * in messages are clipped at a character boundary and have control
 * characters replaced, so the message stays short, valid UTF-8.
 */
#include "manifest.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "../lib/spdx.h"

#define NAME_MAX_LEN 64
#define VERSION_MAX 256
#define DESCRIPTION_MAX 1000
#define URL_MAX 2048
#define AUTHORS_MAX 50
#define AUTHOR_LEN 200
#define KEYWORDS_MAX 10
#define KEYWORD_LEN 32
#define CATEGORIES_MAX 5
#define CATEGORY_LEN 64
#define TAGS_MAX 20
#define TAG_LEN 50
#define DEPS_MAX 500
#define REQ_MAX 1024
#define README_MAX 256

/* A client string as a message shows it, into out: ≤ 60 bytes cut at a
 * character boundary, control characters as '?'. The input is valid UTF-8
 * (jansson checks it; names are ASCII by the time they are shown). */
static const char *clipb(char out[64], const char *s)
{
    size_t n = strlen(s), k = n;
    if (k > 60) {
        k = 56;
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
    }
    for (size_t i = 0; i < k; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (k < n)
        memcpy(out + k, "...", 4);
    else
        out[k] = '\0';
    return out;
}

static const char *clip(arena *a, const char *s)
{
    return clipb(arena_alloc(a, 64), s);
}

/* Characters (code points) of a valid UTF-8 string. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

/* ---- names ---- */

static int name_check(const char *field, const char *name, derr *e)
{
    const char *rule = "a name is a lower-case letter then up to 63 of a-z, 0-9, '_', '-'";
    size_t n = name ? strlen(name) : 0;
    bool ok = n >= 1 && n <= NAME_MAX_LEN && name[0] >= 'a' && name[0] <= 'z';
    for (size_t i = 1; ok && i < n; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }
    if (ok)
        return 0;
    if (!name || !n)
        return derr_set(e, 422, "invalid", "%s: must not be empty (%s)", field, rule);
    if (n > NAME_MAX_LEN)
        return derr_set(e, 422, "invalid", "%s: is longer than %d characters", field, NAME_MAX_LEN);
    char shown[64];
    return derr_set(e, 422, "invalid", "%s: '%s' is not valid (%s)", field, clipb(shown, name), rule);
}

int native_name_check(const char *name, derr *e)
{
    return name_check("name", name, e);
}

char *native_name_normalize(arena *a, const char *name)
{
    char *d = arena_strdup(a, name);
    for (char *p = d; p && *p; p++) {
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
        else if (*p == '-')
            *p = '_';
    }
    return d;
}

/* ---- typed access ---- */

/* A string field: absent or null gives NULL; wrong type 400. */
static int get_str(json_t *doc, const char *key, const char **out, derr *e)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return derr_set(e, 400, "bad_request", "%s: must be a string", key);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return derr_set(e, 400, "bad_request", "%s: must not contain NUL characters", key);
    *out = json_string_value(v);
    return 0;
}

/* An array of strings of at most max items; absent or null gives a new empty
 * array owned by the arena. */
static int get_str_array(arena *a, json_t *doc, const char *key, size_t max, json_t **out, derr *e)
{
    json_t *v = json_object_get(doc, key);
    if (!v || json_is_null(v)) {
        *out = json_array();
        arena_on_free(a, (void (*)(void *))json_decref, *out);
        return 0;
    }
    if (!json_is_array(v))
        return derr_set(e, 400, "bad_request", "%s: must be an array of strings", key);
    size_t i;
    json_t *it;
    json_array_foreach(v, i, it)
    {
        if (!json_is_string(it))
            return derr_set(e, 400, "bad_request", "%s[%zu]: must be a string", key, i);
        if (strlen(json_string_value(it)) != json_string_length(it))
            return derr_set(e, 400, "bad_request", "%s[%zu]: must not contain NUL characters", key, i);
    }
    if (json_array_size(v) > max)
        return derr_set(e, 422, "invalid", "%s: at most %zu entries are allowed, not %zu", key, max,
                        json_array_size(v));
    *out = v;
    return 0;
}

/* ---- field rules ---- */

static int url_check(arena *a, const char *field, const char *u, derr *e)
{
    if (!u)
        return 0;
    if (strlen(u) > URL_MAX)
        return derr_set(e, 422, "invalid", "%s: is longer than %d bytes", field, URL_MAX);
    size_t skip = strncasecmp(u, "https://", 8) == 0 ? 8 : strncasecmp(u, "http://", 7) == 0 ? 7 : 0;
    if (!skip)
        return derr_set(e, 422, "invalid", "%s: '%s' is not an http(s) URL", field, clip(a, u));
    const char *host = u + skip;
    size_t hl = strcspn(host, "/?#");
    if (hl == 0)
        return derr_set(e, 422, "invalid", "%s: '%s' has no host", field, clip(a, u));
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return derr_set(e, 422, "invalid", "%s: a URL must not contain spaces or control characters",
                            field);
    return 0;
}

/* Each string of arr is non-empty, ≤ maxchars, no control characters. */
static int text_items(arena *a, const char *field, json_t *arr, size_t maxchars, derr *e)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *s = json_string_value(it);
        if (!*s)
            return derr_set(e, 422, "invalid", "%s[%zu]: must not be empty", field, i);
        if (utf8_chars(s) > maxchars)
            return derr_set(e, 422, "invalid", "%s[%zu]: is longer than %zu characters", field, i, maxchars);
        if (has_control(s))
            return derr_set(e, 422, "invalid", "%s[%zu]: must not contain control characters", field, i);
    }
    return 0;
}

static int keywords_check(arena *a, json_t *arr, derr *e)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *s = json_string_value(it);
        size_t n = strlen(s);
        bool ok =
            n >= 1 && n <= KEYWORD_LEN && ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'));
        for (size_t k = 1; ok && k < n; k++)
            ok = (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= '0' && s[k] <= '9') || s[k] == '_' || s[k] == '-';
        if (!ok)
            return derr_set(e, 422, "invalid",
                            "keywords[%zu]: '%s' must be 1 to %d lower-case letters, digits, '_' or '-', "
                            "starting with a letter or digit",
                            i, clip(a, s), KEYWORD_LEN);
    }
    return 0;
}

static int categories_check(arena *a, json_t *arr, const manifest_rules *rules, derr *e)
{
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *s = json_string_value(it);
        if (rules && rules->categories) {
            bool found = false;
            for (const char *const *c = rules->categories; *c && !found; c++)
                found = strcmp(*c, s) == 0;
            if (!found)
                return derr_set(e, 422, "invalid",
                                "categories[%zu]: '%s' is not one of the allowed categories", i, clip(a, s));
        } else if (!*s || strlen(s) > CATEGORY_LEN || has_control(s)) {
            return derr_set(e, 422, "invalid",
                            "categories[%zu]: must be 1 to %d bytes without control characters", i,
                            CATEGORY_LEN);
        }
    }
    return 0;
}

static int deps_parse(arena *a, json_t *doc, const char *key, manifest_dep **out, int *n, derr *e)
{
    *out = NULL;
    *n = 0;
    json_t *v = json_object_get(doc, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return derr_set(e, 400, "bad_request", "%s: must be an object of {name: requirement}", key);
    size_t cnt = json_object_size(v);
    if (cnt > DEPS_MAX)
        return derr_set(e, 422, "invalid", "%s: at most %d entries are allowed, not %zu", key, DEPS_MAX, cnt);
    manifest_dep *d = arena_alloc(a, (cnt ? cnt : 1) * sizeof *d);
    const char **keys = arena_alloc(a, (cnt ? cnt : 1) * sizeof *keys);
    int k = 0;
    const char *name;
    json_t *req;
    json_object_foreach(v, name, req)
    {
        const char *field = arena_printf(a, "%s.%s", key, clip(a, name));
        if (!json_is_string(req))
            return derr_set(e, 400, "bad_request", "%s: the requirement must be a string", field);
        if (name_check(field, name, e) < 0)
            return -1;
        const char *r = json_string_value(req);
        if (!*r)
            return derr_set(e, 422, "invalid", "%s: the requirement must not be empty", field);
        if (json_string_length(req) > REQ_MAX)
            return derr_set(e, 422, "invalid", "%s: the requirement is longer than %d bytes", field, REQ_MAX);
        if (strlen(r) != json_string_length(req) || has_control(r))
            return derr_set(e, 422, "invalid", "%s: the requirement must not contain control characters",
                            field);
        const char *norm = native_name_normalize(a, name);
        for (int j = 0; j < k; j++)
            if (strcmp(keys[j], norm) == 0)
                return derr_set(e, 422, "invalid", "%s: %s and %s name the same package", key, d[j].name,
                                name);
        keys[k] = norm;
        d[k++] = (manifest_dep){.name = name, .req = r};
    }
    *out = d;
    *n = k;
    return 0;
}

/* A relative path inside the package, normalised: "." and empty components
 * dropped; absolute paths, "..", backslashes and control characters refused. */
static int readme_check(arena *a, const char *p, const char **out, derr *e)
{
    *out = NULL;
    if (!p)
        return 0;
    size_t len = strlen(p);
    if (len == 0)
        return derr_set(e, 422, "invalid", "readme: must not be empty");
    if (len > README_MAX)
        return derr_set(e, 422, "invalid", "readme: is longer than %d bytes", README_MAX);
    if (p[0] == '/')
        return derr_set(e, 422, "invalid", "readme: must be a path relative to the package root, not '%s'",
                        clip(a, p));
    if (has_control(p) || strchr(p, '\\'))
        return derr_set(e, 422, "invalid", "readme: must not contain control characters or '\\'");
    char *res = arena_alloc(a, len + 1);
    size_t n = 0;
    const char *s = p;
    while (*s) {
        const char *c = s;
        while (*s && *s != '/')
            s++;
        size_t cl = (size_t)(s - c);
        if (*s == '/')
            s++;
        if (cl == 0 || (cl == 1 && c[0] == '.'))
            continue;
        if (cl == 2 && c[0] == '.' && c[1] == '.')
            return derr_set(e, 422, "invalid", "readme: '%s' must not contain '..'", clip(a, p));
        if (n)
            res[n++] = '/';
        memcpy(res + n, c, cl);
        n += cl;
    }
    res[n] = '\0';
    if (!n)
        return derr_set(e, 422, "invalid", "readme: '%s' names no file", clip(a, p));
    *out = res;
    return 0;
}

int manifest_parse(arena *a, json_t *doc, const manifest_rules *rules, manifest *out, derr *e)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(doc))
        return derr_set(e, 400, "bad_request", "the manifest must be a JSON object");

    if (get_str(doc, "name", &out->name, e) < 0)
        return -1;
    if (!out->name)
        return derr_set(e, 422, "invalid", "name: is required");
    if (name_check("name", out->name, e) < 0)
        return -1;
    if (rules && rules->reserved) {
        const char *norm = native_name_normalize(a, out->name);
        for (const char *const *r = rules->reserved; *r; r++)
            if (strcmp(native_name_normalize(a, *r), norm) == 0)
                return derr_set(e, 422, "invalid", "name: '%s' is reserved", out->name);
    }

    if (get_str(doc, "version", &out->version, e) < 0)
        return -1;
    if (!out->version)
        return derr_set(e, 422, "invalid", "version: is required");
    if (!*out->version)
        return derr_set(e, 422, "invalid", "version: must not be empty");
    if (strlen(out->version) > VERSION_MAX)
        return derr_set(e, 422, "invalid", "version: is longer than %d bytes", VERSION_MAX);

    if (get_str(doc, "description", &out->description, e) < 0)
        return -1;
    if (out->description && utf8_chars(out->description) > DESCRIPTION_MAX)
        return derr_set(e, 422, "invalid", "description: is longer than %d characters", DESCRIPTION_MAX);

    if (get_str(doc, "license", &out->license, e) < 0)
        return -1;
    if (out->license) {
        char why[160];
        if (spdx_check(out->license, why, sizeof why) < 0)
            return derr_set(e, 422, "invalid", "license: %s", why);
    }

    if (get_str(doc, "homepage", &out->homepage, e) < 0 || url_check(a, "homepage", out->homepage, e) < 0 ||
        get_str(doc, "repository", &out->repository, e) < 0 ||
        url_check(a, "repository", out->repository, e) < 0 ||
        get_str(doc, "documentation", &out->documentation, e) < 0 ||
        url_check(a, "documentation", out->documentation, e) < 0)
        return -1;

    if (get_str_array(a, doc, "authors", AUTHORS_MAX, &out->authors, e) < 0 ||
        text_items(a, "authors", out->authors, AUTHOR_LEN, e) < 0)
        return -1;
    if (get_str_array(a, doc, "keywords", KEYWORDS_MAX, &out->keywords, e) < 0 ||
        keywords_check(a, out->keywords, e) < 0)
        return -1;
    if (get_str_array(a, doc, "categories", CATEGORIES_MAX, &out->categories, e) < 0 ||
        categories_check(a, out->categories, rules, e) < 0)
        return -1;
    if (get_str_array(a, doc, "tags", TAGS_MAX, &out->tags, e) < 0 ||
        text_items(a, "tags", out->tags, TAG_LEN, e) < 0)
        return -1;

    if (deps_parse(a, doc, "dependencies", &out->deps, &out->ndeps, e) < 0 ||
        deps_parse(a, doc, "dev_dependencies", &out->dev_deps, &out->ndev_deps, e) < 0)
        return -1;

    const char *readme;
    if (get_str(doc, "readme", &readme, e) < 0 || readme_check(a, readme, &out->readme, e) < 0)
        return -1;
    return 0;
}
