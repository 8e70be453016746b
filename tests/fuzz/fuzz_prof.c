/*
 * fuzz_prof.c - one request's live profile (lib/rp_prof.c): random
 * sequences of what the glue does to a profile object, request after
 * request on the same object (as a thread's object is reused), checked
 * for the numbers adding up. It is the net under any rewrite of the hot
 * path: whatever the frames' bookkeeping, these must hold.
 *
 * Input: operations, one byte each plus arguments: a hook entered for
 * the request, one of two subrequests or none (a connection filter), in
 * one of three phases or none; a dynamic function entered (a CGI run, a
 * backend); the top call or one below it returning (the frames above it
 * close first); a CGI's CPU time added to the top call; a subrequest
 * forgotten (destroyed); the live view read; time passing (0 ticks too:
 * equal times are the edge); the request ending and the next beginning.
 * The in-flight mirror is on for some requests, with a cap smaller than
 * the deepest stack.
 *
 * Checked after every request: the records nest (each frame within its
 * parent's times, depths stepping by one), a record's self time is its
 * time less its children's, the self times of all functions add up to
 * the root's time, each function's calls are its records, its
 * cumulative time is the sum of its outermost records' times
 * (rp_prof_outer), the pstats view's edges add up to each callee's calls
 * and the root has none; during the request: the live view's self times
 * add up to the root's time so far, and the mirror's depth is the number
 * of frames open, 0 once the request ended.
 */
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_prof.h"
#include "rp_prof_int.h"        /* the open frames, for the mirror's check */

#define NHOOKS 6
#define NPHASES 3
#define MAX_OPEN 200        /* handles kept; past RP_MAX_DEPTH calls drop */
#define MIRROR_CAP 8
#define DYN_LEN 24

static int req_main, req_sub[2];

static const char *label(const void *req, apr_pool_t *p)
{
    return apr_psprintf(p, "subrequest /s%d", req == &req_sub[0] ? 0 : 1);
}

typedef struct world {
    rp_prof_t *prof;
    rp_registry_t *reg;
    int hook[NHOOKS], phase[NPHASES];
    int idmap[NHOOKS + NPHASES];
    int open[MAX_OPEN];     /* handles of the calls open, in order */
    int nopen;
    rp_tick_t now, t0;
    volatile int32_t mdepth;
    int32_t code[MIRROR_CAP];
    char dyn[MIRROR_CAP][DYN_LEN];
    int mirrored, nidmap;
} world_t;

static const void *req_of(unsigned b)
{
    switch (b % 4) {
    case 0:
    case 1:
        return &req_main;
    case 2:
        return &req_sub[(b >> 2) & 1];
    default:
        return NULL;
    }
}

/* The live view: every function's self ticks so far add up to the
 * root's ticks so far. */
static void check_live(world_t *w, apr_pool_t *p)
{
    int n = rp_prof_nfuncs(w->prof), i;
    rp_tick_t *self = apr_palloc(p, sizeof(rp_tick_t) * (apr_size_t)(n + 1));
    rp_tick_t root = rp_prof_self_now(w->prof, w->now, self), sum = 0;
    for (i = 0; i < n; i++)
        sum += self[i];
    FUZZ_CHECK(sum == root, "live self %llu != root %llu", (unsigned long long)sum,
               (unsigned long long)root);
    FUZZ_CHECK(root == w->now - w->t0, "live root %llu, %llu ticks since begin",
               (unsigned long long)root, (unsigned long long)(w->now - w->t0));
}

static void check_ended(world_t *w, apr_pool_t *p)
{
    const rp_prof_rec_t *log;
    const rp_prof_fn_t *fns;
    rp_tick_t root = rp_prof_root_ticks(w->prof), sum = 0;
    const int *ids;
    int n, nf, i, j, *calls, *shape;
    rp_tick_t *cum;
    unsigned char *flags;
    rp_stats_t *st;

    FUZZ_CHECK(!rp_prof_active(w->prof), "active after the end");
    FUZZ_CHECK(root == w->now - w->t0, "root %llu, %llu ticks since begin",
               (unsigned long long)root, (unsigned long long)(w->now - w->t0));
    if (w->mirrored)
        FUZZ_CHECK(w->mdepth == 0, "mirror depth %d after the end", (int)w->mdepth);
    FUZZ_CHECK(rp_prof_log_whole(w->prof), "the log is not whole");
    /* The shape form names the functions the local form does: a
     * registry id, or -1 - the local function of a dynamic one. */
    log = rp_prof_log_shape(w->prof, &n);
    shape = apr_palloc(p, sizeof(int) * (apr_size_t)(n + 1));
    for (i = 0; i < n; i++)
        shape[i] = log[i].func;
    log = rp_prof_log(w->prof, &n);
    ids = rp_prof_ids(w->prof, &nf);
    for (i = 0; i < n; i++)
        FUZZ_CHECK(log[i].func >= 0 && log[i].func < nf
                   && (shape[i] >= 0 ? ids[log[i].func] == shape[i]
                                     : ids[log[i].func] == -1 && log[i].func == -1 - shape[i]),
                   "record %d: local function %d, shape form %d", i, log[i].func, shape[i]);
    fns = rp_prof_funcs_view(w->prof, &nf);
    FUZZ_CHECK(n >= 1 && log[0].depth == 0 && log[0].func == 0, "no root record");
    FUZZ_CHECK(log[0].t1 - log[0].t0 == root, "root record's time");
    FUZZ_CHECK(nf == rp_prof_nfuncs(w->prof), "nfuncs");
    calls = apr_pcalloc(p, sizeof(int) * (apr_size_t)nf);
    cum = apr_pcalloc(p, sizeof(rp_tick_t) * (apr_size_t)nf);
    flags = apr_palloc(p, (apr_size_t)n);
    FUZZ_CHECK(rp_prof_outer(log, n, flags, NULL) == 0, "outer: a depth out of range");
    for (i = 0; i < n; i++) {
        const rp_prof_rec_t *r = &log[i];
        rp_tick_t kids = 0;
        FUZZ_CHECK(r->func >= 0 && r->func < nf, "record %d of function %d", i, r->func);
        FUZZ_CHECK(r->t1 >= r->t0, "record %d ends before it starts", i);
        FUZZ_CHECK(i == 0 || (r->depth >= 1 && r->depth <= log[i - 1].depth + 1),
                   "record %d at depth %d after %d", i, r->depth, log[i - 1].depth);
        for (j = i + 1; j < n && log[j].depth > r->depth; j++)
            if (log[j].depth == r->depth + 1) {
                FUZZ_CHECK(log[j].t0 >= r->t0 && log[j].t1 <= r->t1,
                           "record %d [%llu,%llu] outside its parent %d [%llu,%llu]", j,
                           (unsigned long long)log[j].t0, (unsigned long long)log[j].t1, i,
                           (unsigned long long)r->t0, (unsigned long long)r->t1);
                kids += log[j].t1 - log[j].t0;
            }
        FUZZ_CHECK(kids <= r->t1 - r->t0, "record %d: children longer than it", i);
        FUZZ_CHECK(r->self == r->t1 - r->t0 - kids, "record %d: self %llu, time %llu, "
                   "children %llu", i, (unsigned long long)r->self,
                   (unsigned long long)(r->t1 - r->t0), (unsigned long long)kids);
        calls[r->func]++;
        if (flags[i] & RP_PROF_FN_OUTER)
            cum[r->func] += r->t1 - r->t0;
    }
    for (i = 0; i < nf; i++) {
        FUZZ_CHECK(fns[i].calls == calls[i], "function %d: %lld calls, %d records", i,
                   (long long)fns[i].calls, calls[i]);
        FUZZ_CHECK(fns[i].total == cum[i], "function %d: total %llu, outermost %llu", i,
                   (unsigned long long)fns[i].total, (unsigned long long)cum[i]);
        FUZZ_CHECK(fns[i].self <= fns[i].total, "function %d: self above total", i);
        sum += fns[i].self;
    }
    FUZZ_CHECK(sum == root, "self times add up to %llu, root %llu",
               (unsigned long long)sum, (unsigned long long)root);
    /* The pstats view: each callee's calls along its edges are its calls;
     * the root is called by no one. */
    st = rp_prof_stats(w->prof, p, 1.0);
    FUZZ_CHECK(st->nfuncs == nf, "stats of %d functions, %d", st->nfuncs, nf);
    FUZZ_CHECK(st->funcs[0].ncallers == 0, "the root has callers");
    for (i = 1; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        int64_t nc = 0;
        for (j = 0; j < f->ncallers; j++) {
            FUZZ_CHECK(f->callers[j].caller >= 0 && f->callers[j].caller < st->nfuncs,
                       "edge from %d", f->callers[j].caller);
            nc += f->callers[j].nc;
        }
        FUZZ_CHECK(nc == f->nc, "function %d: %lld calls on its edges, %lld", i,
                   (long long)nc, (long long)f->nc);
    }
}

/* The mirror holds what each open frame is, up to its cap: a registry
 * function's code from the idmap (RP_MIRROR_NONE past its end), a
 * dynamic one's RP_MIRROR_DYN; its depth is the frames open. */
static void check_mirror(const world_t *w)
{
    const rp_prof_t *prof = w->prof;
    int d;
    if (!w->mirrored || !prof->active)
        return;
    FUZZ_CHECK(w->mdepth == prof->depth, "mirror depth %d, %d frames open",
               (int)w->mdepth, prof->depth);
    for (d = 0; d < prof->depth && d < MIRROR_CAP; d++) {
        int id = prof->stack[d].id;
        int32_t want = id < 0 ? RP_MIRROR_DYN : id < w->nidmap ? w->idmap[id] : RP_MIRROR_NONE;
        FUZZ_CHECK(w->code[d] == want, "mirror code %d at depth %d, want %d (id %d)",
                   (int)w->code[d], d, (int)want, id);
    }
}

static void begin(world_t *w, unsigned b)
{
    w->t0 = w->now;
    w->nopen = 0;
    /* The mirror on for some requests, as the status page's in-flight
     * record is when it has a slot. */
    w->mirrored = b & 1;
    if (w->mirrored) {
        rp_prof_mirror_t m;
        m.depth = &w->mdepth;
        m.code = w->code;
        m.dyn = &w->dyn[0][0];
        m.cap = MIRROR_CAP;
        m.dyn_len = DYN_LEN;
        m.idmap = w->idmap;
        m.nidmap = w->nidmap = (int)(b >> 1) % (NHOOKS + NPHASES + 1);
        rp_prof_set_mirror(w->prof, &m);
    }
    else
        rp_prof_set_mirror(w->prof, NULL);
    rp_prof_begin(w->prof, &req_main, "GET /", w->now);
}

static void end(world_t *w, apr_pool_t *p)
{
    rp_prof_end(w->prof, w->now);
    check_ended(w, p);
    rp_prof_set_mirror(w->prof, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    world_t *w = apr_pcalloc(p, sizeof *w);
    int i, requests = 0;

    w->reg = rp_registry_create(p, NHOOKS + NPHASES + 8);
    for (i = 0; i < NHOOKS; i++)
        w->hook[i] = rp_registry_add(w->reg, "mod_x.c", i, "hook");
    for (i = 0; i < NPHASES; i++)
        w->phase[i] = rp_registry_add(w->reg, "httpd", 0, i == 0 ? "fixups"
                                      : i == 1 ? "handler" : "log_transaction");
    for (i = 0; i < NHOOKS + NPHASES; i++)
        w->idmap[i] = i % 3 == 2 ? -1 : i;
    w->prof = rp_prof_create(p, w->reg, label);
    /* The whole log, the records every check below reads. */
    rp_prof_set_event_log(w->prof, 1 << 15);
    w->now = 1000;
    begin(w, fuzz_byte(&in));
    while (in.n > 0 && requests < 64) {
        unsigned op = fuzz_byte(&in), a = fuzz_byte(&in);
        int h = -1;
        switch (op % 10) {
        case 0:
        case 1:
        case 2:     /* a hook entry, of a phase or nested */
            h = rp_prof_enter(w->prof, req_of(a), (a >> 4) % 4 ? w->phase[(a >> 4) % 4 - 1] : -1,
                              w->hook[(op >> 4) % NHOOKS], w->now);
            break;
        case 3:     /* a dynamic function: a CGI run, a backend, a filter */
            h = rp_prof_enter_dynamic(w->prof, req_of(a), (a & 16) ? "/cgi-bin/x.cgi" : NULL,
                                      (a >> 5) & 1, (op & 16) ? "backend" : "cgi", w->now);
            break;
        case 4:
        case 5:     /* the top call returns */
            if (w->nopen)
                rp_prof_exit(w->prof, w->open[--w->nopen], w->now);
            break;
        case 6:     /* a call below the top returns: those above it first */
            if (w->nopen) {
                int k = (int)(a % (unsigned)w->nopen);
                rp_prof_exit(w->prof, w->open[k], w->now);
                w->nopen = k;
            }
            break;
        case 7:     /* a CGI's CPU time, or a subrequest destroyed */
            if (a & 1 && w->nopen)
                rp_prof_add_child(w->prof, w->open[w->nopen - 1], "/cgi-bin/x.cgi", 0,
                                  "cpu", a >> 1, w->now);
            else
                rp_prof_forget(w->prof, &req_sub[(a >> 1) & 1]);
            break;
        case 8:     /* time passes, or the live view is read */
            if (a & 1)
                check_live(w, p);
            else
                w->now += a >> 1;
            break;
        default:    /* the request ends; the next begins */
            if (a & 1) {
                while (w->nopen)
                    rp_prof_exit(w->prof, w->open[--w->nopen], w->now);
            }
            end(w, p);
            requests++;
            w->now += a >> 2;
            begin(w, a);
            break;
        }
        if (h >= 0 && w->nopen < MAX_OPEN)
            w->open[w->nopen++] = h;
        if (w->mirrored)
            FUZZ_CHECK(w->mdepth >= 1 && w->mdepth <= RP_MAX_DEPTH, "mirror depth %d",
                       (int)w->mdepth);
        check_mirror(w);
        w->now += op >> 6;
    }
    end(w, p);
    fuzz_done(p);
    return 0;
}
