/*
 * rp_collapsed.h - Brendan Gregg's folded stacks ("a;b;c N"), the input
 * of flamegraph.pl and speedscope, from a finished profile.
 */
#ifndef RP_COLLAPSED_H
#define RP_COLLAPSED_H

#include <apr_pools.h>
#include "rp_stats.h"

/* One line per call path from the root: the frames' display names
 * (rp_func_display, with ';' turned into ':') joined by ';', a space and
 * the path's self time in whole microseconds. A profile keeps per-edge,
 * not per-path, totals: where a function has several callers, its time
 * below each is split in proportion to the edge's share of its time (exact
 * when every function has one caller, as most here do). A function
 * already on the path (recursion) is not followed again. Paths of zero
 * microseconds are left out, except the root's, which is always written.
 * APR_EINVAL for an empty profile. */
apr_status_t rp_collapsed_encode(const rp_stats_t *st, apr_pool_t *p,
                                 const char **data, apr_size_t *len);

#endif
