/*
 * fuzz_agg.c - the status page's aggregates (lib/rp_agg.c, rp_agg_read.c):
 * random sequences of what requests, restarts and the page do to a region,
 * checked against a model kept here.
 *
 * Input: 4 bytes of sizes (functions, virtual hosts, URLs, slow entries,
 * all small so that tables fill up), 8 names (NUL-separated, cleaned to
 * UTF-8 as the glue cleans them; a flag byte makes some longer than any
 * field), then operations: record a request (a path, a virtual host index
 * valid or not, a wall time, a stripe, calls of known, unknown and
 * out-of-range functions), add a function or a virtual host name, offer a
 * slow request with a random call graph (up to 70 functions and 140
 * edges, long names; some functions named by their status-page key, as
 * the glue's rp_agg_slow_add_keyed does), let time pass, reset, read,
 * re-attach the region with the same sizes, or copy it into a fresh
 * region of other sizes (a restart that changed them). Each region is an
 * exactly sized allocation.
 *
 * After every read, and at the end: totals, the histogram (each request in
 * the first bucket whose bound it does not exceed), per-virtual-host and
 * per-function counts exactly as the model has them; calls of functions
 * the table has no room for counted as dropped; the URL rows and "(other)"
 * adding up to the totals, and, when nothing went to "(other)", each
 * path's row exactly; names cut on UTF-8 character boundaries; slow
 * requests: each offer placed by the ring's rule (an empty entry, else
 * the oldest stale one, else the fastest if slower, else refused, as
 * rp_agg_slow_wants said), rows as offered, slowest first, the slowest
 * offer kept while in the window, and each entry's profile read back as
 * the first functions and edges of what was offered, valid UTF-8, marked
 * truncated exactly when something was left out; percentiles within
 * [0, max] and growing with q. A copy keeps every total; a re-attach with
 * the same sizes keeps everything. Requests are profiled (rp_agg_record)
 * or only counted (rp_agg_count) with any status: "profiled" and the
 * status classes (total, per column, URL rows plus "(other)") exactly as
 * the model has them; every window (1, 4, 16 minutes) adds up within
 * itself (histogram, columns, URLs) and never holds more than the total.
 */
#include <math.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_agg.h"
#include "rp_window.h"
#include "rp_text.h"

#define NNAMES 8
#define MAX_OPS 300
#define MAX_COLS 5                  /* virtual hosts + "(other)" */
#define MAX_KEYS 8
#define MAX_PATHS 64
#define MAX_OFFERS (MAX_OPS + 16)  /* every offer and copied entry fits */
#define STRING_CUT 255              /* rp_agg.c: a slow entry's names */
#define NSHAPES 6                   /* request shapes, tags 1 .. NSHAPES */
#define SHAPE_FRAMES 24

/* ---------------------------------------------------------------- model */

typedef struct mkey {
    const char *file, *name;        /* as cut for the table */
    int line;
    uint64_t calls[MAX_COLS], tt[MAX_COLS], ct[MAX_COLS];
} mkey_t;

typedef struct moffer {
    uint64_t id, wall_ns;
    apr_time_t when;
    const char *method, *path, *vhost;
    int status;
    const rp_stats_t *st;
    const int *keys;                /* st's functions kept as key indexes
                                     * (-1: names copied), or NULL */
    int nf_w, trunc_w;              /* functions kept by the write, and
                                     * whether it was cut */
    int nf;                         /* ... and kept now (a copy into a
                                     * region that lacks a key may cut) */
    size_t used;                    /* bytes of the entry's string space */
} moffer_t;

typedef struct model {
    rp_agg_sizes_t sz;
    uint64_t requests, sum_ns, max_ns, hist[RP_AGG_NBUCKETS], dropped;
    uint64_t vreq[MAX_COLS], vns[MAX_COLS];
    uint64_t profiled;              /* requests given with their functions */
    uint64_t status[RP_AGG_NCLASS], vstatus[MAX_COLS][RP_AGG_NCLASS];
    int nvhosts;
    const char *vhosts[MAX_COLS];
    int nkeys;
    mkey_t keys[MAX_KEYS];
    int npaths;                     /* distinct paths since the last reset */
    const char *paths[MAX_PATHS];
    uint64_t pcount[MAX_PATHS];
    int paths_lost;                 /* more than MAX_PATHS: no exact rows */
    int noffers;                    /* slow requests offered and kept */
    moffer_t offers[MAX_OFFERS];
    int ncand;                      /* offers that may still be in the ring */
    moffer_t cand[MAX_OFFERS];
    apr_time_t now, created, reset;
} model_t;

/* rp_agg_copy_str's promise: at most cap - 1 bytes, never half a
 * character (the input is valid UTF-8). */
static const char *cut(apr_pool_t *p, const char *s, size_t cap)
{
    size_t n = strlen(s);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    return apr_pstrndup(p, s, n);
}

static int model_vhost(model_t *m, apr_pool_t *p, const char *name)
{
    const char *v = cut(p, name, RP_AGG_VHOST_LEN);
    int i;

    for (i = 0; i < m->nvhosts; i++)
        if (!strcmp(m->vhosts[i], v))
            return i;
    if (m->nvhosts == m->sz.nvhosts)
        return -1;
    m->vhosts[m->nvhosts] = v;
    return m->nvhosts++;
}

static int model_key(model_t *m, apr_pool_t *p, const char *file, int line,
                     const char *name)
{
    const char *f = cut(p, file, RP_AGG_KEY_FILE), *n = cut(p, name, RP_AGG_KEY_NAME);
    int i;

    for (i = 0; i < m->nkeys; i++)
        if (m->keys[i].line == line && !strcmp(m->keys[i].file, f)
            && !strcmp(m->keys[i].name, n))
            return i;
    if (m->nkeys == m->sz.nkeys)
        return -1;
    memset(&m->keys[m->nkeys], 0, sizeof m->keys[0]);
    m->keys[m->nkeys].file = f;
    m->keys[m->nkeys].name = n;
    m->keys[m->nkeys].line = line;
    return m->nkeys++;
}

static int bucket(uint64_t ns)
{
    int b;

    for (b = 0; b < RP_AGG_NBUCKETS - 1; b++)
        if ((double)ns <= rp_agg_bucket_le[b] * 1e9)
            break;
    return b;
}

static void model_path(model_t *m, apr_pool_t *p, const char *path, uint64_t count)
{
    const char *c = cut(p, path, RP_AGG_URL_LEN);
    int i;

    for (i = 0; i < m->npaths; i++)
        if (!strcmp(m->paths[i], c)) {
            m->pcount[i] += count;
            return;
        }
    if (m->npaths == MAX_PATHS) {
        m->paths_lost = 1;
        return;
    }
    m->paths[m->npaths] = c;
    m->pcount[m->npaths++] = count;
}

/* ------------------------------------------------------------- checking */

static void check_str(const char *s, size_t cap, const char *what)
{
    FUZZ_CHECK(s != NULL, "%s: NULL", what);
    FUZZ_CHECK(strlen(s) < cap, "%s: %zu bytes, cap %zu", what, strlen(s), cap);
    FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)s, strlen(s)), "%s: not UTF-8: '%s'",
               what, s);
}

static const moffer_t *find_offer(const model_t *m, uint64_t id)
{
    int i;

    for (i = 0; i < m->noffers; i++)
        if (m->offers[i].id == id)
            return &m->offers[i];
    return NULL;
}

/* One string into a slow entry's string space (rp_agg_slow_add_string:
 * cut to 254 bytes, NUL-terminated); 0 when it does not fit. */
static int model_string(moffer_t *o, apr_pool_t *p, const char *s)
{
    size_t n = strlen(cut(p, s, STRING_CUT)) + 1;
    if (o->used + n > RP_AGG_TREE_STRINGS)
        return 0;
    o->used += n;
    return 1;
}

/* What a write keeps of the offered profile: the first functions (at most
 * 64) whose names fit the entry's string space, a function kept as its
 * key's index taking none; of their caller edges to kept functions the
 * first 128. */
static void model_fill(moffer_t *o, apr_pool_t *p)
{
    const rp_stats_t *st = o->st;
    int i, j, nedges = 0;

    o->used = 0;
    o->nf_w = 0;
    o->trunc_w = 0;
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        if (i >= RP_AGG_TREE_FUNCS) {
            o->trunc_w = 1;
            break;
        }
        if (!(o->keys && o->keys[i] >= 0)
            && !(model_string(o, p, f->file) && model_string(o, p, f->name))) {
            o->trunc_w = 1;
            break;
        }
        o->nf_w++;
    }
    for (i = 0; i < o->nf_w; i++)
        for (j = 0; j < st->funcs[i].ncallers; j++) {
            int c = st->funcs[i].callers[j].caller;
            if (c >= 0 && c < o->nf_w && nedges++ >= RP_AGG_TREE_EDGES)
                o->trunc_w = 1;
        }
    o->nf = o->nf_w;
}

/* A copy into a region with other keys (kmap: old key -> new, -1 when
 * the new table has no room): a kept key index moves to the new key, or
 * the key's names are appended to the entry's strings; the first that
 * does not fit cuts the entry there (the file may have gone in). */
static void model_rekey(moffer_t *o, const int *kmap, int nold, apr_pool_t *p)
{
    int *k, j;

    if (!o->keys)
        return;
    k = apr_palloc(p, sizeof(int) * (size_t)o->st->nfuncs);
    for (j = 0; j < o->st->nfuncs; j++)
        k[j] = -1;
    for (j = 0; j < o->nf; j++) {
        const rp_func_t *f = &o->st->funcs[j];
        if (o->keys[j] < 0)
            continue;
        if (o->keys[j] < nold && kmap[o->keys[j]] >= 0) {
            k[j] = kmap[o->keys[j]];
            continue;
        }
        if (!model_string(o, p, f->file) || !model_string(o, p, f->name)) {
            o->nf = j;
            break;
        }
    }
    o->keys = k;
}

/* The profile of a slow entry, as model_fill and model_rekey say. */
static void check_slow_stats(const rp_agg_t *a, const moffer_t *o, apr_pool_t *p)
{
    const rp_stats_t *st = o->st;
    rp_agg_slowrow_t info;
    rp_stats_t *back = rp_agg_slow_stats(a, o->id, p, &info);
    int nf = o->nf, truncated = o->trunc_w || o->nf < o->nf_w, i, j, nedges = 0;

    FUZZ_CHECK(back != NULL, "slow entry %llu listed but not readable",
               (unsigned long long)o->id);
    FUZZ_CHECK(back->nfuncs == nf, "slow entry kept %d functions, expected %d",
               back->nfuncs, nf);
    FUZZ_CHECK(info.id == o->id && info.wall_ns == o->wall_ns && info.when == o->when
               && info.status == o->status && info.nfuncs == nf, "slow entry info");
    for (i = 0; i < nf; i++) {
        const rp_func_t *f = &back->funcs[i], *g = &st->funcs[i];
        int k = 0;

        check_str(f->file, STRING_CUT, "slow function file");
        check_str(f->name, STRING_CUT, "slow function name");
        FUZZ_CHECK(!strcmp(f->file, cut(p, g->file, STRING_CUT))
                   && !strcmp(f->name, cut(p, g->name, STRING_CUT)),
                   "slow function %d is '%s' '%s'", i, f->file, f->name);
        FUZZ_CHECK(f->line == g->line && f->cc == g->cc && f->nc == g->nc
                   && f->tt == g->tt && f->ct == g->ct, "slow function %d numbers", i);
        for (j = 0; j < g->ncallers; j++) {
            const rp_edge_t *e = &g->callers[j];
            /* The write kept the first 128 among its functions; a cut
             * since keeps those among the functions left. */
            if (e->caller < 0 || e->caller >= o->nf_w || nedges++ >= RP_AGG_TREE_EDGES
                || e->caller >= nf)
                continue;
            FUZZ_CHECK(k < f->ncallers, "slow function %d lost an edge", i);
            FUZZ_CHECK(f->callers[k].caller == e->caller && f->callers[k].nc == e->nc
                       && f->callers[k].cc == e->cc && f->callers[k].tt == e->tt
                       && f->callers[k].ct == e->ct, "slow edge %d of %d", k, i);
            k++;
        }
        FUZZ_CHECK(k == f->ncallers, "slow function %d has %d edges, expected %d", i,
                   f->ncallers, k);
    }
    FUZZ_CHECK(info.truncated == truncated, "truncated %d, expected %d", info.truncated,
               truncated);
}

static void check_snapshot(const rp_agg_t *a, const model_t *m, apr_pool_t *p)
{
    rp_agg_snap_t *s = rp_agg_read(a, p);
    uint64_t hsum = 0, vsum = 0, usum = 0, unsum = 0, best = 0;
    double q, last = 0;
    int i, c, ncols = m->sz.nvhosts + 1;

    FUZZ_CHECK(s->requests == m->requests, "requests %llu, model %llu",
               (unsigned long long)s->requests, (unsigned long long)m->requests);
    FUZZ_CHECK(s->sum_ns == m->sum_ns && s->max_ns == m->max_ns, "sum or max");
    FUZZ_CHECK(s->created == m->created, "created changed");
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        FUZZ_CHECK(s->hist[i] == m->hist[i], "bucket %d: %llu, model %llu", i,
                   (unsigned long long)s->hist[i], (unsigned long long)m->hist[i]);
        hsum += s->hist[i];
    }
    FUZZ_CHECK(hsum == s->requests, "histogram holds %llu of %llu",
               (unsigned long long)hsum, (unsigned long long)s->requests);
    FUZZ_CHECK(s->keys_dropped == m->dropped, "dropped %llu, model %llu",
               (unsigned long long)s->keys_dropped, (unsigned long long)m->dropped);

    FUZZ_CHECK(s->nvhosts == ncols, "%d columns", s->nvhosts);
    for (c = 0; c < ncols; c++) {
        FUZZ_CHECK(!strcmp(s->vhost_names[c], c < m->nvhosts ? m->vhosts[c] : "(other)"),
                   "column %d is '%s'", c, s->vhost_names[c]);
        check_str(s->vhost_names[c], RP_AGG_VHOST_LEN, "vhost");
        FUZZ_CHECK(s->vhost_requests[c] == m->vreq[c] && s->vhost_sum_ns[c] == m->vns[c],
                   "column %d: %llu requests, model %llu", c,
                   (unsigned long long)s->vhost_requests[c], (unsigned long long)m->vreq[c]);
        vsum += s->vhost_requests[c];
    }
    FUZZ_CHECK(vsum == s->requests, "columns hold %llu", (unsigned long long)vsum);
    FUZZ_CHECK(s->profiled == m->profiled, "profiled %llu, model %llu",
               (unsigned long long)s->profiled, (unsigned long long)m->profiled);
    for (i = 0; i < RP_AGG_NCLASS; i++) {
        uint64_t vs = 0, us = s->url_other_status[i];
        FUZZ_CHECK(s->status[i] == m->status[i], "class %d: %llu, model %llu", i,
                   (unsigned long long)s->status[i], (unsigned long long)m->status[i]);
        for (c = 0; c < ncols; c++) {
            FUZZ_CHECK(s->vhost_status[c * RP_AGG_NCLASS + i] == m->vstatus[c][i],
                       "column %d class %d", c, i);
            vs += s->vhost_status[c * RP_AGG_NCLASS + i];
        }
        for (c = 0; c < s->nurls; c++)
            us += s->urls[c].status[i];
        FUZZ_CHECK(vs == s->status[i] && us == s->status[i],
                   "class %d: columns %llu, URLs %llu, total %llu", i,
                   (unsigned long long)vs, (unsigned long long)us,
                   (unsigned long long)s->status[i]);
    }
    /* Any window adds up within itself and holds no more than the total. */
    for (c = 1; c <= RP_WIN_MAX; c *= 4) {
        rp_agg_snap_t *w = rp_agg_read_window(a, p, c, m->now);
        uint64_t wh = 0, wv = 0, wu = w->url_other_count, wc = 0;
        for (i = 0; i < RP_AGG_NBUCKETS; i++)
            wh += w->hist[i];
        for (i = 0; i < ncols; i++)
            wv += w->vhost_requests[i];
        for (i = 0; i < w->nurls; i++)
            wu += w->urls[i].count;
        for (i = 0; i < RP_AGG_NCLASS; i++)
            wc += w->status[i];
        FUZZ_CHECK(w->requests <= s->requests && w->profiled <= w->requests,
                   "window %d: %llu of %llu", c, (unsigned long long)w->requests,
                   (unsigned long long)s->requests);
        FUZZ_CHECK(wh == w->requests && wv == w->requests && wu == w->requests
                   && wc <= w->requests, "window %d does not add up", c);
    }

    FUZZ_CHECK(s->nkeys == m->nkeys, "%d functions, model %d", s->nkeys, m->nkeys);
    for (i = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        const mkey_t *mk = &m->keys[i];
        uint64_t calls = 0;

        check_str(k->file, RP_AGG_KEY_FILE, "function file");
        check_str(k->name, RP_AGG_KEY_NAME, "function name");
        FUZZ_CHECK(!strcmp(k->file, mk->file) && !strcmp(k->name, mk->name)
                   && k->line == mk->line, "function %d is %s:%d(%s)", i, k->file,
                   k->line, k->name);
        FUZZ_CHECK(k->phase == (!strcmp(k->file, "httpd") && k->line == 0), "phase flag");
        for (c = 0; c < ncols; c++) {
            FUZZ_CHECK(k->vcalls[c] == mk->calls[c] && k->vtt_ns[c] == mk->tt[c]
                       && k->vct_ns[c] == mk->ct[c], "function %d column %d", i, c);
            calls += k->vcalls[c];
        }
        FUZZ_CHECK(k->calls == calls, "function %d total", i);
    }

    FUZZ_CHECK(s->nurls >= 0 && s->nurls <= m->sz.nurls, "%d URL rows", s->nurls);
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = &s->urls[i];
        int j;

        check_str(u->path, RP_AGG_URL_LEN, "URL");
        FUZZ_CHECK(u->count >= 1 && u->max_ns <= s->max_ns && u->sum_ns >= u->max_ns,
                   "URL row '%s'", u->path);
        FUZZ_CHECK(i == 0 || s->urls[i - 1].count >= u->count, "URL rows not sorted");
        for (j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(s->urls[j].path, u->path) != 0, "URL '%s' twice", u->path);
        usum += u->count;
        unsum += u->sum_ns;
        /* Nothing ever went to "(other)": every path has its exact row. */
        if (s->url_other_count == 0 && !m->paths_lost) {
            for (j = 0; j < m->npaths && strcmp(m->paths[j], u->path); j++)
                ;
            FUZZ_CHECK(j < m->npaths && m->pcount[j] == u->count,
                       "URL '%s' counts %llu", u->path, (unsigned long long)u->count);
        }
    }
    FUZZ_CHECK(usum + s->url_other_count == s->requests
               && unsum + s->url_other_sum_ns == s->sum_ns,
               "URL rows %llu + other %llu != %llu", (unsigned long long)usum,
               (unsigned long long)s->url_other_count, (unsigned long long)s->requests);
    if (s->url_other_count == 0 && !m->paths_lost)
        FUZZ_CHECK(s->nurls == m->npaths, "%d URL rows for %d paths", s->nurls, m->npaths);

    FUZZ_CHECK(s->nslow >= 0 && s->nslow <= m->sz.nslow, "%d slow rows", s->nslow);
    for (i = 0; i < s->nslow; i++) {
        const rp_agg_slowrow_t *r = &s->slow[i];
        const moffer_t *o = find_offer(m, r->id);
        int j;

        FUZZ_CHECK(o != NULL, "slow row %llu was never offered", (unsigned long long)r->id);
        FUZZ_CHECK(i == 0 || s->slow[i - 1].wall_ns >= r->wall_ns, "slow rows not sorted");
        for (j = 0; j < i; j++)
            FUZZ_CHECK(s->slow[j].id != r->id, "slow id twice");
        check_str(r->method, 16, "method");
        check_str(r->path, RP_AGG_URL_LEN, "slow path");
        check_str(r->vhost, RP_AGG_VHOST_LEN, "slow vhost");
        FUZZ_CHECK(!strcmp(r->method, cut(p, o->method, 16))
                   && !strcmp(r->path, cut(p, o->path, RP_AGG_URL_LEN))
                   && !strcmp(r->vhost, cut(p, o->vhost, RP_AGG_VHOST_LEN))
                   && r->status == o->status && r->when == o->when
                   && r->wall_ns == o->wall_ns, "slow row %llu differs",
                   (unsigned long long)r->id);
        check_slow_stats(a, o, p);
    }
    /* The slowest offer can only give way once it is out of the window
     * (a slower one would be the slowest): while it is in, it is kept. */
    for (i = 0, c = -1; i < m->ncand; i++)
        if (m->cand[i].wall_ns > best) {
            best = m->cand[i].wall_ns;
            c = i;
        }
    if (c >= 0 && m->now - m->cand[c].when <= RP_AGG_SLOW_WINDOW)
        FUZZ_CHECK(s->nslow > 0 && s->slow[0].wall_ns == best,
                   "slowest request (%llu ns) not kept", (unsigned long long)best);
    FUZZ_CHECK(s->reset == m->reset, "reset time");

    FUZZ_CHECK(rp_agg_percentile(s, 0.5) == 0.0 || s->requests > 0, "percentile of none");
    for (q = 0.0; q <= 1.0; q += 0.125) {
        double v = rp_agg_percentile(s, q);
        FUZZ_CHECK(v >= 0 && v <= (double)s->max_ns / 1e9 && v >= last,
                   "percentile %g is %g (max %g, before %g)", q, v,
                   (double)s->max_ns / 1e9, last);
        last = v;
    }
}

/* ------------------------------------------------------------- driving */

typedef struct world {
    apr_pool_t *p;
    rp_agg_t *a;
    void *base;                     /* a's region */
    model_t m;
    const char *names[NNAMES];
    int keyidx[MAX_KEYS + 2];       /* indexes handed out, for recording */
    int nkeyidx;
    int vidx[MAX_COLS];
    int nvidx;
    rp_agg_batch_t *b;              /* batched recording into a */
    /* request shapes (rp_agg_shape_add), made when a tag is first used:
     * frames (functions local, depths), and each local function's key */
    struct {
        int made, n, nf;
        rp_prof_rec_t log[SHAPE_FRAMES];
        int fkey[6];
    } shape[NSHAPES];
} world_t;

/* What the batch holds goes to the region (the model counted it when it
 * was recorded): before every look at the region. */
static void settle(world_t *w)
{
    rp_agg_batch_flush(w->a, w->b, w->m.now);
    FUZZ_CHECK(!rp_agg_batch_pending(w->b), "batch pending after a flush");
}

static rp_agg_sizes_t sizes_from(fuzz_in_t *in)
{
    rp_agg_sizes_t sz;

    sz.nkeys = 1 + (int)(fuzz_byte(in) % MAX_KEYS);
    sz.nvhosts = 1 + (int)(fuzz_byte(in) % (MAX_COLS - 1));
    sz.nurls = 1 + (int)(fuzz_byte(in) % 12);
    sz.nslow = 1 + (int)(fuzz_byte(in) % 4);
    return sz;
}

static rp_agg_t *fresh(apr_pool_t *p, const rp_agg_sizes_t *sz, apr_time_t now,
                       void **base)
{
    apr_size_t n = rp_agg_size(sz);
    int reused = -1;
    rp_agg_t *a;

    /* One exactly sized allocation (apr_palloc is one malloc here). */
    *base = apr_pcalloc(p, n);
    a = rp_agg_attach(p, *base, n, sz, now, &reused);
    FUZZ_CHECK(a != NULL && reused == 0, "fresh region refused");
    FUZZ_CHECK(rp_agg_attach(p, apr_pcalloc(p, n - 1), n - 1, sz, now, &reused) == NULL,
               "region one byte short accepted");
    return a;
}

static void model_reset_counts(model_t *m)
{
    int i;

    m->requests = m->sum_ns = m->max_ns = m->dropped = m->profiled = 0;
    memset(m->status, 0, sizeof m->status);
    memset(m->vstatus, 0, sizeof m->vstatus);
    memset(m->hist, 0, sizeof m->hist);
    memset(m->vreq, 0, sizeof m->vreq);
    memset(m->vns, 0, sizeof m->vns);
    for (i = 0; i < m->nkeys; i++) {
        memset(m->keys[i].calls, 0, sizeof m->keys[i].calls);
        memset(m->keys[i].tt, 0, sizeof m->keys[i].tt);
        memset(m->keys[i].ct, 0, sizeof m->keys[i].ct);
    }
    m->npaths = 0;
    m->paths_lost = 0;
    m->ncand = 0;
}

/* Does a frame count its ticks as cumulative time: no frame of its
 * function is among the latest frames before it of each smaller depth
 * (cProfile's outermost call, for a log nested as rp_prof makes them). */
static int model_whole(const rp_prof_rec_t *log, int i)
{
    int d, j;
    for (d = 0; d < log[i].depth; d++)
        for (j = i - 1; j >= 0; j--)
            if (log[j].depth == d) {
                if (log[j].func == log[i].func)
                    return 0;
                break;
            }
    return 1;
}

/* Shape tag: its frames, made from the input when first used. Depths
 * nest (at most one deeper than the frame before) but now and then jump,
 * past RP_MAX_DEPTH too; keys are handed-out ones, none, uncounted or
 * out of range. */
static void shape_make(world_t *w, fuzz_in_t *in, int tag)
{
    int i, f;
    w->shape[tag].made = 1;
    w->shape[tag].n = 1 + (int)(fuzz_byte(in) % SHAPE_FRAMES);
    w->shape[tag].nf = 1 + (int)(fuzz_byte(in) % 6);
    memset(w->shape[tag].log, 0, sizeof w->shape[tag].log);
    for (i = 1; i < w->shape[tag].n; i++) {
        rp_prof_rec_t *r = &w->shape[tag].log[i];
        unsigned b = fuzz_byte(in);
        r->func = (int)(fuzz_byte(in) % (unsigned)w->shape[tag].nf);
        r->depth = (int16_t)((b & 0xC0) == 0xC0 ? b % 110
                             : 1 + b % (unsigned)(w->shape[tag].log[i - 1].depth + 1));
    }
    for (f = 0; f < w->shape[tag].nf; f++) {
        unsigned k = fuzz_byte(in);
        int *fk = &w->shape[tag].fkey[f];
        switch (k & 7) {
        case 4: *fk = RP_AGG_NO_KEY; break;
        case 5: *fk = RP_AGG_UNCOUNTED; break;
        case 6: *fk = w->m.sz.nkeys + (int)(k >> 3); break;
        case 7: *fk = -5; break;
        default: *fk = w->nkeyidx ? w->keyidx[(k >> 3) % (unsigned)w->nkeyidx]
                                  : RP_AGG_NO_KEY;
        }
    }
}

/* A profiled request recorded by its shape: its frames' times from the
 * input; calls gets what rp_agg_record would have been given (a call a
 * frame), for the model. Returns how many. */
static int record_shape(world_t *w, fuzz_in_t *in, const rp_agg_req_t *r,
                        rp_agg_call_t *calls)
{
    unsigned tb = fuzz_byte(in);
    int tag = (int)((tb & 0x7F) % NSHAPES), s, i, ok = 1, ncalls = 0, n;
    rp_prof_rec_t log[SHAPE_FRAMES];

    if (!w->shape[tag].made)
        shape_make(w, in, tag);
    memcpy(log, w->shape[tag].log, sizeof log);
    /* Frames nest as rp_prof makes them: each one's ticks are its own
     * (self, from the input) and its children's, a child being a later
     * frame whose latest frame one level up it is (none when the depths
     * jump). rp_agg takes self from the ticks (rp_agg_shape_add). */
    for (i = 0; i < w->shape[tag].n; i++) {
        log[i].self = (rp_tick_t)fuzz_byte(in) * 3;
        log[i].t0 = (rp_tick_t)fuzz_byte(in) << 4;
        log[i].t1 = log[i].self;                /* ticks so far */
        ok &= log[i].depth < RP_MAX_DEPTH;
    }
    for (i = w->shape[tag].n - 1; i >= 1; i--) {
        int j, d = log[i].depth;
        for (j = i - 1; j >= 0 && d > 0 && d < RP_MAX_DEPTH; j--)
            if (log[j].depth == d - 1) {
                log[j].t1 += log[i].t1;
                break;
            }
    }
    for (i = 0; i < w->shape[tag].n; i++)
        log[i].t1 += log[i].t0;
    s = rp_agg_shape_find(w->b, (uint64_t)tag + 1);
    if (s < 0)
        s = rp_agg_shape_add(w->a, w->b, (uint64_t)tag + 1, w->shape[tag].log,
                             w->shape[tag].n, w->shape[tag].fkey, w->shape[tag].nf, 1.0);
    FUZZ_CHECK((s >= 0) == ok, "shape %d taken %d, depths fit %d", tag, s >= 0, ok);
    FUZZ_CHECK(s < 0 || rp_agg_shape_find(w->b, (uint64_t)tag + 1) == s, "shape not found");
    /* Now and then a log one frame short: counted without functions. */
    n = (tb & 0x80) && w->shape[tag].n > 1 ? w->shape[tag].n - 1 : w->shape[tag].n;
    if (tb & 0x40) {
        /* The frames' ticks given, as the tree's keyed road gives them. */
        uint64_t tk[RP_AGG_SHAPE_MAX];
        for (i = 0; i < n; i++)
            tk[i] = log[i].t1 > log[i].t0 ? log[i].t1 - log[i].t0 : 0;
        rp_agg_record_shape_ticks(w->a, w->b, r, s, tk, n);
    }
    else
        rp_agg_record_shape(w->a, w->b, r, s, log, n);
    for (i = 0; s >= 0 && n == w->shape[tag].n && i < n; i++) {
        int k = w->shape[tag].fkey[log[i].func];
        if (k == RP_AGG_UNCOUNTED)
            continue;
        calls[ncalls].key = k;
        calls[ncalls].calls = 1;
        calls[ncalls].tt_ns = log[i].self;
        calls[ncalls].ct_ns = model_whole(log, i) && log[i].t1 > log[i].t0
                              ? log[i].t1 - log[i].t0 : 0;
        ncalls++;
    }
    return ncalls;
}

static void op_record(world_t *w, fuzz_in_t *in)
{
    model_t *m = &w->m;
    rp_agg_call_t calls[SHAPE_FRAMES];
    rp_agg_req_t r;
    static const int codes[8] = { 200, 404, 503, 301, 101, 0, 99, 600 };
    unsigned b = fuzz_byte(in), x = fuzz_byte(in);
    int ncalls = (int)(b >> 6), i, col, cls, profiled = !(x & 8);

    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = w->names[b & 7];
    /* Up to 16 paths under each name: more than a batch keeps
     * (RP_AGG_BATCH_URLS), so it sends its requests early. */
    if (x & 64)
        r.path = apr_psprintf(w->p, "%s/%u", r.path, fuzz_byte(in) & 15);
    r.vhost = "v";
    switch ((b >> 3) & 7) {
    case 0: r.vhost_idx = -1; break;
    case 1: r.vhost_idx = m->sz.nvhosts + (int)(fuzz_byte(in) % 3); break;
    case 2: r.vhost_idx = (int)(fuzz_byte(in) % (unsigned)m->sz.nvhosts); break;
    default: r.vhost_idx = w->nvidx ? w->vidx[fuzz_byte(in) % (unsigned)w->nvidx] : -1;
    }
    r.status = codes[x & 7];
    r.when = m->now;
    r.wall_ns = (uint64_t)(fuzz_byte(in) << 8 | fuzz_byte(in)) << (fuzz_byte(in) % 28);
    r.stripe = fuzz_byte(in) * 2654435761u;
    for (i = 0; i < ncalls; i++) {
        unsigned k = fuzz_byte(in);
        /* A handed-out index, or one no rp_agg_key() call can give. */
        if ((k & 3) == 3 || !w->nkeyidx)
            calls[i].key = (k & 4) ? -1 - (int)(k >> 3) : m->sz.nkeys + (int)(k >> 3);
        else
            calls[i].key = w->keyidx[(k >> 2) % (unsigned)w->nkeyidx];
        calls[i].calls = 1 + fuzz_byte(in);
        calls[i].tt_ns = fuzz_byte(in) * 1000u;
        calls[i].ct_ns = calls[i].tt_ns + fuzz_byte(in) * 1000u;
    }
    /* A request that was not profiled is counted without functions; a
     * profiled one at once or through the batch (ProfileStatusFlush). */
    if (profiled && (x & 16) && (x & 32))
        ncalls = record_shape(w, in, &r, calls);
    else if (profiled && (x & 16))
        rp_agg_record_batch(w->a, w->b, &r, calls, ncalls);
    else if (profiled)
        rp_agg_record(w->a, &r, calls, ncalls);
    else {
        rp_agg_count(w->a, &r);
        ncalls = 0;
    }

    col = r.vhost_idx >= 0 && r.vhost_idx < m->sz.nvhosts ? r.vhost_idx : m->sz.nvhosts;
    cls = r.status >= 100 && r.status <= 599 ? r.status / 100 - 1 : -1;
    FUZZ_CHECK(cls == rp_agg_class(r.status), "class of %d", r.status);
    if (cls >= 0) {
        m->status[cls]++;
        m->vstatus[col][cls]++;
    }
    m->profiled += (uint64_t)profiled;
    m->requests++;
    m->sum_ns += r.wall_ns;
    if (r.wall_ns > m->max_ns)
        m->max_ns = r.wall_ns;
    m->hist[bucket(r.wall_ns)]++;
    m->vreq[col]++;
    m->vns[col] += r.wall_ns;
    for (i = 0; i < ncalls; i++) {
        if (calls[i].key < 0 || calls[i].key >= m->sz.nkeys) {
            m->dropped += calls[i].calls;
            continue;
        }
        FUZZ_CHECK(calls[i].key < m->nkeys, "key %d never handed out", calls[i].key);
        m->keys[calls[i].key].calls[col] += calls[i].calls;
        m->keys[calls[i].key].tt[col] += calls[i].tt_ns;
        m->keys[calls[i].key].ct[col] += calls[i].ct_ns;
    }
    model_path(m, w->p, r.path, 1);
}

static void op_key(world_t *w, fuzz_in_t *in)
{
    unsigned b = fuzz_byte(in);
    const char *file = (b & 8) ? "httpd" : w->names[b & 7];
    int line = (int)(b >> 4) % 3;
    const char *name = w->names[(b >> 2) & 7];
    int want = model_key(&w->m, w->p, file, line, name);
    int got = rp_agg_key(w->a, file, line, name);

    FUZZ_CHECK(got == want, "key %s:%d(%s) is %d, model %d", file, line, name, got, want);
    if (got >= 0 && w->nkeyidx < (int)(sizeof w->keyidx / sizeof w->keyidx[0]))
        w->keyidx[w->nkeyidx++] = got;
}

static void op_vhost(world_t *w, fuzz_in_t *in)
{
    const char *name = w->names[fuzz_byte(in) & 7];
    int want = model_vhost(&w->m, w->p, name), got = rp_agg_vhost(w->a, name);

    FUZZ_CHECK(got == want, "vhost '%s' is %d, model %d", name, got, want);
    if (got >= 0 && w->nvidx < MAX_COLS)
        w->vidx[w->nvidx++] = got;
}

static rp_stats_t *random_profile(world_t *w, fuzz_in_t *in)
{
    rp_stats_t *st = apr_pcalloc(w->p, sizeof *st);
    unsigned b = fuzz_byte(in);
    int i, j;

    st->nfuncs = (b & 1) ? 1 + (int)(b >> 1) % 70 : 1 + (int)(b >> 1) % 6;
    st->funcs = apr_pcalloc(w->p, sizeof(rp_func_t) * (size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];
        unsigned c = fuzz_byte(in);

        f->file = w->names[c & 7];
        f->name = w->names[(c >> 3) & 7];
        f->line = i;
        f->nc = 1 + (c >> 6);
        f->cc = 1;
        f->tt = c * 1e-6;
        f->ct = f->tt * 2;
        if (i > 0) {
            f->ncallers = 1 + (int)((c >> 6) & 1);
            f->callers = apr_pcalloc(w->p, sizeof(rp_edge_t) * 2);
            for (j = 0; j < f->ncallers; j++) {
                /* Earlier functions, sometimes later or dangling ones. */
                if (c & 0x20)
                    f->callers[j].caller
                        = (int)(fuzz_byte(in) % (unsigned)(st->nfuncs + 2)) - 1;
                else
                    f->callers[j].caller = (i - 1 - j + i) % i;
                f->callers[j].nc = f->nc;
                f->callers[j].cc = 1;
                f->callers[j].tt = f->tt;
                f->callers[j].ct = f->ct;
            }
        }
    }
    return st;
}

/* README's rule: a finished request takes an empty entry, else the
 * oldest entry older than 10 minutes, else the fastest entry if it is
 * slower than that one. */
static void check_ring_policy(const rp_agg_snap_t *before, const rp_agg_snap_t *after,
                              uint64_t id, uint64_t wall_ns, apr_time_t now)
{
    const rp_agg_slowrow_t *gone = NULL, *stale = NULL, *fastest = NULL;
    int i, j;

    for (i = 0; i < before->nslow; i++) {
        const rp_agg_slowrow_t *r = &before->slow[i];
        for (j = 0; j < after->nslow && after->slow[j].id != r->id; j++)
            ;
        if (j == after->nslow) {
            FUZZ_CHECK(gone == NULL, "two slow entries replaced at once");
            gone = r;
        }
        if (now - r->when > RP_AGG_SLOW_WINDOW && (!stale || r->when < stale->when))
            stale = r;
        if (!fastest || r->wall_ns < fastest->wall_ns)
            fastest = r;
    }
    if (before->nslow < before->sizes.nslow) {
        FUZZ_CHECK(id != 0 && gone == NULL && after->nslow == before->nslow + 1,
                   "an empty entry was not taken");
    }
    else if (stale) {
        FUZZ_CHECK(id != 0 && gone && gone->when == stale->when,
                   "the oldest stale entry was not the one replaced");
    }
    else if (fastest->wall_ns < wall_ns) {
        FUZZ_CHECK(id != 0 && gone && gone->wall_ns == fastest->wall_ns,
                   "the fastest entry was not the one replaced");
    }
    else {
        FUZZ_CHECK(id == 0 && gone == NULL, "a request no slower than all was kept");
    }
}

static void op_slow(world_t *w, fuzz_in_t *in)
{
    model_t *m = &w->m;
    unsigned b = fuzz_byte(in);
    rp_agg_req_t r;
    rp_stats_t *st = random_profile(w, in);
    rp_agg_snap_t *before, *after;
    int wants, *keys = NULL;
    uint64_t id, next = 0;
    int i;

    memset(&r, 0, sizeof r);
    r.method = (b & 1) ? "PROPPATCH-EXTENDED-METHOD" : "GET";
    r.path = w->names[(b >> 1) & 7];
    r.vhost = w->names[(b >> 4) & 7];
    r.vhost_idx = -1;
    r.status = 200 + (int)(b & 0x3f);
    r.when = m->now - (apr_time_t)(fuzz_byte(in) % 16) * apr_time_from_sec(60);
    r.wall_ns = 1 + ((uint64_t)(fuzz_byte(in) << 8 | fuzz_byte(in)) << (fuzz_byte(in) % 24));
    if (fuzz_byte(in) & 1) {
        /* As the glue does: a function whose key holds its names whole
         * is kept as the key's index (read back through the key table,
         * and remapped by op_copy), the others as copies. */
        unsigned mix = fuzz_byte(in);
        keys = apr_palloc(w->p, sizeof(int) * (size_t)st->nfuncs);
        for (i = 0; i < st->nfuncs; i++) {
            const rp_func_t *f = &st->funcs[i];
            int want = model_key(m, w->p, f->file, f->line, f->name);
            keys[i] = rp_agg_key(w->a, f->file, f->line, f->name);
            FUZZ_CHECK(keys[i] == want, "key of slow function %d is %d, model %d",
                       i, keys[i], want);
            if (strlen(f->file) >= RP_AGG_KEY_FILE || strlen(f->name) >= RP_AGG_KEY_NAME
                || (mix >> (i & 7) & 1))
                keys[i] = -1;
        }
    }
    before = rp_agg_read(w->a, w->p);
    wants = rp_agg_slow_wants(w->a, r.wall_ns, m->now);
    id = rp_agg_slow_add_keyed(w->a, &r, st, keys, m->now);
    after = rp_agg_read(w->a, w->p);
    /* Single-threaded, no entry is ever busy: kept exactly when wanted. */
    FUZZ_CHECK((id != 0) == (wants != 0), "slow_add %llu but wants %d",
               (unsigned long long)id, wants);
    for (i = 0; i < m->noffers; i++)
        if (m->offers[i].id >= next)
            next = m->offers[i].id + 1;
    FUZZ_CHECK(id == 0 || id >= next, "slow id %llu not increasing", (unsigned long long)id);
    check_ring_policy(before, after, id, r.wall_ns, m->now);
    if (id) {
        moffer_t *o = &m->offers[m->noffers++];
        o->id = id;
        o->wall_ns = r.wall_ns;
        o->when = r.when;
        o->method = r.method;
        o->path = r.path;
        o->vhost = r.vhost;
        o->status = r.status;
        o->st = st;
        o->keys = keys;
        model_fill(o, w->p);
    }
    m->cand[m->ncand].wall_ns = r.wall_ns;
    m->cand[m->ncand++].when = r.when;
}

/* A restart that changed the sizes: a fresh region, the current
 * generation's names added first (as the glue does), the old counts
 * copied in. The model moves its counts by name the same way. */
static void op_copy(world_t *w, fuzz_in_t *in)
{
    model_t old, *m = &w->m;
    rp_agg_sizes_t sz;
    void *base;
    rp_agg_t *dst;
    unsigned pre;
    int vmap[MAX_COLS], kmap[MAX_KEYS], i, c;
    rp_agg_snap_t *s;

    settle(w);
    old = w->m;
    sz = sizes_from(in);
    dst = fresh(w->p, &sz, m->now, &base);
    pre = fuzz_byte(in);
    memset(m, 0, sizeof *m);
    m->sz = sz;
    m->now = old.now;
    m->created = old.created;
    m->reset = old.reset;
    w->nkeyidx = w->nvidx = 0;
    if (pre & 1) {
        const char *v = w->names[pre >> 5];
        FUZZ_CHECK(rp_agg_vhost(dst, v) == model_vhost(m, w->p, v), "pre-copy vhost");
    }
    if (pre & 2) {
        const char *n = w->names[(pre >> 2) & 7];
        FUZZ_CHECK(rp_agg_key(dst, "mod_new.c", 1, n) == model_key(m, w->p, "mod_new.c", 1, n),
                   "pre-copy key");
    }
    rp_agg_copy(dst, w->a);

    for (c = 0; c <= old.sz.nvhosts; c++) {
        vmap[c] = c < old.nvhosts ? model_vhost(m, w->p, old.vhosts[c]) : -1;
        if (vmap[c] < 0)
            vmap[c] = m->sz.nvhosts;
    }
    for (i = 0; i < old.nkeys; i++)
        kmap[i] = model_key(m, w->p, old.keys[i].file, old.keys[i].line, old.keys[i].name);
    m->requests = old.requests;
    m->sum_ns = old.sum_ns;
    m->max_ns = old.max_ns;
    memcpy(m->hist, old.hist, sizeof m->hist);
    m->dropped = old.dropped;
    m->profiled = old.profiled;
    memcpy(m->status, old.status, sizeof m->status);
    for (c = 0; c <= old.sz.nvhosts; c++) {
        m->vreq[vmap[c]] += old.vreq[c];
        m->vns[vmap[c]] += old.vns[c];
        for (i = 0; i < RP_AGG_NCLASS; i++)
            m->vstatus[vmap[c]][i] += old.vstatus[c][i];
    }
    for (i = 0; i < old.nkeys; i++)
        for (c = 0; c <= old.sz.nvhosts; c++) {
            if (kmap[i] < 0) {
                /* No room in the new table: counted as dropped. */
                m->dropped += old.keys[i].calls[c];
                continue;
            }
            m->keys[kmap[i]].calls[vmap[c]] += old.keys[i].calls[c];
            m->keys[kmap[i]].tt[vmap[c]] += old.keys[i].tt[c];
            m->keys[kmap[i]].ct[vmap[c]] += old.keys[i].ct[c];
        }
    for (i = 0; i < old.npaths; i++)
        model_path(m, w->p, old.paths[i], old.pcount[i]);
    m->paths_lost = old.paths_lost;
    m->noffers = old.noffers;
    memcpy(m->offers, old.offers, sizeof m->offers);
    for (i = 0; i < m->noffers; i++)
        model_rekey(&m->offers[i], kmap, old.nkeys, w->p);
    /* The ring keeps as many entries as fit, not necessarily the slowest:
     * the candidates for "slowest kept" start again from what it holds. */
    s = rp_agg_read(dst, w->p);
    for (i = 0; i < s->nslow && i < MAX_OFFERS; i++) {
        m->cand[m->ncand].wall_ns = s->slow[i].wall_ns;
        m->cand[m->ncand++].when = s->slow[i].when;
    }
    FUZZ_CHECK(s->nslow <= sz.nslow, "copied %d slow entries into %d", s->nslow, sz.nslow);
    for (i = 0; i < m->nkeys; i++)
        w->keyidx[w->nkeyidx++] = i;
    for (i = 0; i < m->nvhosts; i++)
        w->vidx[w->nvidx++] = i;
    w->a = dst;
    w->base = base;
    w->b = rp_agg_batch_create(dst, w->p);
    /* Its keys are numbered anew: the shapes are described again. */
    for (i = 0; i < NSHAPES; i++)
        w->shape[i].made = 0;
    check_snapshot(w->a, m, w->p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    world_t w;
    unsigned longer;
    int i, ops, reads = 0;

    memset(&w, 0, sizeof w);
    w.p = p;
    w.m.sz = sizes_from(&in);
    longer = fuzz_byte(&in);
    for (i = 0; i < NNAMES; i++) {
        const char *raw = fuzz_str(&in, p);
        /* Some names longer than any field: repeated up to ~300 bytes. */
        if ((longer >> i) & 1 && raw[0]) {
            const char *s = raw;
            while (strlen(s) < 300)
                s = apr_pstrcat(p, s, raw, NULL);
            raw = s;
        }
        w.names[i] = rp_utf8_clean(p, raw, 600);
    }
    w.m.now = apr_time_from_sec(1700000000);
    w.m.created = w.m.now;
    w.a = fresh(p, &w.m.sz, w.m.now, &w.base);
    w.b = rp_agg_batch_create(w.a, p);

    for (ops = 0; in.n > 0 && ops < MAX_OPS; ops++) {
        unsigned op = fuzz_byte(&in);

        switch (op % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5:
            op_record(&w, &in);
            break;
        case 6: case 7:
            op_key(&w, &in);
            break;
        case 8:
            op_vhost(&w, &in);
            break;
        case 9: case 10:
            op_slow(&w, &in);
            break;
        case 11:
            w.m.now += (apr_time_t)fuzz_byte(&in) * apr_time_from_sec(10);
            break;
        case 12:
            w.m.now += apr_time_from_sec(1);
            rp_agg_reset(w.a, w.m.now);
            model_reset_counts(&w.m);
            w.m.reset = w.m.now;
            break;
        case 13:
            if (reads++ < 16) {
                settle(&w);
                check_snapshot(w.a, &w.m, p);
            }
            break;
        case 14: {
            /* The next generation with the same sizes takes the region as
             * it is (a graceful restart). */
            int reused = 0;
            rp_agg_t *b = rp_agg_attach(p, w.base, rp_agg_size(&w.m.sz), &w.m.sz,
                                        w.m.now + 1, &reused);
            FUZZ_CHECK(b != NULL && reused == 1, "same sizes not reused");
            w.a = b;
            break;
        }
        default:
            if (reads++ < 16)
                op_copy(&w, &in);
            break;
        }
    }
    settle(&w);
    check_snapshot(w.a, &w.m, p);
    fuzz_done(p);
    return 0;
}
