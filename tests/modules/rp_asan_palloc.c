/*
 * rp_asan_palloc.c - linked only into the AddressSanitizer build of the
 * module (make asan-module, tests/integration/test_asan.py), with
 * -Wl,--wrap=apr_palloc: every apr_palloc()/apr_pcalloc() the module's own
 * code makes becomes one malloc() with its own redzones, freed when the
 * pool is cleared or destroyed. A real pool hands out slices of 8 KB
 * blocks, where ASan sees neither an overflow into the next slice nor a
 * read of a request's memory after its pool died (design.md section 3: the
 * end-of-request bucket destroys r->pool inside the core output filter).
 * Strings APR allocates for itself (apr_pstrdup, apr_psprintf) still come
 * from blocks.
 *
 * The free is a pool cleanup registered at allocation time. Cleanups run
 * last-registered first, so memory is freed before the cleanups registered
 * before it ran; the module registers its cleanups after allocating what
 * they use, so they see live memory, as with real pools.
 */
#include <stdlib.h>

#include "apr_pools.h"

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size);

static apr_status_t free_one(void *m)
{
    free(m);
    return APR_SUCCESS;
}

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size)
{
    void *m = malloc(size ? size : 1);

    if (m == NULL)
        abort();
    apr_pool_cleanup_register(p, m, free_one, apr_pool_cleanup_null);
    return m;
}
