/*
 * rp_noshm.c - LD_PRELOAD shim for the fault tests: when RP_NOSHM is set,
 * apr_shm_create() fails with ENOMEM for calls made from mod_reqprof
 * (the status page's region, the ProfileMaxFiles rings), as when a system
 * is out of shared memory. httpd's own calls (scoreboard) and other
 * modules' go through. Built by the integration tests; never installed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apr_shm.h"

static int from_reqprof(const void *ret)
{
    Dl_info info;
    return dladdr(ret, &info) && info.dli_fname && strstr(info.dli_fname, "mod_reqprof");
}

apr_status_t apr_shm_create(apr_shm_t **m, apr_size_t reqsize, const char *filename,
                            apr_pool_t *pool)
{
    static apr_status_t (*real)(apr_shm_t **, apr_size_t, const char *, apr_pool_t *);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "apr_shm_create");
    if (getenv("RP_NOSHM") && from_reqprof(__builtin_return_address(0)))
        return ENOMEM;
    return real(m, reqsize, filename, pool);
}
