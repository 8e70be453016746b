/*
 * rp_tree_out.h - the aggregate call tree (rp_tree.h) in the formats the
 * status page serves: a pstats profile (pstats.Stats, SnakeViz), folded
 * stacks (flamegraph.pl, speedscope), pprof (go tool pprof, Parca,
 * Pyroscope) and the icicle drawn as SVG. APR only.
 */
#ifndef RP_TREE_OUT_H
#define RP_TREE_OUT_H

#include <apr_pools.h>
#include "rp_stats.h"
#include "rp_tree.h"

/* The flat pstats view with complete caller edges: one function per
 * distinct key; calls, self and caller-edge totals summed over its nodes;
 * cumulative (and primitive calls) only over nodes with no ancestor of the
 * same function (of the same caller edge, for an edge), as cProfile
 * counts recursion. The root's calls are the requests. NULL when the
 * tree is empty. */
rp_stats_t *rp_tree_stats(const rp_tree_snap_t *s, apr_pool_t *p);

/* Folded stacks: one line per node with self time, the names of its path
 * (rp_func_display, ';' turned into ':') joined by ';', a space and its
 * self time in whole microseconds; nodes that round to 0 are left out,
 * except the root, always written. APR_EINVAL when empty. */
apr_status_t rp_tree_collapsed(const rp_tree_snap_t *s, apr_pool_t *p,
                               const char **data, apr_size_t *len);

/* The gzip'd pprof profile: one sample per node, its path as the stack,
 * values [calls, self ns]; an empty tree gives a profile without samples.
 * time_nanos / duration_nanos: the period. */
apr_status_t rp_tree_pprof(const rp_tree_snap_t *s, int64_t time_nanos,
                           int64_t duration_nanos, apr_pool_t *p,
                           const char **data, apr_size_t *len);

/* The icicle, re-rooted at the node focus names (rp_tree_find; the root
 * when NULL or unknown); each bar links to href_base followed by its
 * path. */
const char *rp_tree_flame(const rp_tree_snap_t *s, const char *focus,
                          const char *href_base, apr_pool_t *p);

#endif
