/*
 * rp_stats.h - a finished profile in pstats terms.
 *
 * This is what the writers (pstats file, text report) consume. It is built
 * from a live rp_prof_t by rp_prof_stats() and may also be built by hand
 * in tests. APR only; no httpd types.
 */
#ifndef RP_STATS_H
#define RP_STATS_H

#include <stdint.h>
#include <apr_pools.h>

/* One caller edge of a function: "caller called me". Field order and
 * meaning as in pstats' callers dict value (nc, cc, tt, ct). */
typedef struct rp_edge {
    int caller;         /* index of the calling function in rp_stats_t.funcs */
    int64_t nc;         /* calls along this edge */
    int64_t cc;         /* primitive (non-recursive) calls along this edge */
    double tt;          /* self seconds of the callee on this edge */
    double ct;          /* cumulative seconds of the callee on this edge */
} rp_edge_t;

/* One profiled "function": a pstats key (file, line, name) and its totals. */
typedef struct rp_func {
    const char *file;   /* valid UTF-8, no NUL inside */
    int line;           /* pstats lineno; fits an int32 */
    const char *name;   /* valid UTF-8 */
    int64_t cc;         /* primitive calls */
    int64_t nc;         /* all calls */
    double tt;          /* self seconds (excluding nested calls) */
    double ct;          /* cumulative seconds (outermost call of a recursion) */
    int ncallers;       /* number of entries in callers */
    rp_edge_t *callers; /* who called this function; empty for the root */
    int key_slot;       /* 1 + the registry id of a static function (whose
                           key is the same, valid UTF-8, for a whole
                           generation: writers may cache its encoding),
                           0 for any other (the default of a zeroed or
                           hand-built rp_func_t) */
} rp_func_t;

/* A whole profile. funcs[] order is the order keys are written to a pstats
 * file, which is also the order pstats' stable sort starts from. */
typedef struct rp_stats {
    int nfuncs;
    rp_func_t *funcs;
} rp_stats_t;

#endif
