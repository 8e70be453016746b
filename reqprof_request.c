/*
 * reqprof_request.c - the end of a request: close its profile, count it
 * on the status page and in the aggregate tree, and for a kept request
 * that is slow enough hand it to the file writers and print the
 * error-log report. Above every other unit but mod_reqprof.c.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"

#include "rp_clock.h"
#include "rp_report.h"
#include "rp_text.h"
#include "reqprof_batch.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"
#include "reqprof_output.h"
#include "reqprof_request.h"
#include "reqprof_state.h"
#include "reqprof_status.h"
#include "reqprof_tree.h"

APLOG_USE_MODULE(reqprof);

/* Keys stay readable and error-log lines short. */
#define LABEL_MAX 256

typedef struct logctx {
    request_rec *r;
    const char *id;
} logctx_t;

static void log_line(void *ctx, const char *line)
{
    const logctx_t *c = ctx;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, c->r, "RP0100: [%s] %s", c->id, line);
}

/* Werkzeug's frame: dashes, PATH: 'path', the pstats block, dashes. */
static void log_report(request_rec *top, reqprof_state_t *st, const rp_stats_t *stats,
                       const reqprof_dir_t *dc)
{
    static const char dashes[] =
        "--------------------------------------------------------------------------------";
    apr_pool_t *p = top->pool;
    rp_report_opts_t o;
    logctx_t c;

    if (!APLOG_R_IS_LEVEL(top, APLOG_NOTICE))
        return;
    c.r = top;
    c.id = reqprof_request_id(top);
    o.sort = reqprof_dir_sort(dc);
    o.restricts = dc->nrestricts > 0 ? dc->restricts : NULL;
    o.nrestricts = dc->nrestricts > 0 ? dc->nrestricts : 0;
    o.match = reqprof_regex_match;
    o.unit = reqprof_dir_unit(dc);
    log_line(&c, dashes);
    log_line(&c, apr_pstrcat(p, "PATH: ",
                             rp_py_repr_str(p, rp_utf8_clean(p, st->path, 4 * LABEL_MAX)),
                             NULL));
    if (reqprof_trace_id(top))
        log_line(&c, apr_pstrcat(p, "TRACE: ", reqprof_trace_id(top), " SPAN: ",
                                 reqprof_span_id(top), NULL));
    rp_report(stats, &o, p, log_line, &c);
    log_line(&c, dashes);
}

int reqprof_request_finish(request_rec *r)
{
    request_rec *top = reqprof_top(r);
    reqprof_state_t *st = ap_get_module_config(top->request_config, &reqprof_module);
    const reqprof_dir_t *dc;
    const reqprof_srv_t *sc;
    uint64_t shape = 0;
    int selected;

    if (!st || st == &reqprof_off) {
        sc = ap_get_module_config(top->server->module_config, &reqprof_module);
        if (sc->engine_anywhere) {          /* else nothing to count or clear */
            reqprof_status_inflight_end(top, NULL);
            reqprof_status_count(top, NULL);    /* not sampled: counted only */
        }
        return DECLINED;
    }
    rp_prof_end(st->prof, rp_clock_now());
    reqprof_status_inflight_end(top, st);
    dc = ap_get_module_config(top->per_dir_config, &reqprof_module);
    sc = ap_get_module_config(top->server->module_config, &reqprof_module);
    /* Sampling and triggers decide whether the request counts as profiled
     * at all (status page included); ProfileMinDuration only whether it
     * leaves files and reports. */
    selected = dc && dc->engine == 1 && reqprof_ctl_selected(top, &st->ctl, dc, sc);
    if (selected) {
        reqprof_shape_t sh;
        apr_time_t now = apr_time_now();    /* one reading for the three */
        reqprof_batch_begin(st);
        /* The tree first: the shape it names spares the page's batch
         * from comparing the request's frames again, and its ticks from
         * reading them again. */
        reqprof_tree_record(top, st->prof, st->batching, now, &sh);
        shape = sh.tag;
        reqprof_status_record(top, st, dc, &sh, now);
        reqprof_batch_end(st, now);
    }
    else
        reqprof_status_count(top, st);
    if (selected && reqprof_ctl_slow_enough(st->prof, dc) && (sc->dir || dc->errorlog == 1)) {
        /* The usual .prof file of a shape met before needs none. */
        rp_stats_t *stats = dc->errorlog == 1 ? rp_prof_stats(st->prof, top->pool,
                                                               rp_clock_sec_per_tick)
                                              : NULL;
        if (sc->dir)
            reqprof_output_write(top, st, stats, sc, shape);
        if (dc->errorlog == 1)
            log_report(top, st, stats, dc);
    }
    reqprof_state_end(top, st);
    return DECLINED;
}
