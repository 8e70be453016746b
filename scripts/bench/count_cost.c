/*
 * count_cost.c - what counting one profiled request into the status page
 * and the aggregate call tree costs, with nothing else around it: lib/'s
 * rp_agg and rp_tree on a region in shared memory, a request of FUNCS
 * functions and FRAMES frames (the bench's static file has about 40 and
 * 45), by the roads the module takes for a request whose shape it met
 * before (reqprof_status.c, reqprof_tree.c): at once (ProfileStatusFlush
 * 0: the functions' totals and the request's counters as atomic adds, the
 * tree's keyed road adding to its nodes) or batched (the default: the
 * request's frames summed into its shape and the tree path's sums, plain
 * adds, flushed every 1024 requests here), by WRITERS processes at the
 * same time (the cache lines they share bounce between the CPUs).
 * callgrind counts a locked add as one instruction; this shows what it
 * costs. Prints the wall time per request of each writer, in ns:
 *
 *     count_cost BATCHED WRITERS REQUESTS   ->  "ns ns ..."
 *
 * Built by make bench (linked with lib/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <apr_general.h>
#include "rp_agg.h"
#include "rp_tree.h"

#define FUNCS 40
#define FRAMES 45

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *shared(apr_size_t n)
{
    void *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return m;
}

/* One request's frames as rp_prof's log has them: the root (local
 * function 0, no key), then phases (depth 1) each with a few entries
 * (depth 2); local function f > 0 is registry id f - 1. */
static void make_log(rp_prof_rec_t *log, int *ids, int *nf)
{
    int i;
    memset(log, 0, sizeof(*log) * FRAMES);
    for (i = 0; i < FRAMES; i++) {
        log[i].func = i ? 1 + (i - 1) % FUNCS : 0;
        log[i].depth = (int16_t)(i == 0 ? 0 : i % 5 == 1 ? 1 : 2);
        log[i].t0 = (rp_tick_t)i * 10;
        log[i].t1 = (rp_tick_t)i * 10 + 5;
        log[i].self = 5;
    }
    log[0].t1 = FRAMES * 10 + 100;
    log[0].self = 100;
    ids[0] = -1;
    for (i = 1; i <= FUNCS; i++)
        ids[i] = i - 1;
    *nf = FUNCS + 1;
}

/* One writer: n requests, then its ns per request into out. The first
 * request of the shape takes the tree's fold road and keys the path
 * (and, batched, makes the status page's shape); the timed ones take
 * the roads of a shape met before. */
static void writer(rp_agg_t *a, rp_tree_t *t, const rp_agg_call_t *calls,
                   const int *fkey, const int *tfunc, int batched, long n,
                   apr_pool_t *p, double *out)
{
    rp_agg_batch_t *b = rp_agg_batch_create(a, p);
    rp_tree_cache_t *c = rp_tree_cache_create(p, 128);
    rp_prof_rec_t log[FRAMES], shape_log[FRAMES];
    rp_tree_ev_t ev[FRAMES];
    rp_tree_rec_t rec[FRAMES];
    int work[5 * FRAMES], ids[FUNCS + 1], nf, i, shape = -1;
    rp_agg_req_t rq;
    double t0;
    long r;

    make_log(log, ids, &nf);
    /* The tree keys the shape form (rp_prof_log_shape): registry ids. */
    for (i = 0; i < FRAMES; i++) {
        shape_log[i] = log[i];
        shape_log[i].func = ids[log[i].func];
    }
    for (i = 0; i < FRAMES; i++) {
        ev[i].func = tfunc[log[i].func];
        ev[i].depth = log[i].depth;
        ev[i].t0 = log[i].t0;
        ev[i].t1 = log[i].t1;
    }
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.path = "/s.txt";
    rq.vhost = "localhost";
    rq.vhost_idx = 0;
    rq.status = 200;
    rq.wall_ns = 50000;
    rq.stripe = (unsigned)getpid() * 2654435761u;
    rq.when = apr_time_now();
    rp_tree_cache_batch(c, batched, rq.when);
    rp_tree_record_events(t, c, 0, ev, FRAMES, 1.0, rq.when, rec, work);
    rp_tree_cache_key(c, t, 0, ev, shape_log, FRAMES);
    if (batched)
        shape = rp_agg_shape_add(a, b, 1, log, FRAMES, fkey, nf, 1.0);
    if (batched && shape < 0) {
        fprintf(stderr, "count_cost: no shape\n");
        exit(2);
    }
    t0 = now_s();
    for (r = 0; r < n; r++) {
        rq.when = apr_time_now();
        /* The tree first, as the module counts: its ticks of the frames
         * go to the status page's shape when it is batching. */
        if (rp_tree_record_log(t, c, 0, shape_log, FRAMES, 1.0, rq.when, NULL) < 0) {
            fprintf(stderr, "count_cost: the keyed road missed\n");
            exit(2);
        }
        if (batched) {
            int nt;
            const uint64_t *tk = rp_tree_cache_ticks(c, &nt);
            if (tk && nt == FRAMES)
                rp_agg_record_shape_ticks(a, b, &rq, shape, tk, FRAMES);
            else
                rp_agg_record_shape(a, b, &rq, shape, log, FRAMES);
        }
        else
            rp_agg_record(a, &rq, calls, FUNCS);
        if (batched && (r & 1023) == 1023) {
            rp_agg_batch_flush(a, b, rq.when);
            rp_tree_cache_flush(c, rq.when);
        }
    }
    *out = (now_s() - t0) / (double)n * 1e9;
}

int main(int argc, char **argv)
{
    rp_agg_sizes_t sz = { 512, 4, 512, 16 };
    rp_tree_sizes_t tz = { 4096, 2 };
    rp_agg_call_t calls[FUNCS];
    int fkey[FUNCS + 1], tfunc[FUNCS + 1];
    apr_pool_t *p;
    apr_size_t an, tn;
    rp_agg_t *a;
    rp_tree_t *t;
    double *ns;
    int batched, writers, i, reused;
    long n;

    if (argc != 4 || (batched = atoi(argv[1])) < 0 || (writers = atoi(argv[2])) < 1
        || writers > 64 || (n = atol(argv[3])) < 1) {
        fprintf(stderr, "usage: count_cost BATCHED(0|1) WRITERS REQUESTS\n");
        return 2;
    }
    apr_initialize();
    apr_pool_create(&p, NULL);
    an = rp_agg_size(&sz);
    tn = rp_tree_size(&tz);
    a = rp_agg_attach(p, shared(an), an, &sz, apr_time_now(), &reused);
    t = rp_tree_attach(p, shared(tn), tn, &tz, apr_time_now(), &reused);
    ns = shared(sizeof(double) * (apr_size_t)writers);
    if (!a || !t) {
        fprintf(stderr, "count_cost: no region\n");
        return 2;
    }
    /* Local function 0 is the request (no key, the tree's root); f > 0
     * one hook entry, as the module maps them. */
    fkey[0] = RP_AGG_UNCOUNTED;
    tfunc[0] = 0;
    for (i = 0; i < FUNCS; i++) {
        char name[16];
        snprintf(name, sizeof name, "hook%d", i);
        calls[i].key = rp_agg_key(a, "mod_x.c", i, name);
        calls[i].calls = 1;
        calls[i].tt_ns = 1000 + (uint64_t)i;
        calls[i].ct_ns = 3000 + (uint64_t)i;
        fkey[i + 1] = calls[i].key;
        tfunc[i + 1] = rp_tree_func(t, "mod_x.c", i, name);
    }
    for (i = 0; i < writers; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 2;
        }
        if (pid == 0) {
            writer(a, t, calls, fkey, tfunc, batched, n, p, &ns[i]);
            _exit(0);
        }
    }
    while (wait(NULL) > 0)
        ;
    for (i = 0; i < writers; i++)
        printf("%s%.0f", i ? " " : "", ns[i]);
    printf("\n");
    return 0;
}
