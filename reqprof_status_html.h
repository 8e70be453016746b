/*
 * reqprof_status_html.h - the status page in HTML, and its short section
 * in mod_status' /server-status.
 */
#ifndef REQPROF_STATUS_HTML_H
#define REQPROF_STATUS_HTML_H

#include "httpd.h"
#include "rp_agg.h"
#include "rp_inflight.h"

/* The main page; window/sort: as asked (kept in links), refresh: seconds
 * (0: none), inflight: rp_inflight_row_t rows or NULL. */
void reqprof_status_html(request_rec *r, const rp_agg_snap_t *s, int reset_allowed,
                         const char *window, const char *sort, int refresh,
                         const apr_array_header_t *inflight);

/* The short HTML section of /server-status. */
void reqprof_status_section(request_rec *r, const rp_agg_snap_t *s);

#endif
