/*
 * rp_chrome.h - Chrome/Perfetto trace-event JSON (the "JSON Object
 * Format": {"traceEvents": [...]}) of one request's timeline, read by
 * Perfetto, chrome://tracing and speedscope.
 */
#ifndef RP_CHROME_H
#define RP_CHROME_H

#include <apr_pools.h>
#include "rp_stats.h"
#include "rp_trace.h"

typedef struct rp_chrome_meta {
    long pid, tid;             /* the trace's process and thread ids */
    double origin_us;          /* added to every ts; 0 keeps full precision
                                * (epoch microseconds in a double are only
                                * good to 0.25 us, enough to break nesting) */
    double start_epoch_us;     /* the request's start, microseconds since the
                                * epoch, for otherData.request_start_us */
    const char *process_name;  /* e.g. "httpd www.example.com" */
    const char *thread_name;   /* e.g. the request's label */
    const char *trace_id;      /* W3C trace id, otherData.trace_id; NULL: none */
    const char *span_id;       /* its parent-id, otherData.span_id; NULL: none */
} rp_chrome_meta_t;

/* Two metadata events ("M": process_name, thread_name) and one complete
 * event ("X") per frame of the trace, in the order they started: name
 * (httpd's nodes by name, module entries "mod_x.c handler", "... #2" for
 * a hook's second entry of a module), cat (the file), ts and dur in whole
 * microseconds, each slice clamped into its parent and after its previous
 * sibling, pid, tid; no args. A frame under 1 us (0 after clamping) is
 * left out, except the first (the request). otherData (numbers): request_start_us,
 * events (slices written), hidden_events (left out as too short),
 * dropped_events (frames the bounded log could not keep), and trace_id /
 * span_id when given. APR_EINVAL when st is empty. */
apr_status_t rp_chrome_encode(const rp_stats_t *st, const rp_trace_t *tr,
                              const rp_chrome_meta_t *m, apr_pool_t *p,
                              const char **data, apr_size_t *len);

#endif
