/*
 * reqprof_timing.h - the Server-Timing response header
 * (ProfileServerTiming): the request so far and the modules with the most
 * self time, each with its busiest hook, added before the headers are
 * sent (reqprof_timing.c; the value itself is built by
 * lib/rp_servertiming.c).
 */
#ifndef REQPROF_TIMING_H
#define REQPROF_TIMING_H

#include "httpd.h"

/* register_hooks: the REQPROF_SERVER_TIMING output filter and the
 * insert_filter / insert_error_filter hooks that add it. */
void reqprof_timing_register_hooks(apr_pool_t *p);

#endif
