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

static void put_u32(rp_buf_t *b, uint32_t v);
static void put_key(rp_buf_t *b, const char *file, int line, const char *name);

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
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void put_u32(rp_buf_t *b, uint32_t v)
{
    unsigned char le[4];

    le[0] = (unsigned char)v;
    le[1] = (unsigned char)(v >> 8);
    le[2] = (unsigned char)(v >> 16);
    le[3] = (unsigned char)(v >> 24);
    rp_buf_add(b, le, 4);
}

void rp_marshal_int(rp_buf_t *b, int64_t v)
{
    unsigned char digits[2 * 5];
    uint64_t mag;
    int32_t n = 0;

    if (v >= INT32_MIN && v <= INT32_MAX) {
        rp_buf_add(b, "i", 1);
        put_u32(b, (uint32_t)(int32_t)v);
        return;
    }
    /* Python's TYPE_LONG: signed digit count, then |v| in base 2**15. The
     * magnitude is taken unsigned so INT64_MIN does not overflow. */
    mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    while (mag) {
        digits[2 * n] = (unsigned char)(mag & 0xFF);
        digits[2 * n + 1] = (unsigned char)((mag >> 8) & 0x7F);
        mag >>= 15;
        n++;
    }
    rp_buf_add(b, "l", 1);
    put_u32(b, (uint32_t)(v < 0 ? -n : n));
    rp_buf_add(b, digits, 2 * (apr_size_t)n);
}

void rp_marshal_float(rp_buf_t *b, double v)
{
    unsigned char le[8];
    uint64_t bits;
    int i;

    memcpy(&bits, &v, sizeof(bits));
    for (i = 0; i < 8; i++)
        le[i] = (unsigned char)(bits >> (8 * i));
    rp_buf_add(b, "g", 1);
    rp_buf_add(b, le, 8);
}

void rp_marshal_str(rp_buf_t *b, const char *s)
{
    apr_size_t n = strlen(s);

    rp_buf_add(b, "u", 1);
    put_u32(b, (uint32_t)n);
    rp_buf_add(b, s, n);
}

void rp_marshal_tuple_begin(rp_buf_t *b, apr_size_t n)
{
    if (n < 256) {
        unsigned char hdr[2];

        hdr[0] = ')';
        hdr[1] = (unsigned char)n;
        rp_buf_add(b, hdr, 2);
        return;
    }
    rp_buf_add(b, "(", 1);
    put_u32(b, (uint32_t)n);
}

void rp_marshal_dict_begin(rp_buf_t *b)
{
    rp_buf_add(b, "{", 1);
}

void rp_marshal_dict_end(rp_buf_t *b)
{
    rp_buf_add(b, "0", 1);
}

static void put_key(rp_buf_t *b, const char *file, int line, const char *name)
{
    rp_marshal_tuple_begin(b, 3);
    rp_marshal_str(b, file);
    rp_marshal_int(b, line);
    rp_marshal_str(b, name);
}

apr_status_t rp_pstats_encode(const rp_stats_t *st, apr_pool_t *p,
                              const char **data, apr_size_t *len)
{
    const char **file, **name;
    apr_size_t guess = 64;
    rp_buf_t b;
    int i, j;

    *data = NULL;
    *len = 0;
    if (st == NULL || st->nfuncs <= 0)
        return APR_EINVAL;

    /* Clean each key once: callers refer to functions by index, so a
     * caller key is written from the same cleaned strings as its entry. */
    file = apr_palloc(p, sizeof(*file) * (apr_size_t)st->nfuncs);
    name = apr_palloc(p, sizeof(*name) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        file[i] = rp_utf8_clean(p, f->file, RP_PSTATS_STR_MAX);
        name[i] = rp_utf8_clean(p, f->name, RP_PSTATS_STR_MAX);
        guess += 64 + strlen(file[i]) + strlen(name[i])
                 + 48 * (apr_size_t)(f->ncallers > 0 ? f->ncallers : 0);
    }

    rp_buf_init(&b, p, guess);
    rp_marshal_dict_begin(&b);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        put_key(&b, file[i], f->line, name[i]);
        rp_marshal_tuple_begin(&b, 5);
        rp_marshal_int(&b, f->cc);
        rp_marshal_int(&b, f->nc);
        rp_marshal_float(&b, f->tt);
        rp_marshal_float(&b, f->ct);
        rp_marshal_dict_begin(&b);
        for (j = 0; j < f->ncallers; j++) {
            const rp_edge_t *e = &f->callers[j];

            /* A dangling index would name no key; leave the edge out
             * rather than write a file that lies. */
            if (e->caller < 0 || e->caller >= st->nfuncs)
                continue;
            put_key(&b, file[e->caller], st->funcs[e->caller].line,
                    name[e->caller]);
            rp_marshal_tuple_begin(&b, 4);
            rp_marshal_int(&b, e->nc);
            rp_marshal_int(&b, e->cc);
            rp_marshal_float(&b, e->tt);
            rp_marshal_float(&b, e->ct);
        }
        rp_marshal_dict_end(&b);
    }
    rp_marshal_dict_end(&b);

    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}
