/*
 * reqprof_timing.c - the Server-Timing response header
 * (ProfileServerTiming). A filter ahead of every protocol filter adds the
 * header once per request, for a profiled request that sampling and
 * triggers keep (judged with the config of the request that answers).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_filter.h"
#include "apr_strings.h"

#include "rp_clock.h"
#include "rp_servertiming.h"
#include "reqprof_cgi.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"
#include "reqprof_state.h"
#include "reqprof_timing.h"
#include "reqprof_filters.h"

/* Modules named in a Server-Timing header, besides "total". */
#define REQPROF_TIMING_TOP 5

/* "total;dur=12.400, mod_cgid;dur=10.100;desc="handler", ..." from the
 * live profile: the request so far and the modules with the most self
 * time, each with its busiest hook. */
static const char *timing_value(request_rec *r, reqprof_state_t *st)
{
    apr_pool_t *p = r->pool;
    int n = rp_prof_nfuncs(st->prof), i;
    rp_tick_t *self = apr_palloc(p, sizeof(rp_tick_t) * (apr_size_t)(n + 1));
    rp_servertiming_t *mods = rp_servertiming_make(p, n);
    rp_tick_t total = rp_prof_self_now(st->prof, rp_clock_now(), self);

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
        rp_servertiming_add(mods, file, name, self[i]);
    }
    return rp_servertiming_value(p, mods, total, rp_clock_sec_per_tick,
                                 REQPROF_TIMING_TOP);
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
        if (dc && dc->engine == 1 && reqprof_ctl_selected(top, &st->ctl, dc, sc))
            apr_table_mergen(r->headers_out, "Server-Timing", timing_value(r, st));
    }
    reqprof_filters_pass_check(f);
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

void reqprof_timing_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* Ahead of every AP_FTYPE_PROTOCOL filter, HTTP_HEADER included. */
    timing_frec = ap_register_output_filter("REQPROF_SERVER_TIMING", timing_filter,
                                            NULL, AP_FTYPE_PROTOCOL - 1);
    ap_hook_insert_filter(insert_timing, NULL, NULL, APR_HOOK_LAST);
    ap_hook_insert_error_filter(insert_timing, NULL, NULL, APR_HOOK_LAST);
}
