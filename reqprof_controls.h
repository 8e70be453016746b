/*
 * reqprof_controls.h - production controls: which requests are profiled
 * (ProfileSampleRate, ProfileTrigger), which leave files and reports
 * (ProfileMinDuration).
 *
 * How they compose (README "Choosing requests"):
 *   1. At the request's start (first timed hook): a header or cookie
 *      trigger that matches selects the request. Otherwise one uniform
 *      32-bit draw is made; the request is profiled when the draw is below
 *      the largest rate any scope of its virtual host could apply (or
 *      when an env trigger is configured, which can only be read later).
 *   2. At the end, with the final per-directory config: a triggered
 *      request (header, cookie, or an env trigger's variable now set) is
 *      kept; any other is kept when the same draw is below its own
 *      scope's ProfileSampleRate. The default rate is 1, or 0 when the
 *      server has triggers: with triggers configured, only triggered
 *      requests are profiled unless ProfileSampleRate is set too.
 *   3. A kept request writes files and error-log reports only when its
 *      wall time is at least ProfileMinDuration.
 */
#ifndef REQPROF_CONTROLS_H
#define REQPROF_CONTROLS_H

#include "httpd.h"
#include "reqprof_config.h"
#include "rp_prof.h"

/* What sampling and triggers decided when the request started; the
 * request's state (reqprof_state.h) keeps it. */
typedef struct reqprof_ctl {
    apr_uint32_t draw;              /* uniform sampling draw */
    int triggered;                  /* a header/cookie trigger matched */
} reqprof_ctl_t;

/* Request start: 0 when the request is not to be profiled; else fills
 * ctl. Cheap: one PRNG step and, with header/cookie triggers, a table
 * lookup and a constant-time compare each. */
int reqprof_ctl_begin(request_rec *top, const reqprof_srv_t *sc, reqprof_ctl_t *ctl);

/* Is this profiled request (decided ctl at its start) selected by
 * sampling/triggers, judged with its final per-directory config dc? */
int reqprof_ctl_selected(request_rec *top, const reqprof_ctl_t *ctl,
                         const reqprof_dir_t *dc, const reqprof_srv_t *sc);

/* After rp_prof_end: is the request whose profile is prof slow enough
 * for files and reports? */
int reqprof_ctl_slow_enough(const rp_prof_t *prof, const reqprof_dir_t *dc);

/* post_config: per-server start thresholds. */
int reqprof_ctl_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* child_init: seed this child's random numbers. */
void reqprof_ctl_child_init(apr_pool_t *pchild, server_rec *s);

#endif
