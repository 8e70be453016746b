/*
 * rp_outfmt.h - helpers the text writers share (callgrind, Chrome trace,
 * collapsed stacks): formatted appends to an rp_buf_t and the one naming
 * of a profile function they all use.
 */
#ifndef RP_OUTFMT_H
#define RP_OUTFMT_H

#include <apr_pools.h>
#include "rp_pstats.h"
#include "rp_stats.h"

/* printf onto the end of b. */
void rp_buf_printf(rp_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The project's one JSON string escaper (files and the status page): a
 * JSON string literal of s, quotes included, that is valid JSON and valid
 * UTF-8 for any bytes:
 *   - " and \ as \" and \\;
 *   - control characters (below 0x20) and DEL as \u00XX, so nothing is
 *     lost;
 *   - < > & as \u003c \u003e \u0026: the text stays inert wherever it
 *     is pasted (an HTML page, a <script> block);
 *   - each invalid UTF-8 sequence (stray or truncated bytes, overlong
 *     forms, surrogates, past U+10FFFF) as one U+FFFD, as Python's
 *     decode(errors='replace') does;
 *   - the rest of valid UTF-8 as it is.
 * At most RP_JSON_STR_MAX bytes of s's text are kept (an invalid sequence
 * counting as the 3 bytes of its U+FFFD), cut before a character, never
 * inside one. NULL is "". */
#define RP_JSON_STR_MAX 1024
void rp_buf_json_str(rp_buf_t *b, const char *s);

/* A function's display name, valid UTF-8 without control characters:
 * httpd's own nodes (file "httpd": the request, phases, subrequests) by
 * their name alone ("handler", "request GET /x"), module entries as
 * pstats prints them ("mod_cgid.c:1(handler)"). */
const char *rp_func_display(apr_pool_t *p, const rp_func_t *f);

/* The callers graph turned around, for writers that walk call paths from
 * the root (collapsed stacks, pprof samples): (*first)[f] is the index in
 * *kids of f's first callee (-1: none), each linked to the next by next,
 * in funcs[] order. Returns the root: the first function with no callers
 * (0 if every function has one). Edges naming no function are left out. */
typedef struct rp_callee {
    int callee;               /* index in st->funcs */
    const rp_edge_t *edge;    /* its caller edge from the parent */
    int next;                 /* next callee of the same parent, -1: last */
} rp_callee_t;

int rp_callees(const rp_stats_t *st, apr_pool_t *p, int **first, rp_callee_t **kids);

#endif
