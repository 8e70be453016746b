/*
 * rp_agg_int.h - the layout of rp_agg's shared region, shared by rp_agg.c
 * (writing) and rp_agg_read.c (reading, copying forward). Not part of the
 * API: everything else uses rp_agg.h.
 */
#ifndef RP_AGG_INT_H
#define RP_AGG_INT_H

#include <apr_atomic.h>
#include "rp_agg.h"

typedef volatile apr_uint64_t u64v;

typedef struct hdr {
    apr_uint32_t magic, version;
    rp_agg_sizes_t sizes;
    apr_uint64_t bytes;
    apr_uint64_t created;           /* usec since the epoch */
    u64v reset;                     /* last reset, 0: never */
    volatile apr_uint32_t nkeys_used, nvhosts_used;
    u64v slow_next_id;
    u64v keys_dropped;              /* calls of keys < 0 */
    u64v other_count, other_sum_ns; /* evicted and unplaceable URLs */
} hdr_t;

typedef struct keyname {
    volatile apr_uint32_t ready;
    apr_int32_t line;
    char file[RP_AGG_KEY_FILE];
    char name[RP_AGG_KEY_NAME];
} keyname_t;

typedef struct vhostname {
    volatile apr_uint32_t ready;
    char name[RP_AGG_VHOST_LEN];
} vhostname_t;

typedef struct kcount {
    u64v calls, tt, ct;
} kcount_t;

/* A stripe: these, then vreq[ncols], vns[ncols], kcount[ncols][nkeys]. */
typedef struct stripe {
    u64v requests, sum_ns, max_ns;
    u64v hist[RP_AGG_NBUCKETS];
} stripe_t;

typedef struct urlent {
    u64v hash;                      /* 0 empty, 1 being written, else the path's */
    u64v count, sum_ns, max_ns, last;
    char path[RP_AGG_URL_LEN];
} urlent_t;

typedef struct tfunc {
    apr_uint16_t file, name;        /* offsets in strings */
    apr_int32_t line;
    apr_int64_t cc, nc;
    double tt, ct;
} tfunc_t;

typedef struct tedge {
    apr_uint16_t caller, callee;
    apr_int64_t nc, cc;
    double tt, ct;
} tedge_t;

typedef struct slowent {
    volatile apr_uint32_t seq;      /* odd while being written */
    apr_uint32_t used;
    apr_uint64_t id, wall_ns;
    apr_int64_t when;
    apr_int32_t status, nfuncs, nedges, truncated;
    char method[16];
    char path[RP_AGG_URL_LEN];
    char vhost[RP_AGG_VHOST_LEN];
    char traceid[33];               /* "" when none */
    tfunc_t funcs[RP_AGG_TREE_FUNCS];
    tedge_t edges[RP_AGG_TREE_EDGES];
    apr_uint32_t nstrings;
    char strings[RP_AGG_TREE_STRINGS];
} slowent_t;

struct rp_agg {
    hdr_t *hdr;
    keyname_t *keys;
    vhostname_t *vhosts;
    char *stripes;
    apr_size_t stripe_size;
    urlent_t *urls;
    slowent_t *slow;
    rp_agg_sizes_t sz;
    int ncols;                      /* nvhosts + 1: the last is "(other)" */
};

static APR_INLINE stripe_t *stripe_at(const rp_agg_t *a, unsigned i)
{
    return (stripe_t *)(a->stripes + a->stripe_size * (i % RP_AGG_STRIPES));
}

static APR_INLINE u64v *vreq(const rp_agg_t *a, stripe_t *s)
{
    (void)a;
    return (u64v *)(s + 1);
}

static APR_INLINE u64v *vns(const rp_agg_t *a, stripe_t *s)
{
    return vreq(a, s) + a->ncols;
}

static APR_INLINE kcount_t *kc(const rp_agg_t *a, stripe_t *s, int col, int key)
{
    kcount_t *k = (kcount_t *)(vns(a, s) + a->ncols);
    return &k[(apr_size_t)col * (apr_size_t)a->sz.nkeys + (apr_size_t)key];
}

/* A stable copy of slow entry i; 0 when it is empty or busy. */
int rp_agg_slow_copy(const rp_agg_t *a, int i, slowent_t *out);

/* Add count requests of a path to the URL table (evicting as needed). */
void rp_agg_url_add(rp_agg_t *a, const char *path, apr_uint64_t count,
                    apr_uint64_t sum, apr_uint64_t max, apr_uint64_t last);

/* Copy at most cap - 1 bytes of src, never cutting a UTF-8 character. */
void rp_agg_copy_str(char *dst, const char *src, apr_size_t cap);

#endif
