/*
 * reqprof_status_out.h - the status page's machine-readable formats sent
 * as a response (their text is built by lib/rp_status_fmt.c), the flame
 * view of one slow request, and the units the HTML pages share.
 */
#ifndef REQPROF_STATUS_OUT_H
#define REQPROF_STATUS_OUT_H

#include "httpd.h"
#include "rp_agg.h"
#include "rp_inflight.h"
#include "rp_stats.h"

/* ns as milliseconds ("12.345") and a time as an RFC 822 date ("-" for
 * none), from p: the units of the HTML pages. */
const char *reqprof_status_ms(apr_pool_t *p, uint64_t ns);
const char *reqprof_status_date(apr_pool_t *p, apr_time_t t);

/* JSON (inflight: rp_inflight_row_t rows or NULL), Prometheus text and
 * ?auto lines; json and prometheus set their content type. */
void reqprof_status_json(request_rec *r, const rp_agg_snap_t *s,
                         const apr_array_header_t *inflight);
void reqprof_status_prometheus(request_rec *r, const rp_agg_snap_t *s);
void reqprof_status_auto(request_rec *r, const rp_agg_snap_t *s);

/* The flame page of one slow request. */
void reqprof_status_view(request_rec *r, const rp_stats_t *st,
                         const rp_agg_slowrow_t *info);

#endif
