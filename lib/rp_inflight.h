/*
 * rp_inflight.h - what every worker thread is serving right now, in
 * shared memory: one record per (child slot, thread), written only by
 * the thread that owns the slot, read by the status page in any process.
 *
 * A record holds the request's method, path, virtual host, start time
 * and, for a profiled request, its open frames (rp_prof_set_mirror
 * writes them straight into the record). The request fields are guarded
 * by a sequence word (odd while being written): a reader copies the
 * record and keeps it only when the word was even and unchanged. The
 * stack is written without the sequence word (it changes on every call):
 * a reader may see it one call behind, never out of bounds.
 *
 * APR only; no httpd types.
 */
#ifndef RP_INFLIGHT_H
#define RP_INFLIGHT_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "rp_prof.h"

#define RP_INFLIGHT_DEPTH   32      /* frames kept of a request's stack */
#define RP_INFLIGHT_DYN     96      /* bytes of a dynamic frame's name */
#define RP_INFLIGHT_METHOD  16
#define RP_INFLIGHT_PATH    192
#define RP_INFLIGHT_VHOST   96

typedef struct rp_inflight_rec {
    volatile apr_uint32_t seq;      /* odd while the fields below change */
    volatile apr_uint32_t active;   /* 1 while a request is being served */
    apr_int64_t pid;
    apr_int64_t start;              /* the request's start, usec since the epoch */
    apr_uint64_t owner;             /* the request's identity (for end) */
    apr_int32_t profiled;
    volatile int32_t depth;         /* open frames (may exceed DEPTH) */
    int32_t code[RP_INFLIGHT_DEPTH];
    char method[RP_INFLIGHT_METHOD];
    char path[RP_INFLIGHT_PATH];
    char vhost[RP_INFLIGHT_VHOST];
    char dyn[RP_INFLIGHT_DEPTH][RP_INFLIGHT_DYN];
} rp_inflight_rec_t;

/* Bytes for n records. */
apr_size_t rp_inflight_size(int n);

/* Record i of the region at base. */
static APR_INLINE rp_inflight_rec_t *rp_inflight_at(void *base, int i)
{
    return (rp_inflight_rec_t *)base + i;
}

/* A request starts on this record's thread. Strings are cut on UTF-8
 * character boundaries. */
void rp_inflight_begin(rp_inflight_rec_t *rec, apr_uint64_t owner, long pid,
                       apr_time_t start, const char *method, const char *path,
                       const char *vhost, int profiled);

/* The mirror that makes rp_prof write this record's stack. */
void rp_inflight_mirror(rp_inflight_rec_t *rec, const int *idmap, int nidmap,
                        rp_prof_mirror_t *m);

/* The request owner ended: the record is free (unless another request
 * took it meanwhile). */
void rp_inflight_end(rp_inflight_rec_t *rec, apr_uint64_t owner);

/* One request in flight, as read. */
typedef struct rp_inflight_row {
    int slot;                       /* record index */
    long pid;
    apr_uint64_t owner;
    apr_time_t start;
    double elapsed;                 /* seconds at the read */
    int profiled;
    const char *method, *path, *vhost;
    int nstack;
    const char **stack;             /* outermost first */
} rp_inflight_row_t;

/* Name of a static function's code (see rp_prof_mirror_t), or NULL. */
typedef const char *(*rp_inflight_name_fn)(void *ctx, int code, apr_pool_t *p);

/* Every active record of n whose slot `keep(ctx, i)` accepts (NULL: all),
 * longest running first, as rp_inflight_row_t in an array from p. */
apr_array_header_t *rp_inflight_read(void *base, int n, apr_time_t now, apr_pool_t *p,
                                     rp_inflight_name_fn name, void *name_ctx,
                                     int (*keep)(void *ctx, int i), void *keep_ctx);

#endif
