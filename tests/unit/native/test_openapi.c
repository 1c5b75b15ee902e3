/*
 * Unit tests for the embedded OpenAPI document (src/native/openapi.json):
 * it parses, it is 3.1, it describes exactly the routes of the native and
 * ops fronts (method, path, auth, rate-limit class, path parameters), every
 * $ref resolves inside it, every operation is complete, and the served
 * rendering only swaps `servers` for the base URL.
 */
/* cmocka needs these first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "http/router.h"
#include "http/server.h"
#include "native/native.h"
#include "native/openapi.h"

static json_t *doc;

static const char *const http_methods[] = {"get",  "put",   "post",  "delete", "options",
                                           "head", "patch", "trace", NULL};

static bool is_method(const char *k)
{
    for (int i = 0; http_methods[i]; i++)
        if (strcmp(k, http_methods[i]) == 0)
            return true;
    return false;
}

static bool documented_front(const route_set *rs)
{
    return strcmp(rs->front, "native") == 0 || strcmp(rs->front, "ops") == 0;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}


/* The operation for a route, or NULL. */
static json_t *operation(const route *rt)
{
    char m[16];
    lower(rt->method, m, sizeof m);
    return json_object_get(json_object_get(json_object_get(doc, "paths"), rt->pattern), m);
}

/* Resolves a local JSON pointer ("#/components/schemas/User"), or NULL. */
static json_t *pointer(const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    json_t *node = doc;
    const char *p = ref + 2;
    for (;;) {
        size_t n = strcspn(p, "/");
        char key[256];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (k + 1 >= sizeof key)
                return NULL;
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                key[k++] = p[i + 1] == '0' ? '~' : '/';
                i++;
            } else {
                key[k++] = p[i];
            }
        }
        key[k] = '\0';
        if (json_is_object(node)) {
            node = json_object_get(node, key);
        } else if (json_is_array(node)) {
            char *end;
            unsigned long idx = strtoul(key, &end, 10);
            node = *key && !*end ? json_array_get(node, idx) : NULL;
        } else {
            return NULL;
        }
        if (!node || !p[n])
            return node;
        p += n + 1;
    }
}

/* A parameter object, following one $ref. */
static json_t *deref(json_t *v)
{
    json_t *r = json_object_get(v, "$ref");
    return json_is_string(r) ? pointer(json_string_value(r)) : v;
}

static int setup(void **state)
{
    (void)state;
    json_error_t je;
    doc = json_loadb(openapi_json, openapi_json_len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(doc)) {
        fprintf(stderr, "openapi.json: line %d column %d: %s\n", je.line, je.column, je.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(doc);
    return 0;
}

static void test_embedded_bytes(void **state)
{
    (void)state;
    assert_true(openapi_json_len > 1000);
    assert_int_equal(openapi_json[openapi_json_len], '\0');
    assert_int_equal(strlen(openapi_json), openapi_json_len);
}

static void test_openapi_version(void **state)
{
    (void)state;
    const char *v = json_string_value(json_object_get(doc, "openapi"));
    assert_non_null(v);
    assert_memory_equal(v, "3.1", 3);
    assert_non_null(json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
    assert_non_null(json_string_value(json_object_get(json_object_get(doc, "info"), "version")));
    assert_true(json_array_size(json_object_get(doc, "servers")) >= 1);
}

/* Every route of the native and ops fronts is documented, with its auth and rate-limit class. */
static void test_every_route_documented(void **state)
{
    (void)state;
    int missing = 0, checked = 0;
    for (unsigned f = 0; f < server_nfronts; f++) {
        const route_set *rs = server_fronts[f];
        if (!documented_front(rs))
            continue;
        for (size_t i = 0; i < rs->n; i++) {
            const route *rt = &rs->routes[i];
            json_t *op = operation(rt);
            checked++;
            if (!op) {
                fprintf(stderr, "not documented: %s %s\n", rt->method, rt->pattern);
                missing++;
                continue;
            }
            const char *auth = json_string_value(json_object_get(op, "x-depot-auth"));
            const char *rl = json_string_value(json_object_get(op, "x-depot-rate-limit"));
            if (!auth || strcmp(auth, route_auth_name(rt->auth)) != 0) {
                fprintf(stderr, "%s %s: x-depot-auth %s, the route says %s\n", rt->method, rt->pattern,
                        auth ? auth : "(none)", route_auth_name(rt->auth));
                missing++;
            }
            if (!rl || strcmp(rl, route_rl_name(route_rate_class(rt))) != 0) {
                fprintf(stderr, "%s %s: x-depot-rate-limit %s, the route says %s\n", rt->method, rt->pattern,
                        rl ? rl : "(none)", route_rl_name(route_rate_class(rt)));
                missing++;
            }
        }
    }
    assert_true(checked > 0);
    assert_int_equal(missing, 0);
}

/* Every documented operation is a route (nothing stale). */
static void test_no_stale_operations(void **state)
{
    (void)state;
    int stale = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            if (!is_method(m))
                continue;
            bool found = false;
            for (unsigned f = 0; f < server_nfronts && !found; f++) {
                const route_set *rs = server_fronts[f];
                if (!documented_front(rs))
                    continue;
                for (size_t i = 0; i < rs->n && !found; i++) {
                    char lm[16];
                    lower(rs->routes[i].method, lm, sizeof lm);
                    found = strcmp(rs->routes[i].pattern, path) == 0 && strcmp(lm, m) == 0;
                }
            }
            if (!found) {
                fprintf(stderr, "documented but not routed: %s %s\n", m, path);
                stale++;
            }
        }
    }
    assert_int_equal(stale, 0);
}

static int bad_refs;

/* Walks v, whose JSON pointer is where (a buffer of cap bytes it appends to). */
static void walk_refs(json_t *v, char *where, size_t cap)
{
    size_t at = strlen(where);
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (strcmp(k, "$ref") == 0 && json_is_string(x)) {
                if (!pointer(json_string_value(x))) {
                    fprintf(stderr, "unresolved $ref %s at %s\n", json_string_value(x), where);
                    bad_refs++;
                }
                continue;
            }
            size_t w = at;
            if (w + 1 < cap)
                where[w++] = '/';
            for (const char *c = k; *c && w + 2 < cap; c++) {
                if (*c == '/' || *c == '~') {
                    where[w++] = '~';
                    where[w++] = *c == '/' ? '1' : '0';
                } else {
                    where[w++] = *c;
                }
            }
            where[w] = '\0';
            walk_refs(x, where, cap);
            where[at] = '\0';
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x)
        {
            snprintf(where + at, cap - at, "/%zu", i);
            walk_refs(x, where, cap);
            where[at] = '\0';
        }
    }
}

static void test_refs_resolve(void **state)
{
    (void)state;
    bad_refs = 0;
    char where[1024] = "#";
    walk_refs(doc, where, sizeof where);
    assert_int_equal(bad_refs, 0);
    /* The walker itself finds what it should. */
    assert_non_null(pointer("#/components/schemas/Error"));
    assert_non_null(pointer("#/paths/~1api~1v1~1tokens~1{name}/get"));
    assert_null(pointer("#/components/schemas/Nope"));
    assert_null(pointer("https://example.com/x.json"));
}

static void test_operations_complete(void **state)
{
    (void)state;
    json_t *ids = json_object();
    int bad = 0, nops = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            if (!is_method(m))
                continue;
            nops++;
            const char *id = json_string_value(json_object_get(op, "operationId"));
            json_t *resps = json_object_get(op, "responses");
            if (!id || !*id) {
                fprintf(stderr, "%s %s: no operationId\n", m, path);
                bad++;
            } else if (json_object_get(ids, id)) {
                fprintf(stderr, "%s %s: operationId %s is used twice\n", m, path, id);
                bad++;
            } else {
                json_object_set_new(ids, id, json_true());
            }
            if (!json_is_object(resps) || json_object_size(resps) == 0) {
                fprintf(stderr, "%s %s: no responses\n", m, path);
                bad++;
            }
            const char *code;
            json_t *resp;
            bool success = false;
            json_object_foreach(resps, code, resp)
            {
                bool ok = strcmp(code, "default") == 0 ||
                          (strlen(code) == 3 && code[0] >= '1' && code[0] <= '5' &&
                           ((isdigit((unsigned char)code[1]) && isdigit((unsigned char)code[2])) ||
                            strcmp(code + 1, "XX") == 0));
                if (!ok) {
                    fprintf(stderr, "%s %s: response key %s\n", m, path, code);
                    bad++;
                }
                success |= code[0] == '2';
                if (!json_is_string(json_object_get(deref(resp), "description"))) {
                    fprintf(stderr, "%s %s: response %s has no description\n", m, path, code);
                    bad++;
                }
            }
            if (!success) {
                fprintf(stderr, "%s %s: no 2xx response\n", m, path);
                bad++;
            }
            if (!json_is_array(json_object_get(op, "security"))) {
                fprintf(stderr, "%s %s: no security requirement\n", m, path);
                bad++;
            }
        }
    }
    json_decref(ids);
    assert_true(nops > 0);
    assert_int_equal(bad, 0);
}

/* Each {param} of a path is a required path parameter of its operations, and no other is. */
static void test_path_parameters(void **state)
{
    (void)state;
    int bad = 0;
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            if (!is_method(m))
                continue;
            int in_path = 0, declared = 0;
            for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{'))
                in_path++;
            size_t i;
            json_t *prm;
            json_array_foreach(json_object_get(op, "parameters"), i, prm)
            {
                json_t *d = deref(prm);
                const char *in = json_string_value(json_object_get(d, "in"));
                const char *name = json_string_value(json_object_get(d, "name"));
                if (!in || !name) {
                    fprintf(stderr, "%s %s: parameter %zu has no name or in\n", m, path, i);
                    bad++;
                    continue;
                }
                if (strcmp(in, "path") != 0)
                    continue;
                declared++;
                char want[80];
                snprintf(want, sizeof want, "{%s}", name);
                if (!strstr(path, want) || !json_is_true(json_object_get(d, "required"))) {
                    fprintf(stderr, "%s %s: path parameter %s is not in the path or not required\n", m, path,
                            name);
                    bad++;
                }
            }
            if (declared != in_path) {
                fprintf(stderr, "%s %s: %d path parameters declared, %d in the path\n", m, path, declared,
                        in_path);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* The three credential schemes, and operations name only those; anonymous access ({}) is
 * allowed exactly where the route lets anonymous callers in. */
static void test_security(void **state)
{
    (void)state;
    json_t *schemes = json_object_get(json_object_get(doc, "components"), "securitySchemes");
    json_t *bearer = json_object_get(schemes, "bearerAuth"), *basic = json_object_get(schemes, "basicAuth"),
           *bare = json_object_get(schemes, "tokenHeader");
    assert_string_equal(json_string_value(json_object_get(bearer, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    assert_string_equal(json_string_value(json_object_get(basic, "type")), "http");
    assert_string_equal(json_string_value(json_object_get(basic, "scheme")), "basic");
    assert_string_equal(json_string_value(json_object_get(bare, "type")), "apiKey");
    assert_string_equal(json_string_value(json_object_get(bare, "in")), "header");
    assert_string_equal(json_string_value(json_object_get(bare, "name")), "Authorization");

    int bad = 0;
    for (unsigned f = 0; f < server_nfronts; f++) {
        const route_set *rs = server_fronts[f];
        if (!documented_front(rs))
            continue;
        for (size_t i = 0; i < rs->n; i++) {
            const route *rt = &rs->routes[i];
            json_t *op = operation(rt);
            if (!op)
                continue; /* reported by test_every_route_documented */
            bool anonymous = false;
            size_t j;
            json_t *alt;
            json_array_foreach(json_object_get(op, "security"), j, alt)
            {
                if (json_object_size(alt) == 0)
                    anonymous = true;
                const char *name;
                json_t *roles;
                json_object_foreach(alt, name, roles)
                {
                    if (!json_object_get(schemes, name)) {
                        fprintf(stderr, "%s %s: unknown security scheme %s\n", rt->method, rt->pattern, name);
                        bad++;
                    }
                }
            }
            if (anonymous != (rt->auth != AUTH_USER)) {
                fprintf(stderr, "%s %s: anonymous access %s in the document\n", rt->method, rt->pattern,
                        anonymous ? "allowed" : "refused");
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

static void test_schemas_present(void **state)
{
    (void)state;
    static const char *const names[] = {
        "User",           "Session",       "Token",        "TokenWithSecret", "Error",    "PackageSummary",
        "Package",        "Version",       "SearchResult", "Owners",          "Stats",    "PackageStats",
        "ResolveRequest", "ResolveResult", "Key",          "Health",          "Manifest", NULL};
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    for (int i = 0; names[i]; i++)
        if (!json_object_get(schemas, names[i]))
            fail_msg("components.schemas.%s is missing", names[i]);
}

/* The route that serves the document is the one documented as needing nothing. */
static void test_served_route(void **state)
{
    (void)state;
    const route *found = NULL;
    for (unsigned f = 0; f < server_nfronts; f++)
        for (size_t i = 0; i < server_fronts[f]->n; i++)
            if (server_fronts[f]->routes[i].fn == native_openapi)
                found = &server_fronts[f]->routes[i];
    assert_non_null(found);
    assert_string_equal(found->method, "GET");
    assert_string_equal(found->pattern, "/api/v1/openapi.json");
    assert_int_equal(found->auth, AUTH_NONE);
}

/* The served rendering is the document with `servers` set to the base URL, nothing else. */
static void test_render(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = openapi_render("https://registry.example.com/depot", &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_null(strchr(text, '\n')); /* compact */
    json_t *got = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    assert_non_null(got);
    json_t *servers = json_object_get(got, "servers");
    assert_int_equal(json_array_size(servers), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(servers, 0), "url")),
                        "https://registry.example.com/depot");
    json_t *want = json_deep_copy(doc);
    json_object_del(want, "servers");
    json_object_del(got, "servers");
    assert_true(json_equal(got, want));
    json_decref(got);
    json_decref(want);

    /* No base URL: the document as written. */
    text = openapi_render(NULL, &len);
    assert_non_null(text);
    got = json_loads(text, 0, NULL);
    free(text);
    assert_true(json_equal(got, doc));
    json_decref(got);

    /* A base URL that needs escaping stays one JSON string. */
    text = openapi_render("http://h/\"x\\", &len);
    assert_non_null(text);
    got = json_loads(text, 0, NULL);
    free(text);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(json_object_get(got, "servers"), 0), "url")),
        "http://h/\"x\\");
    json_decref(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_bytes),
        cmocka_unit_test(test_openapi_version),
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_no_stale_operations),
        cmocka_unit_test(test_refs_resolve),
        cmocka_unit_test(test_operations_complete),
        cmocka_unit_test(test_path_parameters),
        cmocka_unit_test(test_security),
        cmocka_unit_test(test_schemas_present),
        cmocka_unit_test(test_served_route),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
