/*
 * rp_report.h - the pstats text report: sort keys, restrictions and the
 * print_stats() layout, column for column.
 */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <apr_pools.h>
#include "rp_stats.h"

/* Sort fields, as pstats' TupleComp indexes them. */
typedef enum {
    RP_SF_PCALLS = 0,   /* cc,   descending */
    RP_SF_CALLS,        /* nc,   descending */
    RP_SF_TIME,         /* tt,   descending */
    RP_SF_CUM,          /* ct,   descending */
    RP_SF_FILE,         /* file, ascending  */
    RP_SF_LINE,         /* line, ascending  */
    RP_SF_NAME,         /* name, ascending  */
    RP_SF_STDNAME       /* "file:line(name)", ascending */
} rp_sort_field_e;

#define RP_SORT_MAX 24

/* A parsed ProfileSortBy: fields in comparison order plus the
 * "Ordered by:" label pstats prints ("cumulative time, internal time"). */
typedef struct rp_sort {
    int nfields;
    rp_sort_field_e fields[RP_SORT_MAX];
    const char *label;
} rp_sort_t;

/* Append one pstats sort word (calls ncalls cumtime cumulative filename
 * module line name nfl pcalls stdname time tottime, or a prefix pstats
 * accepts) to s. Returns NULL, or an error message (unknown or ambiguous
 * key, too many keys) allocated from p. Initialise s with nfields = 0,
 * label = NULL. */
const char *rp_sort_add(apr_pool_t *p, rp_sort_t *s, const char *word);

typedef enum { RP_RESTRICT_COUNT, RP_RESTRICT_FRACTION, RP_RESTRICT_REGEX } rp_restrict_kind_e;

/* One ProfileRestrict argument. */
typedef struct rp_restrict {
    rp_restrict_kind_e kind;
    long count;          /* RP_RESTRICT_COUNT: keep the first count */
    double fraction;     /* RP_RESTRICT_FRACTION, 0 <= x < 1 */
    const char *pattern; /* RP_RESTRICT_REGEX: the source text */
    void *regex;         /* RP_RESTRICT_REGEX: compiled by the caller */
} rp_restrict_t;

/* Classify one argument: digits only -> count; digits with one '.' ->
 * fraction (".5" too; must be < 1); the same with a leading '-' -> error;
 * anything else -> regex (caller compiles it and stores it in regex).
 * Returns NULL or an error message from p. */
const char *rp_restrict_parse(apr_pool_t *p, const char *arg, rp_restrict_t *out);

/* Returns non-zero when regex matches anywhere in s (a search). */
typedef int (*rp_match_fn)(void *regex, const char *s);

typedef enum { RP_UNIT_S = 0, RP_UNIT_MS, RP_UNIT_US } rp_unit_e;

typedef struct rp_report_opts {
    const rp_sort_t *sort;            /* NULL or nfields == 0: file order,
                                         "Random listing order was used" */
    const rp_restrict_t *restricts;   /* applied in order */
    int nrestricts;
    rp_match_fn match;                /* needed when any restriction is a regex;
                                         a regex restriction with regex NULL (or
                                         match NULL) prints pstats' "<Invalid
                                         regular expression ...>" line */
    rp_unit_e unit;                   /* RP_UNIT_S prints exactly as pstats; MS
                                         and US print pstats' report of the
                                         same profile with every time scaled
                                         by 1e3 / 1e6 ("in X milliseconds") */
} rp_report_opts_t;

/* Called once per output line, without the trailing newline ("" for a
 * blank line). line is only valid during the call. */
typedef void (*rp_line_fn)(void *ctx, const char *line);

/* Print st the way pstats.Stats.print_stats() does after sort_stats():
 * summary line, blank, "Ordered by" + reduction lines, blank, title, rows,
 * two blanks. No filename header line (as for a Stats made from a live
 * profile, which is what Werkzeug prints). When restrictions leave nothing,
 * only the summary and its blank line are printed, as pstats does. Names
 * go through rp_utf8_clean, as in the pstats file. Allocates from p. */
void rp_report(const rp_stats_t *st, const rp_report_opts_t *o,
               apr_pool_t *p, rp_line_fn emit, void *ctx);

/* The function's standard name "file:line(name)". */
const char *rp_func_stdname(apr_pool_t *p, const rp_func_t *f);

#endif
