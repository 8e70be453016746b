/* Unit tests for rp_fname: Werkzeug-compatible names, Python format
 * semantics of the supported subset, compile errors, hostile input. */
#include <math.h>
#include <stdio.h>
#include <apr_strings.h>
#include "rp_test.h"
#include "rp_fname.h"

/* A request like Werkzeug's examples: GET /, 3.4 ms, fixed epoch. */
static rp_fname_vars_t base_vars(void)
{
    rp_fname_vars_t v;
    memset(&v, 0, sizeof(v));
    v.method = "GET";
    v.path = "/";
    v.vhost = "www.example.com";
    v.id = "Zq3x-AAAAAE";
    v.ext = "prof";
    v.elapsed_ms = 3.4;
    v.time = 1795226900.4;
    v.status = 200;
    v.pid = 1234;
    return v;
}

static rp_fname_t *compile_ok(apr_pool_t *p, const char *fmt)
{
    rp_fname_t *f = NULL;
    const char *err = rp_fname_compile(p, fmt, &f);
    if (err != NULL)
        fail_msg("compile \"%s\": %s", fmt, err);
    assert_non_null(f);
    return f;
}

static const char *expand(apr_pool_t *p, const char *fmt, const rp_fname_vars_t *v)
{
    return rp_fname_expand(p, compile_ok(p, fmt), v);
}

/* The invariants every expanded name must hold, whatever the input. */
static void assert_safe_name(const char *name)
{
    size_t i, n;
    assert_non_null(name);
    n = strlen(name);
    assert_true(n > 0);
    assert_true(n <= RP_FNAME_MAX);
    assert_true(name[0] != '.');
    assert_null(strchr(name, '/'));
    assert_true(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || strchr("._~+,=@-", c) != NULL))
            fail_msg("byte 0x%02x at %zu in \"%s\"", c, i, name);
    }
}

/* ---- Werkzeug's default format ---- */

static void test_werkzeug_root(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "GET.root.3ms.1795226900.prof");
}

static void test_werkzeug_cgi(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    v.path = "/cgi-bin/report.cgi";
    v.elapsed_ms = 41.7;
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "GET.cgi-bin.report.cgi.42ms.1795226900.prof");
    v.path = "/a/b/";
    v.method = "POST";
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "POST.a.b.42ms.1795226900.prof");
    v.path = "";
    assert_string_equal(expand(p, "{path}", &v), "root");
    v.path = NULL;
    assert_string_equal(expand(p, "{path}", &v), "root");
}

/* ---- spec forms ---- */

typedef struct num_case {
    const char *fmt;
    double elapsed;
    const char *want;
} num_case_t;

/* {x:.0f} and the integer fields take a fast path past snprintf: it must
 * print exactly what printf("%.0f") prints, halves and signs included,
 * up to where it hands back to snprintf (1e15) and beyond. */
static void test_zero_precision_matches_printf(void **state)
{
    apr_pool_t *p = *state;
    const rp_fname_t *fn = compile_ok(p, "{elapsed:.0f}");
    rp_fname_vars_t v = base_vars();
    static const double edges[] = {
        0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 1e15 - 1.5, 1e15 - 0.5, 1e15,
        -1e15 + 0.5, 1e15 + 2, 4503599627370495.5, 9007199254740993.0,
        0.49999999999999994, -0.49999999999999994, 1e300, -1e300,
    };
    char want[400];
    unsigned x = 12345;
    int i;

    for (i = -20000; i <= 20000; i++) {
        v.elapsed_ms = i / 8.0;
        snprintf(want, sizeof want, "%.0f", v.elapsed_ms);
        assert_string_equal(rp_fname_expand(p, fn, &v), want);
    }
    for (i = 0; i < (int)(sizeof edges / sizeof edges[0]); i++) {
        v.elapsed_ms = edges[i];
        snprintf(want, sizeof want, "%.0f", v.elapsed_ms);
        /* a name is cut to RP_FNAME_MAX; compare what fits */
        assert_int_equal(strncmp(rp_fname_expand(p, fn, &v), want, 100), 0);
    }
    for (i = 0; i < 20000; i++) {      /* epoch seconds with fractions */
        x = x * 1103515245u + 12345u;
        v.elapsed_ms = 1.7e9 + (double)(x % 100000000u) / 1000.0;
        snprintf(want, sizeof want, "%.0f", v.elapsed_ms);
        assert_string_equal(rp_fname_expand(p, fn, &v), want);
    }
}

static void test_float_specs(void **state)
{
    static const num_case_t cases[] = {
        /* round-half-even on the binary value, as Python's format */
        { "{elapsed:.0f}", 0.5, "0" },
        { "{elapsed:.0f}", 1.5, "2" },
        { "{elapsed:.0f}", 2.5, "2" },
        { "{elapsed:.0f}", 3.5, "4" },
        { "{elapsed:.0f}", 0.49999999999999994, "0" },
        { "{elapsed:.0f}", -0.4, "-0" },
        { "{elapsed:.2f}", 2.675, "2.67" },
        { "{elapsed:.3f}", 12.3456, "12.346" },
        { "{elapsed:.3f}", 0, "0.000" },
        { "{elapsed:f}", 1.5, "1.500000" },
        { "{elapsed:06.0f}", 12.5, "000012" },
        { "{elapsed:06.0f}", -3.0, "-00003" },
        { "{elapsed:06.0f}", 1234567.0, "1234567" },
        { "{elapsed:08.2f}", 3.14159, "00003.14" },
        { "{elapsed:.0f}", 1e22, "10000000000000000000000" },
        /* no spec: Python's str(float), shortest round-trip repr */
        { "{elapsed}", 12.5, "12.5" },
        { "{elapsed}", 3.0, "3.0" },
        { "{elapsed}", 0.1, "0.1" },
        { "{elapsed}", 0.0, "0.0" },
        { "{elapsed}", -0.0, "-0.0" },
        { "{elapsed}", 1.0 / 3.0, "0.3333333333333333" },
        { "{elapsed}", 0.1 + 0.2, "0.30000000000000004" },
        { "{elapsed}", 123456789.123, "123456789.123" },
        { "{elapsed}", 1e15, "1000000000000000.0" },
        { "{elapsed}", 1e16, "1e+16" },
        { "{elapsed}", 1e22, "1e+22" },
        { "{elapsed}", 0.0001, "0.0001" },
        { "{elapsed}", 0.00001, "1e-05" },
        { "{elapsed}", 5e-324, "5e-324" },
        { "{elapsed}", 1.7976931348623157e308, "1.7976931348623157e+308" },
        { "{elapsed:010}", 12.5, "00000012.5" },
        /* no type, precision: like 'g' but keeps a ".0" */
        { "{elapsed:.3}", 123.0, "1.23e+02" },
        { "{elapsed:.3}", 12.0, "12.0" },
        { "{elapsed:.3}", 100.0, "1e+02" },
        { "{elapsed:.1}", 5.0, "5e+00" },
        { "{elapsed:.0}", 5.0, "5e+00" },
        { "{elapsed:.3}", 0.0, "0.0" },
        { "{elapsed:.4}", 1234.5, "1.234e+03" },
        { "{elapsed:.3}", 0.00012345, "0.000123" },
        /* width without '0' pads with spaces, which become '_' */
        { "{elapsed:6}", 3.0, "___3.0" },
        { "{elapsed:6.1f}", 3.0, "___3.0" },
        /* non-finite values print like Python's */
        { "{elapsed:.0f}", INFINITY, "inf" },
        { "{elapsed:.0f}", -INFINITY, "-inf" },
        { "{elapsed:.0f}", NAN, "nan" },
        { "{elapsed}", NAN, "nan" },
        { "{elapsed:06.0f}", INFINITY, "000inf" },
    };
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *got;
        v.elapsed_ms = cases[i].elapsed;
        got = expand(p, cases[i].fmt, &v);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s of %.17g: got \"%s\", want \"%s\"", cases[i].fmt,
                     cases[i].elapsed, got, cases[i].want);
    }
}

static void test_time_spec(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    assert_string_equal(expand(p, "{time:.0f}", &v), "1795226900");
    v.time = 1795226900.5;      /* exactly representable: half-even */
    assert_string_equal(expand(p, "{time:.0f}", &v), "1795226900");
    v.time = 1795226901.5;
    assert_string_equal(expand(p, "{time:.0f}", &v), "1795226902");
    assert_string_equal(expand(p, "{time:.3f}", &v), "1795226901.500");
    assert_string_equal(expand(p, "{time}", &v), "1795226901.5");
}

static void test_int_specs(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    v.status = 404;
    assert_string_equal(expand(p, "{status}", &v), "404");
    assert_string_equal(expand(p, "{status:d}", &v), "404");
    assert_string_equal(expand(p, "{status:05d}", &v), "00404");
    assert_string_equal(expand(p, "{status:05}", &v), "00404");
    assert_string_equal(expand(p, "{status:5}", &v), "__404");
    assert_string_equal(expand(p, "{status:.1f}", &v), "404.0");
    assert_string_equal(expand(p, "{status:f}", &v), "404.000000");
    assert_string_equal(expand(p, "{pid:08d}", &v), "00001234");
    assert_string_equal(expand(p, "{pid}", &v), "1234");
    v.pid = -5;
    assert_string_equal(expand(p, "{pid:08d}", &v), "-0000005");
    v.pid = 123456789012L;
    assert_string_equal(expand(p, "{pid:04d}", &v), "123456789012");
}

static void test_string_specs(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    v.method = "DELETE";
    v.path = "/abcdef/ghi";
    assert_string_equal(expand(p, "{method:.2}.x", &v), "DE.x");
    assert_string_equal(expand(p, "{method:.2s}.x", &v), "DE.x");
    assert_string_equal(expand(p, "{method:s}.x", &v), "DELETE.x");
    assert_string_equal(expand(p, "{method:.99}.x", &v), "DELETE.x");
    /* .N cuts the Werkzeug form of the path, before sanitizing */
    assert_string_equal(expand(p, "{path:.8}", &v), "abcdef.g");
    v.method = "G\x01T\xff";
    assert_string_equal(expand(p, "{method:.3}", &v), "G_T");
    assert_string_equal(expand(p, "{id}.{vhost}.{ext}", &v),
                        "Zq3x-AAAAAE.www.example.com.prof");
    /* nothing left of a placeholder still gives a name */
    assert_string_equal(expand(p, "{id:.0}", &v), "_");
    v.id = NULL;
    v.ext = NULL;
    assert_string_equal(expand(p, "x{id}{ext}", &v), "x");
}

static void test_literal_braces(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    assert_string_equal(expand(p, "{{{status}}}.{ext}", &v), "{200}.prof");
    assert_string_equal(expand(p, "a}}b{{c", &v), "a}b{c");
    assert_string_equal(expand(p, "plain.prof", &v), "plain.prof");
}

static void test_uses(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_t *f = compile_ok(p, RP_FNAME_DEFAULT);
    assert_true(rp_fname_uses(f, "method"));
    assert_true(rp_fname_uses(f, "path"));
    assert_true(rp_fname_uses(f, "elapsed"));
    assert_true(rp_fname_uses(f, "time"));
    assert_false(rp_fname_uses(f, "ext"));
    assert_false(rp_fname_uses(f, "status"));
    assert_false(rp_fname_uses(f, "nonsense"));
    assert_false(rp_fname_uses(NULL, "ext"));
    f = compile_ok(p, "{id}.{ext}");
    assert_true(rp_fname_uses(f, "ext"));
    assert_true(rp_fname_uses(f, "id"));
    assert_false(rp_fname_uses(f, "path"));
}

/* Whether the request id (and the trace ids) must be looked up: the
 * default name shows neither; {traceid} and {spanid} fall back to {id}. */
static void test_uses_id_and_trace(void **state)
{
    apr_pool_t *p = *state;
    assert_false(rp_fname_uses_id(compile_ok(p, RP_FNAME_DEFAULT)));
    assert_false(rp_fname_uses_trace(compile_ok(p, RP_FNAME_DEFAULT)));
    assert_false(rp_fname_uses_id(compile_ok(p, "{pid}.{vhost}.{status}.{ext}")));
    assert_true(rp_fname_uses_id(compile_ok(p, "{id}.prof")));
    assert_false(rp_fname_uses_trace(compile_ok(p, "{id}.prof")));
    assert_true(rp_fname_uses_id(compile_ok(p, "{traceid}.prof")));
    assert_true(rp_fname_uses_trace(compile_ok(p, "{traceid}.prof")));
    assert_true(rp_fname_uses_id(compile_ok(p, "x.{spanid:.4}.prof")));
    assert_true(rp_fname_uses_trace(compile_ok(p, "x.{spanid:.4}.prof")));
    assert_false(rp_fname_uses_id(NULL));
    assert_false(rp_fname_uses_trace(NULL));
}

/* Compiling many times and expanding reuses no state between them. */
static void test_compile_once_expand_many(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_t *f = compile_ok(p, RP_FNAME_DEFAULT);
    rp_fname_vars_t v = base_vars();
    int i;
    for (i = 0; i < 100; i++) {
        char want[64];
        v.elapsed_ms = i;
        snprintf(want, sizeof(want), "GET.root.%dms.1795226900.prof", i);
        assert_string_equal(rp_fname_expand(p, f, &v), want);
    }
}

/* ---- compile errors ---- */

typedef struct err_case {
    const char *fmt;
    const char *want;   /* substring of the message */
} err_case_t;

static void test_compile_errors(void **state)
{
    static const err_case_t cases[] = {
        { "{foo}", "unknown placeholder {foo}: expected one of method, path, "
                   "elapsed, time, status, vhost, pid, id, ext, traceid, spanid" },
        { "a.{Method}.prof", "unknown placeholder {Method}" },
        { "{ path }", "unknown placeholder { path }" },
        { "{}", "empty placeholder {}" },
        { "{:d}", "empty placeholder {:d}" },
        { "{0}", "positional placeholder {0}" },
        { "{12:d}", "positional placeholder {12:d}" },
        { "{path.x}", "attribute or index access in {path.x}" },
        { "{path[0]}", "attribute or index access in {path[0]}" },
        { "{path!r}", "conversion in {path!r}" },
        { "{path!s:.3}", "conversion in {path!s:.3}" },
        { "{path", "unbalanced '{' at \"{path\"" },
        { "a.{", "unbalanced '{' at \"{\"" },
        { "path}.prof", "unbalanced '}' at \"}.prof\"" },
        { "{{path}", "unbalanced '}'" },
        { "{elapsed:{w}}", "nested '{' in \"{elapsed:{\"" },
        { "a/{path}", "'/' in the literal text of \"a/{path}\"" },
        { "/{path}", "'/' in the literal text" },
        { "{path}/", "'/' in the literal text" },
        { "", "empty file name format" },
        { "{elapsed:d}", "format code 'd' in {elapsed:d}" },
        { "{time:010d}", "format code 'd' in {time:010d}" },
        { "{status:.2}", "precision in {status:.2}" },
        { "{pid:.2d}", "precision in {pid:.2d}" },
        { "{method:05}", "bad format spec in {method:05}" },
        { "{path:10}", "bad format spec in {path:10}" },
        { "{path:.}", "missing precision after '.' in {path:.}" },
        { "{elapsed:.}", "missing precision after '.' in {elapsed:.}" },
        { "{elapsed:.f}", "missing precision" },
        { "{elapsed:x}", "bad format spec 'x' in {elapsed:x}" },
        { "{elapsed:>6}", "bad format spec '>6' in {elapsed:>6}" },
        { "{elapsed:+.1f}", "bad format spec" },
        { "{elapsed:.1e}", "bad format spec" },
        { "{elapsed:,}", "bad format spec" },
        { "{status:x}", "bad format spec" },
        { "{status:d }", "bad format spec" },
        { "{elapsed:999}", "width too large in {elapsed:999}" },
        { "{elapsed:.99999999999}", "precision too large" },
        { "{path:.99999999999}", "maximum length too large" },
    };
    apr_pool_t *p = *state;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rp_fname_t *f = NULL;
        const char *err = rp_fname_compile(p, cases[i].fmt, &f);
        if (err == NULL)
            fail_msg("\"%s\" compiled, want error \"%s\"", cases[i].fmt,
                     cases[i].want);
        if (strstr(err, cases[i].want) == NULL)
            fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].fmt, err,
                     cases[i].want);
        assert_null(f);
    }
    {
        rp_fname_t *f = NULL;
        assert_non_null(rp_fname_compile(p, NULL, &f));
        assert_null(f);
    }
}

/* ---- hostile input ---- */

static void test_hostile_paths(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    static const char *const fmts[] = {
        RP_FNAME_DEFAULT, "{path}", "{path}.prof", "{method}{path}",
        "{path:.3}", "{vhost}.{path}.{id}.{ext}",
    };
    char ctl[64], high[160], *big, *slashes, *mixed;
    const char *paths[16];
    size_t i, j, np = 0;

    for (i = 0; i < 0x1f; i++)
        ctl[i] = (char)(i + 1);
    ctl[0x1f] = '\0';
    for (i = 0; i < 0x80; i++)
        high[i] = (char)(0x80 + i);
    high[0x80] = '\0';
    big = apr_palloc(p, 6001);
    for (i = 0; i < 6000; i++)
        big[i] = "/abc.."[i % 6];
    big[6000] = '\0';
    slashes = apr_palloc(p, 3001);
    memset(slashes, '/', 3000);
    slashes[3000] = '\0';
    mixed = apr_pstrcat(p, "/", slashes, "x", slashes, "y", NULL);

    paths[np++] = "/../../etc/passwd";
    paths[np++] = "..";
    paths[np++] = "/..";
    paths[np++] = ".";
    paths[np++] = "/./";
    paths[np++] = "%2e%2e";
    paths[np++] = "..";                         /* %2e%2e once decoded */
    paths[np++] = ctl;
    paths[np++] = high;
    paths[np++] = "/\xc3\x28/\xe2\x82/\xf0\x9f\x98\x80/\xed\xa0\x80";
    paths[np++] = big;
    paths[np++] = slashes;
    paths[np++] = mixed;
    paths[np++] = "/ spa ce/tab\there/semi;colon/back\\slash/q?x=1&y=$(id)";

    for (j = 0; j < sizeof(fmts) / sizeof(fmts[0]); j++) {
        rp_fname_t *f = compile_ok(p, fmts[j]);
        for (i = 0; i < np; i++) {
            v.path = paths[i];
            assert_safe_name(rp_fname_expand(p, f, &v));
        }
    }

    v.path = "/../../etc/passwd";
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "GET.......etc.passwd.3ms.1795226900.prof");
    v.path = "..";
    assert_string_equal(expand(p, "{path}", &v), "_..");
    assert_string_equal(expand(p, "{path}.prof", &v), "_...prof");
    v.path = "/..";
    assert_string_equal(expand(p, "{path}", &v), "_..");
    v.path = "/./";
    assert_string_equal(expand(p, "{path}", &v), "_.");
    v.path = slashes;
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "GET.root.3ms.1795226900.prof");
    v.path = ctl;
    assert_string_equal(expand(p, "{path:.4}", &v), "____");
    v.path = "/caf\xc3\xa9/\xff";
    assert_string_equal(expand(p, "{path}", &v), "caf__._");
}

static void test_hostile_methods(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    char *big = apr_palloc(p, 6001);
    const char *name;

    v.method = "GE/T";
    assert_string_equal(expand(p, RP_FNAME_DEFAULT, &v),
                        "GE_T.root.3ms.1795226900.prof");
    v.method = "../..";
    name = expand(p, "{method}", &v);
    assert_string_equal(name, "_.._..");
    v.method = "";
    assert_string_equal(expand(p, "{method}.{path}", &v), "_.root");
    v.method = "\x01\x7f\x80";
    name = expand(p, "{method}", &v);
    assert_string_equal(name, "___");

    /* A huge method is cut, the short path and the extension survive. */
    memset(big, 'M', 6000);
    big[6000] = '\0';
    v.method = big;
    name = expand(p, RP_FNAME_DEFAULT, &v);
    assert_safe_name(name);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_non_null(strstr(name, "M.root.3ms.1795226900.prof"));
}

/* ---- length limit ---- */

static void test_long_path_cut_first(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    char *big = apr_palloc(p, 6002);
    const char *name;
    size_t n;

    big[0] = '/';
    memset(big + 1, 'a', 6000);
    big[6001] = '\0';
    v.path = big;
    name = expand(p, RP_FNAME_DEFAULT, &v);
    assert_safe_name(name);
    n = strlen(name);
    assert_int_equal(n, RP_FNAME_MAX);
    assert_memory_equal(name, "GET.aaaa", 8);
    assert_string_equal(name + n - 21, "a.3ms.1795226900.prof");

    /* The path goes first; the others keep their bytes while it can give. */
    v.method = "PROPFIND";
    v.vhost = "www.example.com";
    name = expand(p, "{vhost}.{method}.{path}.{status}.{ext}", &v);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_memory_equal(name, "www.example.com.PROPFIND.aaa", 28);
    assert_string_equal(name + strlen(name) - 14, "aaaaa.200.prof");

    /* Exactly at the limit nothing is cut. */
    big[1 + RP_FNAME_MAX] = '\0';
    assert_string_equal(expand(p, "{path}", &v), big + 1);
    big[2 + RP_FNAME_MAX] = '\0';
    big[1 + RP_FNAME_MAX] = 'a';
    assert_int_equal(strlen(expand(p, "{path}", &v)), RP_FNAME_MAX);
}

static void test_all_strings_long(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    char *a = apr_palloc(p, 1001), *b = apr_palloc(p, 1001);
    const char *name;

    memset(a, 'a', 1000);
    a[1000] = '\0';
    memset(b, 'b', 1000);
    b[1000] = '\0';
    v.path = a;
    v.vhost = b;
    v.id = b;
    name = expand(p, "{path}.{vhost}.{id}.{ext}", &v);
    assert_safe_name(name);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    /* the extension is never what gets cut */
    assert_string_equal(name + strlen(name) - 5, ".prof");
    assert_non_null(strstr(name, "a.bbbb"));
}

static void test_long_literal(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    char *fmt = apr_palloc(p, 400);
    const char *name;

    memset(fmt, 'L', 300);
    strcpy(fmt + 300, ".{path}.{status}.prof");
    name = expand(p, fmt, &v);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_memory_equal(name, "LLLL", 4);
    /* The last 16 bytes survive the middle cut. */
    assert_string_equal(name + RP_FNAME_MAX - 16, "LLLLLL..200.prof");
    assert_safe_name(name);

    /* A leading '.' at the limit: the prefix still fits. */
    fmt[0] = '.';
    name = expand(p, fmt, &v);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_memory_equal(name, "_.LL", 4);
    assert_string_equal(name + RP_FNAME_MAX - 16, "LLLLLL..200.prof");

    /* Huge numbers count as fixed text too. */
    v.elapsed_ms = 1e300;
    name = expand(p, "{elapsed:.200f}.prof", &v);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_string_equal(name + RP_FNAME_MAX - 5, ".prof");
}

static void test_leading_dot_at_limit(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    char *big = apr_palloc(p, 600);
    const char *name;

    big[0] = '.';
    memset(big + 1, 'x', 500);
    big[501] = '\0';
    v.path = big;
    name = expand(p, "{path}.prof", &v);
    assert_safe_name(name);
    assert_int_equal(strlen(name), RP_FNAME_MAX);
    assert_memory_equal(name, "_.xxx", 5);
    assert_string_equal(name + RP_FNAME_MAX - 5, ".prof");
}

/* Every byte value in every string placeholder, through several formats. */
static void test_every_byte(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    rp_fname_t *f = compile_ok(p, "{method}.{path}.{vhost}.{id}.{ext}");
    char s[4];
    int c;

    for (c = 1; c < 256; c++) {
        s[0] = (char)c;
        s[1] = '.';
        s[2] = (char)c;
        s[3] = '\0';
        v.method = v.path = v.vhost = v.id = v.ext = s;
        assert_safe_name(rp_fname_expand(p, f, &v));
    }
}

/* {traceid} and {spanid}: the traceparent's ids, or the request id when
 * the request had none. */
static void test_trace_ids(void **state)
{
    apr_pool_t *p = *state;
    rp_fname_vars_t v = base_vars();
    assert_string_equal(expand(p, "{traceid}.{spanid}.prof", &v),
                        "Zq3x-AAAAAE.Zq3x-AAAAAE.prof");
    v.traceid = "";
    assert_string_equal(expand(p, "{traceid}.prof", &v), "Zq3x-AAAAAE.prof");
    v.traceid = "4bf92f3577b34da6a3ce929d0e0e4736";
    v.spanid = "00f067aa0ba902b7";
    assert_string_equal(expand(p, "{method}.{traceid}.{spanid}.{ext}", &v),
                        "GET.4bf92f3577b34da6a3ce929d0e0e4736.00f067aa0ba902b7.prof");
    assert_string_equal(expand(p, "{traceid:.8}.prof", &v), "4bf92f35.prof");
}

static void test_null_vars(void **state)
{
    apr_pool_t *p = *state;
    const char *name = expand(p, RP_FNAME_DEFAULT, NULL);
    assert_string_equal(name, "_.root.0ms.0.prof");
    assert_safe_name(name);
}

int main(void);

static const struct CMUnitTest group[] = {
    RP_TEST(test_werkzeug_root),
    RP_TEST(test_werkzeug_cgi),
    RP_TEST(test_float_specs),
    RP_TEST(test_zero_precision_matches_printf),
    RP_TEST(test_time_spec),
    RP_TEST(test_int_specs),
    RP_TEST(test_string_specs),
    RP_TEST(test_literal_braces),
    RP_TEST(test_uses),
    RP_TEST(test_uses_id_and_trace),
    RP_TEST(test_compile_once_expand_many),
    RP_TEST(test_compile_errors),
    RP_TEST(test_hostile_paths),
    RP_TEST(test_hostile_methods),
    RP_TEST(test_long_path_cut_first),
    RP_TEST(test_all_strings_long),
    RP_TEST(test_long_literal),
    RP_TEST(test_leading_dot_at_limit),
    RP_TEST(test_every_byte),
    RP_TEST(test_trace_ids),
    RP_TEST(test_null_vars),
};

RP_TEST_MAIN(group)
