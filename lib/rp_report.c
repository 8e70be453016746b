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
#include <stdarg.h>
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
static int row_cmp(const rp_sort_t *s, const rp_row_t *a, const rp_row_t *b);
static void merge_sort(const rp_sort_t *s, rp_row_t **v, rp_row_t **tmp, int n);
static const char *line_fmt(rp_line_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
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

/* TupleComp.compare over the rows, in the sort's field order. */
static int row_cmp(const rp_sort_t *s, const rp_row_t *a, const rp_row_t *b)
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

/* Stable merge sort (Python's sort is stable; qsort is not). */
static void merge_sort(const rp_sort_t *s, rp_row_t **v, rp_row_t **tmp, int n)
{
    int mid = n / 2, i, j, k;

    if (n < 2)
        return;
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

static const char *line_fmt(rp_line_t *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(l->s, l->cap, fmt, ap);
    va_end(ap);
    if (n >= 0 && (apr_size_t)n >= l->cap) {
        l->cap = (apr_size_t)n + 256;
        l->s = apr_palloc(l->pool, l->cap);
        va_start(ap, fmt);
        vsnprintf(l->s, l->cap, fmt, ap);
        va_end(ap);
    }
    return n < 0 ? "" : l->s;
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

/* pstats' f8(): "%8.3f", except that Python never prints "-nan". A row
 * has four of these, and glibc's printf of a double costs about 1,600
 * instructions: times of ordinary size are rounded here instead. x*1000
 * is within 2^-24 of the exact product below 2^30, so when its fraction
 * is further than 1e-6 from one half, rounding it gives what printf
 * gives for x (correctly rounded); near a tie, or for anything unusual,
 * printf decides. */
static const char *f8(char *buf, apr_size_t size, double x)
{
    if (isnan(x))
        return "     nan";
    if (!signbit(x) && x < 1073741.0) {
        double m = x * 1000.0, whole = floor(m), frac = m - whole;
        if (fabs(frac - 0.5) > 1e-6) {
            uint64_t k = (uint64_t)whole + (frac > 0.5);
            char tmp[32], *end = tmp + sizeof tmp, *o;
            apr_size_t n;

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

void rp_report(const rp_stats_t *st, const rp_report_opts_t *o,
               apr_pool_t *p, rp_line_fn emit, void *ctx)
{
    static const char *const unit_words[] = {"seconds", "milliseconds",
                                             "microseconds"};
    static const double unit_scale[] = {1.0, 1e3, 1e6};
    int nfuncs = st ? st->nfuncs : 0;
    int unit = o && (int)o->unit >= 0 && (int)o->unit <= RP_UNIT_US ? (int)o->unit : 0;
    double scale = unit_scale[unit], total_tt = 0.0;
    uint64_t total_calls = 0, prim_calls = 0;   /* unsigned: wrap, never UB */
    const char **msgs;
    rp_row_t *rows, **list, **tmp;
    rp_line_t l;
    char sum[320];
    int i, n, nmsgs = 0;

    l.pool = p;
    l.cap = 512;
    l.s = apr_palloc(p, l.cap);

    /* Summed in funcs[] (dict) order, as get_top_level_stats() does, so the
     * rounding of the total is the same as Python's. In ms or us each time
     * is scaled before the sum: the report is then exactly pstats' report
     * of the same profile measured in that unit. */
    for (i = 0; i < nfuncs; i++) {
        total_calls += (uint64_t)st->funcs[i].nc;
        prim_calls += (uint64_t)st->funcs[i].cc;
        total_tt += st->funcs[i].tt * scale;
    }
    /* print(indent, total_calls, ...) puts a separator space after the
     * 8-space indent: the number starts in column 10. */
    if (isnan(total_tt))
        apr_cpystrn(sum, "nan", sizeof(sum));
    else
        snprintf(sum, sizeof(sum), "%.3f", total_tt);
    if (total_calls != prim_calls)
        emit(ctx, line_fmt(&l, "         %" APR_INT64_T_FMT " function calls (%"
                           APR_INT64_T_FMT " primitive calls) in %s %s",
                           (int64_t)total_calls, (int64_t)prim_calls, sum,
                           unit_words[unit]));
    else
        emit(ctx, line_fmt(&l, "         %" APR_INT64_T_FMT
                           " function calls in %s %s",
                           (int64_t)total_calls, sum, unit_words[unit]));
    emit(ctx, "");
    if (nfuncs == 0)
        return;

    rows = apr_palloc(p, sizeof(*rows) * (apr_size_t)nfuncs);
    list = apr_palloc(p, sizeof(*list) * (apr_size_t)nfuncs);
    for (i = 0; i < nfuncs; i++) {
        rp_row_t *r = &rows[i];
        apr_size_t flen, nlen;
        char *w, num[16];
        int nl;

        r->f = &st->funcs[i];
        r->file = rp_utf8_view(p, r->f->file, (apr_size_t)-1, &flen);
        r->name = rp_utf8_view(p, r->f->name, (apr_size_t)-1, &nlen);
        /* "%s:%d(%s)" */
        nl = snprintf(num, sizeof num, "%d", r->f->line);
        w = apr_palloc(p, flen + 1 + (apr_size_t)nl + 1 + nlen + 2);
        r->std = w;
        w = put(w, r->file, flen);
        *w++ = ':';
        w = put(w, num, (apr_size_t)nl);
        *w++ = '(';
        w = put(w, r->name, nlen);
        *w++ = ')';
        *w = '\0';
        list[i] = r;
    }
    n = nfuncs;

    msgs = apr_palloc(p, sizeof(*msgs) * (apr_size_t)((o ? o->nrestricts : 0) + 1));
    if (o && o->sort && o->sort->nfields > 0) {
        tmp = apr_palloc(p, sizeof(*tmp) * (apr_size_t)(nfuncs / 2 + 1));
        merge_sort(o->sort, list, tmp, nfuncs);
        msgs[nmsgs++] = apr_pstrcat(p, "   Ordered by: ",
                                    o->sort->label ? o->sort->label : "", NULL);
    }
    else {
        msgs[nmsgs++] = "   Random listing order was used";
    }

    /* eval_print_amount(), one restriction at a time. */
    for (i = 0; o && i < o->nrestricts; i++) {
        const rp_restrict_t *r = &o->restricts[i];
        const char *shown = NULL;
        int keep = n, j;

        switch (r->kind) {
        case RP_RESTRICT_REGEX:
            if (r->regex == NULL || o->match == NULL) {
                /* What pstats prints for a pattern re.compile() refuses. */
                msgs[nmsgs++] = apr_psprintf(p, "   <Invalid regular expression %s>",
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
            msgs[nmsgs++] = apr_psprintf(p, "   List reduced from %d to %d due "
                                         "to restriction <%s>", n, keep, shown);
        n = keep;
    }
    if (n == 0)
        return;             /* pstats prints neither messages nor title */

    for (i = 0; i < nmsgs; i++)
        emit(ctx, msgs[i]);
    emit(ctx, "");
    emit(ctx, "   ncalls  tottime  percall  cumtime  percall "
              "filename:lineno(function)");
    for (i = 0; i < n; i++) {
        const rp_func_t *f = list[i]->f;
        /* %.3f of DBL_MAX takes 313 characters. */
        char calls[48], b[4][320], *c0, *end = calls + sizeof calls - 1;
        const char *cols[4];
        apr_size_t need, stdlen = strlen(list[i]->std);
        int c;

        /* "%9s" of "nc" or "nc/cc" */
        *end = '\0';
        c0 = end;
        if (f->nc != f->cc) {
            c0 = i64_back(c0, f->cc);
            *--c0 = '/';
        }
        c0 = i64_back(c0, f->nc);
        while (end - c0 < 9)
            *--c0 = ' ';

        cols[0] = f8(b[0], sizeof b[0], f->tt * scale);
        cols[1] = f->nc == 0 ? "        " : f8(b[1], sizeof b[1], f->tt * scale / (double)f->nc);
        cols[2] = f8(b[2], sizeof b[2], f->ct * scale);
        cols[3] = f->cc == 0 ? "        " : f8(b[3], sizeof b[3], f->ct * scale / (double)f->cc);

        need = (apr_size_t)(end - c0) + 1 + stdlen + 1;
        for (c = 0; c < 4; c++)
            need += strlen(cols[c]) + 1;
        if (need > l.cap) {
            l.cap = need + 256;
            l.s = apr_palloc(p, l.cap);
        }
        {
            char *w = put(l.s, c0, (apr_size_t)(end - c0));
            for (c = 0; c < 4; c++) {
                *w++ = ' ';
                w = put(w, cols[c], strlen(cols[c]));
            }
            *w++ = ' ';
            w = put(w, list[i]->std, stdlen);
            *w = '\0';
        }
        emit(ctx, l.s);
    }
    emit(ctx, "");
    emit(ctx, "");
}
