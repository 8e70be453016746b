/*
 * reqprof_retain.c - ProfileMaxFiles and ProfileMaxDirSize.
 *
 * Each ProfileDir with limits has a ring of the files in it, oldest first,
 * in anonymous shared memory the parent creates in post_config: every
 * child, and every later generation, inherits the same mapping. The ring
 * is filled once, when it is created, by one scan of the directory; after
 * that no request reads the directory. A writer appends its file (a
 * compare-and-swap on the tail reserves a slot, the slot's sequence number
 * is stored last to publish it), adds its size to an atomic byte count,
 * and then removes the oldest files (a compare-and-swap on the head claims
 * each) while a limit is exceeded. No lock: several children writing at
 * once each claim different files, and at rest the directory holds at most
 * the limits.
 *
 * The ring is kept in the process pool under the directory's name, so a
 * restart (graceful or not) reuses it, with the new limits; only a ring too
 * small for a raised ProfileMaxFiles is replaced (and the directory
 * scanned again).
 */
#include <stddef.h>
#include <string.h>
#include <stdlib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_atomic.h"
#include "apr_file_info.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"

#include "rp_ratelimit.h"
#include "reqprof_config.h"
#include "reqprof_retain.h"

APLOG_USE_MODULE(reqprof);

#define SLACK 256                /* writers between reserving and evicting */
#define SIZE_ONLY_FILES 16384    /* ring size when only ProfileMaxDirSize is set */
#define NAME_CAP 256             /* a file name (NAME_MAX 255) and its NUL */
#define RESERVE_TRIES 1000

typedef struct slot {
    volatile apr_uint32_t seq;   /* ring position + 1 once the slot is filled */
    apr_uint32_t unused;
    apr_uint64_t size;
    char name[NAME_CAP];         /* file name within the directory */
} slot_t;

typedef struct ring {
    volatile apr_uint32_t head;  /* oldest file's position */
    volatile apr_uint32_t tail;  /* next position to fill */
    volatile apr_uint64_t bytes; /* size of the files head .. tail-1 */
    apr_uint32_t cap;            /* slots */
    apr_uint32_t max_files;      /* 0: no limit (then cap - SLACK applies) */
    apr_uint64_t max_bytes;      /* 0: no limit */
    slot_t slots[1];
} ring_t;

struct reqprof_retention {
    ring_t *ring;
    const char *dir;
    apr_shm_t *shm;
};

static rp_ratelimit_t full_faults;       /* RP0310, per child */

static apr_uint32_t file_limit(const ring_t *rg)
{
    return rg->max_files ? rg->max_files : rg->cap - SLACK;
}

static int over_limits(ring_t *rg)
{
    apr_uint32_t n = apr_atomic_read32(&rg->tail) - apr_atomic_read32(&rg->head);
    return n > file_limit(rg)
           || (rg->max_bytes && apr_atomic_read64(&rg->bytes) > rg->max_bytes);
}

/* Remove the oldest file. 0 when there is none or it is still being
 * recorded; 1 when the head moved (by us or another writer). */
static int evict_one(reqprof_retention_t *rt, apr_pool_t *p)
{
    ring_t *rg = rt->ring;
    apr_uint32_t h = apr_atomic_read32(&rg->head);
    slot_t *s;
    char name[NAME_CAP];
    apr_uint64_t size;

    if (h == apr_atomic_read32(&rg->tail))
        return 0;
    s = &rg->slots[h % rg->cap];
    if (apr_atomic_read32(&s->seq) != h + 1)
        return 0;
    memcpy(name, s->name, NAME_CAP);
    name[NAME_CAP - 1] = '\0';
    size = s->size;
    if (apr_atomic_cas32(&rg->head, h + 1, h) != h)
        return 1;                /* another writer took it: the copy is void */
    apr_file_remove(apr_pstrcat(p, rt->dir, "/", name, NULL), p);
    apr_atomic_sub64(&rg->bytes, size);
    return 1;
}

/* Record name (size bytes) as the newest file. 0 when the ring stayed full. */
static int record(reqprof_retention_t *rt, apr_pool_t *p, const char *name,
                  apr_uint64_t size)
{
    ring_t *rg = rt->ring;
    apr_uint32_t t;
    slot_t *s;
    int tries;

    for (tries = 0;; tries++) {
        apr_uint32_t h = apr_atomic_read32(&rg->head);
        t = apr_atomic_read32(&rg->tail);
        if (t - h >= rg->cap) {
            if (tries >= RESERVE_TRIES)
                return 0;
            if (!evict_one(rt, p))
                apr_thread_yield();
            continue;
        }
        if (apr_atomic_cas32(&rg->tail, t + 1, t) == t)
            break;
    }
    s = &rg->slots[t % rg->cap];
    apr_cpystrn(s->name, name, NAME_CAP);
    s->size = size;
    apr_atomic_add64(&rg->bytes, size);
    apr_atomic_set32(&s->seq, t + 1);      /* publishes the slot */
    return 1;
}

void reqprof_retain_add(reqprof_retention_t *rt, request_rec *r, const char *path,
                        apr_size_t len)
{
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    if (strlen(name) >= NAME_CAP || !record(rt, r->pool, name, len)) {
        apr_uint32_t skipped;
        if (rp_ratelimit_pass(&full_faults, (apr_uint32_t)apr_time_sec(apr_time_now()),
                              REQPROF_FAULT_LOG_INTERVAL, &skipped))
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          "RP0310: %s/%s is not counted against ProfileMaxFiles/"
                          "ProfileMaxDirSize (the record of files is full; %u more "
                          "not logged in the last minute)", rt->dir, name, skipped);
        return;
    }
    while (over_limits(rt->ring) && evict_one(rt, r->pool))
        ;
}

/* ------------------------------------------------------------ start-up */

typedef struct found {
    const char *name;
    apr_time_t mtime;
    apr_uint64_t size;
} found_t;

static int older_first(const void *a, const void *b)
{
    const found_t *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int is_profile_name(const char *n)
{
    static const char *const exts[] = { ".prof", ".callgrind", ".json", ".folded", NULL };
    apr_size_t len = strlen(n);
    int i;
    if (n[0] == '.')
        return 0;                 /* temporaries, hidden files */
    for (i = 0; exts[i]; i++) {
        apr_size_t el = strlen(exts[i]);
        if (len > el && !strcmp(n + len - el, exts[i]))
            return 1;
    }
    return 0;
}

/* The one directory scan: the profiles already there, oldest first. */
static void scan(reqprof_retention_t *rt, apr_pool_t *ptemp, server_rec *s)
{
    apr_array_header_t *all = apr_array_make(ptemp, 64, sizeof(found_t));
    apr_dir_t *d;
    apr_finfo_t fi;
    int i;

    if (apr_dir_open(&d, rt->dir, ptemp) != APR_SUCCESS)
        return;                  /* created empty later in post_config */
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE | APR_FINFO_MTIME
                        | APR_FINFO_SIZE, d) == APR_SUCCESS) {
        found_t *f;
        if (fi.filetype != APR_REG || !is_profile_name(fi.name)
            || strlen(fi.name) >= NAME_CAP)
            continue;
        f = apr_array_push(all);
        f->name = apr_pstrdup(ptemp, fi.name);
        f->mtime = fi.mtime;
        f->size = (apr_uint64_t)fi.size;
    }
    apr_dir_close(d);
    qsort(all->elts, (size_t)all->nelts, sizeof(found_t), older_first);
    for (i = 0; i < all->nelts; i++) {
        const found_t *f = &APR_ARRAY_IDX(all, i, found_t);
        record(rt, ptemp, f->name, f->size);
        while (over_limits(rt->ring) && evict_one(rt, ptemp))
            ;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "RP0311: ProfileDir %s: %d profile files found at startup, "
                 "%u kept (%" APR_UINT64_T_FMT " bytes)", rt->dir, all->nelts,
                 apr_atomic_read32(&rt->ring->tail) - apr_atomic_read32(&rt->ring->head),
                 apr_atomic_read64(&rt->ring->bytes));
}

/* The ring of dir, from the process pool if a previous generation made
 * one big enough, else a new one. */
static reqprof_retention_t *ring_for(apr_pool_t *ptemp, server_rec *s, const char *dir,
                                     apr_uint32_t max_files, apr_uint64_t max_bytes)
{
    apr_pool_t *proc = s->process->pool;
    const char *key = apr_pstrcat(ptemp, "reqprof-retain:", dir, NULL);
    apr_uint32_t cap = (max_files ? max_files : SIZE_ONLY_FILES) + SLACK;
    reqprof_retention_t *rt = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&rt, key, proc);
    if (!rt || rt->ring->cap < cap) {
        apr_size_t size = offsetof(ring_t, slots) + sizeof(slot_t) * cap;
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
        rt->ring = apr_shm_baseaddr_get(shm);
        memset(rt->ring, 0, size);
        rt->ring->cap = cap;
        rt->ring->max_files = max_files;
        rt->ring->max_bytes = max_bytes;
        scan(rt, ptemp, s);
        apr_pool_userdata_set(rt, apr_pstrdup(proc, key), apr_pool_cleanup_null, proc);
    }
    /* Only the parent writes these, while no child is serving. */
    rt->ring->max_files = max_files;
    rt->ring->max_bytes = max_bytes;
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
