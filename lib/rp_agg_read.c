/*
 * rp_agg_read.c - reading the status page's shared region: a merged copy
 * for the page, one slow request back as a profile, and copying a region's
 * counts into a region of other sizes (a restart that changed them).
 */
#include <stdlib.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "rp_agg_int.h"

/* -------------------------------------------------------------- reading */

static int cmp_url(const void *x, const void *y)
{
    const rp_agg_urlrow_t *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->path, b->path);
}

static int cmp_slow(const void *x, const void *y)
{
    const rp_agg_slowrow_t *a = x, *b = y;
    if (a->wall_ns != b->wall_ns)
        return a->wall_ns > b->wall_ns ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* The function rows: names from the table, counts summed over the
 * blocks given (stripes: kcols columns each; window slots: one). */
static void read_keys(const rp_agg_t *a, rp_agg_snap_t *s, apr_pool_t *p,
                      stripe_t *const *blocks, int nblocks, int kcols)
{
    apr_hash_t *seen = apr_hash_make(p);
    int used = (int)apr_atomic_read32(&a->hdr->nkeys_used), i, st, c;
    if (used > a->sz.nkeys)
        used = a->sz.nkeys;
    s->keys = apr_pcalloc(p, sizeof(rp_agg_keyrow_t) * (apr_size_t)(used + 1));
    for (i = 0; i < used; i++) {
        const keyname_t *k = &a->keys[i];
        rp_agg_keyrow_t *row;
        const char *id;
        if (!apr_atomic_read32((volatile apr_uint32_t *)&k->ready))
            continue;
        /* Two children may have added one name at once: merge them. */
        id = apr_psprintf(p, "%s:%d(%s)", k->file, (int)k->line, k->name);
        row = apr_hash_get(seen, id, APR_HASH_KEY_STRING);
        if (!row) {
            row = &s->keys[s->nkeys++];
            row->file = apr_pstrdup(p, k->file);
            row->line = k->line;
            row->name = apr_pstrdup(p, k->name);
            row->phase = !strcmp(k->file, "httpd") && k->line == 0;
            row->vcalls = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)a->ncols);
            row->vtt_ns = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)a->ncols);
            row->vct_ns = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)a->ncols);
            apr_hash_set(seen, id, APR_HASH_KEY_STRING, row);
        }
        for (st = 0; st < nblocks; st++)
            for (c = 0; c < kcols; c++) {
                kcount_t *n = kc(a, blocks[st], c, i);
                uint64_t calls = apr_atomic_read64(&n->calls);
                uint64_t tt = apr_atomic_read64(&n->tt), ct = apr_atomic_read64(&n->ct);
                if (kcols > 1) {
                    row->vcalls[c] += calls;
                    row->vtt_ns[c] += tt;
                    row->vct_ns[c] += ct;
                }
                row->calls += calls;
                row->tt_ns += tt;
                row->ct_ns += ct;
            }
    }
}

/* Rows of a URL table added to the snapshot's (merging equal paths). */
static void read_urls(const urltab_t *t, rp_agg_snap_t *s, apr_pool_t *p, apr_hash_t *seen)
{
    int i, c;
    for (i = 0; i < t->n; i++) {
        urlent_t *e = &t->e[i];
        apr_uint64_t h = apr_atomic_read64(&e->hash);
        rp_agg_urlrow_t r, *row;
        char path[RP_AGG_URL_LEN];
        if (h < 2)
            continue;
        r.count = apr_atomic_read64(&e->count);
        r.sum_ns = apr_atomic_read64(&e->sum_ns);
        r.max_ns = apr_atomic_read64(&e->max_ns);
        r.last = (apr_time_t)apr_atomic_read64(&e->last);
        for (c = 0; c < RP_AGG_NCLASS; c++)
            r.status[c] = apr_atomic_read64(&e->status[c]);
        memcpy(path, e->path, sizeof path);
        path[sizeof path - 1] = '\0';
        if (apr_atomic_read64(&e->hash) != h)
            continue;               /* replaced while we read it */
        row = apr_hash_get(seen, &h, sizeof h);
        if (row) {                  /* one path inserted twice at once, or
                                     * in several window minutes */
            row->count += r.count;
            row->sum_ns += r.sum_ns;
            for (c = 0; c < RP_AGG_NCLASS; c++)
                row->status[c] += r.status[c];
            if (r.max_ns > row->max_ns)
                row->max_ns = r.max_ns;
            if (r.last > row->last)
                row->last = r.last;
            continue;
        }
        row = &s->urls[s->nurls++];
        *row = r;
        row->path = apr_pstrdup(p, path);
        apr_hash_set(seen, apr_pmemdup(p, &h, sizeof h), sizeof h, row);
    }
    s->url_other_count += apr_atomic_read64(t->other_count);
    s->url_other_sum_ns += apr_atomic_read64(t->other_sum_ns);
    for (c = 0; c < RP_AGG_NCLASS; c++)
        s->url_other_status[c] += apr_atomic_read64(&t->other_status[c]);
}

/* Add a block's request counters to the snapshot. */
static void read_block(const rp_agg_t *a, stripe_t *st, rp_agg_snap_t *s)
{
    apr_uint64_t m = apr_atomic_read64(&st->max_ns);
    int b, c;
    s->requests += apr_atomic_read64(&st->requests);
    s->profiled += apr_atomic_read64(&st->profiled);
    s->sum_ns += apr_atomic_read64(&st->sum_ns);
    if (m > s->max_ns)
        s->max_ns = m;
    for (b = 0; b < RP_AGG_NBUCKETS; b++)
        s->hist[b] += apr_atomic_read64(&st->hist[b]);
    for (c = 0; c < RP_AGG_NCLASS; c++)
        s->status[c] += apr_atomic_read64(&st->status[c]);
    for (b = 0; b < a->ncols; b++) {
        s->vhost_requests[b] += apr_atomic_read64(&vreq(a, st)[b]);
        s->vhost_sum_ns[b] += apr_atomic_read64(&vns(a, st)[b]);
        for (c = 0; c < RP_AGG_NCLASS; c++)
            s->vhost_status[b * RP_AGG_NCLASS + c] += apr_atomic_read64(&vst(a, st, b)[c]);
    }
}

static void slow_row(const slowent_t *e, rp_agg_slowrow_t *r, apr_pool_t *p)
{
    r->id = e->id;
    r->method = apr_pstrdup(p, e->method);
    r->path = apr_pstrdup(p, e->path);
    r->vhost = apr_pstrdup(p, e->vhost);
    r->traceid = apr_pstrdup(p, e->traceid);
    r->status = e->status;
    r->when = e->when;
    r->wall_ns = e->wall_ns;
    r->nfuncs = e->nfuncs;
    r->truncated = e->truncated;
}

static rp_agg_snap_t *snap_new(const rp_agg_t *a, apr_pool_t *p)
{
    rp_agg_snap_t *s = apr_pcalloc(p, sizeof *s);
    s->created = (apr_time_t)a->hdr->created;
    s->reset = (apr_time_t)apr_atomic_read64(&a->hdr->reset);
    s->sizes = a->sz;
    s->bytes = (apr_size_t)a->hdr->bytes;
    s->keys_dropped = apr_atomic_read64(&a->hdr->keys_dropped);
    s->nvhosts = a->ncols;
    s->vhost_names = apr_pcalloc(p, sizeof(char *) * (apr_size_t)a->ncols);
    s->vhost_requests = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)a->ncols);
    s->vhost_sum_ns = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)a->ncols);
    s->vhost_status = apr_pcalloc(p, sizeof(uint64_t) * RP_AGG_NCLASS
                                     * (apr_size_t)a->ncols);
    return s;
}

/* Names after the counts: a column is named before anything is added to
 * it, so every column counted has its name (read before, a virtual host
 * added meanwhile showed as "(other)"). Then the slow requests since
 * `since` (0: all), slowest first. */
static void snap_finish(const rp_agg_t *a, rp_agg_snap_t *s, apr_pool_t *p,
                        apr_time_t since)
{
    slowent_t *tmp = apr_palloc(p, sizeof *tmp);
    int i, used = (int)apr_atomic_read32(&a->hdr->nvhosts_used);
    if (used > a->sz.nvhosts)
        used = a->sz.nvhosts;
    for (i = 0; i < a->ncols; i++)
        s->vhost_names[i] = i < used && apr_atomic_read32(&a->vhosts[i].ready)
                            ? apr_pstrdup(p, a->vhosts[i].name) : "(other)";
    qsort(s->urls, (size_t)s->nurls, sizeof *s->urls, cmp_url);
    s->slow = apr_pcalloc(p, sizeof(rp_agg_slowrow_t) * (apr_size_t)a->sz.nslow);
    for (i = 0; i < a->sz.nslow; i++)
        if (rp_agg_slow_copy(a, i, tmp) && tmp->when >= since)
            slow_row(tmp, &s->slow[s->nslow++], p);
    qsort(s->slow, (size_t)s->nslow, sizeof *s->slow, cmp_slow);
}

rp_agg_snap_t *rp_agg_read(const rp_agg_t *a, apr_pool_t *p)
{
    rp_agg_snap_t *s = snap_new(a, p);
    stripe_t *blocks[RP_AGG_STRIPES];
    urltab_t t = rp_agg_main_urls(a);
    int i;

    /* Requests first: what is read after may only have grown. */
    for (i = 0; i < RP_AGG_STRIPES; i++) {
        blocks[i] = stripe_at(a, (unsigned)i);
        read_block(a, blocks[i], s);
    }
    read_keys(a, s, p, blocks, RP_AGG_STRIPES, a->ncols);
    s->urls = apr_pcalloc(p, sizeof(rp_agg_urlrow_t) * (apr_size_t)a->sz.nurls);
    read_urls(&t, s, p, apr_hash_make(p));
    snap_finish(a, s, p, 0);
    return s;
}

rp_agg_snap_t *rp_agg_read_window(const rp_agg_t *a, apr_pool_t *p, int minutes,
                                  apr_time_t now)
{
    rp_agg_snap_t *s = snap_new(a, p);
    stripe_t *blocks[RP_WIN_SLOTS];
    wslot_t *slots[RP_WIN_SLOTS];
    apr_hash_t *seen = apr_hash_make(p);
    apr_uint32_t m = rp_win_minute(now);
    int i, n = 0;

    if (minutes < 1)
        minutes = 1;
    if (minutes > RP_WIN_MAX)
        minutes = RP_WIN_MAX;
    s->window = minutes;
    for (i = 0; i < RP_WIN_SLOTS; i++) {
        wslot_t *w = wslot_at(a, i);
        if (rp_win_in(apr_atomic_read32(&w->stamp), m, minutes)) {
            slots[n] = w;
            blocks[n++] = &w->c;
        }
    }
    for (i = 0; i < n; i++)
        read_block(a, blocks[i], s);
    read_keys(a, s, p, blocks, n, 1);
    s->urls = apr_pcalloc(p, sizeof(rp_agg_urlrow_t) * (apr_size_t)(n * RP_AGG_WIN_URLS + 1));
    for (i = 0; i < n; i++) {
        urltab_t t = rp_agg_slot_urls(a, slots[i]);
        read_urls(&t, s, p, seen);
    }
    snap_finish(a, s, p, now - (apr_time_t)minutes * rp_win_minute_usec);
    return s;
}

double rp_agg_percentile(const rp_agg_snap_t *s, double q)
{
    uint64_t total = 0, cum = 0;
    double target, max = (double)s->max_ns / 1e9;
    int b;
    for (b = 0; b < RP_AGG_NBUCKETS; b++)
        total += s->hist[b];
    if (total == 0)
        return 0.0;
    target = q * (double)total;
    for (b = 0; b < RP_AGG_NBUCKETS; b++) {
        double lo, hi, v;
        if (s->hist[b] == 0 || (double)(cum + s->hist[b]) < target) {
            cum += s->hist[b];
            continue;
        }
        lo = b > 0 ? rp_agg_bucket_le[b - 1] : 0.0;
        hi = b < RP_AGG_NBUCKETS - 1 ? rp_agg_bucket_le[b] : max;
        v = lo + (hi - lo) * ((target - (double)cum) / (double)s->hist[b]);
        return v < max ? v : max;
    }
    return max;
}

rp_stats_t *rp_agg_slow_stats(const rp_agg_t *a, uint64_t id, apr_pool_t *p,
                              rp_agg_slowrow_t *info)
{
    slowent_t *e = apr_palloc(p, sizeof *e);
    rp_stats_t *st;
    int i, j;

    for (i = 0; i < a->sz.nslow; i++)
        if (a->slow[i].id == id && rp_agg_slow_copy(a, i, e) && e->id == id)
            break;
    if (i == a->sz.nslow || e->nfuncs < 1)
        return NULL;
    if (info)
        slow_row(e, info, p);
    st = apr_pcalloc(p, sizeof *st);
    st->nfuncs = e->nfuncs;
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)e->nfuncs);
    for (i = 0; i < e->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];
        const tfunc_t *t = &e->funcs[i];
        int n = 0;
        if (t->file == RP_AGG_TFUNC_KEYREF) {
            const char *kf, *kn;
            int kl;
            if (!rp_agg_key_name(a, t->name, &kf, &kl, &kn)) {
                kf = "httpd";           /* cannot happen: keys stay named */
                kn = "(unknown)";
                kl = 0;
            }
            f->file = apr_pstrdup(p, kf);
            f->name = apr_pstrdup(p, kn);
        }
        else {
            f->file = apr_pstrdup(p, e->strings + t->file);
            f->name = apr_pstrdup(p, e->strings + t->name);
        }
        f->line = t->line;
        f->cc = t->cc;
        f->nc = t->nc;
        f->tt = t->tt;
        f->ct = t->ct;
        for (j = 0; j < e->nedges; j++)
            n += e->edges[j].callee == i;
        f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * (apr_size_t)(n + 1));
        for (j = 0; j < e->nedges; j++) {
            const tedge_t *g = &e->edges[j];
            rp_edge_t *out;
            if (g->callee != i)
                continue;
            out = &f->callers[f->ncallers++];
            out->caller = g->caller;
            out->nc = g->nc;
            out->cc = g->cc;
            out->tt = g->tt;
            out->ct = g->ct;
        }
    }
    return st;
}

/* ----------------------------------------------------------- sanitize */

static void urls_sanitize(urlent_t *e, int n)
{
    int i;
    for (i = 0; i < n; i++)
        e[i].path[RP_AGG_URL_LEN - 1] = '\0';
}

void rp_agg_sanitize(rp_agg_t *a)
{
    int i, j;
    if (a->hdr->nkeys_used > (apr_uint32_t)a->sz.nkeys)
        a->hdr->nkeys_used = (apr_uint32_t)a->sz.nkeys;
    if (a->hdr->nvhosts_used > (apr_uint32_t)a->sz.nvhosts)
        a->hdr->nvhosts_used = (apr_uint32_t)a->sz.nvhosts;
    for (i = 0; i < a->sz.nkeys; i++) {
        a->keys[i].file[RP_AGG_KEY_FILE - 1] = '\0';
        a->keys[i].name[RP_AGG_KEY_NAME - 1] = '\0';
    }
    for (i = 0; i < a->sz.nvhosts; i++)
        a->vhosts[i].name[RP_AGG_VHOST_LEN - 1] = '\0';
    urls_sanitize(a->urls, a->sz.nurls);
    for (i = 0; i < RP_WIN_SLOTS; i++) {
        wslot_t *w = wslot_at(a, i);
        if (w->stamp == RP_WIN_CLEARING)
            w->stamp = 0;       /* saved mid-clear: no minute, reused as empty */
        urls_sanitize(wurls(a, w), RP_AGG_WIN_URLS);
    }
    for (i = 0; i < a->sz.nslow; i++) {
        slowent_t *e = &a->slow[i];
        e->seq &= ~1u;
        e->method[sizeof e->method - 1] = '\0';
        e->path[sizeof e->path - 1] = '\0';
        e->vhost[sizeof e->vhost - 1] = '\0';
        e->strings[RP_AGG_TREE_STRINGS - 1] = '\0';
        if (e->nstrings > RP_AGG_TREE_STRINGS)
            e->nstrings = RP_AGG_TREE_STRINGS;
        if (e->nfuncs < 0 || e->nfuncs > RP_AGG_TREE_FUNCS)
            e->nfuncs = e->nfuncs < 0 ? 0 : RP_AGG_TREE_FUNCS;
        if (e->nedges < 0 || e->nedges > RP_AGG_TREE_EDGES)
            e->nedges = e->nedges < 0 ? 0 : RP_AGG_TREE_EDGES;
        for (j = 0; j < e->nfuncs; j++) {
            if (e->funcs[j].file == RP_AGG_TFUNC_KEYREF
                && e->funcs[j].name < (apr_uint32_t)a->sz.nkeys)
                continue;               /* named by a key */
            if (e->funcs[j].file >= RP_AGG_TREE_STRINGS)
                e->funcs[j].file = RP_AGG_TREE_STRINGS - 1;
            if (e->funcs[j].name >= RP_AGG_TREE_STRINGS)
                e->funcs[j].name = RP_AGG_TREE_STRINGS - 1;
        }
        for (j = 0; j < e->nedges; j++)
            if (e->edges[j].caller >= e->nfuncs || e->edges[j].callee >= e->nfuncs) {
                /* An edge to nowhere: make it a self-edge of function 0
                 * with nothing in it, or drop the entry's tree. */
                if (e->nfuncs > 0) {
                    memset(&e->edges[j], 0, sizeof e->edges[j]);
                }
                else
                    e->nedges = 0;
            }
    }
}

/* ------------------------------------------------------- copy forward */

/* Add src's block sb into dst's block db: columns through colmap,
 * functions through keymap (-1: no room), kcols function columns. */
static void copy_block(rp_agg_t *dst, stripe_t *db, const rp_agg_t *src, stripe_t *sb,
                       const int *colmap, const int *keymap, int kcols)
{
    int b, c, i;
    db->requests += sb->requests;
    db->profiled += sb->profiled;
    db->sum_ns += sb->sum_ns;
    if (sb->max_ns > db->max_ns)
        db->max_ns = sb->max_ns;
    for (b = 0; b < RP_AGG_NBUCKETS; b++)
        db->hist[b] += sb->hist[b];
    for (b = 0; b < RP_AGG_NCLASS; b++)
        db->status[b] += sb->status[b];
    for (c = 0; c < src->ncols; c++) {
        vreq(dst, db)[colmap[c]] += vreq(src, sb)[c];
        vns(dst, db)[colmap[c]] += vns(src, sb)[c];
        for (b = 0; b < RP_AGG_NCLASS; b++)
            vst(dst, db, colmap[c])[b] += vst(src, sb, c)[b];
    }
    for (i = 0; i < src->sz.nkeys; i++)
        for (c = 0; c < kcols; c++) {
            kcount_t *from = kc(src, sb, c, i), *to;
            if (keymap[i] < 0) {
                /* No room in the new table: its calls are dropped calls,
                 * as a request's calls of such a function would be. */
                if (kcols > 1)
                    dst->hdr->keys_dropped += from->calls;
                continue;
            }
            to = kc(dst, db, kcols > 1 ? colmap[c] : 0, keymap[i]);
            to->calls += from->calls;
            to->tt += from->tt;
            to->ct += from->ct;
        }
}

static void copy_urls(const urltab_t *to, const urltab_t *from)
{
    int i, c;
    for (i = 0; i < from->n; i++) {
        const urlent_t *e = &from->e[i];
        apr_uint64_t st[RP_AGG_NCLASS];
        for (c = 0; c < RP_AGG_NCLASS; c++)
            st[c] = e->status[c];
        if (e->hash >= 2)
            rp_agg_url_add(to, e->path, e->count, e->sum_ns, e->max_ns, e->last, st);
    }
    *to->other_count += *from->other_count;
    *to->other_sum_ns += *from->other_sum_ns;
    for (c = 0; c < RP_AGG_NCLASS; c++)
        to->other_status[c] += from->other_status[c];
}

/* A slow entry's function named by src's key: dst's key for the same
 * name, or, when dst has none, copies of the names in the entry's own
 * strings. 0 when they do not fit. */
static int rekey(slowent_t *e, tfunc_t *t, const rp_agg_t *src, const int *keymap)
{
    const char *kf, *kn;
    int kl, k = t->name, fo, no;
    if (k >= src->sz.nkeys)
        return 0;
    if (keymap[k] >= 0 && keymap[k] < (int)RP_AGG_TFUNC_KEYREF) {
        t->name = (apr_uint16_t)keymap[k];
        return 1;
    }
    if (!rp_agg_key_name(src, k, &kf, &kl, &kn)
        || (fo = rp_agg_slow_add_string(e, kf)) < 0
        || (no = rp_agg_slow_add_string(e, kn)) < 0)
        return 0;
    t->file = (apr_uint16_t)fo;
    t->name = (apr_uint16_t)no;
    return 1;
}

/* Keep a slow entry's first n functions and the edges among them, as a
 * write that ran out of room does. */
static void slow_cut(slowent_t *e, int n)
{
    int j, k = 0;
    e->nfuncs = n;
    e->truncated = 1;
    for (j = 0; j < e->nedges && j < RP_AGG_TREE_EDGES; j++)
        if (e->edges[j].caller < n && e->edges[j].callee < n)
            e->edges[k++] = e->edges[j];
    e->nedges = k;
}

void rp_agg_copy(rp_agg_t *dst, const rp_agg_t *src)
{
    stripe_t *d0 = stripe_at(dst, 0);
    int *colmap = calloc((size_t)src->ncols, sizeof(int));
    int *keymap = calloc((size_t)src->sz.nkeys, sizeof(int));
    urltab_t tfrom, tto;
    int used, i, st, c;

    if (!colmap || !keymap) {
        free(colmap);
        free(keymap);
        return;
    }
    dst->hdr->created = src->hdr->created;
    dst->hdr->reset = src->hdr->reset;
    dst->hdr->slow_next_id = src->hdr->slow_next_id;
    dst->hdr->keys_dropped = src->hdr->keys_dropped;
    used = (int)src->hdr->nvhosts_used;
    for (c = 0; c < src->ncols; c++)
        colmap[c] = c < used && c < src->sz.nvhosts && src->vhosts[c].ready
                    ? rp_agg_vhost(dst, src->vhosts[c].name) : -1;
    for (c = 0; c < src->ncols; c++)
        if (colmap[c] < 0)
            colmap[c] = dst->ncols - 1;
    used = (int)src->hdr->nkeys_used;
    for (i = 0; i < src->sz.nkeys; i++) {
        const keyname_t *k = &src->keys[i];
        keymap[i] = i < used && k->ready ? rp_agg_key(dst, k->file, k->line, k->name) : -1;
    }
    for (st = 0; st < RP_AGG_STRIPES; st++)
        copy_block(dst, d0, src, stripe_at(src, (unsigned)st), colmap, keymap, src->ncols);
    tfrom = rp_agg_main_urls(src);
    tto = rp_agg_main_urls(dst);
    copy_urls(&tto, &tfrom);
    /* The windows: slot for slot (the same minutes land in the same slots). */
    for (i = 0; i < RP_WIN_SLOTS; i++) {
        wslot_t *ws = wslot_at(src, i), *wd = wslot_at(dst, i);
        if (!ws->stamp || ws->stamp == RP_WIN_CLEARING)
            continue;           /* empty, or caught mid-clear: no minute */
        wd->stamp = ws->stamp;
        copy_block(dst, &wd->c, src, &ws->c, colmap, keymap, 1);
        tfrom = rp_agg_slot_urls(src, ws);
        tto = rp_agg_slot_urls(dst, wd);
        copy_urls(&tto, &tfrom);
    }
    for (i = 0, c = 0; i < src->sz.nslow && c < dst->sz.nslow; i++)
        if (src->slow[i].used && !(src->slow[i].seq & 1)) {
            slowent_t *e = &dst->slow[c++];
            int j;
            memcpy(e, &src->slow[i], sizeof(slowent_t));
            e->seq = 0;
            /* Functions named by a key: by the same key in dst. */
            for (j = 0; j < e->nfuncs && j < RP_AGG_TREE_FUNCS; j++)
                if (e->funcs[j].file == RP_AGG_TFUNC_KEYREF
                    && !rekey(e, &e->funcs[j], src, keymap)) {
                    slow_cut(e, j);
                    break;
                }
            /* Cut before its first function: nothing left to show, so
             * not listed (a listed entry must have a profile). */
            if (e->nfuncs < 1) {
                memset(e, 0, sizeof *e);
                c--;
            }
        }
    apr_atomic_inc32(&dst->hdr->slow_gen);      /* the ring's floor is void */
    free(colmap);
    free(keymap);
}
