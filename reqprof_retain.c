/* reqprof_retain.c - placeholder, filled in below. */
#include "httpd.h"
#include "reqprof_config.h"
#include "reqprof_retain.h"

int reqprof_retain_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf; (void)ptemp; (void)s;
    return OK;
}

void reqprof_retain_add(reqprof_retention_t *rt, request_rec *r, const char *path,
                        apr_size_t len)
{
    (void)rt; (void)r; (void)path; (void)len;
}
