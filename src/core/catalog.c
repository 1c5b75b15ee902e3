/*
 * catalog.c — search, counters and statistics over the store.
 */
#include "catalog.h"

#include <string.h>

#include "core_int.h"
#include "packages.h"

static int ok(int rc)
{
    return rc == STORE_OK ? 0 : -1;
}

static const char *const sorts[] = {"relevance", "downloads", "recent", "name"};

int catalog_check_sort(const package_query *q, derr *e)
{
    for (size_t i = 0; q->sort && i < sizeof sorts / sizeof *sorts; i++)
        if (strcmp(q->sort, sorts[i]) == 0)
            return 0;
    if (!q->sort)
        return 0;
    return derr_set(e, 400, "bad_request", "sort: expected relevance, downloads, recent or name");
}

int catalog_search(core *c, arena *a, const package_query *q, search_hits *out, derr *e)
{
    if (catalog_check_sort(q, e) < 0)
        return -1;
    package_query s = *q;
    if (!s.sort)
        s.sort = sorts[0];
    if (s.limit > CATALOG_PAGE_MAX)
        s.limit = CATALOG_PAGE_MAX;
    *out = (search_hits){0};
    return ok(store_call(c->st, search, a, &s, &out->rows, &out->n, &out->total, e));
}

int catalog_generation(core *c, const char *ecosystem, int64_t *gen, derr *e)
{
    return ok(store_call(c->st, eco_generation, ecosystem, gen, e));
}

int catalog_package_generation(core *c, arena *a, const char *ecosystem, const char *name, int64_t *gen,
                               derr *e)
{
    int rc = store_call(c->st, pkg_generation, ecosystem, package_key(a, ecosystem, name), gen, e);
    if (rc == STORE_NOT_FOUND)
        return derr_set(e, 404, "not_found", "no package named '%s'", name);
    return ok(rc);
}

int catalog_totals(core *c, registry_totals *out, derr *e)
{
    return ok(store_call(c->st, totals, out, e));
}

int catalog_top(core *c, arena *a, const char *ecosystem, const char *which, int limit, package_row **out,
                int *n, derr *e)
{
    return ok(store_call(c->st, pkg_top, a, ecosystem, which, limit, out, n, e));
}

int catalog_daily_downloads(core *c, arena *a, const package_row *p, const char *since_day, day_count **out,
                            int *n, derr *e)
{
    return ok(store_call(c->st, pkg_daily_downloads, a, p->id, since_day, out, n, e));
}

int catalog_dependents(core *c, arena *a, const package_row *p, int limit, package_row **out, int *n, derr *e)
{
    return ok(store_call(c->st, pkg_dependents, a, p->ecosystem, p->name, limit, out, n, e));
}

int catalog_user_packages(core *c, arena *a, int64_t user_id, package_row **out, int *n, derr *e)
{
    return ok(store_call(c->st, user_packages, a, user_id, out, n, e));
}
