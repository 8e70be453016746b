/*
 * rp_servertiming.h - the value of a Server-Timing response header
 * (W3C Server Timing): "total;dur=12.400, mod_cgid;dur=10.100;desc=
 * "handler", ...", built from the self time of each module of a request.
 * Pure string building, APR only; the glue feeds it from the live
 * profile (reqprof_timing.c).
 */
#ifndef RP_SERVERTIMING_H
#define RP_SERVERTIMING_H

#include <stdint.h>
#include <apr_pools.h>

/* A metric name from a module file: ".c" dropped, anything that is not
 * an HTTP tchar (rp_http.h) becomes '_', "" becomes "_". From p. */
const char *rp_servertiming_token(apr_pool_t *p, const char *file);

/* s as a quoted-string: '"' and '\\' escaped, control characters (and
 * DEL) left out. From p. */
const char *rp_servertiming_quoted(apr_pool_t *p, const char *s);

/* The self time of a request's modules, summed per module file, with
 * each module's hook of most self time. */
typedef struct rp_servertiming rp_servertiming_t;

/* Room for up to cap different module files. From p. */
rp_servertiming_t *rp_servertiming_make(apr_pool_t *p, int cap);

/* Add ticks of self time of hook (the entry's name) in module file. The
 * strings are kept, not copied. Files past cap are not counted. */
void rp_servertiming_add(rp_servertiming_t *t, const char *file, const char *hook,
                         uint64_t ticks);

/* "total;dur=T" then the top modules by self time (most first, at most
 * top of them), each "METRIC;dur=D;desc="HOOK"": durations in
 * milliseconds with three decimals, ticks * sec_per_tick seconds. Modules
 * of equal time come in no promised order. Reorders t. From p. */
const char *rp_servertiming_value(apr_pool_t *p, rp_servertiming_t *t, uint64_t total,
                                  double sec_per_tick, int top);

#endif
