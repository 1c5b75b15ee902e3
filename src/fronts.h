/*
 * fronts.h — the table of fronts (src/fronts.c) as the program hands it to
 * core: core links to no front, so main.c registers this table with
 * ecosystems_register() before anything reads a setting.
 */
#ifndef DEPOT_FRONTS_H
#define DEPOT_FRONTS_H

#include <stddef.h>

#include "core/ecosystem.h"

/* Entry i of the table as core sees it (an ecosystem, or an entry whose name is NULL), NULL past
 * the end. */
const eco_desc *fronts_ecosystem(size_t i);

#endif
