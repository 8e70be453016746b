/*
 * rp_tree.c - the aggregate call tree in shared memory (see rp_tree.h for
 * the concurrency rules and the cap). Requests only add, compare-and-swap
 * and store; nothing waits.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include "rp_parse.h"
#include "rp_tree.h"

#define MAGIC   0x52505452u     /* "RPTR" */
#define VERSION 1u
#define ALIGN(n) (((n) + 63) & ~(apr_size_t)63)

typedef volatile apr_uint64_t u64v;
typedef volatile apr_uint32_t u32v;

typedef struct hdr {
    apr_uint32_t magic, version;
    rp_tree_sizes_t sizes;
    apr_uint64_t bytes;
    apr_uint64_t created;           /* usec since the epoch */
    u32v nodes_used, funcs_used, vhosts_used;
    u64v lost_calls;                /* paths folded into an ancestor's self */
} hdr_t;

typedef struct fname {
    u32v ready;
    apr_int32_t line;
    char file[RP_TREE_FILE_LEN];
    char name[RP_TREE_NAME_LEN];
} fname_t;

typedef struct vname {
    u32v ready;
    char name[RP_TREE_VHOST_LEN];
} vname_t;

typedef struct node {
    apr_int32_t parent, func, vhost;
    u32v ready;
} node_t;

typedef struct cnt {
    u64v calls, self, cum;
} cnt_t;

struct rp_tree {
    hdr_t *hdr;
    vname_t *vhosts;                /* [nvhosts + 1]: "(other)" last */
    fname_t *funcs;                 /* [nnodes] */
    u64v *fhash;                    /* [hsize]: 0 empty, else the name's hash */
    u32v *fidx;                     /* [hsize]: function id + 1, 0 being written */
    node_t *nodes;                  /* [nnodes] */
    u64v *nhash;                    /* [hsize]: 0 empty, else the node's key */
    u32v *nidx;                     /* [hsize]: node index + 1, 0 being written,
                                     * SLOT_FULL: no room was left */
    cnt_t *total;                   /* [nnodes] since start */
    u32v *stamps;                   /* [RP_WIN_SLOTS] the minute of each slot */
    cnt_t *slots;                   /* [RP_WIN_SLOTS][nnodes] */
    rp_tree_sizes_t sz;
    apr_uint32_t hmask;
    int reserve;                    /* nodes only "(other)" may take */
};

typedef struct offsets {
    apr_size_t vhosts, funcs, fhash, fidx, nodes, nhash, nidx, total, stamps,
               slots, total_size;
    apr_size_t hsize;
} offsets_t;

static apr_size_t hsize_of(int nnodes)
{
    apr_size_t h = 1;
    while (h < (apr_size_t)nnodes * 2)
        h <<= 1;
    return h;
}

static void layout(const rp_tree_sizes_t *sz, offsets_t *o)
{
    apr_size_t n = (apr_size_t)sz->nnodes;
    o->hsize = hsize_of(sz->nnodes);
    o->vhosts = ALIGN(sizeof(hdr_t));
    o->funcs = o->vhosts + ALIGN(sizeof(vname_t) * (apr_size_t)(sz->nvhosts + 1));
    o->fhash = o->funcs + ALIGN(sizeof(fname_t) * n);
    o->fidx = o->fhash + ALIGN(sizeof(apr_uint64_t) * o->hsize);
    o->nodes = o->fidx + ALIGN(sizeof(apr_uint32_t) * o->hsize);
    o->nhash = o->nodes + ALIGN(sizeof(node_t) * n);
    o->nidx = o->nhash + ALIGN(sizeof(apr_uint64_t) * o->hsize);
    o->total = o->nidx + ALIGN(sizeof(apr_uint32_t) * o->hsize);
    o->stamps = o->total + ALIGN(sizeof(cnt_t) * n);
    o->slots = o->stamps + ALIGN(sizeof(apr_uint32_t) * RP_WIN_SLOTS);
    o->total_size = o->slots + ALIGN(sizeof(cnt_t) * n * RP_WIN_SLOTS);
}

static int sizes_ok(const rp_tree_sizes_t *sz)
{
    return sz->nnodes >= RP_TREE_MIN_NODES && sz->nnodes <= RP_TREE_MAX_NODES
           && sz->nvhosts >= 1 && sz->nvhosts <= RP_TREE_MAX_VHOSTS;
}

apr_size_t rp_tree_size(const rp_tree_sizes_t *sz)
{
    offsets_t o;
    if (!sizes_ok(sz))
        return 0;
    layout(sz, &o);
    return o.total_size;
}

/* Copy at most cap - 1 bytes of src, never cutting a UTF-8 character. */
static void copy_str(char *dst, const char *src, apr_size_t cap)
{
    apr_size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memset(dst, 0, cap);
    if (n)
        memcpy(dst, src, n);
}

static apr_uint64_t fnv(apr_uint64_t h, const char *s, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static apr_uint64_t mix(apr_uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Claim the next index of a table whose used count is *used (below cap). */
static int claim(u32v *used, int cap)
{
    for (;;) {
        apr_uint32_t n = apr_atomic_read32(used);
        if (n >= (apr_uint32_t)cap)
            return -1;
        if (apr_atomic_cas32(used, n + 1, n) == n)
            return (int)n;
    }
}

rp_tree_t *rp_tree_attach(apr_pool_t *p, void *base, apr_size_t size,
                          const rp_tree_sizes_t *sz, apr_time_t now, int *reused)
{
    rp_tree_t *t;
    offsets_t o;
    hdr_t *h = base;
    char *b = base;

    *reused = 0;
    if (!sizes_ok(sz))
        return NULL;
    layout(sz, &o);
    if (size < o.total_size)
        return NULL;
    *reused = h->magic == MAGIC && h->version == VERSION && h->bytes == o.total_size
              && memcmp(&h->sizes, sz, sizeof *sz) == 0;
    if (!*reused) {
        memset(base, 0, o.total_size);
        h->magic = MAGIC;
        h->version = VERSION;
        h->sizes = *sz;
        h->bytes = o.total_size;
        h->created = (apr_uint64_t)now;
    }
    t = apr_pcalloc(p, sizeof *t);
    t->hdr = h;
    t->vhosts = (vname_t *)(b + o.vhosts);
    t->funcs = (fname_t *)(b + o.funcs);
    t->fhash = (u64v *)(b + o.fhash);
    t->fidx = (u32v *)(b + o.fidx);
    t->nodes = (node_t *)(b + o.nodes);
    t->nhash = (u64v *)(b + o.nhash);
    t->nidx = (u32v *)(b + o.nidx);
    t->total = (cnt_t *)(b + o.total);
    t->stamps = (u32v *)(b + o.stamps);
    t->slots = (cnt_t *)(b + o.slots);
    t->sz = *sz;
    t->hmask = (apr_uint32_t)(o.hsize - 1);
    t->reserve = sz->nnodes / 8;
    if (!*reused) {
        /* Ids 0 and 1 are fixed: every view relies on them. */
        rp_tree_func(t, "httpd", 0, RP_TREE_ROOT_NAME);
        rp_tree_func(t, "httpd", 0, RP_TREE_OTHER_NAME);
        copy_str(t->vhosts[sz->nvhosts].name, RP_TREE_OTHER_NAME, RP_TREE_VHOST_LEN);
        t->vhosts[sz->nvhosts].ready = 1;
    }
    return t;
}

/* A hash slot's index word: 0 while its writer is between claiming the
 * slot and publishing the index (a few stores), SLOT_FULL when the writer
 * found the table full. A reader that meets 0 waits for the writer rather
 * than count its request under "(other)": two requests meeting a new path
 * at the same instant are both counted on it. The wait is bounded (a
 * writer descheduled in between is waited for with yields, 50 ms at
 * most); past it the reader gives up and says -1. */
#define SLOT_FULL 0xFFFFFFFFu

void (*rp_tree_test_unpublished)(void);

static apr_uint32_t published(u32v *slot)
{
    apr_uint32_t v;
    apr_time_t give_up = 0;
    int spins;
    for (spins = 0; (v = apr_atomic_read32(slot)) == 0; spins++) {
        if (spins < 100)
            continue;
        /* The writer was descheduled mid-publish: yield to it, 50 ms at
         * most (a time slice is a few ms). */
        if (!give_up)
            give_up = apr_time_now() + apr_time_from_msec(50);
        else if (apr_time_now() > give_up)
            return 0;
        apr_thread_yield();
    }
    return v == SLOT_FULL ? 0 : v;
}

/* ---------------------------------------------------------- functions */

int rp_tree_func(rp_tree_t *t, const char *file, int line, const char *name)
{
    char f[RP_TREE_FILE_LEN], n[RP_TREE_NAME_LEN];
    apr_uint64_t h;
    apr_uint32_t i, probes;

    copy_str(f, file, sizeof f);
    copy_str(n, name, sizeof n);
    h = fnv(14695981039346656037ULL, f, strlen(f) + 1);
    h = fnv(h, n, strlen(n) + 1);
    h = mix(h ^ (apr_uint64_t)(apr_uint32_t)line);
    if (h == 0)
        h = 1;
    i = (apr_uint32_t)h & t->hmask;
    for (probes = 0; probes <= t->hmask; ) {
        apr_uint64_t cur = apr_atomic_read64(&t->fhash[i]);
        if (cur == 0) {
            int id;
            if (apr_atomic_read32(&t->hdr->funcs_used) >= (apr_uint32_t)t->sz.nnodes)
                return -1;
            if (apr_atomic_cas64(&t->fhash[i], h, 0) != 0)
                continue;                       /* taken meanwhile: look again */
            if ((id = claim(&t->hdr->funcs_used, t->sz.nnodes)) < 0) {
                apr_atomic_set32(&t->fidx[i], SLOT_FULL);
                return -1;
            }
            if (rp_tree_test_unpublished)
                rp_tree_test_unpublished();
            memcpy(t->funcs[id].file, f, sizeof f);
            memcpy(t->funcs[id].name, n, sizeof n);
            t->funcs[id].line = line;
            apr_atomic_set32(&t->funcs[id].ready, 1);
            apr_atomic_set32(&t->fidx[i], (apr_uint32_t)id + 1);
            return id;
        }
        if (cur == h) {
            apr_uint32_t id1 = published(&t->fidx[i]);
            if (id1 == 0)
                return -1;                      /* no room was left for it */
            if (t->funcs[id1 - 1].line == line && !strcmp(t->funcs[id1 - 1].file, f)
                && !strcmp(t->funcs[id1 - 1].name, n))
                return (int)id1 - 1;
        }
        i = (i + 1) & t->hmask;
        probes++;
    }
    return -1;
}

/* -------------------------------------------------------------- nodes */

static apr_uint64_t node_key(int vhost, int parent, int func)
{
    return (1ULL << 63) | ((apr_uint64_t)(apr_uint32_t)(parent + 1) << 34)
           | ((apr_uint64_t)(apr_uint32_t)func << 8) | (apr_uint64_t)(apr_uint32_t)vhost;
}

/* The node (vhost, parent, func), made when new and there is room below
 * limit; -1 otherwise. */
static int node_of(rp_tree_t *t, int vhost, int parent, int func, int limit)
{
    apr_uint64_t k = node_key(vhost, parent, func);
    apr_uint32_t i = (apr_uint32_t)mix(k) & t->hmask, probes;

    for (probes = 0; probes <= t->hmask; ) {
        apr_uint64_t cur = apr_atomic_read64(&t->nhash[i]);
        if (cur == k) {
            apr_uint32_t n1 = published(&t->nidx[i]);
            return n1 ? (int)n1 - 1 : -1;
        }
        if (cur == 0) {
            int n;
            if (apr_atomic_read32(&t->hdr->nodes_used) >= (apr_uint32_t)limit)
                return -1;
            if (apr_atomic_cas64(&t->nhash[i], k, 0) != 0)
                continue;
            if ((n = claim(&t->hdr->nodes_used, limit)) < 0) {
                apr_atomic_set32(&t->nidx[i], SLOT_FULL);
                return -1;
            }
            if (rp_tree_test_unpublished)
                rp_tree_test_unpublished();
            t->nodes[n].parent = parent;
            t->nodes[n].func = func;
            t->nodes[n].vhost = vhost;
            apr_atomic_set32(&t->nodes[n].ready, 1);
            apr_atomic_set32(&t->nidx[i], (apr_uint32_t)n + 1);
            return n;
        }
        i = (i + 1) & t->hmask;
        probes++;
    }
    return -1;
}

int rp_tree_vhost(rp_tree_t *t, const char *name)
{
    char v[RP_TREE_VHOST_LEN];
    int i, used = (int)apr_atomic_read32(&t->hdr->vhosts_used);

    copy_str(v, name, sizeof v);
    for (i = 0; i < used && i < t->sz.nvhosts; i++)
        if (apr_atomic_read32(&t->vhosts[i].ready) && !strcmp(t->vhosts[i].name, v))
            break;
    if (i >= used || i >= t->sz.nvhosts) {
        if ((i = claim(&t->hdr->vhosts_used, t->sz.nvhosts)) < 0)
            i = t->sz.nvhosts;
        else {
            memcpy(t->vhosts[i].name, v, sizeof v);
            apr_atomic_set32(&t->vhosts[i].ready, 1);
        }
    }
    /* Its root now, so a request always finds it. */
    node_of(t, i, -1, RP_TREE_FUNC_ROOT, t->sz.nnodes);
    return i;
}

/* ---------------------------------------------------------- recording */

/* The compiler's atomic add, inlined (apr_atomic_add64 is a call into
 * libapr per counter: a third of the recording's cost). Relaxed order: the
 * counts are independent sums, read only by summing. */
static APR_INLINE void add(cnt_t *c, apr_uint64_t calls, apr_uint64_t self,
                           apr_uint64_t cum)
{
    if (calls)
        __atomic_fetch_add(&c->calls, calls, __ATOMIC_RELAXED);
    if (self)
        __atomic_fetch_add(&c->self, self, __ATOMIC_RELAXED);
    if (cum)
        __atomic_fetch_add(&c->cum, cum, __ATOMIC_RELAXED);
}

/* The minute slot now falls in, zeroed when it still held an older minute. */
static cnt_t *slot_of(rp_tree_t *t, apr_time_t now)
{
    apr_uint32_t m = rp_win_minute(now);
    int s = rp_win_slot(m);
    cnt_t *slot = t->slots + (apr_size_t)s * (apr_size_t)t->sz.nnodes;
    if (rp_win_slot_claim(&t->stamps[s], m)) {
        memset((void *)slot, 0, sizeof(cnt_t) * (apr_size_t)t->sz.nnodes);
        rp_win_slot_ready(&t->stamps[s], m);
    }
    return slot;
}

static int vhost_in_range(const rp_tree_t *t, int vhost)
{
    return vhost < 0 || vhost > t->sz.nvhosts ? t->sz.nvhosts : vhost;
}

void rp_tree_record(rp_tree_t *t, int vhost, const rp_tree_rec_t *rec, int n,
                    apr_time_t now, int *map)
{
    int i, limit = t->sz.nnodes - t->reserve;
    cnt_t *slot;

    if (n < 1)
        return;
    vhost = vhost_in_range(t, vhost);
    slot = slot_of(t, now);

    for (i = 0; i < n; i++) {
        const rp_tree_rec_t *r = &rec[i];
        int nd, parent;
        if (i == 0) {
            nd = node_of(t, vhost, -1, RP_TREE_FUNC_ROOT, t->sz.nnodes);
            if (nd < 0) {
                map[0] = -1;
                apr_atomic_add64(&t->hdr->lost_calls, 1);
                return;
            }
        }
        else {
            parent = r->parent >= 0 && r->parent < i ? map[r->parent] : -1;
            map[i] = -1;
            if (parent < 0)
                continue;       /* counted in an ancestor's "(other)" */
            nd = r->func >= 0 ? node_of(t, vhost, parent, r->func, limit) : -1;
            if (nd < 0) {
                int o = r->func == RP_TREE_FUNC_OTHER ? -1
                        : node_of(t, vhost, parent, RP_TREE_FUNC_OTHER, t->sz.nnodes);
                if (o >= 0) {
                    add(&t->total[o], r->calls, r->cum_ns, r->cum_ns);
                    add(&slot[o], r->calls, r->cum_ns, r->cum_ns);
                }
                else {
                    add(&t->total[parent], 0, r->cum_ns, 0);
                    add(&slot[parent], 0, r->cum_ns, 0);
                    apr_atomic_add64(&t->hdr->lost_calls, r->calls);
                }
                continue;
            }
        }
        map[i] = nd;
        add(&t->total[nd], r->calls, r->self_ns, r->cum_ns);
        add(&slot[nd], r->calls, r->self_ns, r->cum_ns);
    }
}

/* --------------------------------------------------------------- fold */

static APR_INLINE int new_rec(rp_tree_rec_t *out, int *nrec, int parent, int func)
{
    rp_tree_rec_t *o = &out[*nrec];
    o->parent = parent;
    o->func = func;
    o->calls = o->self_ns = o->cum_ns = 0;
    return (*nrec)++;
}

/* Records' cumulative time to ns once per record rather than per frame;
 * then self = cumulative less the children's (summed into self_ns first:
 * children come after their parent), so that in ns too every record is
 * exactly its self plus its children (unless rounding made them longer). */
static void finish(rp_tree_rec_t *out, int nrec, double ns_per_unit)
{
    int i;
    if (ns_per_unit != 1.0)
        for (i = 0; i < nrec; i++)
            /* Signed conversions (rp_clock.h's rp_scale_u64 says why). */
            out[i].cum_ns = (uint64_t)(int64_t)((double)(int64_t)out[i].cum_ns * ns_per_unit
                                                + 0.5);
    for (i = nrec - 1; i >= 1; i--)
        out[out[i].parent].self_ns += out[i].cum_ns;
    for (i = 0; i < nrec; i++)
        out[i].self_ns = out[i].cum_ns > out[i].self_ns ? out[i].cum_ns - out[i].self_ns : 0;
}

/* rp_tree_fold; rec_of (NULL: not wanted) gets each event's record, -1
 * for an event left out. */
static int fold(const rp_tree_ev_t *ev, int n, double ns_per_unit,
                rp_tree_rec_t *out, int *work, int *rec_of)
{
    /* open[d]: the record of the frame open at depth d; slot: an open-
     * addressed table of record + 1 by (parent, func), 2 n entries rounded
     * up to a power of two (at most half full), cleared here: one probe or
     * two per frame however many children a phase has. */
    int *open = work, *slot = work + n;
    apr_uint32_t mask = 1;
    int nrec = 0, i;

    if (n < 1 || ev[0].depth != 0)
        return 0;
    while (mask < (apr_uint32_t)n * 2)
        mask <<= 1;         /* below 4 n: the room given */
    memset(slot, 0, sizeof(int) * mask);
    mask--;
    for (i = 0; i < n; i++) {
        const rp_tree_ev_t *e = &ev[i];
        int parent = -1, r = -1;
        uint64_t dur = e->t1 > e->t0 ? e->t1 - e->t0 : 0;

        if (rec_of)
            rec_of[i] = -1;
        if (e->depth < 0 || e->depth >= n || (e->depth == 0 && i > 0))
            continue;
        if (e->depth > 0) {
            apr_uint32_t h;
            parent = open[e->depth - 1];
            if (parent < 0)
                continue;       /* its parent was not logged */
            h = ((apr_uint32_t)parent * 2654435761u ^ (apr_uint32_t)e->func * 40503u) & mask;
            while (slot[h]) {
                const rp_tree_rec_t *o = &out[slot[h] - 1];
                if (o->parent == parent && o->func == e->func) {
                    r = slot[h] - 1;
                    break;
                }
                h = (h + 1) & mask;
            }
            if (r < 0)
                slot[h] = (r = new_rec(out, &nrec, parent, e->func)) + 1;
        }
        else
            r = new_rec(out, &nrec, -1, e->func);
        if (rec_of)
            rec_of[i] = r;
        out[r].calls++;
        out[r].cum_ns += dur;           /* in the events' unit until finish */
        open[e->depth] = r;
        if (e->depth + 1 < n)
            open[e->depth + 1] = -1;    /* a deeper frame must follow this one */
    }
    finish(out, nrec, ns_per_unit);
    return nrec;
}

int rp_tree_fold(const rp_tree_ev_t *ev, int n, double ns_per_unit,
                 rp_tree_rec_t *out, int *work)
{
    return fold(ev, n, ns_per_unit, out, work, NULL);
}

/* ---------------------------------------------------------- path cache */

/* One remembered path (shape) of a request. */
typedef struct cpath {
    rp_tree_t *t;           /* the region its nodes are in, NULL: empty */
    int vhost;
    int n, nrec;            /* the cached request's events and records */
    int *func, *depth;      /* [cap] its events' (function, depth) */
    int *rec_of;            /* [cap] the record of each event, -1: none */
    int *parent;            /* [cap] each record's parent record */
    int *rfunc;             /* [cap] each record's function */
    int *node;              /* [cap] each record's node */
    cnt_t *acc;             /* [cap] sums batched, not yet in the region */
    /* rp_tree_cache_key's key, valid while keyed: each event's first
     * eight bytes in the profile's log (rp_prof_log_shape's form) */
    int keyed;
    uint64_t tag;           /* the key's number (rp_tree_cache_tag) */
    uint64_t *lkey;         /* [cap] */
    /* The keyed road's batch (rp_tree_record_log without out): each
     * event's ticks summed over nlog requests, in units of ns_per_unit;
     * fold_log makes them records and adds them to acc */
    uint64_t *evsum;        /* [cap] */
    unsigned long nlog;
    double ns_per_unit;
    int pending;            /* acc or evsum holds some */
    unsigned long used;     /* the cache's clock at its last hit or fill */
} cpath_t;

struct rp_tree_cache {
    int cap;                /* events a cached request may have */
    rp_tree_rec_t *scratch; /* [cap] records for fold_log and an out-less hit */
    cpath_t way[RP_TREE_CACHE_WAYS];
    int last;               /* the way hit last: tried first */
    unsigned long clock;
    unsigned long hits, misses;
    uint64_t tags;          /* the last tag given to a key */
    uint64_t hit_tag;       /* the key rp_tree_record_log matched last, 0 */
    /* The keyed batch road's request: each event's ticks (log_ticks), for
     * the status page's shape sums (rp_tree_cache_ticks); nticks 0: none */
    uint64_t *ticks;        /* [cap] */
    int nticks;
    /* batching (rp_tree_cache_batch): every way's sums are of window
     * minute bminute */
    int batch;
    apr_uint32_t bminute;
};

rp_tree_cache_t *rp_tree_cache_create(apr_pool_t *p, int cap)
{
    rp_tree_cache_t *c = apr_pcalloc(p, sizeof *c);
    int w;
    if (cap < 1)
        cap = 1;
    c->cap = cap;
    c->scratch = apr_palloc(p, sizeof(rp_tree_rec_t) * (apr_size_t)cap);
    c->ticks = apr_palloc(p, sizeof(uint64_t) * (apr_size_t)cap);
    for (w = 0; w < RP_TREE_CACHE_WAYS; w++) {
        cpath_t *cp = &c->way[w];
        cp->func = apr_palloc(p, sizeof(int) * 6 * (apr_size_t)cap);
        cp->depth = cp->func + cap;
        cp->rec_of = cp->depth + cap;
        cp->parent = cp->rec_of + cap;
        cp->rfunc = cp->parent + cap;
        cp->node = cp->rfunc + cap;
        cp->acc = apr_pcalloc(p, sizeof(cnt_t) * (apr_size_t)cap);
        cp->lkey = apr_palloc(p, sizeof(uint64_t) * (apr_size_t)cap);
        cp->evsum = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)cap);
    }
    return c;
}

int rp_tree_cache_pending(const rp_tree_cache_t *c)
{
    int w;
    for (w = 0; w < RP_TREE_CACHE_WAYS; w++)
        if (c->way[w].pending)
            return 1;
    return 0;
}

/* A cached path's request: its records as the path has them, counts 0. */
static APR_INLINE void hit_begin(const cpath_t *cp, rp_tree_rec_t *out)
{
    int i;
    for (i = 0; i < cp->nrec; i++) {
        out[i].parent = cp->parent[i];
        out[i].func = cp->rfunc[i];
        out[i].calls = out[i].self_ns = out[i].cum_ns = 0;
    }
}

/* The keyed road's batched requests into acc: nlog requests of one shape
 * are one request whose events took the summed ticks, each event nlog
 * calls. Converted once, not per request: the cum sums are those of
 * per-request conversions to within half a nanosecond a request and
 * record (exactly, at one unit a nanosecond), and self (cum less the
 * children's) as well, frames being nested. */
static void fold_log(rp_tree_cache_t *c, cpath_t *cp)
{
    rp_tree_rec_t *out = c->scratch;
    int i;

    if (!cp->nlog)
        return;
    hit_begin(cp, out);
    for (i = 0; i < cp->n; i++) {
        int r = cp->rec_of[i];
        if (r >= 0) {
            out[r].calls += cp->nlog;
            out[r].cum_ns += cp->evsum[i];
        }
        cp->evsum[i] = 0;
    }
    finish(out, cp->nrec, cp->ns_per_unit);
    for (i = 0; i < cp->nrec; i++) {
        cnt_t *a = &cp->acc[i];
        a->calls += out[i].calls;
        a->self += out[i].self_ns;
        a->cum += out[i].cum_ns;
    }
    cp->nlog = 0;
}

/* Add one way's sums (of minute bminute) to its region. */
static void path_flush(rp_tree_cache_t *c, cpath_t *cp, apr_uint32_t bminute,
                       apr_time_t now)
{
    rp_tree_t *t = cp->t;
    cnt_t *slot = NULL;
    int i;

    if (!cp->pending)
        return;
    fold_log(c, cp);
    /* A minute no longer in any window is not claimed back from the
     * minute that now holds its slot: its sums count since start only. */
    if ((apr_int64_t)rp_win_minute(now) - (apr_int64_t)bminute < RP_WIN_MAX)
        slot = slot_of(t, (apr_time_t)bminute * rp_win_minute_usec);
    for (i = 0; i < cp->nrec; i++) {
        cnt_t *a = &cp->acc[i];
        int nd = cp->node[i];
        add(&t->total[nd], a->calls, a->self, a->cum);
        if (slot)
            add(&slot[nd], a->calls, a->self, a->cum);
        a->calls = a->self = a->cum = 0;
    }
    cp->pending = 0;
}

void rp_tree_cache_flush(rp_tree_cache_t *c, apr_time_t now)
{
    int w;
    for (w = 0; w < RP_TREE_CACHE_WAYS; w++)
        path_flush(c, &c->way[w], c->bminute, now);
}

void rp_tree_cache_batch(rp_tree_cache_t *c, int on, apr_time_t now)
{
    if (!on)
        rp_tree_cache_flush(c, now);
    c->batch = on;
}

void rp_tree_cache_stats(const rp_tree_cache_t *c, unsigned long *hits,
                         unsigned long *misses)
{
    *hits = c->hits;
    *misses = c->misses;
}

/* The same (function, depth) sequence as the cached request's. */
static int path_matches(const cpath_t *cp, const rp_tree_t *t, int vhost,
                        const rp_tree_ev_t *ev, int n)
{
    int i;
    if (cp->t != t || cp->vhost != vhost || cp->n != n)
        return 0;
    for (i = 0; i < n; i++)
        if (ev[i].func != cp->func[i] || ev[i].depth != cp->depth[i])
            return 0;
    return 1;
}

/* The way holding this path, the one hit last tried first; NULL: none. */
static cpath_t *cache_find(rp_tree_cache_t *c, const rp_tree_t *t, int vhost,
                           const rp_tree_ev_t *ev, int n)
{
    int w;
    if (path_matches(&c->way[c->last], t, vhost, ev, n))
        return &c->way[c->last];
    for (w = 0; w < RP_TREE_CACHE_WAYS; w++)
        if (w != c->last && path_matches(&c->way[w], t, vhost, ev, n)) {
            c->last = w;
            return &c->way[w];
        }
    return NULL;
}

/* The way a new path takes: an empty one, else the least recently used,
 * its sums flushed first (they belong to its old path). */
static cpath_t *cache_victim(rp_tree_cache_t *c, apr_time_t now)
{
    int w, v = 0;
    for (w = 0; w < RP_TREE_CACHE_WAYS; w++) {
        if (!c->way[w].t) {
            v = w;
            break;
        }
        if (c->way[w].used < c->way[v].used)
            v = w;
    }
    c->last = v;
    path_flush(c, &c->way[v], c->bminute, now);
    c->way[v].t = NULL;
    return &c->way[v];
}

/* A batched hit's minute: the sums waiting are of another minute's
 * requests, they go first. */
static APR_INLINE void batch_minute(rp_tree_cache_t *c, apr_time_t now)
{
    apr_uint32_t m = rp_win_minute(now);
    if (c->bminute != m) {
        rp_tree_cache_flush(c, now);
        c->bminute = m;
    }
}

/* A cached path's request (hit_begin), its events counted into out:
 * finished and added to the cached nodes (or to the batch). Returns the
 * records. */
static int hit_end(rp_tree_t *t, rp_tree_cache_t *c, cpath_t *cp, rp_tree_rec_t *out,
                   double ns_per_unit, apr_time_t now)
{
    int i, nrec = cp->nrec;
    cnt_t *slot;

    finish(out, nrec, ns_per_unit);
    c->hits++;
    cp->used = ++c->clock;
    if (c->batch) {
        batch_minute(c, now);
        cp->pending = 1;
        for (i = 0; i < nrec; i++) {
            cnt_t *a = &cp->acc[i];
            a->calls += out[i].calls;
            a->self += out[i].self_ns;
            a->cum += out[i].cum_ns;
        }
        return nrec;
    }
    slot = slot_of(t, now);
    for (i = 0; i < nrec; i++) {
        int nd = cp->node[i];
        add(&t->total[nd], out[i].calls, out[i].self_ns, out[i].cum_ns);
        add(&slot[nd], out[i].calls, out[i].self_ns, out[i].cum_ns);
    }
    return nrec;
}

/* A log record's place in its request's shape: function, depth, acct. */
static APR_INLINE uint64_t log_key(const rp_prof_rec_t *r)
{
    uint64_t k;
    memcpy(&k, r, sizeof k);
    return k;
}

static int key_matches(const cpath_t *cp, const rp_tree_t *t, int vhost,
                       const rp_prof_rec_t *log, int n)
{
    int i;
    if (!cp->keyed || cp->t != t || cp->vhost != vhost || cp->n != n)
        return 0;
    for (i = 0; i < n; i++)
        if (log_key(&log[i]) != cp->lkey[i])
            return 0;
    return 1;
}

/* t1 >= t0 (rp_tree_record_log's condition): two instructions a frame
 * less in the loops below than a clamp. */
static APR_INLINE uint64_t log_ticks(const rp_prof_rec_t *r)
{
    return r->t1 - r->t0;
}

/* Batched, no records wanted, and the shape of the way hit last: the
 * glue's usual request, in one pass over the log that both compares its
 * key and adds its ticks to the way's sums. A key that differs takes the
 * ticks back (unsigned sums: exactly) and returns 0; what was done
 * before the pass (a minute's or a unit's sums folded early) is what any
 * batched request would do. */
static int batch_hit_last(rp_tree_cache_t *c, const rp_tree_t *t, int vhost,
                          const rp_prof_rec_t *log, int n, double ns_per_unit,
                          apr_time_t now)
{
    cpath_t *cp = &c->way[c->last];
    uint64_t diff = 0, *evsum, *tk;
    const uint64_t *lkey;
    int i;

    if (!cp->keyed || cp->t != t || cp->vhost != vhost || cp->n != n)
        return 0;
    batch_minute(c, now);
    if (cp->nlog && cp->ns_per_unit != ns_per_unit)
        fold_log(c, cp);
    /* The arrays in registers: the stores could alias the structs'
     * fields as far as the compiler knows (3 loads a frame less). */
    lkey = cp->lkey;
    evsum = cp->evsum;
    tk = c->ticks;
    /* Two frames a turn: the loop's own test and step once for both. */
#pragma GCC unroll 2
    for (i = 0; i < n; i++) {
        uint64_t d = log_ticks(&log[i]);
        diff |= log_key(&log[i]) ^ lkey[i];
        evsum[i] += d;
        tk[i] = d;
    }
    if (diff) {
        for (i = 0; i < n; i++)
            evsum[i] -= tk[i];
        return 0;
    }
    c->nticks = n;
    c->hit_tag = cp->tag;
    c->hits++;
    cp->used = ++c->clock;
    cp->pending = 1;
    cp->ns_per_unit = ns_per_unit;
    cp->nlog++;
    return 1;
}

int rp_tree_record_log(rp_tree_t *t, rp_tree_cache_t *c, int vhost,
                       const rp_prof_rec_t *log, int n, double ns_per_unit,
                       apr_time_t now, rp_tree_rec_t *out)
{
    cpath_t *cp = NULL;
    int i, w;

    if (!c)
        return -1;
    c->hit_tag = 0;
    c->nticks = 0;
    vhost = vhost_in_range(t, vhost);
    if (!out && c->batch && batch_hit_last(c, t, vhost, log, n, ns_per_unit, now))
        return c->way[c->last].nrec;
    if (key_matches(&c->way[c->last], t, vhost, log, n))
        cp = &c->way[c->last];
    else
        for (w = 0; w < RP_TREE_CACHE_WAYS && !cp; w++)
            if (w != c->last && key_matches(&c->way[w], t, vhost, log, n)) {
                c->last = w;
                cp = &c->way[w];
            }
    if (!cp)
        return -1;
    c->hit_tag = cp->tag;
    if (!out) {
        if (c->batch) {
            /* Each event's ticks into the way's sums: no records, no
             * conversion until the flush. */
            batch_minute(c, now);
            if (cp->nlog && cp->ns_per_unit != ns_per_unit)
                fold_log(c, cp);
            c->hits++;
            cp->used = ++c->clock;
            cp->pending = 1;
            cp->ns_per_unit = ns_per_unit;
            cp->nlog++;
            uint64_t *evsum = cp->evsum, *tk = c->ticks;
            for (i = 0; i < n; i++) {
                uint64_t d = log_ticks(&log[i]);
                evsum[i] += d;
                tk[i] = d;
            }
            c->nticks = n;
            return cp->nrec;
        }
        out = c->scratch;
    }
    hit_begin(cp, out);
    for (i = 0; i < n; i++) {
        int r = cp->rec_of[i];
        if (r >= 0) {
            out[r].calls++;
            out[r].cum_ns += log_ticks(&log[i]);
        }
    }
    return hit_end(t, c, cp, out, ns_per_unit, now);
}

void rp_tree_cache_key(rp_tree_cache_t *c, const rp_tree_t *t, int vhost,
                       const rp_tree_ev_t *ev, const rp_prof_rec_t *log, int n)
{
    cpath_t *cp;
    int i;

    if (!c)
        return;
    cp = &c->way[c->last];
    vhost = vhost_in_range(t, vhost);
    /* The way the call just made hit or filled is c->last, unless it took
     * the uncached road or refused the fill: the way must hold these
     * very events. */
    if (!path_matches(cp, t, vhost, ev, n))
        return;
    for (i = 0; i < n; i++)
        cp->lkey[i] = log_key(&log[i]);
    cp->keyed = 1;
    cp->tag = ++c->tags;
}

const uint64_t *rp_tree_cache_ticks(const rp_tree_cache_t *c, int *n)
{
    *n = c ? c->nticks : 0;
    return *n ? c->ticks : NULL;
}

uint64_t rp_tree_cache_tag(const rp_tree_cache_t *c)
{
    return c ? c->hit_tag : 0;
}

int rp_tree_record_events(rp_tree_t *t, rp_tree_cache_t *c, int vhost,
                          const rp_tree_ev_t *ev, int n, double ns_per_unit,
                          apr_time_t now, rp_tree_rec_t *out, int *work)
{
    int i, nrec;
    cpath_t *cp;

    vhost = vhost_in_range(t, vhost);
    if (c && (cp = cache_find(c, t, vhost, ev, n)) != NULL) {
        /* Fold by the cached event -> record map, then add to the cached
         * nodes: what fold and rp_tree_record would do, without a lookup. */
        hit_begin(cp, out);
        for (i = 0; i < n; i++) {
            int r = cp->rec_of[i];
            if (r >= 0) {
                out[r].calls++;
                out[r].cum_ns += ev[i].t1 > ev[i].t0 ? ev[i].t1 - ev[i].t0 : 0;
            }
        }
        return hit_end(t, c, cp, out, ns_per_unit, now);
    }
    if (!c || n > c->cap) {
        nrec = fold(ev, n, ns_per_unit, out, work, NULL);
        rp_tree_record(t, vhost, out, nrec, now, work);
        return nrec;
    }
    c->misses++;
    cp = cache_victim(c, now);
    cp->keyed = 0;
    nrec = fold(ev, n, ns_per_unit, out, work, cp->rec_of);
    rp_tree_record(t, vhost, out, nrec, now, work);
    /* Kept only when every record has a node of its own: a path counted
     * in "(other)" or lost must take the slow road again (room may have
     * been made, and the fallback is not a node lookup). */
    if (nrec < 1)
        return nrec;
    for (i = 0; i < nrec; i++) {
        if (work[i] < 0)
            return nrec;
        cp->node[i] = work[i];
        cp->parent[i] = out[i].parent;
        cp->rfunc[i] = out[i].func;
    }
    for (i = 0; i < n; i++) {
        cp->func[i] = ev[i].func;
        cp->depth[i] = ev[i].depth;
    }
    cp->n = n;
    cp->nrec = nrec;
    cp->vhost = vhost;
    cp->t = t;
    cp->used = ++c->clock;
    return nrec;
}

/* ------------------------------------------------------------ reading */

rp_tree_counts_t *rp_tree_counts(const rp_tree_t *t, apr_pool_t *p, int window,
                                 apr_time_t now)
{
    rp_tree_counts_t *c = apr_pcalloc(p, sizeof *c);
    apr_uint32_t m = rp_win_minute(now);
    int n = (int)apr_atomic_read32(&t->hdr->nodes_used), i, s;

    if (n > t->sz.nnodes)
        n = t->sz.nnodes;
    c->n = n;
    c->window = window;
    c->when = now;
    c->calls = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)(n + 1));
    c->self_ns = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)(n + 1));
    c->cum_ns = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)(n + 1));
    if (window <= 0) {
        for (i = 0; i < n; i++) {
            c->calls[i] = apr_atomic_read64(&t->total[i].calls);
            c->self_ns[i] = apr_atomic_read64(&t->total[i].self);
            c->cum_ns[i] = apr_atomic_read64(&t->total[i].cum);
        }
        return c;
    }
    for (s = 0; s < RP_WIN_SLOTS; s++) {
        const cnt_t *slot = t->slots + (apr_size_t)s * (apr_size_t)t->sz.nnodes;
        if (!rp_win_in(apr_atomic_read32(&t->stamps[s]), m, window))
            continue;
        for (i = 0; i < n; i++) {
            c->calls[i] += apr_atomic_read64((u64v *)&slot[i].calls);
            c->self_ns[i] += apr_atomic_read64((u64v *)&slot[i].self);
            c->cum_ns[i] += apr_atomic_read64((u64v *)&slot[i].cum);
        }
    }
    return c;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

void rp_tree_counts_sub(rp_tree_counts_t *later, const rp_tree_counts_t *earlier)
{
    int i, n = later->n < earlier->n ? later->n : earlier->n;
    for (i = 0; i < n; i++) {
        later->calls[i] = sub0(later->calls[i], earlier->calls[i]);
        later->self_ns[i] = sub0(later->self_ns[i], earlier->self_ns[i]);
        later->cum_ns[i] = sub0(later->cum_ns[i], earlier->cum_ns[i]);
    }
}

rp_tree_snap_t *rp_tree_snap(const rp_tree_t *t, const rp_tree_counts_t *c,
                             int vhost, apr_pool_t *p)
{
    rp_tree_snap_t *s = apr_pcalloc(p, sizeof *s);
    int nf = (int)apr_atomic_read32(&t->hdr->funcs_used), i;
    int *map = apr_palloc(p, sizeof(int) * (apr_size_t)(c->n + 1));
    apr_hash_t *merged = apr_hash_make(p);

    if (nf > t->sz.nnodes)
        nf = t->sz.nnodes;
    s->nfuncs = nf;
    s->funcs = apr_pcalloc(p, sizeof(rp_tree_fn_t) * (apr_size_t)(nf + 2));
    for (i = 0; i < nf; i++) {
        const fname_t *f = &t->funcs[i];
        if (apr_atomic_read32((u32v *)&f->ready)) {
            s->funcs[i].file = apr_pstrdup(p, f->file);
            s->funcs[i].line = f->line;
            s->funcs[i].name = apr_pstrdup(p, f->name);
        }
        else {
            s->funcs[i].file = "httpd";
            s->funcs[i].name = "(being named)";
        }
    }
    s->nvhosts = t->sz.nvhosts + 1;
    s->vhosts = apr_pcalloc(p, sizeof(char *) * (apr_size_t)s->nvhosts);
    for (i = 0; i <= t->sz.nvhosts; i++)
        s->vhosts[i] = apr_atomic_read32(&t->vhosts[i].ready)
                       ? apr_pstrdup(p, t->vhosts[i].name) : NULL;
    s->created = (apr_time_t)t->hdr->created;
    s->window = c->window;
    s->capacity = t->sz.nnodes;
    s->used = (int)apr_atomic_read32(&t->hdr->nodes_used);
    s->lost_calls = apr_atomic_read64(&t->hdr->lost_calls);
    s->nodes = apr_pcalloc(p, sizeof(rp_tree_node_t) * (apr_size_t)(c->n + 1));

    /* The merged root first, so nodes[0] is the root. */
    s->nnodes = 1;
    s->nodes[0].parent = -1;
    s->nodes[0].func = RP_TREE_FUNC_ROOT;
    for (i = 0; i < c->n; i++) {
        const node_t *nd = &t->nodes[i];
        rp_tree_node_t *o;
        int at;
        map[i] = -1;
        if (!apr_atomic_read32((u32v *)&nd->ready) || c->calls[i] == 0
            || (vhost >= 0 && nd->vhost != vhost) || nd->func < 0 || nd->func >= nf)
            continue;
        if (nd->parent < 0)
            at = 0;
        else {
            apr_uint64_t key[2];
            int *found;
            if (nd->parent >= i || map[nd->parent] < 0)
                continue;
            key[0] = (apr_uint64_t)map[nd->parent];
            key[1] = (apr_uint64_t)nd->func;
            found = apr_hash_get(merged, key, sizeof key);
            if (found)
                at = *found;
            else {
                apr_uint64_t *k = apr_pmemdup(p, key, sizeof key);
                found = apr_palloc(p, sizeof *found);
                *found = at = s->nnodes++;
                s->nodes[at].parent = map[nd->parent];
                s->nodes[at].func = nd->func;
                apr_hash_set(merged, k, sizeof key, found);
            }
        }
        map[i] = at;
        o = &s->nodes[at];
        o->calls += c->calls[i];
        o->self_ns += c->self_ns[i];
        o->cum_ns += c->cum_ns[i];
    }
    if (s->nodes[0].calls == 0)
        s->nnodes = 0;          /* nothing recorded (in this window) */
    return s;
}

const char *rp_tree_path(const rp_tree_snap_t *s, int i, apr_pool_t *p)
{
    const char *path = NULL;
    int guard = 0;
    while (i >= 0 && i < s->nnodes && guard++ < 4096) {
        const char *id = apr_itoa(p, s->nodes[i].func);
        path = path ? apr_pstrcat(p, id, ".", path, NULL) : id;
        i = s->nodes[i].parent;
    }
    return path ? path : "";
}

int rp_tree_find(const rp_tree_snap_t *s, const char *path)
{
    int at = -1, i;
    const char *c = path;

    if (!path || !*path || s->nnodes < 1)
        return -1;
    while (*c) {
        const char *dot = strchr(c, '.');
        apr_size_t n = dot ? (apr_size_t)(dot - c) : strlen(c);
        char seg[24];
        apr_int64_t f;
        if (n == 0 || n >= sizeof seg)
            return -1;
        memcpy(seg, c, n);
        seg[n] = '\0';
        if (rp_parse_int64(seg, 0, INT_MAX, &f) != RP_INT_OK)
            return -1;
        if (at < 0) {
            if (f != s->nodes[0].func)
                return -1;
            at = 0;
        }
        else {
            int found = -1;
            /* children come after their parent */
            for (i = at + 1; i < s->nnodes; i++)
                if (s->nodes[i].parent == at && s->nodes[i].func == f) {
                    found = i;
                    break;
                }
            if (found < 0)
                return -1;
            at = found;
        }
        if (dot && !dot[1])
            return -1;          /* "0.3." */
        c = dot ? dot + 1 : c + n;
    }
    return at;
}
