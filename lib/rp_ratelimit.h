/*
 * rp_ratelimit.h - at most one error-log line per interval for a fault
 * that persists (a full disk, no shared memory): a fault met by every
 * request must not write a line per request. Lock-free; APR only.
 */
#ifndef RP_RATELIMIT_H
#define RP_RATELIMIT_H

#include <apr.h>

/* One per message and process, zero-initialised (static storage will do). */
typedef struct rp_ratelimit {
    volatile apr_uint32_t last;        /* second of the last report let through */
    volatile apr_uint32_t suppressed;  /* reports refused since then */
} rp_ratelimit_t;

/* 1: report now, and *suppressed (if not NULL) receives how many reports
 * were refused since the previous one let through (the count restarts).
 * 0: wait, the refusal is counted. now_sec is a wall clock in seconds
 * (never 0, which means "never reported"). The first call passes; later
 * ones pass once now_sec is interval_sec or more after the last that
 * passed, or before it (a clock set back). Any number of threads may call
 * at once: one of them gets 1 per interval. */
int rp_ratelimit_pass(rp_ratelimit_t *rl, apr_uint32_t now_sec,
                      apr_uint32_t interval_sec, apr_uint32_t *suppressed);

#endif
