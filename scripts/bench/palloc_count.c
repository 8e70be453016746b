/*
 * palloc_count.c - LD_PRELOAD shim for `make bench`: counts the bytes and
 * calls of apr_palloc (apr_pcalloc is a macro on it, and libapr's own
 * apr_pstrdup/apr_psprintf call it through the PLT) in one httpd process,
 * and writes "BYTES CALLS" to $PALLOC_COUNT_FILE when the process exits.
 * Run httpd -X with it for two request counts: the difference divided by
 * the difference in requests is the pool memory one request takes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_pools.h>

static void *(*real_palloc)(apr_pool_t *, apr_size_t);
static unsigned long long bytes, calls;

void *apr_palloc(apr_pool_t *p, apr_size_t size);
void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    if (!real_palloc)
        real_palloc = (void *(*)(apr_pool_t *, apr_size_t))dlsym(RTLD_NEXT, "apr_palloc");
    __atomic_fetch_add(&bytes, size, __ATOMIC_RELAXED);
    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    return real_palloc(p, size);
}

static void report(void) __attribute__((destructor));
static void report(void)
{
    const char *path = getenv("PALLOC_COUNT_FILE");
    FILE *f;

    if (!path || !(f = fopen(path, "w")))
        return;
    fprintf(f, "%llu %llu\n", bytes, calls);
    fclose(f);
}
