/*
 * front.h — the hosted-docs front: read-only routes that serve the docs
 * sites core/docs.c stores, under /docs/{ecosystem}/{name}/{version}/.
 *
 * Uploaded pages are someone else's HTML and scripts served from our origin,
 * so every response of this front carries a sandboxing Content-Security-
 * Policy (see serve.c): the pages run with an opaque origin and can never
 * act as the registry's own pages.
 */
#ifndef DEPOT_DOCS_FRONT_H
#define DEPOT_DOCS_FRONT_H

#include "../http/http.h"

/* Every /docs route: a file of a site, the redirects from a version to its
 * root and from a package to its latest docs (one table in routes.c). */
void docs_serve(req *r);

#endif
