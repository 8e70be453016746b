/*
 * rp_pstats.c - write a profile as the marshal dict pstats.Stats() loads.
 *
 * Only the marshal codes Python 3 has read since 3.4 are used ('{' '0' ')'
 * '(' 'i' 'l' 'g' 'u'), and never FLAG_REF: refs would save a few bytes
 * on repeated caller keys but make the writer stateful.
 */
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

/* ---- writers into memory already sized for them ---- */

static APR_INLINE unsigned char *w_u32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)v;
    o[1] = (unsigned char)(v >> 8);
    o[2] = (unsigned char)(v >> 16);
    o[3] = (unsigned char)(v >> 24);
    return o + 4;
}

/* Bytes rp_marshal_int writes for v. */
static APR_INLINE apr_size_t int_size(int64_t v)
{
    uint64_t mag;
    apr_size_t n = 0;

    if (v >= INT32_MIN && v <= INT32_MAX)
        return 5;
    mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    for (; mag; mag >>= 15)
        n++;
    return 5 + 2 * n;
}

static unsigned char *w_int(unsigned char *o, int64_t v)
{
    uint64_t mag;
    unsigned char *count;
    int32_t n = 0;

    if (v >= INT32_MIN && v <= INT32_MAX) {
        *o = 'i';
        return w_u32(o + 1, (uint32_t)(int32_t)v);
    }
    /* Python's TYPE_LONG: signed digit count, then |v| in base 2**15. The
     * magnitude is taken unsigned so INT64_MIN does not overflow. */
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

static APR_INLINE unsigned char *w_float(unsigned char *o, double v)
{
    uint64_t bits;

    memcpy(&bits, &v, sizeof(bits));
    *o = 'g';
    w_u32(o + 1, (uint32_t)bits);
    return w_u32(o + 5, (uint32_t)(bits >> 32));
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

/* A key as it is written: (file, line, name), strings cleaned. */
typedef struct key {
    const char *file, *name;
    apr_size_t flen, nlen;
} pkey_t;

#define KEY_SIZE(k) (2 + 5 + (k)->flen + 5 + 5 + (k)->nlen)

static unsigned char *w_key(unsigned char *o, const pkey_t *k, int line)
{
    o = w_tuple(o, 3);
    o = w_str(o, k->file, k->flen);
    *o = 'i';
    o = w_u32(o + 1, (uint32_t)(int32_t)line);
    return w_str(o, k->name, k->nlen);
}

apr_status_t rp_pstats_encode(const rp_stats_t *st, apr_pool_t *p,
                              const char **data, apr_size_t *len)
{
    pkey_t *keys;
    apr_size_t size = 2;                /* the outer '{' and '0' */
    unsigned char *buf, *o;
    int i, j;

    *data = NULL;
    *len = 0;
    if (st == NULL || st->nfuncs <= 0)
        return APR_EINVAL;

    /* Each key is cleaned once: callers refer to functions by index, so a
     * caller key is written from the same cleaned strings as its entry.
     * The first pass also sizes the file exactly: one allocation, no
     * bounds checks while writing. */
    keys = apr_palloc(p, sizeof(*keys) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        keys[i].file = rp_utf8_view(p, st->funcs[i].file, RP_PSTATS_STR_MAX, &keys[i].flen);
        keys[i].name = rp_utf8_view(p, st->funcs[i].name, RP_PSTATS_STR_MAX, &keys[i].nlen);
    }
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        size += KEY_SIZE(&keys[i]) + 2 + int_size(f->cc) + int_size(f->nc)
                + 9 + 9 + 2;
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];
            if (e->caller < 0 || e->caller >= st->nfuncs)
                continue;
            size += KEY_SIZE(&keys[e->caller]) + 2 + int_size(e->nc)
                    + int_size(e->cc) + 9 + 9;
        }
    }

    o = buf = apr_palloc(p, size);
    *o++ = '{';
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        o = w_key(o, &keys[i], f->line);
        o = w_tuple(o, 5);
        o = w_int(o, f->cc);
        o = w_int(o, f->nc);
        o = w_float(o, f->tt);
        o = w_float(o, f->ct);
        *o++ = '{';
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];

            /* A dangling index would name no key; leave the edge out
             * rather than write a file that lies. */
            if (e->caller < 0 || e->caller >= st->nfuncs)
                continue;
            o = w_key(o, &keys[e->caller], st->funcs[e->caller].line);
            o = w_tuple(o, 4);
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
    return *len == size ? APR_SUCCESS : APR_EGENERAL;
}
