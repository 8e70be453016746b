/*
 * rp_inflight.c - the in-flight records (see rp_inflight.h).
 */
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include "rp_inflight.h"

apr_size_t rp_inflight_size(int n)
{
    return sizeof(rp_inflight_rec_t) * (apr_size_t)(n > 0 ? n : 1);
}

/* At most cap - 1 bytes of src, never half a UTF-8 character. */
static void put(char *dst, const char *src, apr_size_t cap)
{
    apr_size_t n = src ? strlen(src) : 0;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void rp_inflight_begin(rp_inflight_rec_t *rec, apr_uint64_t owner, long pid,
                       apr_time_t start, const char *method, const char *path,
                       const char *vhost, int profiled)
{
    /* One writer per record: the word is even here. The compiler's
     * atomics, with the ordering apr_atomic_set32 gives, inline: every
     * request passes here (apr's are calls into libapr). */
    apr_uint32_t seq = __atomic_load_n(&rec->seq, __ATOMIC_SEQ_CST) & ~1u;
    __atomic_store_n(&rec->seq, seq + 1, __ATOMIC_SEQ_CST);    /* odd: being written */
    rec->pid = pid;
    rec->start = start;
    rec->owner = owner;
    rec->profiled = profiled;
    rec->depth = 0;
    put(rec->method, method, sizeof rec->method);
    put(rec->path, path, sizeof rec->path);
    put(rec->vhost, vhost, sizeof rec->vhost);
    __atomic_store_n(&rec->active, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&rec->seq, seq + 2, __ATOMIC_SEQ_CST);
}

void rp_inflight_mirror(rp_inflight_rec_t *rec, const int *idmap, int nidmap,
                        rp_prof_mirror_t *m)
{
    m->depth = &rec->depth;
    m->code = rec->code;
    m->dyn = &rec->dyn[0][0];
    m->cap = RP_INFLIGHT_DEPTH;
    m->dyn_len = RP_INFLIGHT_DYN;
    m->idmap = idmap;
    m->nidmap = nidmap;
}

void rp_inflight_end(rp_inflight_rec_t *rec, apr_uint64_t owner)
{
    if (rec->owner == owner && __atomic_load_n(&rec->active, __ATOMIC_SEQ_CST))
        __atomic_store_n(&rec->active, 0, __ATOMIC_SEQ_CST);
}

static int by_elapsed(const void *x, const void *y)
{
    const rp_inflight_row_t *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->slot - b->slot;
}

apr_array_header_t *rp_inflight_read(void *base, int n, apr_time_t now, apr_pool_t *p,
                                     rp_inflight_name_fn name, void *name_ctx,
                                     int (*keep)(void *ctx, int i), void *keep_ctx)
{
    apr_array_header_t *rows = apr_array_make(p, 8, sizeof(rp_inflight_row_t));
    rp_inflight_rec_t *copy = apr_palloc(p, sizeof *copy);
    int i, j;

    for (i = 0; i < n; i++) {
        rp_inflight_rec_t *rec = rp_inflight_at(base, i);
        rp_inflight_row_t *row;
        apr_uint32_t s1;
        int tries, ok = 0, depth;

        if (!apr_atomic_read32(&rec->active) || (keep && !keep(keep_ctx, i)))
            continue;
        for (tries = 0; tries < 4 && !ok; tries++) {
            s1 = apr_atomic_read32(&rec->seq);
            if (s1 & 1)
                continue;
            memcpy(copy, rec, sizeof *copy);
            ok = apr_atomic_read32(&rec->seq) == s1 && copy->active;
        }
        if (!ok)
            continue;
        copy->method[sizeof copy->method - 1] = '\0';
        copy->path[sizeof copy->path - 1] = '\0';
        copy->vhost[sizeof copy->vhost - 1] = '\0';
        row = apr_array_push(rows);
        row->slot = i;
        row->pid = (long)copy->pid;
        row->owner = copy->owner;
        row->start = (apr_time_t)copy->start;
        row->elapsed = now > row->start ? (double)(now - row->start) / 1e6 : 0.0;
        row->profiled = copy->profiled;
        row->method = apr_pstrdup(p, copy->method);
        row->path = apr_pstrdup(p, copy->path);
        row->vhost = apr_pstrdup(p, copy->vhost);
        depth = copy->depth;
        if (!copy->profiled || depth < 0)
            depth = 0;
        if (depth > RP_INFLIGHT_DEPTH)
            depth = RP_INFLIGHT_DEPTH;
        row->stack = apr_pcalloc(p, sizeof(char *) * (apr_size_t)(depth + 1));
        row->nstack = 0;
        for (j = 0; j < depth; j++) {
            const char *nm = NULL;
            if (copy->code[j] == RP_MIRROR_DYN) {
                copy->dyn[j][RP_INFLIGHT_DYN - 1] = '\0';
                nm = apr_pstrdup(p, copy->dyn[j]);
            }
            else if (copy->code[j] >= 0 && name)
                nm = name(name_ctx, copy->code[j], p);
            /* Negative codes: a function the map does not show. */
            row->stack[row->nstack++] = nm ? nm : "?";
        }
    }
    qsort(rows->elts, (size_t)rows->nelts, sizeof(rp_inflight_row_t), by_elapsed);
    return rows;
}
