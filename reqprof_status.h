/*
 * reqprof_status.h - the admin status page (SetHandler reqprof-status):
 * shared-memory aggregates fed by every request, the in-flight records,
 * the handler. The page's formats are reqprof_status_out.h (JSON,
 * Prometheus, ?auto, the flame view of a slow request) and
 * reqprof_status_html.h (the HTML page, the /server-status section).
 */
#ifndef REQPROF_STATUS_H
#define REQPROF_STATUS_H

#include "httpd.h"
#include "http_config.h"
#include "rp_agg.h"
#include "rp_inflight.h"
#include "rp_window.h"
#include "reqprof_config.h"
#include "reqprof_state.h"
#include "reqprof_tree.h"

#define REQPROF_STATUS_HANDLER "reqprof-status"

/* Functions (phases, hook entries, filters) the shared tables hold. */
#define REQPROF_STATUS_KEYS    512
/* Virtual hosts counted separately; more share the "(other)" row. */
#define REQPROF_STATUS_VHOSTS  64

/* post_config, after the hooks were wrapped: create (or keep, or copy
 * forward) the shared memory and map this generation's functions and
 * virtual hosts onto it. */
int reqprof_status_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* child_init, after reqprof_wrap_rescan: map functions added since. */
void reqprof_status_child_init(apr_pool_t *pchild, server_rec *s);

/* Add st's batched function counts to shared memory (st's batch lock
 * held). */
void reqprof_status_flush(reqprof_state_t *st, apr_time_t now);

/* The end of a profiled request (called from reqprof_request_finish),
 * now: the time it ends: add it to the aggregates when ProfileEngine is
 * On for it, and keep its call graph when it is one of the slowest.
 * Status page requests are never added. Under REQPROF_BATCH_ON its
 * function counts go to st's batch (reqprof_status_flush adds them to
 * shared memory); shape (reqprof_tree_record's), when its tag is not 0,
 * names the request's shape, and the batch then sums its frames' ticks
 * per shape instead (the tree's ticks of them when it gives them). */
void reqprof_status_record(request_rec *top, reqprof_state_t *st,
                           const reqprof_dir_t *dc, const reqprof_shape_t *shape,
                           apr_time_t now);

/* The end of a request that was not profiled, or was profiled and then
 * not chosen (st, else NULL): count it (time, status class, histogram,
 * virtual host, URL, window) when ProfileEngine is On for it. */
void reqprof_status_count(request_rec *top, reqprof_state_t *st);

/* A request starts (st: its profile, NULL when not profiled) / ends: its
 * thread's in-flight record says what it is, and for a profiled one
 * where it is (its open frames mirrored into the record). */
void reqprof_status_inflight_begin(request_rec *top, reqprof_state_t *st);
void reqprof_status_inflight_end(request_rec *top, reqprof_state_t *st);

/* Every request being served now (rp_inflight_row_t), longest first;
 * NULL when there are no records. */
apr_array_header_t *reqprof_status_inflight(request_rec *r);

/* The "reqprof-status" handler. */
int reqprof_status_handler(request_rec *r);

/* mod_status' status_hook: a section in /server-status. */
int reqprof_status_hook(request_rec *r, int flags);

/* The region of this generation, or NULL when it could not be made. */
rp_agg_t *reqprof_status_agg(void);

/* Registry ids were added at run time (a filter met in a request). */
void reqprof_status_keys_added(void);

#endif
