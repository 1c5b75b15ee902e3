/*
 * front.c — what the rest of the program asks of the pub front (its
 * descriptor is in routes.c): its options, the dashboard's install and
 * publish lines, and retraction and discontinuation as status actions.
 */
#include <limits.h>
#include <stddef.h>

#include "options.h"
#include "pub.h"

#define O(f) offsetof(pub_options, f)

const config_opt pub_option_table[] = {
    {"upload-ttl", CONFIG_LONG, "3600", O(upload_ttl), 60, 604800,
     "seconds an unfinished two-step upload (pub) is kept"},
    {"pub-max-archive", CONFIG_LONG, "104857600", O(max_archive), 1024, LONG_MAX,
     "largest pub package archive, bytes (pub.dev: 100 MiB; --max-upload caps every upload too)"},
    {"pub-max-unpacked", CONFIG_LONG, "268435456", O(max_unpacked), 1024, LONG_MAX,
     "largest expansion of a pub package archive, bytes (pub.dev: 256 MiB)"},
    {"pub-max-entries", CONFIG_LONG, "65536", O(max_entries), 1, 10000000,
     "most entries in a pub package archive (pub.dev: 65,536)"},
    {NULL},
};

const pub_options *pub_opts(const config *cfg)
{
    static const pub_options none;
    const pub_options *o = config_eco(cfg, &pub_front.eco);
    return o ? o : &none;
}

int pub_snippets(req *r, const char *name, const char *version, front_snippet *out, int max)
{
    const char *base = r->cfg->base_url;
    const char *ver = version ? version : "0.1.0";
    if (max < 2)
        return 0;
    out[0] = (front_snippet){
        "pubspec.yaml",
        arena_printf(r->a, "dependencies:\n  %s:\n    hosted: %s/pub\n    version: ^%s", name, base, ver)};
    out[1] = (front_snippet){"Command",
                             arena_printf(r->a, "dart pub add %s:^%s --hosted-url %s/pub", name, ver, base)};
    return 2;
}

const char *pub_publish_lines(req *r, const char *token)
{
    (void)token;
    const char *base = r->cfg->base_url;
    return arena_printf(r->a,
                        "dart pub token add %s/pub   # paste the token\n# pubspec.yaml: publish_to: "
                        "%s/pub\ndart pub publish",
                        base, base);
}

const front_action pub_actions[] = {
    {"retract", ECO_RETRACT, true, true, "Retract",
     "pub no longer picks a retracted version for new resolutions; existing lock files keep it.", true},
    {"unretract", ECO_RETRACT, false, true, "Unretract", "The version is no longer retracted.", false},
    {"discontinue", ECO_DISCONTINUE, true, false, "Discontinue",
     "The package is shown as discontinued; pub tells its users, and names the replacement if you give one.",
     true},
    {"undiscontinue", ECO_DISCONTINUE, false, false, "Undiscontinue",
     "The package is no longer marked discontinued.", false},
    {NULL},
};
