/*
 * reqprof_tree.h - the aggregate call tree of all traffic (lib/rp_tree.h)
 * in the server: its shared memory, the recording of each profiled
 * request, and its views on the status page (?flame, ?prof, ?pprof,
 * ?collapsed).
 */
#ifndef REQPROF_TREE_H
#define REQPROF_TREE_H

#include "httpd.h"
#include "rp_prof.h"
#include "reqprof_config.h"

/* Frames of a request's timeline the tree reads (rp_prof's event log):
 * frames past this stay in the frame that holds them. */
#define REQPROF_TREE_EVENTS 4096

/* post_config: make (or keep across a restart) the shared memory, sized
 * by ProfileAggregateNodes, and give each virtual host its tree. */
void reqprof_tree_post_config(apr_pool_t *pconf, server_rec *s,
                              const rp_registry_t *reg);

/* The event log a profiled request needs for the tree (0: tree off). */
int reqprof_tree_events(void);

/* What reqprof_tree_record says of the request it recorded. */
typedef struct reqprof_shape {
    uint64_t tag;           /* the keyed shape it matched (rp_tree_cache_tag), 0: none */
    const uint64_t *ticks;  /* its frames' ticks (rp_tree_cache_ticks), NULL: none */
    int nticks;
} reqprof_shape_t;

/* The end of a profiled request (reqprof_request_finish, when it counts
 * as profiled, after rp_prof_end), now: the time it ends: add its call
 * tree. Status page requests are left out. batching is how
 * (REQPROF_BATCH_*): ON adds a request of the cached path to the cache's
 * sums (reqprof_tree_flush adds them to shared memory), BUSY leaves the
 * cache alone. Fills *shape (all 0 when the request matched no keyed
 * shape); its ticks are valid until the next request of prof. */
void reqprof_tree_record(request_rec *top, rp_prof_t *prof, int batching, apr_time_t now,
                         reqprof_shape_t *shape);

/* Add the sums batched on prof's path cache to shared memory (the batch
 * lock of prof's object held). */
void reqprof_tree_flush(rp_prof_t *prof, apr_time_t now);

/* This unit sits below the status page and the request code (it
 * includes neither), which call it. */

/* The status page's aggregate views: DECLINED when the request asks for
 * none of them, else the handler's result. */
int reqprof_tree_handler(request_rec *r);

/* The URL-decoded value of name in r's query string, NULL when absent. */
const char *reqprof_tree_arg(request_rec *r, const char *name);

#endif
