/*
 * reqprof_wrap.h - replacing every request hook entry of every module with
 * a trampoline that times it (design.md section 2).
 */
#ifndef REQPROF_WRAP_H
#define REQPROF_WRAP_H

#include "httpd.h"
#include "rp_prof.h"

/* This generation's functions (phases and hook entries). */
extern rp_registry_t *reqprof_registry;

/* pre_config: forget the previous generation's slots. */
void reqprof_wrap_reset(void);

/* post_config (REALLY_LAST, hooks sorted): wrap every entry. */
int reqprof_wrap_all(apr_pool_t *pconf, server_rec *s);

/* child_init: wrap entries added after the sort (by later post_config or
 * child_init hooks). */
void reqprof_wrap_rescan(server_rec *s);

/* Number of hook entries wrapped so far in this generation. */
int reqprof_wrapped_count(void);

/* Microbenchmark of the hot path, for make bench and the README: ns per
 * wrapped call of a no-op hook, with profiling on (*on) and off (*off). */
void reqprof_wrap_selftime(request_rec *r, int iterations, double *on, double *off);

/* The "reqprof-selftime" handler: ns per wrapped call, measured here. */
int reqprof_selftime_handler(request_rec *r);

#endif
