/*
 * rp_agg_int.h - the layout of rp_agg's shared region, shared by rp_agg.c
 * (writing) and rp_agg_read.c (reading, copying forward). Not part of the
 * API: everything else uses rp_agg.h.
 */
#ifndef RP_AGG_INT_H
#define RP_AGG_INT_H

#include <apr_atomic.h>
#include "rp_agg.h"
#include "rp_window.h"

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
    u64v other_status[RP_AGG_NCLASS];
    u64v saved;                     /* last write of the status file (usec) */
    /* The slow ring's floor, so that most requests need not look at its
     * entries (slow_victim): no request of at most floor_ns enters before
     * floor_until (usec), as long as slow_gen still equals floor_gen.
     * Writers of entries bump slow_gen after each write; floor_seq is the
     * fields' sequence word. Zeros (a new region, an older saved file)
     * mean "look". */
    volatile apr_uint32_t slow_gen, floor_seq;
    u64v floor_gen, floor_ns, floor_until;
} hdr_t;

/* rp_agg_attach keeps a region (and a saved status file) whose header
 * still fits in its first 192 bytes. */
typedef char hdr_fits_[sizeof(hdr_t) <= 192 ? 1 : -1];

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

/* A block of counters: a stripe (since start) or a window slot. These,
 * then vreq[ncols], vns[ncols], vstatus[ncols][RP_AGG_NCLASS], then
 * kcount[kcols][nkeys] (a stripe: one column per virtual host; a window
 * slot: one column for all). */
typedef struct stripe {
    u64v requests;                  /* every request, profiled or not */
    u64v profiled;                  /* of which profiled (functions counted) */
    u64v sum_ns, max_ns;
    u64v hist[RP_AGG_NBUCKETS];
    u64v status[RP_AGG_NCLASS];     /* 1xx .. 5xx */
} stripe_t;

typedef struct urlent {
    u64v hash;                      /* 0 empty, 1 being written, else the path's */
    u64v count, sum_ns, max_ns, last;
    u64v status[RP_AGG_NCLASS];
    char path[RP_AGG_URL_LEN];
} urlent_t;

/* A window slot: the minute it holds, its counters (a stripe_t block with
 * one function column) and its own small URL table. */
typedef struct wslot {
    volatile apr_uint32_t stamp;    /* rp_win_minute of its counts, 0: none */
    apr_uint32_t pad;
    u64v other_count, other_sum_ns; /* URLs its table had no room for */
    u64v other_status[RP_AGG_NCLASS];
    stripe_t c;                     /* then vreq, vns, vstatus, kcount[nkeys] */
} wslot_t;

/* tfunc_t.file of a function kept by its rp_agg key: name is the key's
 * index (strings offsets are below RP_AGG_TREE_STRINGS, so never this). */
#define RP_AGG_TFUNC_KEYREF 0xFFFFu

typedef struct tfunc {
    apr_uint16_t file, name;        /* offsets in strings, or KEYREF and
                                     * the key's index */
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
    char *wslots;                   /* RP_WIN_SLOTS window slots */
    apr_size_t wslot_size;
    apr_size_t wurls_off;           /* a slot's URL table, from the slot */
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

static APR_INLINE u64v *vst(const rp_agg_t *a, stripe_t *s, int col)
{
    return vns(a, s) + a->ncols + (apr_size_t)col * RP_AGG_NCLASS;
}

static APR_INLINE kcount_t *kc(const rp_agg_t *a, stripe_t *s, int col, int key)
{
    kcount_t *k = (kcount_t *)(vns(a, s) + a->ncols * (1 + RP_AGG_NCLASS));
    return &k[(apr_size_t)col * (apr_size_t)a->sz.nkeys + (apr_size_t)key];
}

static APR_INLINE wslot_t *wslot_at(const rp_agg_t *a, int i)
{
    return (wslot_t *)(a->wslots + a->wslot_size * (apr_size_t)i);
}

static APR_INLINE urlent_t *wurls(const rp_agg_t *a, wslot_t *w)
{
    return (urlent_t *)((char *)w + a->wurls_off);
}

/* Append s (cut to 254 bytes on a character boundary) to a slow entry's
 * strings: its offset, or -1 when they are full. */
int rp_agg_slow_add_string(slowent_t *e, const char *s);

/* A stable copy of slow entry i; 0 when it is empty or busy. */
int rp_agg_slow_copy(const rp_agg_t *a, int i, slowent_t *out);

/* A URL table: its entries and where what does not fit goes. */
typedef struct urltab {
    urlent_t *e;
    int n;
    u64v *other_count, *other_sum_ns, *other_status;
} urltab_t;

/* Add count requests of a path to a URL table (evicting as needed);
 * status: their classes [RP_AGG_NCLASS], NULL for none. */
void rp_agg_url_add(const urltab_t *t, const char *path, apr_uint64_t count,
                    apr_uint64_t sum, apr_uint64_t max, apr_uint64_t last,
                    const apr_uint64_t *status);

static APR_INLINE urltab_t rp_agg_main_urls(const rp_agg_t *a)
{
    urltab_t t;
    t.e = a->urls;
    t.n = a->sz.nurls;
    t.other_count = &a->hdr->other_count;
    t.other_sum_ns = &a->hdr->other_sum_ns;
    t.other_status = a->hdr->other_status;
    return t;
}

static APR_INLINE urltab_t rp_agg_slot_urls(const rp_agg_t *a, wslot_t *w)
{
    urltab_t t;
    t.e = wurls(a, w);
    t.n = RP_AGG_WIN_URLS;
    t.other_count = &w->other_count;
    t.other_sum_ns = &w->other_sum_ns;
    t.other_status = w->other_status;
    return t;
}

/* Make an image read from outside (a status file) safe to read and add
 * to: every name NUL-terminated, used counts and slow-entry sizes within
 * their tables, string offsets and edge ends in range, sequence words
 * even. Counts are taken as they are. */
void rp_agg_sanitize(rp_agg_t *a);

/* Copy at most cap - 1 bytes of src, never cutting a UTF-8 character. */
void rp_agg_copy_str(char *dst, const char *src, apr_size_t cap);

#endif
