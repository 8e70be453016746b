/*
 * test_tree_stress.c - the aggregate call tree (rp_tree) under 8 writer
 * threads and 2 reader threads at once.
 *
 * Writers record requests whose call trees mix paths every writer shares
 * with paths of their own, naming new functions as they go (so the same
 * name and the same node are often claimed by two threads at once: one
 * wins, the other finds it, waiting while it is being published). Readers take snapshots the whole time: every
 * count only grows and never passes its final value. After the join the
 * root holds exactly every request and its time, the sum of self times is
 * the root's time, each node's cumulative time is its self plus its
 * children's, and the 1-minute window (all in one minute) equals the
 * totals. Run twice: a table with room for every path (then no path may
 * end up in "(other)"), and one of 256 nodes that overflows all the time;
 * then both again with each writer recording through a path cache of its
 * own (rp_tree_record_events), which must give the same exact totals
 * while other threads claim and publish the nodes it remembers.
 */
#include "rp_test.h"
#include <stdio.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_tree.h"

#define NWRITERS 8
#define NREADERS 2
#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

typedef struct shared {
    rp_tree_t *t;
    int nreq, distinct, cached;
    volatile apr_uint32_t writers_left, failed, hits;
    char why[200];
} shared_t;

typedef struct writer {
    shared_t *sh;
    int id;
} writer_t;

static void fail_once(shared_t *sh, const char *why)
{
    if (apr_atomic_cas32(&sh->failed, 1, 0) == 0)
        snprintf(sh->why, sizeof sh->why, "%s", why);
}

/* Request i of writer id: request > phase > hook > (own path) > leaf. */
static uint64_t one_request(shared_t *sh, int id, int i, int *work, rp_tree_cache_t *c)
{
    rp_tree_ev_t ev[6];
    rp_tree_rec_t rec[6];
    char name[48];
    int n;
    uint64_t base = 1000 + (uint64_t)(i % 7) * 100;

    snprintf(name, sizeof name, "subrequest /w%d/%d", id, i % sh->distinct);
    ev[0] = (rp_tree_ev_t){ RP_TREE_FUNC_ROOT, 0, 0, base * 10 };
    ev[1] = (rp_tree_ev_t){ rp_tree_func(sh->t, "httpd", 0, "handler"), 1, 10, base * 9 };
    ev[2] = (rp_tree_ev_t){ rp_tree_func(sh->t, "mod_x.c", 1, "handler"), 2, 20, base * 8 };
    ev[3] = (rp_tree_ev_t){ rp_tree_func(sh->t, "httpd", 0, name), 3, 30, base * 7 };
    ev[4] = (rp_tree_ev_t){ rp_tree_func(sh->t, "core.c", 2, "filter CORE"), 4, 40, base * 3 };
    ev[5] = (rp_tree_ev_t){ rp_tree_func(sh->t, "httpd", 0,
                                         i % 3 ? "shared leaf" : name), 2, base * 8,
                            base * 9 };
    if (c) {
        n = rp_tree_record_events(sh->t, c, id % 3, ev, 6, 1.0, T0, rec, work);
        assert_int_equal(n > 0, 1);
    }
    else {
        n = rp_tree_fold(ev, 6, 1.0, rec, work);
        rp_tree_record(sh->t, id % 3, rec, n, T0, work);
    }
    return rec[0].cum_ns;
}

static void *APR_THREAD_FUNC writer_main(apr_thread_t *th, void *arg)
{
    writer_t *w = arg;
    int i, work[30];
    apr_pool_t *p = NULL;
    rp_tree_cache_t *c = NULL;
    if (w->sh->cached) {
        apr_pool_create(&p, NULL);
        c = rp_tree_cache_create(p, 6);
    }
    for (i = 0; i < w->sh->nreq; i++)
        one_request(w->sh, w->id, i, work, c);
    if (c) {
        unsigned long hits, misses;
        rp_tree_cache_stats(c, &hits, &misses);
        apr_atomic_add32(&w->sh->hits, (apr_uint32_t)hits);
        apr_pool_destroy(p);
    }
    apr_atomic_dec32(&w->sh->writers_left);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void *APR_THREAD_FUNC reader_main(apr_thread_t *th, void *arg)
{
    shared_t *sh = arg;
    apr_pool_t *p;
    uint64_t last_calls = 0, last_ns = 0;
    uint64_t max_calls = (uint64_t)sh->nreq * NWRITERS;

    apr_pool_create(&p, NULL);
    while (apr_atomic_read32(&sh->writers_left) > 0) {
        rp_tree_snap_t *s = rp_tree_snap(sh->t, rp_tree_counts(sh->t, p, 0, T0), -1, p);
        if (s->nnodes) {
            if (s->nodes[0].calls < last_calls || s->nodes[0].cum_ns < last_ns)
                fail_once(sh, "the root's counts went down");
            if (s->nodes[0].calls > max_calls)
                fail_once(sh, "more requests than were sent");
            last_calls = s->nodes[0].calls;
            last_ns = s->nodes[0].cum_ns;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void run(apr_pool_t *p, int nnodes, int distinct, int expect_other, int cached)
{
    rp_tree_sizes_t sz = { nnodes, 3 };
    apr_size_t size = rp_tree_size(&sz);
    void *base = apr_pcalloc(p, size);
    shared_t sh;
    writer_t w[NWRITERS];
    apr_thread_t *th[NWRITERS + NREADERS];
    uint64_t want_ns = 0, self = 0;
    int i, j, reused, work[30], others = 0;
    rp_tree_snap_t *s, *win;
    apr_status_t rv;

    memset(&sh, 0, sizeof sh);
    sh.t = rp_tree_attach(p, base, size, &sz, T0, &reused);
    assert_non_null(sh.t);
    for (i = 0; i < 3; i++)
        rp_tree_vhost(sh.t, apr_psprintf(p, "v%d", i));
    sh.nreq = 4000;
    sh.distinct = distinct;
    sh.cached = cached;
    sh.writers_left = NWRITERS;
    for (i = 0; i < NWRITERS; i++) {
        w[i].sh = &sh;
        w[i].id = i;
        assert_int_equal(apr_thread_create(&th[i], NULL, writer_main, &w[i], p), APR_SUCCESS);
    }
    for (i = 0; i < NREADERS; i++)
        assert_int_equal(apr_thread_create(&th[NWRITERS + i], NULL, reader_main, &sh, p),
                         APR_SUCCESS);
    for (i = 0; i < NWRITERS + NREADERS; i++)
        apr_thread_join(&rv, th[i]);
    if (sh.failed)
        fail_msg("%s", sh.why);
    /* The same requests' times, computed again single-threaded on a
     * scratch region (the fold depends only on the timeline). */
    {
        rp_tree_sizes_t sz2 = { 256, 3 };
        shared_t sh2 = sh;
        void *b2 = apr_pcalloc(p, rp_tree_size(&sz2));
        sh2.t = rp_tree_attach(p, b2, rp_tree_size(&sz2), &sz2, T0, &reused);
        for (i = 0; i < NWRITERS; i++)
            for (j = 0; j < sh.nreq; j++)
                want_ns += one_request(&sh2, i, j, work, NULL);
    }
    s = rp_tree_snap(sh.t, rp_tree_counts(sh.t, p, 0, T0), -1, p);
    win = rp_tree_snap(sh.t, rp_tree_counts(sh.t, p, 1, T0), -1, p);
    assert_int_equal(s->nodes[0].calls, (uint64_t)NWRITERS * (uint64_t)sh.nreq);
    assert_int_equal(s->nodes[0].cum_ns, want_ns);
    assert_int_equal(win->nnodes, s->nnodes);
    for (i = 0; i < s->nnodes; i++) {
        uint64_t kids = 0;
        self += s->nodes[i].self_ns;
        for (j = i + 1; j < s->nnodes; j++)
            if (s->nodes[j].parent == i)
                kids += s->nodes[j].cum_ns;
        assert_int_equal(s->nodes[i].self_ns + kids, s->nodes[i].cum_ns);
        assert_int_equal(win->nodes[i].calls, s->nodes[i].calls);
        assert_int_equal(win->nodes[i].cum_ns, s->nodes[i].cum_ns);
        if (s->nodes[i].func == RP_TREE_FUNC_OTHER)
            others++;
    }
    assert_int_equal(self, want_ns);
    assert_true(s->used <= nnodes);
    if (expect_other)
        assert_true(others > 0);
    else
        assert_int_equal(others, 0);    /* with room, a race never loses a path */
    if (cached && !expect_other)
        assert_true(sh.hits > 0);       /* the cache was used, not just bypassed */
}

static void test_room_for_all(void **state)
{
    run(*state, 4096, 20, 0, 0);
}

static void test_overflowing(void **state)
{
    run(*state, 256, 400, 1, 0);
}

/* Every third request repeats its predecessor's shape: cache hits. */
static void test_room_for_all_cached(void **state)
{
    run(*state, 4096, 1, 0, 1);
}

static void test_overflowing_cached(void **state)
{
    run(*state, 256, 400, 1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_room_for_all),
        RP_TEST(test_overflowing),
        RP_TEST(test_room_for_all_cached),
        RP_TEST(test_overflowing_cached),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
