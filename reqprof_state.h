/*
 * reqprof_state.h - per-request profiling state: whether a request is
 * profiled, where its live profile is, the per-child pool of profile
 * objects, and the request's ids (reqprof_state.c). Below everything that
 * times calls; what happens when a request ends is reqprof_request.c.
 */
#ifndef REQPROF_STATE_H
#define REQPROF_STATE_H

#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "apr_thread_mutex.h"
#include "rp_prof.h"
#include "reqprof_controls.h"

extern module AP_MODULE_DECLARE_DATA reqprof_module;
/* reqprof_module under a hidden alias (mod_reqprof.c), for the hot path. */
extern module reqprof_module_local __attribute__((visibility("hidden")));

/* A reusable profile object. It is never freed while the child lives, so
 * a trampoline whose call outlived its request (the request pool destroyed
 * inside a filter, design.md section 3) can still read gen safely and
 * learn that its request is gone. */
typedef struct reqprof_state {
    rp_prof_t *prof;
    volatile unsigned gen;          /* bumped each time the object is released */
    /* References: the request's own from begin to release, and one per
     * timed call running with this object; the last one given back
     * returns the object to the free list (reqprof_call_done). */
    int refs;
    request_rec *r;                 /* the top request while in use */
    const char *path;               /* the path the client asked for, decoded */
    int path_clean;                 /* its length when it is printable ASCII
                                     * of at most LABEL_MAX bytes (rp_utf8_view
                                     * gave it back as it is), else -1 */
    reqprof_ctl_t ctl;              /* sampling and trigger decisions */
    /* Heads of the last filter chains checked for filters not yet timed
     * (reqprof_filters.c): a chain whose head moved is walked again. */
    const void *seen_out, *seen_in;
    void *cgi;                      /* the CGI run whose handler is running */
    void *inflight;                 /* the request's in-flight record, NULL
                                     * for none (reqprof_status.c) */
    struct reqprof_state *next;     /* free list */
    /* Counts the status page and the aggregate tree have not been given
     * yet (reqprof_batch.c): batch_lock guards them (the request's thread
     * and the child's flusher take it), batch_since is when the oldest
     * came (0: none), batching how the request now ending counts. */
    apr_thread_mutex_t *batch_lock;
    apr_time_t batch_since;
    int batching;                   /* REQPROF_BATCH_* */
    struct reqprof_state *all_next; /* every object of the child */
} reqprof_state_t;

/* How a request's counts reach the status page and the aggregate tree. */
#define REQPROF_BATCH_OFF  0    /* at once (ProfileStatusFlush 0) */
#define REQPROF_BATCH_ON   1    /* into the object's batch, lock held */
#define REQPROF_BATCH_BUSY 2    /* at once, not touching the batch: the
                                 * flusher holds it this moment */

/* What the stages above keep per profile object (rp_prof_user). */
#define REQPROF_USER_TREE 0     /* reqprof_tree.c: the path cache */
#define REQPROF_USER_PSTATS 1   /* reqprof_output.c: the last .prof */
#define REQPROF_USER_AGG 2      /* reqprof_status.c: the batched counts */

/* Stored in request_config for requests decided not to be profiled. */
extern reqprof_state_t reqprof_off __attribute__((visibility("hidden")));

/* The first timed call of a request: decide whether it is profiled
 * (sampling and triggers, reqprof_controls.c) and, if so, take a profile
 * object and open the root frame. Returns the state, or &reqprof_off. */
reqprof_state_t *reqprof_state_begin(request_rec *top);

/* r's handler is name. Most handlers differ from ours in the first byte,
 * which spares the strcmp: every request asks several times (our own
 * handlers, the status page's count and tree, mod_cgi's entry). */
static APR_INLINE int reqprof_handler_is(const request_rec *r, const char *name)
{
    return r->handler && r->handler[0] == name[0] && strcmp(r->handler, name) == 0;
}

/* The request the client sent: subrequests and internal redirects all
 * lead back to it through r->main and r->prev. */
static APR_INLINE request_rec *reqprof_top(request_rec *r)
{
    for (;;) {
        if (r->main)
            r = r->main;
        else if (r->prev)
            r = r->prev;
        else
            return r;
    }
}

/* The profiling state of r's request, or NULL. The first call for a
 * request decides (reqprof_state_begin); later ones are two loads. */
static APR_INLINE reqprof_state_t *reqprof_state(request_rec *r)
{
    reqprof_state_t *st;
    r = reqprof_top(r);
    if (!r->request_config)     /* fake requests some modules build */
        return NULL;
    st = ap_get_module_config(r->request_config, &reqprof_module_local);
    if (st == NULL)
        st = reqprof_state_begin(r);
    return st == &reqprof_off ? NULL : st;
}

/* Back to the free list, the last reference given back. */
void reqprof_state_recycle(reqprof_state_t *st);

/* A timed call has returned and gives its reference back: the last one
 * (the request ended while the call ran) makes the object reusable. One
 * decrement and one branch a call, where an in-flight count and a flag
 * took two tests. Only the thread running the request touches refs. */
static APR_INLINE void reqprof_call_done(reqprof_state_t *st)
{
    if (--st->refs == 0)
        reqprof_state_recycle(st);
}

/* The request's UNIQUE_ID (mod_unique_id), else its error-log id. */
const char *reqprof_request_id(request_rec *r);

/* The trace id / span id (parent-id) of the W3C traceparent header the
 * request arrived with, when it is valid; else NULL. */
const char *reqprof_trace_id(request_rec *r);
const char *reqprof_span_id(request_rec *r);

/* The request is over (reqprof_request_finish): the state is taken out
 * of top's request_config and given back (at once, or when the last timed
 * call still running with it returns). */
void reqprof_state_end(request_rec *top, reqprof_state_t *st);

/* Told of each request start in a virtual host with ProfileEngine On in
 * some scope: st is its profile, NULL when it is not profiled. */
typedef void (*reqprof_state_begin_fn)(request_rec *top, reqprof_state_t *st);

/* child_init: the per-child pool of profile objects over this
 * generation's registry (NULL: nothing is timed, no request is
 * profiled); each profile keeps an event log of tree_events frames (the
 * aggregate call tree's need, 0: none); on_begin (may be NULL) is told of
 * each request start. */
void reqprof_state_child_init(apr_pool_t *pchild, server_rec *s,
                              const rp_registry_t *registry, int tree_events,
                              reqprof_state_begin_fn on_begin);

/* Every profile object of this child, newest first (the list only
 * grows; an object's all_next never changes): for the flusher. */
reqprof_state_t *reqprof_state_all(void);

/* Profile objects made from now on get a batch lock (threaded or not:
 * the flusher is a thread of its own; an object whose lock could not be
 * made counts at once). Call in child_init, before any request. */
void reqprof_state_want_batch(void);

/* This child's pid, set in child_init: getpid() is a system call. */
extern long reqprof_pid;

#endif
