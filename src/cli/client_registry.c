/*
 * client_registry.c — the client commands that read or change one package on
 * the registry: `depot search`, `depot info`, `depot yank` and
 * `depot owner add | remove | list`. Each is one or two calls to the native
 * API, rendered as plain text for a person (`info --json` prints the
 * registry's document as it is, for scripts).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static const char search_usage[] = "usage: depot search [QUERY] [--page N] [--per-page N] [--registry URL]\n"
                                   "\n"
                                   "Searches the registry's packages by name, description and keywords.\n";

static const char info_usage[] = "usage: depot info NAME[@VERSION] [--json] [--registry URL]\n"
                                 "\n"
                                 "Shows a package (its versions, owners, links) or one version (checksum,\n"
                                 "signature, dependencies). --json prints the registry's document.\n";

static const char yank_usage[] = "usage: depot yank NAME@VERSION [--undo] [--registry URL]\n"
                                 "\n"
                                 "Yanks a version: it stays downloadable for lock files and exact pins, but\n"
                                 "resolving never picks it. --undo unyanks it.\n";

static const char owner_usage[] = "usage: depot owner add NAME USER\n"
                                  "       depot owner remove NAME USER\n"
                                  "       depot owner list NAME\n";

static const char *str(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static bool valid_number(const char *s)
{
    if (!s || !*s)
        return false;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 && v <= 1000000;
}

int client_search(client *c, int argc, char **argv)
{
    const char *page = NULL, *per_page = NULL;
    client_opt opts[] = {{"--page", true, &page, NULL}, {"--per-page", true, &per_page, NULL}, {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 1, search_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    if ((page && !valid_number(page)) || (per_page && !valid_number(per_page))) {
        return client_usage_error("--page and --per-page take a positive number", search_usage);
    }
    const char *q = npos ? pos[0] : "";
    const char *path =
        arena_printf(c->a, "/api/v1/packages?search=%s%s%s%s%s", client_esc(c, q), page ? "&page=" : "",
                     page ? page : "", per_page ? "&per_page=" : "", per_page ? per_page : "");
    client_resp r;
    if (client_expect(c, "GET", path, NULL, 200, "search", &r) < 0)
        return EXIT_FAIL;
    json_t *pkgs = json_object_get(r.json, "packages");
    json_int_t total = json_integer_value(json_object_get(r.json, "total"));
    json_int_t pg = json_integer_value(json_object_get(r.json, "page"));
    json_int_t pp = json_integer_value(json_object_get(r.json, "per_page"));
    if (!json_array_size(pkgs)) {
        if (total > 0)
            printf("No packages on page %lld (%lld in all).\n", (long long)pg, (long long)total);
        else
            printf("No packages match '%s'.\n", q);
        return EXIT_OK;
    }
    int wn = 4, wv = 7;
    size_t i;
    json_t *s;
    json_array_foreach(pkgs, i, s)
    {
        int a = (int)strlen(str(s, "name")), b = (int)strlen(str(s, "latest"));
        wn = a > wn ? a : wn;
        wv = b > wv ? b : wv;
    }
    printf("%-*s  %-*s  %s\n", wn, "NAME", wv, "VERSION", "DESCRIPTION");
    json_array_foreach(pkgs, i, s)
    {
        const char *d = str(s, "description");
        printf("%-*s  %-*s  %.*s%s\n", wn, str(s, "name"), wv, str(s, "latest"), 70, d,
               strlen(d) > 70 ? "..." : "");
    }
    if (pp > 0 && total > 0) {
        long long pages = (total + pp - 1) / pp;
        printf("page %lld of %lld (%lld package%s)\n", (long long)pg, pages, (long long)total,
               total == 1 ? "" : "s");
    }
    return EXIT_OK;
}

/* Prints a dependency map, which the registry may send as {name: req} or [{name, requirement}]. */
static void print_deps(const char *title, json_t *deps)
{
    if (json_is_object(deps) && json_object_size(deps)) {
        printf("%s:\n", title);
        const char *k;
        json_t *v;
        json_object_foreach(deps, k, v)
        {
            printf("  %s %s\n", k, json_is_string(v) ? json_string_value(v) : str(v, "requirement"));
        }
    } else if (json_is_array(deps) && json_array_size(deps)) {
        printf("%s:\n", title);
        size_t i;
        json_t *v;
        json_array_foreach(deps, i, v)
        {
            const char *req = str(v, "requirement");
            printf("  %s %s\n", str(v, "name"), req[0] ? req : str(v, "req"));
        }
    }
}

static void print_list(const char *title, json_t *arr, const char *field)
{
    if (!json_array_size(arr))
        return;
    printf("%-13s", title);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        printf("%s%s", i ? ", " : "", json_is_string(v) ? json_string_value(v) : str(v, field));
    }
    printf("\n");
}

static void print_field(const char *title, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_string(v) && json_string_value(v)[0])
        printf("%-13s%s\n", title, json_string_value(v));
    else if (json_is_integer(v))
        printf("%-13s%lld\n", title, (long long)json_integer_value(v));
}

static void print_package(json_t *d)
{
    printf("%s %s\n", str(d, "name"), str(d, "latest"));
    if (str(d, "description")[0])
        printf("%s\n", str(d, "description"));
    printf("\n");
    print_field("license:", d, "license");
    print_field("homepage:", d, "homepage");
    print_field("repository:", d, "repository");
    print_field("docs:", d, "documentation");
    print_list("keywords:", json_object_get(d, "keywords"), "name");
    print_list("categories:", json_object_get(d, "categories"), "name");
    print_list("authors:", json_object_get(d, "authors"), "name");
    print_list("owners:", json_object_get(d, "owners"), "username");
    print_field("downloads:", d, "downloads");
    print_field("updated:", d, "updated_at");
    if (json_is_true(json_object_get(d, "require_signatures")))
        printf("%-13s%s\n", "signatures:", "required");
    json_t *vs = json_object_get(d, "versions");
    if (json_array_size(vs)) {
        printf("versions:\n");
        size_t i;
        json_t *v;
        json_array_foreach(vs, i, v)
        {
            printf("  %-16s %s%s\n", str(v, "version"), str(v, "published_at"),
                   json_is_true(json_object_get(v, "yanked")) ? "  (yanked)" : "");
        }
    }
}

static void print_version(json_t *d, const char *name)
{
    const char *n = str(d, "name");
    printf("%s@%s%s\n", n[0] ? n : name, str(d, "version"),
           json_is_true(json_object_get(d, "yanked")) ? " (yanked)" : "");
    json_t *pub = json_object_get(d, "publisher");
    const char *who = json_is_string(pub) ? json_string_value(pub) : str(pub, "username");
    printf("%-13s%s%s%s\n", "published:", str(d, "published_at"), who[0] ? " by " : "", who);
    print_field("sha256:", d, "sha256");
    print_field("size:", d, "size");
    print_field("license:", d, "license");
    print_field("downloads:", d, "downloads");
    json_t *sig = json_object_get(d, "signature");
    if (json_is_object(sig))
        printf("%-13s%s, key %s\n", "signature:", str(sig, "algorithm"), str(sig, "key_id"));
    else
        printf("%-13s%s\n", "signature:", "none");
    print_field("download:", d, "download_url");
    print_deps("dependencies", json_object_get(d, "dependencies"));
    print_deps("dev dependencies", json_object_get(d, "dev_dependencies"));
}

int client_info(client *c, int argc, char **argv)
{
    bool as_json = false;
    client_opt opts[] = {{"--json", false, NULL, &as_json}, {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 1, info_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    if (npos != 1)
        return client_usage_error("info: which package?", info_usage);
    const char *at = strchr(pos[0], '@');
    const char *name = at ? arena_strndup(c->a, pos[0], (size_t)(at - pos[0])) : pos[0];
    const char *version = at ? at + 1 : NULL;
    if (!name[0] || (version && !version[0]))
        return client_usage_error("info: expected NAME or NAME@VERSION", info_usage);
    const char *path = version ? arena_printf(c->a, "/api/v1/packages/%s/versions/%s", client_esc(c, name),
                                              client_esc(c, version))
                               : arena_printf(c->a, "/api/v1/packages/%s", client_esc(c, name));
    client_resp r;
    if (client_expect(c, "GET", path, NULL, 200, version ? arena_printf(c->a, "%s@%s", name, version) : name,
                      &r) < 0)
        return EXIT_FAIL;
    if (!json_is_object(r.json)) {
        fprintf(stderr, "depot: %s: the registry's answer is not a JSON object\n", name);
        return EXIT_FAIL;
    }
    if (as_json) {
        json_dumpf(r.json, stdout, JSON_INDENT(2));
        printf("\n");
    } else if (version)
        print_version(r.json, name);
    else
        print_package(r.json);
    return EXIT_OK;
}

int client_yank(client *c, int argc, char **argv)
{
    bool undo = false;
    client_opt opts[] = {{"--undo", false, NULL, &undo}, {0}};
    const char *pos[1];
    int npos = client_parse(argc, argv, opts, pos, 1, yank_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    const char *at = npos ? strchr(pos[0], '@') : NULL;
    if (!at || at == pos[0] || !at[1])
        return client_usage_error("yank: expected NAME@VERSION", yank_usage);
    const char *name = arena_strndup(c->a, pos[0], (size_t)(at - pos[0]));
    const char *version = at + 1;
    const char *path = arena_printf(c->a, "/api/v1/packages/%s/versions/%s/yank", client_esc(c, name),
                                    client_esc(c, version));
    client_resp r;
    if (client_expect(c, undo ? "DELETE" : "PUT", path, NULL, CLIENT_200_OR_204,
                      arena_printf(c->a, "cannot %s %s@%s", undo ? "unyank" : "yank", name, version), &r) < 0)
        return EXIT_FAIL;
    printf("%s %s@%s\n", undo ? "Unyanked" : "Yanked", name, version);
    return EXIT_OK;
}

int client_owner(client *c, int argc, char **argv)
{
    const char *pos[3];
    int npos = client_parse(argc, argv, NULL, pos, 3, owner_usage);
    if (npos < 0)
        return client_parse_exit(npos);
    const char *sub = npos ? pos[0] : "";
    client_resp r;
    if (strcmp(sub, "list") == 0 && npos == 2) {
        const char *path = arena_printf(c->a, "/api/v1/packages/%s/owners", client_esc(c, pos[1]));
        if (client_expect(c, "GET", path, NULL, 200, arena_printf(c->a, "owners of %s", pos[1]), &r) < 0)
            return EXIT_FAIL;
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(r.json, "owners"), i, o)
        {
            const char *level = str(o, "level");
            printf("%s%s%s%s\n", str(o, "username"), level[0] ? " (" : "", level, level[0] ? ")" : "");
        }
        return EXIT_OK;
    }
    bool add = strcmp(sub, "add") == 0;
    if ((add || strcmp(sub, "remove") == 0) && npos == 3) {
        const char *path =
            arena_printf(c->a, "/api/v1/packages/%s/owners/%s", client_esc(c, pos[1]), client_esc(c, pos[2]));
        const char *what = arena_printf(c->a, "cannot %s %s %s %s", sub, pos[2],
                                        add ? "to the owners of" : "from the owners of", pos[1]);
        if (client_expect(c, add ? "PUT" : "DELETE", path, NULL, CLIENT_ANY_2XX, what, &r) < 0)
            return EXIT_FAIL;
        printf("%s %s %s the owners of %s\n", add ? "Added" : "Removed", pos[2], add ? "to" : "from", pos[1]);
        return EXIT_OK;
    }
    return client_usage_error("owner: expected add NAME USER, remove NAME USER or list NAME", owner_usage);
}
