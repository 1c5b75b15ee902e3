/*
 * front.c — finding a front in the table of fronts, by route set, by route
 * or by its ecosystem's name.
 */
#include "front.h"

#include <stdint.h>

#include "server.h"

const front *front_of_set(const route_set *rs)
{
    return (const front *)(const void *)((const char *)rs - offsetof(front, routes));
}

const front *front_of_route(const route *rt)
{
    uintptr_t p = (uintptr_t)rt;
    for (unsigned i = 0; rt && i < server_nfronts; i++) {
        const route_set *rs = server_fronts[i];
        if (p >= (uintptr_t)rs->routes && p < (uintptr_t)(rs->routes + rs->n))
            return front_of_set(rs);
    }
    return NULL;
}

const front *front_find(const char *name)
{
    return (const front *)ecosystem_find(name);
}

const front *front_at(size_t i)
{
    return (const front *)ecosystem_at(i);
}
