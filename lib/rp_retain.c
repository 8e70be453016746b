/*
 * rp_retain.c - the lock-free ring of a ProfileDir's files (rp_retain.h).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include "rp_retain.h"

#define RESERVE_TRIES 1000
#define RESERVE_YIELDS 100
#define RESERVE_SLEEP_US 50

typedef struct rp_retain_slot {
    volatile apr_uint32_t seq;   /* ring position + 1 once the slot is filled */
    apr_uint32_t unused;
    apr_uint64_t size;           /* the file's bytes */
    char name[RP_RETAIN_NAME_CAP];   /* file name within the directory */
} rp_retain_slot_t;

struct rp_retain_ring {
    volatile apr_uint32_t head;  /* oldest file's position */
    volatile apr_uint32_t tail;  /* next position to fill */
    volatile apr_uint64_t bytes; /* size of the files head .. tail-1 */
    apr_uint32_t cap;            /* slots */
    apr_uint32_t max_files;      /* 0: no limit (then cap - SLACK applies) */
    apr_uint64_t max_bytes;      /* 0: no limit */
    rp_retain_slot_t slots[1];
};

apr_uint32_t rp_retain_slots_for(apr_uint32_t max_files)
{
    return (max_files ? max_files : RP_RETAIN_SIZE_ONLY_FILES) + RP_RETAIN_SLACK;
}

apr_size_t rp_retain_ring_bytes(apr_uint32_t slots)
{
    return offsetof(rp_retain_ring_t, slots) + sizeof(rp_retain_slot_t) * slots;
}

rp_retain_ring_t *rp_retain_ring_init(void *mem, apr_uint32_t slots,
                                      apr_uint32_t max_files, apr_uint64_t max_bytes)
{
    rp_retain_ring_t *rg = mem;
    memset(rg, 0, rp_retain_ring_bytes(slots));
    rg->cap = slots;
    rp_retain_set_limits(rg, max_files, max_bytes);
    return rg;
}

void rp_retain_set_limits(rp_retain_ring_t *rg, apr_uint32_t max_files,
                          apr_uint64_t max_bytes)
{
    rg->max_files = max_files;
    rg->max_bytes = max_bytes;
}

apr_uint32_t rp_retain_slots(const rp_retain_ring_t *rg)
{
    return rg->cap;
}

apr_uint32_t rp_retain_count(const rp_retain_ring_t *rg)
{
    return apr_atomic_read32((volatile apr_uint32_t *)&rg->tail)
           - apr_atomic_read32((volatile apr_uint32_t *)&rg->head);
}

apr_uint64_t rp_retain_bytes(const rp_retain_ring_t *rg)
{
    return apr_atomic_read64((volatile apr_uint64_t *)&rg->bytes);
}

static apr_uint32_t file_limit(const rp_retain_ring_t *rg)
{
    apr_uint32_t slack = rg->cap > RP_RETAIN_SLACK ? RP_RETAIN_SLACK : 0;
    return rg->max_files ? rg->max_files : rg->cap - slack;
}

static int over_limits(rp_retain_ring_t *rg)
{
    return rp_retain_count(rg) > file_limit(rg)
           || (rg->max_bytes && apr_atomic_read64(&rg->bytes) > rg->max_bytes);
}

/* Remove the oldest file. 0 when there is none or it is still being
 * recorded; 1 when the head moved (by us or another writer). */
static int evict_one(rp_retain_ring_t *rg, rp_retain_remove_fn rm, void *ctx)
{
    apr_uint32_t h = apr_atomic_read32(&rg->head);
    rp_retain_slot_t *s;
    char name[RP_RETAIN_NAME_CAP];
    apr_uint64_t size;

    if (h == apr_atomic_read32(&rg->tail))
        return 0;
    s = &rg->slots[h % rg->cap];
    if (apr_atomic_read32(&s->seq) != h + 1)
        return 0;
    memcpy(name, s->name, RP_RETAIN_NAME_CAP);
    name[RP_RETAIN_NAME_CAP - 1] = '\0';
    size = s->size;
    if (apr_atomic_cas32(&rg->head, h + 1, h) != h)
        return 1;                /* another writer took it: the copy is void */
    rm(ctx, name);
    apr_atomic_sub64(&rg->bytes, size);
    return 1;
}

/* Record name (size bytes) as the newest file. 0 when the ring stayed full. */
static int record(rp_retain_ring_t *rg, const char *name, apr_uint64_t size,
                  rp_retain_remove_fn rm, void *ctx)
{
    apr_uint32_t t;
    rp_retain_slot_t *s;
    int tries;

    for (tries = 0;; tries++) {
        apr_uint32_t h = apr_atomic_read32(&rg->head);
        t = apr_atomic_read32(&rg->tail);
        if (t - h >= rg->cap) {
            if (tries >= RESERVE_TRIES)
                return 0;
            /* Nothing to evict while the oldest slot's writer has reserved
             * it but not yet published it: that thread was preempted in
             * between. Yielding lets it run when it waits on this CPU; on
             * a busy machine (more threads than CPUs) it may wait on
             * another, so after a while sleep instead, at most ~45 ms in
             * all, rather than leave a file out of the record (found by
             * test_retain's eight threads under ASan in CI). */
            if (!evict_one(rg, rm, ctx)) {
                if (tries < RESERVE_YIELDS)
                    apr_thread_yield();
                else
                    apr_sleep(RESERVE_SLEEP_US);
            }
            continue;
        }
        if (apr_atomic_cas32(&rg->tail, t + 1, t) == t)
            break;
    }
    s = &rg->slots[t % rg->cap];
    apr_cpystrn(s->name, name, RP_RETAIN_NAME_CAP);
    s->size = size;
    apr_atomic_add64(&rg->bytes, size);
    apr_atomic_set32(&s->seq, t + 1);      /* publishes the slot */
    return 1;
}

int rp_retain_add(rp_retain_ring_t *rg, const char *name, apr_uint64_t size,
                  rp_retain_remove_fn rm, void *ctx)
{
    if (strlen(name) >= RP_RETAIN_NAME_CAP || !record(rg, name, size, rm, ctx))
        return 0;
    while (over_limits(rg) && evict_one(rg, rm, ctx))
        ;
    return 1;
}

int rp_retain_is_profile_name(const char *n)
{
    static const char *const exts[] = { ".prof", ".callgrind", ".json", ".folded",
                                        ".pb.gz", NULL };
    apr_size_t len = strlen(n);
    int i;
    if (n[0] == '.')
        return 0;                 /* temporaries, reservations, hidden files */
    for (i = 0; exts[i]; i++) {
        apr_size_t el = strlen(exts[i]);
        if (len > el && !strcmp(n + len - el, exts[i]))
            return 1;
    }
    return 0;
}

static int older_first(const void *a, const void *b)
{
    const rp_retain_found_t *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime < y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

void rp_retain_fill(rp_retain_ring_t *rg, rp_retain_found_t *found, int n,
                    rp_retain_remove_fn rm, void *ctx)
{
    int i;
    if (n > 1)
        qsort(found, (size_t)n, sizeof *found, older_first);
    for (i = 0; i < n; i++)
        rp_retain_add(rg, found[i].name, found[i].size, rm, ctx);
}
