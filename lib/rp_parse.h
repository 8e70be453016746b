/*
 * rp_parse.h - parsing of the values production directives take:
 * durations (ProfileMinDuration), byte sizes (ProfileMaxDirSize), rates
 * (ProfileSampleRate), and whole numbers in a range (directives, query
 * arguments). APR only.
 *
 * Each parser returns NULL on success, or a short reason from p saying
 * what is wrong with the text (the caller adds the directive and value).
 */
#ifndef RP_PARSE_H
#define RP_PARSE_H

#include <apr_pools.h>

/* A non-negative duration: a decimal number (digits, optional fraction;
 * at most 15 digits in all) and a unit, "us", "ms" or "s"; a bare number
 * is seconds (as httpd's Timeout). "250ms", "1s", "500us", "0.25", "1.5s",
 * "0". At most one hour; the result is rounded to the nearest
 * microsecond, halves up. */
const char *rp_parse_duration(apr_pool_t *p, const char *s, apr_int64_t *usec);

/* A byte size: digits (any number of them) and an optional binary suffix
 * K, M, G or T (1024, 1024^2, ...), upper or lower case, optionally
 * followed by "B" ("10M", "512KB", "4096"). At least 1 byte, at most 2^50
 * bytes (1024T). */
const char *rp_parse_size(apr_pool_t *p, const char *s, apr_uint64_t *bytes);

/* A rate in [0, 1]: a decimal fraction ("0.01", "1", ".5") or a
 * percentage ("1%", "0.5%", "100%"), at most 15 digits. */
const char *rp_parse_rate(apr_pool_t *p, const char *s, double *rate);

/* The project's one integer parser (directives, query arguments, test
 * settings, /proc): an optional '-' and one or more decimal digits (any
 * number of them, leading zeros too), nothing before or after: no blanks,
 * no '+', no hex, no suffix. The value must lie in [min, max]. Returns
 * RP_INT_OK and sets *out, or says what is wrong and leaves *out alone. */
typedef enum rp_int_err {
    RP_INT_OK = 0,
    RP_INT_NOT_NUMBER,      /* NULL, empty, or no digit where it starts */
    RP_INT_TRAILING,        /* digits, then something else ("10k", "1.5") */
    RP_INT_BELOW,           /* a number below min (however far) */
    RP_INT_ABOVE            /* a number above max (however far) */
} rp_int_err_t;

rp_int_err_t rp_parse_int64(const char *s, apr_int64_t min, apr_int64_t max,
                            apr_int64_t *out);

/* rp_parse_int64's verdict on s as a short reason for a directive's
 * message (the caller names the directive and the value): "not a whole
 * number", "not a whole number (it goes on with 'k')", "less than 1",
 * "more than 1000". From p. */
const char *rp_int_err_text(apr_pool_t *p, rp_int_err_t e, const char *s,
                            apr_int64_t min, apr_int64_t max);

/* The value of argument `name` in a query string "a=1&b&c=x" as it is
 * written (not unescaped): the first "name=value" gives value, a bare
 * "name" gives "", and NULL when there is none (args NULL too). From p. */
const char *rp_query_arg(apr_pool_t *p, const char *args, const char *name);

/* The 32-bit sampling threshold of a rate: a uniform 32-bit draw d is
 * selected when d < rp_rate_threshold(rate). 0 selects nothing, 2^32
 * (rate 1) everything. */
apr_uint64_t rp_rate_threshold(double rate);

#endif
