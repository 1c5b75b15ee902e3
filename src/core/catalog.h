/*
 * catalog.h — what the registry holds, read across packages: search, the
 * counters that stamp cached pages, the statistics pages (totals, top lists,
 * downloads per day) and who depends on what. Every front's search page and
 * listing goes through here, so the rules of a query (the sorts, the page
 * cap) are kept once.
 */
#ifndef DEPOT_CATALOG_H
#define DEPOT_CATALOG_H

#include <stdint.h>

#include "../lib/arena.h"
#include "core.h"

#define CATALOG_PAGE_MAX 1000 /* the most rows one search returns */

/* A page of search results: n rows (from the arena; readme NULL) of total matches. */
typedef struct search_hits {
    package_row *rows;
    int n;
    int64_t total;
} search_hits;

/* Is q's sort one search knows: "relevance", "downloads", "recent", "name" (NULL: "relevance")?
 * 400 "sort: expected relevance, downloads, recent or name" otherwise. catalog_search checks it
 * too; a front may ask first to keep the order of its own checks. */
int catalog_check_sort(const package_query *q, derr *e);
/* Runs a search (at most CATALOG_PAGE_MAX rows a page; a limit <= 0 asks for the total only).
 * Borrowed: q. */
int catalog_search(core *c, arena *a, const package_query *q, search_hits *out, derr *e);

/* A counter that moves whenever any package of the ecosystem changes (0 before the first), to
 * stamp cached documents that span packages. */
int catalog_generation(core *c, const char *ecosystem, int64_t *gen, derr *e);
/* A package's generation (cheap; for cache checks): 404 when there is no such package. */
int catalog_package_generation(core *c, arena *a, const char *ecosystem, const char *name, int64_t *gen,
                               derr *e);

/* Counts over the whole registry. */
int catalog_totals(core *c, registry_totals *out, derr *e);
/* Top packages of an ecosystem (NULL: all) for the stats pages: which is "downloads", "new" or
 * "updated"; at most limit. */
int catalog_top(core *c, arena *a, const char *ecosystem, const char *which, int limit, package_row **out,
                int *n, derr *e);
/* Downloads per day of a package since `since_day` (YYYY-MM-DD): totals (version NULL) and per
 * version. */
int catalog_daily_downloads(core *c, arena *a, const package_row *p, const char *since_day, day_count **out,
                            int *n, derr *e);
/* Packages of p's ecosystem whose latest version depends on p (not as a dev dependency), most
 * downloaded first, at most limit. */
int catalog_dependents(core *c, arena *a, const package_row *p, int limit, package_row **out, int *n,
                       derr *e);
/* The packages a user owns, in every ecosystem, by name. */
int catalog_user_packages(core *c, arena *a, int64_t user_id, package_row **out, int *n, derr *e);

#endif
