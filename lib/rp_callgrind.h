/*
 * rp_callgrind.h - the callgrind profile format (valgrind's
 * docs/callgrind-format), read by callgrind_annotate, KCachegrind and
 * QCachegrind, from a finished profile.
 */
#ifndef RP_CALLGRIND_H
#define RP_CALLGRIND_H

#include <apr_pools.h>
#include "rp_stats.h"

typedef struct rp_callgrind_meta {
    const char *cmd;          /* "cmd:" line, e.g. the request's label */
    long pid;
} rp_callgrind_meta_t;

/* One event, "ns" (nanoseconds, whole). Each function is a block: fl= its
 * module's source file and fn= "LINE(NAME)" (callgrind_annotate prints
 * "mod_cgid.c:1(handler)", the pstats name, once); fl=httpd fn=NAME for
 * the request, phases and subrequests; fl=??? and fn= the whole pstats
 * name for an entry whose file is a path (a CGI script: never a file a
 * viewer opens as source). Then a cost line with
 * its self time at its line number, then one call block per function it
 * called (cfl=, cfn=, calls=COUNT LINE, and the inclusive time of those
 * calls). APR_EINVAL for an empty profile. */
apr_status_t rp_callgrind_encode(const rp_stats_t *st, const rp_callgrind_meta_t *m,
                                 apr_pool_t *p, const char **data, apr_size_t *len);

#endif
