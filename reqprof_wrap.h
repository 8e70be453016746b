/*
 * reqprof_wrap.h - replacing every request hook entry of every module with
 * a trampoline that times it (design.md section 2).
 */
#ifndef REQPROF_WRAP_H
#define REQPROF_WRAP_H

#include "httpd.h"
#include "rp_prof.h"

/* pre_config: forget the previous generation's slots (and, through
 * reqprof_tramp_reset, its registry). */
void reqprof_wrap_reset(void);

/* post_config (REALLY_LAST, hooks sorted): start this generation's
 * registry (reqprof_tramp_generation) and wrap every request hook entry,
 * mod_cgi's and mod_cgid's handlers with CGI trampolines
 * (reqprof_cgi_wrap); returns how many. Nothing (0) when ProfileEngine
 * is On nowhere: then reqprof_registry stays NULL and the other units
 * wrap nothing either. */
int reqprof_wrap_all(apr_pool_t *pconf, server_rec *s);

/* post_config, right after rp_clock_init: the stubs' bodies for the
 * clock it chose (REQPROF_BODIES_PICK); nothing with C trampolines. */
void reqprof_wrap_set_clock(void);

/* post_config, after every unit wrapped its entries: the registry entry
 * of the self-test (reqprof_wrap_selftime). */
void reqprof_wrap_selftime_entry(void);

/* child_init: wrap entries added after the sort (by later post_config or
 * child_init hooks). */
void reqprof_wrap_rescan(server_rec *s);

/* Microbenchmark of the hot path, for make bench and the README: ns per
 * wrapped call of a no-op hook, with profiling on (*on) and off (*off). */
void reqprof_wrap_selftime(request_rec *r, int iterations, double *on, double *off);

/* The "reqprof-selftime" handler: ns per wrapped call, measured here. */
int reqprof_selftime_handler(request_rec *r);

#endif
