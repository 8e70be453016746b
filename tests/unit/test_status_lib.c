/*
 * test_status_lib.c - what issue 16 added to the status page's library:
 * every request counted (rp_agg_count) beside the profiled ones, status
 * classes in totals, virtual hosts, URLs and "(other)", the per-minute
 * windows (aging out, a reused slot cleared, copy across layouts), the
 * in-flight records with the profiler's mirrored stack, and the status
 * file (round trip, refusal of another layout, damage, absence, the
 * once-a-minute turn).
 */
#include "rp_test.h"
#include <stdio.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include "rp_agg.h"
#include "rp_inflight.h"
#include "rp_prof.h"
#include "rp_statusfile.h"
#include "rp_window.h"

#define MIN (rp_win_minute_usec)
#define T0 ((apr_time_t)1000 * 60 * APR_USEC_PER_SEC)   /* minute 1000 */

static rp_agg_t *make(apr_pool_t *p, int nurls)
{
    rp_agg_sizes_t sz = { 16, 2, nurls, 4 };
    apr_size_t n = rp_agg_size(&sz);
    int reused = -1;
    rp_agg_t *a = rp_agg_attach(p, apr_pcalloc(p, n), n, &sz, T0, &reused);
    assert_non_null(a);
    return a;
}

static rp_agg_req_t req(const char *path, int status, apr_time_t when, uint64_t ns)
{
    rp_agg_req_t r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = path;
    r.vhost = "v";
    r.vhost_idx = 0;
    r.status = status;
    r.when = when;
    r.wall_ns = ns;
    r.stripe = (unsigned)(when & 7);
    return r;
}

static const rp_agg_urlrow_t *url(const rp_agg_snap_t *s, const char *path)
{
    int i;
    for (i = 0; i < s->nurls; i++)
        if (!strcmp(s->urls[i].path, path))
            return &s->urls[i];
    return NULL;
}

static void test_every_request_counted(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32);
    int k = rp_agg_key(a, "mod_x.c", 1, "handler");
    rp_agg_call_t call = { k, 1, 1000, 2000 };
    rp_agg_snap_t *s;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_agg_vhost(a, "v"), 0);
    for (i = 0; i < 10; i++) {
        rp_agg_req_t r = req("/a", 200, T0 + i, 1000000);
        if (i < 3)
            rp_agg_record(a, &r, &call, 1);
        else
            rp_agg_count(a, &r);
    }
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 10);
    assert_int_equal(s->profiled, 3);
    assert_int_equal(s->sum_ns, 10 * 1000000ULL);
    assert_int_equal(s->hist[3], 10);
    assert_int_equal(s->vhost_requests[0], 10);
    assert_int_equal(url(s, "/a")->count, 10);
    /* Functions from the profiled ones only. */
    assert_int_equal(s->nkeys, 1);
    assert_int_equal(s->keys[0].calls, 3);
    assert_int_equal(s->keys[0].ct_ns, 6000);
}

static void test_status_classes(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 1);        /* one URL entry: the rest is "(other)" */
    static const int codes[] = { 100, 200, 204, 301, 404, 404, 410, 500, 503, 0, 600, 99 };
    rp_agg_snap_t *s;
    uint64_t sum[RP_AGG_NCLASS] = { 0 };
    int i, c;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_agg_class(199), 0);
    assert_int_equal(rp_agg_class(599), 4);
    assert_int_equal(rp_agg_class(600), -1);
    assert_int_equal(rp_agg_class(0), -1);
    for (i = 0; i < 12; i++) {
        rp_agg_req_t r = req(i % 2 ? "/odd" : "/even", codes[i], T0, 1000);
        r.vhost_idx = i < 6 ? 0 : 1;
        rp_agg_count(a, &r);
    }
    s = rp_agg_read(a, p);
    assert_int_equal(s->requests, 12);
    assert_int_equal(s->status[0], 1);
    assert_int_equal(s->status[1], 2);
    assert_int_equal(s->status[2], 1);
    assert_int_equal(s->status[3], 3);
    assert_int_equal(s->status[4], 2);      /* 0, 600 and 99 have no class */
    assert_int_equal(s->vhost_status[0 * RP_AGG_NCLASS + 3], 2);   /* 404, 404 */
    assert_int_equal(s->vhost_status[1 * RP_AGG_NCLASS + 3], 1);   /* 410 */
    assert_int_equal(s->vhost_status[1 * RP_AGG_NCLASS + 4], 2);
    /* The URL row and "(other)" add up per class, across evictions. */
    assert_int_equal(s->nurls, 1);
    for (c = 0; c < RP_AGG_NCLASS; c++) {
        sum[c] = s->urls[0].status[c] + s->url_other_status[c];
        assert_int_equal(sum[c], s->status[c]);
    }
}

static void test_windows_age_out(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32);
    int k = rp_agg_key(a, "mod_x.c", 1, "handler");
    rp_agg_call_t call = { k, 2, 10, 20 };
    rp_agg_snap_t *w;
    apr_time_t t = T0;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    for (i = 0; i < 5; i++) {                 /* minute 1000: 5 x 200 */
        rp_agg_req_t r = req("/old", 200, t + i, 1000);
        rp_agg_record(a, &r, &call, 1);
    }
    t += 3 * MIN;                              /* minute 1003: 2 x 500 */
    for (i = 0; i < 2; i++) {
        rp_agg_req_t r = req("/new", 500, t, 1000);
        rp_agg_count(a, &r);
    }
    w = rp_agg_read_window(a, p, 1, t);
    assert_int_equal(w->window, 1);
    assert_int_equal(w->requests, 2);
    assert_int_equal(w->status[4], 2);
    assert_int_equal(w->profiled, 0);
    assert_null(url(w, "/old"));
    assert_int_equal(url(w, "/new")->status[4], 2);
    w = rp_agg_read_window(a, p, 5, t);
    assert_int_equal(w->requests, 7);
    assert_int_equal(w->profiled, 5);
    assert_int_equal(w->keys[0].calls, 10);
    assert_int_equal(w->keys[0].vcalls[0], 0);  /* no per-vhost split */
    assert_int_equal(url(w, "/old")->count, 5);
    /* 61 minutes on, minute 1000's slot is reused: cleared first. */
    t = T0 + (apr_time_t)RP_WIN_SLOTS * MIN;
    {
        rp_agg_req_t r = req("/again", 200, t, 1000);
        rp_agg_count(a, &r);
    }
    w = rp_agg_read_window(a, p, 60, t);
    assert_int_equal(w->requests, 3);          /* /again and minute 1003's */
    assert_null(url(w, "/old"));
    assert_int_equal(url(w, "/new")->count, 2);
    assert_int_equal(w->nkeys, 1);
    assert_int_equal(w->keys[0].calls, 0);
    /* Since start keeps everything. */
    assert_int_equal(rp_agg_read(a, p)->requests, 8);
    /* Reset clears the windows too. */
    rp_agg_reset(a, t);
    assert_int_equal(rp_agg_read_window(a, p, 60, t)->requests, 0);
}

static void test_window_shortened_minute(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32);
    apr_time_t t = T0;
    rp_agg_req_t r = req("/x", 200, t, 1000);

    rp_win_minute_usec = 100 * 1000;          /* 100 ms "minutes" */
    rp_agg_count(a, &r);
    assert_int_equal(rp_agg_read_window(a, p, 1, t)->requests, 1);
    assert_int_equal(rp_agg_read_window(a, p, 5, t + 450000)->requests, 1);
    assert_int_equal(rp_agg_read_window(a, p, 5, t + 500000)->requests, 0);
    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
}

static void test_copy_keeps_classes_and_windows(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32), *b;
    rp_agg_sizes_t sz = { 32, 3, 64, 8 };
    apr_size_t n = rp_agg_size(&sz);
    int reused, k = rp_agg_key(a, "mod_x.c", 1, "handler");
    rp_agg_call_t call = { k, 1, 10, 20 };
    rp_agg_snap_t *s, *w;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    rp_agg_vhost(a, "v");
    for (i = 0; i < 6; i++) {
        rp_agg_req_t r = req("/c", i < 4 ? 200 : 404, T0, 1000);
        rp_agg_record(a, &r, &call, 1);
    }
    b = rp_agg_attach(p, apr_pcalloc(p, n), n, &sz, T0, &reused);
    rp_agg_copy(b, a);
    s = rp_agg_read(b, p);
    assert_int_equal(s->requests, 6);
    assert_int_equal(s->profiled, 6);
    assert_int_equal(s->status[3], 2);
    assert_int_equal(url(s, "/c")->status[3], 2);
    w = rp_agg_read_window(b, p, 1, T0);
    assert_int_equal(w->requests, 6);
    assert_int_equal(w->status[1], 4);
    assert_int_equal(w->keys[0].calls, 6);
    assert_int_equal(url(w, "/c")->count, 6);
}

/* ----------------------------------------------------------- in flight */

static const char *name_of(void *ctx, int code, apr_pool_t *p)
{
    (void)ctx;
    return apr_psprintf(p, "key%d", code);
}

static void test_inflight_records_and_stack(void **state)
{
    apr_pool_t *p = *state;
    void *base = apr_pcalloc(p, rp_inflight_size(4));
    rp_registry_t *reg = rp_registry_create(p, 8);
    int phase = rp_registry_add(reg, "httpd", 0, "handler");
    int hook = rp_registry_add(reg, "mod_cgid.c", 1, "handler");
    int unmapped = rp_registry_add(reg, "mod_y.c", 1, "fixups");
    int idmap[3];
    rp_prof_t *prof = rp_prof_create(p, reg, NULL);
    rp_prof_mirror_t m;
    rp_inflight_rec_t *rec = rp_inflight_at(base, 2);
    apr_array_header_t *rows;
    const rp_inflight_row_t *row;
    char longfile[300];
    int h1, h2, h3;
    int req = 1;

    idmap[phase] = 7;
    idmap[hook] = 9;
    idmap[unmapped] = -1;
    rp_inflight_begin(rec, 42, 1234, T0, "GET", "/cgi-bin/x.cgi", "v", 1);
    rp_inflight_mirror(rec, idmap, 3, &m);
    rp_prof_set_mirror(prof, &m);
    rp_prof_begin(prof, &req, "request GET /cgi-bin/x.cgi", 0);
    h1 = rp_prof_enter(prof, &req, phase, hook, 10);
    memset(longfile, 'd', sizeof longfile);
    memcpy(longfile, "/usr/", 5);
    strcpy(longfile + 280, "/script.cgi");
    h2 = rp_prof_enter_dynamic(prof, &req, longfile, 1, "cgi", 20);
    h3 = rp_prof_enter(prof, NULL, -1, unmapped, 30);   /* nested in what is open */
    rows = rp_inflight_read(base, 4, T0 + 2500000, p, name_of, NULL, NULL, NULL);
    assert_int_equal(rows->nelts, 1);
    row = &APR_ARRAY_IDX(rows, 0, rp_inflight_row_t);
    assert_int_equal(row->slot, 2);
    assert_int_equal(row->pid, 1234);
    assert_true(row->elapsed > 2.49 && row->elapsed < 2.51);
    assert_string_equal(row->path, "/cgi-bin/x.cgi");
    assert_int_equal(row->nstack, 5);
    assert_string_equal(row->stack[0], "request GET /cgi-bin/x.cgi");
    assert_string_equal(row->stack[1], "key7");            /* the phase */
    assert_string_equal(row->stack[2], "key9");            /* the hook */
    /* A long script path keeps its end, within the record's field. */
    assert_true(strlen(row->stack[3]) < RP_INFLIGHT_DYN);
    assert_non_null(strstr(row->stack[3], "/script.cgi:1(cgi)"));
    assert_memory_equal(row->stack[3], "...", 3);
    assert_string_equal(row->stack[4], "?");               /* not in idmap */
    rp_prof_exit(prof, h3, 40);
    rp_prof_exit(prof, h2, 50);
    rows = rp_inflight_read(base, 4, T0, p, name_of, NULL, NULL, NULL);
    assert_int_equal(APR_ARRAY_IDX(rows, 0, rp_inflight_row_t).nstack, 3);
    rp_prof_exit(prof, h1, 60);
    rp_prof_end(prof, 70);
    assert_int_equal(rec->depth, 0);
    /* A request's name longer than the field keeps its first bytes. */
    {
        char label[400];
        memset(label, 'x', sizeof label - 1);
        memcpy(label, "request GET /", 13);
        label[sizeof label - 1] = '\0';
        rp_prof_begin(prof, &req, label, 80);
        rows = rp_inflight_read(base, 4, T0, p, name_of, NULL, NULL, NULL);
        row = &APR_ARRAY_IDX(rows, 0, rp_inflight_row_t);
        assert_int_equal(row->nstack, 1);
        assert_int_equal(strlen(row->stack[0]), RP_INFLIGHT_DYN - 1);
        assert_memory_equal(row->stack[0], label, RP_INFLIGHT_DYN - 1);
        rp_prof_end(prof, 90);
    }
    rp_prof_set_mirror(prof, NULL);
    /* Another owner's end does not free it; its own does. */
    rp_inflight_end(rec, 43);
    assert_int_equal(rp_inflight_read(base, 4, T0, p, NULL, NULL, NULL, NULL)->nelts, 1);
    rp_inflight_end(rec, 42);
    assert_int_equal(rp_inflight_read(base, 4, T0, p, NULL, NULL, NULL, NULL)->nelts, 0);
    /* With the mirror off, frames no longer reach the record. */
    rp_inflight_begin(rec, 44, 1, T0, "GET", "/", "v", 1);
    rp_prof_begin(prof, &req, "request GET /", 0);
    assert_int_equal(rec->depth, 0);
    rp_prof_end(prof, 1);
}

static void test_inflight_unprofiled_and_order(void **state)
{
    apr_pool_t *p = *state;
    void *base = apr_pcalloc(p, rp_inflight_size(3));
    apr_array_header_t *rows;
    char longpath[400];

    memset(longpath, 'a', sizeof longpath);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = '\0';
    rp_inflight_begin(rp_inflight_at(base, 0), 1, 1, T0 + 5, "POST", "/late", "v", 0);
    rp_inflight_begin(rp_inflight_at(base, 1), 2, 1, T0, "GET", longpath, "v", 0);
    rp_inflight_at(base, 0)->depth = 3;        /* ignored: not profiled */
    rows = rp_inflight_read(base, 3, T0 + 10, p, NULL, NULL, NULL, NULL);
    assert_int_equal(rows->nelts, 2);
    assert_int_equal(APR_ARRAY_IDX(rows, 0, rp_inflight_row_t).slot, 1);  /* longest first */
    assert_int_equal(strlen(APR_ARRAY_IDX(rows, 0, rp_inflight_row_t).path),
                     RP_INFLIGHT_PATH - 1);
    assert_int_equal(APR_ARRAY_IDX(rows, 1, rp_inflight_row_t).nstack, 0);
    assert_string_equal(APR_ARRAY_IDX(rows, 1, rp_inflight_row_t).method, "POST");
    /* A record being written (odd sequence word) is skipped. */
    rp_inflight_at(base, 0)->seq |= 1;
    rows = rp_inflight_read(base, 3, T0 + 10, p, NULL, NULL, NULL, NULL);
    assert_int_equal(rows->nelts, 1);
}

/* ---------------------------------------------------------- status file */

static const char *tmpname(apr_pool_t *p)
{
    return apr_psprintf(p, "/tmp/rp-statusfile-test-%ld-%p", (long)getpid(), (void *)p);
}

static void test_statusfile_round_trip(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32), *b = make(p, 32);
    const char *path = tmpname(p), *why = NULL;
    int k = rp_agg_key(a, "mod_x.c", 1, "handler");
    rp_agg_call_t call = { k, 1, 10, 20 };
    rp_agg_snap_t *s;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    rp_agg_vhost(a, "v");
    for (i = 0; i < 5; i++) {
        rp_agg_req_t r = req("/f", i ? 200 : 503, T0, 1000);
        rp_agg_record(a, &r, &call, 1);
    }
    assert_int_equal(rp_statusfile_read(b, path, p, &why), 0);   /* no file yet */
    assert_int_equal(rp_statusfile_write(a, path, p), APR_SUCCESS);
    assert_int_equal(rp_statusfile_read(b, path, p, &why), 1);
    s = rp_agg_read(b, p);
    assert_int_equal(s->requests, 5);
    assert_int_equal(s->status[4], 1);
    assert_int_equal(s->keys[0].calls, 5);
    assert_string_equal(s->vhost_names[0], "v");
    assert_int_equal(url(s, "/f")->count, 5);
    assert_int_equal(rp_agg_read_window(b, p, 1, T0)->requests, 5);
    /* Counting goes on in the loaded region. */
    {
        rp_agg_req_t r = req("/f", 200, T0, 1000);
        rp_agg_count(b, &r);
    }
    assert_int_equal(rp_agg_read(b, p)->requests, 6);
    /* The unsynced write (a request's thread) gives the same file. */
    {
        rp_agg_t *c = make(p, 32);
        assert_int_equal(rp_statusfile_write_ex(b, path, p, 0), APR_SUCCESS);
        assert_int_equal(rp_statusfile_read(c, path, p, &why), 1);
        assert_int_equal(rp_agg_read(c, p)->requests, 6);
    }
    apr_file_remove(path, p);
}

static void test_statusfile_refused(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 32), *other = make(p, 33);
    const char *path = tmpname(p), *why = NULL;
    rp_agg_req_t r = req("/f", 200, T0, 1000);
    apr_file_t *f;
    apr_off_t off = RP_STATUSFILE_HEADER + 100;
    char byte;

    rp_agg_count(a, &r);
    assert_int_equal(rp_statusfile_write(a, path, p), APR_SUCCESS);
    /* Another layout. */
    assert_int_equal(rp_statusfile_read(other, path, p, &why), -1);
    assert_non_null(strstr(why, "another layout"));
    assert_int_equal(rp_agg_read(other, p)->requests, 0);
    /* One byte changed: the checksum says so. */
    assert_int_equal(apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_WRITE, 0, p),
                     APR_SUCCESS);
    apr_file_seek(f, APR_SET, &off);
    apr_file_getc(&byte, f);
    off = RP_STATUSFILE_HEADER + 100;
    apr_file_seek(f, APR_SET, &off);
    apr_file_putc((char)(byte ^ 1), f);
    apr_file_close(f);
    {
        rp_agg_t *b = make(p, 32);
        why = NULL;
        assert_int_equal(rp_statusfile_read(b, path, p, &why), -1);
        assert_non_null(strstr(why, "damaged"));
        assert_int_equal(rp_agg_read(b, p)->requests, 0);
    }
    /* Not a status file at all. */
    assert_int_equal(apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE, 0, p),
                     APR_SUCCESS);
    apr_file_close(f);
    assert_int_equal(rp_statusfile_read(a, path, p, &why), -1);
    apr_file_remove(path, p);
    /* A directory that cannot be written: an error, nothing left behind. */
    assert_int_not_equal(rp_statusfile_write(a, "/nonexistent-dir-rp/x", p), APR_SUCCESS);
}

static void test_statusfile_due_once_a_minute(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 4);

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_statusfile_due(a, T0), 0);          /* starts the clock */
    assert_int_equal(rp_statusfile_due(a, T0 + MIN - 1), 0);
    assert_int_equal(rp_statusfile_due(a, T0 + MIN), 1);
    assert_int_equal(rp_statusfile_due(a, T0 + MIN), 0);    /* one caller only */
    assert_int_equal(rp_statusfile_due(a, T0 + 2 * MIN), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_every_request_counted),
        RP_TEST(test_status_classes),
        RP_TEST(test_windows_age_out),
        RP_TEST(test_window_shortened_minute),
        RP_TEST(test_copy_keeps_classes_and_windows),
        RP_TEST(test_inflight_records_and_stack),
        RP_TEST(test_inflight_unprofiled_and_order),
        RP_TEST(test_statusfile_round_trip),
        RP_TEST(test_statusfile_refused),
        RP_TEST(test_statusfile_due_once_a_minute),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
