/*
 * test_tree_cache.c - the aggregate tree's path cache (rp_tree_cache_t):
 * requests recorded through it leave exactly the nodes and counts that
 * rp_tree_fold + rp_tree_record leave, whether they repeat the previous
 * request's shape (a hit), change it (a miss), change virtual host, are
 * longer than the cache, meet a full region ("(other)" and lost paths),
 * or move to another region.
 */
#include "rp_test.h"
#include <stdio.h>
#include "rp_tree.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define MAXEV 64

static rp_tree_t *make(apr_pool_t *p, int nnodes, int nvhosts)
{
    rp_tree_sizes_t sz = { nnodes, nvhosts };
    apr_size_t size = rp_tree_size(&sz);
    int reused = -1;
    rp_tree_t *t = rp_tree_attach(p, apr_pcalloc(p, size), size, &sz, T0, &reused);
    assert_non_null(t);
    return t;
}

/* A pair of regions of the same sizes: one recorded through the cache,
 * the other the plain way. */
typedef struct pair {
    rp_tree_t *a, *b;
    int va[2], vb[2];
} pair_t;

static void pair_init(pair_t *pr, apr_pool_t *p, int nnodes)
{
    pr->a = make(p, nnodes, 2);
    pr->b = make(p, nnodes, 2);
    pr->va[0] = rp_tree_vhost(pr->a, "one");
    pr->va[1] = rp_tree_vhost(pr->a, "two");
    pr->vb[0] = rp_tree_vhost(pr->b, "one");
    pr->vb[1] = rp_tree_vhost(pr->b, "two");
}

/* Functions by name in a region (the same ids in both: same order). */
static int fn(rp_tree_t *t, const char *name)
{
    return rp_tree_func(t, "mod_x.c", 1, name);
}

/* A request of shape k (its frames' names and depths follow from k) and
 * times from seed, into both regions; returns whether the cache was hit. */
static int record(pair_t *pr, rp_tree_cache_t *c, int vh, int shape, unsigned seed,
                  int nframes, apr_time_t now)
{
    rp_tree_ev_t eva[MAXEV], evb[MAXEV];
    rp_tree_rec_t ra[MAXEV], rb[MAXEV];
    int wa[5 * MAXEV], wb[5 * MAXEV], i, nb;
    unsigned long h0, m0, h1, m1;
    uint64_t t = 0;

    assert_true(nframes <= MAXEV);
    eva[0] = (rp_tree_ev_t){ 0, 0, 0, 0 };
    for (i = 1; i < nframes; i++) {
        char name[32];
        /* depth 1, 2, 3, 1, 2, 3, ... with one name per (shape, slot) */
        int depth = 1 + (i - 1) % 3;
        snprintf(name, sizeof name, "f%d", (shape * 7 + i) % 11);
        seed = seed * 1103515245u + 12345u;
        t += 1 + seed % 1000;
        eva[i] = (rp_tree_ev_t){ fn(pr->a, name), depth, t, t + seed % 700 };
    }
    eva[0].t1 = t + 2000;
    memcpy(evb, eva, sizeof(eva[0]) * (apr_size_t)nframes);
    for (i = 1; i < nframes; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", (shape * 7 + i) % 11);
        evb[i].func = fn(pr->b, name);
    }
    rp_tree_cache_stats(c, &h0, &m0);
    rp_tree_record_events(pr->a, c, pr->va[vh], eva, nframes, 0.37, now, ra, wa);
    rp_tree_cache_stats(c, &h1, &m1);
    nb = rp_tree_fold(evb, nframes, 0.37, rb, wb);
    rp_tree_record(pr->b, pr->vb[vh], rb, nb, now, wb);
    return h1 > h0;
}

/* Region a's counts are region b's, calls exactly and times within tol
 * nanoseconds (tol > 0: a's times were converted once for many
 * requests). */
static void near(apr_pool_t *p, pair_t *pr, int window, apr_time_t now, uint64_t tol)
{
    rp_tree_counts_t *ca = rp_tree_counts(pr->a, p, window, now);
    rp_tree_counts_t *cb = rp_tree_counts(pr->b, p, window, now);
    int i;
    assert_int_equal(ca->n, cb->n);
    for (i = 0; i < ca->n; i++) {
        assert_int_equal(ca->calls[i], cb->calls[i]);
        assert_true(ca->cum_ns[i] + tol >= cb->cum_ns[i] && cb->cum_ns[i] + tol >= ca->cum_ns[i]);
        assert_true(ca->self_ns[i] + tol >= cb->self_ns[i]
                    && cb->self_ns[i] + tol >= ca->self_ns[i]);
    }
}

/* Both regions hold the same nodes with the same counts, since start and
 * in the window. */
static void same(apr_pool_t *p, pair_t *pr, int window, apr_time_t now)
{
    rp_tree_counts_t *ca = rp_tree_counts(pr->a, p, window, now);
    rp_tree_counts_t *cb = rp_tree_counts(pr->b, p, window, now);
    int i;
    near(p, pr, window, now, 0);
    for (i = -1; i < 2; i++) {
        rp_tree_snap_t *sa = rp_tree_snap(pr->a, ca, i, p);
        rp_tree_snap_t *sb = rp_tree_snap(pr->b, cb, i, p);
        int j;
        assert_int_equal(sa->nnodes, sb->nnodes);
        for (j = 0; j < sa->nnodes; j++) {
            assert_int_equal(sa->nodes[j].parent, sb->nodes[j].parent);
            assert_int_equal(sa->nodes[j].func, sb->nodes[j].func);
            assert_int_equal(sa->nodes[j].calls, sb->nodes[j].calls);
            assert_int_equal(sa->nodes[j].cum_ns, sb->nodes[j].cum_ns);
        }
        assert_int_equal(sa->lost_calls, sb->lost_calls);
    }
}

static void test_hits_are_exact(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    unsigned long hits, misses;
    int i;

    pair_init(&pr, p, 4096);
    /* The first of a shape misses; the same shape again hits, whatever
     * its times. */
    assert_false(record(&pr, c, 0, 1, 1, 20, T0));
    for (i = 0; i < 10; i++)
        assert_true(record(&pr, c, 0, 1, 100 + (unsigned)i, 20, T0));
    same(p, &pr, 0, T0);
    /* Another shape, another length, another host: misses, then hits. */
    assert_false(record(&pr, c, 0, 2, 5, 20, T0));
    assert_true(record(&pr, c, 0, 2, 6, 20, T0));
    assert_false(record(&pr, c, 0, 2, 7, 21, T0));
    assert_false(record(&pr, c, 1, 2, 8, 21, T0));
    assert_true(record(&pr, c, 1, 2, 9, 21, T0 + 61 * APR_USEC_PER_SEC));
    /* Back to the first: four shapes fit, so it is still cached. */
    assert_true(record(&pr, c, 0, 1, 10, 20, T0 + 61 * APR_USEC_PER_SEC));
    /* A fifth shape takes the place of the least recently used (shape 2,
     * length 20), which then misses once and is cached again. */
    assert_false(record(&pr, c, 0, 3, 12, 20, T0 + 61 * APR_USEC_PER_SEC));
    assert_true(record(&pr, c, 1, 2, 13, 21, T0 + 61 * APR_USEC_PER_SEC));
    assert_false(record(&pr, c, 0, 2, 14, 20, T0 + 61 * APR_USEC_PER_SEC));
    assert_true(record(&pr, c, 0, 2, 15, 20, T0 + 61 * APR_USEC_PER_SEC));
    assert_true(record(&pr, c, 0, 3, 16, 20, T0 + 61 * APR_USEC_PER_SEC));
    same(p, &pr, 0, T0 + 61 * APR_USEC_PER_SEC);
    same(p, &pr, 1, T0 + 61 * APR_USEC_PER_SEC);
    same(p, &pr, 5, T0 + 61 * APR_USEC_PER_SEC);
    rp_tree_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 16);
    assert_int_equal(misses, 6);
}

/* Longer than the cache: recorded the plain way, never a hit. */
static void test_longer_than_cache(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, 8);
    int i;

    pair_init(&pr, p, 4096);
    for (i = 0; i < 4; i++)
        assert_false(record(&pr, c, 0, 3, (unsigned)i, 9, T0));
    assert_false(record(&pr, c, 0, 3, 1, 8, T0));
    assert_true(record(&pr, c, 0, 3, 2, 8, T0));
    same(p, &pr, 0, T0);
}

/* A region too small for the paths: "(other)" and lost time take the
 * rest, which the cache never remembers, and the counts stay the same. */
static void test_full_region_not_cached(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    int i, hits = 0;

    pair_init(&pr, p, 256);
    for (i = 0; i < 300; i++)
        hits += record(&pr, c, i % 2, i % 11, (unsigned)i, 10 + i % 50, T0);
    same(p, &pr, 0, T0);
    /* Once the region is full, repeating a shape that has no room is
     * still the slow road, and still the same counts. */
    for (i = 0; i < 20; i++)
        hits += record(&pr, c, 0, 4, (unsigned)i, 60, T0);
    same(p, &pr, 0, T0);
    assert_true(hits < 320);
}

/* The same cache used on another region: not a hit there. */
static void test_other_region(void **state)
{
    apr_pool_t *p = *state;
    pair_t one, two;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);

    pair_init(&one, p, 4096);
    pair_init(&two, p, 4096);
    assert_false(record(&one, c, 0, 1, 1, 20, T0));
    assert_true(record(&one, c, 0, 1, 2, 20, T0));
    assert_false(record(&two, c, 0, 1, 3, 20, T0));
    assert_true(record(&two, c, 0, 1, 4, 20, T0));
    same(p, &one, 0, T0);
    same(p, &two, 0, T0);
}

/* A timeline whose first event is no root: nothing recorded, no hit. */
static void test_bad_timeline(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    rp_tree_ev_t ev[2] = { { 0, 1, 0, 10 }, { 0, 2, 1, 5 } };
    rp_tree_rec_t rec[2];
    int work[10];
    unsigned long hits, misses;

    assert_int_equal(rp_tree_record_events(t, c, 0, ev, 2, 1.0, T0, rec, work), 0);
    assert_int_equal(rp_tree_record_events(t, c, 0, ev, 2, 1.0, T0, rec, work), 0);
    rp_tree_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(rp_tree_counts(t, p, 0, T0)->calls[0], 0);
}

/* Batching: hits add to the cache's sums, not the region, until a flush
 * (or a miss, or a new minute, or batching off); then the counts are
 * exactly the plain way's, since start and in every window. */
static void test_batched_exact_after_flush(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr, other;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    apr_time_t t1 = T0 + 61 * APR_USEC_PER_SEC;
    int i;

    pair_init(&pr, p, 4096);
    pair_init(&other, p, 4096);
    rp_tree_cache_batch(c, 1, T0);
    assert_false(rp_tree_cache_pending(c));
    assert_false(record(&pr, c, 0, 1, 1, 20, T0));
    assert_false(rp_tree_cache_pending(c));     /* a miss goes straight in */
    for (i = 0; i < 10; i++)
        assert_true(record(&pr, c, 0, 1, 100 + (unsigned)i, 20, T0));
    assert_true(rp_tree_cache_pending(c));
    /* Not in the region yet: the root has one call of eleven. */
    assert_int_equal(rp_tree_counts(pr.a, p, 0, T0)->calls[0], 1);
    assert_int_equal(rp_tree_counts(pr.b, p, 0, T0)->calls[0], 11);
    rp_tree_cache_flush(c, T0);
    assert_false(rp_tree_cache_pending(c));
    same(p, &pr, 0, T0);
    same(p, &pr, 1, T0);
    /* Pending sums of minute T0 go to T0's slot when a request of the
     * next minute comes; each shape keeps its own. */
    assert_true(record(&pr, c, 0, 1, 7, 20, T0));
    assert_true(record(&pr, c, 0, 1, 8, 20, t1));
    assert_false(record(&pr, c, 0, 2, 9, 20, t1));
    assert_true(record(&pr, c, 0, 2, 10, 20, t1));
    /* Another region's shapes are others: each way's sums go to its own
     * region at the flush. */
    assert_false(record(&other, c, 0, 2, 11, 20, t1));
    assert_true(record(&other, c, 0, 2, 12, 20, t1));
    assert_true(record(&pr, c, 0, 1, 13, 20, t1));
    rp_tree_cache_flush(c, t1);
    same(p, &pr, 0, t1);
    same(p, &pr, 1, t1);
    same(p, &pr, 5, t1);
    /* More shapes than ways: the one making way is flushed first. */
    for (i = 0; i < 3 * RP_TREE_CACHE_WAYS; i++) {
        record(&pr, c, i % 2, 3 + i % (RP_TREE_CACHE_WAYS + 2), 20 + (unsigned)i, 20, t1);
        record(&pr, c, i % 2, 3 + i % (RP_TREE_CACHE_WAYS + 2), 40 + (unsigned)i, 20, t1);
    }
    rp_tree_cache_flush(c, t1);
    same(p, &pr, 0, t1);
    same(p, &pr, 1, t1);
    record(&other, c, 0, 2, 14, 20, t1);
    assert_true(record(&other, c, 0, 2, 15, 20, t1));
    assert_true(rp_tree_cache_pending(c));
    /* Switching batching off flushes. */
    rp_tree_cache_batch(c, 0, t1);
    assert_false(rp_tree_cache_pending(c));
    same(p, &other, 0, t1);
    same(p, &other, 1, t1);
    assert_true(record(&other, c, 0, 2, 13, 20, t1));
    assert_false(rp_tree_cache_pending(c));
    same(p, &other, 0, t1);
}

/* Sums of a minute that left every window by the flush count since start
 * only: that minute's slot now holds a later minute. */
static void test_batched_stale_minute(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV), *c2 = rp_tree_cache_create(p, MAXEV);
    apr_time_t late = T0 + 61 * 60 * APR_USEC_PER_SEC;

    pair_init(&pr, p, 4096);
    rp_tree_cache_batch(c, 1, T0);
    assert_false(record(&pr, c, 0, 2, 1, 20, T0));
    assert_true(record(&pr, c, 0, 2, 2, 20, T0));
    assert_true(record(&pr, c, 0, 2, 3, 20, T0));
    /* Another writer, 61 minutes on (61 slots: the same slot), then the
     * flush: T0's sums count since start only, and T0's minute does not
     * take the slot back from the later one. */
    assert_false(record(&pr, c2, 0, 1, 1, 20, late));
    rp_tree_cache_flush(c, late);
    assert_int_equal(rp_tree_counts(pr.a, p, 0, late)->calls[0], 4);
    assert_int_equal(rp_tree_counts(pr.a, p, 1, late)->calls[0], 1);
    assert_int_equal(rp_tree_counts(pr.b, p, 0, late)->calls[0], 4);
}

/* ---- the keyed road (rp_tree_record_log), as reqprof_tree.c takes it */

/* Nanoseconds a tick, for both regions; and whether the keyed road is
 * asked for its records (the glue asks for none). */
static double unit = 0.37;
static int want_out = 1;
/* Times as a profile's log has them (rp_prof_end closed every frame):
 * children within their parent, siblings one after another. Else drawn
 * freely, overlaps and all. */
static int nested = 0;

/* A request of shape k as a profile's log in rp_prof_log_shape's form:
 * a function's number is its registry id, idbase + name number, the
 * root's -1 (local functions, numbered in the order met, 0 the root,
 * pick the events' tree functions). Tried through the key first; else
 * its events are built, recorded and keyed.
 * Frames at depths 1, 2, .. depths, 1, 2, ... The same request goes
 * into region b the plain way. Returns 1 when the
 * key was hit, 0 otherwise. */
/* Requests whose ticks rp_tree_cache_ticks gave (record_log_d checks them). */
static int ticks_given;

static int record_log_d(pair_t *pr, rp_tree_cache_t *c, int vh, int shape, unsigned seed,
                        int nframes, int idbase, int depths, apr_time_t now)
{
    rp_prof_rec_t log[MAXEV];
    int local[MAXEV];
    rp_tree_ev_t eva[MAXEV], evb[MAXEV];
    rp_tree_rec_t ra[MAXEV], rb[MAXEV];
    int wa[5 * MAXEV], wb[5 * MAXEV], ids[MAXEV], fmap[MAXEV], local_of[11];
    int i, nb, nf = 1, got, keyable = 1;
    uint64_t t = 0;

    assert_true(nframes <= MAXEV);
    for (i = 0; i < 11; i++)
        local_of[i] = -1;
    memset(log, 0, sizeof log);
    ids[0] = -1;
    fmap[0] = RP_TREE_FUNC_ROOT;
    local[0] = 0;
    log[0].func = -1;
    for (i = 1; i < nframes; i++) {
        char name[32];
        int k = (shape * 7 + i * (1 + shape / 11)) % 11;
        snprintf(name, sizeof name, "f%d", k);
        if (local_of[k] < 0) {
            local_of[k] = nf;
            ids[nf] = idbase + k;
            fmap[nf] = fn(pr->a, name);
            keyable &= fmap[nf] >= 0;       /* as the glue keys */
            nf++;
        }
        seed = seed * 1103515245u + 12345u;
        t += 1 + seed % 1000;
        local[i] = local_of[k];
        log[i].func = ids[local_of[k]];
        log[i].depth = (int16_t)(1 + (i - 1) % depths);
        log[i].t0 = t;
        log[i].t1 = t + seed % 700;
        evb[i] = (rp_tree_ev_t){ fn(pr->b, name), log[i].depth, log[i].t0, log[i].t1 };
    }
    if (nested) {
        int open[MAXEV], no = 0;
        t = 0;
        for (i = 1; i < nframes; i++) {
            while (no > 0 && log[open[no - 1]].depth >= log[i].depth) {
                log[open[--no]].t1 = t;
                t += 1 + (seed >> 16) % 50;
            }
            seed = seed * 1103515245u + 12345u;
            log[i].t0 = t;
            t += 1 + seed % 1000;
            open[no++] = i;
        }
        while (no > 0) {
            log[open[--no]].t1 = t;
            t += 3;
        }
        for (i = 1; i < nframes; i++) {
            evb[i].t0 = log[i].t0;
            evb[i].t1 = log[i].t1;
        }
    }
    log[0].t1 = t + 2000;
    evb[0] = (rp_tree_ev_t){ RP_TREE_FUNC_ROOT, 0, 0, log[0].t1 };
    got = rp_tree_record_log(pr->a, c, pr->va[vh], log, nframes, unit, now,
                             want_out ? ra : NULL);
    {
        /* The batched keyed road gives each event's ticks, in log order. */
        int nt;
        const uint64_t *tk = rp_tree_cache_ticks(c, &nt);
        if (tk) {
            assert_true(got >= 0 && !want_out);
            assert_int_equal(nt, nframes);
            for (i = 0; i < nframes; i++)
                assert_int_equal(tk[i], log[i].t1 > log[i].t0 ? log[i].t1 - log[i].t0 : 0);
            ticks_given++;
        }
        else
            assert_int_equal(nt, 0);
    }
    if (got < 0) {
        for (i = 0; i < nframes; i++)
            eva[i] = (rp_tree_ev_t){ fmap[local[i]], log[i].depth, log[i].t0, log[i].t1 };
        rp_tree_record_events(pr->a, c, pr->va[vh], eva, nframes, unit, now, ra, wa);
        if (keyable)
            rp_tree_cache_key(c, pr->a, pr->va[vh], eva, log, nframes);
    }
    nb = rp_tree_fold(evb, nframes, unit, rb, wb);
    rp_tree_record(pr->b, pr->vb[vh], rb, nb, now, wb);
    if (got >= 0)
        assert_int_equal(got, nb);
    return got >= 0;
}

static int record_log(pair_t *pr, rp_tree_cache_t *c, int vh, int shape, unsigned seed,
                      int nframes, int idbase, apr_time_t now)
{
    return record_log_d(pr, c, vh, shape, seed, nframes, idbase, 3, now);
}

static void test_keyed_road_exact(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    rp_tree_cache_t *small = rp_tree_cache_create(p, 8);
    int i;

    pair_init(&pr, p, 4096);
    /* The first request of a shape builds its events and keys the path;
     * the same shape again is read from the log, whatever its times. */
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    for (i = 0; i < 5; i++)
        assert_true(record_log(&pr, c, 0, 1, 10 + (unsigned)i, 20, 100, T0));
    same(p, &pr, 0, T0);
    /* The same log with other registry ids is another key (its events
     * are the cached ones, a hit of the events' road, which keys it). */
    assert_false(record_log(&pr, c, 0, 1, 20, 20, 200, T0));
    assert_true(record_log(&pr, c, 0, 1, 21, 20, 200, T0));
    /* Another host, another length, another shape: not the key. */
    assert_false(record_log(&pr, c, 1, 1, 22, 20, 200, T0));
    assert_false(record_log(&pr, c, 0, 1, 23, 19, 200, T0));
    assert_false(record_log(&pr, c, 0, 2, 24, 20, 200, T0));
    assert_true(record_log(&pr, c, 0, 2, 25, 20, 200, T0));
    /* A batch as well: the sums arrive at the flush. */
    rp_tree_cache_batch(c, 1, T0);
    for (i = 0; i < 5; i++)
        assert_true(record_log(&pr, c, 0, 2, 30 + (unsigned)i, 20, 200, T0));
    rp_tree_cache_flush(c, T0);
    same(p, &pr, 0, T0);
    same(p, &pr, 1, T0);
    /* Longer than the cache: the uncached road, which keys nothing, so
     * the next request of a cached length is not taken for it. */
    assert_false(record_log(&pr, small, 0, 3, 40, 8, 100, T0));
    assert_true(record_log(&pr, small, 0, 3, 41, 8, 100, T0));
    assert_false(record_log(&pr, small, 0, 4, 42, 9, 100, T0));
    assert_false(record_log(&pr, small, 0, 4, 43, 8, 100, T0));
    assert_true(record_log(&pr, small, 0, 3, 44, 8, 100, T0));
    same(p, &pr, 0, T0);
}

/* The tag names a key, as the status page's batch takes it: 0 after a
 * miss, one number for every hit of a key, another for another key (the
 * same log with other ids too), and a new one for a shape keyed again
 * after its way went to another. */
static void test_keyed_road_tags(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    uint64_t t1, t1ids, t2, seen[8];
    int i, k, n = 0;

    pair_init(&pr, p, 4096);
    assert_int_equal(rp_tree_cache_tag(NULL), 0);
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    assert_int_equal(rp_tree_cache_tag(c), 0);
    assert_true(record_log(&pr, c, 0, 1, 2, 20, 100, T0));
    t1 = rp_tree_cache_tag(c);
    assert_true(t1 != 0);
    assert_true(record_log(&pr, c, 0, 1, 3, 20, 100, T0));
    assert_true(rp_tree_cache_tag(c) == t1);
    assert_false(record_log(&pr, c, 0, 1, 4, 20, 200, T0));
    assert_true(record_log(&pr, c, 0, 1, 5, 20, 200, T0));
    t1ids = rp_tree_cache_tag(c);
    assert_true(t1ids != 0 && t1ids != t1);
    assert_false(record_log(&pr, c, 0, 2, 6, 20, 100, T0));
    assert_true(record_log(&pr, c, 0, 2, 7, 20, 100, T0));
    t2 = rp_tree_cache_tag(c);
    assert_true(t2 != 0 && t2 != t1 && t2 != t1ids);
    seen[n++] = t1;
    seen[n++] = t1ids;
    seen[n++] = t2;
    /* Shapes 3 .. 6 take every way; shape 2 comes back to a new tag. */
    for (k = 3; k <= 6; k++) {
        assert_false(record_log(&pr, c, 0, k, 10 + (unsigned)k, 20, 100, T0));
        assert_true(record_log(&pr, c, 0, k, 20 + (unsigned)k, 20, 100, T0));
        seen[n++] = rp_tree_cache_tag(c);
    }
    assert_false(record_log(&pr, c, 0, 2, 30, 20, 100, T0));
    assert_int_equal(rp_tree_cache_tag(c), 0);
    assert_true(record_log(&pr, c, 0, 2, 31, 20, 100, T0));
    seen[n++] = rp_tree_cache_tag(c);
    for (i = 0; i < n; i++) {
        assert_true(seen[i] != 0);
        for (k = 0; k < i; k++)
            assert_true(seen[i] != seen[k]);
    }
}

/* The glue's call: no records wanted. Batched, a hit only sums each
 * event's ticks; the flush (a new minute, a way given to another shape,
 * batching off) converts the sums once. At one unit a nanosecond that is
 * exactly the plain way, in every window; at 0.37, calls exact and times
 * within a nanosecond a request and node. Unbatched, the records are made
 * per request as before: exact. */
static void test_keyed_road_deferred(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    apr_time_t t1 = T0 + 61 * APR_USEC_PER_SEC;
    int i, round;

    want_out = 0;
    nested = 1;
    unit = 1.0;
    pair_init(&pr, p, 4096);
    rp_tree_cache_batch(c, 1, T0);
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    for (round = 0; round < 2; round++) {
        for (i = 0; i < 10; i++) {
            assert_true(record_log(&pr, c, 0, 1, 10 + (unsigned)i, 20, 100, T0));
            /* Two shapes and two hosts at once: each way sums its own. */
            if (round || i)
                assert_true(record_log(&pr, c, 1, 2, 40 + (unsigned)i, 12, 100, T0));
            else
                assert_false(record_log(&pr, c, 1, 2, 40, 12, 100, T0));
        }
        assert_true(rp_tree_cache_pending(c));
        assert_true(rp_tree_counts(pr.a, p, 0, T0)->calls[0] < rp_tree_counts(pr.b, p, 0, T0)->calls[0]);
        rp_tree_cache_flush(c, T0);
        assert_false(rp_tree_cache_pending(c));
        same(p, &pr, 0, T0);
        same(p, &pr, 1, T0);
    }
    /* Sums of minute T0 go to T0's slot when the next minute's request
     * comes, before it is summed. */
    assert_true(record_log(&pr, c, 0, 1, 60, 20, 100, T0));
    assert_true(record_log(&pr, c, 0, 1, 61, 20, 100, t1));
    assert_true(record_log(&pr, c, 1, 2, 62, 12, 100, t1));
    rp_tree_cache_batch(c, 0, t1);              /* off: flushed */
    assert_false(rp_tree_cache_pending(c));
    same(p, &pr, 0, t1);
    same(p, &pr, 1, t1);
    same(p, &pr, 5, t1);

    /* Two shapes of one host and one length, one after the other: the
     * way hit last is tried in one pass that adds the ticks before it
     * knows the key, and gives back what the other shape's request
     * added there. */
    c = rp_tree_cache_create(p, MAXEV);
    pair_init(&pr, p, 4096);
    rp_tree_cache_batch(c, 1, T0);
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    assert_false(record_log(&pr, c, 0, 3, 2, 20, 100, T0));
    ticks_given = 0;
    for (i = 0; i < 10; i++) {
        assert_true(record_log(&pr, c, 0, 1, 70 + (unsigned)i, 20, 100, T0));
        assert_true(record_log(&pr, c, 0, 3, 90 + (unsigned)i, 20, 100, T0));
    }
    /* Every one of them, by the way hit last or by the other. */
    assert_int_equal(ticks_given, 20);
    rp_tree_cache_flush(c, T0);
    same(p, &pr, 0, T0);

    /* Not a unit a nanosecond: one rounding for the batch. */
    unit = 0.37;
    c = rp_tree_cache_create(p, MAXEV);
    pair_init(&pr, p, 4096);
    rp_tree_cache_batch(c, 1, T0);
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    ticks_given = 0;
    for (i = 0; i < 50; i++)
        assert_true(record_log(&pr, c, 0, 1, 100 + (unsigned)i, 20, 100, T0));
    assert_int_equal(ticks_given, 50);      /* the way hit last, each time */
    rp_tree_cache_flush(c, T0);
    near(p, &pr, 0, T0, 51 * 20);
    near(p, &pr, 1, T0, 51 * 20);

    /* Unbatched: per request, in the cache's own records (no ticks). */
    rp_tree_cache_batch(c, 0, T0);
    pair_init(&pr, p, 4096);
    assert_false(record_log(&pr, c, 0, 1, 1, 20, 100, T0));
    ticks_given = 0;
    for (i = 0; i < 5; i++)
        assert_true(record_log(&pr, c, 0, 1, 200 + (unsigned)i, 20, 100, T0));
    assert_int_equal(ticks_given, 0);
    assert_false(rp_tree_cache_pending(c));
    same(p, &pr, 0, T0);
    want_out = 1;
    nested = 0;
}

/* A region with no room for the path: the fill is refused, nothing is
 * keyed, and the request takes the events' road each time, with the
 * plain counts. */
static void test_keyed_road_full_region(void **state)
{
    apr_pool_t *p = *state;
    pair_t pr;
    rp_tree_cache_t *c = rp_tree_cache_create(p, MAXEV);
    int i, hits = 0;

    pair_init(&pr, p, 256);
    /* Deep frames: every shape brings new paths until the region is full. */
    for (i = 0; i < 40; i++)
        record_log_d(&pr, c, 0, i, (unsigned)i, 60, 100, 12, T0);
    same(p, &pr, 0, T0);
    for (i = 0; i < 20; i++)
        hits += record_log_d(&pr, c, 0, 50, (unsigned)i, 60, 100, 12, T0);
    same(p, &pr, 0, T0);
    assert_int_equal(hits, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_hits_are_exact),
        RP_TEST(test_longer_than_cache),
        RP_TEST(test_full_region_not_cached),
        RP_TEST(test_other_region),
        RP_TEST(test_bad_timeline),
        RP_TEST(test_batched_exact_after_flush),
        RP_TEST(test_batched_stale_minute),
        RP_TEST(test_keyed_road_exact),
        RP_TEST(test_keyed_road_full_region),
        RP_TEST(test_keyed_road_tags),
        RP_TEST(test_keyed_road_deferred),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
