/*
 * test_agg.c - the status page's shared aggregates (rp_agg) and the flame
 * view (rp_flame): exact counts under concurrent writers, a bounded URL
 * table whose rows still add up, the slow-request ring, reuse and copy of
 * a region across restarts, escaping.
 */
#include "rp_test.h"
#include "rp_test_ops.h"
#include <math.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_agg.h"
#include "rp_clock.h"
#include "rp_flame.h"
#include "rp_pstats.h"

static rp_agg_sizes_t sizes(int nkeys, int nvhosts, int nurls, int nslow)
{
    rp_agg_sizes_t s;
    s.nkeys = nkeys;
    s.nvhosts = nvhosts;
    s.nurls = nurls;
    s.nslow = nslow;
    return s;
}

static rp_agg_t *make(apr_pool_t *p, const rp_agg_sizes_t *sz, void **base)
{
    apr_size_t n = rp_agg_size(sz);
    int reused = -1;
    rp_agg_t *a;
    *base = apr_pcalloc(p, n);
    a = rp_agg_attach(p, *base, n, sz, apr_time_from_sec(1000), &reused);
    assert_non_null(a);
    assert_int_equal(reused, 0);
    return a;
}

static rp_agg_req_t req(const char *path, uint64_t wall_ns, unsigned stripe)
{
    rp_agg_req_t r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = path;
    r.vhost = "localhost";
    r.vhost_idx = 0;
    r.status = 200;
    r.when = apr_time_from_sec(1000);
    r.wall_ns = wall_ns;
    r.stripe = stripe;
    return r;
}

static void test_counts_merge_over_stripes(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(16, 2, 32, 4);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    int k_dir = rp_agg_key(a, "mod_dir.c", 1, "fixups");
    int k_fix = rp_agg_key(a, "httpd", 0, "fixups");
    int v1 = rp_agg_vhost(a, "one"), v2 = rp_agg_vhost(a, "two");
    rp_agg_call_t calls[2] = { { k_dir, 2, 1000, 3000 }, { k_fix, 1, 500, 3500 } };
    rp_agg_snap_t *s;
    unsigned i;

    assert_int_equal(rp_agg_key(a, "mod_dir.c", 1, "fixups"), k_dir);
    assert_int_equal(rp_agg_vhost(a, "two"), v2);
    for (i = 0; i < 100; i++) {
        rp_agg_req_t r = req(i % 2 ? "/a" : "/b", 1000000, i * 7);
        r.vhost_idx = i < 30 ? v1 : i < 90 ? v2 : -1;
        rp_agg_record(a, &r, calls, 2);
    }
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 100);
    assert_int_equal(s->sum_ns, 100 * 1000000ULL);
    assert_int_equal(s->max_ns, 1000000);
    assert_int_equal(s->hist[3], 100);          /* 1 ms is in le=0.001 */
    assert_int_equal(s->nkeys, 2);
    assert_string_equal(s->keys[0].file, "mod_dir.c");
    assert_int_equal(s->keys[0].calls, 200);
    assert_int_equal(s->keys[0].tt_ns, 100000);
    assert_int_equal(s->keys[0].ct_ns, 300000);
    assert_int_equal(s->keys[0].phase, 0);
    assert_int_equal(s->keys[1].phase, 1);
    assert_int_equal(s->keys[1].vcalls[v1], 30);
    assert_int_equal(s->keys[1].vcalls[v2], 60);
    assert_int_equal(s->keys[1].vcalls[2], 10);   /* the "(other)" column */
    assert_int_equal(s->nvhosts, 3);
    assert_string_equal(s->vhost_names[v2], "two");
    assert_string_equal(s->vhost_names[2], "(other)");
    assert_int_equal(s->vhost_requests[v1], 30);
    assert_int_equal(s->nurls, 2);
    assert_int_equal(s->urls[0].count, 50);
    assert_int_equal(s->urls[0].count + s->urls[1].count, 100);
    assert_int_equal(s->url_other_count, 0);
}

static void test_tables_full(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(2, 1, 4, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_agg_call_t c = { -1, 5, 1, 1 };
    rp_agg_req_t r = req("/", 10, 0);

    assert_int_equal(rp_agg_key(a, "a.c", 1, "x"), 0);
    assert_int_equal(rp_agg_key(a, "b.c", 1, "x"), 1);
    assert_int_equal(rp_agg_key(a, "c.c", 1, "x"), -1);
    assert_int_equal(rp_agg_vhost(a, "v"), 0);
    assert_int_equal(rp_agg_vhost(a, "w"), -1);
    rp_agg_record(a, &r, &c, 1);
    assert_int_equal(rp_agg_read(a, p)->keys_dropped, 5);
}

static void test_url_table_bounded_and_adds_up(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 64, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_agg_snap_t *s;
    uint64_t sum = 0;
    int i;

    /* A hot path first, then a scan of 10000 distinct paths. */
    for (i = 0; i < 500; i++) {
        rp_agg_req_t r = req("/hot", 1000, (unsigned)i);
        rp_agg_record(a, &r, NULL, 0);
    }
    for (i = 0; i < 10000; i++) {
        rp_agg_req_t r = req(apr_psprintf(p, "/scan/%d", i), 1000, (unsigned)i);
        rp_agg_record(a, &r, NULL, 0);
    }
    s = rp_agg_read(a, p);
    assert_true(s->nurls <= 64);
    assert_true(s->nurls >= 32);
    for (i = 0; i < s->nurls; i++)
        sum += s->urls[i].count;
    assert_int_equal(sum + s->url_other_count, 10500);
    assert_int_equal(s->requests, 10500);
    /* The heavy hitter survives the scan: evictions take the fewest. */
    assert_string_equal(s->urls[0].path, "/hot");
    assert_int_equal(s->urls[0].count, 500);
}

static void test_long_path_cut_on_char_boundary(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    char *path = apr_palloc(p, 1001);
    rp_agg_req_t r;
    rp_agg_snap_t *s;
    int i;

    path[0] = '/';
    for (i = 1; i + 1 < 1000; i += 2) {     /* U+00E9, two bytes each */
        path[i] = (char)0xC3;
        path[i + 1] = (char)0xA9;
    }
    path[i] = '\0';
    r = req(path, 5, 0);
    rp_agg_record(a, &r, NULL, 0);
    s = rp_agg_read(a, p);
    assert_int_equal(s->nurls, 1);
    assert_true(strlen(s->urls[0].path) < RP_AGG_URL_LEN);
    assert_true(strlen(s->urls[0].path) % 2 == 1);  /* '/' + whole chars */
}

typedef struct worker_arg {
    rp_agg_t *a;
    int n, id, key;
} worker_arg_t;

static void *APR_THREAD_FUNC worker(apr_thread_t *t, void *data)
{
    worker_arg_t *w = data;
    rp_agg_call_t c;
    int i;
    c.key = w->key;
    c.calls = 1;
    c.tt_ns = 3;
    c.ct_ns = 7;
    for (i = 0; i < w->n; i++) {
        /* All threads on one stripe too: atomics, not luck. */
        char path[32];
        rp_agg_req_t r;
        apr_snprintf(path, sizeof path, "/t%d", i % 50);
        r = req(path, (uint64_t)(i % 1000) * 1000, i % 3 ? (unsigned)w->id : 0);
        rp_agg_record(w->a, &r, &c, 1);
    }
    /* Returning, not apr_thread_exit(): pthread_exit upsets ASan here. */
    (void)t;
    return NULL;
}

static void test_threads_exact(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(8, 1, 128, 2);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    apr_thread_t *th[6];
    worker_arg_t args[6];
    rp_agg_snap_t *s;
    uint64_t hsum = 0, usum = 0;
    int i, key = rp_agg_key(a, "mod_x.c", 1, "handler");

    for (i = 0; i < 6; i++) {
        args[i].a = a;
        args[i].n = 20000;
        args[i].id = i;
        args[i].key = key;
        assert_int_equal(apr_thread_create(&th[i], NULL, worker, &args[i], p), APR_SUCCESS);
    }
    for (i = 0; i < 6; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
    }
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 120000);
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        hsum += s->hist[i];
    assert_int_equal(hsum, 120000);
    assert_int_equal(s->keys[0].calls, 120000);
    assert_int_equal(s->keys[0].ct_ns, 7 * 120000);
    for (i = 0; i < s->nurls; i++)
        usum += s->urls[i].count;
    assert_int_equal(usum + s->url_other_count, 120000);
    assert_int_equal(s->nurls, 50);
}

static void test_percentiles(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_agg_snap_t *s;
    int i;

    assert_true(rp_agg_percentile(rp_agg_read(a, p), 0.5) == 0.0);
    for (i = 0; i < 90; i++) {
        rp_agg_req_t r = req("/", 1500000, 0);      /* 1.5 ms: (1, 2] ms */
        rp_agg_record(a, &r, NULL, 0);
    }
    for (i = 0; i < 10; i++) {
        rp_agg_req_t r = req("/", 300000000, 0);    /* 0.3 s: (0.2, 0.5] s */
        rp_agg_record(a, &r, NULL, 0);
    }
    s = rp_agg_read(a, p);
    assert_true(rp_agg_percentile(s, 0.5) > 0.001 && rp_agg_percentile(s, 0.5) <= 0.002);
    assert_true(rp_agg_percentile(s, 0.9) <= 0.002);
    assert_true(rp_agg_percentile(s, 0.99) > 0.2 && rp_agg_percentile(s, 0.99) <= 0.3);
    assert_true(rp_agg_percentile(s, 1.0) == 0.3);  /* capped at the max */
}

/* A small profile: root -> handler phase -> mod_cgi handler. */
static rp_stats_t *small_profile(apr_pool_t *p, const char *root, double wall)
{
    rp_stats_t *st = apr_pcalloc(p, sizeof *st);
    st->nfuncs = 3;
    st->funcs = apr_pcalloc(p, 3 * sizeof(rp_func_t));
    st->funcs[0] = (rp_func_t){ "httpd", 0, root, 1, 1, wall * 0.1, wall, 0, NULL, 0 };
    st->funcs[1] = (rp_func_t){ "httpd", 0, "handler", 1, 1, 0.0, wall * 0.9, 1, NULL, 0 };
    st->funcs[2] = (rp_func_t){ "mod_cgi.c", 1, "handler", 1, 1, wall * 0.9, wall * 0.9, 1,
                                NULL, 0 };
    st->funcs[1].callers = apr_pcalloc(p, sizeof(rp_edge_t));
    st->funcs[1].callers[0] = (rp_edge_t){ 0, 1, 1, 0.0, wall * 0.9 };
    st->funcs[2].callers = apr_pcalloc(p, sizeof(rp_edge_t));
    st->funcs[2].callers[0] = (rp_edge_t){ 1, 1, 1, wall * 0.9, wall * 0.9 };
    return st;
}

static void test_slow_ring(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 3);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    apr_time_t now = apr_time_from_sec(1000);
    uint64_t ids[5];
    rp_agg_snap_t *s;
    rp_agg_slowrow_t info;
    rp_stats_t *back;
    const char *data;
    apr_size_t len;
    int i;

    for (i = 0; i < 5; i++) {
        /* 10, 50, 20, 40, 30 ms */
        static const int ms[5] = { 10, 50, 20, 40, 30 };
        rp_agg_req_t r = req(apr_psprintf(p, "/r%d", i), (uint64_t)ms[i] * 1000000, 0);
        if (i == 1)
            r.traceid = "4bf92f3577b34da6a3ce929d0e0e4736";
        ids[i] = rp_agg_slow_wants(a, r.wall_ns, now)
                 ? rp_agg_slow_add(a, &r, small_profile(p, "request GET /x", ms[i] / 1e3), now)
                 : 0;
    }
    assert_true(ids[0] > 0 && ids[1] > 0 && ids[2] > 0);
    assert_true(ids[3] > 0);       /* replaces the 10 ms one */
    assert_true(ids[4] > 0);       /* replaces the 20 ms one */
    s = rp_agg_read(a, p);
    assert_int_equal(s->nslow, 3);
    assert_string_equal(s->slow[0].path, "/r1");
    assert_string_equal(s->slow[1].path, "/r3");
    assert_string_equal(s->slow[2].path, "/r4");
    /* The trace id rides along with the slow entry; "" when none. */
    assert_string_equal(s->slow[0].traceid, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(s->slow[1].traceid, "");
    assert_false(rp_agg_slow_wants(a, 5000000, now));
    assert_false(rp_agg_slow_wants(a, 30000000, now));     /* ties stay out */
    /* Old entries give way to anything once they leave the window (the
     * floor recorded by the asks above ends there too). */
    assert_false(rp_agg_slow_wants(a, 5000000, now + RP_AGG_SLOW_WINDOW));
    assert_true(rp_agg_slow_wants(a, 5000000, now + RP_AGG_SLOW_WINDOW + 1));
    /* Above the floor recorded (30 ms), a request is wanted; once it is
     * in, the floor is its fastest entry's again. */
    assert_true(rp_agg_slow_wants(a, 31000000, now));
    {
        rp_agg_req_t r = req("/r5", 35000000, 0);
        assert_true(rp_agg_slow_add(a, &r, small_profile(p, "request GET /x", 0.035), now)
                    > 0);
        assert_false(rp_agg_slow_wants(a, 35000000, now));
        assert_true(rp_agg_slow_wants(a, 36000000, now));
    }

    assert_null(rp_agg_slow_stats(a, ids[0], p, NULL));     /* replaced */
    back = rp_agg_slow_stats(a, ids[1], p, &info);
    assert_non_null(back);
    assert_int_equal(info.wall_ns, 50000000);
    assert_string_equal(info.method, "GET");
    assert_int_equal(back->nfuncs, 3);
    assert_string_equal(back->funcs[2].file, "mod_cgi.c");
    assert_int_equal(back->funcs[2].ncallers, 1);
    assert_int_equal(back->funcs[2].callers[0].caller, 1);
    assert_true(back->funcs[2].ct == 0.05 * 0.9);
    assert_int_equal(rp_pstats_encode(back, p, &data, &len), APR_SUCCESS);
    assert_true(len > 20);
}

static void test_slow_tree_truncated(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_stats_t *st = apr_pcalloc(p, sizeof *st), *back;
    rp_agg_req_t r = req("/big", 1000, 0);
    rp_agg_slowrow_t info;
    uint64_t id;
    int i;

    st->nfuncs = RP_AGG_TREE_FUNCS + 20;
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];
        f->file = "m.c";
        f->line = i;
        f->name = "f";
        f->nc = f->cc = 1;
        if (i > 0) {
            /* Each called by its predecessor; the last also by the root. */
            f->ncallers = i == st->nfuncs - 1 ? 2 : 1;
            f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * 2);
            f->callers[0].caller = i - 1;
            f->callers[1].caller = 0;
        }
    }
    id = rp_agg_slow_add(a, &r, st, apr_time_from_sec(1000));
    back = rp_agg_slow_stats(a, id, p, &info);
    assert_non_null(back);
    assert_int_equal(back->nfuncs, RP_AGG_TREE_FUNCS);
    assert_int_equal(info.truncated, 1);
    for (i = 0; i < back->nfuncs; i++) {
        int j;
        for (j = 0; j < back->funcs[i].ncallers; j++)
            assert_true(back->funcs[i].callers[j].caller < back->nfuncs);
    }
}

/* Found by tests/fuzz/fuzz_agg.c: a slow entry cut long names at 254
 * bytes whatever was there, so a name of two-byte characters came back
 * as invalid UTF-8 (into the flame view and the .prof file). */
static void test_slow_names_cut_on_char_boundary(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_stats_t *st = small_profile(p, "request GET /", 1.0), *back;
    rp_agg_req_t r = req("/long", 1000, 0);
    char *name = apr_palloc(p, 302);
    int i;

    name[0] = 'a';
    for (i = 1; i + 1 < 302; i += 2) {      /* U+00E9, two bytes each */
        name[i] = (char)0xC3;
        name[i + 1] = (char)0xA9;
    }
    name[301] = '\0';
    st->funcs[2].name = name;
    back = rp_agg_slow_stats(a, rp_agg_slow_add(a, &r, st, r.when), p, NULL);
    assert_non_null(back);
    assert_int_equal(strlen(back->funcs[2].name), 253);    /* 'a' + 126 chars */
    assert_memory_equal(back->funcs[2].name, name, 253);
    assert_string_equal(back->funcs[2].file, "mod_cgi.c");
}

/* The same function's names and numbers from a slow entry, whether it was
 * kept by its key or by copies of its strings. */
static void assert_same_func(const rp_func_t *x, const rp_func_t *y)
{
    int j;
    assert_string_equal(x->file, y->file);
    assert_string_equal(x->name, y->name);
    assert_int_equal(x->line, y->line);
    assert_int_equal(x->nc, y->nc);
    assert_int_equal(x->cc, y->cc);
    assert_true(x->tt == y->tt && x->ct == y->ct);
    assert_int_equal(x->ncallers, y->ncallers);
    for (j = 0; j < x->ncallers; j++) {
        assert_int_equal(x->callers[j].caller, y->callers[j].caller);
        assert_int_equal(x->callers[j].nc, y->callers[j].nc);
        assert_true(x->callers[j].ct == y->callers[j].ct);
    }
}

/* rp_agg_slow_add_keyed keeps wrapped functions as key indexes (no string
 * copies): what comes back is the profile the copying write keeps, in this
 * region, after a copy into a region whose key table is ordered otherwise,
 * and after a copy into one with no room for the key (names copied in). */
static void test_slow_keyed_same_as_copied(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 2), other = sizes(4, 1, 8, 2),
                   nokeys = sizes(1, 1, 8, 2);
    void *base, *base2, *base3;
    rp_agg_t *a = make(p, &sz, &base), *b, *c;
    rp_stats_t *st = small_profile(p, "request GET /k", 0.25), *plain, *keyed;
    rp_agg_req_t r = req("/k", 250000000, 0);
    int keys[3], i, reused;
    uint64_t id_plain, id_keyed;

    keys[0] = -1;                                   /* dynamic: copied */
    keys[1] = rp_agg_key(a, "httpd", 0, "handler");
    keys[2] = rp_agg_key(a, "mod_cgi.c", 1, "handler");
    id_plain = rp_agg_slow_add(a, &r, st, r.when);
    r.wall_ns++;                                    /* slower: both kept */
    id_keyed = rp_agg_slow_add_keyed(a, &r, st, keys, r.when);
    assert_true(id_plain > 0 && id_keyed > 0);
    plain = rp_agg_slow_stats(a, id_plain, p, NULL);
    keyed = rp_agg_slow_stats(a, id_keyed, p, NULL);
    assert_non_null(plain);
    assert_non_null(keyed);
    assert_int_equal(keyed->nfuncs, 3);
    for (i = 0; i < 3; i++)
        assert_same_func(&keyed->funcs[i], &plain->funcs[i]);

    /* Another region whose keys were named in another order. */
    base2 = apr_pcalloc(p, rp_agg_size(&other));
    b = rp_agg_attach(p, base2, rp_agg_size(&other), &other, 0, &reused);
    assert_non_null(b);
    assert_int_equal(rp_agg_key(b, "mod_cgi.c", 1, "handler"), 0);
    assert_int_equal(rp_agg_key(b, "zz.c", 9, "other"), 1);
    rp_agg_copy(b, a);
    keyed = rp_agg_slow_stats(b, id_keyed, p, NULL);
    assert_non_null(keyed);
    for (i = 0; i < 3; i++)
        assert_same_func(&keyed->funcs[i], &plain->funcs[i]);

    /* One key slot, already taken: the names are copied into the entry. */
    base3 = apr_pcalloc(p, rp_agg_size(&nokeys));
    c = rp_agg_attach(p, base3, rp_agg_size(&nokeys), &nokeys, 0, &reused);
    assert_non_null(c);
    assert_int_equal(rp_agg_key(c, "zz.c", 9, "other"), 0);
    rp_agg_copy(c, a);
    keyed = rp_agg_slow_stats(c, id_keyed, p, NULL);
    assert_non_null(keyed);
    for (i = 0; i < 3; i++)
        assert_same_func(&keyed->funcs[i], &plain->funcs[i]);

    /* A key index past the table is not trusted: the names are copied. */
    keys[2] = 3;
    r.wall_ns += 1000;
    id_keyed = rp_agg_slow_add_keyed(a, &r, st, keys, r.when);
    keyed = rp_agg_slow_stats(a, id_keyed, p, NULL);
    assert_non_null(keyed);
    assert_same_func(&keyed->funcs[2], &plain->funcs[2]);
}

/* n bytes of c, NUL-terminated. */
static char *run_of(apr_pool_t *p, char c, size_t n)
{
    char *s = apr_palloc(p, n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* n functions called once each, numbered by line, names left to fill. */
static rp_stats_t *numbered_funcs(apr_pool_t *p, int n)
{
    rp_stats_t *st = apr_pcalloc(p, sizeof *st);
    int i;
    st->nfuncs = n;
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)n);
    for (i = 0; i < n; i++) {
        st->funcs[i].line = i;
        st->funcs[i].nc = st->funcs[i].cc = 1;
    }
    return st;
}

/* A copy into a region that has no key for a kept function copies its
 * names into the entry; when the entry's strings are full, the entry keeps
 * the functions before it and the edges among them, marked truncated. */
static void test_slow_keyed_copy_cut_when_full(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(8, 1, 8, 1), nokeys = sizes(1, 1, 8, 1);
    void *base, *base2;
    rp_agg_t *a = make(p, &sz, &base), *c;
    rp_stats_t *st = numbered_funcs(p, 20), *back;
    rp_agg_req_t r = req("/full", 1000, 0);
    rp_agg_slowrow_t info;
    char *longname = run_of(p, 'x', 254), kf[64], kn[64];
    int keys[20], i, reused;
    uint64_t id;

    for (i = 0; i < 20; i++) {
        rp_func_t *f = &st->funcs[i];
        keys[i] = -1;
        if (i < 16) {
            /* 15 x 257 bytes of long names (and the root's few): ~3,870 */
            f->file = "f";
            f->name = i ? longname : "request GET /full";
        }
        else {
            /* 63-byte file and name: whole in a key, 128 bytes copied */
            memset(kf, 'a' + i - 16, 63);
            kf[63] = '\0';
            memset(kn, 'A' + i - 16, 63);
            kn[63] = '\0';
            f->file = apr_pstrdup(p, kf);
            f->name = apr_pstrdup(p, kn);
            keys[i] = rp_agg_key(a, f->file, i, f->name);
            assert_true(keys[i] >= 0);
        }
        if (i > 0) {
            /* each called by the root and by its predecessor */
            f->ncallers = 2;
            f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * 2);
            f->callers[0].caller = 0;
            f->callers[1].caller = i - 1;
            f->callers[0].nc = f->callers[1].nc = 1;
        }
    }
    id = rp_agg_slow_add_keyed(a, &r, st, keys, r.when);
    back = rp_agg_slow_stats(a, id, p, &info);
    assert_non_null(back);
    assert_int_equal(back->nfuncs, 20);     /* keyed names take no room */
    assert_int_equal(info.truncated, 0);
    assert_string_equal(back->funcs[19].name, st->funcs[19].name);

    base2 = apr_pcalloc(p, rp_agg_size(&nokeys));
    c = rp_agg_attach(p, base2, rp_agg_size(&nokeys), &nokeys, 0, &reused);
    assert_non_null(c);
    assert_int_equal(rp_agg_key(c, "zz.c", 9, "other"), 0);
    rp_agg_copy(c, a);
    back = rp_agg_slow_stats(c, id, p, &info);
    assert_non_null(back);
    assert_int_equal(back->nfuncs, 17);     /* room for one function's names */
    assert_int_equal(info.truncated, 1);
    assert_string_equal(back->funcs[16].file, st->funcs[16].file);
    assert_string_equal(back->funcs[16].name, st->funcs[16].name);
    for (i = 1; i < 17; i++) {
        assert_int_equal(back->funcs[i].ncallers, 2);
        assert_int_equal(back->funcs[i].callers[1].caller, i - 1);
    }
}

/* A copy that cannot name an entry's first function (its key is not in
 * the new region and the names do not fit) leaves nothing to show: the
 * entry is not copied, and the next one takes its place in the ring. */
static void test_slow_keyed_copy_drops_empty_entry(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(8, 1, 8, 2), nokeys = sizes(1, 1, 8, 2);
    void *base, *base2;
    rp_agg_t *a = make(p, &sz, &base), *c;
    rp_stats_t *st = numbered_funcs(p, 17);
    rp_stats_t *other = small_profile(p, "request GET /other", 0.5);
    rp_agg_req_t r = req("/empty", 1000, 0), r2 = req("/other", 500, 0);
    rp_agg_snap_t *snap;
    char *longname = run_of(p, 'x', 254), *mid = run_of(p, 'y', 181);
    char *kf = run_of(p, 'k', 63), *kn = run_of(p, 'K', 63);
    int keys[17], i, reused;
    uint64_t id, id2;

    for (i = 0; i < 17; i++) {
        rp_func_t *f = &st->funcs[i];
        f->file = "f";
        f->name = i == 16 ? mid : longname;     /* 15 x 257 + 184: 4,039 bytes */
        keys[i] = -1;
    }
    /* The first function by its key: it takes none of the strings. */
    st->funcs[0].file = kf;
    st->funcs[0].name = kn;
    keys[0] = rp_agg_key(a, kf, 0, kn);
    assert_true(keys[0] >= 0);
    id = rp_agg_slow_add_keyed(a, &r, st, keys, r.when);
    id2 = rp_agg_slow_add(a, &r2, other, r2.when);
    assert_true(id > 0 && id2 > 0);
    assert_int_equal(rp_agg_slow_stats(a, id, p, NULL)->nfuncs, 17);

    base2 = apr_pcalloc(p, rp_agg_size(&nokeys));
    c = rp_agg_attach(p, base2, rp_agg_size(&nokeys), &nokeys, 0, &reused);
    assert_non_null(c);
    assert_int_equal(rp_agg_key(c, "zz.c", 9, "other"), 0);
    rp_agg_copy(c, a);
    assert_null(rp_agg_slow_stats(c, id, p, NULL));
    assert_non_null(rp_agg_slow_stats(c, id2, p, NULL));
    snap = rp_agg_read(c, p);
    assert_int_equal(snap->nslow, 1);
    assert_true(snap->slow[0].id == id2);
}

static void test_reattach_keeps_counts_and_copy(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(8, 2, 16, 2), big = sizes(16, 4, 32, 4);
    void *base, *base2;
    rp_agg_t *a = make(p, &sz, &base), *b, *c;
    int reused = 0, k = rp_agg_key(a, "mod_a.c", 1, "fixups"), i;
    rp_agg_call_t call = { k, 1, 10, 20 };
    rp_agg_snap_t *s;

    rp_agg_vhost(a, "www");
    for (i = 0; i < 7; i++) {
        rp_agg_req_t r = req("/p", 2000, (unsigned)i);
        rp_agg_record(a, &r, &call, 1);
    }
    rp_agg_slow_add(a, &(rp_agg_req_t){ "GET", "/s", "www", 0, 200,
                                        apr_time_from_sec(1000), 9000, 0, NULL },
                    small_profile(p, "request GET /s", 9e-6), apr_time_from_sec(1000));
    /* Same sizes: the next generation takes the region as it is. */
    b = rp_agg_attach(p, base, rp_agg_size(&sz), &sz, apr_time_from_sec(2000), &reused);
    assert_int_equal(reused, 1);
    assert_int_equal(rp_agg_read(b, p)->requests, 7);
    assert_int_equal(rp_agg_read(b, p)->created, apr_time_from_sec(1000));
    /* Other sizes: a fresh region, then the counts copied forward. */
    base2 = apr_pcalloc(p, rp_agg_size(&big));
    c = rp_agg_attach(p, base2, rp_agg_size(&big), &big, apr_time_from_sec(2000), &reused);
    assert_int_equal(reused, 0);
    rp_agg_vhost(c, "new-first");
    rp_agg_copy(c, b);
    s = rp_agg_read(c, p);
    assert_int_equal(s->requests, 7);
    assert_int_equal(s->created, apr_time_from_sec(1000));
    assert_int_equal(s->nkeys, 1);
    assert_int_equal(s->keys[0].calls, 7);
    assert_string_equal(s->vhost_names[1], "www");
    assert_int_equal(s->vhost_requests[1], 7);
    assert_int_equal(s->keys[0].vcalls[1], 7);
    assert_int_equal(s->nurls, 1);
    assert_int_equal(s->urls[0].count, 7);
    assert_int_equal(s->nslow, 1);
    assert_string_equal(s->slow[0].path, "/s");
    /* Too small a block is refused. */
    assert_null(rp_agg_attach(p, base, 16, &sz, 0, &reused));
}

/* Found by tests/fuzz/fuzz_agg.c: copying into a region with fewer
 * function slots lost the calls of the functions that did not fit, where
 * a request's calls of such a function count as dropped. */
static void test_copy_into_smaller_key_table_counts_dropped(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1), small = sizes(1, 1, 8, 1);
    void *base, *base2;
    rp_agg_t *a = make(p, &sz, &base), *b;
    rp_agg_call_t calls[3] = { { rp_agg_key(a, "a.c", 1, "x"), 2, 1, 1 },
                               { rp_agg_key(a, "b.c", 1, "x"), 3, 1, 1 },
                               { -1, 4, 1, 1 } };
    rp_agg_req_t r = req("/", 10, 5);
    rp_agg_snap_t *s;
    int reused;

    rp_agg_record(a, &r, calls, 3);
    base2 = apr_pcalloc(p, rp_agg_size(&small));
    b = rp_agg_attach(p, base2, rp_agg_size(&small), &small, 0, &reused);
    rp_agg_copy(b, a);
    s = rp_agg_read(b, p);
    assert_int_equal(s->nkeys, 1);
    assert_string_equal(s->keys[0].file, "a.c");
    assert_int_equal(s->keys[0].calls, 2);
    assert_int_equal(s->keys_dropped, 4 + 3);
}

static void test_reset(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 8, 2);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    int k = rp_agg_key(a, "x.c", 1, "h");
    rp_agg_call_t call = { k, 1, 1, 1 };
    rp_agg_req_t r = req("/z", 100, 3);
    rp_agg_snap_t *s;

    rp_agg_record(a, &r, &call, 1);
    rp_agg_slow_add(a, &r, small_profile(p, "request GET /z", 1e-7), r.when);
    rp_agg_slow_add(a, &r, small_profile(p, "request GET /z", 1e-7), r.when);
    /* The ring is full: a request no slower is not wanted (and the ring
     * records its floor), until the reset empties it. */
    assert_false(rp_agg_slow_wants(a, r.wall_ns, r.when));
    assert_false(rp_agg_slow_wants(a, r.wall_ns, r.when));
    rp_agg_reset(a, apr_time_from_sec(1234));
    assert_true(rp_agg_slow_wants(a, r.wall_ns, r.when));
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 0);
    assert_int_equal(s->nurls, 0);
    assert_int_equal(s->nslow, 0);
    assert_int_equal(s->nkeys, 1);          /* names stay */
    assert_int_equal(s->keys[0].calls, 0);
    assert_int_equal(s->reset, apr_time_from_sec(1234));
    rp_agg_record(a, &r, &call, 1);
    assert_int_equal(rp_agg_read(a, p)->requests, 1);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    const char *c = hay;
    while ((c = strstr(c, needle)) != NULL) {
        n++;
        c += strlen(needle);
    }
    return n;
}

/* Every function count of a snapshot, per key, all columns. */
static void assert_same_keys(const rp_agg_snap_t *x, const rp_agg_snap_t *y)
{
    int i, v;
    assert_int_equal(x->requests, y->requests);
    assert_int_equal(x->profiled, y->profiled);
    assert_int_equal(x->nkeys, y->nkeys);
    for (i = 0; i < x->nkeys; i++) {
        assert_string_equal(x->keys[i].name, y->keys[i].name);
        assert_int_equal(x->keys[i].calls, y->keys[i].calls);
        assert_int_equal(x->keys[i].tt_ns, y->keys[i].tt_ns);
        assert_int_equal(x->keys[i].ct_ns, y->keys[i].ct_ns);
        for (v = 0; v < x->nvhosts && x->keys[i].vcalls; v++) {
            assert_int_equal(x->keys[i].vcalls[v], y->keys[i].vcalls[v]);
            assert_int_equal(x->keys[i].vtt_ns[v], y->keys[i].vtt_ns[v]);
            assert_int_equal(x->keys[i].vct_ns[v], y->keys[i].vct_ns[v]);
        }
    }
}

/* The request counters of two snapshots: totals, status classes,
 * latency buckets, virtual hosts and URL rows (matched by path: rows of
 * equal counts may come in either order). */
static void assert_same_requests(const rp_agg_snap_t *x, const rp_agg_snap_t *y)
{
    int i, j;
    assert_int_equal(x->requests, y->requests);
    assert_int_equal(x->profiled, y->profiled);
    assert_int_equal(x->sum_ns, y->sum_ns);
    assert_int_equal(x->max_ns, y->max_ns);
    for (i = 0; i < RP_AGG_NCLASS; i++)
        assert_int_equal(x->status[i], y->status[i]);
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        assert_int_equal(x->hist[i], y->hist[i]);
    assert_int_equal(x->nvhosts, y->nvhosts);
    for (i = 0; i < x->nvhosts; i++) {
        assert_int_equal(x->vhost_requests[i], y->vhost_requests[i]);
        assert_int_equal(x->vhost_sum_ns[i], y->vhost_sum_ns[i]);
        for (j = 0; j < RP_AGG_NCLASS; j++)
            assert_int_equal(x->vhost_status[i * RP_AGG_NCLASS + j],
                             y->vhost_status[i * RP_AGG_NCLASS + j]);
    }
    assert_int_equal(x->nurls, y->nurls);
    assert_int_equal(x->url_other_count, y->url_other_count);
    for (i = 0; i < x->nurls; i++) {
        const rp_agg_urlrow_t *u = &x->urls[i], *v = NULL;
        for (j = 0; j < y->nurls && !v; j++)
            if (strcmp(y->urls[j].path, u->path) == 0)
                v = &y->urls[j];
        assert_non_null(v);
        assert_int_equal(u->count, v->count);
        assert_int_equal(u->sum_ns, v->sum_ns);
        assert_int_equal(u->max_ns, v->max_ns);
        assert_int_equal(u->last, v->last);
        for (j = 0; j < RP_AGG_NCLASS; j++)
            assert_int_equal(u->status[j], v->status[j]);
    }
}

/* Batched counts, once flushed, are exactly the immediate ones: since
 * start and per virtual host, and in each window minute, across virtual
 * host switches (a batch holds one column) and minute switches (one
 * minute), with keys out of range dropped alike. */
static void test_batch_same_as_immediate(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(8, 2, 32, 1);
    void *b1, *b2;
    rp_agg_t *now_a = make(p, &sz, &b1), *bat_a = make(p, &sz, &b2);
    rp_agg_batch_t *b = rp_agg_batch_create(bat_a, p);
    apr_time_t t = apr_time_from_sec(6000);      /* minute 100 */
    int i, k[4], v[2];
    rp_agg_snap_t *x, *y;

    for (i = 0; i < 4; i++) {
        char n[16];
        snprintf(n, sizeof n, "f%d", i);
        k[i] = rp_agg_key(now_a, "mod_x.c", i, n);
        assert_int_equal(rp_agg_key(bat_a, "mod_x.c", i, n), k[i]);
    }
    v[0] = rp_agg_vhost(now_a, "one");
    v[1] = rp_agg_vhost(now_a, "two");
    assert_int_equal(rp_agg_vhost(bat_a, "one"), v[0]);
    assert_int_equal(rp_agg_vhost(bat_a, "two"), v[1]);
    for (i = 0; i < 300; i++) {
        rp_agg_call_t calls[3] = {
            { k[i % 4], 1 + (uint64_t)(i % 3), 100 + (uint64_t)i, 1000 + (uint64_t)i },
            { k[(i + 1) % 4], 2, 0, 7 },
            { i % 10 == 0 ? 99 : k[0], 1, 5, 5 },   /* 99: no such key */
        };
        /* Twelve URLs: more than a batch keeps (it sends its requests
         * to the region early), statuses of four classes, latencies
         * across the buckets. */
        static const char *const paths[12] = {
            "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i", "/j", "/k",
            "/a/much/longer/path/of/some/site/index.html" };
        static const int codes[4] = { 200, 404, 500, 301 };
        rp_agg_req_t r = req(paths[(i * 7) % 12], 1000 + (uint64_t)i * 3000017u,
                             (unsigned)i);
        r.status = codes[i % 4];
        r.vhost_idx = i % 7 < 4 ? v[0] : i % 7 < 6 ? v[1] : -1;
        r.when = t + apr_time_from_sec(i / 3);    /* 100 s: minutes 100, 101 */
        rp_agg_record(now_a, &r, calls, 3);
        rp_agg_record_batch(bat_a, b, &r, calls, 3);
        if (i % 50 == 49)
            rp_agg_batch_flush(bat_a, b, r.when);
    }
    rp_agg_batch_flush(bat_a, b, t + apr_time_from_sec(100));
    assert_false(rp_agg_batch_pending(b));
    x = rp_agg_read(now_a, p);
    y = rp_agg_read(bat_a, p);
    assert_same_keys(x, y);
    assert_same_requests(x, y);
    assert_true(x->keys[0].calls > 0);
    assert_int_equal(x->requests, 300);
    assert_int_equal(x->nurls, 12);
    assert_true(x->status[1] > 0 && x->status[2] > 0 && x->status[3] > 0 && x->status[4] > 0);
    for (i = 1; i <= 2; i++) {
        x = rp_agg_read_window(now_a, p, i, t + apr_time_from_sec(100));
        y = rp_agg_read_window(bat_a, p, i, t + apr_time_from_sec(100));
        assert_same_keys(x, y);
        assert_same_requests(x, y);
        assert_true(x->keys[1].calls > 0);
        assert_true(x->requests > 0 && x->nurls > 8);
    }
}

/* A small region, a batch for it and one function's call. */
typedef struct batched {
    rp_agg_t *a;
    rp_agg_batch_t *b;
    rp_agg_call_t c;
} batched_t;

static batched_t batched(apr_pool_t *p)
{
    rp_agg_sizes_t sz = sizes(4, 1, 8, 1);
    void *base;
    batched_t t;
    t.a = make(p, &sz, &base);
    t.b = rp_agg_batch_create(t.a, p);
    t.c.key = rp_agg_key(t.a, "mod_x.c", 1, "f");
    t.c.calls = 1;
    t.c.tt_ns = 10;
    t.c.ct_ns = 20;
    return t;
}

/* Until flushed, a batched request shows neither as a request nor by
 * its functions; the flush adds both, the request with its time, status
 * and URL. */
static void test_batch_shows_after_flush(void **state)
{
    apr_pool_t *p = *state;
    batched_t t = batched(p);
    rp_agg_t *a = t.a;
    rp_agg_batch_t *b = t.b;
    rp_agg_call_t c = t.c;
    rp_agg_req_t r = req("/a", 1000, 1);
    rp_agg_snap_t *s;

    rp_agg_record_batch(a, b, &r, &c, 1);
    r.wall_ns = 3000;
    r.status = 404;
    rp_agg_record_batch(a, b, &r, &c, 1);
    assert_true(rp_agg_batch_pending(b));
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 0);
    assert_int_equal(s->profiled, 0);
    assert_int_equal(s->nurls, 0);
    assert_int_equal(s->nkeys, 1);
    assert_int_equal(s->keys[0].calls, 0);
    rp_agg_batch_flush(a, b, r.when);
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 2);
    assert_int_equal(s->profiled, 2);
    assert_int_equal(s->sum_ns, 4000);
    assert_int_equal(s->max_ns, 3000);
    assert_int_equal(s->status[1], 1);
    assert_int_equal(s->status[3], 1);
    assert_int_equal(s->vhost_requests[0], 2);
    assert_int_equal(s->nurls, 1);
    assert_string_equal(s->urls[0].path, "/a");
    assert_int_equal(s->urls[0].count, 2);
    assert_int_equal(s->urls[0].sum_ns, 4000);
    assert_int_equal(s->urls[0].max_ns, 3000);
    assert_int_equal(s->urls[0].status[3], 1);
    assert_int_equal(s->keys[0].calls, 2);
    assert_int_equal(s->keys[0].tt_ns, 20);
    assert_int_equal(s->keys[0].ct_ns, 40);
    s = rp_agg_read_window(a, p, 1, r.when);
    assert_int_equal(s->keys[0].calls, 2);
    /* An empty batch flushes to nothing. */
    rp_agg_batch_flush(a, b, r.when);
    s = rp_agg_read(a, p);
    assert_int_equal(s->keys[0].calls, 2);
}

/* A batch keeps the requests of a few URLs: a request of one more sends
 * those it holds to the region (requests, their URLs and the rest of
 * their counters; its functions wait for the flush) and starts afresh
 * with it. A long path is kept as the region keeps it, cut. */
static void test_batch_many_urls_go_early(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_sizes_t sz = sizes(4, 1, 32, 1);
    void *base;
    rp_agg_t *a = make(p, &sz, &base);
    rp_agg_batch_t *b = rp_agg_batch_create(a, p);
    rp_agg_call_t c = { rp_agg_key(a, "mod_x.c", 1, "f"), 1, 10, 20 };
    char path[16][RP_AGG_URL_LEN + 40];
    rp_agg_snap_t *s;
    int i, seen = 0;

    for (i = 0; i < 16; i++) {
        rp_agg_req_t r;
        if (i == 15) {
            memset(path[i], 'x', sizeof path[i] - 1);
            path[i][0] = '/';
            path[i][sizeof path[i] - 1] = '\0';
        }
        else
            snprintf(path[i], sizeof path[i], "/u%d", i);
        r = req(path[i], 1000, 1);
        rp_agg_record_batch(a, b, &r, &c, 1);
        rp_agg_record_batch(a, b, &r, &c, 1);
        s = rp_agg_read(a, p);
        /* Up to the batch's last URL it holds them all; the next sends
         * the requests of those before it, two each. */
        if (i < RP_AGG_BATCH_URLS)
            assert_int_equal(s->requests, 0);
        else if (i == RP_AGG_BATCH_URLS) {
            assert_int_equal(s->requests, 2 * RP_AGG_BATCH_URLS);
            assert_int_equal(s->profiled, 2 * RP_AGG_BATCH_URLS);
            assert_int_equal(s->nurls, RP_AGG_BATCH_URLS);
            assert_int_equal(s->keys[0].calls, 0);
            seen = 1;
        }
    }
    assert_true(seen);
    rp_agg_batch_flush(a, b, apr_time_from_sec(1000));
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 32);
    assert_int_equal(s->profiled, 32);
    assert_int_equal(s->nurls, 16);
    assert_int_equal(s->url_other_count, 0);
    for (i = 0; i < s->nurls; i++) {
        assert_int_equal(s->urls[i].count, 2);
        assert_true(strlen(s->urls[i].path) < RP_AGG_URL_LEN);
    }
    assert_int_equal(s->keys[0].calls, 32);
}

/* Counts batched before a reset are gone with it; a minute that left
 * every window by the time of the flush adds to the totals only (it is
 * not claimed back from the minute now holding its slot). */
static void test_batch_reset_and_stale_minute(void **state)
{
    apr_pool_t *p = *state;
    batched_t t = batched(p);
    rp_agg_t *a = t.a;
    rp_agg_batch_t *b = t.b;
    rp_agg_call_t c = t.c;
    int k = c.key;
    rp_agg_req_t r = req("/a", 1000, 1);
    apr_time_t later = r.when + apr_time_from_sec(61 * 60);
    rp_agg_snap_t *s;

    rp_agg_record_batch(a, b, &r, &c, 1);
    rp_agg_reset(a, r.when + 1);
    rp_agg_batch_flush(a, b, r.when + 2);
    assert_false(rp_agg_batch_pending(b));
    s = rp_agg_read(a, p);
    assert_int_equal(s->nkeys, 1);
    assert_int_equal(s->keys[0].calls, 0);

    /* After the reset the batch counts again. */
    rp_agg_record_batch(a, b, &r, &c, 1);
    rp_agg_record_batch(a, b, &r, &c, 1);
    /* A request 61 minutes on, in the same slot (61 slots), claims it. */
    {
        rp_agg_req_t r2 = req("/b", 1000, 1);
        rp_agg_call_t c2 = { k, 5, 0, 0 };
        r2.when = later;
        rp_agg_record(a, &r2, &c2, 1);
    }
    rp_agg_batch_flush(a, b, later);
    s = rp_agg_read(a, p);
    assert_int_equal(s->keys[0].calls, 2 + 5);
    s = rp_agg_read_window(a, p, 1, later);
    assert_int_equal(s->requests, 1);
    assert_int_equal(s->keys[0].calls, 5);
}

/* ---- shapes: a batch's sums per request shape ---- */

/* Request shapes (rp_test_ops.h) with recursion (a function under
 * itself: not cumulative twice), phase changes, a hook without a key (4)
 * and dynamic frames. Six of them: more than RP_AGG_SHAPES, so shapes
 * make way for others. */
static const char *const shape_ops[] = {
    "E0p0 E1 X X E2p1 X",
    "E0p0 E1 E1 X X X E2p1 C X",
    "E3p0 X E4p1 E0 X X",
    "E1p0 E0 E1 E0 X X X X",
    "E2p1 E2 E2 X X C X",
    "E0p0 X E0p1 X E0p0 X",
};
#define NSHAPES ((int)(sizeof shape_ops / sizeof shape_ops[0]))

/* Every function count of a snapshot, per key, within tol ns a call. */
static void assert_near_keys(const rp_agg_snap_t *x, const rp_agg_snap_t *y, double tol)
{
    int i;
    assert_int_equal(x->requests, y->requests);
    assert_int_equal(x->nkeys, y->nkeys);
    for (i = 0; i < x->nkeys; i++) {
        double lim = tol * (double)x->keys[i].calls;
        assert_int_equal(x->keys[i].calls, y->keys[i].calls);
        assert_true(fabs((double)x->keys[i].tt_ns - (double)y->keys[i].tt_ns) <= lim);
        assert_true(fabs((double)x->keys[i].ct_ns - (double)y->keys[i].ct_ns) <= lim);
    }
}

/* A request's function counts kept per shape (its frames' ticks summed,
 * made counts at the flush) are rp_agg_record_batch's counts from the
 * profile's folded totals: exactly at one tick a nanosecond, to within a
 * nanosecond a call otherwise; since start, per virtual host, in each
 * window minute, with the dropped calls of a function without a key,
 * across column and minute switches, flushes and shapes making way. */
static void shapes_vs_calls(apr_pool_t *p, double ns_per_tick)
{
    rp_agg_sizes_t sz = sizes(8, 2, 32, 1);
    void *b1, *b2;
    rp_agg_t *ref = make(p, &sz, &b1), *sha = make(p, &sz, &b2);
    rp_agg_batch_t *rb = rp_agg_batch_create(ref, p), *sb = rp_agg_batch_create(sha, p);
    rp_registry_t *reg;
    apr_time_t t = apr_time_from_sec(6000);     /* minute 100 */
    int hook[5], ph[2], keymap[16], i, v[2];
    unsigned seed = 7;
    rp_agg_snap_t *x, *y;
    rp_prof_t *prof = rp_test_ops_prof(p, "mod_x.c", 5, hook, ph, &reg);

    for (i = 0; i < reg->n; i++) {
        const rp_key_t *k = &reg->keys[i];
        keymap[i] = i == hook[4] ? -1 : rp_agg_key(ref, k->file, k->line, k->name);
        if (keymap[i] >= 0)
            assert_int_equal(rp_agg_key(sha, k->file, k->line, k->name), keymap[i]);
    }
    for (i = 0; i < 2; i++) {
        v[i] = rp_agg_vhost(ref, i ? "two" : "one");
        assert_int_equal(rp_agg_vhost(sha, i ? "two" : "one"), v[i]);
    }
    for (i = 0; i < 620; i++) {
        int s = (i * 7 + i / 13) % NSHAPES, n, nf, j, nc = 0, fkey[16], slot;
        rp_agg_call_t calls[16];
        const rp_prof_rec_t *log;
        const rp_prof_fn_t *fns;
        const int *ids;
        rp_agg_req_t r = req("/a", 1000, (unsigned)i);

        rp_test_ops_run(prof, shape_ops[s], hook, ph, &seed);
        assert_true(rp_prof_log_whole(prof));
        r.vhost_idx = i % 11 < 8 ? v[0] : v[1];
        r.when = t + apr_time_from_sec(i / 7);     /* 88 s: minutes 100, 101 */
        /* The shape road first: it must not need the folded totals. */
        ids = rp_prof_ids(prof, &nf);
        for (j = 0; j < nf; j++)
            fkey[j] = ids[j] < 0 ? RP_AGG_UNCOUNTED : keymap[ids[j]];
        log = rp_prof_log(prof, &n);
        slot = rp_agg_shape_find(sb, (uint64_t)s + 1);
        if (slot < 0)
            slot = rp_agg_shape_add(sha, sb, (uint64_t)s + 1, log, n, fkey, nf, ns_per_tick);
        assert_true(slot >= 0);
        if (i % 3 == 1) {
            /* The tree's ticks of the frames (rp_tree_cache_ticks), not the log. */
            uint64_t tk[64];
            assert_true(n <= 64);
            for (j = 0; j < n; j++)
                tk[j] = log[j].t1 > log[j].t0 ? log[j].t1 - log[j].t0 : 0;
            rp_agg_record_shape_ticks(sha, sb, &r, slot, tk, n);
        }
        else
            rp_agg_record_shape(sha, sb, &r, slot, log, n);
        fns = rp_prof_funcs_view(prof, &n);
        for (j = 0; j < n; j++) {
            if (fns[j].id < 0)
                continue;
            calls[nc].key = keymap[fns[j].id];
            calls[nc].calls = (uint64_t)fns[j].calls;
            calls[nc].tt_ns = rp_scale_u64(fns[j].self, ns_per_tick);
            calls[nc].ct_ns = rp_scale_u64(fns[j].total, ns_per_tick);
            nc++;
        }
        rp_agg_record_batch(ref, rb, &r, calls, nc);
        if (i % 50 == 49) {
            rp_agg_batch_flush(ref, rb, r.when);
            rp_agg_batch_flush(sha, sb, r.when);
            assert_false(rp_agg_batch_pending(sb));
        }
    }
    assert_true(rp_agg_batch_pending(sb));
    rp_agg_batch_flush(ref, rb, t + apr_time_from_sec(100));
    rp_agg_batch_flush(sha, sb, t + apr_time_from_sec(100));
    x = rp_agg_read(ref, p);
    y = rp_agg_read(sha, p);
    assert_true(x->keys_dropped > 0);
    assert_int_equal(x->keys_dropped, y->keys_dropped);
    if (ns_per_tick == 1.0)
        assert_same_keys(x, y);
    else
        assert_near_keys(x, y, 1.0);
    for (i = 1; i <= 2; i++) {
        x = rp_agg_read_window(ref, p, i, t + apr_time_from_sec(100));
        y = rp_agg_read_window(sha, p, i, t + apr_time_from_sec(100));
        if (ns_per_tick == 1.0)
            assert_same_keys(x, y);
        else
            assert_near_keys(x, y, 1.0);
        assert_true(x->keys[0].calls > 0);
    }
}

static void test_shapes_same_as_calls(void **state)
{
    shapes_vs_calls(*state, 1.0);
}

static void test_shapes_near_calls_scaled(void **state)
{
    shapes_vs_calls(*state, 0.37);
}

/* A tag that b keeps is found; 0 never is; a shape too big is refused,
 * and a request of an unknown shape is still counted at the flush
 * (functions none). */
static void test_shape_find_and_limits(void **state)
{
    apr_pool_t *p = *state;
    batched_t t = batched(p);
    rp_prof_rec_t log[2];
    int fkey[1] = { t.c.key };
    rp_agg_req_t r = req("/a", 1000, 1);
    rp_agg_snap_t *s;
    int sh;

    memset(log, 0, sizeof log);
    log[0].func = 0;
    log[0].depth = 0;
    log[0].t1 = 50;
    log[0].self = 50;
    assert_int_equal(rp_agg_shape_find(t.b, 0), -1);
    assert_int_equal(rp_agg_shape_add(t.a, t.b, 0, log, 1, fkey, 1, 1.0), -1);
    assert_int_equal(rp_agg_shape_add(t.a, t.b, 9, log, RP_AGG_SHAPE_MAX + 1, fkey, 1, 1.0),
                     -1);
    assert_int_equal(rp_agg_shape_find(t.b, 9), -1);
    sh = rp_agg_shape_add(t.a, t.b, 9, log, 1, fkey, 1, 1.0);
    assert_true(sh >= 0);
    assert_int_equal(rp_agg_shape_find(t.b, 9), sh);
    rp_agg_record_shape(t.a, t.b, &r, sh, log, 1);
    rp_agg_record_shape(t.a, t.b, &r, sh, log, 1);
    rp_agg_record_shape(t.a, t.b, &r, RP_AGG_SHAPES, log, 1);    /* no such shape */
    rp_agg_record_shape(t.a, t.b, &r, sh, log, 2);    /* not its frames */
    s = rp_agg_read(t.a, p);
    assert_int_equal(s->requests, 0);
    assert_int_equal(s->keys[0].calls, 0);
    rp_agg_batch_flush(t.a, t.b, r.when);
    s = rp_agg_read(t.a, p);
    assert_int_equal(s->requests, 4);
    assert_int_equal(s->profiled, 4);
    assert_int_equal(s->keys[0].calls, 2);
    assert_int_equal(s->keys[0].tt_ns, 100);
    assert_int_equal(s->keys[0].ct_ns, 100);
}

/* Key k's counts in s: calls, self and cumulative ns. */
static void assert_key(const rp_agg_snap_t *s, int k, uint64_t calls, uint64_t tt,
                       uint64_t ct)
{
    assert_int_equal(s->keys[k].calls, calls);
    assert_int_equal(s->keys[k].tt_ns, tt);
    assert_int_equal(s->keys[k].ct_ns, ct);
}

/* A shape's self times come from its frames' summed ticks (each less
 * its children's), not from the records' self, which rp_prof fills in
 * only for readers that ask (rp_prof_log): here it holds junk. Two
 * requests of root (100 ticks) > a (30) > b (10) and root > c (20) > c
 * (5): a's self is 20, b's 10, c's 15 + 5, and c's cumulative time only
 * the outer call's. */
static void test_shape_self_from_ticks(void **state)
{
    apr_pool_t *p = *state;
    batched_t t = batched(p);
    rp_prof_rec_t log[5];
    int fkey[4];
    rp_agg_req_t r = req("/a", 1000, 1);
    rp_agg_snap_t *s;
    int sh, i, ka, kb, kc;
    static const int func[5] = { 0, 1, 2, 3, 3 }, depth[5] = { 0, 1, 2, 1, 2 };
    static const rp_tick_t tt[5] = { 100, 30, 10, 20, 5 };
    uint64_t tk[5];

    ka = rp_agg_key(t.a, "mod_x.c", 2, "a");
    kb = rp_agg_key(t.a, "mod_x.c", 3, "b");
    kc = rp_agg_key(t.a, "mod_x.c", 4, "c");
    fkey[0] = RP_AGG_UNCOUNTED;
    fkey[1] = ka;
    fkey[2] = kb;
    fkey[3] = kc;
    memset(log, 0, sizeof log);
    for (i = 0; i < 5; i++) {
        log[i].func = func[i];
        log[i].depth = (int16_t)depth[i];
        log[i].t0 = 1000 + (rp_tick_t)i;
        log[i].t1 = log[i].t0 + tt[i];
        log[i].self = 999;                  /* not read */
    }
    sh = rp_agg_shape_add(t.a, t.b, 7, log, 5, fkey, 4, 1.0);
    assert_true(sh >= 0);
    rp_agg_record_shape(t.a, t.b, &r, sh, log, 5);
    /* The same frames' ticks given (an odd number: the last one alone). */
    for (i = 0; i < 5; i++)
        tk[i] = tt[i];
    rp_agg_record_shape_ticks(t.a, t.b, &r, sh, tk, 5);
    rp_agg_record_shape_ticks(t.a, t.b, &r, sh, tk, 4);        /* not its frames */
    rp_agg_record_shape_ticks(t.a, t.b, &r, RP_AGG_SHAPES, tk, 5);  /* no such shape */
    rp_agg_batch_flush(t.a, t.b, r.when);
    s = rp_agg_read(t.a, p);
    assert_int_equal(s->requests, 4);               /* each counted */
    assert_key(s, ka, 2, 2 * 20, 2 * 30);
    assert_key(s, kb, 2, 2 * 10, 2 * 10);
    assert_key(s, kc, 4, 2 * (15 + 5), 2 * 20);
}

/* Ticks given for a shape of an odd number of frames, each of its own
 * function: root (100) > a (30) > b (10), twice; b is the last frame,
 * which the two-a-step loop adds alone. */
static void test_shape_ticks_odd(void **state)
{
    apr_pool_t *p = *state;
    batched_t t = batched(p);
    rp_prof_rec_t log[3];
    int fkey[3], sh, i, ka, kb;
    rp_agg_req_t r = req("/a", 1000, 1);
    rp_agg_snap_t *s;
    static const uint64_t tk[3] = { 100, 30, 10 };

    ka = rp_agg_key(t.a, "mod_x.c", 2, "a");
    kb = rp_agg_key(t.a, "mod_x.c", 3, "b");
    fkey[0] = RP_AGG_UNCOUNTED;
    fkey[1] = ka;
    fkey[2] = kb;
    memset(log, 0, sizeof log);
    for (i = 0; i < 3; i++) {
        log[i].func = i;
        log[i].depth = (int16_t)i;
        log[i].t0 = 1000;
        log[i].t1 = 1000 + tk[i];
    }
    sh = rp_agg_shape_add(t.a, t.b, 3, log, 3, fkey, 3, 1.0);
    assert_true(sh >= 0);
    rp_agg_record_shape_ticks(t.a, t.b, &r, sh, tk, 3);
    rp_agg_record_shape_ticks(t.a, t.b, &r, sh, tk, 3);
    rp_agg_batch_flush(t.a, t.b, r.when);
    s = rp_agg_read(t.a, p);
    assert_int_equal(s->requests, 2);
    assert_key(s, ka, 2, 2 * 20, 2 * 30);
    assert_key(s, kb, 2, 2 * 10, 2 * 10);
}

static void test_flame_svg(void **state)
{
    apr_pool_t *p = *state;
    rp_stats_t *st = small_profile(p, "request GET /<script>alert(1)</script>", 0.3);
    const char *svg = rp_flame_svg(st, p);

    assert_int_equal(count(svg, "<g class=\"frame\">"), 3);
    assert_int_equal(count(svg, "<rect "), 3);
    assert_null(strstr(svg, "<script>"));
    assert_non_null(strstr(svg, "&lt;script&gt;"));
    /* hover: key, then calls, self and cumulative ms, share of the total */
    assert_non_null(strstr(svg, "<title>mod_cgi.c:1(handler)\n"));
    assert_non_null(strstr(svg, "cumulative 270.000 ms (90.0%)</title>"));
    /* The root spans the whole width, its child 90% of it. */
    assert_non_null(strstr(svg, "width=\"1200.00\""));
    assert_non_null(strstr(svg, "width=\"1080.00\""));
    assert_non_null(strstr(rp_flame_svg(NULL, p), "empty profile"));
    assert_string_equal(rp_xml_escape(p, "a&b'\"<>"), "a&amp;b&#39;&quot;&lt;&gt;");
}

static void test_flame_recursion_cut(void **state)
{
    apr_pool_t *p = *state;
    rp_stats_t *st = small_profile(p, "request GET /", 1.0);
    const char *svg;
    /* handler also calls the root-level phase again: a cycle. */
    st->funcs[1].ncallers = 2;
    st->funcs[1].callers = apr_pcalloc(p, 2 * sizeof(rp_edge_t));
    st->funcs[1].callers[0] = (rp_edge_t){ 0, 1, 1, 0.0, 0.9 };
    st->funcs[1].callers[1] = (rp_edge_t){ 2, 1, 0, 0.0, 0.1 };
    svg = rp_flame_svg(st, p);
    assert_int_equal(count(svg, "<rect "), 3);
}

/* Found by tests/fuzz/fuzz_writers.c: names went into the SVG raw, so a
 * CGI script's file name with control or invalid bytes made the status
 * page's flame view invalid XML and UTF-8. Cleaned as the other writers
 * clean them. */
static void test_flame_names_cleaned(void **state)
{
    apr_pool_t *p = *state;
    rp_stats_t *st = small_profile(p, "request GET /\x01\xff", 1.0);
    const char *svg, *c;

    st->funcs[2].file = "/cgi-bin/a\x03" "b.cgi";
    st->funcs[2].name = "cgi\x1b[31m\xc3";
    svg = rp_flame_svg(st, p);
    for (c = svg; *c; c++)
        assert_true((unsigned char)*c >= 0x20 || *c == '\n');
    assert_null(strstr(svg, "\xff"));
    assert_non_null(strstr(svg, "/cgi-bin/a?b.cgi:1(cgi?[31m\xef\xbf\xbd)"));
    assert_non_null(strstr(svg, "request GET /?\xef\xbf\xbd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_counts_merge_over_stripes),
        RP_TEST(test_tables_full),
        RP_TEST(test_url_table_bounded_and_adds_up),
        RP_TEST(test_long_path_cut_on_char_boundary),
        RP_TEST(test_threads_exact),
        RP_TEST(test_percentiles),
        RP_TEST(test_slow_ring),
        RP_TEST(test_slow_tree_truncated),
        RP_TEST(test_slow_names_cut_on_char_boundary),
        RP_TEST(test_slow_keyed_same_as_copied),
        RP_TEST(test_slow_keyed_copy_cut_when_full),
        RP_TEST(test_slow_keyed_copy_drops_empty_entry),
        RP_TEST(test_reattach_keeps_counts_and_copy),
        RP_TEST(test_copy_into_smaller_key_table_counts_dropped),
        RP_TEST(test_reset),
        RP_TEST(test_batch_same_as_immediate),
        RP_TEST(test_batch_shows_after_flush),
        RP_TEST(test_batch_many_urls_go_early),
        RP_TEST(test_batch_reset_and_stale_minute),
        RP_TEST(test_shapes_same_as_calls),
        RP_TEST(test_shapes_near_calls_scaled),
        RP_TEST(test_shape_find_and_limits),
        RP_TEST(test_shape_self_from_ticks),
        RP_TEST(test_shape_ticks_odd),
        RP_TEST(test_flame_svg),
        RP_TEST(test_flame_recursion_cut),
        RP_TEST(test_flame_names_cleaned),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
