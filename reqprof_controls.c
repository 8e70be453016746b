/*
 * reqprof_controls.c - which requests are profiled and kept
 * (ProfileSampleRate, ProfileTrigger, ProfileMinDuration) and the
 * Server-Timing response header (ProfileServerTiming). The rules are in
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
#include "util_filter.h"
#include "apr_atomic.h"
#include "apr_general.h"
#include "apr_lib.h"
#include "apr_strings.h"

#include "rp_clock.h"
#include "rp_parse.h"
#include "rp_trigger.h"
#include "reqprof_config.h"
#include "reqprof_cgi.h"
#include "reqprof_controls.h"
#include "reqprof_output.h"
#include "reqprof_request.h"

APLOG_USE_MODULE(reqprof);

/* Frames logged per request when a timeline (chrome) is written. */
#define EVENT_LOG_MAX 20000
/* Modules named in a Server-Timing header, besides "total". */
#define TIMING_TOP 5

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

void reqprof_ctl_attach(reqprof_state_t *st, const reqprof_ctl_t *ctl,
                        const reqprof_srv_t *sc)
{
    st->ctl = *ctl;
    rp_prof_set_event_log(st->prof, (sc->formats & REQPROF_FMT_CHROME) && sc->dir
                                    ? EVENT_LOG_MAX : 0);
}

int reqprof_ctl_selected(request_rec *top, const reqprof_state_t *st,
                         const reqprof_dir_t *dc, const reqprof_srv_t *sc)
{
    if (st->ctl.triggered || (sc->env_triggers && env_triggered(top, sc)))
        return 1;
    return st->ctl.draw < rp_rate_threshold(untriggered_rate(dc, sc));
}

int reqprof_ctl_slow_enough(const reqprof_state_t *st, const reqprof_dir_t *dc)
{
    double us;
    if (!dc || dc->min_duration <= 0)
        return 1;
    us = rp_clock_seconds(rp_prof_root_ticks(st->prof)) * 1e6;
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
    return reqprof_output_post_config(pconf, ptemp, s);
}

/* ------------------------------------------------------- Server-Timing */

/* A metric name is an HTTP token: module files lose ".c", anything outside
 * tchar becomes '_'. */
static const char *timing_token(apr_pool_t *p, const char *file)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    apr_size_t n = strlen(file);
    char *t, *c;
    if (n > 2 && !strcmp(file + n - 2, ".c"))
        n -= 2;
    t = apr_pstrndup(p, file, n ? n : 1);
    if (!n)
        t[0] = '_';
    for (c = t; *c; c++)
        if (!apr_isalnum(*c) && !strchr(tchar, *c))
            *c = '_';
    return t;
}

/* A quoted-string for desc: hook names are plain, but keep it safe. */
static const char *timing_quoted(apr_pool_t *p, const char *s)
{
    char *q = apr_palloc(p, strlen(s) * 2 + 3), *o = q;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            continue;
        if (c == '"' || c == '\\')
            *o++ = '\\';
        *o++ = (char)c;
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

typedef struct modtime {
    const char *file;
    const char *top_hook;      /* the module's hook with the most self time */
    rp_tick_t top_ticks;
    rp_tick_t ticks;
} modtime_t;

/* "total;dur=12.400, mod_cgid;dur=10.100;desc="handler", ..." from the
 * live profile: the request so far and the modules with the most self
 * time, each with its busiest hook. */
static const char *timing_value(request_rec *r, reqprof_state_t *st)
{
    apr_pool_t *p = r->pool;
    int n = rp_prof_nfuncs(st->prof), i, j, nm = 0;
    rp_tick_t *self = apr_palloc(p, sizeof(rp_tick_t) * (apr_size_t)(n + 1));
    modtime_t *mods = apr_pcalloc(p, sizeof(modtime_t) * (apr_size_t)(n + 1));
    rp_tick_t total = rp_prof_self_now(st->prof, rp_clock_now(), self);
    char *out = apr_psprintf(p, "total;dur=%.3f", rp_clock_seconds(total) * 1e3);

    for (i = 0; i < n; i++) {
        const char *file, *name;
        int line;
        rp_prof_func_key(st->prof, i, &file, &line, &name);
        if (!strcmp(file, "httpd") || self[i] == 0)
            continue;                      /* root, phases, subrequests */
        if (reqprof_cgi_run_key(file, name)) {
            /* a CGI run is its module's handler time; its path stays private */
            file = reqprof_cgi_handler_file();
            name = "handler";
        }
        for (j = 0; j < nm && strcmp(mods[j].file, file); j++)
            ;
        if (j == nm) {
            mods[nm].file = file;
            nm++;
        }
        mods[j].ticks += self[i];
        if (self[i] > mods[j].top_ticks) {
            mods[j].top_ticks = self[i];
            mods[j].top_hook = name;
        }
    }
    for (i = 0; i < TIMING_TOP && i < nm; i++) {
        int best = i;
        modtime_t tmp;
        for (j = i + 1; j < nm; j++)
            if (mods[j].ticks > mods[best].ticks)
                best = j;
        tmp = mods[i];
        mods[i] = mods[best];
        mods[best] = tmp;
        out = apr_psprintf(p, "%s, %s;dur=%.3f;desc=%s", out,
                           timing_token(p, mods[i].file),
                           rp_clock_seconds(mods[i].ticks) * 1e3,
                           timing_quoted(p, mods[i].top_hook));
    }
    return out;
}

static apr_status_t timing_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    reqprof_state_t *st = reqprof_state(r);

    ap_remove_output_filter(f);
    /* insert_filter and insert_error_filter may both have added us. */
    if (st && rp_prof_active(st->prof) && !apr_table_get(r->notes, "reqprof-timing")) {
        request_rec *top = reqprof_top(r);
        const reqprof_srv_t *sc = ap_get_module_config(top->server->module_config,
                                                       &reqprof_module);
        /* Judged with the config of the request that answers. */
        const reqprof_dir_t *dc = ap_get_module_config(r->per_dir_config, &reqprof_module);
        apr_table_setn(r->notes, "reqprof-timing", "1");
        if (dc && dc->engine == 1 && reqprof_ctl_selected(top, st, dc, sc))
            apr_table_mergen(r->headers_out, "Server-Timing", timing_value(r, st));
    }
    return ap_pass_brigade(f->next, bb);
}

static ap_filter_rec_t *timing_frec;

static void insert_timing(request_rec *r)
{
    const reqprof_dir_t *dc;
    if (r->main)
        return;                         /* subrequests send no headers */
    dc = ap_get_module_config(r->per_dir_config, &reqprof_module);
    if (dc && dc->server_timing == 1 && reqprof_state(r))
        ap_add_output_filter_handle(timing_frec, NULL, r, r->connection);
}

void reqprof_ctl_register_hooks(apr_pool_t *p)
{
    static const char *const before_logging[] = { "mod_log_config.c", NULL };
    (void)p;
    ap_hook_log_transaction(reqprof_output_reserve, NULL, before_logging,
                            APR_HOOK_FIRST);
    /* Ahead of every AP_FTYPE_PROTOCOL filter, HTTP_HEADER included. */
    timing_frec = ap_register_output_filter("REQPROF_SERVER_TIMING", timing_filter,
                                            NULL, AP_FTYPE_PROTOCOL - 1);
    ap_hook_insert_filter(insert_timing, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_error_filter(insert_timing, NULL, NULL, APR_HOOK_LAST);
}
