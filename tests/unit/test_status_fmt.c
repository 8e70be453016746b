/*
 * test_status_fmt.c - the status page's formats (lib/rp_status_fmt.c) and
 * the one JSON string escaper (rp_buf_json_str, lib/rp_outfmt.c).
 *
 * Snapshots are built with lib/rp_agg as the module builds them; the
 * output is checked byte for byte where it is fixed (the escaper, the
 * ?auto lines, Prometheus series), by a strict JSON checker (below) for
 * the whole ?json document, and by adding up the counts each format
 * prints against the requests sent.
 */
#include "rp_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <apr_strings.h>
#include "rp_agg.h"
#include "rp_inflight.h"
#include "rp_outfmt.h"
#include "rp_status_fmt.h"
#include "rp_window.h"

#define T0 ((apr_time_t)1000 * 60 * APR_USEC_PER_SEC)

/* ------------------------------------------------ a strict JSON checker */

/* RFC 8259 JSON, strings in valid UTF-8 with no raw control characters:
 * returns the end of the value at s, or NULL when it is not valid. */
static const char *js_value(const char *s, int depth);

static const char *js_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
        s++;
    return s;
}

static const char *js_string(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    if (*u++ != '"')
        return NULL;
    for (;;) {
        unsigned c = *u;
        if (c == '"')
            return (const char *)u + 1;
        if (c < 0x20)
            return NULL;                        /* raw control, or the end */
        if (c == '\\') {
            int i;
            c = *++u;
            if (c == 'u') {
                for (i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", u[i]) || !u[i])
                        return NULL;
                u += 5;
            }
            else if (c && strchr("\"\\/bfnrt", (int)c))
                u++;
            else
                return NULL;
        }
        else if (c < 0x80)
            u++;
        else {
            /* One UTF-8 character, by the table of RFC 3629. */
            int n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                  : c >= 0xF0 && c <= 0xF4 ? 4 : 0, i;
            unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
            unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
            if (!n)
                return NULL;
            for (i = 1; i < n; i++) {
                if (u[i] < lo || u[i] > hi)
                    return NULL;
                lo = 0x80;
                hi = 0xBF;
            }
            u += n;
        }
    }
}

static const char *js_number(const char *s)
{
    const char *d;
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return NULL;
    if (*s == '.') {
        d = ++s;
        while (*s >= '0' && *s <= '9')
            s++;
        if (s == d)
            return NULL;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        d = s;
        while (*s >= '0' && *s <= '9')
            s++;
        if (s == d)
            return NULL;
    }
    return s;
}

static const char *js_list(const char *s, int depth, char close, int object)
{
    s = js_ws(s + 1);
    if (*s == close)
        return s + 1;
    for (;;) {
        if (object) {
            if (!(s = js_string(s)))
                return NULL;
            s = js_ws(s);
            if (*s++ != ':')
                return NULL;
        }
        if (!(s = js_value(s, depth + 1)))
            return NULL;
        s = js_ws(s);
        if (*s == close)
            return s + 1;
        if (*s++ != ',')
            return NULL;
        s = js_ws(s);
    }
}

static const char *js_value(const char *s, int depth)
{
    s = js_ws(s);
    if (depth > 32)
        return NULL;
    switch (*s) {
    case '{': return js_list(s, depth, '}', 1);
    case '[': return js_list(s, depth, ']', 0);
    case '"': return js_string(s);
    case 't': return strncmp(s, "true", 4) ? NULL : s + 4;
    case 'f': return strncmp(s, "false", 5) ? NULL : s + 5;
    case 'n': return strncmp(s, "null", 4) ? NULL : s + 4;
    default: return js_number(s);
    }
}

/* The whole text is one JSON value (and white space). */
static int json_valid(const char *s)
{
    const char *end = js_value(s, 0);
    return end && *js_ws(end) == '\0';
}

static void test_json_checker_checks(void **state)
{
    (void)state;
    /* The checker itself: it must refuse what the escaper must avoid. */
    assert_true(json_valid("{\"a\": [1, 2.5, -3e+2, \"x\\u003c\", true, null]}\n"));
    assert_false(json_valid("{\"a\": \"raw\ttab\"}"));
    assert_false(json_valid("{\"a\": \"bad \xff byte\"}"));
    assert_false(json_valid("{\"a\": \"\xed\xa0\x80 surrogate\"}"));
    assert_false(json_valid("{\"a\": \"\\x41\"}"));
    assert_false(json_valid("{\"a\": 1,}"));
    assert_false(json_valid("{\"a\": 01}"));
    assert_false(json_valid("{\"a\": 1} x"));
    assert_false(json_valid("[\"unterminated]"));
}

/* ----------------------------------------------------------- the escaper */

static const char *esc(apr_pool_t *p, const char *s)
{
    rp_buf_t b;
    rp_buf_init(&b, p, 16);
    rp_buf_json_str(&b, s);
    rp_buf_add(&b, "", 1);
    return b.data;
}

static void test_json_str_plain_and_quotes(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(esc(p, ""), "\"\"");
    assert_string_equal(esc(p, NULL), "\"\"");
    assert_string_equal(esc(p, "plain /x.html"), "\"plain /x.html\"");
    assert_string_equal(esc(p, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(esc(p, "\\"), "\"\\\\\"");
    assert_string_equal(esc(p, "'single' /slash/"), "\"'single' /slash/\"");
}

static void test_json_str_controls_kept_as_escapes(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(esc(p, "\x01\t\n\r\x1f\x7f"),
                        "\"\\u0001\\u0009\\u000a\\u000d\\u001f\\u007f\"");
    assert_string_equal(esc(p, "a\nb"), "\"a\\u000ab\"");
}

static void test_json_str_html_specials(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(esc(p, "</script><b>&amp;"),
                        "\"\\u003c/script\\u003e\\u003cb\\u003e\\u0026amp;\"");
}

static void test_json_str_utf8(void **state)
{
    apr_pool_t *p = *state;
    /* valid: 2, 3 and 4 bytes, as they are */
    assert_string_equal(esc(p, "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                        "\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* a stray byte, a truncated sequence before ASCII and at the end */
    assert_string_equal(esc(p, "a\xff" "b"), "\"a\xef\xbf\xbd" "b\"");
    assert_string_equal(esc(p, "\xe2\x82" "x"), "\"\xef\xbf\xbd" "x\"");
    assert_string_equal(esc(p, "x\xe2\x82"), "\"x\xef\xbf\xbd\"");
    /* overlong '/', a surrogate, past U+10FFFF: one U+FFFD per maximal
     * subpart, as Python's decode(errors='replace') */
    assert_string_equal(esc(p, "\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(esc(p, "\xed\xa0\x80"),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    assert_string_equal(esc(p, "\xf4\x90\x80\x80"),
                        "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    /* a truncated sequence swallows no quote or backslash after it */
    assert_string_equal(esc(p, "\xe2\"\\"), "\"\xef\xbf\xbd\\\"\\\\\"");
}

static void test_json_str_any_bytes_give_valid_json(void **state)
{
    apr_pool_t *p = *state;
    char s[64];
    unsigned seed = 12345;
    int round, i;
    /* Every byte value once, then random strings of any bytes. */
    for (i = 1; i < 256; i++) {
        char one[2] = { (char)i, 0 };
        assert_true(json_valid(esc(p, one)));
    }
    for (round = 0; round < 20000; round++) {
        int n = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 63;
        for (i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = (char)((seed >> 16) % 255 + 1);
        }
        s[n] = '\0';
        assert_true(json_valid(esc(p, s)));
    }
}

static void test_json_str_cut_at_a_character(void **state)
{
    apr_pool_t *p = *state;
    char *s = apr_palloc(p, 2001), *want;
    memset(s, 'a', 2000);
    s[2000] = '\0';
    want = apr_psprintf(p, "\"%s\"", apr_pstrndup(p, s, RP_JSON_STR_MAX));
    assert_string_equal(esc(p, s), want);
    /* 1023 bytes then a 2-byte character: it does not fit, it is left out
     * whole (and so is everything after it) */
    memcpy(s + RP_JSON_STR_MAX - 1, "\xc3\xa9zz", 5);
    want = apr_psprintf(p, "\"%s\"", apr_pstrndup(p, s, RP_JSON_STR_MAX - 1));
    assert_string_equal(esc(p, s), want);
}

/* -------------------------------------------------------- the snapshots */

static rp_agg_t *make(apr_pool_t *p, int nvhosts)
{
    rp_agg_sizes_t sz = { 16, nvhosts, 32, 8 };
    apr_size_t n = rp_agg_size(&sz);
    int reused = -1;
    rp_agg_t *a = rp_agg_attach(p, apr_pcalloc(p, n), n, &sz, T0, &reused);
    assert_non_null(a);
    return a;
}

static rp_agg_req_t req(const char *path, const char *vhost, int vidx, int status,
                        uint64_t ns, int i)
{
    rp_agg_req_t r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = path;
    r.vhost = vhost;
    r.vhost_idx = vidx;
    r.status = status;
    r.when = T0 + i;
    r.wall_ns = ns;
    r.stripe = (unsigned)i;
    return r;
}

static const char *text(rp_buf_t *b)
{
    rp_buf_add(b, "", 1);
    return b->data;
}

static const char *json_of(apr_pool_t *p, const rp_agg_snap_t *s,
                           const apr_array_header_t *inflight)
{
    rp_buf_t b;
    rp_buf_init(&b, p, 0);
    rp_status_json(&b, s, inflight);
    return text(&b);
}

static const char *prom_of(apr_pool_t *p, const rp_agg_snap_t *s)
{
    rp_buf_t b;
    rp_buf_init(&b, p, 0);
    rp_status_prometheus(&b, s);
    return text(&b);
}

static const char *auto_of(apr_pool_t *p, const rp_agg_snap_t *s)
{
    rp_buf_t b;
    rp_buf_init(&b, p, 0);
    rp_status_auto(&b, s);
    return text(&b);
}

/* The sum of the unsigned numbers that follow each `key` in text. */
static uint64_t sum_after(const char *text_, const char *key)
{
    uint64_t sum = 0;
    const char *at = text_;
    while ((at = strstr(at, key)) != NULL) {
        at += strlen(key);
        sum += strtoull(at, NULL, 10);
    }
    return sum;
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

static int count_of(const char *text_, const char *needle)
{
    int n = 0;
    const char *at = text_;
    while ((at = strstr(at, needle)) != NULL) {
        n++;
        at += strlen(needle);
    }
    return n;
}

/* Two virtual hosts; 7 requests: 4 x 200, 1 x 302, 1 x 404, 1 x 503, two
 * of them profiled; mod_x.c's handler (entries 1 and 2: one Prometheus
 * series) and the handler phase. */
static rp_agg_snap_t *sample(apr_pool_t *p)
{
    rp_agg_t *a = make(p, 4);
    int k1 = rp_agg_key(a, "mod_x.c", 1, "handler");
    int k2 = rp_agg_key(a, "mod_x.c", 2, "handler");
    int kp = rp_agg_key(a, "httpd", 0, "handler");
    rp_agg_call_t calls[3] = { { k1, 1, 1000, 3000 }, { k2, 2, 500, 500 },
                               { kp, 1, 1500, 4000 } };
    static const int status[7] = { 200, 200, 302, 404, 200, 503, 200 };
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_agg_vhost(a, "one.test"), 0);
    assert_int_equal(rp_agg_vhost(a, "two.test"), 1);
    for (i = 0; i < 7; i++) {
        rp_agg_req_t r = req(i < 5 ? "/a" : "/b", i % 2 ? "two.test" : "one.test", i % 2,
                             status[i], 1000000 * (uint64_t)(i + 1), i);
        if (i < 2)
            rp_agg_record(a, &r, calls, 3);
        else
            rp_agg_count(a, &r);
    }
    return rp_agg_read(a, p);
}

static void test_json_document(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_snap_t *s = sample(p);
    const char *j = json_of(p, s, NULL);

    assert_true(json_valid(j));
    assert_true(starts(j, "{\"version\": 1, \"window\": \"all\", \"requests\": 7, "
                       "\"profiled\": 2, \"sample_rate\": 0.285714,\n"
                       " \"status\": {\"1xx\": 0, \"2xx\": 4, \"3xx\": 1, \"4xx\": 1, "
                       "\"5xx\": 1},\n \"since\": 60000, \"reset\": 0,\n"));
    assert_non_null(strstr(j, "\"duration\": {\"sum\": 0.028000000, \"max\": 0.007000000, "));
    assert_non_null(strstr(j, " \"inflight\": [],\n"));
    /* entries by their line; the phase in its own list */
    assert_non_null(strstr(j, "\n  {\"module\": \"mod_x.c\", \"entry\": 1, \"hook\": "
                              "\"handler\", \"calls\": 2, \"tottime\": 0.000002000, "
                              "\"cumtime\": 0.000006000},"));
    assert_non_null(strstr(j, "\n  {\"module\": \"mod_x.c\", \"entry\": 2, \"hook\": "
                              "\"handler\", \"calls\": 4, \"tottime\": 0.000001000, "
                              "\"cumtime\": 0.000001000}],\n"));
    assert_non_null(strstr(j, " \"phases\": [\n  {\"phase\": \"handler\", \"calls\": 2, "
                              "\"tottime\": 0.000003000, \"cumtime\": 0.000008000}],\n"));
    assert_non_null(strstr(j, "\n  {\"vhost\": \"one.test\", \"requests\": 4, \"seconds\": "
                              "0.016000000, \"status\": {\"1xx\": 0, \"2xx\": 3, \"3xx\": 1, "
                              "\"4xx\": 0, \"5xx\": 0}}"));
    assert_non_null(strstr(j, " \"sizes\": {\"urls\": 32, \"slowest\": 8, \"functions\": 16, "
                              "\"vhosts\": 4, \"shm_bytes\": "));
    assert_non_null(strstr(j, " \"calls_not_counted\": 0}\n"));
    /* the counts add up to the requests: histogram, vhosts, URLs */
    assert_int_equal(sum_after(j, "\"count\": "), 7);
    assert_int_equal(sum_after(j, "{\"vhost\": \"one.test\", \"requests\": ")
                     + sum_after(j, "{\"vhost\": \"two.test\", \"requests\": "), 7);
    assert_int_equal(sum_after(j, "{\"path\": \"/a\", \"requests\": ")
                     + sum_after(j, "{\"path\": \"/b\", \"requests\": ")
                     + sum_after(j, "\"urls_other\": {\"requests\": "), 7);
    assert_int_equal(count_of(j, "\"le\": "), RP_AGG_NBUCKETS);
    assert_non_null(strstr(j, "{\"le\": \"+Inf\", \"count\": 0}]"));
}

static void test_json_window_and_empty(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 2);
    rp_agg_snap_t *s = rp_agg_read(a, p);
    const char *j = json_of(p, s, NULL);

    assert_true(json_valid(j));
    /* no requests yet: the share of profiled requests reads 1 */
    assert_true(starts(j, "{\"version\": 1, \"window\": \"all\", \"requests\": 0, "
                       "\"profiled\": 0, \"sample_rate\": 1.000000,"));
    assert_non_null(strstr(j, " \"modules\": [],\n \"phases\": [],\n \"vhosts\": [],\n"
                              " \"urls\": [],\n"));
    assert_non_null(strstr(j, " \"slowest\": [],\n"));
    s->window = 5;
    j = json_of(p, s, NULL);
    assert_true(json_valid(j));
    assert_true(starts(j, "{\"version\": 1, \"window\": \"5m\","));
}

static void test_json_hostile_strings(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 4);
    static const char *stack[] = { "request GET /<x>", "mod_\"q\".c:1(handler)",
                                   "tab\there\xff" };
    apr_array_header_t *rows = apr_array_make(p, 2, sizeof(rp_inflight_row_t));
    rp_inflight_row_t *f = apr_array_push(rows);
    rp_agg_snap_t *s;
    const char *j;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_agg_vhost(a, "ev\"il<v>&\\h\x01\xff"), 0);
    rp_agg_key(a, "mod_<b>.c", 1, "hook\"x\n");
    for (i = 0; i < 3; i++) {
        rp_agg_req_t r = req("/<script>alert(1)</script>\"\\\x7f\xc3\xa9\xe2\x82",
                             "ev\"il<v>&\\h\x01\xff", 0, 200, 2000000, i);
        r.method = "G<E>T\x02";
        r.traceid = "</script>";
        if (i == 0) {
            rp_stats_t st;
            rp_func_t fn;
            memset(&st, 0, sizeof st);
            memset(&fn, 0, sizeof fn);
            fn.file = "httpd";
            fn.name = "request";
            fn.nc = fn.cc = 1;
            st.funcs = &fn;
            st.nfuncs = 1;
            rp_agg_count(a, &r);
            assert_true(rp_agg_slow_add(a, &r, &st, T0 + 1) > 0);
        }
        else
            rp_agg_count(a, &r);
    }
    memset(f, 0, sizeof *f);
    f->method = "P\"OST";
    f->path = "/in\\flight<&>\x1b[31m";
    f->vhost = "v\xc0\xaf";
    f->elapsed = 1.5;
    f->pid = 42;
    f->profiled = 1;
    f->nstack = 3;
    f->stack = stack;

    s = rp_agg_read(a, p);
    j = json_of(p, s, rows);
    assert_true(json_valid(j));
    assert_null(strstr(j, "<"));
    assert_null(strstr(j, ">"));
    assert_null(strstr(j, "&"));
    assert_non_null(strstr(j, "{\"vhost\": \"ev\\\"il\\u003cv\\u003e\\u0026\\\\h\\u0001"
                              "\xef\xbf\xbd\", \"requests\": 3,"));
    assert_non_null(strstr(j, "{\"path\": \"/\\u003cscript\\u003ealert(1)\\u003c/script"
                              "\\u003e\\\"\\\\\\u007f\xc3\xa9\xef\xbf\xbd\", \"requests\": 3,"));
    assert_non_null(strstr(j, "\"method\": \"G\\u003cE\\u003eT\\u0002\", \"path\": "));
    assert_non_null(strstr(j, "\"traceid\": \"\\u003c/script\\u003e\"}"));
    assert_non_null(strstr(j, "\n  {\"method\": \"P\\\"OST\", \"path\": \"/in\\\\flight"
                              "\\u003c\\u0026\\u003e\\u001b[31m\", \"vhost\": \"v\xef\xbf\xbd"
                              "\xef\xbf\xbd\", \"seconds\": 1.500, \"pid\": 42, "
                              "\"profiled\": true, \"stack\": [\"request GET /\\u003cx"
                              "\\u003e\", \"mod_\\\"q\\\".c:1(handler)\", \"tab\\u0009here"
                              "\xef\xbf\xbd\"]}],\n"));
    assert_non_null(strstr(j, "{\"module\": \"mod_\\u003cb\\u003e.c\", \"entry\": 1, "
                              "\"hook\": \"hook\\\"x\\u000a\""));
}

static void test_prometheus(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_snap_t *s = sample(p);
    const char *t = prom_of(p, s);

    assert_non_null(strstr(t, "# TYPE reqprof_requests_total counter\n"
                              "reqprof_requests_total{code=\"1xx\"} 0\n"
                              "reqprof_requests_total{code=\"2xx\"} 4\n"
                              "reqprof_requests_total{code=\"3xx\"} 1\n"
                              "reqprof_requests_total{code=\"4xx\"} 1\n"
                              "reqprof_requests_total{code=\"5xx\"} 1\n"
                              "# HELP reqprof_profiled_requests_total "));
    assert_null(strstr(t, "code=\"other\""));
    assert_non_null(strstr(t, "\nreqprof_profiled_requests_total 2\n"));
    assert_non_null(strstr(t, "\nreqprof_request_duration_seconds_bucket{le=\"+Inf\"} 7\n"
                              "reqprof_request_duration_seconds_sum 0.028000000\n"
                              "reqprof_request_duration_seconds_count 7\n"));
    assert_int_equal(count_of(t, "reqprof_request_duration_seconds_bucket{"), RP_AGG_NBUCKETS);
    assert_int_equal(sum_after(t, "reqprof_vhost_requests_total{vhost=\"one.test\"} ")
                     + sum_after(t, "reqprof_vhost_requests_total{vhost=\"two.test\"} "), 7);
    /* mod_x.c's two handler entries are one series; each vhost its own */
    assert_non_null(strstr(t, "reqprof_hook_calls_total{module=\"mod_x.c\",hook=\"handler\","
                              "vhost=\"one.test\"} 3\n"));
    assert_non_null(strstr(t, "reqprof_hook_calls_total{module=\"mod_x.c\",hook=\"handler\","
                              "vhost=\"two.test\"} 3\n"));
    assert_int_equal(count_of(t, "reqprof_hook_calls_total{"), 2);
    assert_non_null(strstr(t, "reqprof_hook_self_seconds_total{module=\"mod_x.c\","
                              "hook=\"handler\",vhost=\"one.test\"} 0.000001500\n"));
    assert_non_null(strstr(t, "reqprof_phase_calls_total{phase=\"handler\","
                              "vhost=\"two.test\"} 1\n"));
    assert_non_null(strstr(t, "reqprof_phase_seconds_total{phase=\"handler\","
                              "vhost=\"one.test\"} 0.000004000\n"));
    /* no URL anywhere */
    assert_null(strstr(t, "/a"));
    assert_null(strstr(t, "/b"));
    assert_int_equal(t[strlen(t) - 1], '\n');
}

static void test_prometheus_labels_and_other_codes(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_t *a = make(p, 2);
    rp_agg_snap_t *s;
    const char *t;
    int i;

    rp_win_minute_usec = APR_USEC_PER_SEC * 60;
    assert_int_equal(rp_agg_vhost(a, "a\"b\\c\nd"), 0);
    for (i = 0; i < 3; i++) {
        /* a status outside 100..599 is counted, under code="other" */
        rp_agg_req_t r = req("/secret-url", "a\"b\\c\nd", 0, i ? 200 : 0, 1000, i);
        rp_agg_count(a, &r);
    }
    s = rp_agg_read(a, p);
    t = prom_of(p, s);
    assert_non_null(strstr(t, "reqprof_vhost_requests_total{vhost=\"a\\\"b\\\\c\\nd\"} 3\n"));
    assert_non_null(strstr(t, "reqprof_requests_total{code=\"other\"} 1\n"));
    assert_non_null(strstr(t, "reqprof_requests_total{code=\"2xx\"} 2\n"));
    assert_null(strstr(t, "secret-url"));
    assert_string_equal(rp_prom_label(p, "x\"y\\z\n\t<&>"), "x\\\"y\\\\z\\n\t<&>");
    assert_string_equal(rp_prom_label(p, ""), "");
}

static void test_auto(void **state)
{
    apr_pool_t *p = *state;
    rp_agg_snap_t *s = sample(p);
    const char *t = auto_of(p, s);
    const char *want = apr_psprintf(
        p, "ReqprofRequests: 7\nReqprofProfiled: 2\nReqprofStatus1xx: 0\n"
        "ReqprofStatus2xx: 4\nReqprofStatus3xx: 1\nReqprofStatus4xx: 1\n"
        "ReqprofStatus5xx: 1\nReqprofDurationSum: 0.028000\nReqprofDurationMax: 0.007000\n"
        "ReqprofDurationP50: %.6f\nReqprofDurationP90: %.6f\nReqprofDurationP99: %.6f\n"
        "ReqprofURLs: 2\nReqprofURLsOther: 0\nReqprofSlowest: 0\n"
        "ReqprofPhase_handler: 0.000008\n",
        rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9), rp_agg_percentile(s, 0.99));
    assert_string_equal(t, want);
    /* the percentiles lie within the requests' times */
    assert_true(rp_agg_percentile(s, 0.5) > 0.0 && rp_agg_percentile(s, 0.99) <= 0.007);
    assert_null(strstr(t, "/a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_json_checker_checks),
        RP_TEST(test_json_str_plain_and_quotes),
        RP_TEST(test_json_str_controls_kept_as_escapes),
        RP_TEST(test_json_str_html_specials),
        RP_TEST(test_json_str_utf8),
        RP_TEST(test_json_str_any_bytes_give_valid_json),
        RP_TEST(test_json_str_cut_at_a_character),
        RP_TEST(test_json_document),
        RP_TEST(test_json_window_and_empty),
        RP_TEST(test_json_hostile_strings),
        RP_TEST(test_prometheus),
        RP_TEST(test_prometheus_labels_and_other_codes),
        RP_TEST(test_auto),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
