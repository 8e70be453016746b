/*
 * rp_report.c - the text report of pstats.Stats.print_stats(), line for
 * line: sort_stats() keys, print_stats() restrictions and the table.
 *
 * Everything here mirrors Lib/pstats.py (3.11); where pstats has a quirk
 * (which prefixes of a sort key it accepts, when a restriction prints its
 * "List reduced" line) the quirk is kept, because users compare this report
 * with the one Python prints from the same .prof file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <limits.h>
#include <apr_strings.h>
#include "rp_parse.h"
#include "rp_report.h"
#include "rp_text.h"

/* One row as the sort and the restrictions see it: cleaned strings, so the
 * order and matches agree with what a .prof file of st loads as. */
typedef struct rp_row {
    const rp_func_t *f;
    const char *file;
    const char *name;
    const char *std;        /* "file:line(name)" */
    apr_size_t stdlen;
} rp_row_t;

/* A reusable line buffer, so a long report does not allocate per line. */
typedef struct rp_line {
    apr_pool_t *pool;
    char *s;
    apr_size_t cap;
} rp_line_t;

/* pstats' sort_arg_dict_default, in its dict order (the order matters:
 * get_sort_arg_defs() decides ambiguity by walking it). */
static const struct rp_sort_def {
    const char *word;
    int nfields;
    rp_sort_field_e fields[3];
    const char *label;
} rp_sort_defs[] = {
    {"calls",      1, {RP_SF_CALLS},   "call count"},
    {"ncalls",     1, {RP_SF_CALLS},   "call count"},
    {"cumtime",    1, {RP_SF_CUM},     "cumulative time"},
    {"cumulative", 1, {RP_SF_CUM},     "cumulative time"},
    {"filename",   1, {RP_SF_FILE},    "file name"},
    {"line",       1, {RP_SF_LINE},    "line number"},
    {"module",     1, {RP_SF_FILE},    "file name"},
    {"name",       1, {RP_SF_NAME},    "function name"},
    {"nfl",        3, {RP_SF_NAME, RP_SF_FILE, RP_SF_LINE}, "name/file/line"},
    {"pcalls",     1, {RP_SF_PCALLS},  "primitive call count"},
    {"stdname",    1, {RP_SF_STDNAME}, "standard name"},
    {"time",       1, {RP_SF_TIME},    "internal time"},
    {"tottime",    1, {RP_SF_TIME},    "internal time"},
};
#define RP_NSORT_DEFS ((int)(sizeof(rp_sort_defs) / sizeof(rp_sort_defs[0])))
#define RP_SORT_WORDS "calls cumtime cumulative filename line module name " \
                      "ncalls nfl pcalls stdname time tottime"

static int sort_lookup(const char *word, int *ambiguous);
static void merge_sort(const rp_sort_t *s, rp_row_t **v, rp_row_t **tmp, int n);
static const char *f8(char *buf, apr_size_t size, double x);

/*
 * Replays get_sort_arg_defs(): each word adds itself and its shorter
 * prefixes until it meets a fragment already added; that fragment is then
 * "bad" and removed at the end. Hence "cu" is accepted (added by cumtime)
 * while "cum" and "c" are not. Returns the defs index, or -1 with
 * *ambiguous set when the word was one of the removed fragments.
 */
static int sort_lookup(const char *word, int *ambiguous)
{
    struct { const char *w; apr_size_t len; int def; } added[128];
    apr_size_t wlen = strlen(word);
    int nadded = 0, found = -1, bad = 0, d, k;

    for (d = 0; d < RP_NSORT_DEFS; d++) {
        apr_size_t flen;

        for (flen = strlen(rp_sort_defs[d].word); flen > 0; flen--) {
            int dup = 0;

            for (k = 0; k < nadded; k++) {
                if (added[k].len == flen
                    && memcmp(added[k].w, rp_sort_defs[d].word, flen) == 0) {
                    dup = 1;
                    break;
                }
            }
            if (dup) {
                if (flen == wlen && memcmp(word, rp_sort_defs[d].word, flen) == 0)
                    bad = 1;
                break;
            }
            added[nadded].w = rp_sort_defs[d].word;
            added[nadded].len = flen;
            added[nadded].def = d;
            nadded++;
            if (flen == wlen && memcmp(word, rp_sort_defs[d].word, flen) == 0)
                found = d;
        }
    }
    *ambiguous = bad;
    return bad ? -1 : found;
}

const char *rp_sort_add(apr_pool_t *p, rp_sort_t *s, const char *word)
{
    const char *shown = rp_utf8_clean(p, word, 64);   /* bounded, printable */
    const struct rp_sort_def *def;
    int ambiguous = 0, d, i;

    d = word ? sort_lookup(word, &ambiguous) : -1;
    if (d < 0) {
        if (ambiguous)
            return apr_psprintf(p, "ambiguous sort key '%s' (expected one of: "
                                RP_SORT_WORDS ", or a unique prefix)", shown);
        return apr_psprintf(p, "unknown sort key '%s' (expected one of: "
                            RP_SORT_WORDS ")", shown);
    }
    def = &rp_sort_defs[d];
    if (s->nfields + def->nfields > RP_SORT_MAX)
        return apr_psprintf(p, "too many sort keys (at most %d fields): '%s'",
                            RP_SORT_MAX, shown);
    for (i = 0; i < def->nfields; i++)
        s->fields[s->nfields++] = def->fields[i];
    s->label = s->label ? apr_pstrcat(p, s->label, ", ", def->label, NULL)
                        : def->label;
    return NULL;
}

const char *rp_restrict_parse(apr_pool_t *p, const char *arg, rp_restrict_t *out)
{
    const char *num = arg;
    apr_size_t ndigits = 0, ndots = 0;
    const char *c;

    memset(out, 0, sizeof(*out));
    if (arg == NULL || *arg == '\0')
        return "empty restriction (expected a count, a fraction or a regex)";
    if (*num == '-')
        num++;
    for (c = num; *c; c++) {
        if (*c >= '0' && *c <= '9')
            ndigits++;
        else if (*c == '.')
            ndots++;
        else
            break;
    }
    if (*c != '\0' || ndigits == 0 || ndots > 1) {
        /* Not a number: a regex, searched in "file:line(name)". */
        out->kind = RP_RESTRICT_REGEX;
        out->pattern = apr_pstrdup(p, arg);
        return NULL;
    }
    if (ndots == 0) {
        if (num != arg)
            return apr_psprintf(p, "negative count: '%s'", arg);
        out->kind = RP_RESTRICT_COUNT;
        /* Digits only here. A count beyond the largest cuts nothing,
         * exactly like the largest (left in n when it is above). */
        {
            apr_int64_t n = LONG_MAX;
            (void)rp_parse_int64(arg, 0, LONG_MAX, &n);
            out->count = (long)n;
        }
        return NULL;
    }
    out->kind = RP_RESTRICT_FRACTION;
    out->fraction = strtod(arg, NULL);
    if (!(out->fraction >= 0.0 && out->fraction < 1.0) || num != arg)
        return apr_psprintf(p, "fraction must be at least 0 and below 1: '%s'",
                            arg);
    return NULL;
}

const char *rp_func_stdname(apr_pool_t *p, const rp_func_t *f)
{
    return apr_psprintf(p, "%s:%d(%s)", f->file ? f->file : "", f->line,
                        f->name ? f->name : "");
}

/* TupleComp.compare over the rows, in the sort's field order. Inline: a
 * report's sort makes a few hundred of these. */
static APR_INLINE int row_cmp(const rp_sort_t *s, const rp_row_t *a, const rp_row_t *b)
{
    int i;

    for (i = 0; i < s->nfields; i++) {
        int c = 0;

        switch (s->fields[i]) {
        case RP_SF_PCALLS:
            c = a->f->cc < b->f->cc ? 1 : a->f->cc > b->f->cc ? -1 : 0;
            break;
        case RP_SF_CALLS:
            c = a->f->nc < b->f->nc ? 1 : a->f->nc > b->f->nc ? -1 : 0;
            break;
        case RP_SF_TIME:
            c = a->f->tt < b->f->tt ? 1 : a->f->tt > b->f->tt ? -1 : 0;
            break;
        case RP_SF_CUM:
            c = a->f->ct < b->f->ct ? 1 : a->f->ct > b->f->ct ? -1 : 0;
            break;
        case RP_SF_FILE:
            c = strcmp(a->file, b->file);   /* bytes = code points in UTF-8 */
            break;
        case RP_SF_LINE:
            c = a->f->line < b->f->line ? -1 : a->f->line > b->f->line;
            break;
        case RP_SF_NAME:
            c = strcmp(a->name, b->name);
            break;
        case RP_SF_STDNAME:
            c = strcmp(a->std, b->std);
            break;
        }
        if (c)
            return c;
    }
    return 0;
}

/* Runs this short are sorted by insertion: fewer calls and copies than
 * merging down to single rows. */
#define RP_SORT_RUN 8

/* Stable insertion sort: a row moves left only past rows that compare
 * strictly greater. */
static void insertion_sort(const rp_sort_t *s, rp_row_t **v, int n)
{
    int i, j;

    for (i = 1; i < n; i++) {
        rp_row_t *r = v[i];
        for (j = i; j > 0 && row_cmp(s, r, v[j - 1]) < 0; j--)
            v[j] = v[j - 1];
        v[j] = r;
    }
}

/* Stable merge sort (Python's sort is stable; qsort is not). */
static void merge_sort(const rp_sort_t *s, rp_row_t **v, rp_row_t **tmp, int n)
{
    int mid = n / 2, i, j, k;

    if (n <= RP_SORT_RUN) {
        insertion_sort(s, v, n);
        return;
    }
    merge_sort(s, v, tmp, mid);
    merge_sort(s, v + mid, tmp, n - mid);
    if (row_cmp(s, v[mid - 1], v[mid]) <= 0)
        return;                 /* already in order: common for ties */
    memcpy(tmp, v, sizeof(*v) * (apr_size_t)mid);
    for (i = 0, j = mid, k = 0; i < mid && j < n; k++) {
        /* Take from the left on ties: that is what keeps it stable. */
        if (row_cmp(s, v[j], tmp[i]) < 0)
            v[k] = v[j++];
        else
            v[k] = tmp[i++];
    }
    while (i < mid)
        v[k++] = tmp[i++];
}

/* Right-aligns the decimal digits of k in width columns ending at end;
 * returns where they start. */
static char *digits_back(char *end, uint64_t k, int min_digits)
{
    int n = 0;

    do {
        *--end = (char)('0' + k % 10);
        k /= 10;
        n++;
    } while (k || n < min_digits);
    return end;
}

/* The decimal digits of v, sign first, ending at end; returns the start
 * (at most 20 characters). */
static char *i64_back(char *end, int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    end = digits_back(end, mag, 1);
    if (v < 0)
        *--end = '-';
    return end;
}

static const char rp_digit_pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* pstats' f8(): "%8.3f", except that Python never prints "-nan". A row
 * has four of these, and glibc's printf of a double costs about 1,600
 * instructions: times of ordinary size are rounded here instead. x*1000
 * is within 2^-24 of the exact product below 2^30, so when its fraction
 * is further than 1e-6 from one half, rounding it gives what printf
 * gives for x (correctly rounded); near a tie, or for anything unusual,
 * printf decides. Values below 10000 (the usual ones, eight characters
 * wide) are written straight into buf. */
static const char *f8(char *buf, apr_size_t size, double x)
{
    if (isnan(x))
        return "     nan";
    if (!signbit(x) && x < 1073741.0) {
        double m = x * 1000.0;
        int64_t whole = (int64_t)m;                /* 0 <= m < 2^31: floor */
        double frac = m - (double)whole;
        if (fabs(frac - 0.5) > 1e-6) {
            uint64_t k = (uint64_t)whole + (frac > 0.5);
            char tmp[32], *end = tmp + sizeof tmp, *o;
            apr_size_t n;

            if (k <= 9999999 && size > 8) {
                /* "%8.3f" of k / 1000: two digits at a time from a table */
                uint32_t v = (uint32_t)k, lo = v % 1000, hi = v / 1000;
                memcpy(buf, "        ", 8);
                buf[8] = '\0';
                buf[7] = (char)('0' + lo % 10);
                memcpy(buf + 5, rp_digit_pairs + 2 * (lo / 10), 2);
                buf[4] = '.';
                o = buf + 4;
                while (hi >= 10) {
                    o -= 2;
                    memcpy(o, rp_digit_pairs + 2 * (hi % 100), 2);
                    hi /= 100;
                }
                if (hi > 0 || o == buf + 4)
                    *--o = (char)('0' + hi);
                return buf;
            }
            o = digits_back(end, k % 1000, 3);
            *--o = '.';
            o = digits_back(o, k / 1000, 1);
            while (end - o < 8)
                *--o = ' ';
            n = (apr_size_t)(end - o);
            if (n < size) {
                memcpy(buf, o, n);
                buf[n] = '\0';
                return buf;
            }
        }
    }
    snprintf(buf, size, "%8.3f", x);
    return buf;
}

/* Appends s (len bytes) at *o, within a line buffer sized for it. */
static char *put(char *o, const char *s, apr_size_t len)
{
    memcpy(o, s, len);
    return o + len;
}

static const char *const unit_words[] = {"seconds", "milliseconds", "microseconds"};
static const double unit_scale[] = {1.0, 1e3, 1e6};

/* "N function calls (M primitive calls) in X seconds" and its blank line.
 * Summed in funcs[] (dict) order, as get_top_level_stats() does, so the
 * rounding of the total is the same as Python's. In ms or us each time is
 * scaled before the sum: the report is then exactly pstats' report of the
 * same profile measured in that unit. */
static void emit_summary(const rp_stats_t *st, int unit, rp_line_t *l,
                         rp_line_fn emit, void *ctx)
{
    int nfuncs = st ? st->nfuncs : 0, i;
    double total_tt = 0.0;
    uint64_t total_calls = 0, prim_calls = 0;   /* unsigned: wrap, never UB */
    char sum[320];
    const char *total;

    for (i = 0; i < nfuncs; i++) {
        total_calls += (uint64_t)st->funcs[i].nc;
        prim_calls += (uint64_t)st->funcs[i].cc;
        total_tt += st->funcs[i].tt * unit_scale[unit];
    }
    /* print(indent, total_calls, ...) puts a separator space after the
     * 8-space indent: the number starts in column 10. "%.3f" of the total
     * is f8's "%8.3f" without its padding. */
    if (isnan(total_tt))
        total = "nan";
    else {
        total = f8(sum, sizeof sum, total_tt);
        while (*total == ' ')
            total++;
    }
    {
        char tc[24], pc[24], *tcs = i64_back(tc + sizeof tc - 1, (int64_t)total_calls);
        char *pcs = i64_back(pc + sizeof pc - 1, (int64_t)prim_calls);
        tc[sizeof tc - 1] = pc[sizeof pc - 1] = '\0';
        if (total_calls != prim_calls)
            emit(ctx, apr_pstrcat(l->pool, "         ", tcs, " function calls (", pcs,
                                  " primitive calls) in ", total, " ", unit_words[unit],
                                  NULL));
        else
            emit(ctx, apr_pstrcat(l->pool, "         ", tcs, " function calls in ", total,
                                  " ", unit_words[unit], NULL));
    }
    emit(ctx, "");
}

/* One row per function, with the names a .prof of st holds (cleaned) and
 * the standard name "file:line(name)" the regex restrictions search. A
 * static function's key (key_slot) is clean already (rp_stats.h). */
static rp_row_t **make_rows(const rp_stats_t *st, apr_pool_t *p)
{
    rp_row_t *rows = apr_palloc(p, sizeof(*rows) * (apr_size_t)st->nfuncs);
    rp_row_t **list = apr_palloc(p, sizeof(*list) * (apr_size_t)st->nfuncs);
    int i;

    for (i = 0; i < st->nfuncs; i++) {
        rp_row_t *r = &rows[i];
        apr_size_t flen, nlen;
        char *w, num[16], *nd;

        r->f = &st->funcs[i];
        if (r->f->key_slot > 0 && r->f->file && r->f->name) {
            r->file = r->f->file;
            r->name = r->f->name;
            flen = strlen(r->file);
            nlen = strlen(r->name);
        }
        else {
            r->file = rp_utf8_view(p, r->f->file, (apr_size_t)-1, &flen);
            r->name = rp_utf8_view(p, r->f->name, (apr_size_t)-1, &nlen);
        }
        nd = i64_back(num + sizeof num, r->f->line);        /* "%d" */
        r->stdlen = flen + 1 + (apr_size_t)(num + sizeof num - nd) + 1 + nlen + 1;
        w = apr_palloc(p, r->stdlen + 1);
        r->std = w;
        w = put(w, r->file, flen);
        *w++ = ':';
        w = put(w, nd, (apr_size_t)(num + sizeof num - nd));
        *w++ = '(';
        w = put(w, r->name, nlen);
        *w++ = ')';
        *w = '\0';
        list[i] = r;
    }
    return list;
}

/* sort_stats(): sorts list in place; returns the "Ordered by" line. */
static const char *sort_rows(const rp_sort_t *sort, rp_row_t **list, int n,
                             apr_pool_t *p)
{
    rp_row_t **tmp;

    if (sort == NULL || sort->nfields <= 0)
        return "   Random listing order was used";
    tmp = apr_palloc(p, sizeof(*tmp) * (apr_size_t)(n / 2 + 1));
    merge_sort(sort, list, tmp, n);
    return apr_pstrcat(p, "   Ordered by: ", sort->label ? sort->label : "", NULL);
}

/* eval_print_amount(), one restriction at a time: keeps a prefix or the
 * matching rows of list, adds pstats' "List reduced" (or "Invalid
 * regular expression") lines to msgs. Returns the rows left. */
static int restrict_rows(const rp_report_opts_t *o, rp_row_t **list, int n,
                         apr_pool_t *p, const char **msgs, int *nmsgs)
{
    int i;

    for (i = 0; o && i < o->nrestricts; i++) {
        const rp_restrict_t *r = &o->restricts[i];
        const char *shown = NULL;
        int keep = n, j;

        switch (r->kind) {
        case RP_RESTRICT_REGEX:
            if (r->regex == NULL || o->match == NULL) {
                /* What pstats prints for a pattern re.compile() refuses. */
                msgs[(*nmsgs)++] = apr_psprintf(p, "   <Invalid regular expression %s>",
                                                rp_py_repr_str(p, r->pattern));
                continue;
            }
            keep = 0;
            for (j = 0; j < n; j++)
                if (o->match(r->regex, list[j]->std))
                    list[keep++] = list[j];
            shown = rp_py_repr_str(p, r->pattern);
            break;
        case RP_RESTRICT_FRACTION:
            if (r->fraction >= 0.0 && r->fraction < 1.0)
                keep = (int)((double)n * r->fraction + 0.5);
            shown = rp_py_repr_float(p, r->fraction);
            break;
        case RP_RESTRICT_COUNT:
            if (r->count >= 0 && r->count < n)
                keep = (int)r->count;
            shown = apr_ltoa(p, r->count);
            break;
        }
        if (keep != n)
            msgs[(*nmsgs)++] = apr_psprintf(p, "   List reduced from %d to %d due "
                                            "to restriction <%s>", n, keep, shown);
        n = keep;
    }
    return n;
}

/* One table row, "%9s %8.3f %8.3f %8.3f %8.3f %s" with pstats' ncalls
 * ("nc/cc" when they differ) and blank percall columns for a zero
 * divisor, into l. */
static const char *row_line(rp_line_t *l, const rp_row_t *row, double scale)
{
    const rp_func_t *f = row->f;
    /* %.3f of DBL_MAX takes 313 characters. */
    char calls[48], b[4][320], *c0, *end = calls + sizeof calls - 1, *w;
    const char *cols[4];
    apr_size_t need, clen[4];
    int c;

    /* "%9s" of "nc" or "nc/cc": spaces first, digits over them */
    *end = '\0';
    memcpy(end - 9, "         ", 9);
    c0 = end;
    if (f->nc != f->cc) {
        c0 = i64_back(c0, f->cc);
        *--c0 = '/';
    }
    c0 = i64_back(c0, f->nc);
    if (end - c0 < 9)
        c0 = end - 9;

    /* x / 1 is x exactly: most functions are called once per request, so
     * their percall columns repeat the time before them. */
    cols[0] = f8(b[0], sizeof b[0], f->tt * scale);
    cols[1] = f->nc == 0 ? "        " : f->nc == 1 ? cols[0]
              : f8(b[1], sizeof b[1], f->tt * scale / (double)f->nc);
    cols[2] = f8(b[2], sizeof b[2], f->ct * scale);
    cols[3] = f->cc == 0 ? "        " : f->cc == 1 ? cols[2]
              : f8(b[3], sizeof b[3], f->ct * scale / (double)f->cc);

    /* Every column is at least 8 characters; most are exactly 8. */
    need = (apr_size_t)(end - c0) + 1 + row->stdlen + 1;
    for (c = 0; c < 4; c++)
        need += (clen[c] = cols[c][8] == '\0' ? 8 : strlen(cols[c])) + 1;
    if (need > l->cap) {
        l->cap = need + 256;
        l->s = apr_palloc(l->pool, l->cap);
    }
    w = put(l->s, c0, (apr_size_t)(end - c0));
    for (c = 0; c < 4; c++) {
        *w++ = ' ';
        if (clen[c] == 8) {
            memcpy(w, cols[c], 8);
            w += 8;
        }
        else
            w = put(w, cols[c], clen[c]);
    }
    *w++ = ' ';
    w = put(w, row->std, row->stdlen);
    *w = '\0';
    return l->s;
}

void rp_report(const rp_stats_t *st, const rp_report_opts_t *o,
               apr_pool_t *p, rp_line_fn emit, void *ctx)
{
    int unit = o && (int)o->unit >= 0 && (int)o->unit <= RP_UNIT_US ? (int)o->unit : 0;
    const char **msgs;
    rp_row_t **list;
    rp_line_t l;
    int i, n, nmsgs = 0;

    l.pool = p;
    l.cap = 512;
    l.s = apr_palloc(p, l.cap);

    emit_summary(st, unit, &l, emit, ctx);
    if (st == NULL || st->nfuncs <= 0)
        return;

    list = make_rows(st, p);
    msgs = apr_palloc(p, sizeof(*msgs) * (apr_size_t)((o ? o->nrestricts : 0) + 1));
    msgs[nmsgs++] = sort_rows(o ? o->sort : NULL, list, st->nfuncs, p);
    n = restrict_rows(o, list, st->nfuncs, p, msgs, &nmsgs);
    if (n == 0)
        return;             /* pstats prints neither messages nor title */

    for (i = 0; i < nmsgs; i++)
        emit(ctx, msgs[i]);
    emit(ctx, "");
    emit(ctx, "   ncalls  tottime  percall  cumtime  percall "
              "filename:lineno(function)");
    for (i = 0; i < n; i++)
        emit(ctx, row_line(&l, list[i], unit_scale[unit]));
    emit(ctx, "");
    emit(ctx, "");
}
