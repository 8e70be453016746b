/*
 * rp_prof.h - one request's live profile, with cProfile's accounting.
 *
 * Functions are either static (phases and hook entries, known for a whole
 * server generation and listed in an rp_registry_t by a small integer id)
 * or dynamic (the request root, subrequests, redirects: named per request).
 *
 * Frames come in three kinds:
 *   HOOK  - a timed call, opened by rp_prof_enter, closed by rp_prof_exit;
 *   PHASE - a request phase node, opened by the first hook of that phase and
 *           closed lazily (at the exit time of its last child) when another
 *           phase or the caller's frame takes over;
 *   REQ   - a request context (the root, a subrequest or a redirect),
 *           likewise lazy; the root is closed by rp_prof_end.
 * Requests are opaque pointers here: the glue passes request_rec *.
 */
#ifndef RP_PROF_H
#define RP_PROF_H

#include <stdint.h>
#include <apr_pools.h>
#include "rp_clock.h"
#include "rp_stats.h"
#include "rp_trace.h"

/* ---- registry of static functions, one per server generation ---- */

typedef struct rp_key {
    const char *file;
    int line;
    const char *name;
} rp_key_t;

typedef struct rp_registry {
    apr_pool_t *pool;
    int n;               /* ids 0 .. n-1 are in use */
    int cap;             /* fixed: ids never move, so readers need no lock */
    rp_key_t *keys;
} rp_registry_t;

rp_registry_t *rp_registry_create(apr_pool_t *p, int cap);

/* Add (or find) the key; returns its id, or -1 when full. file and name
 * are stored as rp_utf8_clean makes them (what a pstats file holds), so
 * names that differ only in invalid bytes are one function. Writers must
 * be serialised (single-threaded startup, or a lock); readers on other
 * threads may look up ids below n at any time. */
int rp_registry_add(rp_registry_t *reg, const char *file, int line,
                    const char *name);

/* The same, copying the strings into p (not the registry's pool): for keys
 * added at run time in a child process, when reg->pool is not ours to use. */
int rp_registry_add_in(rp_registry_t *reg, apr_pool_t *p, const char *file,
                       int line, const char *name);

/* ---- the live profile ---- */

#define RP_MAX_DEPTH 96

typedef struct rp_prof rp_prof_t;

/* Returns the label of a request context met for the first time, e.g.
 * "subrequest /index.html"; called rarely (once per new context). */
typedef const char *(*rp_label_fn)(const void *req, apr_pool_t *p);

/* A profile object is made once and reused for many requests: it owns a
 * pool (given, used by one thread at a time) for its arrays. */
rp_prof_t *rp_prof_create(apr_pool_t *p, const rp_registry_t *reg,
                          rp_label_fn label);

/* Start a request: root frame labelled root_label, opened at t0. */
void rp_prof_begin(rp_prof_t *prof, const void *req, const char *root_label,
                   rp_tick_t t0);

/* The same in two steps, for a caller that builds the root's label
 * anyway: rp_prof_scratch_clear clears the profile's per-request pool
 * (what the last request kept there is gone) and returns it; the label
 * is built there; rp_prof_begin_scratch starts the request with it,
 * neither clearing the pool nor copying the label. */
apr_pool_t *rp_prof_scratch_clear(rp_prof_t *prof);
void rp_prof_begin_scratch(rp_prof_t *prof, const void *req, const char *root_label,
                           rp_tick_t t0);

/* A hook entry (id hook) of phase (id phase, or -1 for none) is called for
 * req. req NULL means a call made on the request's behalf that belongs to
 * no request of its own (a connection-level filter): it nests in whatever
 * frame is open and closes none. Returns a frame handle for rp_prof_exit,
 * or -1 when nothing was recorded (not begun, ended, too deep, unknown
 * id). */
int rp_prof_enter(rp_prof_t *prof, const void *req, int phase, int hook,
                  rp_tick_t now);

/* Like rp_prof_enter for a call that is not a hook of a phase (a filter, a
 * CGI run): the function is dynamic, named by label ("httpd", 0, label
 * unless file is given), nested in whatever frame is open; req NULL as
 * for rp_prof_enter. */
int rp_prof_enter_dynamic(rp_prof_t *prof, const void *req, const char *file,
                          int line, const char *label, rp_tick_t now);

/* The call behind handle returned at now. Frames opened above it and not
 * closed (lazy phase/request frames) are closed first. */
void rp_prof_exit(rp_prof_t *prof, int handle, rp_tick_t now);

/* The request context req is gone (a subrequest destroyed): its frames
 * that are still open lazily no longer match req, so a new request given
 * the same address (allocators reuse it) is a context of its own. */
void rp_prof_forget(rp_prof_t *prof, const void *req);

/* A child of the open frame handle that did not run as a call of its own
 * (the CPU time of a CGI script): an entry (file, line, label) called
 * once with ticks of time, taken from handle's self time (at most what
 * it has had up to now). Logged in the event log (so the aggregate tree
 * has it) but marked, so rp_prof_trace leaves it out: it is no slice of
 * the timeline. Returns the ticks charged. */
rp_tick_t rp_prof_add_child(rp_prof_t *prof, int handle, const char *file,
                            int line, const char *label, rp_tick_t ticks,
                            rp_tick_t now);

/* Close every open frame, the root at now. After this, enter/exit are
 * no-ops until the next rp_prof_begin. */
void rp_prof_end(rp_prof_t *prof, rp_tick_t now);

/* Wall time of the root in ticks (valid after rp_prof_end). */
rp_tick_t rp_prof_root_ticks(const rp_prof_t *prof);

/* Calls that could not be recorded (too deep) in this request. */
long rp_prof_dropped(const rp_prof_t *prof);

/* Non-zero between begin and end. */
int rp_prof_active(const rp_prof_t *prof);

/* The functions of the finished profile, without building rp_stats_t
 * (cheap enough for every request): how many there are, and all their
 * totals read in place (copying nothing, valid until the profile's next
 * request begins), the i-th (0 <= i < n, root first) with its registry
 * id (-1 for the request root, subrequests and redirects), calls, self
 * ticks and cumulative ticks. The totals are folded from the frames'
 * records by the first call after rp_prof_end (this one or
 * rp_prof_stats): before the end they read 0 (rp_prof_self_now is the
 * live view); rp_prof_stats likewise wants an ended profile. */
int rp_prof_nfuncs(const rp_prof_t *prof);
typedef struct rp_prof_fn {
    int id;
    int64_t calls;
    rp_tick_t self, total;
} rp_prof_fn_t;
const rp_prof_fn_t *rp_prof_funcs_view(const rp_prof_t *prof, int *n);

/* Pointers later stages may hang state on per profile object (the
 * aggregate tree's path cache, the last .prof's template), NULL at first;
 * which is 0 .. RP_PROF_NUSER - 1, one per stage. And the object's pool
 * for that state. The object is used by one thread at a time: the state
 * needs no lock, and lives as long as the object. */
#define RP_PROF_NUSER 3
void **rp_prof_user(rp_prof_t *prof, int which);
apr_pool_t *rp_prof_pool(const rp_prof_t *prof);

/* The finished profile in pstats terms, from p; ticks converted with
 * sec_per_tick. Functions are listed in the order they were first met
 * (root first). */
rp_stats_t *rp_prof_stats(const rp_prof_t *prof, apr_pool_t *p,
                          double sec_per_tick);

/* ---- optional: per-frame event log, live snapshot ----
 * Neither costs anything while unused beyond one predictable branch per
 * frame opened and closed. */

/* Log every frame of the following requests (at most max per request;
 * 0 switches the log off). Call before rp_prof_begin. The log is a view
 * of the frame records the profile keeps anyway (every frame, in the
 * order opened, for the accounting): it costs no memory of its own. */
void rp_prof_set_event_log(rp_prof_t *prof, int max);

/* The same, but only ever raising the size set for the next request
 * (another user of the log may have asked for more). */
void rp_prof_want_event_log(rp_prof_t *prof, int max);

/* The last request's timeline (after rp_prof_end), from p; times are
 * converted with sec_per_tick. Empty (n = 0) when the log was off. */
rp_trace_t *rp_prof_trace(const rp_prof_t *prof, apr_pool_t *p, double sec_per_tick);

/* The raw event log of the last request (after rp_prof_end), without
 * allocating: how many frames were logged, and the i-th (in the order
 * opened): its local function index (as rp_prof_funcs_view), nesting
 * depth (0: the root) and open/close ticks. Frames past the log's size are
 * not logged (rp_prof_trace's dropped); their time stays in the logged
 * frames that contain them. The aggregate call tree reads this. */
int rp_prof_nevents(const rp_prof_t *prof);

/* All of them at once into out (room for rp_prof_nevents()). */
typedef struct rp_prof_ev {
    int func, depth;
    rp_tick_t t0, t1;
} rp_prof_ev_t;
void rp_prof_events(const rp_prof_t *prof, rp_prof_ev_t *out);
void rp_prof_event(const rp_prof_t *prof, int i, int *func, int *depth,
                   rp_tick_t *t0, rp_tick_t *t1);

/* The same log read in place, copying nothing: the profile's own frame
 * records, n of them (rp_prof_nevents), valid until the next
 * rp_prof_begin. acct marks an rp_prof_add_child entry (accounting, not
 * a moment of the timeline); self is the frame's self ticks, filled in
 * once the request is over (read during the request, it is not). In
 * rp_prof_log_shape's form, the first eight bytes (func, depth, acct)
 * are the frame's place in the request's shape. */
typedef struct rp_prof_rec {
    int func;
    int16_t depth;
    int16_t acct;
    rp_tick_t t0, t1;    /* t1 = t0 while open */
    rp_tick_t self;      /* rp_prof_log fills it in after the end */
} rp_prof_rec_t;
const rp_prof_rec_t *rp_prof_log(const rp_prof_t *prof, int *n);

/* The same records, their self not filled in (a pass over them that
 * rp_prof_log makes once): for readers of func, depth, t0 and t1 only. */
const rp_prof_rec_t *rp_prof_log_ticks(const rp_prof_t *prof, int *n);

/* The same records in the request's shape form: func is not a local
 * function but the registry id, or for a dynamic function (the request,
 * a subrequest, a CGI script) a negative number, -1 - its local function.
 * A registry function keeps its number for as long as the registry
 * lives, so two requests of one shape have equal first eight bytes in
 * every record; that is what the aggregate tree's path cache and the
 * status page's shapes key on, and it is how the profile writes them
 * (it looks up no function while calls run). Valid until any other
 * reader of this profile is called (they turn func back into local
 * functions, in place); self is not filled in. */
const rp_prof_rec_t *rp_prof_log_shape(rp_prof_t *prof, int *n);

/* Non-zero when that log holds every frame of the request (the log was
 * on, and large enough). */
int rp_prof_log_whole(const rp_prof_t *prof);

/* cProfile's outermost rule over n frames in that log's form, for those
 * who sum a log's ticks themselves: flags[i] has RP_PROF_FN_OUTER when no
 * ancestor of frame i is of its function (its ticks are then its
 * function's cumulative time), RP_PROF_EDGE_OUTER when no ancestor and
 * its parent make the same edge (the same for the edge from its caller);
 * caller[i] (when caller is not NULL) is the function of its parent
 * frame, -1 at depth 0. A frame's ancestors are the latest frames before
 * it of each smaller depth, as rp_prof's own accounting takes them.
 * Returns -1 (flags unfinished) when a depth is outside 0 ..
 * RP_MAX_DEPTH - 1. */
#define RP_PROF_FN_OUTER 1
#define RP_PROF_EDGE_OUTER 2
int rp_prof_outer(const rp_prof_rec_t *log, int n, unsigned char *flags, int *caller);

/* The registry id of every local function (-1: dynamic), in place:
 * one int array, *nf of them (rp_prof_nfuncs()). */
const int *rp_prof_ids(const rp_prof_t *prof, int *nf);

/* (rp_prof_nfuncs, above: functions met so far in the current request,
 * local indexes 0 .. n-1, the same indexes rp_prof_stats() lists them by.) */

/* The key of local function i. */
void rp_prof_func_key(const rp_prof_t *prof, int i, const char **file,
                      int *line, const char **name);

/* Self ticks of every function so far, the frames still open counted up
 * to now; out needs rp_prof_nfuncs() slots. Returns the root's ticks so
 * far (0 when no request is active). */
rp_tick_t rp_prof_self_now(const rp_prof_t *prof, rp_tick_t now, rp_tick_t *out);

/* ---- optional: the open frames mirrored for another process ----
 * The status page's in-flight table shows where a running request is.
 * While a mirror is set, each frame opened stores one code at its depth
 * and the depth word follows the stack: plain stores into memory the
 * request's thread owns (another process reads it, tolerating a torn
 * view), no lock. A static function (registry id i < nidmap) stores
 * idmap[i] (negative: not shown) or RP_MIRROR_NONE beyond nidmap; a
 * dynamic one (the request, a subrequest, a CGI script, a backend)
 * stores RP_MIRROR_DYN and copies its name, "file:line(name)"
 * (just the name for "httpd", 0), cut to dyn_len - 1 bytes, into
 * dyn + depth * dyn_len. Frames deeper than cap are counted only.
 * An idmap covering the registry's capacity (nidmap >= its cap) is used
 * in place; a shorter one is copied, padded, into the profile on every
 * rp_prof_set_mirror (push reads idmap[id] with no bound check). */
#define RP_MIRROR_DYN  (-2147483647 - 1)   /* INT32_MIN */
#define RP_MIRROR_NONE (-2)     /* a static function idmap does not cover */

typedef struct rp_prof_mirror {
    volatile int32_t *depth;    /* open frames, including those past cap */
    int32_t *code;              /* [cap] */
    char *dyn;                  /* [cap][dyn_len] */
    int cap, dyn_len;
    const int *idmap;
    int nidmap;
} rp_prof_mirror_t;

/* Mirror the following frames into m (NULL: stop). What m points to
 * must stay valid until the mirror is replaced or stopped (m itself is
 * copied). Sets *m->depth to the current depth. */
void rp_prof_set_mirror(rp_prof_t *prof, const rp_prof_mirror_t *m);

#endif
