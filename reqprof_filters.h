/*
 * reqprof_filters.h - timing output and input filters: the trampolines
 * put in place of registered filters' functions, at startup and for
 * filters met at run time (reqprof_filters.c).
 */
#ifndef REQPROF_FILTERS_H
#define REQPROF_FILTERS_H

#include "httpd.h"
#include "reqprof_state.h"

/* pre_config: forget the previous generation's filter slots. */
void reqprof_filters_reset(void);

/* post_config, after reqprof_wrap_all: wrap every filter known by name
 * (the stock ones and every name the configuration uses); returns how
 * many (0 when nothing is timed in this generation). */
int reqprof_filters_wrap(server_rec *s);

/* post_config, right after rp_clock_init: as reqprof_wrap_set_clock. */
void reqprof_filters_set_clock(void);

/* child_init: what wrapping filters met at run time needs;
 * on_keys_added (may be NULL) is called when one got a registry id. */
void reqprof_filters_child_init(apr_pool_t *pchild, void (*on_keys_added)(void));

/* Filters added at run time (insert_filter hooks, handlers) are timed from
 * their first call: each timed filter checks the next one before it runs,
 * and whenever a timed hook returns and a chain's head moved since it was
 * last seen, the places the chain is entered from (r's head, its protocol
 * head, the connection's head) are checked and any not yet timed is
 * wrapped with the filters below it (reqprof_tramp.h's
 * reqprof_chain_check: two loads and two compares, then this function
 * through reqprof_chain_scan). */
void reqprof_filters_scan(reqprof_state_t *st, request_rec *r);

/* For our own output filters, before they pass the brigade on: the filter
 * they pass to is timed first, as a timed filter's trampoline does. */
void reqprof_filters_pass_check(ap_filter_t *f);

#endif
