/*
 * mod_reqprof_late.c - test-only module: registers a fixups hook from
 * post_config, after httpd sorted the hooks, the way some third-party
 * modules do. mod_reqprof must still time it (its child_init re-scan) and
 * must name it after this module, though the entry's szName is whatever
 * module registered last.
 *
 * It also has a handler, "reqprof-late", that adds an output filter whose
 * name appears nowhere in the configuration (REQPROF_LATE_OUT) at run
 * time: mod_reqprof must find and time it in that same request.
 * Its handler "reqprof-late-mid" adds that one and REQPROF_LATE_MID, a
 * protocol-level filter that lands below the chain's head of before: the
 * walk when the handler returns stops at that old head, and the filter
 * above the new one must time it before passing to it (next_check).
 * Its handler "reqprof-late-adder" adds REQPROF_LATE_ADDER, a content
 * filter that on its first call adds REQPROF_LATE_PROTO, a filter of
 * the type just above httpd's protocol filters: with ProfileServerTiming
 * On that one lands right below
 * mod_reqprof's own REQPROF_SERVER_TIMING, which must time it before
 * passing to it (reqprof_filters_pass_check). With "?warm" the handler
 * adds nothing.
 * Built by the integration tests; never installed.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "http_protocol.h"
#include "util_filter.h"
#include "apr_buckets.h"

static int late_fixups(request_rec *r)
{
    if (r->uri && !strcmp(r->uri, "/static.txt"))
        apr_table_setn(r->headers_out, "X-Late-Fixups", "ran");
    return DECLINED;
}

/* Waits 20 ms when the response ends, so its time is visible. */
static apr_status_t late_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    if (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb)))
        apr_sleep(apr_time_from_msec(20));
    return ap_pass_brigade(f->next, bb);
}

/* The same 20 ms, in a filter of its own. */
static apr_status_t late_mid(ap_filter_t *f, apr_bucket_brigade *bb)
{
    if (!APR_BRIGADE_EMPTY(bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb)))
        apr_sleep(apr_time_from_msec(20));
    return ap_pass_brigade(f->next, bb);
}

/* 20 ms in its first call of each request (REQPROF_LATE_PROTO): the call
 * that follows its being added, which only the filter above can time. */
static apr_status_t late_proto(ap_filter_t *f, apr_bucket_brigade *bb)
{
    if (!f->ctx) {
        f->ctx = f;
        apr_sleep(apr_time_from_msec(20));
    }
    return ap_pass_brigade(f->next, bb);
}

/* Adds REQPROF_LATE_PROTO below itself when it first runs, then passes. */
static apr_status_t late_adder(ap_filter_t *f, apr_bucket_brigade *bb)
{
    if (!f->ctx) {
        f->ctx = f;
        ap_add_output_filter("REQPROF_LATE_PROTO", NULL, f->r, f->c);
    }
    return ap_pass_brigade(f->next, bb);
}

static int late_handler(request_rec *r)
{
    int mid = r->handler && !strcmp(r->handler, "reqprof-late-mid");
    int adder = r->handler && !strcmp(r->handler, "reqprof-late-adder");
    if (!r->handler || (strcmp(r->handler, "reqprof-late") && !mid && !adder))
        return DECLINED;
    if (adder) {
        if (!r->args || strcmp(r->args, "warm"))
            ap_add_output_filter("REQPROF_LATE_ADDER", NULL, r, r->connection);
        ap_set_content_type(r, "text/plain");
        ap_rputs("late filter\n", r);
        return OK;
    }
    if (mid)
        ap_add_output_filter("REQPROF_LATE_MID", NULL, r, r->connection);
    ap_add_output_filter("REQPROF_LATE_OUT", NULL, r, r->connection);
    ap_set_content_type(r, "text/plain");
    ap_rputs("late filter\n", r);
    return OK;
}

static int late_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)plog; (void)ptemp; (void)s;
    ap_hook_fixups(late_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    return OK;
}

static void late_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_post_config(late_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_handler(late_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter("REQPROF_LATE_OUT", late_out, NULL, AP_FTYPE_RESOURCE);
    /* After httpd's own protocol filters (BYTERANGE ... HTTP_OUTERROR),
     * before the connection's. */
    ap_register_output_filter("REQPROF_LATE_MID", late_mid, NULL,
                              (ap_filter_type)(AP_FTYPE_PROTOCOL + 5));
    ap_register_output_filter("REQPROF_LATE_ADDER", late_adder, NULL, AP_FTYPE_RESOURCE);
    /* Of REQPROF_SERVER_TIMING's type (AP_FTYPE_PROTOCOL - 1): httpd puts
     * a filter after those of its type already in the chain, so right
     * below ours. */
    ap_register_output_filter("REQPROF_LATE_PROTO", late_proto, NULL,
                              (ap_filter_type)(AP_FTYPE_PROTOCOL - 1));
}

AP_DECLARE_MODULE(reqprof_late) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL,
    late_register_hooks, 0
};
