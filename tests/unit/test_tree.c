/*
 * test_tree.c - the aggregate call tree (rp_tree.c, rp_tree_out.c): a
 * timeline folded into records, records added into nodes per virtual
 * host, windows that forget old minutes, the cap with its "(other)" that
 * keeps totals exact, a region kept across a re-attach, and the views
 * (pstats with caller edges and recursion, folded stacks, focus paths,
 * the SVG with links).
 */
#include "rp_test.h"
#include <apr_atomic.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include "rp_tree.h"
#include "rp_tree_out.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)
#define MIN ((apr_time_t)60 * APR_USEC_PER_SEC)

static rp_tree_t *make(apr_pool_t *p, int nnodes, int nvhosts)
{
    rp_tree_sizes_t sz = { nnodes, nvhosts };
    apr_size_t size = rp_tree_size(&sz);
    void *base = apr_pcalloc(p, size);
    int reused = -1;
    rp_tree_t *t = rp_tree_attach(p, base, size, &sz, T0, &reused);
    assert_non_null(t);
    assert_int_equal(reused, 0);
    return t;
}

/* request (0..100) > phase A (10..60) > hook h (20..50); phase A again
 * (70..90) > hook h (75..80): one path, two calls. */
static int fold_example(rp_tree_t *t, rp_tree_rec_t *rec, int *work)
{
    int fa = rp_tree_func(t, "httpd", 0, "fixups");
    int fh = rp_tree_func(t, "mod_dir.c", 3, "fixups");
    rp_tree_ev_t ev[] = {
        { 0, 0, 0, 100 },
        { fa, 1, 10, 60 },
        { fh, 2, 20, 50 },
        { fa, 1, 70, 90 },
        { fh, 2, 75, 80 },
    };
    return rp_tree_fold(ev, 5, 1.0, rec, work);
}

static void test_fold(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    rp_tree_rec_t rec[5];
    int work[25], n = fold_example(t, rec, work);

    assert_int_equal(n, 3);
    assert_int_equal(rec[0].parent, -1);
    assert_int_equal(rec[0].cum_ns, 100);
    assert_int_equal(rec[0].self_ns, 30);          /* 100 - 50 - 20 */
    assert_int_equal(rec[1].parent, 0);
    assert_int_equal(rec[1].calls, 2);
    assert_int_equal(rec[1].cum_ns, 70);
    assert_int_equal(rec[1].self_ns, 35);          /* 70 - 35 */
    assert_int_equal(rec[2].parent, 1);
    assert_int_equal(rec[2].calls, 2);
    assert_int_equal(rec[2].cum_ns, 35);
    assert_int_equal(rec[2].self_ns, 35);
    /* Not a root first: nothing. */
    {
        rp_tree_ev_t bad[] = { { 3, 1, 0, 1 } };
        assert_int_equal(rp_tree_fold(bad, 1, 1.0, rec, work), 0);
    }
}

static void test_record_and_read(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 2);
    int va = rp_tree_vhost(t, "a.test"), vb = rp_tree_vhost(t, "b.test");
    rp_tree_rec_t rec[5];
    int work[25], n = fold_example(t, rec, work);
    rp_tree_snap_t *s;
    rp_stats_t *st;
    int i;

    assert_int_equal(va, 0);
    assert_int_equal(vb, 1);
    assert_int_equal(rp_tree_vhost(t, "a.test"), 0);
    rp_tree_record(t, va, rec, n, T0, work);
    rp_tree_record(t, va, rec, n, T0, work);
    rp_tree_record(t, vb, rec, n, T0, work);

    s = rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p);
    assert_int_equal(s->nnodes, 3);                 /* the hosts merged */
    assert_int_equal(s->nodes[0].calls, 3);
    assert_int_equal(s->nodes[0].cum_ns, 300);
    assert_int_equal(s->nodes[2].calls, 6);
    assert_string_equal(rp_tree_path(s, 2, p), "0.2.3");
    assert_int_equal(rp_tree_find(s, "0.2.3"), 2);
    assert_int_equal(rp_tree_find(s, "0.3"), -1);
    assert_int_equal(rp_tree_find(s, "x"), -1);
    /* one integer parser: no blanks, signs, empty or trailing parts */
    assert_int_equal(rp_tree_find(s, "0.2.3."), -1);
    assert_int_equal(rp_tree_find(s, "0..2"), -1);
    assert_int_equal(rp_tree_find(s, "0.+2"), -1);
    assert_int_equal(rp_tree_find(s, " 0.2"), -1);
    assert_int_equal(rp_tree_find(s, "0.2x"), -1);
    assert_int_equal(rp_tree_find(s, "0.99999999999999999999999"), -1);

    s = rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), vb, p);
    assert_int_equal(s->nodes[0].calls, 1);
    assert_int_equal(s->nodes[0].cum_ns, 100);

    st = rp_tree_stats(rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p), p);
    assert_non_null(st);
    assert_int_equal(st->nfuncs, 3);
    assert_string_equal(st->funcs[0].name, "all requests");
    assert_int_equal(st->funcs[0].nc, 3);
    assert_int_equal(st->funcs[0].ncallers, 0);
    for (i = 1; i < 3; i++) {
        assert_int_equal(st->funcs[i].ncallers, 1);
        assert_int_equal(st->funcs[i].callers[0].caller, i - 1);
        assert_int_equal(st->funcs[i].callers[0].nc, st->funcs[i].nc);
    }
    assert_true(st->funcs[0].ct > 299e-9 && st->funcs[0].ct < 301e-9);
}

static void test_windows(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    rp_tree_rec_t rec[5];
    int work[25], n = fold_example(t, rec, work), v = rp_tree_vhost(t, "a");
    rp_tree_snap_t *s;

    rp_tree_record(t, v, rec, n, T0, work);
    rp_tree_record(t, v, rec, n, T0 + 2 * MIN, work);
    rp_tree_record(t, v, rec, n, T0 + 2 * MIN + 1, work);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 1, T0 + 2 * MIN + 5), -1, p);
    assert_int_equal(s->nodes[0].calls, 2);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 5, T0 + 2 * MIN + 5), -1, p);
    assert_int_equal(s->nodes[0].calls, 3);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 1, T0 + 4 * MIN), -1, p);
    assert_int_equal(s->nnodes, 0);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 0, T0 + 4 * MIN), -1, p);
    assert_int_equal(s->nodes[0].calls, 3);
    /* 61 minutes later the slot of T0 is reused: cleared first. */
    rp_tree_record(t, v, rec, n, T0 + 61 * MIN, work);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 1, T0 + 61 * MIN), -1, p);
    assert_int_equal(s->nodes[0].calls, 1);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 60, T0 + 61 * MIN), -1, p);
    assert_int_equal(s->nodes[0].calls, 3);       /* +2 at minute 2, +1 now */
}

static void test_counts_sub(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    rp_tree_rec_t rec[5];
    int work[25], n = fold_example(t, rec, work), v = rp_tree_vhost(t, "a");
    rp_tree_counts_t *before, *after;
    rp_tree_snap_t *s;

    rp_tree_record(t, v, rec, n, T0, work);
    before = rp_tree_counts(t, p, 0, T0);
    rp_tree_record(t, v, rec, n, T0, work);
    rp_tree_record(t, v, rec, n, T0, work);
    after = rp_tree_counts(t, p, 0, T0);
    rp_tree_counts_sub(after, before);
    s = rp_tree_snap(t, after, -1, p);
    assert_int_equal(s->nodes[0].calls, 2);
    assert_int_equal(s->nodes[0].cum_ns, 200);
}

/* Many distinct paths into a small table: (other) takes the rest, the
 * root and the sum of self times stay exact. */
static void test_cap_keeps_totals(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    int v = rp_tree_vhost(t, "a"), i, work[20];
    uint64_t self_sum = 0, want = 0;
    rp_tree_snap_t *s;
    rp_stats_t *st;

    for (i = 0; i < 2000; i++) {
        char name[32];
        rp_tree_rec_t rec[4];
        rp_tree_ev_t ev[4];
        int n;
        snprintf(name, sizeof name, "subrequest /%d", i);
        ev[0] = (rp_tree_ev_t){ 0, 0, 0, 1000 };
        ev[1] = (rp_tree_ev_t){ rp_tree_func(t, "httpd", 0, "handler"), 1, 100, 900 };
        ev[2] = (rp_tree_ev_t){ rp_tree_func(t, "httpd", 0, name), 2, 200, 800 };
        ev[3] = (rp_tree_ev_t){ rp_tree_func(t, "httpd", 0, "fixups"), 3, 300, 400 };
        n = rp_tree_fold(ev, 4, 1.0, rec, work);
        rp_tree_record(t, v, rec, n, T0, work);
        want += 1000;
    }
    s = rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p);
    assert_int_equal(s->nodes[0].calls, 2000);
    assert_int_equal(s->nodes[0].cum_ns, want);
    assert_true(s->used <= s->capacity);
    for (i = 0; i < s->nnodes; i++)
        self_sum += s->nodes[i].self_ns;
    assert_int_equal(self_sum, want);
    /* Each parent's cumulative is its self plus its children's. */
    for (i = 0; i < s->nnodes; i++) {
        uint64_t kids = 0;
        int j;
        for (j = i + 1; j < s->nnodes; j++)
            if (s->nodes[j].parent == i)
                kids += s->nodes[j].cum_ns;
        assert_int_equal(s->nodes[i].self_ns + kids, s->nodes[i].cum_ns);
    }
    st = rp_tree_stats(s, p);
    for (i = 0; i < st->nfuncs; i++)
        if (!strcmp(st->funcs[i].name, "(other)"))
            break;
    assert_true(i < st->nfuncs);
    assert_true(st->funcs[i].nc > 0);
}

/* A function under itself: pstats' cumulative counts the outermost call. */
static void test_stats_recursion(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    int v = rp_tree_vhost(t, "a"), f = rp_tree_func(t, "m.c", 1, "f"), work[20], n;
    rp_tree_ev_t ev[] = { { 0, 0, 0, 100 }, { f, 1, 0, 80 }, { f, 2, 10, 50 } };
    rp_tree_rec_t rec[3];
    rp_stats_t *st;

    n = rp_tree_fold(ev, 3, 1.0, rec, work);
    rp_tree_record(t, v, rec, n, T0, work);
    st = rp_tree_stats(rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p), p);
    assert_int_equal(st->nfuncs, 2);
    assert_int_equal(st->funcs[1].nc, 2);
    assert_int_equal(st->funcs[1].cc, 1);
    assert_true(st->funcs[1].ct > 79e-9 && st->funcs[1].ct < 81e-9);
    assert_true(st->funcs[1].tt > 79e-9 && st->funcs[1].tt < 81e-9);
    assert_int_equal(st->funcs[1].ncallers, 2);     /* the root, and f itself */
}

static void test_reattach_keeps(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_sizes_t sz = { 300, 1 }, other = { 400, 1 };
    apr_size_t size = rp_tree_size(&sz);
    void *base = apr_pcalloc(p, rp_tree_size(&other));
    int reused, v, work[25], n;
    rp_tree_rec_t rec[5];
    rp_tree_t *t = rp_tree_attach(p, base, size, &sz, T0, &reused);

    v = rp_tree_vhost(t, "a");
    n = fold_example(t, rec, work);
    rp_tree_record(t, v, rec, n, T0, work);
    t = rp_tree_attach(p, base, size, &sz, T0, &reused);
    assert_int_equal(reused, 1);
    assert_int_equal(rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p)->nodes[0].calls, 1);
    t = rp_tree_attach(p, base, rp_tree_size(&other), &other, T0, &reused);
    assert_int_equal(reused, 0);
    assert_int_equal(rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p)->nnodes, 0);
    /* Out of range or too small. */
    sz.nnodes = 10;
    assert_int_equal(rp_tree_size(&sz), 0);
    assert_null(rp_tree_attach(p, base, 100, &other, T0, &reused));
}

static void test_views(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    int v = rp_tree_vhost(t, "a"), work[25], n;
    rp_tree_rec_t rec[5];
    rp_tree_snap_t *s;
    const char *data, *svg;
    apr_size_t len;

    rp_tree_func(t, "x;y.c", 1, "<b>&");
    n = fold_example(t, rec, work);
    rec[0].cum_ns = 100000;      /* in us: 100 */
    rec[0].self_ns = 30000;
    rec[1].cum_ns = 70000;
    rec[1].self_ns = 35000;
    rec[2].cum_ns = 35000;
    rec[2].self_ns = 35000;
    rp_tree_record(t, v, rec, n, T0, work);
    s = rp_tree_snap(t, rp_tree_counts(t, p, 0, T0), -1, p);
    assert_int_equal(rp_tree_collapsed(s, p, &data, &len), APR_SUCCESS);
    assert_string_equal(data, "all requests 30\n"
                              "all requests;fixups 35\n"
                              "all requests;fixups;mod_dir.c:3(fixups) 35\n");
    svg = rp_tree_flame(s, NULL, "?flame&focus=", p);
    assert_non_null(strstr(svg, "<a href=\"?flame&amp;focus=0.3.4\">"));
    assert_non_null(strstr(svg, "<text x=\"3.00\" y=\"13\">all requests</text>"));
    assert_non_null(strstr(svg, "2 calls, self 0.035 ms, cumulative 0.035 ms (35.0%)"));
    svg = rp_tree_flame(s, "0.3", "?f=", p);
    /* Re-rooted: the phase spans the whole width, the root is not drawn. */
    assert_null(strstr(svg, ">all requests</text>"));
    assert_non_null(strstr(svg, "width=\"1200.00\""));
    assert_non_null(strstr(svg, "(70.0%)"));
    assert_int_equal(rp_tree_collapsed(rp_tree_snap(t, rp_tree_counts(t, p, 1, T0 + 5 * MIN),
                                                    -1, p), p, &data, &len), APR_EINVAL);
}

/* ---- a writer caught between claiming a slot and publishing it ---- */

static volatile apr_uint32_t in_window, window_done;

/* The first writer stops in the window until the second has looked. */
static void hold_writer(void)
{
    apr_atomic_set32(&in_window, 1);
    apr_sleep(apr_time_from_msec(10));      /* the second writer looks now */
    apr_atomic_set32(&window_done, 1);
}

typedef struct racer {
    rp_tree_t *t;
    int id;
} racer_t;

static void *APR_THREAD_FUNC claim_x(apr_thread_t *th, void *data)
{
    racer_t *r = data;
    (void)th;
    r->id = rp_tree_func(r->t, "mod_x.c", 1, "handler");
    return NULL;
}

static void test_lookup_waits_for_a_writer_publishing(void **state)
{
    apr_pool_t *p = *state;
    rp_tree_t *t = make(p, 256, 1);
    apr_thread_t *th;
    apr_status_t rv;
    racer_t a = { t, -2 };
    int second;

    in_window = window_done = 0;
    rp_tree_test_unpublished = hold_writer;
    assert_int_equal(apr_thread_create(&th, NULL, claim_x, &a, p), APR_SUCCESS);
    while (!apr_atomic_read32(&in_window))
        apr_sleep(1000);
    rp_tree_test_unpublished = NULL;
    /* The slot is claimed, its index not yet published: this lookup must
     * wait and find the same function, not give up (and count "(other)"). */
    second = rp_tree_func(t, "mod_x.c", 1, "handler");
    assert_true(apr_atomic_read32(&window_done));
    apr_thread_join(&rv, th);
    assert_true(a.id >= 0);
    assert_int_equal(second, a.id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_fold),
        RP_TEST(test_record_and_read),
        RP_TEST(test_windows),
        RP_TEST(test_counts_sub),
        RP_TEST(test_cap_keeps_totals),
        RP_TEST(test_stats_recursion),
        RP_TEST(test_reattach_keeps),
        RP_TEST(test_lookup_waits_for_a_writer_publishing),
        RP_TEST(test_views),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
