/*
 * list.h — an intrusive doubly linked list.
 *
 * The node lives inside the owner's struct, so linking and unlinking never
 * allocate; list_entry gets the owner back from its node. Locking is the
 * caller's: every list here is guarded by its owner's mutex.
 */
#ifndef DEPOT_LIST_H
#define DEPOT_LIST_H

#include <stddef.h>

typedef struct list_node {
    struct list_node *prev, *next;
} list_node;

typedef struct list {
    list_node *head, *tail; /* both NULL when empty */
} list;

/* The struct of type TYPE whose member MEMBER is the node N. */
#define list_entry(n, type, member) ((type *)(void *)((char *)(n) - offsetof(type, member)))

/* Puts N, not in any list, first in L. */
static inline void list_push_front(list *l, list_node *n)
{
    n->prev = NULL;
    n->next = l->head;
    if (l->head)
        l->head->prev = n;
    else
        l->tail = n;
    l->head = n;
}

/* Takes N out of L, which holds it; N's links are cleared. */
static inline void list_unlink(list *l, list_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->prev = n->next = NULL;
}

#endif
