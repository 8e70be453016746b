/*
 * reqprof_request.h - per-request profiling state: when a request is
 * profiled, where its live profile is, and what happens when it ends
 * (pstats file, error-log report).
 */
#ifndef REQPROF_REQUEST_H
#define REQPROF_REQUEST_H

#include "httpd.h"
#include "http_config.h"
#include "rp_prof.h"

extern module AP_MODULE_DECLARE_DATA reqprof_module;

/* What the production controls decided when the request started
 * (reqprof_controls.c). */
typedef struct reqprof_ctl {
    apr_uint32_t draw;              /* uniform sampling draw */
    int triggered;                  /* a header/cookie trigger matched */
} reqprof_ctl_t;

/* A reusable profile object. It is never freed while the child lives, so
 * a trampoline whose call outlived its request (the request pool destroyed
 * inside a filter, design.md section 3) can still read gen safely and
 * learn that its request is gone. */
typedef struct reqprof_state {
    rp_prof_t *prof;
    volatile unsigned gen;          /* bumped each time the object is released */
    int inflight;                   /* timed calls running with this object */
    int zombie;                     /* released while calls were in flight */
    request_rec *r;                 /* the top request while in use */
    const char *path;               /* the path the client asked for, decoded */
    reqprof_ctl_t ctl;              /* sampling and trigger decisions */
    struct reqprof_state *next;     /* free list / all list */
} reqprof_state_t;

/* Stored in request_config for requests decided not to be profiled. */
extern reqprof_state_t reqprof_off;

reqprof_state_t *reqprof_state_begin(request_rec *top);

/* The profiling state of r's request, or NULL. The first call for a
 * request decides (reqprof_state_begin); later ones are two loads. */
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

static APR_INLINE reqprof_state_t *reqprof_state(request_rec *r)
{
    reqprof_state_t *st;
    r = reqprof_top(r);
    if (!r->request_config)     /* fake requests some modules build */
        return NULL;
    st = ap_get_module_config(r->request_config, &reqprof_module);
    if (st == NULL)
        st = reqprof_state_begin(r);
    return st == &reqprof_off ? NULL : st;
}

/* A timed call that saw its request end (gen changed) while it ran has
 * returned: once no call is in flight the object can be reused. Only the
 * thread running the request touches these counters. */
void reqprof_state_recycle(reqprof_state_t *st);

static APR_INLINE void reqprof_call_done(reqprof_state_t *st)
{
    if (--st->inflight == 0 && st->zombie)
        reqprof_state_recycle(st);
}

/* The request's UNIQUE_ID (mod_unique_id), else its error-log id. */
const char *reqprof_request_id(request_rec *r);

/* log_transaction, REALLY_LAST: close the profile and write it out. */
int reqprof_request_finish(request_rec *r);

/* child_init: the per-child pool of profile objects. */
void reqprof_request_child_init(apr_pool_t *pchild, server_rec *s);

/* This child's pid, set in child_init: getpid() is a system call. */
extern long reqprof_pid;

/* The "reqprof-selftime" handler: ns per wrapped call, measured here. */
int reqprof_selftime_handler(request_rec *r);

#endif
