/*
 * workers.h — a small pool of threads for slow work (password hashing, and
 * later remote stores), so that an HTTP event thread never waits on it.
 */
#ifndef DEPOT_WORKERS_H
#define DEPOT_WORKERS_H

typedef struct workers workers;

workers *workers_start(int n);
/* Queues fn(arg); runs on some worker thread. */
void workers_submit(workers *w, void (*fn)(void *), void *arg);
/* Finishes queued jobs, then joins the threads. NULL is fine. */
void workers_stop(workers *w);

#endif
