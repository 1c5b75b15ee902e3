/*
 * front.c — what the rest of the program asks of the Hex front (its
 * descriptor is in routes.c): its options, the repository key made at
 * start, the dashboard's install and publish lines, and retirement as a
 * status action.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "../lib/semver.h"
#include "hex.h"
#include "options.h"
#include "sign.h"

#define O(f) offsetof(hex_options, f)

const config_opt hex_option_table[] = {
    {"hex-repo", CONFIG_STR, "depot", O(repo), 0, 0,
     "name of the Hex repository clients configure (signed into every registry file)"},
    {"hex-key", CONFIG_STR, "", O(key), 0, 0,
     "PEM RSA private key signing the Hex registry (default DATA/hex_repo_key.pem, made at first start)"},
    {"hex-max-tarball", CONFIG_LONG, "16777216", O(max_tarball), 1024, LONG_MAX,
     "largest Hex package tarball, bytes (hex.pm: 16 MiB; rebar3 before 3.24 and Hex before 2.2 refuse to "
     "unpack more than 8 MiB)"},
    {"hex-max-uncompressed", CONFIG_LONG, "134217728", O(max_uncompressed), 1024, LONG_MAX,
     "largest expansion of a Hex package's contents, bytes (hex.pm: 128 MiB)"},
    {"hex-replace-window", CONFIG_LONG, "3600", O(replace_window), 0, LONG_MAX,
     "seconds after publication during which owners may replace a release's bytes (publish --replace) "
     "or revert it (hex.pm: one hour); 0: never"},
    {NULL},
};

const hex_options *hex_opts(const config *cfg)
{
    static const hex_options none = {.repo = "", .key = ""};
    const hex_options *o = config_eco(cfg, &hex_front.eco);
    return o ? o : &none;
}

long hex_replace_window(const config *cfg)
{
    return hex_opts(cfg)->replace_window;
}

int hex_start(const config *cfg, derr *e)
{
    /* The repository key is loaded (or made, at first start) now, so the first registry read
     * does not pay for an RSA key generation. */
    const hex_key *hk;
    if (hex_key_get(cfg, &hk, e) < 0) {
        char why[sizeof e->message];
        snprintf(why, sizeof why, "%s", e->message);
        return derr_set(e, e->status, e->code, "cannot load the Hex repository key: %s", why);
    }
    return 0;
}

/* "1.4" from "1.4.2" (Hex's "~> 1.4"); for 0.x the whole version ("~> 0.20.1"), as hex.pm shows. */
static const char *requirement(req *r, const char *version)
{
    semver v;
    if (!version || semver_parse(r->a, version, &v) < 0)
        return version ? version : "0.1.0";
    if (v.major == 0 || v.pre)
        return version;
    return arena_printf(r->a, "%llu.%llu", (unsigned long long)v.major, (unsigned long long)v.minor);
}

int hex_snippets(req *r, const char *name, const char *version, front_snippet *out, int max)
{
    const char *base = r->cfg->base_url, *repo = hex_opts(r->cfg)->repo;
    if (max < 2)
        return 0;
    out[0] = (front_snippet){
        "mix.exs", arena_printf(r->a, "{:%s, \"~> %s\", repo: \"%s\"}", name, requirement(r, version), repo)};
    out[1] = (front_snippet){
        "Add the repository once",
        arena_printf(r->a,
                     "curl -so %s.pem %s/hex/repo/public_key\nmix hex.repo add %s %s/hex/repo "
                     "--public-key %s.pem",
                     repo, base, repo, base, repo)};
    return 2;
}

const char *hex_publish_lines(req *r, const char *token)
{
    const char *base = r->cfg->base_url, *repo = hex_opts(r->cfg)->repo;
    return arena_printf(r->a,
                        "curl -so %s.pem %s/hex/repo/public_key\nmix hex.repo add %s %s/hex/repo "
                        "--public-key %s.pem\nHEX_API_URL=%s/hex/api HEX_API_KEY=%s mix hex.publish",
                        repo, base, repo, base, repo, base, token);
}

const front_action hex_actions[] = {
    {"retire", ECO_RETIRE, true, true, "Retire",
     "Hex clients warn everyone who uses a retired release, with the reason and message you give.", true},
    {"unretire", ECO_RETIRE, false, true, "Unretire", "The release is no longer marked retired.", false},
    {NULL},
};
