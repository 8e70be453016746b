/*
 * rp_agg.c - shared-memory aggregates for the status page (see rp_agg.h
 * for the concurrency rules). Everything written by requests is an atomic
 * add, a compare-and-swap or a store; nothing waits for anything.
 */
#include <stddef.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include "rp_agg_int.h"
#include "rp_clock.h"

#define MAGIC   0x52504147u     /* "RPAG" */
#define VERSION 2u     /* 2: every request, status classes, windows */
#define ALIGN(n) (((n) + 63) & ~(apr_size_t)63)

const double rp_agg_bucket_le[RP_AGG_NBUCKETS] = {
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
    0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 0 /* +Inf */
};

const char *const rp_agg_bucket_text[RP_AGG_NBUCKETS] = {
    "0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02", "0.05",
    "0.1", "0.2", "0.5", "1", "2", "5", "10", "20", "50", "+Inf"
};

/* ------------------------------------------------------------- layout */

typedef struct offsets {
    apr_size_t keys, vhosts, stripes, stripe_size, urls, slow, wslots, wslot_size,
               wurls_off, total;
} offsets_t;

static void layout(const rp_agg_sizes_t *sz, offsets_t *o)
{
    apr_size_t ncols = (apr_size_t)sz->nvhosts + 1;
    o->keys = ALIGN(sizeof(hdr_t));
    o->vhosts = o->keys + ALIGN(sizeof(keyname_t) * (apr_size_t)sz->nkeys);
    o->stripes = o->vhosts + ALIGN(sizeof(vhostname_t) * (apr_size_t)sz->nvhosts);
    o->stripe_size = ALIGN(sizeof(stripe_t)
                           + (2 + RP_AGG_NCLASS) * sizeof(apr_uint64_t) * ncols
                           + sizeof(kcount_t) * ncols * (apr_size_t)sz->nkeys);
    o->urls = o->stripes + o->stripe_size * RP_AGG_STRIPES;
    o->slow = o->urls + ALIGN(sizeof(urlent_t) * (apr_size_t)sz->nurls);
    o->wslots = o->slow + ALIGN(sizeof(slowent_t) * (apr_size_t)sz->nslow);
    /* A slot: its header, the counter block with one function column,
     * then its URL table. */
    o->wurls_off = ALIGN(offsetof(wslot_t, c) + sizeof(stripe_t)
                         + (2 + RP_AGG_NCLASS) * sizeof(apr_uint64_t) * ncols
                         + sizeof(kcount_t) * (apr_size_t)sz->nkeys);
    o->wslot_size = ALIGN(o->wurls_off + sizeof(urlent_t) * RP_AGG_WIN_URLS);
    o->total = o->wslots + o->wslot_size * RP_WIN_SLOTS;
}

apr_size_t rp_agg_size(const rp_agg_sizes_t *sz)
{
    offsets_t o;
    layout(sz, &o);
    return o.total;
}

rp_agg_t *rp_agg_attach(apr_pool_t *p, void *base, apr_size_t size,
                        const rp_agg_sizes_t *sz, apr_time_t now, int *reused)
{
    rp_agg_t *a;
    offsets_t o;
    hdr_t *h = base;

    layout(sz, &o);
    if (size < o.total || sz->nkeys < 1 || sz->nvhosts < 1 || sz->nurls < 1
        || sz->nslow < 1)
        return NULL;
    *reused = h->magic == MAGIC && h->version == VERSION && h->bytes == o.total
              && memcmp(&h->sizes, sz, sizeof *sz) == 0;
    if (!*reused) {
        memset(base, 0, o.total);
        h->magic = MAGIC;
        h->version = VERSION;
        h->sizes = *sz;
        h->bytes = o.total;
        h->created = (apr_uint64_t)now;
    }
    a = apr_pcalloc(p, sizeof *a);
    a->hdr = h;
    a->keys = (keyname_t *)((char *)base + o.keys);
    a->vhosts = (vhostname_t *)((char *)base + o.vhosts);
    a->stripes = (char *)base + o.stripes;
    a->stripe_size = o.stripe_size;
    a->urls = (urlent_t *)((char *)base + o.urls);
    a->slow = (slowent_t *)((char *)base + o.slow);
    a->wslots = (char *)base + o.wslots;
    a->wslot_size = o.wslot_size;
    a->wurls_off = o.wurls_off;
    a->sz = *sz;
    a->ncols = sz->nvhosts + 1;
    return a;
}

/* --------------------------------------------------------------- names */

/* Bytes of src kept in cap - 1: never half a UTF-8 character. */
static apr_size_t cut_len(const char *src, apr_size_t cap)
{
    apr_size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    return n;
}

void rp_agg_copy_str(char *dst, const char *src, apr_size_t cap)
{
    apr_size_t n = cut_len(src, cap);
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Claim the next index of a table whose used count is *used (cap max). */
static int claim(volatile apr_uint32_t *used, int cap)
{
    for (;;) {
        apr_uint32_t n = apr_atomic_read32(used);
        if (n >= (apr_uint32_t)cap)
            return -1;
        if (apr_atomic_cas32(used, n + 1, n) == n)
            return (int)n;
    }
}

int rp_agg_key(rp_agg_t *a, const char *file, int line, const char *name)
{
    char f[RP_AGG_KEY_FILE], n[RP_AGG_KEY_NAME];
    int i, used = (int)apr_atomic_read32(&a->hdr->nkeys_used);

    rp_agg_copy_str(f, file, sizeof f);
    rp_agg_copy_str(n, name, sizeof n);
    for (i = 0; i < used && i < a->sz.nkeys; i++) {
        const keyname_t *k = &a->keys[i];
        if (apr_atomic_read32((volatile apr_uint32_t *)&k->ready) && k->line == line
            && !strcmp(k->file, f) && !strcmp(k->name, n))
            return i;
    }
    if ((i = claim(&a->hdr->nkeys_used, a->sz.nkeys)) < 0)
        return -1;
    memcpy(a->keys[i].file, f, sizeof f);
    memcpy(a->keys[i].name, n, sizeof n);
    a->keys[i].line = line;
    apr_atomic_set32(&a->keys[i].ready, 1);
    return i;
}

int rp_agg_key_name(const rp_agg_t *a, int i, const char **file, int *line,
                    const char **name)
{
    const keyname_t *k;
    if (i < 0 || i >= a->sz.nkeys || (apr_uint32_t)i >= apr_atomic_read32(&a->hdr->nkeys_used))
        return 0;
    k = &a->keys[i];
    if (!apr_atomic_read32((volatile apr_uint32_t *)&k->ready))
        return 0;
    *file = k->file;
    *line = k->line;
    *name = k->name;
    return 1;
}

int rp_agg_vhost(rp_agg_t *a, const char *name)
{
    char v[RP_AGG_VHOST_LEN];
    int i, used = (int)apr_atomic_read32(&a->hdr->nvhosts_used);

    rp_agg_copy_str(v, name, sizeof v);
    for (i = 0; i < used && i < a->sz.nvhosts; i++)
        if (apr_atomic_read32(&a->vhosts[i].ready) && !strcmp(a->vhosts[i].name, v))
            return i;
    if ((i = claim(&a->hdr->nvhosts_used, a->sz.nvhosts)) < 0)
        return -1;
    memcpy(a->vhosts[i].name, v, sizeof v);
    apr_atomic_set32(&a->vhosts[i].ready, 1);
    return i;
}

/* ----------------------------------------------------------- recording */

/* The compiler's atomic add, inlined (apr_atomic_add64 is a call into
 * libapr per counter). Relaxed: the counters are independent sums; the
 * one add that publishes a request (its stripe's requests) stays
 * apr_atomic_add64, a full barrier, and comes last. */
static APR_INLINE void inc(u64v *c, apr_uint64_t v)
{
    __atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

static void max64(u64v *m, apr_uint64_t v)
{
    apr_uint64_t cur = __atomic_load_n(m, __ATOMIC_RELAXED);
    while (cur < v && !__atomic_compare_exchange_n(m, &cur, v, 0, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

static int bucket_of(uint64_t ns)
{
    double s = (double)ns / 1e9;
    int b;
    for (b = 0; b < RP_AGG_NBUCKETS - 1; b++)
        if (s <= rp_agg_bucket_le[b])
            return b;
    return RP_AGG_NBUCKETS - 1;
}

/* FNV-1a; 0 and 1 are reserved for empty and busy entries. */
static apr_uint64_t hash_path(const char *s)
{
    apr_uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h < 2 ? h + 2 : h;
}

static void add_status(u64v *to, const apr_uint64_t *status)
{
    int c;
    if (status)
        for (c = 0; c < RP_AGG_NCLASS; c++)
            if (status[c])
                inc(&to[c], status[c]);
}

/* Publish path in e, whose hash word this writer set to 1 ("being
 * written") and whose counts are 0 (a new region, a reset or the
 * eviction that took it zeroed them). They are added to, not stored: a
 * request that matched the entry's previous path just before it was taken
 * may still be adding to it, and its count must land somewhere (in this
 * row) rather than be overwritten, or the rows and "(other)" would no
 * longer add up to the total. */
static void url_fill(urlent_t *e, const char *path, apr_uint64_t hash, apr_uint64_t count,
                     apr_uint64_t sum, apr_uint64_t max, apr_uint64_t last,
                     const apr_uint64_t *status)
{
    memcpy(e->path, path, RP_AGG_URL_LEN);
    apr_atomic_add64(&e->count, count);
    apr_atomic_add64(&e->sum_ns, sum);
    add_status(e->status, status);
    apr_atomic_set64(&e->max_ns, max);
    apr_atomic_set64(&e->last, last);
    apr_atomic_set64(&e->hash, hash);    /* publishes the entry */
}

/* path: RP_AGG_URL_LEN bytes, cut and zero-padded; h: its hash. */
static void url_add_h(const urltab_t *t, const char *path, apr_uint64_t h,
                      apr_uint64_t count, apr_uint64_t sum, apr_uint64_t max,
                      apr_uint64_t last, const apr_uint64_t *status)
{
    apr_uint64_t victim_hash = 0, vmin = ~(apr_uint64_t)0;
    int i, c, probe = t->n < RP_AGG_URL_PROBE ? t->n : RP_AGG_URL_PROBE;
    urlent_t *victim = NULL;

    for (i = 0; i < probe; i++) {
        urlent_t *e = &t->e[(h + (apr_uint64_t)i) % (apr_uint64_t)t->n];
        apr_uint64_t eh = apr_atomic_read64(&e->hash), n;
        if (eh == h) {
            inc(&e->count, count);
            inc(&e->sum_ns, sum);
            add_status(e->status, status);
            max64(&e->max_ns, max);
            max64(&e->last, last);
            return;
        }
        if (eh == 0 && apr_atomic_cas64(&e->hash, 1, 0) == 0) {
            url_fill(e, path, h, count, sum, max, last, status);
            return;
        }
        if (eh < 2)
            continue;
        if ((n = apr_atomic_read64(&e->count)) < vmin) {
            vmin = n;
            victim = e;
            victim_hash = eh;
        }
    }
    /* The window is full: the entry with the fewest requests makes room,
     * its counts go to "(other)" so every row still adds up. */
    if (victim && apr_atomic_cas64(&victim->hash, 1, victim_hash) == victim_hash) {
        apr_atomic_add64(t->other_count, apr_atomic_xchg64(&victim->count, 0));
        apr_atomic_add64(t->other_sum_ns, apr_atomic_xchg64(&victim->sum_ns, 0));
        for (c = 0; c < RP_AGG_NCLASS; c++)
            apr_atomic_add64(&t->other_status[c], apr_atomic_xchg64(&victim->status[c], 0));
        url_fill(victim, path, h, count, sum, max, last, status);
        return;
    }
    apr_atomic_add64(t->other_count, count);
    apr_atomic_add64(t->other_sum_ns, sum);
    add_status(t->other_status, status);
}

void rp_agg_url_add(const urltab_t *t, const char *rawpath, apr_uint64_t count,
                    apr_uint64_t sum, apr_uint64_t max, apr_uint64_t last,
                    const apr_uint64_t *status)
{
    char path[RP_AGG_URL_LEN];
    memset(path, 0, sizeof path);
    rp_agg_copy_str(path, rawpath, sizeof path);
    url_add_h(t, path, hash_path(path), count, sum, max, last, status);
}

static void zero64(u64v *p, apr_size_t n)
{
    apr_size_t i;
    for (i = 0; i < n; i++)
        apr_atomic_set64(&p[i], 0);
}

/* The window slot of the minute a request ended in, claimed and zeroed
 * when it still held an older minute. */
static wslot_t *slot_for(const rp_agg_t *a, apr_time_t end)
{
    apr_uint32_t m = rp_win_minute(end);
    wslot_t *w = wslot_at(a, rp_win_slot(m));
    if (m == 0)
        return NULL;
    if (rp_win_slot_claim(&w->stamp, m)) {
        zero64(&w->other_count, (a->wslot_size - offsetof(wslot_t, other_count))
                                / sizeof(apr_uint64_t));
        rp_win_slot_ready(&w->stamp, m);
    }
    return w;
}

/* The counters of a request in one block (a stripe or a window slot). */
static void add_block(const rp_agg_t *a, stripe_t *s, int col, const rp_agg_req_t *rq,
                      int cls, int profiled)
{
    inc(&vreq(a, s)[col], 1);
    inc(&vns(a, s)[col], rq->wall_ns);
    inc(&s->hist[bucket_of(rq->wall_ns)], 1);
    inc(&s->sum_ns, rq->wall_ns);
    max64(&s->max_ns, rq->wall_ns);
    if (cls >= 0) {
        inc(&vst(a, s, col)[cls], 1);
        inc(&s->status[cls], 1);
    }
    if (profiled)
        inc(&s->profiled, 1);
}

static void add_calls(rp_agg_t *a, stripe_t *s, int col, const rp_agg_call_t *calls,
                      int ncalls, int drop)
{
    /* Locals: the adds below write memory that may alias *a as far as the
     * compiler knows, so it would reload these per key otherwise. */
    kcount_t *base = kc(a, s, col, 0);
    int i, nkeys = a->sz.nkeys;
    for (i = 0; i < ncalls; i++) {
        const rp_agg_call_t *c = &calls[i];
        kcount_t *k;
        if (c->key < 0 || c->key >= nkeys) {
            if (drop)
                apr_atomic_add64(&a->hdr->keys_dropped, c->calls);
            continue;
        }
        k = &base[c->key];
        inc(&k->calls, c->calls);
        if (c->tt_ns)
            inc(&k->tt, c->tt_ns);
        if (c->ct_ns)
            inc(&k->ct, c->ct_ns);
    }
}

static void count(rp_agg_t *a, const rp_agg_req_t *rq, const rp_agg_call_t *calls,
                  int ncalls, int profiled)
{
    stripe_t *s = stripe_at(a, rq->stripe);
    int col = rq->vhost_idx >= 0 && rq->vhost_idx < a->sz.nvhosts ? rq->vhost_idx
                                                                   : a->ncols - 1;
    int cls = rp_agg_class(rq->status);
    apr_uint64_t st[RP_AGG_NCLASS] = { 0 };
    char path[RP_AGG_URL_LEN];
    apr_uint64_t h;
    wslot_t *w = slot_for(a, rq->when + (apr_time_t)(rq->wall_ns / 1000));
    urltab_t t;

    if (cls >= 0)
        st[cls] = 1;
    memset(path, 0, sizeof path);
    rp_agg_copy_str(path, rq->path ? rq->path : "", sizeof path);
    h = hash_path(path);
    if (profiled)
        add_calls(a, s, col, calls, ncalls, 1);
    add_block(a, s, col, rq, cls, profiled);
    t = rp_agg_main_urls(a);
    url_add_h(&t, path, h, 1, rq->wall_ns, rq->wall_ns, (apr_uint64_t)rq->when,
              cls >= 0 ? st : NULL);
    if (w) {
        if (profiled)
            add_calls(a, &w->c, 0, calls, ncalls, 0);
        add_block(a, &w->c, col, rq, cls, profiled);
        t = rp_agg_slot_urls(a, w);
        url_add_h(&t, path, h, 1, rq->wall_ns, rq->wall_ns, (apr_uint64_t)rq->when,
                  cls >= 0 ? st : NULL);
        apr_atomic_add64(&w->c.requests, 1);
    }
    /* Last: a reader that sees the request counted sees its parts too. */
    apr_atomic_add64(&s->requests, 1);
}

void rp_agg_record(rp_agg_t *a, const rp_agg_req_t *rq,
                   const rp_agg_call_t *calls, int ncalls)
{
    count(a, rq, calls, ncalls, 1);
}

void rp_agg_count(rp_agg_t *a, const rp_agg_req_t *rq)
{
    count(a, rq, NULL, 0, 0);
}

/* ------------------------------------------------------ batched counts */

/* A function's sums while batched: plain memory, one writer. */
typedef struct bsum {
    apr_uint64_t calls, tt, ct;
} bsum_t;

/* A URL's counts while batched: its path as url_add_h takes it (cut,
 * zero-padded), len bytes of it. */
typedef struct burl {
    apr_size_t len;
    apr_uint64_t count, sum, max, last;
    apr_uint64_t status[RP_AGG_NCLASS];
    char path[RP_AGG_URL_LEN];
} burl_t;

/* The requests a batch holds (all profiled, of its column and minute):
 * what count() adds per request, summed. A site's requests come from a
 * few URLs at a time; one more sends what the batch holds to the region
 * first. */
typedef struct breq {
    apr_uint64_t requests, sum_ns, max_ns;
    apr_uint64_t hist[RP_AGG_NBUCKETS];
    apr_uint64_t status[RP_AGG_NCLASS];
    int nurls, last;            /* last: the URL met last, tried first */
    burl_t url[RP_AGG_BATCH_URLS];
} breq_t;

/* One shape's frames and their sums (rp_agg_shape_add): the frames'
 * ticks; their self ticks are taken from those when the shape folds. */
typedef struct shape {
    uint64_t tag;               /* 0: empty */
    int n, cap;                 /* frames, room for */
    int *key;                   /* [cap] each frame's key, RP_AGG_NO_KEY or
                                 * RP_AGG_UNCOUNTED */
    unsigned char *whole;       /* [cap] RP_PROF_FN_OUTER: its ticks are
                                 * cumulative time (rp_prof_outer) */
    int *parent;                /* [cap] the frame's parent frame, -1: none */
    apr_uint64_t *ticks;        /* [cap] summed over nreq requests */
    apr_uint64_t *self;         /* [cap] scratch of shape_fold */
    apr_uint64_t dropped;       /* frames of a function without a key */
    apr_uint64_t nreq;
    double ns_per_tick;
    unsigned long used;         /* the batch's clock at its last request */
} shape_t;

/* A batch holds one virtual host column and one window minute, so the
 * same sums go to both places a request's functions count in (its
 * column since start, its minute's single column): one add per request
 * and function, and a list of the keys that have some, so a flush
 * touches only those. The shapes' sums are of the same column and
 * minute: they are made function sums first when the batch flushes. */
struct rp_agg_batch {
    apr_pool_t *pool;           /* the shapes' arrays */
    int nkeys;
    int pending;                /* sum or a shape holds counts */
    unsigned stripe;            /* where the since-start part goes */
    int col;                    /* its virtual host column */
    apr_uint32_t minute;        /* its window minute, 0: none */
    apr_uint64_t reset;         /* the region's reset word at the first count */
    bsum_t *sum;                /* [nkeys] */
    unsigned char *in;          /* [nkeys]: key listed in keys */
    int *keys;                  /* [nkeys] */
    int n;
    shape_t shape[RP_AGG_SHAPES];
    unsigned long clock;
    breq_t rq;
};

rp_agg_batch_t *rp_agg_batch_create(const rp_agg_t *a, apr_pool_t *p)
{
    rp_agg_batch_t *b = apr_pcalloc(p, sizeof *b);
    b->pool = p;
    b->nkeys = a->sz.nkeys > 0 ? a->sz.nkeys : 1;
    b->sum = apr_pcalloc(p, sizeof(bsum_t) * (apr_size_t)b->nkeys);
    b->in = apr_pcalloc(p, (apr_size_t)b->nkeys);
    b->keys = apr_palloc(p, sizeof(int) * (apr_size_t)b->nkeys);
    return b;
}

int rp_agg_batch_pending(const rp_agg_batch_t *b)
{
    return b->pending;
}

static void add_sum(kcount_t *k, const bsum_t *s)
{
    inc(&k->calls, s->calls);
    if (s->tt)
        inc(&k->tt, s->tt);
    if (s->ct)
        inc(&k->ct, s->ct);
}

/* A function's counts into the batch: key must be in range. */
static APR_INLINE void bsum_add(rp_agg_batch_t *b, int key, apr_uint64_t calls,
                                apr_uint64_t tt, apr_uint64_t ct)
{
    bsum_t *s = &b->sum[key];
    if (!b->in[key]) {
        b->in[key] = 1;
        b->keys[b->n++] = key;
    }
    s->calls += calls;
    s->tt += tt;
    s->ct += ct;
}

static APR_INLINE int key_ok(const rp_agg_t *a, const rp_agg_batch_t *b, int key)
{
    return key >= 0 && key < b->nkeys && key < a->sz.nkeys;
}

/* A shape's requests made function counts in the batch's sums: each
 * frame is nreq calls of its function, with the frame's summed ticks. */
static void shape_fold(rp_agg_t *a, rp_agg_batch_t *b, shape_t *sh)
{
    int i;
    if (!sh->nreq)
        return;
    /* Self = ticks less the children's, from the sums (frames nest, so
     * this is the sum of each request's own), as the tree's finish(). */
    for (i = 0; i < sh->n; i++)
        sh->self[i] = 0;
    for (i = sh->n - 1; i >= 1; i--)
        if (sh->parent[i] >= 0)
            sh->self[sh->parent[i]] += sh->ticks[i];
    for (i = 0; i < sh->n; i++)
        sh->self[i] = sh->ticks[i] > sh->self[i] ? sh->ticks[i] - sh->self[i] : 0;
    for (i = 0; i < sh->n; i++) {
        int k = sh->key[i];
        if (key_ok(a, b, k))
            bsum_add(b, k, sh->nreq, rp_scale_u64(sh->self[i], sh->ns_per_tick),
                     sh->whole[i] & RP_PROF_FN_OUTER
                     ? rp_scale_u64(sh->ticks[i], sh->ns_per_tick) : 0);
        sh->self[i] = sh->ticks[i] = 0;
    }
    sh->nreq = 0;
}

/* Where b's counts go: its stripe (NULL when the region was reset since
 * b's first count: they are gone with it) and its minute's window slot
 * (NULL when there is none, or the minute is no longer in any window:
 * it is not claimed back from the minute now holding its slot). */
static stripe_t *batch_targets(rp_agg_t *a, const rp_agg_batch_t *b, apr_time_t now,
                               wslot_t **w)
{
    *w = NULL;
    if (b->reset != apr_atomic_read64(&a->hdr->reset))
        return NULL;
    if (b->minute
        && (apr_int64_t)rp_win_minute(now) - (apr_int64_t)b->minute < RP_WIN_MAX)
        *w = slot_for(a, (apr_time_t)b->minute * rp_win_minute_usec);
    return stripe_at(a, b->stripe);
}

/* The batched requests' counters into one block (a stripe or a window
 * slot's), as add_block adds a request's, and their URLs into t; the
 * block's request count is the caller's, last. */
static void breq_add_block(const rp_agg_t *a, stripe_t *s, int col, const breq_t *q,
                           const urltab_t *t)
{
    int i;
    inc(&vreq(a, s)[col], q->requests);
    inc(&vns(a, s)[col], q->sum_ns);
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        if (q->hist[i])
            inc(&s->hist[i], q->hist[i]);
    inc(&s->sum_ns, q->sum_ns);
    max64(&s->max_ns, q->max_ns);
    for (i = 0; i < RP_AGG_NCLASS; i++)
        if (q->status[i]) {
            inc(&vst(a, s, col)[i], q->status[i]);
            inc(&s->status[i], q->status[i]);
        }
    inc(&s->profiled, q->requests);
    for (i = 0; i < q->nurls; i++) {
        const burl_t *u = &q->url[i];
        url_add_h(t, u->path, hash_path(u->path), u->count, u->sum, u->max, u->last,
                  u->status);
    }
}

/* The batched requests to s and w (batch_targets), then emptied. As in
 * count(), a stripe's request count comes last: a reader that sees the
 * requests counted sees their parts too. */
static void breq_flush(rp_agg_t *a, rp_agg_batch_t *b, stripe_t *s, wslot_t *w)
{
    breq_t *q = &b->rq;
    urltab_t t;
    if (!q->requests)
        return;
    if (s) {
        t = rp_agg_main_urls(a);
        breq_add_block(a, s, b->col, q, &t);
        if (w) {
            t = rp_agg_slot_urls(a, w);
            breq_add_block(a, &w->c, b->col, q, &t);
            apr_atomic_add64(&w->c.requests, q->requests);
        }
        apr_atomic_add64(&s->requests, q->requests);
    }
    memset(q, 0, offsetof(breq_t, url));     /* a URL is zeroed when taken */
}

void rp_agg_batch_flush(rp_agg_t *a, rp_agg_batch_t *b, apr_time_t now)
{
    kcount_t *tot = NULL, *win = NULL;
    stripe_t *s;
    wslot_t *w;
    int i;

    if (!b->pending)
        return;
    for (i = 0; i < RP_AGG_SHAPES; i++)
        shape_fold(a, b, &b->shape[i]);
    if ((s = batch_targets(a, b, now, &w)) != NULL) {
        tot = kc(a, s, b->col, 0);
        if (w)
            win = kc(a, &w->c, 0, 0);
    }
    for (i = 0; i < b->n; i++) {
        int key = b->keys[i];
        bsum_t *sum = &b->sum[key];
        if (tot)
            add_sum(&tot[key], sum);
        if (win)
            add_sum(&win[key], sum);
        sum->calls = sum->tt = sum->ct = 0;
        b->in[key] = 0;
    }
    b->n = 0;
    /* After the functions, as count() adds them. */
    breq_flush(a, b, s, w);
    b->pending = 0;
}

/* A request into b's counters (its column, minute and reset are b's).
 * A URL the batch has no room for sends the requests it holds to the
 * region first (their functions wait: they add up on their own). */
static void breq_add(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                     apr_time_t end)
{
    breq_t *q = &b->rq;
    const char *path = rq->path ? rq->path : "";
    apr_size_t n = cut_len(path, RP_AGG_URL_LEN);
    int cls = rp_agg_class(rq->status), i;
    burl_t *u = &q->url[q->last];

    if (!(q->nurls && u->len == n && memcmp(u->path, path, n) == 0)) {
        u = NULL;
        for (i = 0; i < q->nurls; i++)
            if (q->url[i].len == n && memcmp(q->url[i].path, path, n) == 0) {
                u = &q->url[i];
                break;
            }
        if (!u) {
            if (q->nurls == RP_AGG_BATCH_URLS) {
                wslot_t *w;
                stripe_t *s = batch_targets(a, b, end, &w);
                breq_flush(a, b, s, w);
            }
            u = &q->url[q->nurls++];
            memset(u, 0, sizeof *u);
            memcpy(u->path, path, n);
            u->len = n;
        }
        q->last = (int)(u - q->url);
    }
    u->count++;
    u->sum += rq->wall_ns;
    if (rq->wall_ns > u->max)
        u->max = rq->wall_ns;
    if ((apr_uint64_t)rq->when > u->last)
        u->last = (apr_uint64_t)rq->when;
    q->requests++;
    q->sum_ns += rq->wall_ns;
    if (rq->wall_ns > q->max_ns)
        q->max_ns = rq->wall_ns;
    q->hist[bucket_of(rq->wall_ns)]++;
    if (cls >= 0) {
        u->status[cls]++;
        q->status[cls]++;
    }
}

/* A batched request: into the batch's request counters, after the batch
 * was flushed when it holds another column, minute or reset. */
static void batch_count(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq)
{
    apr_time_t end = rq->when + (apr_time_t)(rq->wall_ns / 1000);
    apr_uint32_t m = rp_win_minute(end);
    int col = rq->vhost_idx >= 0 && rq->vhost_idx < a->sz.nvhosts ? rq->vhost_idx
                                                                   : a->ncols - 1;
    apr_uint64_t reset = apr_atomic_read64(&a->hdr->reset);

    if (b->pending && (b->col != col || b->minute != m || b->reset != reset))
        rp_agg_batch_flush(a, b, end);
    if (!b->pending) {
        b->reset = reset;
        b->stripe = rq->stripe;
        b->col = col;
        b->minute = m;
    }
    breq_add(a, b, rq, end);
    b->pending = 1;
}

void rp_agg_record_batch(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                         const rp_agg_call_t *calls, int ncalls)
{
    int i;

    batch_count(a, b, rq);
    for (i = 0; i < ncalls; i++) {
        const rp_agg_call_t *c = &calls[i];
        if (!key_ok(a, b, c->key)) {
            apr_atomic_add64(&a->hdr->keys_dropped, c->calls);
            continue;
        }
        bsum_add(b, c->key, c->calls, c->tt_ns, c->ct_ns);
    }
    if (b->n)
        b->pending = 1;
}

int rp_agg_shape_find(rp_agg_batch_t *b, uint64_t tag)
{
    int i;
    if (!tag)
        return -1;
    for (i = 0; i < RP_AGG_SHAPES; i++)
        if (b->shape[i].tag == tag)
            return i;
    return -1;
}

int rp_agg_shape_add(rp_agg_t *a, rp_agg_batch_t *b, uint64_t tag,
                     const rp_prof_rec_t *log, int n, const int *fkey, int nf,
                     double ns_per_tick)
{
    shape_t *sh;
    int par[RP_MAX_DEPTH];
    int i, v = 0;

    if (!tag || n < 1 || n > RP_AGG_SHAPE_MAX)
        return -1;
    for (i = 0; i < n; i++)
        if (log[i].depth < 0 || log[i].depth >= RP_MAX_DEPTH)
            return -1;
    /* The tag's own slot, an empty one, else the least recently used:
     * what it holds becomes function counts first. */
    if ((v = rp_agg_shape_find(b, tag)) < 0) {
        v = 0;
        for (i = 0; i < RP_AGG_SHAPES; i++) {
            if (!b->shape[i].tag) {
                v = i;
                break;
            }
            if (b->shape[i].used < b->shape[v].used)
                v = i;
        }
    }
    sh = &b->shape[v];
    shape_fold(a, b, sh);
    if (b->n)
        b->pending = 1;
    if (sh->cap < n) {
        int cap = sh->cap * 2 > n ? sh->cap * 2 : n < 64 ? 64 : n;
        if (cap > RP_AGG_SHAPE_MAX)
            cap = RP_AGG_SHAPE_MAX;
        sh->key = apr_palloc(b->pool, sizeof(int) * (apr_size_t)cap);
        sh->whole = apr_palloc(b->pool, (apr_size_t)cap);
        sh->parent = apr_palloc(b->pool, sizeof(int) * (apr_size_t)cap);
        sh->ticks = apr_pcalloc(b->pool, sizeof(apr_uint64_t) * (apr_size_t)cap);
        sh->self = apr_pcalloc(b->pool, sizeof(apr_uint64_t) * (apr_size_t)cap);
        sh->cap = cap;
    }
    rp_prof_outer(log, n, sh->whole, NULL);     /* the depths were checked */
    /* A frame's parent: the latest frame one level up (none when the
     * depths jump). */
    for (i = 0; i < RP_MAX_DEPTH; i++)
        par[i] = -1;
    for (i = 0; i < n; i++) {
        int d = log[i].depth;
        sh->parent[i] = d > 0 ? par[d - 1] : -1;
        par[d] = i;
    }
    sh->dropped = 0;
    for (i = 0; i < n; i++) {
        int f = log[i].func;
        sh->key[i] = f >= 0 && f < nf ? fkey[f] : RP_AGG_UNCOUNTED;
        sh->dropped += sh->key[i] != RP_AGG_UNCOUNTED && !key_ok(a, b, sh->key[i]);
    }
    sh->tag = tag;
    sh->n = n;
    sh->ns_per_tick = ns_per_tick;
    sh->used = ++b->clock;
    return v;
}

/* The request counted into b and its shape s, when s holds n frames:
 * the shape to add its ticks to, else NULL. */
static shape_t *shape_for(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                          int s, int n)
{
    batch_count(a, b, rq);
    if (s < 0 || s >= RP_AGG_SHAPES || !b->shape[s].tag || b->shape[s].n != n)
        return NULL;
    return &b->shape[s];
}

/* After its ticks: the shape's request counted. */
static void shape_done(rp_agg_t *a, rp_agg_batch_t *b, shape_t *sh)
{
    /* At once, as rp_agg_record_batch counts them (a reset clears them). */
    if (sh->dropped)
        apr_atomic_add64(&a->hdr->keys_dropped, sh->dropped);
    sh->nreq++;
    sh->used = ++b->clock;
    b->pending = 1;
}

void rp_agg_record_shape(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                         int s, const rp_prof_rec_t *log, int n)
{
    shape_t *sh = shape_for(a, b, rq, s, n);
    int i;

    if (!sh)
        return;
    for (i = 0; i < n; i++)
        sh->ticks[i] += log[i].t1 > log[i].t0 ? log[i].t1 - log[i].t0 : 0;
    shape_done(a, b, sh);
}

void rp_agg_record_shape_ticks(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                               int s, const uint64_t *ticks, int n)
{
    shape_t *sh = shape_for(a, b, rq, s, n);
    apr_uint64_t *sum;
    int i;

    if (!sh)
        return;
    /* Four a step: four independent adds per loop test. */
    sum = sh->ticks;
    for (i = 0; i + 3 < n; i += 4) {
        sum[i] += ticks[i];
        sum[i + 1] += ticks[i + 1];
        sum[i + 2] += ticks[i + 2];
        sum[i + 3] += ticks[i + 3];
    }
    for (; i < n; i++)
        sum[i] += ticks[i];
    shape_done(a, b, sh);
}

/* ------------------------------------------------------ slow requests */

/* After an entry's write or a reset: the floor no longer holds. */
static void slow_changed(rp_agg_t *a)
{
    apr_atomic_inc32(&a->hdr->slow_gen);
}

/* Is a request this slow, now, below the ring's recorded floor? */
static int below_floor(hdr_t *h, uint64_t wall_ns, apr_time_t now)
{
    apr_uint32_t s1 = apr_atomic_read32(&h->floor_seq), s2;
    apr_uint64_t fgen, fns, funtil;
    if (s1 & 1)
        return 0;
    fgen = h->floor_gen;
    fns = h->floor_ns;
    funtil = h->floor_until;
    s2 = apr_atomic_read32(&h->floor_seq);
    return s1 == s2 && fgen == apr_atomic_read32(&h->slow_gen)
           && wall_ns <= fns && now >= 0 && (apr_uint64_t)now < funtil;
}

/* The entry a request this slow would replace, or NULL. Every request
 * asks; the header's floor answers most of them without touching the
 * entries (a cache line each, written by other processes). */
static slowent_t *slow_victim(const rp_agg_t *a, uint64_t wall_ns, apr_time_t now)
{
    slowent_t *stale = NULL, *fastest = NULL;
    apr_time_t oldest = 0;
    apr_uint32_t gen;
    hdr_t *h = a->hdr;
    int i;

    if (below_floor(h, wall_ns, now))
        return NULL;
    gen = apr_atomic_read32(&h->slow_gen);
    for (i = 0; i < a->sz.nslow; i++) {
        slowent_t *e = &a->slow[i];
        if (!e->used)
            return e;
        if (now - e->when > RP_AGG_SLOW_WINDOW && (!stale || e->when < stale->when))
            stale = e;
        if (!fastest || e->wall_ns < fastest->wall_ns)
            fastest = e;
        if (i == 0 || e->when < oldest)
            oldest = e->when;
    }
    if (stale)
        return stale;
    if (fastest && fastest->wall_ns < wall_ns)
        return fastest;
    /* The ring is full and this request is no slower than its fastest
     * entry until the oldest leaves the window: record that, unless
     * another reader is recording (no waiting). An entry written
     * meanwhile has bumped slow_gen past gen, which voids the record. */
    if (fastest) {
        apr_uint32_t s = apr_atomic_read32(&h->floor_seq);
        if (!(s & 1) && apr_atomic_cas32(&h->floor_seq, s + 1, s) == s) {
            h->floor_ns = fastest->wall_ns;
            h->floor_until = (apr_uint64_t)(oldest + RP_AGG_SLOW_WINDOW + 1);
            h->floor_gen = gen;
            apr_atomic_set32(&h->floor_seq, s + 2);
        }
    }
    return NULL;
}

int rp_agg_slow_wants(const rp_agg_t *a, uint64_t wall_ns, apr_time_t now)
{
    return slow_victim(a, wall_ns, now) != NULL;
}

int rp_agg_slow_add_string(slowent_t *e, const char *s)
{
    /* Labels are short: 254 bytes each keeps room for all (cut on a
     * character boundary: the profile goes on to the flame view and
     * .prof files as valid UTF-8). */
    apr_size_t n = cut_len(s, 255) + 1;
    int off = (int)e->nstrings;
    if (e->nstrings + n > RP_AGG_TREE_STRINGS)
        return -1;
    memcpy(e->strings + off, s, n - 1);
    e->strings[off + (int)n - 1] = '\0';
    e->nstrings += (apr_uint32_t)n;
    return off;
}

static void fill_tree(slowent_t *e, const rp_stats_t *st, const int *keys,
                      int nkeys_used)
{
    int i, j, nf = 0;
    e->nstrings = 0;
    e->nedges = 0;
    e->truncated = 0;
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        int fo, no;
        if (i >= RP_AGG_TREE_FUNCS) {
            e->truncated = 1;
            break;
        }
        if (keys && keys[i] >= 0 && keys[i] < nkeys_used
            && keys[i] < (int)RP_AGG_TFUNC_KEYREF) {
            fo = (int)RP_AGG_TFUNC_KEYREF;      /* names in the key table */
            no = keys[i];
        }
        else if ((fo = rp_agg_slow_add_string(e, f->file)) < 0
                 || (no = rp_agg_slow_add_string(e, f->name)) < 0) {
            e->truncated = 1;
            break;
        }
        e->funcs[i].file = (apr_uint16_t)fo;
        e->funcs[i].name = (apr_uint16_t)no;
        e->funcs[i].line = f->line;
        e->funcs[i].cc = f->cc;
        e->funcs[i].nc = f->nc;
        e->funcs[i].tt = f->tt;
        e->funcs[i].ct = f->ct;
        nf++;
    }
    e->nfuncs = nf;
    for (i = 0; i < nf; i++) {
        const rp_func_t *f = &st->funcs[i];
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *g = &f->callers[j];
            tedge_t *t;
            if (g->caller < 0 || g->caller >= nf)
                continue;
            if (e->nedges >= RP_AGG_TREE_EDGES) {
                e->truncated = 1;
                return;
            }
            t = &e->edges[e->nedges++];
            t->caller = (apr_uint16_t)g->caller;
            t->callee = (apr_uint16_t)i;
            t->nc = g->nc;
            t->cc = g->cc;
            t->tt = g->tt;
            t->ct = g->ct;
        }
    }
}

uint64_t rp_agg_slow_add(rp_agg_t *a, const rp_agg_req_t *rq,
                         const rp_stats_t *st, apr_time_t now)
{
    return rp_agg_slow_add_keyed(a, rq, st, NULL, now);
}

uint64_t rp_agg_slow_add_keyed(rp_agg_t *a, const rp_agg_req_t *rq,
                               const rp_stats_t *st, const int *keys,
                               apr_time_t now)
{
    slowent_t *e = slow_victim(a, rq->wall_ns, now);
    apr_uint32_t seq;
    uint64_t id;
    int nkeys;

    if (!e || !st || st->nfuncs < 1)
        return 0;
    seq = apr_atomic_read32(&e->seq);
    if ((seq & 1) || apr_atomic_cas32(&e->seq, seq + 1, seq) != seq)
        return 0;                   /* someone is writing it: do not wait */
    /* Still the right victim now that it is ours? */
    if (e->used && now - e->when <= RP_AGG_SLOW_WINDOW && e->wall_ns >= rq->wall_ns) {
        apr_atomic_set32(&e->seq, seq + 2);
        return 0;
    }
    id = apr_atomic_add64(&a->hdr->slow_next_id, 1) + 1;
    e->id = id;
    e->wall_ns = rq->wall_ns;
    e->when = rq->when;
    e->status = rq->status;
    rp_agg_copy_str(e->method, rq->method, sizeof e->method);
    rp_agg_copy_str(e->path, rq->path, sizeof e->path);
    rp_agg_copy_str(e->vhost, rq->vhost, sizeof e->vhost);
    rp_agg_copy_str(e->traceid, rq->traceid ? rq->traceid : "", sizeof e->traceid);
    nkeys = (int)apr_atomic_read32(&a->hdr->nkeys_used);
    fill_tree(e, st, keys, nkeys < a->sz.nkeys ? nkeys : a->sz.nkeys);
    e->used = 1;
    apr_atomic_set32(&e->seq, seq + 2);
    slow_changed(a);
    return id;
}

/* A stable copy of entry i (seqlock read); 0 when it is empty or busy. */
int rp_agg_slow_copy(const rp_agg_t *a, int i, slowent_t *out)
{
    slowent_t *e = &a->slow[i];
    int tries;
    for (tries = 0; tries < 4; tries++) {
        apr_uint32_t s1 = apr_atomic_read32(&e->seq), s2;
        if (s1 & 1)
            continue;
        memcpy(out, e, sizeof *out);
        s2 = apr_atomic_read32(&e->seq);
        if (s1 == s2)
            return out->used;
    }
    return 0;
}

/* ---------------------------------------------------------------- reset */

void rp_agg_reset(rp_agg_t *a, apr_time_t now)
{
    int i;
    for (i = 0; i < RP_AGG_STRIPES; i++)
        zero64((u64v *)stripe_at(a, (unsigned)i),
               a->stripe_size / sizeof(apr_uint64_t));
    for (i = 0; i < a->sz.nurls; i++) {
        /* Counts first: url_fill adds to a free entry's counts. */
        apr_atomic_set64(&a->urls[i].count, 0);
        apr_atomic_set64(&a->urls[i].sum_ns, 0);
        zero64(a->urls[i].status, RP_AGG_NCLASS);
        apr_atomic_set64(&a->urls[i].hash, 0);
    }
    for (i = 0; i < RP_WIN_SLOTS; i++) {
        wslot_t *w = wslot_at(a, i);
        apr_atomic_set32(&w->stamp, 0);
        zero64(&w->other_count, (a->wslot_size - offsetof(wslot_t, other_count))
                                / sizeof(apr_uint64_t));
    }
    for (i = 0; i < a->sz.nslow; i++) {
        slowent_t *e = &a->slow[i];
        apr_uint32_t seq = apr_atomic_read32(&e->seq);
        if (!(seq & 1) && apr_atomic_cas32(&e->seq, seq + 1, seq) == seq) {
            e->used = 0;
            apr_atomic_set32(&e->seq, seq + 2);
        }
    }
    slow_changed(a);
    apr_atomic_set64(&a->hdr->other_count, 0);
    apr_atomic_set64(&a->hdr->other_sum_ns, 0);
    zero64(a->hdr->other_status, RP_AGG_NCLASS);
    apr_atomic_set64(&a->hdr->keys_dropped, 0);
    apr_atomic_set64(&a->hdr->reset, (apr_uint64_t)now);
}
