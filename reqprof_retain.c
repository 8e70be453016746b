/*
 * reqprof_retain.c - ProfileMaxFiles and ProfileMaxDirSize.
 *
 * Each ProfileDir with limits has a ring of the files in it, oldest first
 * (lib/rp_retain.c: lock-free, any number of writers), in anonymous shared
 * memory the parent creates in post_config: every child, and every later
 * generation, inherits the same mapping. The ring is filled once, when it
 * is created, by one scan of the directory; after that no request reads
 * the directory. This file owns the memory, the scan and the removals.
 *
 * The ring is kept in the process pool under the directory's name, so a
 * restart (graceful or not) reuses it, with the new limits; only a ring too
 * small for a raised ProfileMaxFiles is replaced (and the directory
 * scanned again).
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "rp_ratelimit.h"
#include "rp_retain.h"
#include "reqprof_config.h"
#include "reqprof_retain.h"

APLOG_USE_MODULE(reqprof);

struct reqprof_retention {
    rp_retain_ring_t *ring;      /* in shared memory (lib/rp_retain.c) */
    const char *dir;
    apr_shm_t *shm;
};

static rp_ratelimit_t full_faults;       /* RP0310, per child */

typedef struct remove_ctx {
    const char *dir;
    apr_pool_t *p;
} remove_ctx_t;

static void remove_file(void *ctx, const char *name)
{
    remove_ctx_t *rc = ctx;
    apr_file_remove(apr_pstrcat(rc->p, rc->dir, "/", name, NULL), rc->p);
}

void reqprof_retain_add(reqprof_retention_t *rt, server_rec *s, apr_pool_t *p,
                        const char *path, apr_size_t len)
{
    const char *name = strrchr(path, '/');
    remove_ctx_t rc;
    rc.dir = rt->dir;
    rc.p = p;
    name = name ? name + 1 : path;
    if (!rp_retain_add(rt->ring, name, len, remove_file, &rc)) {
        apr_uint32_t skipped;
        if (rp_ratelimit_pass(&full_faults, (apr_uint32_t)apr_time_sec(apr_time_now()),
                              REQPROF_FAULT_LOG_INTERVAL, &skipped))
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "RP0310: %s/%s is not counted against ProfileMaxFiles/"
                         "ProfileMaxDirSize (the record of files is full; %u more "
                         "not logged in the last minute)", rt->dir, name, skipped);
    }
}

/* ------------------------------------------------------------ start-up */

/* The one directory scan: the profiles already there, oldest first. */
static void scan(reqprof_retention_t *rt, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *all = apr_array_make(ptemp, 64, sizeof(rp_retain_found_t));
    remove_ctx_t rc;
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, rt->dir, ptemp) != APR_SUCCESS)
        return;                  /* created empty later in post_config */
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE | APR_FINFO_MTIME
                        | APR_FINFO_SIZE, d) == APR_SUCCESS) {
        rp_retain_found_t *f;
        if (fi.filetype != APR_REG || !rp_retain_is_profile_name(fi.name))
            continue;
        f = apr_array_push(all);
        f->name = apr_pstrdup(ptemp, fi.name);
        f->mtime = fi.mtime;
        f->size = (apr_uint64_t)fi.size;
    }
    apr_dir_close(d);
    rc.dir = rt->dir;
    rc.p = ptemp;
    rp_retain_fill(rt->ring, (rp_retain_found_t *)all->elts, all->nelts, remove_file, &rc);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "RP0311: ProfileDir %s: %d profile files found at startup, "
                 "%u kept (%" APR_UINT64_T_FMT " bytes)", rt->dir, all->nelts,
                 rp_retain_count(rt->ring), rp_retain_bytes(rt->ring));
}

/* The ring of dir, from the process pool if a previous generation made
 * one big enough, else a new one. */
static reqprof_retention_t *ring_for(apr_pool_t *ptemp, server_rec *s, const char *dir,
                                     apr_uint32_t max_files, apr_uint64_t max_bytes)
{
    apr_pool_t *proc = s->process->pool;
    const char *key = apr_pstrcat(ptemp, "reqprof-retain:", dir, NULL);
    apr_uint32_t cap = rp_retain_slots_for(max_files);
    reqprof_retention_t *rt = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&rt, key, proc);
    if (!rt || rp_retain_slots(rt->ring) < cap) {
        apr_size_t size = rp_retain_ring_bytes(cap);
        apr_shm_t *shm;
        /* A replaced ring stays mapped (old children may still use it)
         * until the parent exits; that happens only when a limit grows. */
        if ((rv = apr_shm_create(&shm, size, NULL, proc)) != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "RP0312: cannot create "
                         "shared memory for ProfileDir %s limits: not enforced", dir);
            return NULL;
        }
        rt = apr_pcalloc(proc, sizeof *rt);
        rt->shm = shm;
        rt->dir = apr_pstrdup(proc, dir);
        rt->ring = rp_retain_ring_init(apr_shm_baseaddr_get(shm), cap, max_files,
                                       max_bytes);
        scan(rt, ptemp, s);
        apr_pool_userdata_set(rt, apr_pstrdup(proc, key), apr_pool_cleanup_null, proc);
    }
    /* Only the parent writes these, while no child is serving. */
    rp_retain_set_limits(rt->ring, max_files, max_bytes);
    return rt;
}

typedef struct limits {
    apr_uint32_t max_files;
    apr_uint64_t max_bytes;
} limits_t;

int reqprof_retain_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_hash_t *dirs = apr_hash_make(ptemp);
    server_rec *v;
    (void)pconf;

    /* Virtual hosts sharing a directory share its ring: the smallest limits
     * any of them sets apply. */
    for (v = s; v; v = v->next) {
        const reqprof_srv_t *sc = ap_get_module_config(v->module_config, &reqprof_module);
        limits_t *l;
        if (!sc->dir || (!sc->max_files && !sc->max_dir_size))
            continue;
        l = apr_hash_get(dirs, sc->dir, APR_HASH_KEY_STRING);
        if (!l) {
            l = apr_pcalloc(ptemp, sizeof *l);
            apr_hash_set(dirs, sc->dir, APR_HASH_KEY_STRING, l);
        }
        if (sc->max_files && (!l->max_files || (apr_uint32_t)sc->max_files < l->max_files))
            l->max_files = (apr_uint32_t)sc->max_files;
        if (sc->max_dir_size && (!l->max_bytes || sc->max_dir_size < l->max_bytes))
            l->max_bytes = sc->max_dir_size;
    }
    for (v = s; v; v = v->next) {
        reqprof_srv_t *sc = ap_get_module_config(v->module_config, &reqprof_module);
        const limits_t *l = sc->dir ? apr_hash_get(dirs, sc->dir, APR_HASH_KEY_STRING) : NULL;
        sc->retention = NULL;
        if (!l)
            continue;
        /* Found again (by directory) for each vhost that shares it. */
        sc->retention = ring_for(ptemp, s, sc->dir, l->max_files, l->max_bytes);
    }
    return OK;
}
