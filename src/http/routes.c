/*
 * routes.c — the front table: every front's route set, once. Adding an
 * ecosystem is a folder with its routes and one line here.
 */
#include "http.h"
#include "server.h"

extern const route_set ops_route_set;
extern const route_set native_route_set;
extern const route_set hex_route_set;
extern const route_set npm_route_set;
extern const route_set docs_route_set;
extern const route_set pub_route_set;
extern const route_set web_route_set;

const route_set *const server_fronts[] = {
    &ops_route_set,
    &native_route_set,
    &hex_route_set,
    &npm_route_set,
    &docs_route_set,
    &pub_route_set,
    &web_route_set,
};
const unsigned server_nfronts = sizeof server_fronts / sizeof server_fronts[0];
