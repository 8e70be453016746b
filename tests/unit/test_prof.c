/*
 * test_prof.c - cProfile accounting of rp_prof on synthetic call sequences.
 * Times are plain tick numbers and converted with 1 second per tick, so
 * every expected value is exact.
 */
#include "rp_test.h"
#include <apr_strings.h>
#include "rp_prof.h"

/* Requests are opaque pointers; these stand for request_recs. */
static int main_req, sub_req, redir_req;

static const char *label(const void *req, apr_pool_t *p)
{
    if (req == &sub_req)
        return "subrequest /index.html";
    if (req == &redir_req)
        return "redirect /404.html";
    return apr_pstrdup(p, "unknown");
}

typedef struct ids {
    rp_registry_t *reg;
    int ph_trans, ph_fix, ph_handler;
    int alias, rewrite, dir, mime, core1, core2;
} ids_t;

static ids_t make_ids(apr_pool_t *p)
{
    ids_t i;
    i.reg = rp_registry_create(p, 64);
    i.ph_trans = rp_registry_add(i.reg, "httpd", 0, "translate_name");
    i.ph_fix = rp_registry_add(i.reg, "httpd", 0, "fixups");
    i.ph_handler = rp_registry_add(i.reg, "httpd", 0, "handler");
    i.alias = rp_registry_add(i.reg, "mod_alias.c", 1, "translate_name");
    i.rewrite = rp_registry_add(i.reg, "mod_rewrite.c", 1, "translate_name");
    i.dir = rp_registry_add(i.reg, "mod_dir.c", 1, "fixups");
    i.mime = rp_registry_add(i.reg, "mod_mime.c", 1, "fixups");
    i.core1 = rp_registry_add(i.reg, "core.c", 1, "handler");
    i.core2 = rp_registry_add(i.reg, "core.c", 2, "handler");
    return i;
}

static const rp_func_t *find(const rp_stats_t *st, const char *file, int line,
                             const char *name)
{
    int i;
    for (i = 0; i < st->nfuncs; i++)
        if (strcmp(st->funcs[i].file, file) == 0 && st->funcs[i].line == line
            && strcmp(st->funcs[i].name, name) == 0)
            return &st->funcs[i];
    fail_msg("no function %s:%d(%s)", file, line, name);
    return NULL;
}

static const rp_edge_t *edge_from(const rp_stats_t *st, const rp_func_t *f,
                                  const rp_func_t *caller)
{
    int i;
    for (i = 0; i < f->ncallers; i++)
        if (&st->funcs[f->callers[i].caller] == caller)
            return &f->callers[i];
    fail_msg("%s has no caller %s", f->name, caller->name);
    return NULL;
}

static void test_registry_dedupes_and_fills(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg = rp_registry_create(p, 2);
    int a = rp_registry_add(reg, "core.c", 1, "handler");
    assert_int_equal(rp_registry_add(reg, "core.c", 1, "handler"), a);
    assert_int_equal(rp_registry_add(reg, "core.c", 2, "handler"), 1);
    assert_int_equal(rp_registry_add(reg, "mod_x.c", 1, "handler"), -1);
    assert_int_equal(reg->n, 2);
}

/* root [0,100]; translate_name phase: alias [10,20], rewrite [25,40];
 * handler phase: core1 [50,90]; end at 100. */
static void test_flat_request(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *root, *ph, *al, *rw, *h, *c1;
    int fr;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    fr = rp_prof_enter(pr, &main_req, i.ph_trans, i.alias, 10);
    rp_prof_exit(pr, fr, 20);
    fr = rp_prof_enter(pr, &main_req, i.ph_trans, i.rewrite, 25);
    rp_prof_exit(pr, fr, 40);
    fr = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 50);
    rp_prof_exit(pr, fr, 90);
    rp_prof_end(pr, 100);
    assert_int_equal(rp_prof_root_ticks(pr), 100);

    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(st->nfuncs, 6);
    root = &st->funcs[0];
    assert_string_equal(root->name, "request GET /");
    assert_int_equal(root->ncallers, 0);
    assert_true(root->ct == 100.0);
    /* phase nodes run from their first hook's start to their last hook's
     * end: translate_name [10,40], handler [50,90]; the rest is root's. */
    assert_true(root->tt == 100.0 - 30.0 - 40.0);

    ph = find(st, "httpd", 0, "translate_name");
    assert_true(ph->ct == 30.0);
    assert_true(ph->tt == 30.0 - 10.0 - 15.0);
    assert_int_equal(ph->nc, 1);
    al = find(st, "mod_alias.c", 1, "translate_name");
    rw = find(st, "mod_rewrite.c", 1, "translate_name");
    assert_true(al->tt == 10.0 && al->ct == 10.0);
    assert_true(rw->tt == 15.0 && rw->ct == 15.0);
    assert_int_equal(al->ncallers, 1);
    assert_true(edge_from(st, al, ph)->ct == 10.0);
    assert_true(edge_from(st, ph, root)->nc == 1);

    h = find(st, "httpd", 0, "handler");
    c1 = find(st, "core.c", 1, "handler");
    assert_true(h->ct == 40.0 && h->tt == 0.0);
    assert_true(c1->ct == 40.0);
    assert_true(edge_from(st, h, root)->ct == 40.0);
}

/* Same phase entered twice in a row by one request: one phase call. */
static void test_phase_node_spans_its_hooks(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    int fr;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    fr = rp_prof_enter(pr, &main_req, i.ph_fix, i.dir, 5);
    rp_prof_exit(pr, fr, 6);
    fr = rp_prof_enter(pr, &main_req, i.ph_fix, i.mime, 8);
    rp_prof_exit(pr, fr, 9);
    rp_prof_end(pr, 50);
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(find(st, "httpd", 0, "fixups")->nc, 1);
    assert_true(find(st, "httpd", 0, "fixups")->ct == 4.0);
    assert_true(find(st, "httpd", 0, "fixups")->tt == 2.0);
}

/* mod_dir's fixups runs a subrequest whose own fixups phase runs mod_mime:
 * the fixups phase node recurses (2 calls, 1 primitive) and its cumulative
 * time counts the outer call only, as cProfile does. */
static void test_subrequest_nests_and_recursion(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *root, *fix, *dir, *sub, *mime;
    int outer, inner;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    outer = rp_prof_enter(pr, &main_req, i.ph_fix, i.dir, 10);
    inner = rp_prof_enter(pr, &sub_req, i.ph_trans, i.alias, 12);
    rp_prof_exit(pr, inner, 14);
    inner = rp_prof_enter(pr, &sub_req, i.ph_fix, i.mime, 16);
    rp_prof_exit(pr, inner, 20);
    rp_prof_exit(pr, outer, 30);
    inner = rp_prof_enter(pr, &main_req, i.ph_fix, i.mime, 31);
    rp_prof_exit(pr, inner, 33);
    rp_prof_end(pr, 40);

    st = rp_prof_stats(pr, p, 1.0);
    root = &st->funcs[0];
    fix = find(st, "httpd", 0, "fixups");
    dir = find(st, "mod_dir.c", 1, "fixups");
    sub = find(st, "httpd", 0, "subrequest /index.html");
    mime = find(st, "mod_mime.c", 1, "fixups");

    assert_int_equal(fix->nc, 2);
    assert_int_equal(fix->cc, 1);
    /* outer fixups phase: [10,33]; the inner one [16,20] is recursive */
    assert_true(fix->ct == 23.0);
    /* self: outer 23 - dir 20 - mime 2 = 1; inner 4 - mime 4 = 0 */
    assert_true(fix->tt == 1.0);
    assert_true(edge_from(st, fix, root)->nc == 1);
    assert_true(edge_from(st, fix, sub)->nc == 1);
    assert_true(edge_from(st, fix, sub)->ct == 4.0);

    assert_true(dir->ct == 20.0);
    /* the subrequest frame spans its first to last hook: [12,20] */
    assert_true(sub->ct == 8.0);
    assert_true(dir->tt == 20.0 - 8.0);
    assert_true(edge_from(st, sub, dir)->nc == 1);

    assert_int_equal(mime->nc, 2);
    assert_int_equal(mime->cc, 2);
    assert_true(mime->ct == 6.0);
    assert_int_equal(mime->ncallers, 1);
    assert_true(edge_from(st, mime, fix)->nc == 2);

    /* sum of self times equals the root's wall time */
    {
        double sum = 0;
        int k;
        for (k = 0; k < st->nfuncs; k++)
            sum += st->funcs[k].tt;
        assert_true(sum == 40.0);
    }
}

/* A redirect made by core after the handler returned (ErrorDocument) nests
 * under the root, closing the handler phase at its last hook. */
static void test_redirect_outside_hooks_nests_under_root(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *root, *red, *h;
    int fr;

    rp_prof_begin(pr, &main_req, "request GET /missing", 0);
    fr = rp_prof_enter(pr, &main_req, i.ph_handler, i.core2, 10);
    rp_prof_exit(pr, fr, 15);
    fr = rp_prof_enter(pr, &redir_req, i.ph_handler, i.core2, 20);
    rp_prof_exit(pr, fr, 28);
    rp_prof_end(pr, 30);
    st = rp_prof_stats(pr, p, 1.0);
    root = &st->funcs[0];
    red = find(st, "httpd", 0, "redirect /404.html");
    h = find(st, "httpd", 0, "handler");
    assert_true(edge_from(st, red, root)->ct == 8.0);
    assert_int_equal(h->nc, 2);
    assert_int_equal(h->cc, 2);
    assert_true(edge_from(st, h, root)->ct == 5.0);
    assert_true(edge_from(st, h, red)->ct == 8.0);
    assert_true(find(st, "core.c", 2, "handler")->ct == 13.0);
}

/* Direct recursion of one hook entry: nc/cc and outermost cumtime. */
static void test_direct_recursion(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *c;
    int a, b;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 0);
    b = rp_prof_enter(pr, &main_req, -1, i.core1, 2);
    rp_prof_exit(pr, b, 5);
    rp_prof_exit(pr, a, 10);
    rp_prof_end(pr, 10);
    st = rp_prof_stats(pr, p, 1.0);
    c = find(st, "core.c", 1, "handler");
    assert_int_equal(c->nc, 2);
    assert_int_equal(c->cc, 1);
    assert_true(c->ct == 10.0);
    assert_true(c->tt == 10.0);
    /* the recursive edge core1 -> core1 */
    assert_true(edge_from(st, c, c)->nc == 1);
    assert_true(edge_from(st, c, c)->cc == 1);
}

/* A dynamic call (a CGI run, a proxy backend) nests in the open hook call
 * and is keyed by its own file and label. */
static void test_dynamic_call_nests_in_hook(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *cgi, *c;
    int a, b;

    rp_prof_begin(pr, &main_req, "request GET /cgi", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    b = rp_prof_enter_dynamic(pr, &main_req, "/usr/lib/cgi-bin/x.cgi", 1, "cgi", 2);
    assert_true(b > a);
    rp_prof_exit(pr, b, 7);
    b = rp_prof_enter_dynamic(pr, &main_req, "/usr/lib/cgi-bin/x.cgi", 1, "cgi", 8);
    rp_prof_exit(pr, b, 9);
    rp_prof_exit(pr, a, 10);
    rp_prof_end(pr, 12);
    st = rp_prof_stats(pr, p, 1.0);
    cgi = find(st, "/usr/lib/cgi-bin/x.cgi", 1, "cgi");
    c = find(st, "core.c", 1, "handler");
    assert_true(cgi->nc == 2);
    assert_true(cgi->ct == 6.0);
    assert_true(c->tt == 3.0);
    assert_true(edge_from(st, cgi, c)->nc == 2);
}

/* The cases rp_prof_enter answers without settle, and their neighbours
 * that must still settle: a hook of a phase called inside a timed call of
 * the same request gets its phase frame there; a call with no phase
 * (a filter) nests in the timed call it runs in, or closes the phase
 * frame open when no call is; the next hook of the open phase shares its
 * frame; a subrequest's filter inside the parent's hook opens the
 * subrequest's frame. */
static void test_enter_fast_path_and_its_neighbours(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    int filt = rp_registry_add(i.reg, "core.c", 9, "filter CORE");
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *fix, *dir, *mime, *f, *h, *root, *sub;
    int a, b, c;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_fix, i.dir, 1);       /* fixups > dir */
    b = rp_prof_enter(pr, &main_req, -1, filt, 2);              /* filter in dir */
    assert_int_equal(b, a + 1);
    rp_prof_exit(pr, b, 3);
    b = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 4); /* handler in dir */
    assert_int_equal(b, a + 2);                                 /* its phase frame too */
    rp_prof_exit(pr, b, 5);
    c = rp_prof_enter(pr, &sub_req, -1, filt, 6);               /* sub's filter in dir */
    assert_int_equal(c, a + 2);                                 /* sub's frame, then it */
    rp_prof_exit(pr, c, 7);
    rp_prof_exit(pr, a, 8);
    a = rp_prof_enter(pr, &main_req, i.ph_fix, i.mime, 9);      /* same phase: same frame */
    assert_int_equal(a, 2);
    rp_prof_exit(pr, a, 10);
    b = rp_prof_enter(pr, &main_req, -1, filt, 11);             /* filter after it */
    assert_int_equal(b, 1);                                     /* the phase is over */
    rp_prof_exit(pr, b, 12);
    rp_prof_end(pr, 13);

    st = rp_prof_stats(pr, p, 1.0);
    root = &st->funcs[0];
    fix = find(st, "httpd", 0, "fixups");
    h = find(st, "httpd", 0, "handler");
    dir = find(st, "mod_dir.c", 1, "fixups");
    mime = find(st, "mod_mime.c", 1, "fixups");
    f = find(st, "core.c", 9, "filter CORE");
    sub = find(st, "httpd", 0, "subrequest /index.html");
    assert_int_equal(fix->nc, 1);                 /* one frame for both hooks */
    assert_true(fix->ct == 9.0);                  /* 1 .. 10 */
    assert_int_equal(edge_from(st, dir, fix)->nc, 1);
    assert_int_equal(edge_from(st, mime, fix)->nc, 1);
    assert_int_equal(edge_from(st, h, dir)->nc, 1);
    assert_int_equal(f->nc, 3);
    assert_int_equal(edge_from(st, f, dir)->nc, 1);
    assert_int_equal(edge_from(st, f, sub)->nc, 1);
    assert_int_equal(edge_from(st, f, root)->nc, 1);
    assert_int_equal(edge_from(st, sub, dir)->nc, 1);
    assert_true(dir->tt == 7.0 - 1.0 - 1.0 - 1.0);   /* 1..8 less 3 children */
}

/* The request ends (end-of-request bucket) while calls are still open:
 * they end then, and their later exits change nothing. */
static void test_end_with_open_frames(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *inner, *c;
    int a, b;

    rp_prof_begin(pr, &main_req, "request GET /big", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    b = rp_prof_enter(pr, NULL, -1, i.core2, 2);
    rp_prof_end(pr, 9);
    rp_prof_exit(pr, b, 11);              /* ignored: profile ended */
    rp_prof_exit(pr, a, 12);
    assert_false(rp_prof_active(pr));
    st = rp_prof_stats(pr, p, 1.0);
    inner = find(st, "core.c", 2, "handler");
    c = find(st, "core.c", 1, "handler");
    assert_true(inner->ct == 7.0);
    assert_true(c->ct == 8.0);
    assert_true(st->funcs[0].ct == 9.0);
    assert_true(edge_from(st, inner, c)->nc == 1);
}

/* A call with no request of its own (req NULL) nests in the open frame and
 * closes no lazy frame; with its request given it would close the phase. */
static void test_null_request_nests_in_open_frame(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *h, *c2;
    int fr;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    fr = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    rp_prof_exit(pr, fr, 3);
    /* the handler phase frame is lazy and still open */
    fr = rp_prof_enter(pr, NULL, -1, i.core2, 5);
    rp_prof_exit(pr, fr, 9);
    /* a call for the request inside a request-less one nests in it and
     * is not taken for a new request context */
    fr = rp_prof_enter(pr, NULL, -1, i.core2, 10);
    {
        int inner = rp_prof_enter(pr, &main_req, -1, i.core1, 11);
        rp_prof_exit(pr, inner, 12);
    }
    rp_prof_exit(pr, fr, 13);
    rp_prof_end(pr, 14);
    st = rp_prof_stats(pr, p, 1.0);
    h = find(st, "httpd", 0, "handler");
    c2 = find(st, "core.c", 2, "handler");
    assert_true(edge_from(st, c2, h)->nc == 2);
    assert_int_equal(h->nc, 1);
    assert_true(h->ct == 12.0);
    assert_true(edge_from(st, find(st, "core.c", 1, "handler"), c2)->nc == 1);
    assert_int_equal(st->nfuncs, 4);      /* no extra request node */
}

/* Found by tests/fuzz/fuzz_writers.c: a dynamic call with no request
 * (req NULL) was taken for a new request context, so label_fn got NULL
 * (the glue's would crash) and an extra request node appeared. It nests
 * in the open frame, as rp_prof_enter's request-less calls do. */
static void test_null_request_dynamic_nests_in_open_frame(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *h, *dyn;
    int fr;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    fr = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    rp_prof_exit(pr, fr, 3);
    fr = rp_prof_enter_dynamic(pr, NULL, NULL, 0, "CORE_OUT", 4);
    assert_true(fr > 0);
    {
        /* a call for the request inside it is no new request either */
        int inner = rp_prof_enter(pr, &main_req, -1, i.core2, 5);
        rp_prof_exit(pr, inner, 6);
    }
    rp_prof_exit(pr, fr, 8);
    rp_prof_end(pr, 9);
    st = rp_prof_stats(pr, p, 1.0);
    h = find(st, "httpd", 0, "handler");
    dyn = find(st, "httpd", 0, "CORE_OUT");
    assert_true(edge_from(st, dyn, h)->nc == 1);
    assert_true(dyn->ct == 4.0);
    assert_true(edge_from(st, find(st, "core.c", 2, "handler"), dyn)->nc == 1);
    assert_int_equal(st->nfuncs, 5);      /* no "unknown" request node */
}

/* A subrequest's output passes on into its parent's filters: a call for
 * the parent inside the subrequest's frame is not a new request. */
static void test_parent_call_inside_subrequest_frame(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    int a, b, c;

    rp_prof_begin(pr, &main_req, "request GET /page.shtml", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    b = rp_prof_enter(pr, &sub_req, -1, i.core2, 2);     /* SUBREQ_CORE */
    c = rp_prof_enter(pr, &main_req, -1, i.mime, 3);     /* parent's filter */
    rp_prof_exit(pr, c, 4);
    rp_prof_exit(pr, b, 5);
    rp_prof_exit(pr, a, 6);
    rp_prof_end(pr, 7);
    st = rp_prof_stats(pr, p, 1.0);
    /* root, handler phase, core1, subrequest, core2, mime: no second
     * node for the main request */
    assert_int_equal(st->nfuncs, 6);
    assert_true(edge_from(st, find(st, "mod_mime.c", 1, "fixups"),
                          find(st, "core.c", 2, "handler"))->nc == 1);
}

static void test_too_deep_is_dropped_not_corrupted(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    int handles[RP_MAX_DEPTH + 10];
    int k, n = RP_MAX_DEPTH + 10, recorded = 0;
    rp_stats_t *st;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    for (k = 0; k < n; k++) {
        handles[k] = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, (rp_tick_t)k);
        if (handles[k] >= 0)
            recorded++;
    }
    for (k = n - 1; k >= 0; k--)
        rp_prof_exit(pr, handles[k], (rp_tick_t)(2 * n - k));
    rp_prof_end(pr, (rp_tick_t)(3 * n));
    assert_int_equal(rp_prof_dropped(pr), n - recorded);
    assert_true(recorded > 0 && recorded < n);
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(find(st, "core.c", 1, "handler")->nc, recorded);
    assert_int_equal(find(st, "core.c", 1, "handler")->cc, 1);
}

static void test_reuse_starts_clean(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    int fr, r;

    for (r = 0; r < 3; r++) {
        rp_prof_begin(pr, &main_req, r == 2 ? "request GET /b" : "request GET /a", 0);
        fr = rp_prof_enter(pr, &main_req, i.ph_trans, i.alias, 1);
        rp_prof_exit(pr, fr, 2);
        if (r == 0) {
            fr = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 3);
            rp_prof_exit(pr, fr, 4);
        }
        rp_prof_end(pr, 5);
    }
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(st->nfuncs, 3);
    assert_string_equal(st->funcs[0].name, "request GET /b");
    assert_int_equal(find(st, "mod_alias.c", 1, "translate_name")->nc, 1);
}

/* The two-step begin: the label built in the pool rp_prof_scratch_clear
 * gives is the root's name, and the pool is not cleared again (a string
 * made beside the label survives the request). */
static void test_begin_with_label_built_in_scratch(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    apr_pool_t *sp;
    char *lab, *beside;
    int fr, r;

    for (r = 0; r < 2; r++) {
        sp = rp_prof_scratch_clear(pr);
        assert_non_null(sp);
        lab = apr_pstrdup(sp, r ? "request GET /two" : "request GET /one");
        beside = apr_pstrdup(sp, "kept");
        rp_prof_begin_scratch(pr, &main_req, lab, 0);
        /* In a pool cleared again it would land on the label. */
        (void)apr_pstrdup(sp, "request GET /overwritten");
        fr = rp_prof_enter(pr, &main_req, i.ph_trans, i.alias, 1);
        rp_prof_exit(pr, fr, 2);
        rp_prof_end(pr, 3);
        assert_string_equal(beside, "kept");
        st = rp_prof_stats(pr, p, 1.0);
        assert_int_equal(st->nfuncs, 3);
        assert_string_equal(st->funcs[0].name, r ? "request GET /two" : "request GET /one");
        assert_int_equal(find(st, "mod_alias.c", 1, "translate_name")->nc, 1);
    }
}

/* Many edges and entries: arrays grow and callers stay consistent. */
static void test_growth_keeps_edges(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg = rp_registry_create(p, 400);
    rp_prof_t *pr;
    rp_stats_t *st;
    int ph = rp_registry_add(reg, "httpd", 0, "handler");
    int ids[300], k;

    for (k = 0; k < 300; k++)
        ids[k] = rp_registry_add(reg, apr_psprintf(p, "mod_%d.c", k), 1, "handler");
    pr = rp_prof_create(p, reg, label);
    rp_prof_begin(pr, &main_req, "request GET /", 0);
    for (k = 0; k < 300; k++) {
        int fr = rp_prof_enter(pr, &main_req, ph, ids[k], (rp_tick_t)(2 * k + 1));
        rp_prof_exit(pr, fr, (rp_tick_t)(2 * k + 2));
    }
    rp_prof_end(pr, 1000);
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(st->nfuncs, 302);
    for (k = 2; k < st->nfuncs; k++) {
        assert_int_equal(st->funcs[k].ncallers, 1);
        assert_int_equal(st->funcs[k].callers[0].caller, 1);
        assert_true(st->funcs[k].ct == 1.0);
    }
}

/* Found by tests/fuzz/fuzz_pstats.c: names that differ only in bytes that
 * are not UTF-8 are written under one pstats key, so they must be one
 * function, or the file holds the same key twice (pstats keeps the last,
 * and the callers graph no longer adds up). */
static void test_registry_keys_are_cleaned(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg = rp_registry_create(p, 8);
    int a = rp_registry_add(reg, "mod_\xff.c", 1, "filter F\xfe");
    int b = rp_registry_add(reg, "mod_\xfe.c", 1, "filter F\xc0");
    int c = rp_registry_add(reg, "mod_\xef\xbf\xbd.c", 1, "filter F\xef\xbf\xbd");
    int d = rp_registry_add(reg, "mod_\xfe.c", 2, "filter F\xc0");

    assert_int_equal(a, 0);
    assert_int_equal(b, a);
    assert_int_equal(c, a);        /* U+FFFD itself: the same key */
    assert_int_equal(d, 1);        /* another line: another function */
    assert_int_equal(reg->n, 2);
    assert_string_equal(reg->keys[a].file, "mod_\xef\xbf\xbd.c");
    assert_string_equal(reg->keys[a].name, "filter F\xef\xbf\xbd");
}

/* mod_dir's DirectoryIndex lookups: a subrequest is destroyed and the
 * next one gets the same address. Without rp_prof_forget the second
 * lookup is taken for more calls of the first one's context. */
static int sub_a_is_b;
static const char *label_reuse(const void *req, apr_pool_t *p)
{
    (void)p;
    if (req == &sub_req)
        return sub_a_is_b ? "subrequest /d/index.htm" : "subrequest /d/index.html";
    return "unknown";
}

static void test_forgotten_request_address_is_a_new_context(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label_reuse);
    rp_stats_t *st;
    const rp_func_t *dir, *a, *b, *tr;
    int d, h;

    sub_a_is_b = 0;
    rp_prof_begin(pr, &main_req, "request GET /d/", 0);
    d = rp_prof_enter(pr, &main_req, i.ph_fix, i.dir, 10);
    h = rp_prof_enter(pr, &sub_req, i.ph_trans, i.alias, 11);
    rp_prof_exit(pr, h, 13);
    rp_prof_forget(pr, &sub_req);          /* ap_destroy_sub_req */
    sub_a_is_b = 1;                        /* same address, next name */
    h = rp_prof_enter(pr, &sub_req, i.ph_trans, i.alias, 14);
    rp_prof_exit(pr, h, 17);
    rp_prof_exit(pr, d, 20);
    rp_prof_end(pr, 30);
    st = rp_prof_stats(pr, p, 1.0);
    dir = find(st, "mod_dir.c", 1, "fixups");
    a = find(st, "httpd", 0, "subrequest /d/index.html");
    b = find(st, "httpd", 0, "subrequest /d/index.htm");
    tr = find(st, "httpd", 0, "translate_name");
    assert_int_equal(a->nc, 1);
    assert_int_equal(b->nc, 1);
    assert_true(a->ct == 2.0 && b->ct == 3.0);
    assert_true(edge_from(st, a, dir)->nc == 1);
    assert_true(edge_from(st, b, dir)->nc == 1);
    /* each lookup ran its own translate_name phase */
    assert_int_equal(tr->nc, 2);
    assert_true(dir->tt == 10.0 - 2.0 - 3.0);
}

/* CPU time as children of a CGI run: taken from the run's self time, at
 * most what it has, and the totals still add up to the root. */
static void test_add_child_takes_from_self(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_stats_t *st;
    const rp_func_t *cgi, *u, *s, *f;
    double sum = 0;
    int a, b, c, k;

    rp_prof_set_event_log(pr, 16);
    rp_prof_begin(pr, &main_req, "request GET /cgi", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 1);
    b = rp_prof_enter_dynamic(pr, &main_req, "/x.cgi", 1, "cgi", 2);
    c = rp_prof_enter_dynamic(pr, &main_req, "mod_deflate.c", 1, "filter DEFLATE", 4);
    rp_prof_exit(pr, c, 8);                /* the run's self so far: 12 - 4 */
    assert_true(rp_prof_add_child(pr, b, "/x.cgi", 1, "cpu user", 5, 14) == 5);
    /* only 3 ticks of self left: sys is cut to them */
    assert_true(rp_prof_add_child(pr, b, "/x.cgi", 1, "cpu sys", 7, 14) == 3);
    assert_true(rp_prof_add_child(pr, b, "/x.cgi", 1, "exit 0", 0, 14) == 0);
    rp_prof_exit(pr, b, 14);
    rp_prof_exit(pr, a, 15);
    rp_prof_end(pr, 20);
    st = rp_prof_stats(pr, p, 1.0);
    cgi = find(st, "/x.cgi", 1, "cgi");
    u = find(st, "/x.cgi", 1, "cpu user");
    s = find(st, "/x.cgi", 1, "cpu sys");
    f = find(st, "/x.cgi", 1, "exit 0");
    assert_true(cgi->ct == 12.0 && cgi->tt == 0.0);
    assert_true(u->tt == 5.0 && u->ct == 5.0 && u->nc == 1);
    assert_true(s->tt == 3.0 && f->nc == 1 && f->ct == 0.0);
    assert_true(edge_from(st, u, cgi)->ct == 5.0);
    for (k = 0; k < st->nfuncs; k++)
        sum += st->funcs[k].tt;
    assert_true(sum == 20.0);
    /* not slices of the timeline: the trace holds the real calls only */
    assert_int_equal(rp_prof_trace(pr, p, 1.0)->n, 5);
    /* but the raw event log (the aggregate tree's input) has all eight,
     * the three children one level under the run, as long as they took */
    {
        rp_prof_ev_t ev[8];
        int kids = 0, run_depth = -1;
        assert_int_equal(rp_prof_nevents(pr), 8);
        rp_prof_events(pr, ev);
        for (k = 0; k < 8; k++) {
            const char *file, *name;
            int line;
            rp_prof_func_key(pr, ev[k].func, &file, &line, &name);
            if (!strcmp(name, "cgi"))
                run_depth = ev[k].depth;
            if (!strncmp(name, "cpu ", 4) || !strcmp(name, "exit 0")) {
                assert_int_equal(ev[k].depth, run_depth + 1);
                assert_true(ev[k].t1 - ev[k].t0 == (!strcmp(name, "cpu user") ? 5
                                                    : !strcmp(name, "cpu sys") ? 3 : 0));
                kids++;
            }
        }
        assert_int_equal(kids, 3);
    }
}

/* The accounting is folded from every frame's record when the request
 * ends: it must not depend on the event log's size (off, smaller than
 * the request, large), nor on the records outgrowing their first array
 * (over 64 frames here), with direct and mutual recursion and a child
 * added by rp_prof_add_child in the mix. */
static rp_stats_t *replay(apr_pool_t *p, const ids_t *i, int log)
{
    rp_prof_t *pr = rp_prof_create(p, i->reg, label);
    rp_tick_t t = 0;
    int k, a, b, c, d, e;

    rp_prof_set_event_log(pr, log);
    rp_prof_begin(pr, &main_req, "request GET /", t);
    for (k = 0; k < 30; k++) {
        a = rp_prof_enter(pr, &main_req, i->ph_handler, i->core1, t += 1);
        b = rp_prof_enter(pr, NULL, -1, i->core1, t += 2);      /* core1 in core1 */
        c = rp_prof_enter(pr, NULL, -1, i->core2, t += 1);
        d = rp_prof_enter(pr, NULL, -1, i->core1, t += 1);
        /* core1 -> core1 again while b's call of that edge is open */
        e = rp_prof_enter(pr, NULL, -1, i->core1, t += 1);
        rp_prof_exit(pr, e, t += 2);
        rp_prof_exit(pr, d, t += 3);
        rp_prof_add_child(pr, c, "cgi.pl", 1, "cpu user", 1, t += 2);
        rp_prof_exit(pr, c, t += 1);
        rp_prof_exit(pr, b, t += 1);
        rp_prof_exit(pr, a, t += k % 3);
    }
    rp_prof_end(pr, t += 5);
    return rp_prof_stats(pr, p, 1.0);
}

static void test_accounting_independent_of_event_log(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_stats_t *want = replay(p, &i, 0);
    int logs[] = { 1, 7, 100000 }, n, k, j;
    const rp_func_t *core1 = find(want, "core.c", 1, "handler");
    const rp_func_t *core2 = find(want, "core.c", 2, "handler");
    const rp_edge_t *self_edge = edge_from(want, core1, core1);

    /* 30 outer calls, each with three nested ones: 120 calls, 90 of them
     * recursive; core1 -> core1 twice per round, the second (inside
     * core1 -> core2 -> core1) within the first's open call */
    assert_int_equal(core1->nc, 120);
    assert_int_equal(core1->cc, 30);
    assert_int_equal(self_edge->nc, 60);
    assert_int_equal(self_edge->cc, 30);
    assert_int_equal(edge_from(want, core1, core2)->nc, 30);
    assert_int_equal(core2->nc, 30);
    assert_true(find(want, "cgi.pl", 1, "cpu user")->tt == 30.0);
    for (n = 0; n < 3; n++) {
        rp_stats_t *got = replay(p, &i, logs[n]);
        assert_int_equal(got->nfuncs, want->nfuncs);
        for (k = 0; k < want->nfuncs; k++) {
            const rp_func_t *w = &want->funcs[k], *g = &got->funcs[k];
            assert_string_equal(g->name, w->name);
            assert_int_equal(g->nc, w->nc);
            assert_int_equal(g->cc, w->cc);
            assert_true(g->tt == w->tt && g->ct == w->ct);
            assert_int_equal(g->ncallers, w->ncallers);
            for (j = 0; j < w->ncallers; j++) {
                assert_int_equal(g->callers[j].caller, w->callers[j].caller);
                assert_int_equal(g->callers[j].nc, w->callers[j].nc);
                assert_int_equal(g->callers[j].cc, w->callers[j].cc);
                assert_true(g->callers[j].tt == w->callers[j].tt
                            && g->callers[j].ct == w->callers[j].ct);
            }
        }
    }
}

/* fold and fold_edges against cProfile's own bookkeeping (a level per
 * function and per caller edge, raised while a frame is open, as
 * _lsprof keeps it), replayed here over the event log: random nesting
 * with recursion (four hooks under two phases), 300 requests. */
#define MODEL_NF 16
static void test_fold_matches_reclevel_model(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg = rp_registry_create(p, 16);
    rp_prof_t *prof = rp_prof_create(p, reg, label);
    int hook[4], ph[2], round, k;
    unsigned seed = 12345;
    long recursive = 0, edge_recursive = 0;

    for (k = 0; k < 4; k++)
        hook[k] = rp_registry_add(reg, "m.c", k + 1, "h");
    ph[0] = rp_registry_add(reg, "httpd", 0, "fixups");
    ph[1] = rp_registry_add(reg, "httpd", 0, "handler");
    rp_prof_set_event_log(prof, 100000);
    for (round = 0; round < 300; round++) {
        int h[64], depth = 0, ops, n, nf, i, j;
        int stf[RP_MAX_DEPTH], lvl[MODEL_NF] = { 0 }, elvl[MODEL_NF][MODEL_NF];
        int64_t nc[MODEL_NF] = { 0 }, rc[MODEL_NF] = { 0 };
        int64_t enc[MODEL_NF][MODEL_NF], erc[MODEL_NF][MODEL_NF];
        rp_tick_t it[MODEL_NF] = { 0 }, ct[MODEL_NF] = { 0 };
        rp_tick_t eit[MODEL_NF][MODEL_NF], ect[MODEL_NF][MODEL_NF];
        rp_tick_t now = 1;
        rp_prof_ev_t *ev;
        rp_stats_t *st;
        int sd = 0;

        memset(elvl, 0, sizeof elvl);
        memset(enc, 0, sizeof enc);
        memset(erc, 0, sizeof erc);
        memset(eit, 0, sizeof eit);
        memset(ect, 0, sizeof ect);
        rp_prof_begin(prof, &main_req, "request GET /", now);
        for (ops = 0; ops < 60; ops++) {
            seed = seed * 1103515245u + 12345u;
            now += 1 + (seed >> 16) % 5;
            if (depth == 0 || (depth < 60 && (seed >> 8) % 3 != 0)) {
                int phase = depth == 0 ? ph[(seed >> 24) % 2] : -1;
                h[depth] = rp_prof_enter(prof, &main_req, phase, hook[(seed >> 20) % 4],
                                         now);
                depth++;
            }
            else
                rp_prof_exit(prof, h[--depth], now);
        }
        while (depth > 0)
            rp_prof_exit(prof, h[--depth], ++now);
        if (round % 7 == 0) {
            /* Read before the end: nothing yet (the fold waits for it). */
            int nv;
            const rp_prof_fn_t *v = rp_prof_funcs_view(prof, &nv);
            for (k = 0; k < nv; k++)
                assert_true(v[k].calls == 0 && v[k].self == 0 && v[k].total == 0);
        }
        rp_prof_end(prof, ++now);
        /* Totals are folded when first read: a request no one reads
         * leaves nothing behind in the next one's. */
        if (round % 3 == 1)
            continue;

        n = rp_prof_nevents(prof);
        nf = rp_prof_nfuncs(prof);
        assert_true(nf <= MODEL_NF);
        ev = apr_palloc(p, sizeof(*ev) * (apr_size_t)n);
        rp_prof_events(prof, ev);
        for (i = 0; i < n; i++) {
            int f = ev[i].func;
            rp_tick_t dur = ev[i].t1 - ev[i].t0, self = dur;
            for (j = i + 1; j < n && ev[j].depth > ev[i].depth; j++)
                if (ev[j].depth == ev[i].depth + 1)
                    self -= ev[j].t1 - ev[j].t0;
            while (sd > ev[i].depth) {
                sd--;
                lvl[stf[sd]]--;
                if (sd > 0)
                    elvl[stf[sd]][stf[sd - 1]]--;
            }
            nc[f]++;
            it[f] += self;
            if (lvl[f]++ == 0)
                ct[f] += dur;
            else
                rc[f]++;
            if (sd > 0) {
                int c = stf[sd - 1];
                enc[f][c]++;
                eit[f][c] += self;
                if (elvl[f][c]++ == 0)
                    ect[f][c] += dur;
                else
                    erc[f][c]++;
            }
            stf[sd++] = f;
        }
        st = rp_prof_stats(prof, p, 1.0);
        assert_int_equal(st->nfuncs, nf);
        {
            /* The totals read in place (the status page's road). */
            int nv;
            const rp_prof_fn_t *v = rp_prof_funcs_view(prof, &nv);
            assert_int_equal(nv, nf);
            for (k = 0; k < nf; k++) {
                assert_int_equal(v[k].calls, nc[k]);
                assert_int_equal(v[k].self, it[k]);
                assert_int_equal(v[k].total, ct[k]);
            }
        }
        for (k = 0; k < nf; k++) {
            const rp_func_t *f = &st->funcs[k];
            int edges = 0;
            assert_int_equal(f->nc, nc[k]);
            assert_int_equal(f->cc, nc[k] - rc[k]);
            assert_true(f->tt == (double)it[k] && f->ct == (double)ct[k]);
            recursive += rc[k];
            for (j = 0; j < nf; j++)
                edges += enc[k][j] > 0;
            assert_int_equal(f->ncallers, edges);
            for (j = 0; j < f->ncallers; j++) {
                const rp_edge_t *g = &f->callers[j];
                int c = g->caller;
                assert_int_equal(g->nc, enc[k][c]);
                assert_int_equal(g->cc, enc[k][c] - erc[k][c]);
                assert_true(g->tt == (double)eit[k][c] && g->ct == (double)ect[k][c]);
                edge_recursive += erc[k][c];
            }
        }
    }
    /* The draw made recursion of both kinds, or this proves little. */
    assert_true(recursive > 100 && edge_recursive > 100);
}

/* The records are written in the shape form (registry ids, -1 - the
 * local function for dynamic ones: no lookup while calls run) and turned
 * into local functions for the readers that want them, in place, either
 * way as often as asked: both forms name the same functions. */
static void test_shape_form_and_local_form(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_prof_rec_t first[8];
    const rp_prof_rec_t *log;
    const rp_stats_t *st;
    const int *ids;
    int a, b, n, nf, k;

    rp_prof_set_event_log(pr, 16);
    rp_prof_begin(pr, &main_req, "request GET /cgi", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_trans, i.alias, 1);
    rp_prof_exit(pr, a, 2);
    a = rp_prof_enter(pr, &main_req, i.ph_handler, i.core1, 3);
    b = rp_prof_enter_dynamic(pr, &main_req, "/usr/lib/cgi-bin/x.cgi", 1, "cgi", 4);
    rp_prof_exit(pr, b, 7);
    rp_prof_exit(pr, a, 9);
    rp_prof_end(pr, 10);

    log = rp_prof_log_shape(pr, &n);
    assert_int_equal(n, 6);     /* root, phase, hook, phase, hook, cgi */
    assert_int_equal(log[0].func, -1);          /* the root, local 0 */
    assert_int_equal(log[1].func, i.ph_trans);
    assert_int_equal(log[2].func, i.alias);
    assert_int_equal(log[3].func, i.ph_handler);
    assert_int_equal(log[4].func, i.core1);
    assert_true(log[5].func < -1);              /* a dynamic function, not the root */
    memcpy(first, log, sizeof(rp_prof_rec_t) * (size_t)n);

    ids = rp_prof_ids(pr, &nf);
    assert_int_equal(nf, 6);
    log = rp_prof_log(pr, &n);
    for (k = 0; k < n; k++) {
        int f = log[k].func;
        assert_true(f >= 0 && f < nf);
        if (first[k].func >= 0)
            assert_int_equal(ids[f], first[k].func);
        else {
            assert_int_equal(ids[f], -1);
            assert_int_equal(f, -1 - first[k].func);
        }
    }
    /* Back and forth: the same shape, the same functions, the same sums. */
    log = rp_prof_log_shape(pr, &n);
    for (k = 0; k < n; k++)
        assert_int_equal(log[k].func, first[k].func);
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(st->nfuncs, 6);
    assert_true(find(st, "/usr/lib/cgi-bin/x.cgi", 1, "cgi")->ct == 3.0);
    assert_true(find(st, "core.c", 1, "handler")->tt == 3.0);
    assert_true(find(st, "mod_alias.c", 1, "translate_name")->ct == 1.0);
}

/* A reader during the request (Server-Timing's) turns the records so far
 * into local functions; the calls after it are written raw again, and
 * the next reader takes only those: a function met on both sides is one
 * function. */
static void test_reader_during_request(void **state)
{
    apr_pool_t *p = *state;
    ids_t i = make_ids(p);
    rp_prof_t *pr = rp_prof_create(p, i.reg, label);
    rp_tick_t self[16];
    const rp_stats_t *st;
    const rp_func_t *mime;
    int a, nf;

    rp_prof_begin(pr, &main_req, "request GET /", 0);
    a = rp_prof_enter(pr, &main_req, i.ph_fix, i.mime, 1);
    rp_prof_exit(pr, a, 3);
    nf = rp_prof_nfuncs(pr);
    assert_int_equal(nf, 3);    /* root, fixups, mod_mime */
    rp_prof_self_now(pr, 4, self);
    a = rp_prof_enter(pr, &main_req, i.ph_fix, i.dir, 5);
    rp_prof_exit(pr, a, 6);
    a = rp_prof_enter(pr, &main_req, i.ph_fix, i.mime, 7);
    rp_prof_exit(pr, a, 10);
    assert_int_equal(rp_prof_nfuncs(pr), 4);
    rp_prof_end(pr, 11);
    st = rp_prof_stats(pr, p, 1.0);
    assert_int_equal(st->nfuncs, 4);
    mime = find(st, "mod_mime.c", 1, "fixups");
    assert_true(mime->nc == 2);
    assert_true(mime->tt == 5.0);
    assert_true(find(st, "mod_dir.c", 1, "fixups")->nc == 1);
    assert_true(find(st, "httpd", 0, "fixups")->ct == 9.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_registry_dedupes_and_fills),
        RP_TEST(test_registry_keys_are_cleaned),
        RP_TEST(test_flat_request),
        RP_TEST(test_phase_node_spans_its_hooks),
        RP_TEST(test_subrequest_nests_and_recursion),
        RP_TEST(test_redirect_outside_hooks_nests_under_root),
        RP_TEST(test_direct_recursion),
        RP_TEST(test_end_with_open_frames),
        RP_TEST(test_dynamic_call_nests_in_hook),
        RP_TEST(test_enter_fast_path_and_its_neighbours),
        RP_TEST(test_null_request_nests_in_open_frame),
        RP_TEST(test_null_request_dynamic_nests_in_open_frame),
        RP_TEST(test_parent_call_inside_subrequest_frame),
        RP_TEST(test_too_deep_is_dropped_not_corrupted),
        RP_TEST(test_reuse_starts_clean),
        RP_TEST(test_begin_with_label_built_in_scratch),
        RP_TEST(test_growth_keeps_edges),
        RP_TEST(test_forgotten_request_address_is_a_new_context),
        RP_TEST(test_add_child_takes_from_self),
        RP_TEST(test_accounting_independent_of_event_log),
        RP_TEST(test_fold_matches_reclevel_model),
        RP_TEST(test_shape_form_and_local_form),
        RP_TEST(test_reader_during_request),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
