/*
 * reqprof_status.h - the admin status page (SetHandler reqprof-status):
 * shared-memory aggregates fed by every profiled request, and the page in
 * HTML, JSON, Prometheus text and mod_status' ?auto style.
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

/* The end of a profiled request (called from reqprof_request_finish):
 * add it to the aggregates when ProfileEngine is On for it, and keep its
 * call graph when it is one of the slowest. Status page requests are
 * never added. */
void reqprof_status_record(request_rec *top, reqprof_state_t *st,
                           const reqprof_dir_t *dc);

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

/* ---- between reqprof_status.c and reqprof_status_out.c ---- */

/* ns as milliseconds ("12.345") and a time as an RFC 822 date ("-" for
 * none), from p: the units of the HTML pages. */
const char *reqprof_status_ms(apr_pool_t *p, uint64_t ns);
const char *reqprof_status_date(apr_pool_t *p, apr_time_t t);

/* The region of this generation, or NULL when it could not be made. */
rp_agg_t *reqprof_status_agg(void);

/* The machine-readable formats (lib/rp_status_fmt.c) sent as the
 * response; json and prometheus set their content type. */
void reqprof_status_json(request_rec *r, const rp_agg_snap_t *s,
                         const apr_array_header_t *inflight);
void reqprof_status_prometheus(request_rec *r, const rp_agg_snap_t *s);
void reqprof_status_auto(request_rec *r, const rp_agg_snap_t *s);

/* The main page; window/sort: as asked (kept in links), refresh: seconds
 * (0: none), inflight: rp_inflight_row_t rows or NULL. */
void reqprof_status_html(request_rec *r, const rp_agg_snap_t *s, int reset_allowed,
                         const char *window, const char *sort, int refresh,
                         const apr_array_header_t *inflight);
/* The flame page of one slow request. */
void reqprof_status_view(request_rec *r, const rp_stats_t *st,
                         const rp_agg_slowrow_t *info);
/* The short HTML section of /server-status. */
void reqprof_status_section(request_rec *r, const rp_agg_snap_t *s);

/* Registry ids were added at run time (a filter met in a request). */
void reqprof_status_keys_added(void);

#endif
