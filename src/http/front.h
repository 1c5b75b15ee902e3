/*
 * front.h — a front's descriptor: everything the rest of the program asks
 * of a front, in one struct listed once in the table of fronts
 * (src/fronts.c). Model: curl's protocol handlers in one table.
 *
 * The descriptor embeds core's view of its ecosystem first (ecosystem.h),
 * so core, the config loader and the CLI read the same entry without
 * knowing the front; the server reads its routes and error shape, the
 * dashboard its install lines, publish settings and status actions. An
 * entry that is no ecosystem (the web pages, hosted docs, health and
 * metrics) leaves eco.name NULL and has only routes.
 */
#ifndef DEPOT_FRONT_H
#define DEPOT_FRONT_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/ecosystem.h"
#include "http.h"

/* A line a person copies: a label and its text (in the request's arena). */
typedef struct front_snippet {
    const char *label;
    const char *text;
} front_snippet;

/* A status change the dashboard offers on this front's packages (besides yank and owners). */
typedef struct front_action {
    const char *code;    /* the form's action: "retire", "unretire" */
    unsigned verb;       /* the core verb it sets or lifts (enum eco_verb) */
    bool on;             /* sets the status; false lifts it */
    bool per_version;    /* acts on one version; false: on the package */
    const char *title;   /* "Retire": the button, the confirmation's heading */
    const char *explain; /* what it means, on the confirmation page */
    bool danger;
} front_action;

typedef struct front {
    eco_desc eco;     /* first: core sees a front as its ecosystem */
    route_set routes; /* its routes, hooks for the server's own errors */
    /* The front's error shape: resp_derr on its routes calls it (it must set a response).
     * NULL: depot's {"error": {"code", "message"}}. */
    void (*error)(req *r, const derr *e);
    /* The dashboard: the lines to install version (NULL: the latest is unknown) of a package,
     * into out[max]; returns how many. */
    int (*snippets)(req *r, const char *name, const char *version, front_snippet *out, int max);
    /* The account page: how the front's client publishes with token (a secret or a placeholder). */
    const char *publish_label;
    const char *(*publish_lines)(req *r, const char *token);
    /* The status actions of its packages, ended by one whose code is NULL. NULL: none. */
    const front_action *actions;
} front;

/* The front a route set belongs to (every set of the table is a front's). */
const front *front_of_set(const route_set *rs);
/* The front whose routes hold rt, or NULL. */
const front *front_of_route(const route *rt);
/* The front of the ecosystem called name, or NULL. */
const front *front_find(const char *name);
/* The ecosystems' fronts in the table's order: the i-th, NULL past the last. */
const front *front_at(size_t i);

/* A route table's entry, the same shape in every front: ROUTE(method, pattern, handler, body,
 * auth, rate-limit class, slow). ROUTE_FIELDS is the same inside braces that add more fields
 * ({ROUTE_FIELDS(...), .max_body = f}). */
#define ROUTE_FIELDS(m_, p_, fn_, body_, auth_, rl_, slow_)                                                  \
    .method = (m_), .pattern = (p_), .fn = (fn_), .body = (body_), .auth = (auth_), .rl = (rl_),             \
    .slow = (slow_)
#define ROUTE(...)                                                                                           \
    {                                                                                                        \
        ROUTE_FIELDS(__VA_ARGS__)                                                                            \
    }
/* The two most common kinds: a GET without a body that anyone may read (the read scope under
 * --private), and a route that needs a credential. */
#define ROUTE_READ(p_, fn_, rl_) ROUTE("GET", p_, fn_, BODY_NONE, AUTH_READ, rl_, false)
#define ROUTE_USER(m_, p_, fn_, body_, rl_) ROUTE(m_, p_, fn_, body_, AUTH_USER, rl_, false)
/* A route set's name and table (an array in scope). */
#define ROUTE_SET(name_, table_)                                                                             \
    .front = (name_), .routes = (table_), .n = sizeof(table_) / sizeof((table_)[0])

#endif
