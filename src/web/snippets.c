/*
 * snippets.c — the lines a person copies to install a package, for each
 * ecosystem's own client: a mix.exs dependency (with this server's Hex
 * repository name), a pubspec.yaml dependency hosted here, an npm command
 * pointed at this registry, and the depot client's command. Requirements
 * follow each ecosystem's custom for "compatible with this version".
 */
#include <stdio.h>
#include <string.h>

#include "../lib/semver.h"
#include "web.h"

/* "1.4" from "1.4.2" (Hex's "~> 1.4"); for 0.x the whole version ("~> 0.20.1"), as hex.pm shows. */
static const char *hex_req(req *r, const char *version)
{
    semver v;
    if (!version || semver_parse(r->a, version, &v) < 0)
        return version ? version : "0.1.0";
    if (v.major == 0 || v.pre)
        return version;
    return arena_printf(r->a, "%llu.%llu", (unsigned long long)v.major, (unsigned long long)v.minor);
}

int web_snippets(req *r, const char *eco, const char *name, const char *version, snippet *out, int max)
{
    int n = 0;
    const char *base = r->cfg->base_url;
    const char *ver = version ? version : "0.1.0";
    if (max < 2)
        return 0;
    if (!strcmp(eco, "hex")) {
        out[n++] = (snippet){"mix.exs", arena_printf(r->a, "{:%s, \"~> %s\", repo: \"%s\"}", name,
                                                     hex_req(r, version), r->cfg->hex_repo)};
        out[n++] =
            (snippet){"Add the repository once",
                      arena_printf(r->a,
                                   "curl -so %s.pem %s/hex/repo/public_key\nmix hex.repo add %s %s/hex/repo "
                                   "--public-key %s.pem",
                                   r->cfg->hex_repo, base, r->cfg->hex_repo, base, r->cfg->hex_repo)};
    } else if (!strcmp(eco, "pub")) {
        out[n++] = (snippet){"pubspec.yaml",
                             arena_printf(r->a, "dependencies:\n  %s:\n    hosted: %s/pub\n    version: ^%s",
                                          name, base, ver)};
        out[n++] = (snippet){"Command",
                             arena_printf(r->a, "dart pub add %s:^%s --hosted-url %s/pub", name, ver, base)};
    } else if (!strcmp(eco, "npm")) {
        out[n++] = (snippet){"Command", arena_printf(r->a, "npm install %s --registry %s/npm/", name, base)};
        out[n++] = (snippet){"package.json", arena_printf(r->a, "\"%s\": \"^%s\"", name, ver)};
    } else {
        out[n++] =
            (snippet){"Command", arena_printf(r->a, "depot install %s@^%s --registry %s", name, ver, base)};
        out[n++] = (snippet){"depot.json", arena_printf(r->a, "\"%s\": \"^%s\"", name, ver)};
    }
    return n;
}
