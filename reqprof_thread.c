/*
 * reqprof_thread.c - starting and stopping a thread of the child's own.
 */
#include <signal.h>
#include <pthread.h>

#include "reqprof_thread.h"

apr_status_t reqprof_thread_init(reqprof_thread_t *t, apr_pool_t *pchild)
{
    apr_status_t rv;

    t->thread = NULL;
    t->stopping = 0;
    if ((rv = apr_thread_mutex_create(&t->mutex, APR_THREAD_MUTEX_DEFAULT, pchild))
        != APR_SUCCESS)
        return rv;
    return apr_thread_cond_create(&t->cond, pchild);
}

apr_status_t reqprof_thread_start(reqprof_thread_t *t, apr_pool_t *pchild,
                                  apr_thread_start_t fn, void *data)
{
    sigset_t all, old;
    apr_status_t rv;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rv = apr_thread_create(&t->thread, NULL, fn, data, pchild);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rv != APR_SUCCESS)
        t->thread = NULL;
    return rv;
}

void reqprof_thread_stop(reqprof_thread_t *t)
{
    apr_status_t rv;

    if (!t->thread)
        return;
    apr_thread_mutex_lock(t->mutex);
    t->stopping = 1;
    apr_thread_cond_signal(t->cond);
    apr_thread_mutex_unlock(t->mutex);
    apr_thread_join(&rv, t->thread);
    t->thread = NULL;
}
