/*
 * rp_status_fmt.h - the status page's machine-readable formats, written
 * from a snapshot of the aggregates (rp_agg_read) into a buffer that the
 * glue sends: JSON (?json), Prometheus text exposition (?prometheus) and
 * mod_status' "Key: value" lines (?auto, also in /server-status?auto).
 *
 * Strings that came from requests (URL paths, methods, virtual host
 * names, in-flight stacks) go through the one JSON escaper
 * (rp_buf_json_str); Prometheus label values are escaped as the text
 * exposition format says (\\ \" \n). URLs are unbounded, so they never
 * become Prometheus labels nor ?auto lines. Numbers are formatted by
 * APR's formatter, as ap_rprintf did before this moved here, so the bytes
 * served did not change.
 *
 * APR only; no httpd types.
 */
#ifndef RP_STATUS_FMT_H
#define RP_STATUS_FMT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "rp_agg.h"
#include "rp_pstats.h"

/* The whole ?json document. inflight: rp_inflight_row_t rows (the
 * requests being served now, longest first), or NULL. */
void rp_status_json(rp_buf_t *b, const rp_agg_snap_t *s,
                    const apr_array_header_t *inflight);

/* The whole ?prometheus document: requests by status class, profiled
 * requests, the latency histogram, requests per virtual host, and per
 * (module, hook, virtual host) / (phase, virtual host) calls and seconds;
 * entries of one module and hook (core.c's two handlers) are one series. */
void rp_status_prometheus(rp_buf_t *b, const rp_agg_snap_t *s);

/* The ?auto lines: totals, status classes, durations, table sizes and
 * each phase's cumulative seconds. */
void rp_status_auto(rp_buf_t *b, const rp_agg_snap_t *s);

/* A Prometheus label value: \ " and newline escaped (the text exposition
 * format's three escapes); other bytes as they are. From p. */
const char *rp_prom_label(apr_pool_t *p, const char *s);

#endif
