/* Unit tests for the timeline (rp_prof's optional event log, live
 * snapshot) and the callgrind, Chrome trace and collapsed-stack writers.
 * Ticks are microseconds here (sec_per_tick 1e-6) so every number is
 * exact. */
#include <math.h>
#include <stdio.h>
#include <apr_strings.h>
#include "rp_test.h"
#include "rp_prof.h"
#include "rp_callgrind.h"
#include "rp_chrome.h"
#include "rp_collapsed.h"

#define US 1e-6

typedef struct ids {
    rp_registry_t *reg;
    int ph_handler, ph_fix, core1, dir, deflate;
} ids_t;

static ids_t make_ids(apr_pool_t *p)
{
    ids_t i;
    i.reg = rp_registry_create(p, 16);
    i.ph_handler = rp_registry_add(i.reg, "httpd", 0, "handler");
    i.ph_fix = rp_registry_add(i.reg, "httpd", 0, "fixups");
    i.core1 = rp_registry_add(i.reg, "core.c", 1, "handler");
    i.dir = rp_registry_add(i.reg, "mod_dir.c", 1, "fixups");
    i.deflate = rp_registry_add(i.reg, "mod_deflate.c", 1, "filter DEFLATE");
    return i;
}

static const char *label(const void *req, apr_pool_t *p)
{
    (void)req;
    return apr_pstrdup(p, "subrequest /x");
}

static int req;

/* root 0..100; fixups 10..20 (mod_dir); handler 30..70 (core.c, which
 * passes a brigade to DEFLATE 40..50). */
static rp_prof_t *run(apr_pool_t *p, const ids_t *i, int log_max)
{
    rp_prof_t *pr = rp_prof_create(p, i->reg, label);
    int h, f;
    rp_prof_set_event_log(pr, log_max);
    rp_prof_begin(pr, &req, "request GET /x", 0);
    h = rp_prof_enter(pr, &req, i->ph_fix, i->dir, 10);
    rp_prof_exit(pr, h, 20);
    h = rp_prof_enter(pr, &req, i->ph_handler, i->core1, 30);
    f = rp_prof_enter(pr, NULL, -1, i->deflate, 40);
    rp_prof_exit(pr, f, 50);
    rp_prof_exit(pr, h, 70);
    rp_prof_end(pr, 100);
    return pr;
}

static void test_event_log(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = run(p, &i, 100);
    rp_stats_t *st = rp_prof_stats(pr, p, US);
    rp_trace_t *tr = rp_prof_trace(pr, p, US);
    /* root, fixups phase, mod_dir, handler phase, core.c, DEFLATE */
    static const struct { const char *name; int depth; double ts, dur; } want[] = {
        { "request GET /x", 0, 0, 100 }, { "fixups", 1, 10, 10 },
        { "fixups", 2, 10, 10 }, { "handler", 1, 30, 40 },
        { "handler", 2, 30, 40 }, { "filter DEFLATE", 3, 40, 10 },
    };
    int k;
    assert_int_equal(tr->n, 6);
    assert_int_equal(tr->dropped, 0);
    for (k = 0; k < 6; k++) {
        const rp_trace_ev_t *e = &tr->ev[k];
        assert_string_equal(st->funcs[e->func].name, want[k].name);
        assert_int_equal(e->depth, want[k].depth);
        assert_true(fabs(e->ts - want[k].ts) < 1e-9);
        assert_true(fabs(e->dur - want[k].dur) < 1e-9);
    }
}

static void test_event_log_bounded_and_off(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = run(p, &i, 4);
    rp_trace_t *tr = rp_prof_trace(pr, p, US);
    assert_int_equal(tr->n, 4);
    assert_int_equal(tr->dropped, 2);
    pr = run(p, &i, 0);
    tr = rp_prof_trace(pr, p, US);
    assert_int_equal(tr->n, 0);
    assert_int_equal(tr->dropped, 0);
    /* the stats do not depend on the log */
    assert_int_equal(rp_prof_stats(pr, p, US)->nfuncs, 6);
}

static void test_self_now_counts_open_frames(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_tick_t self[16], total;
    int h, n, k;
    rp_prof_begin(pr, &req, "request GET /x", 0);
    h = rp_prof_enter(pr, &req, i.ph_fix, i.dir, 10);
    rp_prof_exit(pr, h, 20);
    rp_prof_enter(pr, &req, i.ph_handler, i.core1, 30);
    /* at 55 the handler entry is still running */
    n = rp_prof_nfuncs(pr);
    assert_true(n <= 16);
    total = rp_prof_self_now(pr, 55, self);
    assert_int_equal(total, 55);
    for (k = 0; k < n; k++) {
        const char *file, *name;
        int line;
        rp_prof_func_key(pr, k, &file, &line, &name);
        if (!strcmp(file, "core.c"))
            assert_int_equal(self[k], 25);
        else if (!strcmp(file, "mod_dir.c"))
            assert_int_equal(self[k], 10);
        else if (!strcmp(name, "request GET /x"))
            assert_int_equal(self[k], 20);     /* 0..10 and 20..30 */
        else
            assert_int_equal(self[k], 0);      /* the phases */
    }
}

static void test_collapsed(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_stats_t *st = rp_prof_stats(run(p, &i, 0), p, US);
    const char *data;
    apr_size_t len;
    assert_int_equal(rp_collapsed_encode(st, p, &data, &len), APR_SUCCESS);
    assert_string_equal(apr_pstrndup(p, data, len),
                        "request GET /x 50\n"
                        "request GET /x;fixups;mod_dir.c:1(fixups) 10\n"
                        "request GET /x;handler;core.c:1(handler) 30\n"
                        "request GET /x;handler;core.c:1(handler);"
                        "mod_deflate.c:1(filter DEFLATE) 10\n");
}

static void test_collapsed_splits_shared_callee(void **state)
{
    /* One callee under two callers: its time below each follows the edge. */
    apr_pool_t *p = *state;
    rp_func_t f[4];
    rp_edge_t e_a = { 0, 1, 1, 0.001, 0.003 }, e_b = { 0, 1, 1, 0.002, 0.004 };
    rp_edge_t e_c[2] = { { 1, 1, 1, 0.001, 0.001 }, { 2, 3, 3, 0.003, 0.003 } };
    rp_stats_t st = { 4, f };
    const char *data;
    apr_size_t len;
    memset(f, 0, sizeof f);
    f[0] = (rp_func_t){ "httpd", 0, "request GET /", 1, 1, 0.003, 0.010, 0, NULL, 0 };
    f[1] = (rp_func_t){ "a.c", 1, "A;x", 1, 1, 0.002, 0.003, 1, &e_a, 0 };
    f[2] = (rp_func_t){ "b.c", 1, "B", 1, 1, 0.001, 0.004, 1, &e_b, 0 };
    f[3] = (rp_func_t){ "c.c", 1, "C", 4, 4, 0.004, 0.004, 2, e_c, 0 };
    assert_int_equal(rp_collapsed_encode(&st, p, &data, &len), APR_SUCCESS);
    assert_string_equal(apr_pstrndup(p, data, len),
                        "request GET / 3000\n"
                        "request GET /;a.c:1(A:x) 1000\n"
                        "request GET /;a.c:1(A:x);c.c:1(C) 1000\n"
                        "request GET /;b.c:1(B) 2000\n"
                        "request GET /;b.c:1(B);c.c:1(C) 3000\n");
    st.nfuncs = 0;
    assert_int_equal(rp_collapsed_encode(&st, p, &data, &len), APR_EINVAL);
}

static void test_callgrind(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_stats_t *st = rp_prof_stats(run(p, &i, 0), p, US);
    rp_callgrind_meta_t m = { "request GET /x", 42 };
    const char *data, *s;
    apr_size_t len;
    assert_int_equal(rp_callgrind_encode(st, &m, p, &data, &len), APR_SUCCESS);
    s = apr_pstrndup(p, data, len);
    assert_non_null(strstr(s, "# callgrind format\nversion: 1\n"));
    assert_non_null(strstr(s, "\npid: 42\ncmd: request GET /x\n"));
    assert_non_null(strstr(s, "\nevents: ns\n"));
    assert_non_null(strstr(s, "\nsummary: 100000\n"));     /* all self time */
    assert_non_null(strstr(s, "\ntotals: 100000\n"));
    /* the root: 50 us self, calls fixups (10 us incl.) and handler (40) */
    assert_non_null(strstr(s, "fl=httpd\nfn=request GET /x\n0 50000\n"
                              "cfl=httpd\ncfn=fixups\ncalls=1 0\n0 10000\n"
                              "cfl=httpd\ncfn=handler\ncalls=1 0\n0 40000\n"));
    assert_non_null(strstr(s, "fl=core.c\nfn=1(handler)\n1 30000\n"
                              "cfl=mod_deflate.c\ncfn=1(filter DEFLATE)\n"
                              "calls=1 1\n1 10000\n"));
}

/* A CGI run's entry (its file is the script's path) is never a file a
 * viewer would open: fl=???, the path inside the name. */
static void test_callgrind_script_path(void **state)
{
    apr_pool_t *p = *state;
    rp_edge_t e1 = { 0, 1, 1, 0.001, 0.003 }, e2 = { 1, 1, 1, 0.002, 0.002 };
    rp_func_t f[3] = {
        { "httpd", 0, "request GET /cgi-bin/x.cgi", 1, 1, 0.001, 0.004, 0, NULL, 0 },
        { "mod_cgi.c", 1, "handler", 1, 1, 0.001, 0.003, 1, &e1, 0 },
        { "/usr/lib/cgi-bin/x.cgi", 1, "cgi (exit 0)", 1, 1, 0.002, 0.002, 1, &e2, 0 },
    };
    rp_stats_t st = { 3, f };
    const char *data, *s;
    apr_size_t len;
    assert_int_equal(rp_callgrind_encode(&st, NULL, p, &data, &len), APR_SUCCESS);
    s = apr_pstrndup(p, data, len);
    assert_non_null(strstr(s, "fl=mod_cgi.c\nfn=1(handler)\n1 1000000\n"
                              "cfl=???\ncfn=/usr/lib/cgi-bin/x.cgi:1(cgi (exit 0))\n"
                              "calls=1 1\n1 2000000\n"));
    assert_non_null(strstr(s, "fl=???\nfn=/usr/lib/cgi-bin/x.cgi:1(cgi (exit 0))\n"));
    assert_null(strstr(s, "fl=/"));
    assert_null(strstr(s, "mod_cgi.c:mod_cgi.c"));
}

static void test_chrome(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = run(p, &i, 100);
    rp_stats_t *st = rp_prof_stats(pr, p, US);
    rp_chrome_meta_t m = { 7, 9, 1000000.0, 1795226900123456.0, "httpd \"x\"",
                          "request GET /x", NULL, NULL };
    const char *data, *s;
    apr_size_t len;
    assert_int_equal(rp_chrome_encode(st, rp_prof_trace(pr, p, US), &m, p, &data, &len),
                     APR_SUCCESS);
    s = apr_pstrndup(p, data, len);
    assert_true(!strncmp(s, "{\"traceEvents\":[\n", 17));
    assert_non_null(strstr(s, "{\"name\":\"process_name\",\"ph\":\"M\",\"ts\":0,\"pid\":7,"
                              "\"tid\":9,\"args\":{\"name\":\"httpd \\\"x\\\"\"}}"));
    /* Whole microseconds, numbers as numbers, no args on slices (speedscope
     * would append them to the names). */
    assert_non_null(strstr(s, "{\"name\":\"core.c handler\",\"cat\":\"core.c\",\"ph\":\"X\","
                              "\"ts\":1000030,\"dur\":40,\"pid\":7,\"tid\":9}"));
    assert_non_null(strstr(s, "{\"name\":\"request GET /x\",\"cat\":\"httpd\",\"ph\":\"X\","
                              "\"ts\":1000000,\"dur\":100,"));
    assert_non_null(strstr(s, "\"otherData\":{\"generator\":\"mod_reqprof\","
                              "\"request_start_us\":1795226900123456,\"events\":6,"
                              "\"hidden_events\":0,\"dropped_events\":0}}\n"));
    assert_null(strstr(s, ",\n]"));                 /* no trailing comma */
    assert_null(strstr(s, "\"ph\":\"X\",\"ts\":1000000,\"dur\":100,\"pid\":7,\"tid\":9,"));
    assert_null(strstr(s, "trace_id"));
}

/* Rounding each end to whole microseconds may push a child past its
 * parent or before its previous sibling's end: every slice is clamped
 * into [previous sibling's end, parent's end]; one left 0 us long is not
 * written (hidden_events), except at the root level; a level deeper than
 * any open one hangs off the deepest open one. */
static void test_chrome_clamped(void **state)
{
    apr_pool_t *p = *state;
    rp_func_t f[2] = {
        { "httpd", 0, "request GET /", 1, 1, 0, 0, 0, NULL, 0 },
        { "mod_x.c", 1, "fixups", 1, 1, 0, 0, 0, NULL, 0 },
    };
    rp_stats_t st = { 2, f };
    rp_trace_ev_t ev[] = {
        { 0, 0, 0.0, 20.4 },    /* [0, 20] */
        { 1, 1, 0.2, 20.6 },    /* [0, 21] -> [0, 20] */
        { 1, 2, 2.6, 5.0 },     /* [3, 8] */
        { 1, 2, 7.4, 3.0 },     /* [7, 10] -> after its sibling: [8, 10] */
        { 1, 2, 9.0, 0.3 },     /* [9, 9] -> [10, 10]: hidden */
        { 1, 1, 19.6, 3.0 },    /* [20, 23] -> [20, 20]: hidden */
        { 1, 5, 19.7, 3.0 },    /* depth 2 really, inside [20, 20]: hidden */
        { 0, 0, 20.3, 2.0 },    /* a second root: after the first, [20, 22] */
    };
    rp_trace_t tr = { 8, ev, 3 };
    rp_chrome_meta_t m = { 1, 2, 0.0, 5.0, "p", "t", "4bf92f3577b34da6a3ce929d0e0e4736",
                           "00f067aa0ba902b7" };
    static const char *const want[] = {
        "\"ts\":0,\"dur\":20,", "\"ts\":0,\"dur\":20,", "\"ts\":3,\"dur\":5,",
        "\"ts\":8,\"dur\":2,", "\"ts\":20,\"dur\":2,",
    };
    const char *data, *s;
    apr_size_t len;
    int k;
    assert_int_equal(rp_chrome_encode(&st, &tr, &m, p, &data, &len), APR_SUCCESS);
    s = apr_pstrndup(p, data, len);
    for (k = 0; k < 5; k++) {
        s = strstr(s, "\"ph\":\"X\"");
        assert_non_null(s);
        s += 9;
        if (strncmp(s, want[k], strlen(want[k])))
            fail_msg("slice %d: %.40s, want %s", k, s, want[k]);
    }
    assert_null(strstr(s, "\"ph\":\"X\""));
    s = apr_pstrndup(p, data, len);
    assert_non_null(strstr(s, "\"request_start_us\":5,\"events\":5,\"hidden_events\":3,"
                              "\"dropped_events\":3,"
                              "\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\","
                              "\"span_id\":\"00f067aa0ba902b7\"}}"));
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_event_log),
    RP_TEST(test_event_log_bounded_and_off),
    RP_TEST(test_self_now_counts_open_frames),
    RP_TEST(test_collapsed),
    RP_TEST(test_collapsed_splits_shared_callee),
    RP_TEST(test_callgrind),
    RP_TEST(test_callgrind_script_path),
    RP_TEST(test_chrome),
    RP_TEST(test_chrome_clamped),
};

RP_TEST_MAIN(tests)
