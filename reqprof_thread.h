/*
 * reqprof_thread.h - a thread of the child's own (ProfileStatusFlush's
 * flusher, ProfileWriteThread's writer): started with every signal
 * blocked, stopped by a flag under its mutex and joined.
 */
#ifndef REQPROF_THREAD_H
#define REQPROF_THREAD_H

#include "apr_pools.h"
#include "apr_thread_proc.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"

typedef struct {
    apr_thread_t *thread;       /* NULL: not running */
    apr_thread_mutex_t *mutex;  /* guards stopping, and what the user adds */
    apr_thread_cond_t *cond;    /* the thread waits on it; signalled to stop */
    int stopping;
} reqprof_thread_t;

/* Makes t's mutex and condition from pchild: the status of the first that
 * failed. */
apr_status_t reqprof_thread_init(reqprof_thread_t *t, apr_pool_t *pchild);

/* Runs fn(data) on a new thread that takes no signal: the MPM's handlers
 * (prefork's just_die among them) must run on the threads the MPM knows.
 * fn returns rather than calling apr_thread_exit: pthread_exit unwinds
 * the stack, which loads libgcc_s (~100,000 instructions) at every child
 * exit. */
apr_status_t reqprof_thread_start(reqprof_thread_t *t, apr_pool_t *pchild,
                                  apr_thread_start_t fn, void *data);

/* Sets t->stopping under the mutex, wakes the thread and joins it. For a
 * pre-cleanup of pchild: it runs before pchild's subpools (the thread's
 * own pool is one) are destroyed. */
void reqprof_thread_stop(reqprof_thread_t *t);

#endif
