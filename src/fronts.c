/*
 * fronts.c — the table of fronts: every front of the server, one line each.
 *
 * A front is a folder with its descriptor (http/front.h): its routes and,
 * for an ecosystem, everything the rest of the program asks of it. The
 * server, core, the config loader, the dashboard and the CLI loop over this
 * table (core through what main.c registers with it: core links to no
 * front), so adding an ecosystem is its folder and one line here. The order
 * is the order people see ecosystems in (lists, filters, messages).
 */
#include "fronts.h"

#include "http/front.h"
#include "http/server.h"

extern const front ops_front, native_front, hex_front, pub_front, npm_front, docs_front, web_front;

const route_set *const server_fronts[] = {
    &ops_front.routes,    /* health and metrics */
    &native_front.routes, /* depot's own JSON API and client */
    &hex_front.routes,    /* Hex: mix and rebar3 */
    &pub_front.routes,    /* Dart pub */
    &npm_front.routes,    /* npm */
    &docs_front.routes,   /* hosted docs sites */
    &web_front.routes,    /* the dashboard */
};
const unsigned server_nfronts = sizeof server_fronts / sizeof server_fronts[0];

const eco_desc *fronts_ecosystem(size_t i)
{
    return i < server_nfronts ? &front_of_set(server_fronts[i])->eco : NULL;
}
