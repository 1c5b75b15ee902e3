/*
 * ecosystem.c — core's loops over the table of fronts: finding an
 * ecosystem by name, its verbs, the list of names for messages, and the
 * start-up hooks.
 */
#include "ecosystem.h"

#include <string.h>

#include "../lib/buf.h"

static eco_table registered;

void ecosystems_register(eco_table table)
{
    registered = table;
}

const eco_desc *ecosystem_entry(size_t i)
{
    return registered ? registered(i) : NULL;
}

const eco_desc *ecosystem_at(size_t i)
{
    const eco_desc *eco;
    for (size_t f = 0; (eco = ecosystem_entry(f)); f++)
        if (eco->name && i-- == 0)
            return eco;
    return NULL;
}

const eco_desc *ecosystem_findn(const char *name, size_t n)
{
    const eco_desc *eco;
    for (size_t i = 0; name && (eco = ecosystem_at(i)); i++)
        if (strlen(eco->name) == n && memcmp(eco->name, name, n) == 0)
            return eco;
    return NULL;
}

const eco_desc *ecosystem_find(const char *name)
{
    return name ? ecosystem_findn(name, strlen(name)) : NULL;
}

bool ecosystem_has(const char *name, unsigned verbs)
{
    const eco_desc *eco = ecosystem_find(name);
    return eco && (eco->verbs & verbs) == verbs;
}

const char *ecosystem_names(arena *a, const char *sep, const char *last)
{
    buf b;
    buf_init(&b, 0);
    const eco_desc *eco;
    for (size_t i = 0; (eco = ecosystem_at(i)); i++) {
        if (i)
            buf_puts(&b, ecosystem_at(i + 1) ? sep : last);
        buf_puts(&b, eco->name);
    }
    const char *s = arena_strdup(a, b.data ? b.data : "");
    buf_free(&b);
    return s;
}

long ecosystem_replace_window(const config *cfg, const char *name)
{
    const eco_desc *eco = ecosystem_find(name);
    return eco && eco->replace_window ? eco->replace_window(cfg) : 0;
}

int ecosystems_start(const config *cfg, derr *e)
{
    const eco_desc *eco;
    for (size_t i = 0; (eco = ecosystem_at(i)); i++)
        if (eco->start && eco->start(cfg, e) < 0)
            return -1;
    return 0;
}
