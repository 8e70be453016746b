/*
 * rp_parse.h - parsing of the values production directives take:
 * durations (ProfileMinDuration), byte sizes (ProfileMaxDirSize), rates
 * (ProfileSampleRate) and counts (ProfileMaxFiles). APR only.
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

/* A whole count in [min, max] written in decimal digits (any number of
 * them, leading zeros too). */
const char *rp_parse_count(apr_pool_t *p, const char *s, long min, long max,
                           long *out);

/* The 32-bit sampling threshold of a rate: a uniform 32-bit draw d is
 * selected when d < rp_rate_threshold(rate). 0 selects nothing, 2^32
 * (rate 1) everything. */
apr_uint64_t rp_rate_threshold(double rate);

#endif
