/*
 * rp_pstats.h - Python marshal encoding of a profile, the file format that
 * pstats.Stats(path), SnakeViz, gprof2dot, tuna and pyprof2calltree load.
 *
 * Format (see README "pstats files"): a marshal dict
 *   {(file, line, name): (cc, nc, tt, ct, {caller_key: (nc, cc, tt, ct)})}
 * written in funcs[] order, no header, no FLAG_REF.
 */
#ifndef RP_PSTATS_H
#define RP_PSTATS_H

#include <stdint.h>
#include <apr_pools.h>
#include "rp_prof.h"
#include "rp_stats.h"

/* A growable byte buffer allocated from a pool. */
typedef struct rp_buf {
    apr_pool_t *pool;
    char *data;
    apr_size_t len;
    apr_size_t cap;
} rp_buf_t;

void rp_buf_init(rp_buf_t *b, apr_pool_t *p, apr_size_t initial);
/* Appends n bytes of data; data NULL appends n bytes left for the caller
 * to fill (at b->data + b->len - n). */
void rp_buf_add(rp_buf_t *b, const void *data, apr_size_t n);

/* Marshal primitives (exposed for unit tests). */
void rp_marshal_int(rp_buf_t *b, int64_t v);      /* 'i' or 'l' */
void rp_marshal_float(rp_buf_t *b, double v);     /* 'g' */
void rp_marshal_str(rp_buf_t *b, const char *s);  /* 'u', caller passes valid UTF-8 */
void rp_marshal_tuple_begin(rp_buf_t *b, apr_size_t n); /* ')' small or '(' */
void rp_marshal_dict_begin(rp_buf_t *b);          /* '{' */
void rp_marshal_dict_end(rp_buf_t *b);            /* '0' */

/* Encode a whole profile. Strings in st are passed through rp_utf8_clean
 * first, so any bytes give a loadable file. Returns APR_EINVAL for an
 * empty profile (pstats cannot load an empty dict). */
apr_status_t rp_pstats_encode(const rp_stats_t *st, apr_pool_t *p,
                              const char **data, apr_size_t *len);

/* The encoded keys of static functions, kept for a whole generation so a
 * file costs a copy per key instead of cleaning and encoding it again.
 * Slots are registry ids (rp_func_t.key_slot - 1) below cap; a slot is
 * filled on its first use, from any thread (lock-free; each block is
 * malloc'd and freed when p is cleared). A block is only used for a
 * function whose file and name are the very strings (same addresses) and
 * line it was made from, so stats from another registry never get stale
 * bytes; still, make one cache per generation, from the pool the
 * registry lives in, and drop it with that generation. */
typedef struct rp_pstats_keys rp_pstats_keys_t;

rp_pstats_keys_t *rp_pstats_keys_create(apr_pool_t *p, int cap);

/* rp_pstats_encode with a key cache (NULL: none). The bytes are exactly
 * those rp_pstats_encode writes. */
apr_status_t rp_pstats_encode_keys(const rp_stats_t *st, rp_pstats_keys_t *cache,
                                   apr_pool_t *p, const char **data,
                                   apr_size_t *len);

/* The last file one thread wrote, kept so that the next file of the same
 * shape (the same functions in the same order with the same callers, as
 * most requests to one URL are) is that file with its numbers written
 * over: a copy and four stores per function and per edge instead of the
 * encoding. Files up to 256 KB are kept. One per thread (no lock); memory
 * from a subpool of p, reused at each recording. */
typedef struct rp_pstats_tmpl rp_pstats_tmpl_t;

rp_pstats_tmpl_t *rp_pstats_tmpl_create(apr_pool_t *p);

/* rp_pstats_encode_keys through tmpl (NULL: none): the same bytes. A
 * static function (key_slot > 0) is recognised by the addresses of its
 * file and name, as in the key cache, so its strings must not change
 * while tmpl lives; a dynamic one by their contents. */
apr_status_t rp_pstats_encode_tmpl(const rp_stats_t *st, rp_pstats_keys_t *cache,
                                   rp_pstats_tmpl_t *tmpl, apr_pool_t *p,
                                   const char **data, apr_size_t *len);

/* Files tmpl filled in (hits) and encoded anew (misses), for tests;
 * and files written from a plan (rp_pstats_encode_plan). */
void rp_pstats_tmpl_counts(const rp_pstats_tmpl_t *t, unsigned long *hits,
                           unsigned long *misses);
unsigned long rp_pstats_tmpl_planned(const rp_pstats_tmpl_t *t);

/* ---- a file from a request's frames, for a frame shape met before ----
 * Every number of a file is a fixed sum of its request's frames' ticks
 * (or, for the counts, the same for every request of one frame shape),
 * so the next request of that shape needs no rp_stats_t: its file is
 * the recorded one with sums of its frames written over.
 *
 * Right after tmpl recorded or filled in the file of st (made by
 * rp_prof_stats from the frames log, n of them, as rp_prof_log gives
 * them: the whole request), remember how st's numbers come from those
 * frames (a second copy of the file, and a few ints a frame, from
 * tmpl's memory), as the plan of frame shape tag (not 0: a number the caller
 * gives one shape only, its functions' keys included but the root's
 * name). Nothing is remembered when st is not the recorded file's
 * shape or its frames do not make it. */
void rp_pstats_tmpl_plan(rp_pstats_tmpl_t *tmpl, uint64_t tag, const rp_prof_rec_t *log,
                         int n, const rp_stats_t *st);

/* The file of a request of frame shape tag, its frames log (n) and its
 * root's name (the request's label: it must be the recorded one), times
 * converted with sec_per_tick: the bytes rp_pstats_encode would write
 * for rp_prof_stats of the same profile, from p. APR_EINCOMPLETE when
 * tmpl has no plan for it (encode as usual then). */
apr_status_t rp_pstats_encode_plan(rp_pstats_tmpl_t *tmpl, uint64_t tag,
                                   const rp_prof_rec_t *log, int n,
                                   const char *root_name, double sec_per_tick,
                                   apr_pool_t *p, const char **data, apr_size_t *len);

/* rp_pstats_encode_plan in two steps, for a caller that owns the memory
 * the file goes to (ProfileWriteThread's queue): the file's length, or 0
 * where rp_pstats_encode_plan would say APR_EINCOMPLETE; then the same
 * bytes written into buf (that many), p for scratch (a plan of over 128
 * functions and edges). */
apr_size_t rp_pstats_plan_len(const rp_pstats_tmpl_t *tmpl, uint64_t tag, int n,
                              const char *root_name);
void rp_pstats_plan_fill(rp_pstats_tmpl_t *tmpl, const rp_prof_rec_t *log, int n,
                         double sec_per_tick, apr_pool_t *p, unsigned char *buf);

#endif
