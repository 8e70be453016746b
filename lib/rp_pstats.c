/*
 * rp_pstats.c - write a profile as the marshal dict pstats.Stats() loads.
 *
 * Only the marshal codes Python 3 has read since 3.4 are used ('{' '0' ')'
 * '(' 'i' 'l' 'g' 'u'), and never FLAG_REF: refs would save a few bytes
 * on repeated caller keys but make the writer stateful.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include "rp_pstats.h"
#include "rp_text.h"

/* pstats names have no length limit; this only keeps 'u' lengths in range. */
#define RP_PSTATS_STR_MAX 0x7FFFFFFFu


void rp_buf_init(rp_buf_t *b, apr_pool_t *p, apr_size_t initial)
{
    b->pool = p;
    b->len = 0;
    b->cap = initial;
    b->data = initial ? apr_palloc(p, initial) : NULL;
}

void rp_buf_add(rp_buf_t *b, const void *data, apr_size_t n)
{
    if (b->len + n > b->cap) {
        /* Doubling keeps the pool's dead copies below the final size. */
        apr_size_t cap = b->cap ? b->cap * 2 : 256;
        char *nd;

        while (cap < b->len + n)
            cap *= 2;
        nd = apr_palloc(b->pool, cap);
        if (b->len)
            memcpy(nd, b->data, b->len);
        b->data = nd;
        b->cap = cap;
    }
    if (n && data)
        memcpy(b->data + b->len, data, n);
    b->len += n;
}

/* ---- writers into memory already sized for them ----
 * These run about 300 times per file (5 to 7 per function and per caller
 * edge): inline, and one store where the host is little-endian as the
 * format is. */

static APR_INLINE unsigned char *w_u32(unsigned char *o, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(o, &v, 4);
#else
    o[0] = (unsigned char)v;
    o[1] = (unsigned char)(v >> 8);
    o[2] = (unsigned char)(v >> 16);
    o[3] = (unsigned char)(v >> 24);
#endif
    return o + 4;
}

/* v fits marshal's 'i' (an int32). */
#define FITS_I32(v) ((uint64_t)(v) + 0x80000000u <= 0xFFFFFFFFu)

/* Bytes of a TYPE_LONG: 5 and two per base-2**15 digit. */
static apr_size_t long_size(int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    apr_size_t n = 0;

    for (; mag; mag >>= 15)
        n++;
    return 5 + 2 * n;
}

/* Bytes rp_marshal_int writes for v. */
static APR_INLINE apr_size_t int_size(int64_t v)
{
    return FITS_I32(v) ? 5 : long_size(v);
}

/* Python's TYPE_LONG: signed digit count, then |v| in base 2**15. The
 * magnitude is taken unsigned so INT64_MIN does not overflow. Call
 * counts past 2**31 are for tests and fuzzers: kept out of line. */
static unsigned char *w_long(unsigned char *o, int64_t v)
{
    uint64_t mag;
    unsigned char *count;
    int32_t n = 0;

    *o = 'l';
    count = o + 1;
    o += 5;
    for (mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v; mag; mag >>= 15) {
        *o++ = (unsigned char)(mag & 0xFF);
        *o++ = (unsigned char)((mag >> 8) & 0x7F);
        n++;
    }
    w_u32(count, (uint32_t)(v < 0 ? -n : n));
    return o;
}

static APR_INLINE unsigned char *w_int(unsigned char *o, int64_t v)
{
    if (FITS_I32(v)) {
        *o = 'i';
        return w_u32(o + 1, (uint32_t)(int32_t)v);
    }
    return w_long(o, v);
}

static APR_INLINE unsigned char *w_float(unsigned char *o, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    *o = 'g';
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(o + 1, &bits, 8);
    return o + 9;
#else
    w_u32(o + 1, (uint32_t)bits);
    return w_u32(o + 5, (uint32_t)(bits >> 32));
#endif
}

static APR_INLINE unsigned char *w_str(unsigned char *o, const char *s, apr_size_t n)
{
    *o = 'u';
    o = w_u32(o + 1, (uint32_t)n);
    memcpy(o, s, n);
    return o + n;
}

static APR_INLINE unsigned char *w_tuple(unsigned char *o, apr_size_t n)
{
    if (n < 256) {
        o[0] = ')';
        o[1] = (unsigned char)n;
        return o + 2;
    }
    *o = '(';
    return w_u32(o + 1, (uint32_t)n);
}

/* Room for n more bytes at the end of b. */
static unsigned char *buf_room(rp_buf_t *b, apr_size_t n)
{
    unsigned char *o;

    rp_buf_add(b, NULL, n);
    o = (unsigned char *)b->data + b->len - n;
    return o;
}

void rp_marshal_int(rp_buf_t *b, int64_t v)
{
    w_int(buf_room(b, int_size(v)), v);
}

void rp_marshal_float(rp_buf_t *b, double v)
{
    w_float(buf_room(b, 9), v);
}

void rp_marshal_str(rp_buf_t *b, const char *s)
{
    apr_size_t n = strlen(s);

    w_str(buf_room(b, 5 + n), s, n);
}

void rp_marshal_tuple_begin(rp_buf_t *b, apr_size_t n)
{
    w_tuple(buf_room(b, n < 256 ? 2 : 5), n);
}

void rp_marshal_dict_begin(rp_buf_t *b)
{
    rp_buf_add(b, "{", 1);
}

void rp_marshal_dict_end(rp_buf_t *b)
{
    rp_buf_add(b, "0", 1);
}

/* ---- keys ----
 * A key (file, line, name) is written as the bytes of its 3-tuple. Each
 * function's key is made once per file (callers refer to functions by
 * index, so a caller key is the same bytes as its entry's); a static
 * function's key once per generation, in the cache. */

#define KEY_SIZE(flen, nlen) (2 + 5 + (flen) + 5 + 5 + (nlen))

static unsigned char *w_key(unsigned char *o, const char *file, apr_size_t flen,
                            int line, const char *name, apr_size_t nlen)
{
    o = w_tuple(o, 3);
    o = w_str(o, file, flen);
    *o = 'i';
    o = w_u32(o + 1, (uint32_t)(int32_t)line);
    return w_str(o, name, nlen);
}

/* One cached key: the strings it was made from (by address: a generation's
 * registry keeps them where they are) and its bytes. */
typedef struct kblock {
    const char *file, *name;
    int line;
    uint32_t len;
    unsigned char bytes[];
} kblock_t;

struct rp_pstats_keys {
    int cap;
    kblock_t **slot;        /* [cap], published with release stores */
};

static apr_status_t keys_free(void *data)
{
    rp_pstats_keys_t *k = data;
    int i;

    for (i = 0; i < k->cap; i++) {
        free(k->slot[i]);
        k->slot[i] = NULL;
    }
    return APR_SUCCESS;
}

rp_pstats_keys_t *rp_pstats_keys_create(apr_pool_t *p, int cap)
{
    rp_pstats_keys_t *k = apr_palloc(p, sizeof *k);

    k->cap = cap > 0 ? cap : 0;
    k->slot = apr_pcalloc(p, sizeof(*k->slot) * (apr_size_t)(k->cap + 1));
    apr_pool_cleanup_register(p, k, keys_free, apr_pool_cleanup_null);
    return k;
}

/* The cached block of f's key, made on first use; NULL when f has no slot
 * in k (dynamic, id past cap, out of memory). A block made from other
 * strings than f's (a caller that mixed generations, or a hand-made
 * key_slot) is not used: f is then encoded the slow way. */
static const kblock_t *key_cached(rp_pstats_keys_t *k, const rp_func_t *f)
{
    kblock_t *b, *none = NULL;
    const char *file, *name;
    apr_size_t flen, nlen;
    int id = f->key_slot - 1;

    if (k == NULL || id < 0 || id >= k->cap)
        return NULL;
    b = __atomic_load_n(&k->slot[id], __ATOMIC_ACQUIRE);
    if (b != NULL)
        return b->file == f->file && b->name == f->name && b->line == f->line
               ? b : NULL;
    /* First use in this process: clean once (registry keys are clean
     * already; this only keeps the promise for any caller), then publish.
     * Threads racing here each make a block; one wins, the others free
     * theirs. malloc, not a pool: any thread may be the one. */
    {
        apr_pool_t *tmp;
        if (apr_pool_create(&tmp, NULL) != APR_SUCCESS)
            return NULL;
        file = rp_utf8_view(tmp, f->file, RP_PSTATS_STR_MAX, &flen);
        name = rp_utf8_view(tmp, f->name, RP_PSTATS_STR_MAX, &nlen);
        b = malloc(sizeof *b + KEY_SIZE(flen, nlen));
        if (b != NULL) {
            b->file = f->file;
            b->name = f->name;
            b->line = f->line;
            b->len = (uint32_t)(w_key(b->bytes, file, flen, f->line, name, nlen) - b->bytes);
        }
        apr_pool_destroy(tmp);
    }
    if (b == NULL)
        return NULL;
    if (!__atomic_compare_exchange_n(&k->slot[id], &none, b, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        free(b);
        b = none;
        return b->file == f->file && b->name == f->name && b->line == f->line
               ? b : NULL;
    }
    return b;
}

/* A function's key bytes for one file. */
typedef struct kref {
    const unsigned char *bytes;
    apr_size_t len;
} kref_t;

static void key_made(apr_pool_t *p, const rp_func_t *f, kref_t *out)
{
    apr_size_t flen, nlen;
    const char *file = rp_utf8_view(p, f->file, RP_PSTATS_STR_MAX, &flen);
    const char *name = rp_utf8_view(p, f->name, RP_PSTATS_STR_MAX, &nlen);
    unsigned char *b = apr_palloc(p, KEY_SIZE(flen, nlen));

    out->bytes = b;
    out->len = (apr_size_t)(w_key(b, file, flen, f->line, name, nlen) - b);
}

/* A key's bytes without a call to memcpy: 16 at a time, the last block
 * overlapping the one before (a key is never shorter than 17 bytes: the
 * tuple's header and three items' headers). */
static APR_INLINE unsigned char *w_bytes(unsigned char *o, const kref_t *k)
{
    const unsigned char *src = k->bytes;
    apr_size_t n = k->len, i;

    if (n < 16) {
        memcpy(o, src, n);
        return o + n;
    }
    for (i = 0; i + 16 <= n; i += 16)
        memcpy(o + i, src + i, 16);
    if (i < n)
        memcpy(o + n - 16, src + n - 16, 16);
    return o + n;
}

/* The bytes counts that are not int32s take beyond the 5 sized for each. */
static apr_size_t wide_extra(const rp_stats_t *st)
{
    apr_size_t extra = 0;
    int i, j;

    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        extra += int_size(f->cc) - 5 + int_size(f->nc) - 5;
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];
            if ((unsigned)e->caller < (unsigned)st->nfuncs)
                extra += int_size(e->nc) - 5 + int_size(e->cc) - 5;
        }
    }
    return extra;
}

apr_status_t rp_pstats_encode(const rp_stats_t *st, apr_pool_t *p,
                              const char **data, apr_size_t *len)
{
    return rp_pstats_encode_keys(st, NULL, p, data, len);
}

/* ---- the last file's shape, for a file of the same shape ----
 * Where each function's and each edge's four numbers start (cc nc tt ct,
 * or nc cc tt ct for an edge: 5 + 5 + 9 + 9 bytes while every count is an
 * int32), and what the shape was. */
typedef struct tfunc {
    int key_slot, line, ncallers;
    const char *file, *name;   /* key_slot > 0: the caller's strings (the
                                * same addresses); else copies */
    uint32_t off;
} tfunc_t;

typedef struct tedge {
    int caller;
    uint32_t off;              /* TSKIP: an edge the file leaves out */
} tedge_t;

#define TSKIP UINT32_MAX
/* Larger files are encoded each time: a copy of them per thread would
 * cost more memory than it saves work. */
#define TMPL_MAX_BYTES (256u << 10)

/* How a request of one frame shape makes the recorded file's numbers
 * (rp_pstats_tmpl_plan): each frame adds its self ticks to the self time
 * of its function's slot and of its edge's (the edge from its caller),
 * and its ticks to their cumulative time when outermost; a slot's two
 * counts are the same for every request of the shape, so the plan's copy
 * of the file has them, and a file takes only the two times a slot. */

struct rp_pstats_tmpl {
    apr_pool_t *pool;          /* what is recorded; cleared to record anew */
    int nfuncs;                /* 0: nothing recorded */
    unsigned char *bytes;
    apr_size_t len;
    tfunc_t *f;
    tedge_t *e;                /* every function's callers, in order */
    unsigned long hits, misses, planned;
    /* the plan of the recorded file, for a request of frame shape
     * plan_tag (0: none), from plan_pool: cleared for each plan made, so
     * shapes taking turns cost no more memory than one */
    apr_pool_t *plan_pool;
    uint64_t plan_tag;
    int plan_n, plan_nslots;
    int *fslot, *eslot;        /* [plan_n] each frame's slots, eslot -1: none */
    unsigned char *flags;      /* [plan_n] rp_prof_outer's */
    uint32_t *soff;            /* [plan_nslots] where each slot's self time is
                                * in the file (its cumulative time 9 on) */
    unsigned char *plan_bytes; /* the file with every slot's counts */
};

rp_pstats_tmpl_t *rp_pstats_tmpl_create(apr_pool_t *p)
{
    rp_pstats_tmpl_t *t = apr_pcalloc(p, sizeof *t);
    if (apr_pool_create(&t->pool, p) != APR_SUCCESS
        || apr_pool_create(&t->plan_pool, p) != APR_SUCCESS)
        return NULL;
    return t;
}

void rp_pstats_tmpl_counts(const rp_pstats_tmpl_t *t, unsigned long *hits,
                           unsigned long *misses)
{
    *hits = t ? t->hits : 0;
    *misses = t ? t->misses : 0;
}

unsigned long rp_pstats_tmpl_planned(const rp_pstats_tmpl_t *t)
{
    return t ? t->planned : 0;
}

/* Room in t for a file of st's shape, its functions noted; 0 when the
 * file is too large to keep. */
static int tmpl_begin(rp_pstats_tmpl_t *t, const rp_stats_t *st, int nedges,
                      apr_size_t size)
{
    int i;

    t->nfuncs = 0;
    t->plan_tag = 0;
    apr_pool_clear(t->pool);
    if (size > TMPL_MAX_BYTES)
        return 0;
    t->bytes = apr_palloc(t->pool, size);
    t->f = apr_palloc(t->pool, sizeof(tfunc_t) * (apr_size_t)st->nfuncs);
    t->e = apr_palloc(t->pool, sizeof(tedge_t) * (apr_size_t)(nedges + 1));
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        tfunc_t *tf = &t->f[i];

        tf->key_slot = f->key_slot > 0 ? f->key_slot : 0;
        tf->line = f->line;
        tf->ncallers = f->ncallers;
        tf->file = tf->key_slot ? f->file : apr_pstrdup(t->pool, f->file ? f->file : "");
        tf->name = tf->key_slot ? f->name : apr_pstrdup(t->pool, f->name ? f->name : "");
    }
    return 1;
}

static APR_INLINE int same_str(const char *a, const char *b)
{
    return strcmp(a ? a : "", b) == 0;
}

/* f is the recorded function tf: the same key (a static one by the very
 * strings, a dynamic one by equal strings, since a key's bytes are made
 * from its strings and line alone) and as many callers. */
static APR_INLINE int same_func(const rp_func_t *f, const tfunc_t *tf)
{
    int slot = f->key_slot > 0 ? f->key_slot : 0;
    if (slot != tf->key_slot || f->line != tf->line || f->ncallers != tf->ncallers)
        return 0;
    return slot ? f->file == tf->file && f->name == tf->name
                : same_str(f->file, tf->file) && same_str(f->name, tf->name);
}

/* The four numbers at o, over the recorded ones: the type codes ('i' 'i'
 * 'g' 'g') are already there, so only the values are stored. */
static APR_INLINE void w_four(unsigned char *o, int64_t a, int64_t b, double c, double d)
{
    w_u32(o + 1, (uint32_t)(int32_t)a);
    w_u32(o + 6, (uint32_t)(int32_t)b);
    w_float(o + 10, c);
    w_float(o + 19, d);
}

#define WIDE(v) ((uint64_t)(v) + 0x80000000u)

/* The recorded file with st's numbers, or NULL when st is not of the
 * recorded shape (the same functions in the same order, a static one by
 * the very strings, a dynamic one by equal strings, since a key's bytes
 * are made from its strings and line alone; each with the same callers)
 * or has a count that is not an int32 (its file is longer). One pass:
 * the copy is filled in as the shape is checked. */
static unsigned char *tmpl_fill(const rp_pstats_tmpl_t *t, const rp_stats_t *st,
                                apr_pool_t *p)
{
    unsigned char *buf;
    const tedge_t *te = t->e;
    uint64_t wide = 0;
    int i, j;

    if (t->nfuncs == 0 || t->nfuncs != st->nfuncs)
        return NULL;
    buf = apr_palloc(p, t->len);
    memcpy(buf, t->bytes, t->len);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        const tfunc_t *tf = &t->f[i];

        if (!same_func(f, tf))
            return NULL;
        wide |= WIDE(f->cc) | WIDE(f->nc);
        w_four(buf + tf->off, f->cc, f->nc, f->tt, f->ct);
        for (j = 0; j < f->ncallers; j++, te++) {
            const rp_edge_t *e = &f->callers[j];
            if (e->caller != te->caller)
                return NULL;
            if (te->off != TSKIP) {     /* edges the file leaves out do not count */
                wide |= WIDE(e->nc) | WIDE(e->cc);
                w_four(buf + te->off, e->nc, e->cc, e->tt, e->ct);
            }
        }
    }
    return wide >> 32 ? NULL : buf;
}

static apr_status_t encode(const rp_stats_t *st, rp_pstats_keys_t *cache,
                           rp_pstats_tmpl_t *tmpl, apr_pool_t *p,
                           const char **data, apr_size_t *len)
{
    kref_t *keys;
    apr_size_t size = 2;                /* the outer '{' and '0' */
    uint64_t wide = 0;
    unsigned char *buf, *o;
    int i, j, nedges = 0;
    tedge_t *te = NULL;

    *data = NULL;
    *len = 0;
    if (st == NULL || st->nfuncs <= 0)
        return APR_EINVAL;

    /* The first pass finds each key's bytes and sizes the file exactly:
     * one allocation, no bounds checks while writing. Counts are sized as
     * 'i' (5 bytes); one that is not an int32 (never in a real request)
     * sends the sizing through int_size. */
    keys = apr_palloc(p, sizeof(*keys) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        const kblock_t *b = key_cached(cache, f);

        if (b != NULL) {
            keys[i].bytes = b->bytes;
            keys[i].len = b->len;
        }
        else
            key_made(p, f, &keys[i]);
        /* key, ')' 5, cc, nc, two floats, '{' ... '0' */
        size += keys[i].len + 2 + 10 + 18 + 2;
        wide |= ((uint64_t)f->cc + 0x80000000u) | ((uint64_t)f->nc + 0x80000000u);
    }
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        nedges += f->ncallers;
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];
            if ((unsigned)e->caller >= (unsigned)st->nfuncs)
                continue;
            size += keys[e->caller].len + 2 + 10 + 18;
            wide |= ((uint64_t)e->nc + 0x80000000u) | ((uint64_t)e->cc + 0x80000000u);
        }
    }
    if (wide >> 32) {
        size += wide_extra(st);
        tmpl = NULL;                    /* numbers of varying length */
    }
    if (tmpl && !tmpl_begin(tmpl, st, nedges, size))
        tmpl = NULL;

    o = buf = apr_palloc(p, size);
    *o++ = '{';
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        o = w_bytes(o, &keys[i]);
        o = w_tuple(o, 5);
        if (tmpl)
            tmpl->f[i].off = (uint32_t)(o - buf);
        o = w_int(o, f->cc);
        o = w_int(o, f->nc);
        o = w_float(o, f->tt);
        o = w_float(o, f->ct);
        *o++ = '{';
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];

            if (tmpl) {
                te = te ? te + 1 : tmpl->e;
                te->caller = e->caller;
                te->off = TSKIP;
            }
            /* A dangling index would name no key; leave the edge out
             * rather than write a file that lies. */
            if ((unsigned)e->caller >= (unsigned)st->nfuncs)
                continue;
            o = w_bytes(o, &keys[e->caller]);
            o = w_tuple(o, 4);
            if (tmpl)
                te->off = (uint32_t)(o - buf);
            o = w_int(o, e->nc);
            o = w_int(o, e->cc);
            o = w_float(o, e->tt);
            o = w_float(o, e->ct);
        }
        *o++ = '0';
    }
    *o++ = '0';

    *data = (const char *)buf;
    *len = (apr_size_t)(o - buf);
    if (*len != size)
        return APR_EGENERAL;
    if (tmpl) {
        memcpy(tmpl->bytes, buf, size);
        tmpl->len = size;
        tmpl->nfuncs = st->nfuncs;      /* last: now it can match */
    }
    return APR_SUCCESS;
}

apr_status_t rp_pstats_encode_keys(const rp_stats_t *st, rp_pstats_keys_t *cache,
                                   apr_pool_t *p, const char **data, apr_size_t *len)
{
    return encode(st, cache, NULL, p, data, len);
}

apr_status_t rp_pstats_encode_tmpl(const rp_stats_t *st, rp_pstats_keys_t *cache,
                                   rp_pstats_tmpl_t *tmpl, apr_pool_t *p,
                                   const char **data, apr_size_t *len)
{
    if (tmpl && st && st->nfuncs > 0) {
        unsigned char *buf = tmpl_fill(tmpl, st, p);
        if (buf) {
            tmpl->hits++;
            *data = (const char *)buf;
            *len = tmpl->len;
            return APR_SUCCESS;
        }
    }
    if (tmpl)
        tmpl->misses++;
    return encode(st, cache, tmpl, p, data, len);
}

/* ---- a file from a request's frames ---- */

/* st is the recorded file's shape: what tmpl_fill checks. */
static int tmpl_holds(const rp_pstats_tmpl_t *t, const rp_stats_t *st)
{
    const tedge_t *te = t->e;
    int i, j;

    if (t->nfuncs == 0 || t->nfuncs != st->nfuncs)
        return 0;
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        if (!same_func(f, &t->f[i]))
            return 0;
        for (j = 0; j < f->ncallers; j++, te++)
            if (f->callers[j].caller != te->caller)
                return 0;
    }
    return 1;
}

static APR_INLINE int fits32(int64_t v)
{
    return v >= INT32_MIN && v <= INT32_MAX;
}

void rp_pstats_tmpl_plan(rp_pstats_tmpl_t *t, uint64_t tag, const rp_prof_rec_t *log,
                         int n, const rp_stats_t *st)
{
    int i, j, nedges = 0, nslots = 0, *ebase, *slot_of, *caller;

    if (!t || !tag || !st || n < 1 || !tmpl_holds(t, st))
        return;
    t->plan_tag = 0;
    apr_pool_clear(t->plan_pool);
    /* Slots: every function, then every edge the file has; slot_of maps
     * a function (0 .. nfuncs - 1) or an edge (nfuncs + its place in
     * the file's callers) to its slot, -1 for an edge the file leaves
     * out. */
    ebase = apr_palloc(t->plan_pool, sizeof(int) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        ebase[i] = st->nfuncs + nedges;
        nedges += st->funcs[i].ncallers;
    }
    slot_of = apr_palloc(t->plan_pool, sizeof(int) * (apr_size_t)(st->nfuncs + nedges));
    t->soff = apr_palloc(t->plan_pool, sizeof(uint32_t) * (apr_size_t)(st->nfuncs + nedges));
    t->plan_bytes = apr_pmemdup(t->plan_pool, t->bytes, t->len);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        if (!fits32(f->cc) || !fits32(f->nc))
            return;
        w_four(t->plan_bytes + t->f[i].off, f->cc, f->nc, 0.0, 0.0);
        t->soff[nslots] = t->f[i].off + 10;
        slot_of[i] = nslots++;
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];
            uint32_t off = t->e[ebase[i] + j - st->nfuncs].off;
            slot_of[ebase[i] + j] = -1;
            if (off == TSKIP)
                continue;
            if (!fits32(e->nc) || !fits32(e->cc))
                return;
            w_four(t->plan_bytes + off, e->nc, e->cc, 0.0, 0.0);
            t->soff[nslots] = off + 10;
            slot_of[ebase[i] + j] = nslots++;
        }
    }
    t->plan_nslots = nslots;
    t->fslot = apr_palloc(t->plan_pool, sizeof(int) * 2 * (apr_size_t)n);
    t->eslot = t->fslot + n;
    t->flags = apr_palloc(t->plan_pool, (apr_size_t)n);
    caller = apr_palloc(t->plan_pool, sizeof(int) * (apr_size_t)n);
    /* cProfile's rules, as rp_prof's own accounting applies them. */
    if (rp_prof_outer(log, n, t->flags, caller) < 0)
        return;
    for (i = 0; i < n; i++) {
        int f = log[i].func, d = log[i].depth, c = caller[i];
        if (f < 0 || f >= st->nfuncs || (d == 0) != (i == 0))
            return;
        t->fslot[i] = slot_of[f];
        t->eslot[i] = -1;
        if (d > 0) {
            for (j = 0; j < st->funcs[f].ncallers; j++)
                if (st->funcs[f].callers[j].caller == c)
                    break;
            if (j == st->funcs[f].ncallers)
                return;         /* not the file's edge: not this file's frames */
            t->eslot[i] = slot_of[ebase[f] + j];
        }
    }
    t->plan_n = n;
    t->plan_tag = tag;
}

apr_size_t rp_pstats_plan_len(const rp_pstats_tmpl_t *t, uint64_t tag, int n,
                              const char *root_name)
{
    if (!t || !tag || t->plan_tag != tag || t->plan_n != n
        || !same_str(root_name, t->f[0].name))
        return 0;
    return t->len;
}

void rp_pstats_plan_fill(rp_pstats_tmpl_t *t, const rp_prof_rec_t *log, int n,
                         double sec_per_tick, apr_pool_t *p, unsigned char *buf)
{
    uint64_t on_stack[2 * 128], *sum = on_stack;
    int i;

    if (t->plan_nslots > 128)
        sum = apr_palloc(p, sizeof(uint64_t) * 2 * (apr_size_t)t->plan_nslots);
    memset(sum, 0, sizeof(uint64_t) * 2 * (apr_size_t)t->plan_nslots);
    for (i = 0; i < n; i++) {
        const rp_prof_rec_t *r = &log[i];
        uint64_t *fs = &sum[2 * t->fslot[i]];
        int e = t->eslot[i], fl = t->flags[i];
        fs[0] += r->self;
        if (fl & RP_PROF_FN_OUTER)
            fs[1] += r->t1 - r->t0;
        if (e >= 0) {
            uint64_t *es = &sum[2 * e];
            es[0] += r->self;
            if (fl & RP_PROF_EDGE_OUTER)
                es[1] += r->t1 - r->t0;
        }
    }
    memcpy(buf, t->plan_bytes, t->len);
    /* The times as rp_prof_stats makes them ((double) of the tick sum,
     * times sec_per_tick): the same bytes. Sums stay far below 2^63,
     * where the signed conversion is the unsigned one. */
    for (i = 0; i < t->plan_nslots; i++) {
        double tt = (double)(int64_t)sum[2 * i] * sec_per_tick;
        double ct = (double)(int64_t)sum[2 * i + 1] * sec_per_tick;
        unsigned char *o = buf + t->soff[i];
        w_float(o, tt);
        w_float(o + 9, ct);
    }
    t->planned++;
}

apr_status_t rp_pstats_encode_plan(rp_pstats_tmpl_t *t, uint64_t tag,
                                   const rp_prof_rec_t *log, int n,
                                   const char *root_name, double sec_per_tick,
                                   apr_pool_t *p, const char **data, apr_size_t *len)
{
    apr_size_t size = rp_pstats_plan_len(t, tag, n, root_name);
    unsigned char *buf;

    if (!size)
        return APR_EINCOMPLETE;
    buf = apr_palloc(p, size);
    rp_pstats_plan_fill(t, log, n, sec_per_tick, p, buf);
    *data = (const char *)buf;
    *len = size;
    return APR_SUCCESS;
}
