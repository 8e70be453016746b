/* Unit tests for lib/rp_report.c: sort words, restrictions and the
 * print_stats() layout. tests/integration/test_pstats_format.py checks the
 * same against Python's pstats on random profiles. */
#include "rp_test.h"
#include <math.h>
#include <stdio.h>
#include <regex.h>
#include <apr_strings.h>
#include "rp_report.h"

#define POOL ((apr_pool_t *)*state)
#define MAX_LINES 64
#define TITLE "   ncalls  tottime  percall  cumtime  percall filename:lineno(function)"
#define SORT_WORDS "calls cumtime cumulative filename line module name " \
                   "ncalls nfl pcalls stdname time tottime"

/* The lines one report emitted. */
typedef struct cap {
    apr_pool_t *pool;
    int n;
    const char *line[MAX_LINES];
} cap_t;

static void cap_line(void *ctx, const char *line)
{
    cap_t *c = ctx;

    assert_true(c->n < MAX_LINES);
    c->line[c->n++] = apr_pstrdup(c->pool, line);  /* line is reused */
}

static cap_t *report(void **state, const rp_stats_t *st, const rp_report_opts_t *o)
{
    cap_t *c = apr_pcalloc(POOL, sizeof(*c));

    c->pool = POOL;
    rp_report(st, o, POOL, cap_line, c);
    return c;
}

/* The function column of each row, space separated: the order. */
static const char *row_order(void **state, const cap_t *c)
{
    const char *out = "";
    int i, rows = 0;

    for (i = 0; i < c->n; i++) {
        if (strcmp(c->line[i], TITLE) == 0) {
            rows = 1;
            continue;
        }
        if (rows && c->line[i][0] != '\0') {
            assert_true(strlen(c->line[i]) > 46);
            out = apr_pstrcat(POOL, out, *out ? " " : "", c->line[i] + 46, NULL);
        }
    }
    return out;
}

static rp_func_t fn(const char *file, int line, const char *name, int64_t cc,
                    int64_t nc, double tt, double ct)
{
    rp_func_t f;

    memset(&f, 0, sizeof(f));
    f.file = file;
    f.line = line;
    f.name = name;
    f.cc = cc;
    f.nc = nc;
    f.tt = tt;
    f.ct = ct;
    return f;
}

/* A sort from words that must all be accepted; NULL ends the list. */
static rp_sort_t *sort_of(void **state, const char *word, ...)
{
    rp_sort_t *s = apr_pcalloc(POOL, sizeof(*s));
    va_list ap;

    va_start(ap, word);
    for (; word; word = va_arg(ap, const char *))
        assert_null(rp_sort_add(POOL, s, word));
    va_end(ap);
    return s;
}

static int posix_match(void *regex, const char *s)
{
    return regexec((const regex_t *)regex, s, 0, NULL, 0) == 0;
}

/* Three functions whose file order differs from the order of every sort
 * field, and of its reverse. */
static rp_stats_t *three(void **state)
{
    rp_stats_t *st = apr_pcalloc(POOL, sizeof(*st));

    st->nfuncs = 3;
    st->funcs = apr_pcalloc(POOL, 3 * sizeof(rp_func_t));
    st->funcs[0] = fn("a.c", 3, "z", 1, 2, 0.1, 0.4);
    st->funcs[1] = fn("b", 1, "x", 2, 3, 0.2, 0.2);
    st->funcs[2] = fn("a", 2, "y", 3, 4, 0.3, 0.5);
    return st;
}

/* Five functions f0..f4 in file order, for restrictions. */
static rp_stats_t *five(void **state)
{
    rp_stats_t *st = apr_pcalloc(POOL, sizeof(*st));
    int i;

    st->nfuncs = 5;
    st->funcs = apr_pcalloc(POOL, 5 * sizeof(rp_func_t));
    for (i = 0; i < 5; i++)
        st->funcs[i] = fn(i % 2 ? "a.c" : "b.c", i,
                          apr_psprintf(POOL, "f%d", i), 1, 1, 0.0, 0.0);
    return st;
}

static void test_full_layout_with_recursion(void **state)
{
    rp_func_t f[2];
    rp_stats_t st = {2, f};
    rp_report_opts_t o;
    cap_t *c;

    f[0] = fn("a.c", 1, "f", 1, 1, 0.5, 1.0);
    f[1] = fn("b.c", 2, "g", 3, 5, 0.25, 0.5);   /* recursive: 5 calls, 3 primitive */
    memset(&o, 0, sizeof(o));
    o.sort = sort_of(state, "cumulative", "time", NULL);
    c = report(state, &st, &o);
    assert_int_equal(c->n, 9);
    /* print(indent, n, ...) puts a space after the 8-space indent */
    assert_string_equal(c->line[0], "         6 function calls (4 primitive calls) in 0.750 seconds");
    assert_string_equal(c->line[1], "");
    assert_string_equal(c->line[2], "   Ordered by: cumulative time, internal time");
    assert_string_equal(c->line[3], "");
    assert_string_equal(c->line[4], TITLE);
    assert_string_equal(c->line[5], "        1    0.500    0.500    1.000    1.000 a.c:1(f)");
    assert_string_equal(c->line[6], "      5/3    0.250    0.050    0.500    0.167 b.c:2(g)");
    assert_string_equal(c->line[7], "");
    assert_string_equal(c->line[8], "");
}

/* The four time columns are rounded without printf for times of ordinary
 * size: every column must still be exactly printf's "%8.3f", ties and
 * near-ties included, and the calls column "%9s" of "nc/cc". */
static void test_columns_match_printf(void **state)
{
    static const double edges[] = {
        0.0, -0.0, 0.0005, 0.0015, 0.0025, 1.0005, 2.0005, 0.00049999999999999,
        0.00050000000000001, 0.1235, 0.9995, 9.9995, 99999.9995, 1073740.9995,
        1073741.0, 1073741.0005, 1e9, 1e300, -1.0, -0.0005, 1e-300, 5e-324,
    };
    rp_func_t f[1];
    rp_stats_t st = {1, f};
    uint64_t x = 88172645463325252ull;
    char want[1500], cols[4][340];
    int i;

    for (i = 0; i < 30000; i++) {
        double t;
        cap_t *c;
        if (i < (int)(sizeof edges / sizeof edges[0]))
            t = edges[i];
        else {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;     /* xorshift64 */
            switch (i % 3) {
            case 0:     /* k/2000: every tie of the third decimal */
                t = (double)(x % 20000000u) / 2000.0;
                break;
            case 1:     /* uniform over [0, 100) */
                t = (double)(x >> 11) / 9007199254740992.0 * 100.0;
                break;
            default:    /* spread over many magnitudes */
                t = (double)(x >> 11) / 9007199254740992.0 * pow(10.0, (double)(i % 12) - 6);
            }
        }
        f[0] = fn("a.c", 1, "f", 3, 7, t, t * 3.0);
        c = report(state, &st, NULL);
        snprintf(cols[0], sizeof cols[0], "%8.3f", t);
        snprintf(cols[1], sizeof cols[1], "%8.3f", t / 7.0);
        snprintf(cols[2], sizeof cols[2], "%8.3f", t * 3.0);
        snprintf(cols[3], sizeof cols[3], "%8.3f", t * 3.0 / 3.0);
        snprintf(want, sizeof want, "%9s %s %s %s %s a.c:1(f)", "7/3",
                 cols[0], cols[1], cols[2], cols[3]);
        assert_string_equal(c->line[c->n - 3], want);
    }
}

static void test_summary_without_primitive_part(void **state)
{
    rp_func_t f = fn("a.c", 1, "f", 2, 2, 0.0015, 0.0015);
    rp_stats_t st = {1, &f};
    cap_t *c = report(state, &st, NULL);

    assert_string_equal(c->line[0], "         2 function calls in 0.002 seconds");
    assert_string_equal(c->line[2], "   Random listing order was used");
    assert_string_equal(c->line[5], "        2    0.002    0.001    0.002    0.001 a.c:1(f)");
}

static void test_empty_stats_prints_summary_only(void **state)
{
    rp_stats_t st = {0, NULL};
    cap_t *c = report(state, &st, NULL);

    assert_int_equal(c->n, 2);
    assert_string_equal(c->line[0], "         0 function calls in 0.000 seconds");
    assert_string_equal(c->line[1], "");
}

static void test_zero_calls_leave_percall_blank(void **state)
{
    rp_func_t f[2];
    rp_stats_t st = {2, f};
    cap_t *c;

    f[0] = fn("x", 1, "z", 0, 0, 0.0, 0.0);
    f[1] = fn("x", 2, "r", 0, 2, 1.0, 2.0);      /* only recursive calls */
    c = report(state, &st, NULL);
    assert_string_equal(c->line[5], "        0    0.000             0.000          x:1(z)");
    assert_string_equal(c->line[6], "      2/0    1.000    0.500    2.000          x:2(r)");
}

static void test_random_listing_order_keeps_file_order(void **state)
{
    rp_report_opts_t o;
    rp_sort_t none;
    cap_t *c;

    memset(&o, 0, sizeof(o));
    memset(&none, 0, sizeof(none));
    o.sort = &none;                 /* nfields == 0 is the same as NULL */
    c = report(state, three(state), &o);
    assert_string_equal(c->line[2], "   Random listing order was used");
    assert_string_equal(row_order(state, c), "a.c:3(z) b:1(x) a:2(y)");
}

static void test_sort_every_key(void **state)
{
    static const struct {
        const char *word, *label, *order;
    } cases[] = {
        {"pcalls",     "primitive call count", "a:2(y) b:1(x) a.c:3(z)"},
        {"calls",      "call count",           "a:2(y) b:1(x) a.c:3(z)"},
        {"ncalls",     "call count",           "a:2(y) b:1(x) a.c:3(z)"},
        {"time",       "internal time",        "a:2(y) b:1(x) a.c:3(z)"},
        {"tottime",    "internal time",        "a:2(y) b:1(x) a.c:3(z)"},
        {"cumulative", "cumulative time",      "a:2(y) a.c:3(z) b:1(x)"},
        {"cumtime",    "cumulative time",      "a:2(y) a.c:3(z) b:1(x)"},
        {"filename",   "file name",            "a:2(y) a.c:3(z) b:1(x)"},
        {"module",     "file name",            "a:2(y) a.c:3(z) b:1(x)"},
        {"line",       "line number",          "b:1(x) a:2(y) a.c:3(z)"},
        {"name",       "function name",        "b:1(x) a:2(y) a.c:3(z)"},
        {"nfl",        "name/file/line",       "b:1(x) a:2(y) a.c:3(z)"},
        /* '.' sorts before ':', so stdname differs from filename order */
        {"stdname",    "standard name",        "a.c:3(z) a:2(y) b:1(x)"},
    };
    rp_report_opts_t o;
    apr_size_t i;

    memset(&o, 0, sizeof(o));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cap_t *c;

        o.sort = sort_of(state, cases[i].word, NULL);
        c = report(state, three(state), &o);
        assert_string_equal(c->line[2],
                            apr_pstrcat(POOL, "   Ordered by: ", cases[i].label, NULL));
        assert_string_equal(row_order(state, c), cases[i].order);
    }
}

static void test_sort_fields_and_nfl(void **state)
{
    rp_sort_t *s = sort_of(state, "nfl", "time", NULL);

    assert_int_equal(s->nfields, 4);
    assert_int_equal(s->fields[0], RP_SF_NAME);
    assert_int_equal(s->fields[1], RP_SF_FILE);
    assert_int_equal(s->fields[2], RP_SF_LINE);
    assert_int_equal(s->fields[3], RP_SF_TIME);
    assert_string_equal(s->label, "name/file/line, internal time");
    s = sort_of(state, "time", "time", NULL);
    assert_string_equal(s->label, "internal time, internal time");
}

static void test_sort_prefixes_accepted(void **state)
{
    /* get_sort_arg_defs() keeps these although some are prefixes of two
     * words: the walk stopped at a longer fragment first. */
    static const struct { const char *word, *label; } ok[] = {
        {"cu", "cumulative time"}, {"cumu", "cumulative time"},
        {"cumt", "cumulative time"}, {"ca", "call count"}, {"nc", "call count"},
        {"to", "internal time"}, {"ti", "internal time"}, {"f", "file name"},
        {"fi", "file name"}, {"m", "file name"}, {"l", "line number"},
        {"na", "function name"}, {"nf", "name/file/line"},
        {"p", "primitive call count"}, {"s", "standard name"},
    };
    apr_size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_string_equal(sort_of(state, ok[i].word, NULL)->label, ok[i].label);
}

static void test_sort_prefixes_rejected(void **state)
{
    static const char *const ambiguous[] = {"c", "cum", "n", "t"};
    static const char *const unknown[] = {"foo", "", "Calls", "timex", "nfll", "cumulatives"};
    rp_sort_t s;
    apr_size_t i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < sizeof(ambiguous) / sizeof(ambiguous[0]); i++) {
        const char *err = rp_sort_add(POOL, &s, ambiguous[i]);
        const char *want = apr_psprintf(POOL, "ambiguous sort key '%s'", ambiguous[i]);

        assert_non_null(err);
        assert_memory_equal(err, want, strlen(want));
    }
    for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_string_equal(rp_sort_add(POOL, &s, unknown[i]),
                            apr_psprintf(POOL, "unknown sort key '%s' (expected one of: "
                                         SORT_WORDS ")", unknown[i]));
    assert_non_null(rp_sort_add(POOL, &s, NULL));
    assert_int_equal(s.nfields, 0);     /* errors leave s as it was */
    assert_null(s.label);
}

static void test_sort_too_many_fields(void **state)
{
    rp_sort_t s;
    int i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < RP_SORT_MAX / 3; i++)
        assert_null(rp_sort_add(POOL, &s, "nfl"));
    assert_int_equal(s.nfields, RP_SORT_MAX);
    assert_non_null(rp_sort_add(POOL, &s, "time"));
    assert_int_equal(s.nfields, RP_SORT_MAX);
}

static void test_sort_is_stable_on_ties(void **state)
{
    rp_func_t f[12];
    rp_stats_t st = {12, f};
    rp_report_opts_t o;
    int i;

    /* names in reverse order, calls 0 1 2 0 1 2 ...: ties keep file order */
    for (i = 0; i < 12; i++)
        f[i] = fn("m", 0, apr_psprintf(POOL, "%c", 'l' - i), i % 3, i % 3, 0.5, 0.5);
    memset(&o, 0, sizeof(o));
    o.sort = sort_of(state, "calls", NULL);
    assert_string_equal(row_order(state, report(state, &st, &o)),
                        "m:0(j) m:0(g) m:0(d) m:0(a) m:0(k) m:0(h) m:0(e) m:0(b) "
                        "m:0(l) m:0(i) m:0(f) m:0(c)");
    o.sort = sort_of(state, "time", "cumulative", "line", NULL);   /* all tie */
    assert_string_equal(row_order(state, report(state, &st, &o)),
                        "m:0(l) m:0(k) m:0(j) m:0(i) m:0(h) m:0(g) m:0(f) m:0(e) "
                        "m:0(d) m:0(c) m:0(b) m:0(a)");
    o.sort = sort_of(state, "calls", "name", NULL);
    assert_string_equal(row_order(state, report(state, &st, &o)),
                        "m:0(a) m:0(d) m:0(g) m:0(j) m:0(b) m:0(e) m:0(h) m:0(k) "
                        "m:0(c) m:0(f) m:0(i) m:0(l)");
}

static void test_sort_strings_as_code_points(void **state)
{
    rp_func_t f[3];
    rp_stats_t st = {3, f};
    rp_report_opts_t o;

    f[0] = fn("m", 0, "\xC3\xA9", 1, 1, 0.0, 0.0);     /* U+00E9 */
    f[1] = fn("m", 0, "z", 1, 1, 0.0, 0.0);
    f[2] = fn("m", 0, "Z", 1, 1, 0.0, 0.0);
    memset(&o, 0, sizeof(o));
    o.sort = sort_of(state, "name", NULL);
    assert_string_equal(row_order(state, report(state, &st, &o)),
                        "m:0(Z) m:0(z) m:0(\xC3\xA9)");
}

static void test_line_numbers_compare_as_numbers(void **state)
{
    rp_func_t f[3];
    rp_stats_t st = {3, f};
    rp_report_opts_t o;

    f[0] = fn("m", 10, "a", 1, 1, 0.0, 0.0);
    f[1] = fn("m", 9, "a", 1, 1, 0.0, 0.0);
    f[2] = fn("m", -1, "a", 1, 1, 0.0, 0.0);
    memset(&o, 0, sizeof(o));
    o.sort = sort_of(state, "line", NULL);
    assert_string_equal(row_order(state, report(state, &st, &o)), "m:-1(a) m:9(a) m:10(a)");
    /* ... while stdname compares the text */
    o.sort = sort_of(state, "stdname", NULL);
    assert_string_equal(row_order(state, report(state, &st, &o)), "m:-1(a) m:10(a) m:9(a)");
}

static void test_restrict_count(void **state)
{
    rp_restrict_t r;
    rp_report_opts_t o;
    cap_t *c;

    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    o.restricts = &r;
    o.nrestricts = 1;
    r.kind = RP_RESTRICT_COUNT;
    r.count = 3;
    c = report(state, five(state), &o);
    assert_string_equal(c->line[3], "   List reduced from 5 to 3 due to restriction <3>");
    assert_string_equal(c->line[4], "");
    assert_string_equal(c->line[5], TITLE);
    assert_string_equal(row_order(state, c), "b.c:0(f0) a.c:1(f1) b.c:2(f2)");
    /* n >= len keeps all and says nothing */
    r.count = 5;
    c = report(state, five(state), &o);
    assert_string_equal(c->line[3], "");
    assert_int_equal(c->n, 12);
    r.count = 50;
    assert_int_equal(report(state, five(state), &o)->n, 12);
    /* 0 keeps nothing: pstats then prints no header, title or rows */
    r.count = 0;
    c = report(state, five(state), &o);
    assert_int_equal(c->n, 2);
}

static void test_restrict_fraction(void **state)
{
    static const struct { double x; const char *line; int rows; } cases[] = {
        {0.5, "   List reduced from 5 to 3 due to restriction <0.5>", 3}, /* int(2.5+.5) */
        {0.1, "   List reduced from 5 to 1 due to restriction <0.1>", 1}, /* int(0.5+.5) */
        {0.25, "   List reduced from 5 to 1 due to restriction <0.25>", 1},
        {0.99, "", 5},              /* rounds to all 5: no line */
        {0.0, NULL, 0},             /* nothing left: summary only */
    };
    rp_restrict_t r;
    rp_report_opts_t o;
    apr_size_t i;

    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    o.restricts = &r;
    o.nrestricts = 1;
    r.kind = RP_RESTRICT_FRACTION;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cap_t *c;

        r.fraction = cases[i].x;
        c = report(state, five(state), &o);
        if (cases[i].line == NULL) {
            assert_int_equal(c->n, 2);
            continue;
        }
        assert_string_equal(c->line[3], cases[i].line);
        assert_int_equal(c->n, 7 + cases[i].rows + (cases[i].line[0] ? 1 : 0));
    }
}

static void test_restrict_regex_and_chain(void **state)
{
    rp_restrict_t r[2];
    rp_report_opts_t o;
    regex_t re;
    cap_t *c;

    assert_int_equal(regcomp(&re, "a\\.c", REG_EXTENDED | REG_NOSUB), 0);
    memset(&o, 0, sizeof(o));
    memset(r, 0, sizeof(r));
    o.restricts = r;
    o.nrestricts = 2;
    o.match = posix_match;
    o.sort = sort_of(state, "line", NULL);
    r[0].kind = RP_RESTRICT_REGEX;
    r[0].pattern = "a\\.c";
    r[0].regex = &re;
    r[1].kind = RP_RESTRICT_COUNT;
    r[1].count = 1;
    c = report(state, five(state), &o);
    assert_string_equal(c->line[2], "   Ordered by: line number");
    /* repr() of the pattern doubles the backslash; each restriction
     * reduces what the one before left */
    assert_string_equal(c->line[3], "   List reduced from 5 to 2 due to restriction <'a\\\\.c'>");
    assert_string_equal(c->line[4], "   List reduced from 2 to 1 due to restriction <1>");
    assert_string_equal(c->line[5], "");
    assert_string_equal(row_order(state, c), "a.c:1(f1)");
    regfree(&re);

    /* a pattern matching nothing leaves the summary alone */
    assert_int_equal(regcomp(&re, "nowhere", REG_EXTENDED | REG_NOSUB), 0);
    r[0].pattern = "nowhere";
    o.nrestricts = 1;
    assert_int_equal(report(state, five(state), &o)->n, 2);
    regfree(&re);
}

static void test_restrict_regex_matching_all_says_nothing(void **state)
{
    rp_restrict_t r;
    rp_report_opts_t o;
    regex_t re;
    cap_t *c;

    assert_int_equal(regcomp(&re, "it's|\\(f", REG_EXTENDED | REG_NOSUB), 0);
    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    o.restricts = &r;
    o.nrestricts = 1;
    o.match = posix_match;
    r.kind = RP_RESTRICT_REGEX;
    r.pattern = "it's|\\(f";
    r.regex = &re;
    c = report(state, five(state), &o);
    assert_string_equal(c->line[3], "");
    assert_int_equal(c->n, 12);
    regfree(&re);
}

static void test_restrict_invalid_regex(void **state)
{
    rp_restrict_t r;
    rp_report_opts_t o;
    cap_t *c;

    memset(&o, 0, sizeof(o));
    memset(&r, 0, sizeof(r));
    o.restricts = &r;
    o.nrestricts = 1;
    o.match = posix_match;
    r.kind = RP_RESTRICT_REGEX;
    r.pattern = "it's (";
    r.regex = NULL;                 /* the caller could not compile it */
    c = report(state, five(state), &o);
    assert_string_equal(c->line[3], "   <Invalid regular expression \"it's (\">");
    assert_int_equal(c->n, 13);     /* and the list stays whole */
}

static void test_restrict_parse(void **state)
{
    rp_restrict_t r;

    assert_null(rp_restrict_parse(POOL, "30", &r));
    assert_int_equal(r.kind, RP_RESTRICT_COUNT);
    assert_int_equal(r.count, 30);
    assert_null(rp_restrict_parse(POOL, "0", &r));
    assert_int_equal(r.kind, RP_RESTRICT_COUNT);
    assert_int_equal(r.count, 0);
    assert_null(rp_restrict_parse(POOL, "99999999999999999999999", &r));
    assert_int_equal(r.kind, RP_RESTRICT_COUNT);
    assert_true(r.count > 1000000);          /* clamped, still cuts nothing */

    assert_null(rp_restrict_parse(POOL, "0.25", &r));
    assert_int_equal(r.kind, RP_RESTRICT_FRACTION);
    assert_true(r.fraction == 0.25);
    assert_null(rp_restrict_parse(POOL, ".5", &r));
    assert_true(r.kind == RP_RESTRICT_FRACTION && r.fraction == 0.5);
    assert_null(rp_restrict_parse(POOL, "0.", &r));
    assert_true(r.kind == RP_RESTRICT_FRACTION && r.fraction == 0.0);

    assert_string_equal(rp_restrict_parse(POOL, "1.5", &r),
                        "fraction must be at least 0 and below 1: '1.5'");
    assert_string_equal(rp_restrict_parse(POOL, "1.0", &r),
                        "fraction must be at least 0 and below 1: '1.0'");
    assert_string_equal(rp_restrict_parse(POOL, "-0.5", &r),
                        "fraction must be at least 0 and below 1: '-0.5'");
    assert_string_equal(rp_restrict_parse(POOL, "-3", &r), "negative count: '-3'");
    assert_non_null(rp_restrict_parse(POOL, "", &r));
    assert_non_null(rp_restrict_parse(POOL, NULL, &r));

    assert_null(rp_restrict_parse(POOL, "handler", &r));
    assert_int_equal(r.kind, RP_RESTRICT_REGEX);
    assert_string_equal(r.pattern, "handler");
    assert_null(r.regex);
    assert_null(rp_restrict_parse(POOL, ".", &r));
    assert_int_equal(r.kind, RP_RESTRICT_REGEX);
    assert_null(rp_restrict_parse(POOL, "1.2.3", &r));
    assert_int_equal(r.kind, RP_RESTRICT_REGEX);
    assert_null(rp_restrict_parse(POOL, "-x", &r));
    assert_int_equal(r.kind, RP_RESTRICT_REGEX);
    assert_null(rp_restrict_parse(POOL, "30s", &r));
    assert_int_equal(r.kind, RP_RESTRICT_REGEX);
}

static void test_units_scale_times(void **state)
{
    rp_func_t f = fn("a.c", 1, "f", 2, 4, 0.0125, 0.05);
    rp_stats_t st = {1, &f};
    rp_report_opts_t o;
    cap_t *c;

    memset(&o, 0, sizeof(o));
    o.unit = RP_UNIT_MS;
    c = report(state, &st, &o);
    assert_string_equal(c->line[0], "         4 function calls (2 primitive calls) in 12.500 milliseconds");
    assert_string_equal(c->line[5], "      4/2   12.500    3.125   50.000   25.000 a.c:1(f)");
    o.unit = RP_UNIT_US;
    c = report(state, &st, &o);
    assert_string_equal(c->line[0], "         4 function calls (2 primitive calls) in 12500.000 microseconds");
    assert_string_equal(c->line[5], "      4/2 12500.000 3125.000 50000.000 25000.000 a.c:1(f)");
    o.unit = RP_UNIT_S;
    c = report(state, &st, &o);
    assert_string_equal(c->line[0], "         4 function calls (2 primitive calls) in 0.013 seconds");
    assert_string_equal(c->line[5], "      4/2    0.013    0.003    0.050    0.025 a.c:1(f)");
}

static void test_special_floats(void **state)
{
    rp_func_t f[2];
    rp_stats_t st = {2, f};
    char huge[700];
    cap_t *c;

    f[0] = fn("n", 1, "f", 1, 1, NAN, INFINITY);
    f[1] = fn("n", 2, "g", 1, 1, 1e300, 0.0);
    c = report(state, &st, NULL);
    /* Python prints nan, never glibc's "-nan" */
    assert_string_equal(c->line[0], "         2 function calls in nan seconds");
    assert_string_equal(c->line[5], "        1      nan      nan      inf      inf n:1(f)");
    snprintf(huge, sizeof(huge), "        1 %8.3f %8.3f    0.000    0.000 n:2(g)", 1e300, 1e300);
    assert_string_equal(c->line[6], huge);
}

static void test_names_are_cleaned(void **state)
{
    rp_func_t f = fn("x\xff", 1, "a\tb", 1, 1, 0.0, 0.0);
    rp_stats_t st = {1, &f};
    cap_t *c = report(state, &st, NULL);

    assert_string_equal(c->line[5] + 46, "x\xEF\xBF\xBD:1(a?b)");
}

static void test_func_stdname(void **state)
{
    rp_func_t f = fn("mod_dir.c", 42, "fixups", 1, 1, 0.0, 0.0);

    assert_string_equal(rp_func_stdname(POOL, &f), "mod_dir.c:42(fixups)");
    f = fn("~", 0, "<built-in>", 1, 1, 0.0, 0.0);   /* no '~' special case */
    assert_string_equal(rp_func_stdname(POOL, &f), "~:0(<built-in>)");
}


/* Every time column is exactly "%8.3f" of its value, whichever path
 * f8 takes (written by hand, or printf near a tie and for large values):
 * 4000 values of every magnitude, plus ties and the edges of the
 * hand-written range. */
static void test_time_columns_match_printf(void **state)
{
    static const double edges[] = {
        0.0, 0.0004999, 0.0005, 0.0005001, 0.0015, 0.0025, 0.001, 1.0005,
        9999.9994, 9999.9995, 9999.9996, 10000.0, 12345.6785, 1073740.9999,
        1073741.0, 5e9, 1e-300, 2.675, 0.1, 0.3, 123.4565,
    };
    rp_stats_t st;
    rp_func_t f;
    cap_t *c;
    unsigned seed = 12345;
    int i, n = (int)(sizeof edges / sizeof edges[0]) + 4000;

    st.nfuncs = 1;
    st.funcs = &f;
    for (i = 0; i < n; i++) {
        double v;
        char want[400];

        if (i < (int)(sizeof edges / sizeof edges[0]))
            v = edges[i];
        else {
            seed = seed * 1103515245u + 12345u;
            v = ldexp((double)(seed >> 8) / (double)(1u << 24), (int)(seed % 40) - 24);
        }
        f = fn("a.c", 1, "f", 1, 1, v, v);
        c = report(state, &st, NULL);
        snprintf(want, sizeof want, "        1 %8.3f %8.3f %8.3f %8.3f a.c:1(f)",
                 v, v, v, v);
        assert_true(c->n >= 7);
        if (strcmp(c->line[5], want) != 0)
            fail_msg("%.17g: got '%s', want '%s'", v, c->line[5], want);
    }
}

/* A static function's key (key_slot > 0) is printed as it is: the
 * registry cleaned it already. */
static void test_static_key_printed_as_is(void **state)
{
    rp_func_t f = fn("mod_dir.c", 42, "fixups", 1, 1, 0.0, 0.0);
    rp_stats_t st = {1, &f};
    cap_t *c;

    f.key_slot = 7;
    c = report(state, &st, NULL);
    assert_string_equal(c->line[5], "        1    0.000    0.000    0.000    0.000 "
                                    "mod_dir.c:42(fixups)");
}


/* The summary's total is "%.3f" of the sum, for every magnitude and sign
 * (a hand-made profile may hold anything). */
static void test_summary_total_matches_printf(void **state)
{
    static const double edges[] = {0.0, 0.0005, 0.0015, 9999.9995, 1e7 + 0.5,
                                   1e15, -0.0005, -2.5, 1e300, 2.675};
    rp_func_t f;
    rp_stats_t st = {1, &f};
    unsigned seed = 99;
    int i, n = (int)(sizeof edges / sizeof edges[0]) + 2000;

    for (i = 0; i < n; i++) {
        double v;
        char want[400];
        cap_t *c;

        if (i < (int)(sizeof edges / sizeof edges[0]))
            v = edges[i];
        else {
            seed = seed * 1103515245u + 12345u;
            v = ldexp((double)(seed >> 8) / (double)(1u << 24), (int)(seed % 50) - 20);
        }
        f = fn("a.c", 1, "f", 3, 3, v, v);
        c = report(state, &st, NULL);
        snprintf(want, sizeof want, "         3 function calls in %.3f seconds", v);
        if (strcmp(c->line[0], want) != 0)
            fail_msg("%.17g: got '%s', want '%s'", v, c->line[0], want);
    }
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_full_layout_with_recursion),
    RP_TEST(test_columns_match_printf),
    RP_TEST(test_summary_without_primitive_part),
    RP_TEST(test_empty_stats_prints_summary_only),
    RP_TEST(test_zero_calls_leave_percall_blank),
    RP_TEST(test_random_listing_order_keeps_file_order),
    RP_TEST(test_sort_every_key),
    RP_TEST(test_sort_fields_and_nfl),
    RP_TEST(test_sort_prefixes_accepted),
    RP_TEST(test_sort_prefixes_rejected),
    RP_TEST(test_sort_too_many_fields),
    RP_TEST(test_sort_is_stable_on_ties),
    RP_TEST(test_sort_strings_as_code_points),
    RP_TEST(test_line_numbers_compare_as_numbers),
    RP_TEST(test_restrict_count),
    RP_TEST(test_restrict_fraction),
    RP_TEST(test_restrict_regex_and_chain),
    RP_TEST(test_restrict_regex_matching_all_says_nothing),
    RP_TEST(test_restrict_invalid_regex),
    RP_TEST(test_restrict_parse),
    RP_TEST(test_units_scale_times),
    RP_TEST(test_special_floats),
    RP_TEST(test_names_are_cleaned),
    RP_TEST(test_func_stdname),
    RP_TEST(test_time_columns_match_printf),
    RP_TEST(test_static_key_printed_as_is),
    RP_TEST(test_summary_total_matches_printf),
};

RP_TEST_MAIN(tests)
