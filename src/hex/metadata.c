/*
 * metadata.c — metadata.config into hex_metadata, and hex.pm's rules for
 * names, versions and requirements (metadata.h).
 *
 * The whole file becomes one JSON object (every {Key, Value} term, unknown
 * keys included, through term_to_json), then the keys depot uses are read
 * back from it with their shapes checked, and `requirements` is replaced by
 * its normalised map. Errors name the field ("links: ...") so the Hex API
 * can answer them as per-field validation errors.
 */
#include "metadata.h"

#include <stdio.h>
#include <string.h>

#include "../lib/semver.h"
#include "term.h"

/* hex.pm's reserved package names (hexpm lib/hexpm/repository/package.ex: @elixir_names,
 * @otp_names, @inets_names, @tool_names, @app_names, @windows_names, @generic_names). */
static const char *const reserved[] = {"eex",
                                       "elixir",
                                       "ex_unit",
                                       "iex",
                                       "logger",
                                       "mix",
                                       "rebar",
                                       "rebar3",
                                       "hex",
                                       "hexpm",
                                       "mix_hex",
                                       "appmon",
                                       "asn1",
                                       "common_test",
                                       "compiler",
                                       "cosEvent",
                                       "cosEventDomain",
                                       "cosFileTransfer",
                                       "cosNotification",
                                       "cosProperty",
                                       "cosTime",
                                       "cosTransactions",
                                       "crypto",
                                       "debugger",
                                       "dialyzer",
                                       "diameter",
                                       "edoc",
                                       "eldap",
                                       "erl_docgen",
                                       "erl_interface",
                                       "erts",
                                       "et",
                                       "eunit",
                                       "gs",
                                       "hipe",
                                       "ic",
                                       "inets",
                                       "jinterface",
                                       "kernel",
                                       "Makefile",
                                       "megaco",
                                       "mnesia",
                                       "observer",
                                       "odbc",
                                       "orber",
                                       "os_mon",
                                       "ose",
                                       "otp_mibs",
                                       "parsetools",
                                       "percept",
                                       "pman",
                                       "public_key",
                                       "reltool",
                                       "runtime_tools",
                                       "sasl",
                                       "snmp",
                                       "ssh",
                                       "ssl",
                                       "stdlib",
                                       "syntax_tools",
                                       "test_server",
                                       "toolbar",
                                       "tools",
                                       "tv",
                                       "typer",
                                       "webtool",
                                       "wx",
                                       "xmerl",
                                       "ftp",
                                       "tftp",
                                       "httpc",
                                       "httpd",
                                       "http_uri",
                                       "firenest",
                                       "toucan",
                                       "phoenix_live_view",
                                       "net",
                                       "http",
                                       "net_http",
                                       "nul",
                                       "con",
                                       "prn",
                                       "aux",
                                       "com1",
                                       "com2",
                                       "com3",
                                       "com4",
                                       "com5",
                                       "com6",
                                       "com7",
                                       "com8",
                                       "com9",
                                       "lpt1",
                                       "lpt2",
                                       "lpt3",
                                       "lpt4",
                                       "lpt5",
                                       "lpt6",
                                       "lpt7",
                                       "lpt8",
                                       "lpt9",
                                       "package",
                                       "organization",
                                       "www",
                                       NULL};

int hex_check_name(const char *name, const char *field, derr *e)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 2 || n > 64)
        return derr_set(e, 422, "invalid", "%s: should be 2 to 64 characters", field);
    /* hexpm validates ~r"^[a-z]\w*$" (ASCII word characters after a lower-case letter). */
    if (!(name[0] >= 'a' && name[0] <= 'z'))
        return derr_set(e, 422, "invalid", "%s: should start with a lower-case letter", field);
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return derr_set(e, 422, "invalid", "%s: only letters, digits and '_' are allowed", field);
    }
    for (int i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], name) == 0)
            return derr_set(e, 422, "invalid", "%s: '%s' is reserved", field, name);
    return 0;
}

int hex_check_version(arena *a, const char *version, derr *e)
{
    semver v;
    if (!version || semver_parse(a, version, &v) < 0)
        return derr_set(e, 422, "invalid", "version: '%.80s' is not a SemVer 2.0.0 version (such as 1.2.3)",
                        version ? version : "");
    if (strchr(version, '+'))
        return derr_set(e, 422, "invalid", "version: build number not allowed");
    /* hexpm lib/hexpm/ecto/version.ex caps numeric parts and prereleases. */
    const uint64_t max = 99999999999999ULL;
    if (v.major > max || v.minor > max || v.patch > max)
        return derr_set(e, 422, "invalid", "version: numbers may be at most 99999999999999");
    if (v.pre && strlen(v.pre) > 64)
        return derr_set(e, 422, "invalid", "version: the prerelease part may be at most 64 characters");
    return 0;
}

/* ---- reading the JSON form ---- */

static int want_string(json_t *doc, const char *key, bool required, const char **out, derr *e)
{
    json_t *v = json_object_get(doc, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return derr_set(e, 422, "invalid", "%s: is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return derr_set(e, 422, "invalid", "%s: should be a string", key);
    *out = json_string_value(v);
    return 0;
}

/* A list of strings (an empty JSON object stands for the empty list: [] reads as a kvlist). */
static int want_strings(json_t *doc, const char *key, json_t **out, derr *e)
{
    json_t *v = json_object_get(doc, key);
    if (!v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0)) {
        *out = json_array();
        json_object_set_new(doc, key, *out);
        return 0;
    }
    if (json_is_string(v)) {
        /* A single string where a list belongs: read it as a list of one. */
        json_t *arr = json_array();
        json_array_append(arr, v);
        json_object_set_new(doc, key, arr);
        *out = arr;
        return 0;
    }
    if (!json_is_array(v))
        return derr_set(e, 422, "invalid", "%s: should be a list of strings", key);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (!json_is_string(x))
            return derr_set(e, 422, "invalid", "%s: should be a list of strings", key);
    }
    *out = v;
    return 0;
}

/* A kvlist of strings (links): an object of strings. */
static int want_string_map(json_t *doc, const char *key, json_t **out, derr *e)
{
    json_t *v = json_object_get(doc, key);
    if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0)) {
        *out = json_object();
        json_object_set_new(doc, key, *out);
        return 0;
    }
    if (!json_is_object(v))
        return derr_set(e, 422, "invalid", "%s: should be a list of {name, value} pairs", key);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!json_is_string(x))
            return derr_set(e, 422, "invalid", "%s: the value of '%.60s' should be a string", key, k);
    }
    *out = v;
    return 0;
}

/* One requirement's properties, from a kvlist term. */
static int read_req(arena *a, const term *props, const char *name, hex_requirement *r, derr *e)
{
    if (!term_is_kvlist(props))
        return derr_set(e, 422, "invalid",
                        "requirements: the entry for '%.60s' should be a list of properties",
                        name ? name : "?");
    memset(r, 0, sizeof *r);
    r->name = name;
    for (size_t i = 0; i < props->n; i++) {
        const char *k, *s;
        size_t kl, sl;
        term_text(a, props->items[i]->items[0], &k, &kl);
        const term *v = props->items[i]->items[1];
        if (strcmp(k, "optional") == 0) {
            if (v->kind != TERM_ATOM || (strcmp(v->s, "true") != 0 && strcmp(v->s, "false") != 0))
                return derr_set(e, 422, "invalid", "requirements.%.60s: optional should be true or false",
                                name ? name : "?");
            r->optional = strcmp(v->s, "true") == 0;
            continue;
        }
        int is_text = term_text(a, v, &s, &sl) && v->kind != TERM_ATOM;
        if (v->kind == TERM_ATOM && (strcmp(v->s, "nil") == 0 || strcmp(v->s, "undefined") == 0))
            continue; /* hex_core writes absent values as nil/undefined in some versions */
        if (strcmp(k, "name") == 0 || strcmp(k, "app") == 0 || strcmp(k, "requirement") == 0 ||
            strcmp(k, "repository") == 0) {
            if (!is_text)
                return derr_set(e, 422, "invalid", "requirements.%.60s: %s should be a string",
                                name ? name : "?", k);
            if (memchr(s, '\0', sl))
                return derr_set(e, 422, "invalid", "requirements: a NUL byte in %s", k);
            const char *copy = arena_strndup(a, s, sl);
            if (strcmp(k, "name") == 0) {
                if (r->name && strcmp(r->name, copy) != 0)
                    return derr_set(e, 422, "invalid", "requirements.%.60s: the name does not match its key",
                                    r->name);
                r->name = copy;
            } else if (strcmp(k, "app") == 0) {
                r->app = copy;
            } else if (strcmp(k, "requirement") == 0) {
                r->requirement = copy;
            } else {
                r->repository = copy;
            }
        }
    }
    if (!r->name)
        return derr_set(e, 422, "invalid", "requirements: an entry has no name");
    if (!r->requirement || !*r->requirement)
        r->requirement = ">= 0.0.0";
    if (!r->app || !*r->app)
        r->app = r->name;
    return 0;
}

/* Both shapes (hex.md §2.4): [[{name, N}, ...], ...] (mix) and [{N, [...]}, ...] (rebar3_hex). */
static int read_requirements(arena *a, const term *t, hex_metadata *m, derr *e)
{
    m->reqs = NULL;
    m->nreqs = 0;
    if (!t)
        return 0;
    if (t->kind == TERM_MAP) {
        /* Not written by any client, but the normalised form: #{Name => #{...}} is refused plainly. */
        return derr_set(e, 422, "invalid", "requirements: should be a list");
    }
    if (t->kind != TERM_LIST)
        return derr_set(e, 422, "invalid", "requirements: should be a list");
    if (t->n > 1000)
        return derr_set(e, 422, "invalid", "requirements: at most 1000");
    m->reqs = arena_zalloc(a, sizeof *m->reqs * (t->n ? t->n : 1));
    for (size_t i = 0; i < t->n; i++) {
        const term *x = t->items[i];
        const char *name = NULL;
        const term *props = x;
        if (x->kind == TERM_TUPLE && x->n == 2) {
            const char *s;
            size_t sl;
            if (!term_text(a, x->items[0], &s, &sl))
                return derr_set(e, 422, "invalid", "requirements: a package name should be a string");
            name = arena_strndup(a, s, sl);
            props = x->items[1];
        }
        if (read_req(a, props, name, &m->reqs[m->nreqs], e) < 0)
            return -1;
        for (int k = 0; k < m->nreqs; k++)
            if (strcmp(m->reqs[k].name, m->reqs[m->nreqs].name) == 0)
                return derr_set(e, 422, "invalid", "requirements.%.60s: listed twice", m->reqs[k].name);
        m->nreqs++;
    }
    return 0;
}

static json_t *requirements_json(const hex_metadata *m)
{
    json_t *o = json_object();
    for (int i = 0; i < m->nreqs; i++) {
        const hex_requirement *r = &m->reqs[i];
        json_t *x = json_object();
        json_object_set_new(x, "app", json_string(r->app));
        json_object_set_new(x, "optional", json_boolean(r->optional));
        json_object_set_new(x, "requirement", json_string(r->requirement));
        if (r->repository)
            json_object_set_new(x, "repository", json_string(r->repository));
        json_object_set_new(o, r->name, x);
    }
    return o;
}

int hex_metadata_parse(arena *a, const char *text, size_t n, hex_metadata *out, derr *e)
{
    memset(out, 0, sizeof *out);
    term **forms;
    size_t nforms;
    if (term_parse(a, text, n, &forms, &nforms, e) < 0)
        return -1;
    json_t *doc = json_object();
    arena_on_free(a, (void (*)(void *))json_decref, doc);
    out->json = doc;
    const term *reqs = NULL;
    for (size_t i = 0; i < nforms; i++) {
        const term *f = forms[i];
        const char *k;
        size_t kl;
        if (f->kind != TERM_TUPLE || f->n != 2 || !term_text(a, f->items[0], &k, &kl))
            return derr_set(e, 422, "invalid", "metadata.config: every term should be a {Key, Value} pair");
        if (kl == 12 && memcmp(k, "requirements", 12) == 0)
            reqs = f->items[1];
        else
            json_object_setn_new(doc, k, kl, term_to_json(a, f->items[1]));
    }
    if (want_string(doc, "name", true, &out->name, e) < 0 ||
        want_string(doc, "version", true, &out->version, e) < 0 ||
        want_string(doc, "app", false, &out->app, e) < 0 ||
        want_string(doc, "description", false, &out->description, e) < 0 ||
        want_string(doc, "elixir", false, &out->elixir, e) < 0 ||
        want_strings(doc, "licenses", &out->licenses, e) < 0 ||
        want_strings(doc, "files", &out->files, e) < 0 ||
        want_strings(doc, "build_tools", &out->build_tools, e) < 0 ||
        want_strings(doc, "maintainers", &out->maintainers, e) < 0 ||
        want_string_map(doc, "links", &out->links, e) < 0)
        return -1;
    if (!out->app) {
        out->app = out->name;
        json_object_set_new(doc, "app", json_string(out->name));
    }
    if (read_requirements(a, reqs, out, e) < 0)
        return -1;
    json_object_set_new(doc, "requirements", requirements_json(out));
    return 0;
}

int hex_check_requirements(arena *a, const hex_metadata *m, derr *e)
{
    for (int i = 0; i < m->nreqs; i++) {
        const hex_requirement *r = &m->reqs[i];
        derr why;
        if (hex_check_name(r->name, "name", &why) < 0)
            return derr_set(e, 422, "invalid", "requirements.%.60s: %s", r->name, why.message);
        if (!semver_req_parse(a, SEMVER_HEX, r->requirement, &why))
            return derr_set(e, 422, "invalid", "requirements.%.60s: invalid requirement '%.80s'", r->name,
                            r->requirement);
    }
    return 0;
}

void hex_guess_build_tools(hex_metadata *m, const char *const *paths, int n)
{
    if (json_array_size(m->build_tools) > 0)
        return;
    static const struct {
        const char *file, *tool;
    } guesses[] = {{"mix.exs", "mix"},
                   {"rebar.config", "rebar3"},
                   {"rebar", "rebar3"},
                   {"Makefile", "make"},
                   {"Makefile.win", "make"}};
    for (size_t g = 0; g < sizeof guesses / sizeof guesses[0]; g++) {
        int found = 0;
        for (int i = 0; i < n && !found; i++)
            found = strcmp(paths[i], guesses[g].file) == 0;
        if (!found)
            continue;
        int dup = 0;
        size_t k;
        json_t *x;
        json_array_foreach(m->build_tools, k, x) dup |= strcmp(json_string_value(x), guesses[g].tool) == 0;
        if (!dup)
            json_array_append_new(m->build_tools, json_string(guesses[g].tool));
    }
}
