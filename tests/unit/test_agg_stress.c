/*
 * test_agg_stress.c - the status page's shared counters (rp_agg) under
 * 16 writer threads and 2 reader threads at once.
 *
 * Writers record requests with known paths, wall times, virtual hosts,
 * stripes and function calls (registering the names themselves, so some
 * are added twice at once), and now and then offer a slow request whose
 * call graph is tagged with its writer and wall time. Readers take
 * snapshots the whole time and check what rp_agg promises of a snapshot
 * taken while requests are being added:
 *   - a request counted is counted with its parts (rp_agg_record adds
 *     the request last, rp_agg_read reads it first): the histogram, the
 *     virtual host columns, the per-function calls and, while nothing is
 *     evicted, the URL rows hold at least as many as "requests";
 *   - every count only grows from one snapshot to the next, and none
 *     exceeds its final value;
 *   - a slow entry read back is one writer's whole entry, never a mix
 *     (the sequence word), with the wall time its tag says.
 * After the writers are joined every total is exact, and the URL rows
 * with "(other)" add up to the requests even when the table evicted all
 * the time. Run twice: 32 paths in a 256-entry table (no eviction, every
 * row exact) and 400 paths in 16 entries. Failures in threads are
 * recorded and asserted after the join (cmocka's asserts belong to the
 * test's thread). Before the fixes it came with, every run failed: a
 * virtual host added during a read was counted under "(other)" (its
 * name was read before its counts), and an evicted URL entry's new path
 * overwrote the count of a request still adding to it.
 */
#include "rp_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_agg.h"

#define NWRITERS 16
#define NREADERS 2
#define NVHOSTS  3              /* "v0".."v2"; every 4th writer uses none */
#define NWALLS   8
#define SLOW_EVERY 512

static const uint64_t walls[NWALLS] = {
    50000, 150000, 300000, 700000, 1500000, 3000000, 40000000, 2000000000
};

typedef struct shared {
    rp_agg_t *a;
    int nreq;                   /* per writer */
    int npaths;                 /* distinct paths */
    int evicting;               /* the URL table is too small for them */
    volatile apr_uint32_t writers_left;
    volatile apr_uint32_t failed;
    char why[256];
    rp_stats_t *slow[NWRITERS]; /* each writer's tagged call graph */
} shared_t;

typedef struct writer {
    shared_t *sh;
    int id;
} writer_t;

/* What a snapshot says about the names this test uses. */
typedef struct tally {
    uint64_t requests, sum_ns, max_ns, hist[RP_AGG_NBUCKETS];
    uint64_t vreq[NVHOSTS + 1];         /* by name; the last is "(other)" */
    uint64_t calls[2], tt[2], ct[2];    /* mod_a.c handler, httpd handler */
    uint64_t url_sum, url_other;
    uint64_t *url;                      /* [npaths] */
    uint64_t dropped;
} tally_t;

static void fail_once(shared_t *sh, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail_once(shared_t *sh, const char *fmt, ...)
{
    va_list ap;

    if (apr_atomic_cas32(&sh->failed, 1, 0) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(sh->why, sizeof sh->why, fmt, ap);
    va_end(ap);
}

/* The request i of writer t: everything about it follows from (t, i). */
static int req_path(const shared_t *sh, int t, int i)
{
    return (i * 7 + t * 3) % sh->npaths;
}

static uint64_t req_wall(int t, int i)
{
    return walls[(i + t) % NWALLS];
}

static void *APR_THREAD_FUNC write_requests(apr_thread_t *th, void *data)
{
    writer_t *w = data;
    shared_t *sh = w->sh;
    rp_agg_call_t calls[2];
    char path[32], slowpath[64];
    int vidx = -1, i;

    /* Names are registered by the writers themselves, all at once. */
    calls[0].key = rp_agg_key(sh->a, "mod_a.c", 1, "handler");
    calls[1].key = rp_agg_key(sh->a, "httpd", 0, "handler");
    if (w->id % 4 != 3) {
        apr_snprintf(path, sizeof path, "v%d", w->id % 4);
        vidx = rp_agg_vhost(sh->a, path);
    }
    if (calls[0].key < 0 || calls[1].key < 0 || (w->id % 4 != 3 && vidx < 0))
        fail_once(sh, "writer %d: no room for a name", w->id);
    calls[0].calls = 1;
    calls[0].tt_ns = 10;
    calls[0].ct_ns = 30;
    calls[1].calls = 2;
    calls[1].tt_ns = 5;
    calls[1].ct_ns = 40;
    for (i = 0; i < sh->nreq; i++) {
        rp_agg_req_t r;

        apr_snprintf(path, sizeof path, "/p%03d", req_path(sh, w->id, i));
        memset(&r, 0, sizeof r);
        r.method = "GET";
        r.path = path;
        r.vhost = "v";
        r.vhost_idx = vidx;
        r.status = 200;
        r.when = apr_time_from_sec(1000);
        r.wall_ns = req_wall(w->id, i);
        /* Stripe 0 shared by everyone a quarter of the time. */
        r.stripe = i % 4 ? (unsigned)w->id : 0;
        rp_agg_record(sh->a, &r, calls, 2);
        if (i % SLOW_EVERY == SLOW_EVERY - 1) {
            /* Tagged: the path names the writer and the wall time. */
            r.wall_ns = 1000000000ULL + (uint64_t)w->id * 1000000 + (uint64_t)i;
            snprintf(slowpath, sizeof slowpath, "/slow/%d/%llu", w->id,
                     (unsigned long long)r.wall_ns);
            r.path = slowpath;
            (void)rp_agg_slow_add(sh->a, &r, sh->slow[w->id], r.when);
        }
    }
    apr_atomic_dec32(&sh->writers_left);
    (void)th;
    return NULL;
}

static void take(const shared_t *sh, rp_agg_snap_t *s, tally_t *t)
{
    int i, c, b;
    uint64_t *url = t->url;

    memset(t, 0, sizeof *t);
    t->url = url;
    memset(url, 0, sizeof(uint64_t) * (size_t)sh->npaths);
    t->requests = s->requests;
    t->sum_ns = s->sum_ns;
    t->max_ns = s->max_ns;
    t->dropped = s->keys_dropped;
    for (b = 0; b < RP_AGG_NBUCKETS; b++)
        t->hist[b] = s->hist[b];
    /* Columns and rows by name: a name added twice at once has two. */
    for (c = 0; c < s->nvhosts; c++) {
        const char *n = s->vhost_names[c];
        int v = n[0] == 'v' && n[1] >= '0' && n[1] < '0' + NVHOSTS && !n[2] ? n[1] - '0'
                                                                             : NVHOSTS;
        t->vreq[v] += s->vhost_requests[c];
    }
    for (i = 0; i < s->nkeys; i++) {
        int k = !strcmp(s->keys[i].file, "httpd");
        t->calls[k] += s->keys[i].calls;
        t->tt[k] += s->keys[i].tt_ns;
        t->ct[k] += s->keys[i].ct_ns;
    }
    for (i = 0; i < s->nurls; i++) {
        int n = atoi(s->urls[i].path + 2);
        if (n >= 0 && n < sh->npaths)
            t->url[n] += s->urls[i].count;
        t->url_sum += s->urls[i].count;
    }
    t->url_other = s->url_other_count;
}

/* Between two snapshots of one reader every count only grows. */
static int grew(const shared_t *sh, const tally_t *a, const tally_t *b)
{
    int i;

    if (b->requests < a->requests || b->sum_ns < a->sum_ns || b->max_ns < a->max_ns
        || b->url_other < a->url_other)
        return 0;
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        if (b->hist[i] < a->hist[i])
            return 0;
    for (i = 0; i <= NVHOSTS; i++)
        if (b->vreq[i] < a->vreq[i])
            return 0;
    for (i = 0; i < 2; i++)
        if (b->calls[i] < a->calls[i] || b->tt[i] < a->tt[i] || b->ct[i] < a->ct[i])
            return 0;
    for (i = 0; i < sh->npaths && !sh->evicting; i++)
        if (b->url[i] < a->url[i])
            return 0;
    return 1;
}

/* The counts once every writer is done. */
static void expected(const shared_t *sh, tally_t *t)
{
    int w, i;

    memset(t->url, 0, sizeof(uint64_t) * (size_t)sh->npaths);
    for (w = 0; w < NWRITERS; w++)
        for (i = 0; i < sh->nreq; i++) {
            uint64_t wall = req_wall(w, i);
            int b;

            t->requests++;
            t->sum_ns += wall;
            if (wall > t->max_ns)
                t->max_ns = wall;
            /* The first bucket whose bound it does not pass. */
            for (b = 0; b < RP_AGG_NBUCKETS - 1; b++)
                if ((double)wall / 1e9 <= rp_agg_bucket_le[b])
                    break;
            t->hist[b]++;
            t->vreq[w % 4 == 3 ? NVHOSTS : w % 4]++;
            t->url[req_path(sh, w, i)]++;
        }
    t->calls[0] = t->requests;
    t->tt[0] = 10 * t->requests;
    t->ct[0] = 30 * t->requests;
    t->calls[1] = 2 * t->requests;
    t->tt[1] = 5 * t->requests;
    t->ct[1] = 40 * t->requests;
}

/* What a snapshot taken while writers run must hold; fin: the final
 * counts, which nothing may exceed. */
static void check_live(shared_t *sh, const tally_t *t, const tally_t *fin)
{
    uint64_t hsum = 0, vsum = 0;
    int i;

    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        hsum += t->hist[i];
        if (t->hist[i] > fin->hist[i])
            fail_once(sh, "bucket %d: %llu of %llu", i, (unsigned long long)t->hist[i],
                      (unsigned long long)fin->hist[i]);
    }
    for (i = 0; i <= NVHOSTS; i++) {
        vsum += t->vreq[i];
        if (t->vreq[i] > fin->vreq[i])
            fail_once(sh, "column %d: %llu of %llu", i, (unsigned long long)t->vreq[i],
                      (unsigned long long)fin->vreq[i]);
    }
    if (t->requests > fin->requests || t->sum_ns > fin->sum_ns || t->max_ns > fin->max_ns)
        fail_once(sh, "totals past the final ones: %llu requests",
                  (unsigned long long)t->requests);
    /* A counted request's parts were added before it and are read after. */
    if (hsum < t->requests || vsum < t->requests)
        fail_once(sh, "%llu requests but %llu in the histogram, %llu in columns",
                  (unsigned long long)t->requests, (unsigned long long)hsum,
                  (unsigned long long)vsum);
    if (t->calls[0] < t->requests || t->calls[1] < 2 * t->requests
        || t->ct[1] < 40 * t->requests)
        fail_once(sh, "%llu requests but %llu/%llu calls", (unsigned long long)t->requests,
                  (unsigned long long)t->calls[0], (unsigned long long)t->calls[1]);
    if (t->calls[0] > fin->calls[0] || t->calls[1] > fin->calls[1])
        fail_once(sh, "calls past the final ones");
    if (t->sum_ns < t->requests * walls[0])
        fail_once(sh, "sum %llu for %llu requests", (unsigned long long)t->sum_ns,
                  (unsigned long long)t->requests);
    if (!sh->evicting) {
        if (t->url_sum < t->requests || t->url_other != 0)
            fail_once(sh, "%llu requests, URL rows %llu, other %llu",
                      (unsigned long long)t->requests, (unsigned long long)t->url_sum,
                      (unsigned long long)t->url_other);
        for (i = 0; i < sh->npaths; i++)
            if (t->url[i] > fin->url[i])
                fail_once(sh, "path %d: %llu of %llu", i, (unsigned long long)t->url[i],
                          (unsigned long long)fin->url[i]);
    }
    if (t->dropped != 0)
        fail_once(sh, "%llu calls dropped", (unsigned long long)t->dropped);
}

/* A slow entry read back whole: its functions carry its writer's tag. */
static void check_slow(shared_t *sh, const rp_agg_t *a, const rp_agg_snap_t *s,
                       apr_pool_t *p)
{
    int i, j;

    for (i = 0; i < s->nslow; i++) {
        rp_agg_slowrow_t info;
        rp_stats_t *st = rp_agg_slow_stats(a, s->slow[i].id, p, &info);
        unsigned long long wall = 0;
        int w = -1;
        const char *tag;

        if (st == NULL)
            continue;               /* replaced since the snapshot */
        if (sscanf(info.path, "/slow/%d/%llu", &w, &wall) != 2 || w < 0 || w >= NWRITERS
            || wall != info.wall_ns || info.id != s->slow[i].id) {
            fail_once(sh, "slow entry %llu: path '%s', wall %llu",
                      (unsigned long long)info.id, info.path,
                      (unsigned long long)info.wall_ns);
            continue;
        }
        tag = apr_psprintf(p, "w%d", w);
        if (st->nfuncs != sh->slow[w]->nfuncs || info.nfuncs != st->nfuncs)
            fail_once(sh, "slow entry of writer %d has %d functions", w, st->nfuncs);
        for (j = 0; j < st->nfuncs; j++)
            if (strcmp(st->funcs[j].name, tag) || st->funcs[j].nc != (int64_t)w + 1)
                fail_once(sh, "slow entry of writer %d holds '%s'", w, st->funcs[j].name);
    }
}

typedef struct reader {
    shared_t *sh;
    apr_pool_t *pool;           /* this reader's own */
    const tally_t *fin;
    int snapshots;
} reader_t;

static void *APR_THREAD_FUNC read_snapshots(apr_thread_t *th, void *data)
{
    reader_t *r = data;
    shared_t *sh = r->sh;
    tally_t prev, cur;
    uint64_t *u1 = calloc((size_t)sh->npaths, sizeof(uint64_t));
    uint64_t *u2 = calloc((size_t)sh->npaths, sizeof(uint64_t));
    int first = 1;

    prev.url = u1;
    cur.url = u2;
    do {
        apr_pool_t *p;
        rp_agg_snap_t *s;
        double q50;

        apr_pool_create(&p, r->pool);
        s = rp_agg_read(sh->a, p);
        take(sh, s, &cur);
        check_live(sh, &cur, r->fin);
        if (!first && !grew(sh, &prev, &cur))
            fail_once(sh, "a count fell between two snapshots (%llu then %llu requests)",
                      (unsigned long long)prev.requests, (unsigned long long)cur.requests);
        q50 = rp_agg_percentile(s, 0.5);
        if (q50 < 0 || q50 > (double)s->max_ns / 1e9)
            fail_once(sh, "median %g past the maximum", q50);
        check_slow(sh, sh->a, s, p);
        apr_pool_destroy(p);
        {
            tally_t t = prev;
            prev = cur;
            cur = t;
        }
        first = 0;
        r->snapshots++;
    } while (apr_atomic_read32(&sh->writers_left) > 0 && !apr_atomic_read32(&sh->failed));
    free(u1);
    free(u2);
    (void)th;
    return NULL;
}

static rp_stats_t *tagged_profile(apr_pool_t *p, int w)
{
    rp_stats_t *st = apr_pcalloc(p, sizeof *st);
    int i;

    /* Writer w's graph: w + 1 functions named "w<w>", a chain. */
    st->nfuncs = w + 1;
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];
        f->file = i ? "mod_slow.c" : "httpd";
        f->line = i;
        f->name = apr_psprintf(p, "w%d", w);
        f->nc = f->cc = w + 1;
        f->tt = 0.001;
        f->ct = 0.001 * (st->nfuncs - i);
        if (i > 0) {
            f->ncallers = 1;
            f->callers = apr_pcalloc(p, sizeof(rp_edge_t));
            f->callers[0] = (rp_edge_t){ i - 1, w + 1, w + 1, 0.001, f->ct };
        }
    }
    return st;
}

static void run(apr_pool_t *p, int nurls, int npaths, int nreq)
{
    rp_agg_sizes_t sz;
    apr_size_t n;
    shared_t *sh = apr_pcalloc(p, sizeof *sh);
    apr_thread_t *wt[NWRITERS], *rt[NREADERS];
    writer_t wa[NWRITERS];
    reader_t ra[NREADERS];
    tally_t fin, got;
    int reused, i;
    apr_status_t rv;

    sz.nkeys = 2 * NWRITERS;    /* room for every writer adding both names */
    sz.nvhosts = NWRITERS;
    sz.nurls = nurls;
    sz.nslow = 4;
    n = rp_agg_size(&sz);
    sh->a = rp_agg_attach(p, apr_pcalloc(p, n), n, &sz, apr_time_from_sec(1000), &reused);
    assert_non_null(sh->a);
    sh->nreq = nreq;
    sh->npaths = npaths;
    sh->evicting = npaths > nurls / 2;
    sh->writers_left = NWRITERS;
    for (i = 0; i < NWRITERS; i++)
        sh->slow[i] = tagged_profile(p, i);
    memset(&fin, 0, sizeof fin);
    memset(&got, 0, sizeof got);
    fin.url = apr_pcalloc(p, sizeof(uint64_t) * (size_t)npaths);
    got.url = apr_pcalloc(p, sizeof(uint64_t) * (size_t)npaths);
    expected(sh, &fin);

    for (i = 0; i < NREADERS; i++) {
        ra[i].sh = sh;
        ra[i].fin = &fin;
        ra[i].snapshots = 0;
        assert_int_equal(apr_pool_create(&ra[i].pool, p), APR_SUCCESS);
        assert_int_equal(apr_thread_create(&rt[i], NULL, read_snapshots, &ra[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < NWRITERS; i++) {
        wa[i].sh = sh;
        wa[i].id = i;
        assert_int_equal(apr_thread_create(&wt[i], NULL, write_requests, &wa[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < NWRITERS; i++)
        apr_thread_join(&rv, wt[i]);
    for (i = 0; i < NREADERS; i++)
        apr_thread_join(&rv, rt[i]);
    if (sh->failed)
        fail_msg("%s", sh->why);
    for (i = 0; i < NREADERS; i++)
        assert_true(ra[i].snapshots >= 1);

    /* At rest: everything exact. */
    take(sh, rp_agg_read(sh->a, p), &got);
    assert_int_equal(got.requests, fin.requests);
    assert_int_equal(got.sum_ns, fin.sum_ns);
    assert_int_equal(got.max_ns, fin.max_ns);
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        assert_int_equal(got.hist[i], fin.hist[i]);
    for (i = 0; i <= NVHOSTS; i++)
        assert_int_equal(got.vreq[i], fin.vreq[i]);
    for (i = 0; i < 2; i++) {
        assert_int_equal(got.calls[i], fin.calls[i]);
        assert_int_equal(got.tt[i], fin.tt[i]);
        assert_int_equal(got.ct[i], fin.ct[i]);
    }
    assert_int_equal(got.dropped, 0);
    /* The URL rows and "(other)" add up, evicting or not. */
    assert_int_equal(got.url_sum + got.url_other, fin.requests);
    if (!sh->evicting) {
        assert_int_equal(got.url_other, 0);
        for (i = 0; i < npaths; i++)
            assert_int_equal(got.url[i], fin.url[i]);
    }
    {
        rp_agg_snap_t *s = rp_agg_read(sh->a, p);
        uint64_t sum = s->url_other_sum_ns;
        for (i = 0; i < s->nurls; i++)
            sum += s->urls[i].sum_ns;
        assert_int_equal(sum, fin.sum_ns);
        check_slow(sh, sh->a, s, p);
        assert_int_equal(s->nslow, 4);
        assert_false(sh->failed);
    }
}

/* 32 paths in a 256-entry table: no eviction, every row exact. */
static void test_stress_exact(void **state)
{
    run(*state, 256, 32, 150000);
}

/* 400 paths in a 16-entry table: evictions all the time. */
static void test_stress_evicting(void **state)
{
    run(*state, 16, 400, 150000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_stress_exact),
        RP_TEST(test_stress_evicting),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
