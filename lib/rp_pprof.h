/*
 * rp_pprof.h - Google's pprof format (profile.proto, gzip'd), the format
 * go tool pprof, Pyroscope, Parca and speedscope read: one encoder for
 * ProfileFormat pprof (a request's profile) and the status page's ?pprof
 * (the aggregate of all traffic). APR only; no protobuf library.
 *
 * Every profile has two sample types, in this order:
 *   [0] "calls" / "count"         how many times the leaf ran on this path
 *   [1] "wall"  / "nanoseconds"   the leaf's self time on this path
 * and "wall" is the default sample type, period_type wall/nanoseconds,
 * period 1. A sample's stack is given root first (the request, then the
 * phase, the hook entry, ...); the encoder writes it leaf first as pprof
 * wants. Functions are named as the pstats file names them
 * (rp_func_display: "handler", "mod_cgid.c:1(handler)").
 *
 * THIS API IS SHARED: the per-request writer and the aggregate views both
 * call it. Add to it; do not change what is here.
 */
#ifndef RP_PPROF_H
#define RP_PPROF_H

#include <stdint.h>
#include <apr_pools.h>

typedef struct rp_pprof rp_pprof_t;

/* A new, empty profile; all its memory comes from p. */
rp_pprof_t *rp_pprof_create(apr_pool_t *p);

/* The location id (> 0) of a function: name as displayed, file and line
 * as in its pstats key. The same triple always gives the same id. */
uint64_t rp_pprof_location(rp_pprof_t *pp, const char *name,
                           const char *file, int line);

/* One sample: n location ids, root first; its values; labels as key,
 * value, key, value, ..., NULL (string labels; NULL for none). Samples
 * with the same stack and labels may be merged by the encoder. */
void rp_pprof_add(rp_pprof_t *pp, const uint64_t *stack_root_first, int n,
                  int64_t calls, int64_t wall_ns,
                  const char *const *labels);

/* A free-text comment kept in the profile (go tool pprof -comments). */
void rp_pprof_comment(rp_pprof_t *pp, const char *text);

/* The gzip'd profile.proto: time_nanos is when the profile's period
 * started (ns since the epoch), duration_nanos how long it covers.
 * *data is from p. */
apr_status_t rp_pprof_encode(rp_pprof_t *pp, int64_t time_nanos,
                             int64_t duration_nanos, apr_pool_t *p,
                             const char **data, apr_size_t *len);

/* ---- Added by the per-request writer (ProfileFormat pprof). ---- */

#include "rp_pstats.h"
#include "rp_stats.h"

/* One sample per call path of a finished profile, found as
 * rp_collapsed.c finds them (a walk from the root along the callers
 * graph; a function with several callers has its time below each split
 * by the edge's share): value calls = the calls along the path's last
 * edge, wall = the leaf's self time on the path, in ns. Every sample
 * carries labels (as rp_pprof_add). APR_EINVAL for an empty profile. */
apr_status_t rp_pprof_add_stats(rp_pprof_t *pp, const rp_stats_t *st,
                                const char *const *labels);

/* The profile.proto bytes before gzip (for tests). */
apr_status_t rp_pprof_encode_raw(rp_pprof_t *pp, int64_t time_nanos,
                                 int64_t duration_nanos, apr_pool_t *p,
                                 const char **data, apr_size_t *len);

/* Wire and gzip primitives (exposed for unit tests): a base-128 varint;
 * CRC-32 as gzip's (crc 0 to start); a gzip member of stored deflate
 * blocks holding data, its output from p. */
void rp_pprof_varint(rp_buf_t *b, uint64_t v);
uint32_t rp_pprof_crc32(uint32_t crc, const void *data, apr_size_t n);
void rp_pprof_gzip(const void *data, apr_size_t n, apr_pool_t *p,
                   const char **out, apr_size_t *outlen);

#endif
