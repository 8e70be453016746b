/*
 * rp_tree.h - the aggregate call tree of all traffic, in one shared-memory
 * region that every child process adds to and any child reads.
 *
 * A node is a path from the root: (virtual host, parent node, function).
 * Each virtual host has its own root, the function "httpd:0(all requests)",
 * whose call count is the number of requests recorded and whose cumulative
 * time is the sum of their wall times. Under it, every profiled request
 * adds its own call tree (phases, hook entries, filters, subrequests, CGI
 * runs, backends), node by node: calls, self ns and cumulative ns.
 *
 * Counts are kept twice: since the region was made, and in RP_WIN_SLOTS
 * per-minute slots (rp_window.h) from which the last 1, 5, 15 and 60
 * minutes are summed when read.
 *
 * Writers never lock and never wait:
 *   - functions and nodes are found in open-addressed hash tables; a new
 *     one is claimed with a compare-and-swap on its hash word, then given
 *     the next free index (another CAS) and published by storing that
 *     index; a writer that meets an entry still being published, or finds
 *     no room, takes the fallback below;
 *   - counts are atomic adds (no stripes: the region would be 8 times
 *     larger; a request adds to each of its nodes once, not per call);
 *   - a node index is claimed after its parent's, so parents always come
 *     before their children in index order.
 *
 * The cap: rp_tree_sizes_t.nnodes nodes in all. Ordinary nodes may take
 * all but a reserve of nnodes / 8; the reserve holds "(other)" nodes. A
 * path that finds no room is counted, with everything under it, as one
 * call of "httpd:0((other))" under its deepest recorded ancestor (self =
 * cumulative = the path's cumulative time); if even that node cannot be
 * made, its time is added to the ancestor's self time. Either way every
 * ancestor's cumulative time, the root's totals and the sum of all self
 * times stay exact.
 *
 * APR only; no httpd types.
 */
#ifndef RP_TREE_H
#define RP_TREE_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_time.h>
#include "rp_prof.h"
#include "rp_window.h"

#define RP_TREE_FILE_LEN   256    /* bytes kept of a function's file name */
#define RP_TREE_NAME_LEN   192    /* ... and of its name */
#define RP_TREE_VHOST_LEN  96
#define RP_TREE_MIN_NODES  256
#define RP_TREE_MAX_NODES  1000000
#define RP_TREE_MAX_VHOSTS 64     /* more virtual hosts share "(other)" */

#define RP_TREE_FUNC_ROOT  0      /* "httpd:0(all requests)" */
#define RP_TREE_FUNC_OTHER 1      /* "httpd:0((other))" */
#define RP_TREE_ROOT_NAME  "all requests"
#define RP_TREE_OTHER_NAME "(other)"

typedef struct rp_tree_sizes {
    int nnodes;     /* nodes (and functions) in all, RP_TREE_MIN_NODES.. */
    int nvhosts;    /* virtual hosts with a tree of their own, 1.. */
} rp_tree_sizes_t;

typedef struct rp_tree rp_tree_t;

/* Bytes a region of these sizes needs. */
apr_size_t rp_tree_size(const rp_tree_sizes_t *sz);

/* Lay out a region of rp_tree_size(sz) bytes at base, zeroed here (now
 * is its creation time), or take it as it is when base already holds a
 * region of exactly these sizes (*reused = 1). NULL when size is too
 * small or the sizes are out of range. The handle comes from p. */
rp_tree_t *rp_tree_attach(apr_pool_t *p, void *base, apr_size_t size,
                          const rp_tree_sizes_t *sz, apr_time_t now, int *reused);

/* The index of a virtual host (its root made when new); the "(other)"
 * host's index (sz.nvhosts) when the table is full. Meant for startup. */
int rp_tree_vhost(rp_tree_t *t, const char *name);

/* The id of a function, added when new; -1 when the table is full or the
 * entry is being added by another writer this very moment. Names longer
 * than RP_TREE_*_LEN are cut (on a character boundary). */
int rp_tree_func(rp_tree_t *t, const char *file, int line, const char *name);

/* Test hook: called (when set) by a writer between claiming a function's
 * or node's hash slot and publishing its index, the window in which other
 * writers must wait for it. Process-global; NULL removes it. */
extern void (*rp_tree_test_unpublished)(void);

/* One node of a finished request's own call tree: rec[0] is the request
 * (recorded as its virtual host's root, whatever its func), every other
 * record names its parent by index, parents before children; func -1
 * means "no name" (counted as "(other)"). */
typedef struct rp_tree_rec {
    int parent;
    int func;
    uint64_t calls, self_ns, cum_ns;
} rp_tree_rec_t;

/* Add a finished request (now: when it ended, picks the minute slot).
 * scratch holds n ints. No lock, no allocation. */
void rp_tree_record(rp_tree_t *t, int vhost, const rp_tree_rec_t *rec, int n,
                    apr_time_t now, int *scratch);
/* (scratch[i] is then record i's node, -1 when it had none of its own.) */

/* ---- building a request's records from its timeline ---- */

/* One frame of a request's timeline, in the order opened, as
 * rp_prof_events gives it (func then mapped to a tree function id, -1:
 * none; depth 0 is the request's root; t0/t1 in ticks or any one unit). */
typedef rp_prof_ev_t rp_tree_ev_t;

/* Fold a timeline into records (at most n, the number of events): frames
 * with the same path become one record with their calls and cumulative
 * time summed; self time is cumulative less the children's (never below
 * zero). ns_per_unit converts the events' unit. Returns the records
 * written (0 when ev[0] is not a root at depth 0). work holds 5 n ints. */
int rp_tree_fold(const rp_tree_ev_t *ev, int n, double ns_per_unit,
                 rp_tree_rec_t *out, int *work);

/* ---- the path cache: a request like one before it ----
 * Most requests repeat the timeline shape of a recent one: the same
 * functions at the same depths in the same order. A cache remembers the
 * last RP_TREE_CACHE_WAYS shapes recorded (the least recently used makes
 * way), each event's record and each record's node, so a request of one
 * of those shapes is folded by that map and added to those nodes without
 * a hash lookup. The result is exactly what rp_tree_fold
 * then rp_tree_record give (nodes are never removed from a region, so a
 * node found once stays the node of that path). A cache belongs to one
 * thread at a time (no lock); it remembers up to cap events. */
typedef struct rp_tree_cache rp_tree_cache_t;
#define RP_TREE_CACHE_WAYS 4

rp_tree_cache_t *rp_tree_cache_create(apr_pool_t *p, int cap);

/* rp_tree_fold then rp_tree_record, through the cache c (NULL: none).
 * out and work as for those (n records, 5 n ints). Returns the records. */
int rp_tree_record_events(rp_tree_t *t, rp_tree_cache_t *c, int vhost,
                          const rp_tree_ev_t *ev, int n, double ns_per_unit,
                          apr_time_t now, rp_tree_rec_t *out, int *work);

/* The same request read straight from the profile, building no events:
 * log in rp_prof_log_shape's form (each record's func a number that
 * stands for one function for as long as the cache lives). A path keyed
 * by rp_tree_cache_key with an equal log shape (every record's func,
 * depth and acct) is the path this request would fold to: it is added
 * as rp_tree_record_events adds a cached path, and the records are
 * returned. -1: no keyed path matches (nothing was added); then the
 * caller builds the events, records them with rp_tree_record_events and
 * keys what that cached with rp_tree_cache_key. A key holds only when
 * every function but the root is one whose tree function never changes:
 * the caller keys no request with another kind of function. out NULL:
 * the records are not wanted; batching on, the request's ticks are only
 * summed per event, converted and made records at the flush (see
 * fold_log). Every record ends no earlier than it starts (t1 >= t0), as
 * rp_prof writes them: a frame's ticks are t1 - t0, unchecked. */
int rp_tree_record_log(rp_tree_t *t, rp_tree_cache_t *c, int vhost,
                       const rp_prof_rec_t *log, int n, double ns_per_unit,
                       apr_time_t now, rp_tree_rec_t *out);

/* Right after rp_tree_record_events(t, c, vhost, ev, n, ...) for the
 * events ev built from the request whose shape form is log: the path it
 * took or cached, if it holds ev, gets the key (log's shape). */
void rp_tree_cache_key(rp_tree_cache_t *c, const rp_tree_t *t, int vhost,
                       const rp_tree_ev_t *ev, const rp_prof_rec_t *log, int n);

/* The key the last rp_tree_record_log call on c matched, 0 when it
 * matched none: a number this cache gives one key (one log shape) only, so requests that show the same tag have the same shape
 * (the status page's batch keeps its sums per shape by it). */
uint64_t rp_tree_cache_tag(const rp_tree_cache_t *c);

/* When the last rp_tree_record_log call on c took the batched keyed road
 * (batching on, no records wanted, a keyed shape matched): each of its
 * log's n events' ticks (t1 - t0, 0 when t1 < t0), in log order, so that
 * another sum of the same request (the status page's shape) need not
 * read the log again. Valid until the next call on c; else NULL, n 0. */
const uint64_t *rp_tree_cache_ticks(const rp_tree_cache_t *c, int *n);

/* Batching: while on, a request that takes the cached path adds its
 * counts to sums the cache keeps (plain memory) instead of to the region
 * (six atomic adds a record); rp_tree_cache_flush adds the sums to the
 * region. The cache flushes a shape's sums by itself before the shape
 * makes way for another, and all of them before they would span two
 * window minutes and when batching is switched off (now: the time of
 * that flush). What the region shows of a batched request is as old as
 * the oldest sum not yet flushed: the caller flushes on a timer, holding
 * whatever lock guards the cache. */
void rp_tree_cache_batch(rp_tree_cache_t *c, int on, apr_time_t now);
void rp_tree_cache_flush(rp_tree_cache_t *c, apr_time_t now);
int rp_tree_cache_pending(const rp_tree_cache_t *c);

/* Requests that took the cached path and that did not (tests, bench). */
void rp_tree_cache_stats(const rp_tree_cache_t *c, unsigned long *hits,
                         unsigned long *misses);

/* ---- reading ---- */

/* The counts of every node, as read at one moment: since start (window
 * 0) or summed over the last `window` minutes at `now`. */
typedef struct rp_tree_counts {
    int n;                      /* nodes in use when read */
    uint64_t *calls, *self_ns, *cum_ns;
    int window;
    apr_time_t when;
} rp_tree_counts_t;

rp_tree_counts_t *rp_tree_counts(const rp_tree_t *t, apr_pool_t *p, int window,
                                 apr_time_t now);

/* later -= earlier, node by node (nodes new since earlier keep theirs):
 * what finished between the two reads. */
void rp_tree_counts_sub(rp_tree_counts_t *later, const rp_tree_counts_t *earlier);

typedef struct rp_tree_fn {
    const char *file;
    int line;
    const char *name;
} rp_tree_fn_t;

typedef struct rp_tree_node {
    int parent;                 /* index in the snapshot, -1: the root */
    int func;                   /* index in funcs */
    uint64_t calls, self_ns, cum_ns;
} rp_tree_node_t;

/* One tree: one virtual host's, or all of them merged path by path. */
typedef struct rp_tree_snap {
    int nnodes;                 /* nodes with calls; nodes[0] the root */
    rp_tree_node_t *nodes;      /* parents before children */
    int nfuncs;
    rp_tree_fn_t *funcs;        /* by function id */
    int nvhosts;                /* names of the hosts, "(other)" last */
    const char **vhosts;
    apr_time_t created;
    int window;
    int capacity, used;         /* nodes of the region, in use */
    uint64_t lost_calls;        /* paths whose time went to an ancestor's self */
} rp_tree_snap_t;

/* The tree of vhost (-1: all merged) from counts. */
rp_tree_snap_t *rp_tree_snap(const rp_tree_t *t, const rp_tree_counts_t *c,
                             int vhost, apr_pool_t *p);

/* The path of node i as function ids from the root, "0.17.42" (the form
 * &focus= takes), and the node such a path names (-1: none). */
const char *rp_tree_path(const rp_tree_snap_t *s, int i, apr_pool_t *p);
int rp_tree_find(const rp_tree_snap_t *s, const char *path);

#endif
