/*
 * rp_trace.h - a request's timeline: every frame the profile opened
 * (request, phase, hook entry, filter call), with when it started and how
 * long it lasted. Built by rp_prof_trace() when the optional event log was
 * on; read by the Chrome trace writer. APR only.
 */
#ifndef RP_TRACE_H
#define RP_TRACE_H

typedef struct rp_trace_ev {
    int func;           /* index into the rp_stats_t funcs of the same profile */
    int depth;          /* nesting depth, 0 for the request's root */
    double ts;          /* start, microseconds after the root started */
    double dur;         /* duration in microseconds (>= 0) */
} rp_trace_ev_t;

typedef struct rp_trace {
    int n;              /* events, in the order frames were opened */
    rp_trace_ev_t *ev;
    long dropped;       /* frames not logged: the log was full */
} rp_trace_t;

#endif
