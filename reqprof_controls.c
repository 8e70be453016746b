/*
 * reqprof_controls.c - which requests are profiled and kept
 * (ProfileSampleRate, ProfileTrigger, ProfileMinDuration). The rules are in
 * reqprof_controls.h and the README ("Choosing requests").
 *
 * Sampling draws from a per-thread xorshift64* generator, seeded per child
 * from apr_generate_random_bytes and per thread from a counter mixed by
 * splitmix64: no lock, no shared state on the request path, and children
 * forked from one parent do not repeat each other's draws.
 */
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_atomic.h"
#include "apr_general.h"
#include "apr_strings.h"

#include "rp_clock.h"
#include "rp_parse.h"
#include "rp_trigger.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"

APLOG_USE_MODULE(reqprof);


/* ------------------------------------------------------------ sampling */

static apr_uint64_t child_seed;
static apr_uint32_t thread_seq;
static __thread apr_uint64_t rng_state __attribute__((tls_model("initial-exec")));

static apr_uint64_t splitmix64(apr_uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A uniform 32-bit number (the high half of xorshift64*). */
static apr_uint32_t draw32(void)
{
    apr_uint64_t x = rng_state;
    if (x == 0) {
        x = splitmix64(child_seed + apr_atomic_inc32(&thread_seq));
        if (x == 0)
            x = 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return (apr_uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

void reqprof_ctl_child_init(apr_pool_t *pchild, server_rec *s)
{
    unsigned char b[8];
    int i;
    (void)pchild;
    if (apr_generate_random_bytes(b, sizeof b) == APR_SUCCESS) {
        child_seed = 0;
        for (i = 0; i < 8; i++)
            child_seed = (child_seed << 8) | b[i];
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "RP0300: no random bytes "
                     "for sampling: seeding from the pid and the time");
        child_seed = splitmix64((apr_uint64_t)getpid() ^ (apr_uint64_t)apr_time_now());
    }
    thread_seq = 0;
    rng_state = 0;
}

/* --------------------------------------------------------- the decision */

/* The rate for requests no trigger selected: the scope's ProfileSampleRate,
 * else everything, or nothing when the server has triggers. */
static double untriggered_rate(const reqprof_dir_t *dc, const reqprof_srv_t *sc)
{
    if (dc && dc->sample_rate >= 0)
        return dc->sample_rate;
    return sc->triggers ? 0.0 : 1.0;
}

/* Header and cookie triggers: the request as it arrived. The trigger
 * header and cookie are then taken out of the request, so CGI scripts,
 * proxied backends, access logs and httpd's own trace logging of request
 * headers never see the token. */
static int header_triggered(request_rec *r, const reqprof_srv_t *sc)
{
    int i, hit = 0;
    for (i = 0; i < sc->triggers->nelts; i++) {
        const reqprof_trigger_t *t = &APR_ARRAY_IDX(sc->triggers, i, reqprof_trigger_t);
        if (t->kind == REQPROF_TRIG_HEADER) {
            const char *v = apr_table_get(r->headers_in, t->name);
            if (v) {
                hit |= rp_ct_equal(v, strlen(v), t->token, t->token_len);
                apr_table_unset(r->headers_in, t->name);
            }
        }
        else if (t->kind == REQPROF_TRIG_TRACEPARENT) {
            /* Left in the request: it must reach the backends. A
             * malformed value is no ask at all, never an error. */
            rp_traceparent_t tp;
            if (rp_traceparent_parse(apr_table_get(r->headers_in, "traceparent"), &tp)
                && (tp.flags & 1))
                hit = 1;
        }
        else if (t->kind == REQPROF_TRIG_COOKIE) {
            const char *c = apr_table_get(r->headers_in, "Cookie"), *rest;
            if (c) {
                hit |= rp_cookie_matches(c, t->name, t->token, t->token_len);
                if (!(rest = rp_cookie_strip(r->pool, c, t->name)))
                    apr_table_unset(r->headers_in, "Cookie");
                else if (rest != c)
                    apr_table_setn(r->headers_in, "Cookie", rest);
            }
        }
    }
    return hit;
}

/* Env triggers: set by SetEnvIf, mod_rewrite [E=], SetEnv... on the
 * request or, after an internal redirect, on the request that answered. */
static int env_triggered(request_rec *top, const reqprof_srv_t *sc)
{
    request_rec *last = top;
    int i;
    while (last->next)
        last = last->next;
    for (i = 0; i < sc->triggers->nelts; i++) {
        const reqprof_trigger_t *t = &APR_ARRAY_IDX(sc->triggers, i, reqprof_trigger_t);
        if (t->kind == REQPROF_TRIG_ENV
            && (apr_table_get(top->subprocess_env, t->name)
                || apr_table_get(last->subprocess_env, t->name)))
            return 1;
    }
    return 0;
}

int reqprof_ctl_begin(request_rec *top, const reqprof_srv_t *sc, reqprof_ctl_t *ctl)
{
    ctl->draw = draw32();
    ctl->triggered = sc->triggers && header_triggered(top, sc);
    /* An env trigger is only known later: profile, decide at the end. */
    return ctl->triggered || sc->env_triggers || ctl->draw < sc->begin_threshold;
}

int reqprof_ctl_selected(request_rec *top, const reqprof_ctl_t *ctl,
                         const reqprof_dir_t *dc, const reqprof_srv_t *sc)
{
    if (ctl->triggered || (sc->env_triggers && env_triggered(top, sc)))
        return 1;
    return ctl->draw < rp_rate_threshold(untriggered_rate(dc, sc));
}

int reqprof_ctl_slow_enough(const rp_prof_t *prof, const reqprof_dir_t *dc)
{
    double us;
    if (!dc || dc->min_duration <= 0)
        return 1;
    us = rp_clock_seconds(rp_prof_root_ticks(prof)) * 1e6;
    return us >= (double)dc->min_duration;
}

int reqprof_ctl_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    server_rec *v;
    for (v = s; v; v = v->next) {
        reqprof_srv_t *sc = ap_get_module_config(v->module_config, &reqprof_module);
        const reqprof_dir_t *ld = ap_get_module_config(v->lookup_defaults, &reqprof_module);
        double max = untriggered_rate(ld, sc);
        if (sc->rate_sections_max > max)
            max = sc->rate_sections_max;
        sc->begin_threshold = rp_rate_threshold(max);
    }
    (void)pconf;
    (void)ptemp;
    return OK;
}
