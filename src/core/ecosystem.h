/*
 * ecosystem.h — what core, the config loader and the CLI know of an
 * ecosystem: the base of every front's descriptor (http/front.h embeds it
 * first, as h2o's handlers embed their base).
 *
 * Core never includes a front, nor links to the table of fronts: the program
 * hands core the table at start (ecosystems_register), and everything it must
 * know about one — its name, how names fold into a uniqueness key, which
 * version rules hold, which status verbs exist, its options and start-up
 * hook — is a field here. Nothing outside a front's own folder compares an
 * ecosystem's name: it asks the descriptor.
 */
#ifndef DEPOT_ECOSYSTEM_H
#define DEPOT_ECOSYSTEM_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/arena.h"
#include "../lib/err.h"
#include "../lib/semver.h"
#include "config.h"

/* The status verbs an ecosystem's clients know besides yank, which every ecosystem has. */
enum eco_verb {
    ECO_RETIRE = 1 << 0,      /* a release marked retired, with a reason and a message */
    ECO_RETRACT = 1 << 1,     /* a version resolvers stop picking */
    ECO_DEPRECATE = 1 << 2,   /* a version installers warn about, with a message */
    ECO_DISCONTINUE = 1 << 3, /* a package marked discontinued, maybe with its replacement */
};

typedef struct eco_desc {
    /* The store's key, the word of scopes ("publish:NAME") and URLs. NULL: an entry of the table
     * of fronts that is no ecosystem (the web pages, hosted docs, health and metrics). */
    const char *name;
    /* What people read for it ("Hex", "depot"). */
    const char *label;
    /* Folds a lower-cased name further into its uniqueness key, in place; NULL: lower case is
     * the key. */
    void (*fold_name)(char *key);
    /* Names may carry a scope with a '/' ("@scope/name"). */
    bool scoped_names;
    /* Versions that differ only in build metadata may both exist (the ecosystem orders them). */
    bool build_metadata;
    /* Packages carry dist-tags (named pointers to versions). */
    bool dist_tags;
    /* The requirement dialect of its manifests. */
    enum semver_dialect dialect;
    /* The status verbs it has (enum eco_verb). */
    unsigned verbs;
    /* Its options (flags, DEPOT_* variables, config-file keys), ended by a row whose name is
     * NULL; their offsets are into a block of opts_size bytes that config_load fills and
     * config_eco() returns. NULL: none. */
    const config_opt *opts;
    size_t opts_size;
    /* Runs once at server start, after the settings are loaded (a key made at first start, ...).
     * 0, or -1 with e filled (the server does not start). NULL: nothing to do. */
    int (*start)(const config *cfg, derr *e);
    /* An operator command `depot NAME ...` (argv[0] is the name; returns the exit status), and
     * its line in `depot --help`. NULL: none. */
    int (*command)(int argc, char **argv);
    const char *command_help;
    /* Files of the data folder that hold its secrets (a signing key), which `depot backup` and
     * `depot restore` copy with the server's own; ended by NULL. NULL: none. */
    const char *const *secrets;
    /* Seconds after a version's publication during which an owner may still replace its bytes
     * (a publish with replace) and revert it; past it the version is final. NULL: the ecosystem
     * never replaces a version, and removal follows --unpublish-window. */
    long (*replace_window)(const config *cfg);
} eco_desc;

/* The table of fronts as core sees it: entry i (an ecosystem, or one whose name is NULL), NULL
 * past the end. Core knows no front: the program hands it the table once, before it loads its
 * settings (main.c registers src/fronts.c's; a test may register a table of its own). Until
 * then core knows no ecosystem. */
typedef const eco_desc *(*eco_table)(size_t i);
void ecosystems_register(eco_table table);
const eco_desc *ecosystem_entry(size_t i);

/* The ecosystems in the table's order: the i-th, NULL past the last. */
const eco_desc *ecosystem_at(size_t i);
/* The ecosystem called name (n bytes), or NULL. */
const eco_desc *ecosystem_findn(const char *name, size_t n);
const eco_desc *ecosystem_find(const char *name);
/* Does the ecosystem called name have every verb of `verbs`? False for an unknown name. */
bool ecosystem_has(const char *name, unsigned verbs);
/* The names joined: "native, hex, pub or npm" with sep ", " and last " or ". In the arena. */
const char *ecosystem_names(arena *a, const char *sep, const char *last);
/* The replace window of the ecosystem called name (replace_window above); 0 when it has none. */
long ecosystem_replace_window(const config *cfg, const char *name);
/* Runs every start-up hook; the first failure stops (-1 with e filled). */
int ecosystems_start(const config *cfg, derr *e);

#endif
