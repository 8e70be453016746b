/*
 * fuzz_tree.c - the aggregate call tree (lib/rp_tree.c, rp_tree_out.c):
 * random request timelines folded and recorded into a small region, time
 * passing by whole minutes, re-attaches, and reads, checked against a
 * model kept here.
 *
 * Input: 1 byte of sizes (nodes 256..1279 in steps, 1..3 virtual hosts),
 * then operations: record a request (a virtual host, a timeline of up to
 * 40 properly nested frames drawn from 12 functions, one of them unnamed,
 * with random durations, or the last one's shape again with its times
 * scaled; plainly or through a batching path cache, as ProfileStatusFlush
 * does, from the records by a keyed path when the shape repeats (asking
 * for the records, or as the glue not: a hit then only sums ticks), flushed
 * before every read), let minutes pass,
 * re-attach the region, read.
 *
 * Checked: the fold against a path-by-path model of the timeline (calls
 * and cumulative time per path, self = cumulative less the children's);
 * after every read: the root's calls and time since start and in each
 * window exactly as the model has them (requests of the last N minutes,
 * the current one included, slots reused after 61 minutes); the sum of
 * self times equals the root's time and each node's cumulative time its
 * self plus its children's, whether or not the table overflowed; while
 * nothing went to "(other)", every path exactly as the model has it;
 * the pstats view (root calls, sum of tt, edges adding up to the calls);
 * the folded stacks within rounding of the total; a later-minus-earlier
 * read holding exactly what was recorded between them; a re-attach
 * keeping everything.
 */
#include <apr_hash.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_tree.h"
#include "rp_tree_out.h"

#define NFUNCS 12
#define MAX_EV 40
#define MAX_REQ 200
#define MINUTE ((apr_time_t)60 * APR_USEC_PER_SEC)

typedef struct req {
    apr_uint32_t minute;
    uint64_t ns;            /* root cumulative */
} req_t;

typedef struct world {
    apr_pool_t *p;
    rp_tree_sizes_t sz;
    void *base;
    apr_size_t size;
    rp_tree_t *t;
    int funcs[NFUNCS];
    apr_time_t now;
    req_t reqs[MAX_REQ];
    int nreq;
    apr_hash_t *paths;      /* "v/f.f.f" -> uint64_t[3] calls, self, cum */
    rp_tree_cache_t *cache; /* batching: its sums reach the region at a flush */
    rp_tree_ev_t last[MAX_EV];  /* the last timeline, to repeat its shape */
    int nlast;
} world_t;

/* The timeline as rp_prof_log_shape gives the records: a named
 * function's number is its id (here its tree function), an unnamed one's
 * -1 - its local function (local functions in order of first use, the
 * root local 0); self = duration less the children's. Returns whether
 * the glue would key it: no unnamed function but the root. */
static int make_log(const rp_tree_ev_t *ev, int n, rp_prof_rec_t *log)
{
    int at[MAX_EV + 1], ids[MAX_EV], i, j, keyable = 1, nf = 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < nf && (i == 0 || j == 0 || ids[j] != ev[i].func); j++)
            ;
        if (j == nf) {
            ids[j] = i == 0 ? -1 : ev[i].func;
            (nf)++;
        }
        if (i > 0 && ev[i].func < 0)
            keyable = 0;
        log[i].func = ids[j] >= 0 ? ids[j] : -1 - j;
        log[i].depth = (int16_t)ev[i].depth;
        log[i].acct = 0;
        log[i].t0 = ev[i].t0;
        log[i].t1 = ev[i].t1;
        log[i].self = ev[i].t1 - ev[i].t0;
        at[ev[i].depth] = i;
        if (ev[i].depth > 0)
            log[at[ev[i].depth - 1]].self -= ev[i].t1 - ev[i].t0;
    }
    return keyable;
}

/* What the cache holds goes to the region: before every look at it. */
static void settle(world_t *w)
{
    rp_tree_cache_flush(w->cache, w->now);
    FUZZ_CHECK(!rp_tree_cache_pending(w->cache), "cache pending after a flush");
}

static void model_add(world_t *w, const char *key, uint64_t calls, uint64_t self,
                      uint64_t cum)
{
    uint64_t *c = apr_hash_get(w->paths, key, APR_HASH_KEY_STRING);
    if (!c) {
        c = apr_pcalloc(w->p, 3 * sizeof *c);
        apr_hash_set(w->paths, apr_pstrdup(w->p, key), APR_HASH_KEY_STRING, c);
    }
    c[0] += calls;
    c[1] += self;
    c[2] += cum;
}

/* A nested timeline: each frame lies within its parent. */
static int timeline(fuzz_in_t *in, world_t *w, rp_tree_ev_t *ev)
{
    uint64_t end[MAX_EV + 1], cursor[MAX_EV + 1];
    int n = 1, depth = 0, want = 1 + (int)(fuzz_byte(in) % MAX_EV);

    ev[0].func = 0;
    ev[0].depth = 0;
    ev[0].t0 = 0;
    ev[0].t1 = 1000 + fuzz_byte(in) * 1000;
    end[0] = ev[0].t1;
    cursor[0] = 0;
    while (n < want && in->n > 0) {
        unsigned b = fuzz_byte(in);
        int d = (int)(b % (unsigned)(depth + 2));     /* 1 .. depth + 1 */
        uint64_t room, len, start;
        if (d == 0)
            d = 1;
        depth = d;
        room = end[d - 1] > cursor[d - 1] ? end[d - 1] - cursor[d - 1] : 0;
        start = cursor[d - 1] + (room ? fuzz_byte(in) % (room / 4 + 1) : 0);
        room = end[d - 1] > start ? end[d - 1] - start : 0;
        len = room ? (uint64_t)fuzz_byte(in) * room / 255 : 0;
        ev[n].func = w->funcs[1 + fuzz_byte(in) % (NFUNCS - 1)];
        ev[n].depth = d;
        ev[n].t0 = start;
        ev[n].t1 = start + len;
        cursor[d - 1] = start + len;
        cursor[d] = start;
        end[d] = start + len;
        n++;
    }
    return n;
}

static const char *path_key(world_t *w, const rp_tree_rec_t *rec, int i, int vhost)
{
    const char *k = "";
    for (; i > 0; i = rec[i].parent)
        k = apr_psprintf(w->p, ".%d%s", rec[i].func, k);
    return apr_psprintf(w->p, "%d/0%s", vhost, k);
}

static void record(fuzz_in_t *in, world_t *w)
{
    rp_tree_ev_t ev[MAX_EV];
    rp_tree_rec_t rec[MAX_EV];
    int work[5 * MAX_EV], n, nrec, i, b = fuzz_byte(in), v = (int)(b % (unsigned)w->sz.nvhosts);
    apr_hash_t *want = apr_hash_make(w->p);
    uint64_t sum_calls = 0;

    if (w->nreq >= MAX_REQ)
        return;
    if ((b & 0x40) && w->nlast) {
        /* The last shape again, every time scaled: the keyed road. */
        uint64_t k = 1 + fuzz_byte(in) % 4;
        n = w->nlast;
        for (i = 0; i < n; i++) {
            ev[i] = w->last[i];
            ev[i].t0 *= k;
            ev[i].t1 *= k;
        }
    }
    else {
        /* Kept as drawn: a repeat scales these, never a scaled copy. */
        n = timeline(in, w, ev);
        memcpy(w->last, ev, sizeof(rp_tree_ev_t) * (size_t)n);
        w->nlast = n;
    }
    nrec = rp_tree_fold(ev, n, 1.0, rec, work);
    FUZZ_CHECK(nrec >= 1 && nrec <= n, "fold gave %d of %d", nrec, n);
    /* The fold against the timeline, path by path. */
    {
        const char *stack[MAX_EV + 1];
        for (i = 0; i < n; i++) {
            uint64_t *c;
            stack[ev[i].depth] = ev[i].depth ? apr_psprintf(w->p, "%s.%d",
                                                            stack[ev[i].depth - 1],
                                                            ev[i].func)
                                             : "0";
            c = apr_hash_get(want, stack[ev[i].depth], APR_HASH_KEY_STRING);
            if (!c) {
                c = apr_pcalloc(w->p, 2 * sizeof *c);
                apr_hash_set(want, stack[ev[i].depth], APR_HASH_KEY_STRING, c);
            }
            c[0]++;
            c[1] += ev[i].t1 - ev[i].t0;
        }
    }
    FUZZ_CHECK(apr_hash_count(want) == (unsigned)nrec, "%u paths, %d records",
               apr_hash_count(want), nrec);
    for (i = 0; i < nrec; i++) {
        const char *k = path_key(w, rec, i, v) + 2;     /* without "v/" */
        uint64_t *c = apr_hash_get(want, k, APR_HASH_KEY_STRING), kids = 0;
        int j;
        FUZZ_CHECK(c != NULL, "record %d has no path %s", i, k);
        FUZZ_CHECK(rec[i].calls == c[0] && rec[i].cum_ns == c[1],
                   "path %s: %llu/%llu vs %llu/%llu", k, (unsigned long long)rec[i].calls,
                   (unsigned long long)rec[i].cum_ns, (unsigned long long)c[0],
                   (unsigned long long)c[1]);
        FUZZ_CHECK(i == 0 || (rec[i].parent >= 0 && rec[i].parent < i), "parent order");
        for (j = i + 1; j < nrec; j++)
            if (rec[j].parent == i)
                kids += rec[j].cum_ns;
        /* Nested times: children never add up to more than the parent. */
        FUZZ_CHECK(kids <= rec[i].cum_ns && rec[i].self_ns == rec[i].cum_ns - kids,
                   "self of %s", k);
        sum_calls += rec[i].calls;
    }
    FUZZ_CHECK(sum_calls == (uint64_t)n, "calls %llu of %d frames",
               (unsigned long long)sum_calls, n);
    if (b & 0x80) {
        /* As the glue does: the keyed road from the records when the
         * last request of this shape keyed its path, else the events'
         * road, keying what it cached. */
        rp_tree_rec_t rec2[MAX_EV];
        rp_prof_rec_t log[MAX_EV];
        int keyable = make_log(ev, n, log);
        /* 0x20: no records asked for, as the glue asks: a batched hit
         * only sums ticks, which the model checks at the flushes. */
        int asked = !(b & 0x20);
        int nrec2 = rp_tree_record_log(w->t, w->cache, v, log, n, 1.0, w->now,
                                       asked ? rec2 : NULL);
        int nt;
        const uint64_t *tk = rp_tree_cache_ticks(w->cache, &nt);
        /* Ticks only from a batched keyed hit without records: each
         * event's, in log order. */
        FUZZ_CHECK(!tk || (nrec2 >= 0 && !asked && nt == n), "ticks given: %d of %d", nt, n);
        for (i = 0; tk && i < n; i++)
            FUZZ_CHECK(tk[i] == (log[i].t1 > log[i].t0 ? log[i].t1 - log[i].t0 : 0),
                       "ticks of event %d", i);
        if (nrec2 < 0) {
            asked = 1;
            nrec2 = rp_tree_record_events(w->t, w->cache, v, ev, n, 1.0, w->now, rec2, work);
            if (keyable)
                rp_tree_cache_key(w->cache, w->t, v, ev, log, n);
        }
        FUZZ_CHECK(nrec2 == nrec, "cached %d records, folded %d", nrec2, nrec);
        for (i = 0; i < nrec && asked; i++)
            FUZZ_CHECK(rec2[i].parent == rec[i].parent && rec2[i].func == rec[i].func
                       && rec2[i].calls == rec[i].calls && rec2[i].self_ns == rec[i].self_ns
                       && rec2[i].cum_ns == rec[i].cum_ns, "cached record %d", i);
    }
    else
        rp_tree_record(w->t, v, rec, nrec, w->now, work);
    for (i = 0; i < nrec; i++)
        model_add(w, path_key(w, rec, i, v), rec[i].calls, rec[i].self_ns, rec[i].cum_ns);
    w->reqs[w->nreq].minute = rp_win_minute(w->now);
    w->reqs[w->nreq].ns = rec[0].cum_ns;
    w->nreq++;
}

static void check_tree(world_t *w, const rp_tree_snap_t *s, uint64_t want_calls,
                       uint64_t want_ns, const char *what)
{
    uint64_t self = 0;
    int i, j;
    (void)w;
    if (want_calls == 0) {
        FUZZ_CHECK(s->nnodes == 0, "%s: %d nodes, nothing recorded", what, s->nnodes);
        return;
    }
    FUZZ_CHECK(s->nnodes >= 1 && s->nodes[0].calls == want_calls
               && s->nodes[0].cum_ns == want_ns, "%s: root %llu/%llu, want %llu/%llu",
               what, (unsigned long long)(s->nnodes ? s->nodes[0].calls : 0),
               (unsigned long long)(s->nnodes ? s->nodes[0].cum_ns : 0),
               (unsigned long long)want_calls, (unsigned long long)want_ns);
    for (i = 0; i < s->nnodes; i++) {
        uint64_t kids = 0;
        self += s->nodes[i].self_ns;
        for (j = i + 1; j < s->nnodes; j++)
            if (s->nodes[j].parent == i)
                kids += s->nodes[j].cum_ns;
        FUZZ_CHECK(s->nodes[i].self_ns + kids == s->nodes[i].cum_ns,
                   "%s: node %d: self %llu + kids %llu != cum %llu", what, i,
                   (unsigned long long)s->nodes[i].self_ns, (unsigned long long)kids,
                   (unsigned long long)s->nodes[i].cum_ns);
    }
    FUZZ_CHECK(self == want_ns, "%s: self sum %llu != %llu", what,
               (unsigned long long)self, (unsigned long long)want_ns);
}

static void check_exact(world_t *w, int vhost)
{
    rp_tree_snap_t *s = rp_tree_snap(w->t, rp_tree_counts(w->t, w->p, 0, w->now), vhost,
                                     w->p);
    int i, found = 0;
    for (i = 0; i < s->nnodes; i++)
        if (s->nodes[i].func == RP_TREE_FUNC_OTHER)
            return;             /* overflowed: paths no longer exact */
    if (s->lost_calls)
        return;
    for (i = 0; i < s->nnodes; i++) {
        const char *k = apr_psprintf(w->p, "%d/%s", vhost, rp_tree_path(s, i, w->p));
        uint64_t *c = apr_hash_get(w->paths, k, APR_HASH_KEY_STRING);
        FUZZ_CHECK(c && c[0] == s->nodes[i].calls && c[1] == s->nodes[i].self_ns
                   && c[2] == s->nodes[i].cum_ns, "path %s differs from the model", k);
        FUZZ_CHECK(rp_tree_find(s, rp_tree_path(s, i, w->p)) == i, "find %s", k);
        found++;
    }
    {
        apr_hash_index_t *hi;
        int want = 0;
        char prefix[8];
        snprintf(prefix, sizeof prefix, "%d/", vhost);
        for (hi = apr_hash_first(w->p, w->paths); hi; hi = apr_hash_next(hi)) {
            const char *k = apr_hash_this_key(hi);
            if (!strncmp(k, prefix, strlen(prefix)))
                want++;
        }
        FUZZ_CHECK(want == found, "vhost %d: %d paths, model %d", vhost, found, want);
    }
}

static void read_all(world_t *w)
{
    static const int wins[] = { 0, 1, 5, 15, 60 };
    apr_uint32_t m = rp_win_minute(w->now);
    int k, i, v;

    settle(w);
    for (k = 0; k < 5; k++) {
        uint64_t calls = 0, ns = 0;
        rp_tree_snap_t *s;
        for (i = 0; i < w->nreq; i++)
            if (!wins[k] || rp_win_in(w->reqs[i].minute, m, wins[k])) {
                calls++;
                ns += w->reqs[i].ns;
            }
        s = rp_tree_snap(w->t, rp_tree_counts(w->t, w->p, wins[k], w->now), -1, w->p);
        check_tree(w, s, calls, ns, apr_psprintf(w->p, "window %d", wins[k]));
        if (k == 0 && calls) {
            rp_stats_t *st = rp_tree_stats(s, w->p);
            double tt = 0;
            const char *data;
            apr_size_t len;
            double us = 0;
            const char *c;
            FUZZ_CHECK(st && st->funcs[0].nc == (int64_t)calls && st->funcs[0].ncallers == 0,
                       "pstats root");
            for (i = 0; i < st->nfuncs; i++) {
                int64_t enc = 0;
                int j;
                tt += st->funcs[i].tt;
                for (j = 0; j < st->funcs[i].ncallers; j++)
                    enc += st->funcs[i].callers[j].nc;
                FUZZ_CHECK(i == 0 || enc == st->funcs[i].nc, "edges of %d", i);
            }
            FUZZ_CHECK(tt * 1e9 > (double)ns - 1e-3 * (double)ns - 1
                       && tt * 1e9 < (double)ns + 1e-3 * (double)ns + 1, "sum of tt");
            FUZZ_CHECK(rp_tree_collapsed(s, w->p, &data, &len) == APR_SUCCESS, "collapsed");
            for (c = data; *c; ) {
                const char *nl = strchr(c, '\n'), *sp;
                FUZZ_CHECK(nl != NULL, "line not ended");
                sp = nl;
                while (sp > c && sp[-1] != ' ')
                    sp--;
                us += strtod(sp, NULL);
                c = nl + 1;
            }
            FUZZ_CHECK(us * 1e3 <= (double)ns + 500.0 * s->nnodes + 1
                       && us * 1e3 + 500.0 * s->nnodes + 1 >= (double)ns, "collapsed total");
            FUZZ_CHECK(!strncmp(rp_tree_flame(s, NULL, "?f=", w->p), "<svg", 4), "svg");
        }
    }
    for (v = 0; v < w->sz.nvhosts; v++)
        check_exact(w, v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    world_t w;
    unsigned b = fuzz_byte(&in);
    int i, ops, reused;

    memset(&w, 0, sizeof w);
    w.p = p;
    w.sz.nnodes = RP_TREE_MIN_NODES + (int)(b % 5) * 256;
    w.sz.nvhosts = 1 + (int)((b / 5) % 3);
    w.size = rp_tree_size(&w.sz);
    w.base = __wrap_apr_palloc(p, w.size);
    w.now = apr_time_from_sec(1700000000);
    w.t = rp_tree_attach(p, w.base, w.size, &w.sz, w.now, &reused);
    FUZZ_CHECK(w.t && !reused, "attach");
    w.paths = apr_hash_make(p);
    w.cache = rp_tree_cache_create(p, MAX_EV);
    rp_tree_cache_batch(w.cache, 1, w.now);
    for (i = 0; i < w.sz.nvhosts; i++)
        FUZZ_CHECK(rp_tree_vhost(w.t, apr_psprintf(p, "v%d", i)) == i, "vhost %d", i);
    w.funcs[0] = RP_TREE_FUNC_ROOT;
    for (i = 1; i < NFUNCS - 1; i++)
        w.funcs[i] = rp_tree_func(w.t, i % 2 ? "httpd" : "mod_x.c", i, apr_psprintf(p, "f%d", i));
    w.funcs[NFUNCS - 1] = -1;           /* no name: counted as (other) */
    for (ops = 0; in.n > 0 && ops < 400; ops++) {
        unsigned op = fuzz_byte(&in);
        switch (op % 8) {
        case 0: case 1: case 2: case 3:
            record(&in, &w);
            break;
        case 4:
            w.now += MINUTE * (apr_time_t)(fuzz_byte(&in) % 70) + fuzz_byte(&in);
            break;
        case 5:
            w.t = rp_tree_attach(p, w.base, w.size, &w.sz, w.now, &reused);
            FUZZ_CHECK(w.t && reused, "re-attach");
            break;
        case 6: {
            rp_tree_counts_t *before, *after;
            int from = w.nreq, k;
            uint64_t calls = 0, ns = 0;
            settle(&w);
            before = rp_tree_counts(w.t, p, 0, w.now);
            record(&in, &w);
            record(&in, &w);
            settle(&w);
            after = rp_tree_counts(w.t, p, 0, w.now);
            rp_tree_counts_sub(after, before);
            for (k = from; k < w.nreq; k++) {
                calls++;
                ns += w.reqs[k].ns;
            }
            check_tree(&w, rp_tree_snap(w.t, after, -1, p), calls, ns, "difference");
            break;
        }
        default:
            read_all(&w);
        }
    }
    read_all(&w);
    fuzz_done(p);
    return 0;
}
