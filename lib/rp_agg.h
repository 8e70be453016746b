/*
 * rp_agg.h - the status page's aggregates, in one shared-memory region
 * that every child process writes and any child reads.
 *
 * The region is plain memory handed in by the caller (the glue creates an
 * anonymous apr_shm in post_config; the unit tests use a pool block), laid
 * out from rp_agg_sizes_t. Writers never lock and never wait:
 *
 *   - counters live in RP_AGG_STRIPES copies ("stripes"); a request adds
 *     to the stripe picked from its process and thread with atomic adds,
 *     so concurrent writers rarely share a cache line, and a reader sums
 *     the stripes (merge on read);
 *   - names (functions, virtual hosts) are added by claiming an index with
 *     a compare-and-swap, then published with a ready flag;
 *   - the URL table is open-addressed with a short probe window; a path
 *     that finds its window full replaces the entry there with the fewest
 *     requests, whose counts move to the "(other)" row, so the rows always
 *     add up to the total;
 *   - each slow-request entry is guarded by a sequence word: a writer that
 *     cannot take it at once gives up (that request is not kept), a reader
 *     copies the entry and retries if the word changed meanwhile;
 *   - recent windows: RP_WIN_SLOTS per-minute slots (rp_window.h), each
 *     with the request counters, one column of function counters and a
 *     small URL table of its own; the first writer of a new minute claims
 *     the slot and zeroes it.
 *
 * Every request is counted (rp_agg_count: requests, time, histogram,
 * status class, virtual host, URL); a profiled one also adds its
 * functions (rp_agg_record), and "profiled" says how many those were.
 *
 * APR only; no httpd types.
 */
#ifndef RP_AGG_H
#define RP_AGG_H

#include <stdint.h>
#include <apr_pools.h>
#include <apr_time.h>
#include "rp_prof.h"
#include "rp_stats.h"

#define RP_AGG_STRIPES      8     /* counter copies, merged on read */
#define RP_AGG_NBUCKETS     19    /* latency buckets, the last is +Inf */
#define RP_AGG_KEY_FILE     64    /* bytes kept of a function's file name */
#define RP_AGG_KEY_NAME     64    /* ... and of its name */
#define RP_AGG_VHOST_LEN    96
#define RP_AGG_URL_LEN      192   /* bytes kept of a URL path */
#define RP_AGG_URL_PROBE    8     /* entries a path may occupy */
#define RP_AGG_TREE_FUNCS   64    /* functions kept of a slow request */
#define RP_AGG_TREE_EDGES   128   /* caller edges kept of a slow request */
#define RP_AGG_TREE_STRINGS 4096  /* their names */
#define RP_AGG_SLOW_WINDOW  apr_time_from_sec(600) /* "recent": 10 minutes */
#define RP_AGG_NCLASS       5     /* status classes 1xx .. 5xx */
#define RP_AGG_WIN_URLS     64    /* URL entries of one window minute */

/* Upper bounds of the latency buckets in seconds (the last is +Inf). */
extern const double rp_agg_bucket_le[RP_AGG_NBUCKETS];
/* The same as text ("0.0001", ..., "+Inf"), for labels and JSON. */
extern const char *const rp_agg_bucket_text[RP_AGG_NBUCKETS];

/* What fixes the layout. Two regions with equal sizes are interchangeable. */
typedef struct rp_agg_sizes {
    int nkeys;      /* functions (phases, hook entries, filters) counted */
    int nvhosts;    /* virtual hosts counted separately */
    int nurls;      /* URL table entries */
    int nslow;      /* slow-request entries */
} rp_agg_sizes_t;

typedef struct rp_agg rp_agg_t;

/* Bytes a region of these sizes needs. */
apr_size_t rp_agg_size(const rp_agg_sizes_t *sz);

/* Lay out a zeroed region of rp_agg_size(sz) bytes at base (now is its
 * creation time), or, when base already holds a region of exactly these
 * sizes, take it as it is (counts kept). Returns NULL when size is too
 * small. The handle is allocated from p. *reused says which happened. */
rp_agg_t *rp_agg_attach(apr_pool_t *p, void *base, apr_size_t size,
                        const rp_agg_sizes_t *sz, apr_time_t now, int *reused);

/* Copy the counts of src into dst (a fresh region of other sizes):
 * totals and histogram, functions and virtual hosts matched by name, URLs
 * and slow requests as many as fit. Single-threaded (post_config). */
void rp_agg_copy(rp_agg_t *dst, const rp_agg_t *src);

/* Index of a function / virtual host name, added when new; -1 when the
 * table is full. Safe from any process and thread; meant for startup. */
int rp_agg_key(rp_agg_t *a, const char *file, int line, const char *name);
int rp_agg_vhost(rp_agg_t *a, const char *name);

/* One function's totals in a finished request. */
typedef struct rp_agg_call {
    int key;            /* rp_agg_key() index */
    uint64_t calls;
    uint64_t tt_ns;     /* self time */
    uint64_t ct_ns;     /* cumulative time */
} rp_agg_call_t;

/* One finished request. */
typedef struct rp_agg_req {
    const char *method;
    const char *path;   /* URL path, no query string; valid UTF-8 */
    const char *vhost;  /* for the slow-request list */
    int vhost_idx;      /* rp_agg_vhost() index, -1: not counted by vhost */
    int status;
    apr_time_t when;    /* the request's start */
    uint64_t wall_ns;   /* its wall time */
    unsigned stripe;    /* any number; taken modulo RP_AGG_STRIPES */
    const char *traceid; /* W3C trace id (32 hex) for the slow list; NULL: none */
} rp_agg_req_t;

/* The class of an HTTP status: 0 for 1xx .. 4 for 5xx, -1 for none. */
static APR_INLINE int rp_agg_class(int status)
{
    return status >= 100 && status <= 599 ? status / 100 - 1 : -1;
}

/* Add a profiled request and its functions' totals. No lock, no
 * allocation. The request's end (when + wall) picks its window minute. */
void rp_agg_record(rp_agg_t *a, const rp_agg_req_t *rq,
                   const rp_agg_call_t *calls, int ncalls);

/* ---- batched counts ----
 * A profiled request's function counts are most of its atomic adds (three
 * per function, twice: since start and its minute), each a locked
 * instruction of some nanoseconds. A batch, owned by one writer (a thread,
 * or whoever holds the lock the caller keeps beside it), sums them in
 * plain memory; rp_agg_batch_flush adds the sums to the region. What the
 * region shows of the batched counts is then as old as the oldest count
 * not yet flushed: the caller flushes on a timer. The batched requests
 * themselves (requests, time, status, URL, "profiled") wait there too:
 * the batch keeps the URLs of RP_AGG_BATCH_URLS at most, and a request of
 * another URL sends the requests it holds (not their functions) to the
 * region first. */
#define RP_AGG_BATCH_URLS 8
typedef struct rp_agg_batch rp_agg_batch_t;

/* A batch for region a (its sizes), from p. */
rp_agg_batch_t *rp_agg_batch_create(const rp_agg_t *a, apr_pool_t *p);

/* rp_agg_record into b: the request and its functions' counts. A batch
 * holds one virtual host column and one window minute: it is flushed
 * first when the request has another (or when the region was reset since
 * its first count). */
void rp_agg_record_batch(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                         const rp_agg_call_t *calls, int ncalls);

/* Add what b holds to the region and empty it. now: the window minute b
 * holds is dropped (only its since-start part is added) when it is no
 * longer one of the last RP_WIN_MAX minutes. */
void rp_agg_batch_flush(rp_agg_t *a, rp_agg_batch_t *b, apr_time_t now);

/* Non-zero while b holds counts not yet flushed. */
int rp_agg_batch_pending(const rp_agg_batch_t *b);

/* ---- a batch's shapes ----
 * Most requests repeat the shape of one before them: the same frames in
 * the same order, each of the same function at the same depth. The
 * function counts of such a request are fixed sums of its frames' ticks,
 * so a batch keeps, per shape, each frame's ticks summed over the
 * shape's requests (two plain adds a frame) and makes the function
 * counts from them once, when it flushes or when the shape makes way for
 * another: RP_AGG_SHAPES are kept, the least recently used making way.
 * The counts are rp_agg_record_batch's to within the rounding of ticks
 * to ns (exactly, at one tick a nanosecond). The caller names a shape by
 * a tag (not 0) that it never gives another shape of this batch. */
#define RP_AGG_SHAPES 4
#define RP_AGG_SHAPE_MAX 256    /* frames a shape may have */
#define RP_AGG_NO_KEY (-1)      /* a function without a key: calls dropped */
#define RP_AGG_UNCOUNTED (-2)   /* not a function of the page (the request) */

/* The shape tagged tag that b keeps, or -1. */
int rp_agg_shape_find(rp_agg_batch_t *b, uint64_t tag);

/* Keep the shape of a request's frames as tag: log (n frames, as
 * rp_prof_log_ticks gives them; each of a local function 0 .. nf - 1), a
 * frame of local function f counting for key fkey[f] (a key of a,
 * RP_AGG_NO_KEY or RP_AGG_UNCOUNTED). A frame adds its self ticks to its
 * function's self time, and its ticks to the cumulative time unless a
 * frame of the same function is among its ancestors (cProfile's rule);
 * ns_per_tick converts them. The records' self is not read: a frame's
 * self ticks are its ticks less those of its children (the later frames
 * whose latest frame one level up it is), taken from the shape's summed
 * ticks when it folds, which equals the per-request sum when frames nest
 * as rp_prof's do. Returns the shape for rp_agg_record_shape, -1 when it
 * has more than RP_AGG_SHAPE_MAX frames. */
int rp_agg_shape_add(rp_agg_t *a, rp_agg_batch_t *b, uint64_t tag,
                     const rp_prof_rec_t *log, int n, const int *fkey, int nf,
                     double ns_per_tick);

/* rp_agg_record_batch for a request of shape s, its frames log (n of
 * them, equal to the shape's in every function and depth): the request
 * is counted into b, its frames' ticks summed into the shape (not when
 * s is no shape of b or has another number of frames: then the request
 * counts without its functions). */
void rp_agg_record_shape(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                         int s, const rp_prof_rec_t *log, int n);

/* rp_agg_record_shape with the frames' ticks given (t1 - t0, 0 when
 * t1 < t0, per frame in log order: rp_tree_cache_ticks), not read from
 * the log. */
void rp_agg_record_shape_ticks(rp_agg_t *a, rp_agg_batch_t *b, const rp_agg_req_t *rq,
                               int s, const uint64_t *ticks, int n);

/* Add a request that was not profiled: everything but functions. */
void rp_agg_count(rp_agg_t *a, const rp_agg_req_t *rq);

/* Would a request this slow, ending now, enter the slow-request ring? */
int rp_agg_slow_wants(const rp_agg_t *a, uint64_t wall_ns, apr_time_t now);

/* Keep the request's call graph (st, root first) in the ring if it still
 * qualifies and its entry can be taken at once. Returns the entry's id
 * (> 0), or 0 when it was not kept. */
uint64_t rp_agg_slow_add(rp_agg_t *a, const rp_agg_req_t *rq,
                         const rp_stats_t *st, apr_time_t now);

/* The same, with keys[i] the rp_agg_key() index of st->funcs[i] when that
 * key holds its file, line and name whole (no byte cut), else -1: such a
 * function is kept as the key's index instead of copies of its strings,
 * which makes a write a few thousand instructions cheaper. keys may be
 * NULL (every name copied). */
uint64_t rp_agg_slow_add_keyed(rp_agg_t *a, const rp_agg_req_t *rq,
                               const rp_stats_t *st, const int *keys,
                               apr_time_t now);

/* Zero every count, URL and slow request (names are kept). */
void rp_agg_reset(rp_agg_t *a, apr_time_t now);

/* The name of function key i (an rp_agg_key index): 1 and its parts
 * (pointers into the region), 0 when i is not a ready key. */
int rp_agg_key_name(const rp_agg_t *a, int i, const char **file, int *line,
                    const char **name);

/* ---- reading: a merged, consistent-enough copy ---- */

typedef struct rp_agg_keyrow {
    const char *file;
    int line;
    const char *name;
    int phase;          /* 1 for a phase node (file "httpd", line 0) */
    uint64_t calls, tt_ns, ct_ns;   /* all virtual hosts */
    uint64_t *vcalls, *vtt_ns, *vct_ns; /* per virtual host [nvhosts] */
} rp_agg_keyrow_t;

typedef struct rp_agg_urlrow {
    const char *path;
    uint64_t count, sum_ns, max_ns;
    apr_time_t last;
    uint64_t status[RP_AGG_NCLASS];
} rp_agg_urlrow_t;

typedef struct rp_agg_slowrow {
    uint64_t id;
    const char *method, *path, *vhost;
    int status;
    apr_time_t when;
    uint64_t wall_ns;
    int nfuncs;
    int truncated;      /* the request had more functions or edges */
    const char *traceid; /* "" when the request had none */
} rp_agg_slowrow_t;

typedef struct rp_agg_snap {
    apr_time_t created, reset;
    int window;                      /* minutes; 0: since start */
    uint64_t requests, sum_ns, max_ns;
    uint64_t profiled;               /* of the requests, how many profiled */
    uint64_t status[RP_AGG_NCLASS];  /* requests per status class */
    uint64_t hist[RP_AGG_NBUCKETS];  /* per bucket, not cumulative */
    int nkeys;
    rp_agg_keyrow_t *keys;           /* each name once */
    int nvhosts;
    const char **vhost_names;
    uint64_t *vhost_requests, *vhost_sum_ns;
    uint64_t *vhost_status;          /* [nvhosts][RP_AGG_NCLASS] */
    int nurls;
    rp_agg_urlrow_t *urls;           /* most requests first */
    uint64_t url_other_count, url_other_sum_ns;
    uint64_t url_other_status[RP_AGG_NCLASS];
    int nslow;
    rp_agg_slowrow_t *slow;          /* slowest first */
    rp_agg_sizes_t sizes;
    apr_size_t bytes;                /* size of the region */
    uint64_t keys_dropped;           /* calls of functions the table had no room for */
} rp_agg_snap_t;

rp_agg_snap_t *rp_agg_read(const rp_agg_t *a, apr_pool_t *p);

/* The same over the last `minutes` window minutes up to now (1..RP_WIN_MAX):
 * counts, status classes, histogram, virtual hosts, functions (all virtual
 * hosts together: the per-virtual-host vcalls etc. are zero), URLs (each
 * minute's table), slow requests that started in the window. */
rp_agg_snap_t *rp_agg_read_window(const rp_agg_t *a, apr_pool_t *p, int minutes,
                                  apr_time_t now);

/* Seconds below which a fraction q (0..1) of the requests finished,
 * interpolated within its bucket and capped at the maximum; 0 when none. */
double rp_agg_percentile(const rp_agg_snap_t *s, double q);

/* The slow request with this id as a profile (for a .prof file or the
 * flame view), or NULL when it is no longer in the ring. */
rp_stats_t *rp_agg_slow_stats(const rp_agg_t *a, uint64_t id, apr_pool_t *p,
                              rp_agg_slowrow_t *info);

#endif
