/* Unit tests for lib/rp_pprof.c: the protobuf wire primitives, the gzip
 * wrapper, a whole small profile against bytes worked out by hand from
 * profile.proto, sample merging, and the samples derived from a finished
 * profile (decoded back here). */
#include <stdio.h>
#include <apr_strings.h>
#include "rp_test.h"
#include "rp_pprof.h"

static void expect_bytes(const char *got, apr_size_t glen,
                         const unsigned char *want, apr_size_t wlen)
{
    apr_size_t i;
    for (i = 0; i < glen && i < wlen; i++)
        if ((unsigned char)got[i] != want[i]) {
            print_error("byte %lu: got %02x want %02x\n", (unsigned long)i,
                        (unsigned char)got[i], want[i]);
            fail();
        }
    assert_int_equal(glen, wlen);
}

static void varint_is(apr_pool_t *p, uint64_t v, const unsigned char *want,
                      apr_size_t n)
{
    rp_buf_t b;
    rp_buf_init(&b, p, 4);
    rp_pprof_varint(&b, v);
    expect_bytes(b.data, b.len, want, n);
}

static void test_varint(void **state)
{
    apr_pool_t *p = *state;
    static const unsigned char v0[] = { 0 }, v127[] = { 0x7f },
        v128[] = { 0x80, 0x01 }, v300[] = { 0xac, 0x02 },
        v16383[] = { 0xff, 0x7f }, v16384[] = { 0x80, 0x80, 0x01 },
        vmax[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    varint_is(p, 0, v0, 1);
    varint_is(p, 127, v127, 1);
    varint_is(p, 128, v128, 2);
    varint_is(p, 300, v300, 2);
    varint_is(p, 16383, v16383, 2);
    varint_is(p, 16384, v16384, 3);
    varint_is(p, UINT64_MAX, vmax, 10);
    /* A negative int64 is written as its two's complement: 10 bytes. */
    varint_is(p, (uint64_t)(int64_t)-1, vmax, 10);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(rp_pprof_crc32(0, "", 0), 0);
    assert_int_equal(rp_pprof_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(rp_pprof_crc32(0, "abc", 3), 0x352441C2u);
    /* Incremental use gives the same. */
    assert_int_equal(rp_pprof_crc32(rp_pprof_crc32(0, "1234", 4), "56789", 5),
                     0xCBF43926u);
}

static void test_gzip_small(void **state)
{
    apr_pool_t *p = *state;
    const char *out;
    apr_size_t n;
    static const unsigned char empty[] = {
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff,      /* header, no mtime */
        0x01, 0x00, 0x00, 0xff, 0xff,               /* final stored block, 0 bytes */
        0, 0, 0, 0, 0, 0, 0, 0                      /* crc 0, size 0 */
    };
    static const unsigned char abc[] = {
        0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff,
        0x01, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c',
        0xc2, 0x41, 0x24, 0x35, 3, 0, 0, 0
    };
    rp_pprof_gzip("", 0, p, &out, &n);
    expect_bytes(out, n, empty, sizeof empty);
    rp_pprof_gzip("abc", 3, p, &out, &n);
    expect_bytes(out, n, abc, sizeof abc);
}

/* More than one stored block: 65535 bytes each, only the last final. */
static void test_gzip_blocks(void **state)
{
    apr_pool_t *p = *state;
    apr_size_t n = 65535 * 2 + 10, outlen, i;
    char *in = apr_palloc(p, n);
    const unsigned char *o;
    const char *out;
    for (i = 0; i < n; i++)
        in[i] = (char)(i * 7);
    rp_pprof_gzip(in, n, p, &out, &outlen);
    o = (const unsigned char *)out;
    assert_int_equal(outlen, 10 + 3 * 5 + n + 8);
    assert_int_equal(o[10], 0);                             /* not final */
    assert_int_equal(o[11] | o[12] << 8, 65535);
    assert_int_equal(o[10 + 5 + 65535], 0);
    assert_int_equal(o[10 + 2 * (5 + 65535)], 1);           /* final */
    assert_int_equal(o[11 + 2 * (5 + 65535)], 10);
    assert_memory_equal(o + 10 + 5, in, 65535);
    assert_memory_equal(o + 10 + 3 * 5 + 2 * 65535, in + 2 * 65535, 10);
    assert_int_equal(o[outlen - 4] | o[outlen - 3] << 8 | o[outlen - 2] << 16,
                     n & 0xffffff);
}

/* The whole profile.proto of one location, one sample (twice: merged),
 * one label and one comment, each byte worked out from profile.proto. */
static void test_hand_checked_profile(void **state)
{
    apr_pool_t *p = *state;
    rp_pprof_t *pp = rp_pprof_create(p);
    const char *const labels[] = { "k", "v", NULL };
    const char *out, *gz;
    apr_size_t n, gzn;
    uint64_t loc;
    static const unsigned char want[] = {
        0x0a, 0x04, 0x08, 0x01, 0x10, 0x02,         /* sample_type calls/count */
        0x0a, 0x04, 0x08, 0x03, 0x10, 0x04,         /* sample_type wall/nanoseconds */
        0x12, 0x0e,                                 /* sample, 14 bytes: */
        0x0a, 0x01, 0x01,                           /*   location_id [1] */
        0x12, 0x03, 0x02, 0xac, 0x02,               /*   value [2, 300] */
        0x1a, 0x04, 0x08, 0x08, 0x10, 0x09,         /*   label k=v */
        0x1a, 0x0a, 0x08, 0x01, 0x28, 0x05,         /* mapping id 1, file "mod_reqprof", */
        0x38, 0x01, 0x40, 0x01, 0x48, 0x01,         /*   has functions/files/lines */
        0x22, 0x0a, 0x08, 0x01, 0x10, 0x01,         /* location id 1, mapping 1, */
        0x22, 0x04, 0x08, 0x01, 0x10, 0x03,         /*   line {function 1, line 3} */
        0x2a, 0x0a, 0x08, 0x01, 0x10, 0x06,         /* function id 1, name "f", */
        0x18, 0x06, 0x20, 0x07, 0x28, 0x03,         /*   system_name "f", file "a.c", line 3 */
        0x32, 0x00,                                 /* string_table: "" */
        0x32, 0x05, 'c', 'a', 'l', 'l', 's',
        0x32, 0x05, 'c', 'o', 'u', 'n', 't',
        0x32, 0x04, 'w', 'a', 'l', 'l',
        0x32, 0x0b, 'n', 'a', 'n', 'o', 's', 'e', 'c', 'o', 'n', 'd', 's',
        0x32, 0x0b, 'm', 'o', 'd', '_', 'r', 'e', 'q', 'p', 'r', 'o', 'f',
        0x32, 0x01, 'f', 0x32, 0x03, 'a', '.', 'c',
        0x32, 0x01, 'k', 0x32, 0x01, 'v', 0x32, 0x01, 'c',
        0x48, 0xe8, 0x07,                           /* time_nanos 1000 */
        0x50, 0x05,                                 /* duration_nanos 5 */
        0x5a, 0x04, 0x08, 0x03, 0x10, 0x04,         /* period_type wall/nanoseconds */
        0x60, 0x01,                                 /* period 1 */
        0x6a, 0x01, 0x0a,                           /* comment ["c"] */
        0x70, 0x03                                  /* default_sample_type wall */
    };

    loc = rp_pprof_location(pp, "f", "a.c", 3);
    assert_int_equal(loc, 1);
    assert_int_equal(rp_pprof_location(pp, "f", "a.c", 3), 1);
    rp_pprof_add(pp, &loc, 1, 1, 100, labels);
    rp_pprof_add(pp, &loc, 1, 1, 200, labels);       /* merged: 2 calls, 300 ns */
    rp_pprof_comment(pp, "c");
    assert_int_equal(rp_pprof_encode_raw(pp, 1000, 5, p, &out, &n), APR_SUCCESS);
    expect_bytes(out, n, want, sizeof want);
    /* The gzip'd form holds exactly those bytes. */
    assert_int_equal(rp_pprof_encode(pp, 1000, 5, p, &gz, &gzn), APR_SUCCESS);
    assert_int_equal(gzn, sizeof want + 10 + 5 + 8);
    assert_memory_equal(gz + 15, want, sizeof want);
}

static void test_ids_and_labels(void **state)
{
    apr_pool_t *p = *state;
    rp_pprof_t *pp = rp_pprof_create(p);
    uint64_t a = rp_pprof_location(pp, "a", "x.c", 1);
    uint64_t b = rp_pprof_location(pp, "a", "x.c", 2);      /* other line */
    uint64_t c = rp_pprof_location(pp, "a", "y.c", 1);      /* other file */
    uint64_t bad[2] = { 1, 99 };
    const char *const l1[] = { "k", "v1", NULL }, *const l2[] = { "k", "v2", NULL };
    const char *out;
    apr_size_t n, n0;
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(c, 3);
    assert_int_equal(rp_pprof_location(pp, "a", "x.c", 2), 2);
    rp_pprof_encode_raw(pp, 0, 0, p, &out, &n0);
    /* An unknown location id drops the sample rather than write a file
     * no reader accepts. */
    rp_pprof_add(pp, bad, 2, 1, 1, NULL);
    rp_pprof_encode_raw(pp, 0, 0, p, &out, &n);
    assert_int_equal(n, n0);
    /* Different labels: two samples; no labels: a third. */
    rp_pprof_add(pp, &a, 1, 1, 1, l1);
    rp_pprof_add(pp, &a, 1, 1, 1, l2);
    rp_pprof_add(pp, &a, 1, 1, 1, NULL);
    rp_pprof_add(pp, &a, 1, 1, 1, l1);
    rp_pprof_encode_raw(pp, 0, 0, p, &out, &n);
    {
        int samples = 0;
        apr_size_t i = 0;
        /* Top-level fields here are all short: count the sample keys by
         * walking the fields (key, then varint or length + bytes). */
        while (i < n) {
            unsigned k = (unsigned char)out[i++];
            uint64_t v = 0;
            int sh = 0;
            do {
                v |= (uint64_t)(out[i] & 0x7f) << sh;
                sh += 7;
            } while ((unsigned char)out[i++] & 0x80);
            if ((k & 7) == 2)
                i += v;
            if (k == 0x12)
                samples++;
        }
        assert_int_equal(i, n);
        assert_int_equal(samples, 3);
    }
    assert_int_equal(rp_pprof_encode(NULL, 0, 0, p, &out, &n), APR_EINVAL);
}

/* ---- decoding the samples back, for the derived-profile tests ---- */

typedef struct dsample {
    uint64_t loc[8];
    int n;
    int64_t calls, wall;
} dsample_t;

static uint64_t rd_varint(const unsigned char *d, apr_size_t *i)
{
    uint64_t v = 0;
    int sh = 0;
    do {
        v |= (uint64_t)(d[*i] & 0x7f) << sh;
        sh += 7;
    } while (d[(*i)++] & 0x80);
    return v;
}

static int decode_samples(const char *data, apr_size_t n, dsample_t *out, int max)
{
    const unsigned char *d = (const unsigned char *)data;
    apr_size_t i = 0;
    int ns = 0;
    while (i < n) {
        uint64_t k = rd_varint(d, &i), len;
        if ((k & 7) != 2) {
            rd_varint(d, &i);
            continue;
        }
        len = rd_varint(d, &i);
        if (k >> 3 == 2 && ns < max) {
            apr_size_t j = i, end = i + len;
            dsample_t *s = &out[ns++];
            memset(s, 0, sizeof *s);
            while (j < end) {
                uint64_t sk = rd_varint(d, &j), sl = rd_varint(d, &j);
                apr_size_t se = j + sl;
                if (sk == 0x0a)
                    while (j < se)
                        s->loc[s->n++] = rd_varint(d, &j);
                else if (sk == 0x12) {
                    s->calls = (int64_t)rd_varint(d, &j);
                    s->wall = (int64_t)rd_varint(d, &j);
                }
                j = se;
            }
        }
        i += len;
    }
    return ns;
}

/* request (1 ms self) -> handler phase x2 (4 ms self) -> mod_x.c entry x3
 * (5 ms self): three paths, leaf first in the file, calls from the edges,
 * self times in ns adding up to the root's cumulative time. */
static void test_from_stats(void **state)
{
    apr_pool_t *p = *state;
    rp_pprof_t *pp = rp_pprof_create(p);
    rp_edge_t e1 = { 0, 2, 2, 0.004, 0.009 }, e2 = { 1, 3, 3, 0.005, 0.005 };
    rp_func_t f[3] = {
        { "httpd", 0, "request GET /", 1, 1, 0.001, 0.010, 0, NULL, 0 },
        { "httpd", 0, "handler", 2, 2, 0.004, 0.009, 1, &e1, 0 },
        { "mod_x.c", 1, "handler", 3, 3, 0.005, 0.005, 1, &e2, 0 },
    };
    rp_stats_t st = { 3, f };
    const char *const labels[] = { "method", "GET", NULL };
    dsample_t s[8];
    const char *out;
    apr_size_t n;
    int k;
    int64_t sum = 0;

    assert_int_equal(rp_pprof_add_stats(pp, &st, labels), APR_SUCCESS);
    assert_int_equal(rp_pprof_encode_raw(pp, 0, 0, p, &out, &n), APR_SUCCESS);
    assert_int_equal(decode_samples(out, n, s, 8), 3);
    assert_int_equal(s[0].n, 1);
    assert_int_equal(s[0].loc[0], 1);
    assert_int_equal(s[0].calls, 1);
    assert_int_equal(s[0].wall, 1000000);
    assert_int_equal(s[1].n, 2);
    assert_int_equal(s[1].loc[0], 2);                /* leaf first */
    assert_int_equal(s[1].loc[1], 1);
    assert_int_equal(s[1].calls, 2);
    assert_int_equal(s[1].wall, 4000000);
    assert_int_equal(s[2].n, 3);
    assert_int_equal(s[2].loc[0], 3);
    assert_int_equal(s[2].loc[2], 1);
    assert_int_equal(s[2].calls, 3);
    assert_int_equal(s[2].wall, 5000000);
    for (k = 0; k < 3; k++)
        sum += s[k].wall;
    assert_int_equal(sum, 10000000);                 /* the root's ct */
    /* Function names are the pstats display names. */
    assert_non_null(memmem(out, n, "mod_x.c:1(handler)", 18));
    assert_non_null(memmem(out, n, "request GET /", 13));
    {
        rp_stats_t empty = { 0, NULL };
        assert_int_equal(rp_pprof_add_stats(pp, &empty, NULL), APR_EINVAL);
    }
}

/* Two callers of one function: its time splits by edge share and the
 * paths still add up to the root. */
static void test_from_stats_two_callers(void **state)
{
    apr_pool_t *p = *state;
    rp_pprof_t *pp = rp_pprof_create(p);
    rp_edge_t ea = { 0, 1, 1, 0.001, 0.003 }, eb = { 0, 1, 1, 0.001, 0.005 };
    rp_edge_t ec[2] = { { 1, 1, 1, 0.002, 0.002 }, { 2, 3, 3, 0.004, 0.004 } };
    rp_func_t f[4] = {
        { "httpd", 0, "request GET /", 1, 1, 0.002, 0.010, 0, NULL, 0 },
        { "httpd", 0, "fixups", 1, 1, 0.001, 0.003, 1, &ea, 0 },
        { "httpd", 0, "handler", 1, 1, 0.001, 0.005, 1, &eb, 0 },
        { "core.c", 1, "filter CORE", 4, 4, 0.006, 0.006, 2, ec, 0 },
    };
    rp_stats_t st = { 4, f };
    dsample_t s[8];
    const char *out;
    apr_size_t n;
    int k, ns;
    int64_t sum = 0, calls_core = 0;

    assert_int_equal(rp_pprof_add_stats(pp, &st, NULL), APR_SUCCESS);
    rp_pprof_encode_raw(pp, 0, 0, p, &out, &n);
    ns = decode_samples(out, n, s, 8);
    assert_int_equal(ns, 5);
    for (k = 0; k < ns; k++) {
        sum += s[k].wall;
        if (s[k].loc[0] == 4)
            calls_core += s[k].calls;
    }
    assert_int_equal(sum, 10000000);
    assert_int_equal(calls_core, 4);
}

/* Recursion: request -> F -> subrequest S -> F again. The inner F is a
 * sample of its own (the stack holds F twice) and the total is kept. */
static void test_from_stats_recursion(void **state)
{
    apr_pool_t *p = *state;
    rp_pprof_t *pp = rp_pprof_create(p);
    rp_edge_t ef[2] = { { 0, 1, 1, 0.001, 0.004 }, { 2, 1, 0, 0.002, 0.002 } };
    rp_edge_t es = { 1, 1, 1, 0.001, 0.003 };
    rp_func_t f[3] = {
        { "httpd", 0, "request GET /", 1, 1, 0.001, 0.005, 0, NULL, 0 },
        { "httpd", 0, "handler", 1, 2, 0.003, 0.004, 2, ef, 0 },
        { "httpd", 0, "subrequest /x", 1, 1, 0.001, 0.003, 1, &es, 0 },
    };
    rp_stats_t st = { 3, f };
    dsample_t s[8];
    const char *out;
    apr_size_t n;
    int k, ns;
    int64_t sum = 0;

    assert_int_equal(rp_pprof_add_stats(pp, &st, NULL), APR_SUCCESS);
    rp_pprof_encode_raw(pp, 0, 0, p, &out, &n);
    ns = decode_samples(out, n, s, 8);
    assert_int_equal(ns, 4);
    for (k = 0; k < ns; k++)
        sum += s[k].wall;
    assert_int_equal(sum, 5000000);
    assert_int_equal(s[3].n, 4);
    assert_int_equal(s[3].loc[0], 2);        /* handler, inside ... */
    assert_int_equal(s[3].loc[1], 3);        /* the subrequest, inside ... */
    assert_int_equal(s[3].loc[2], 2);        /* handler */
    assert_int_equal(s[3].wall, 2000000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_varint),
        RP_TEST(test_crc32),
        RP_TEST(test_gzip_small),
        RP_TEST(test_gzip_blocks),
        RP_TEST(test_hand_checked_profile),
        RP_TEST(test_ids_and_labels),
        RP_TEST(test_from_stats),
        RP_TEST(test_from_stats_two_callers),
        RP_TEST(test_from_stats_recursion),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
