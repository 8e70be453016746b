/*
 * reqprof_batch.c - ProfileStatusFlush.
 *
 * Each profile object keeps the function counts of the requests it
 * profiled (reqprof_status.c's rp_agg batch, reqprof_tree.c's path-cache
 * sums) until they are an interval old. Two parties flush them, each
 * holding the object's batch lock:
 *   - the request ending on it, when its oldest count is an interval old;
 *   - this child's flusher thread, which wakes every half interval and
 *     flushes what is half an interval old, so nothing waits longer than
 *     an interval however idle the object is.
 * A request never waits for the lock: when the flusher holds it, that
 * request counts straight into shared memory (REQPROF_BATCH_BUSY). When
 * the child exits, the thread is stopped and everything is flushed.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_thread_mutex.h"

#include "reqprof_batch.h"
#include "reqprof_config.h"
#include "reqprof_state.h"
#include "reqprof_status.h"
#include "reqprof_thread.h"
#include "reqprof_tree.h"

APLOG_USE_MODULE(reqprof);

static apr_interval_time_t interval;    /* 0: batching off */

static reqprof_thread_t flusher_thread;        /* this child's */

void reqprof_batch_post_config(server_rec *s)
{
    const reqprof_srv_t *sc = ap_get_module_config(s->module_config, &reqprof_module);
    interval = sc->status_flush == REQPROF_UNSET ? REQPROF_STATUS_FLUSH_DEFAULT
                                                 : sc->status_flush;
}

/* st's batch lock held. */
static void flush_one(reqprof_state_t *st, apr_time_t now)
{
    reqprof_status_flush(st, now);
    reqprof_tree_flush(st->prof, now);
    st->batch_since = 0;
}

/* Flush every object whose oldest count is at least min_age old and whose
 * lock is free (one that is busy is counting a request: it flushes itself
 * when due, or the next round comes). */
static void flush_all(apr_interval_time_t min_age)
{
    reqprof_state_t *st;
    for (st = reqprof_state_all(); st; st = st->all_next) {
        apr_time_t now;
        if (!st->batch_lock || apr_thread_mutex_trylock(st->batch_lock) != APR_SUCCESS)
            continue;
        now = apr_time_now();
        if (st->batch_since && now - st->batch_since >= min_age)
            flush_one(st, now);
        apr_thread_mutex_unlock(st->batch_lock);
    }
}

static void *APR_THREAD_FUNC flusher(apr_thread_t *thd, void *data)
{
    reqprof_thread_t *t = data;
    (void)thd;
    apr_thread_mutex_lock(t->mutex);
    while (!t->stopping) {
        apr_thread_cond_timedwait(t->cond, t->mutex, interval / 2);
        if (t->stopping)
            break;
        apr_thread_mutex_unlock(t->mutex);
        flush_all(interval / 2);
        apr_thread_mutex_lock(t->mutex);
    }
    apr_thread_mutex_unlock(t->mutex);
    return NULL;
}

/* A pre-cleanup of pchild: it runs before pchild's subpools are destroyed
 * (the thread's own pool is one: joining after it is gone crashed every
 * prefork child at a graceful restart) and before every plain cleanup
 * (the profile objects' among them). Stops the thread, then flushes
 * everything. A lock still held here belongs to a request cut short by
 * the child's exit: its batch is lost (at most an interval of counts),
 * the child does not hang on it. */
static apr_status_t batch_exit(void *unused)
{
    (void)unused;
    reqprof_thread_stop(&flusher_thread);
    flush_all(0);
    interval = 0;
    return APR_SUCCESS;
}

/* Some virtual host profiles (ProfileEngine On in some scope). */
static int profiles_anywhere(server_rec *s)
{
    for (; s; s = s->next) {
        const reqprof_srv_t *sc = ap_get_module_config(s->module_config, &reqprof_module);
        if (sc->engine_anywhere)
            return 1;
    }
    return 0;
}

void reqprof_batch_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    flusher_thread.thread = NULL;
    /* No thread where nothing is profiled: a second thread costs every
     * system call of a prefork child a little (glibc's cancellation
     * points), about 200 instructions a request. */
    if (interval <= 0 || !profiles_anywhere(s)
        || (!reqprof_status_agg() && reqprof_tree_events() <= 0)) {
        interval = 0;
        return;
    }
    if ((rv = reqprof_thread_init(&flusher_thread, pchild)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "RP0021: cannot set up ProfileStatusFlush: counting every "
                     "request at once in this child");
        interval = 0;
        return;
    }
    rv = reqprof_thread_start(&flusher_thread, pchild, flusher, &flusher_thread);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "RP0022: cannot start the ProfileStatusFlush thread: counting "
                     "every request at once in this child");
        interval = 0;
        return;
    }
    reqprof_state_want_batch();
    apr_pool_pre_cleanup_register(pchild, NULL, batch_exit);
}

void reqprof_batch_begin(reqprof_state_t *st)
{
    if (interval <= 0 || !st->batch_lock)
        st->batching = REQPROF_BATCH_OFF;
    else if (apr_thread_mutex_trylock(st->batch_lock) == APR_SUCCESS)
        st->batching = REQPROF_BATCH_ON;
    else
        st->batching = REQPROF_BATCH_BUSY;
}

void reqprof_batch_end(reqprof_state_t *st, apr_time_t now)
{
    if (st->batching == REQPROF_BATCH_ON) {
        if (!st->batch_since)
            st->batch_since = now;
        else if (now - st->batch_since >= interval)
            flush_one(st, now);
        apr_thread_mutex_unlock(st->batch_lock);
    }
    st->batching = REQPROF_BATCH_OFF;
}
