/*
 * routes.c — the Hex front's descriptor and its one route table: both
 * mounts at a glance.
 *
 * Every repository route exists at /hex/repo/... and /hex/repo/repos/{repo}/...,
 * every repository-scoped API route at /hex/api/... and
 * /hex/api/repos/{repo}/... (hex.pm's prefixes, hex.md §1.1 and §3.1); the
 * handlers check {repo} (hex_repo_ok).
 *
 * A failed or missing credential is answered in the Hex shape
 * (hex_auth_error): Hex clients print the `message` of an Erlang-term error
 * body. Bodies that are Erlang terms take BODY_UPLOAD, since BODY_JSON
 * insists on a JSON content type; hex_body() reads them back under
 * --max-body.
 */
#include "cli.h"
#include "hex.h"

/* Reads (anyone, or the read scope under --private); writes are ROUTE_USER (a credential). */
#define R(m, p, fn, body, rl, slow) ROUTE(m, p, fn, body, AUTH_READ, rl, slow)

/* A repository route and its /repos/{repo} twin. */
#define REPO(path, fn, rl)                                                                                   \
    ROUTE_READ("/hex/repo" path, fn, rl), ROUTE_READ("/hex/repo/repos/{repo}" path, fn, rl)

/* A repository-scoped API route and its /repos/{repo} twin. */
#define API2(m, path, fn, body, rl)                                                                          \
    R(m, "/hex/api" path, fn, body, rl, false), R(m, "/hex/api/repos/{repo}" path, fn, body, rl, false)
#define API2W(m, path, fn, body, rl)                                                                         \
    ROUTE_USER(m, "/hex/api" path, fn, body, rl), ROUTE_USER(m, "/hex/api/repos/{repo}" path, fn, body, rl)

/* A publish takes at most --hex-max-tarball bytes: a larger declared size is answered 413 before
 * the body (and before `100 Continue`), with the credential checked first. */
static uint64_t publish_limit(const config *cfg)
{
    return (uint64_t)hex_opts(cfg)->max_tarball;
}
#define PUBLISH1(path)                                                                                       \
    {                                                                                                        \
        ROUTE_FIELDS("POST", path, hex_publish, BODY_UPLOAD, AUTH_USER, RL_PUBLISH, false),                  \
            .max_body = publish_limit                                                                        \
    }
#define PUBLISH(path) PUBLISH1("/hex/api" path), PUBLISH1("/hex/api/repos/{repo}" path)

static const route routes[] = {
    /* the repository */
    REPO("/names", hex_repo_names, RL_READ),
    REPO("/versions", hex_repo_versions, RL_READ),
    REPO("/packages/{name}", hex_repo_package, RL_READ),
    REPO("/tarballs/{file}", hex_repo_tarball, RL_READ),
    REPO("/docs/{file}", hex_repo_docs, RL_READ),
    /* The public key is no secret, and mix fetches it before it has a key (--fetch-public-key). */
    ROUTE("GET", "/hex/repo/public_key", hex_repo_public_key, BODY_NONE, AUTH_NONE, RL_OTHER, false),
    ROUTE("GET", "/hex/repo/repos/{repo}/public_key", hex_repo_public_key, BODY_NONE, AUTH_NONE, RL_OTHER,
          false),

    /* users and repositories */
    R("POST", "/hex/api/users", hex_users_create, BODY_UPLOAD, RL_AUTH, true),
    ROUTE_USER("GET", "/hex/api/users/me", hex_users_me, BODY_NONE, RL_OTHER),
    ROUTE_READ("/hex/api/users/{user}", hex_users_get, RL_OTHER),
    R("POST", "/hex/api/users/{user}/reset", hex_users_reset, BODY_UPLOAD, RL_AUTH, false),
    ROUTE_READ("/hex/api/repos", hex_repos_list, RL_OTHER),
    ROUTE_READ("/hex/api/repos/{repo}", hex_repos_get, RL_OTHER),

    /* keys (depot API tokens), for the user and under /orgs/{org} */
    ROUTE_USER("GET", "/hex/api/keys", hex_keys_list, BODY_NONE, RL_OTHER),
    ROUTE_USER("POST", "/hex/api/keys", hex_keys_create, BODY_UPLOAD, RL_OTHER),
    ROUTE_USER("DELETE", "/hex/api/keys", hex_keys_delete_all, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", "/hex/api/keys/{key}", hex_keys_get, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", "/hex/api/keys/{key}", hex_keys_delete, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", "/hex/api/orgs/{org}/keys", hex_keys_list, BODY_NONE, RL_OTHER),
    ROUTE_USER("POST", "/hex/api/orgs/{org}/keys", hex_keys_create, BODY_UPLOAD, RL_OTHER),
    ROUTE_USER("DELETE", "/hex/api/orgs/{org}/keys", hex_keys_delete_all, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", "/hex/api/orgs/{org}/keys/{key}", hex_keys_get, BODY_NONE, RL_OTHER),
    ROUTE_USER("DELETE", "/hex/api/orgs/{org}/keys/{key}", hex_keys_delete, BODY_NONE, RL_OTHER),
    ROUTE_USER("GET", "/hex/api/auth", hex_auth_check, BODY_NONE, RL_OTHER),

    /* packages and releases */
    API2("GET", "/packages", hex_packages_search, BODY_NONE, RL_SEARCH),
    API2("GET", "/packages/{name}", hex_packages_get, BODY_NONE, RL_OTHER),
    PUBLISH("/publish"),
    PUBLISH("/packages/{name}/releases"),
    API2("GET", "/packages/{name}/releases/{version}", hex_release_get, BODY_NONE, RL_OTHER),
    API2W("DELETE", "/packages/{name}/releases/{version}", hex_release_revert, BODY_NONE, RL_OTHER),
    API2W("POST", "/packages/{name}/releases/{version}/retire", hex_release_retire, BODY_UPLOAD, RL_OTHER),
    API2W("DELETE", "/packages/{name}/releases/{version}/retire", hex_release_unretire, BODY_NONE,
          RL_OTHER),
    API2("GET", "/packages/{name}/releases/{version}/docs", hex_release_docs_redirect, BODY_NONE, RL_OTHER),
    API2W("POST", "/packages/{name}/releases/{version}/docs", hex_docs_publish, BODY_UPLOAD, RL_PUBLISH),
    API2W("DELETE", "/packages/{name}/releases/{version}/docs", hex_docs_delete, BODY_NONE, RL_OTHER),

    /* owners */
    API2("GET", "/packages/{name}/owners", hex_owners_list, BODY_NONE, RL_OTHER),
    API2("GET", "/packages/{name}/owners/{user}", hex_owners_get, BODY_NONE, RL_OTHER),
    API2W("PUT", "/packages/{name}/owners/{user}", hex_owners_add, BODY_UPLOAD, RL_OTHER),
    API2W("DELETE", "/packages/{name}/owners/{user}", hex_owners_remove, BODY_NONE, RL_OTHER),
};

/* The repository key (sign.c) lives in the data folder unless --hex-key names another file. */
static const char *const hex_secrets[] = {"hex_repo_key.pem", NULL};

const front hex_front = {
    .eco =
        {
            .name = HEX,
            .label = "Hex",
            .dialect = SEMVER_HEX,
            .verbs = ECO_RETIRE,
            .opts = hex_option_table,
            .opts_size = sizeof(hex_options),
            .start = hex_start,
            .command = hex_cli,
            .command_help = "fingerprint | public-key: the Hex repository key for mix and rebar3",
            .secrets = hex_secrets,
            .replace_window = hex_replace_window,
        },
    .routes = {ROUTE_SET(HEX, routes), .auth_error = hex_auth_error, .error = hex_front_error},
    .error = hex_front_error,
    .snippets = hex_snippets,
    .publish_label = "mix (Hex)",
    .publish_lines = hex_publish_lines,
    .actions = hex_actions,
};
