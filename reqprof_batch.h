/*
 * reqprof_batch.h - ProfileStatusFlush: a profiled request's function
 * counts (the status page's and the aggregate tree's) wait in its profile
 * object and reach shared memory at most one flush interval later, so a
 * request makes a few plain adds where it made hundreds of atomic ones.
 * Above reqprof_status.c and reqprof_tree.c, below reqprof_request.c.
 */
#ifndef REQPROF_BATCH_H
#define REQPROF_BATCH_H

#include "httpd.h"
#include "reqprof_state.h"

/* post_config: the interval from the main server's config. */
void reqprof_batch_post_config(server_rec *s);

/* child_init, after reqprof_state_child_init: batch locks for the
 * profile objects and the thread that flushes what waits longer than the
 * interval; both end (everything flushed) when pchild is destroyed. */
void reqprof_batch_child_init(apr_pool_t *pchild, server_rec *s);

/* Around the counting of a profiled request that ends: begin sets
 * st->batching (REQPROF_BATCH_*), taking st's batch lock when it can
 * without waiting; end (now: the time the request ends) flushes st's
 * batch when its oldest count is an interval old, and lets the lock go. */
void reqprof_batch_begin(reqprof_state_t *st);
void reqprof_batch_end(reqprof_state_t *st, apr_time_t now);

#endif
