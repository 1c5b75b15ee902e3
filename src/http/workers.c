/* workers.c — a mutex+condvar job queue served by n threads. */
#include "workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../lib/xalloc.h"

struct job {
    struct job *next;
    void (*fn)(void *);
    void *arg;
};

struct workers {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    bool stopping;
    int n;
    pthread_t *threads;
};

static void *run(void *p)
{
    workers *w = p;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        struct job *j = w->head;
        if (!j) {
            pthread_mutex_unlock(&w->mu);
            return NULL;
        }
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->fn(j->arg);
        free(j);
    }
}

workers *workers_start(int n)
{
    workers *w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->n = n;
    w->threads = xcalloc((size_t)n, sizeof *w->threads);
    for (int i = 0; i < n; i++)
        if (pthread_create(&w->threads[i], NULL, run, w) != 0)
            xoom();
    return w;
}

void workers_submit(workers *w, void (*fn)(void *), void *arg)
{
    struct job *j = xmalloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    j->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void workers_stop(workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->threads);
    free(w);
}
