/*
 * mod_reqprof_late.c - test-only module: registers a fixups hook from
 * post_config, after httpd sorted the hooks, the way some third-party
 * modules do. mod_reqprof must still time it (its child_init re-scan) and
 * must name it after this module, though the entry's szName is whatever
 * module registered last. Built by the integration tests; never installed.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"

static int late_fixups(request_rec *r)
{
    if (r->uri && !strcmp(r->uri, "/static.txt"))
        apr_table_setn(r->headers_out, "X-Late-Fixups", "ran");
    return DECLINED;
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
}

AP_DECLARE_MODULE(reqprof_late) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL,
    late_register_hooks, 0
};
