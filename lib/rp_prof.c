/*
 * rp_prof.c - per-request call accounting with cProfile's semantics.
 *
 * For every function: calls (nc), recursive calls (rc; primitive calls are
 * nc - rc), self time (it: excludes nested calls) and total time (tt: only
 * the outermost call of a recursion adds to it). The same for every
 * (caller, callee) edge. This mirrors _lsprof.c's ProfilerEntry and
 * ProfilerSubEntry so that pstats reads our numbers as it reads its own.
 *
 * Hot path: rp_prof_enter/rp_prof_exit do no allocation once the arrays
 * have grown to the request's size (they are kept across requests), no
 * locking, no string work and no lookup for static functions: a record
 * holds the registry id itself, and the request's local entries are made
 * from the ids when a reader first wants them (localize, through a
 * stamped map). Their code and the profile's layout are in rp_prof_int.h,
 * so that the glue's shared trampoline bodies can have them inlined.
 *
 * Deferred accounting: a frame writes one record (function, depth, open
 * and close ticks) and nothing else; the records' self ticks are derived
 * from them in one pass when first read (selfs), and the per-function and
 * per-edge counts (nc, rc, it, tt, recursion levels) are folded from the
 * records in one pass after the request ends, when the first reader asks
 * for them (fold; many requests are read by no one). The records are
 * also the event log: the log's size only limits what rp_prof_events and
 * rp_prof_trace show, never the accounting.
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_prof_int.h"
#include "rp_text.h"

/* Longest file or function name kept in a key, as the pstats writer. */
#define RP_KEY_MAX ((apr_size_t)0x7FFFFFFF)

/* ---------------------------------------------------------------- registry */

rp_registry_t *rp_registry_create(apr_pool_t *p, int cap)
{
    rp_registry_t *reg = apr_pcalloc(p, sizeof *reg);
    reg->pool = p;
    reg->cap = cap > 0 ? cap : 1;
    reg->keys = apr_pcalloc(p, sizeof(rp_key_t) * (apr_size_t)reg->cap);
    return reg;
}

int rp_registry_add(rp_registry_t *reg, const char *file, int line,
                    const char *name)
{
    return rp_registry_add_in(reg, reg->pool, file, line, name);
}

int rp_registry_add_in(rp_registry_t *reg, apr_pool_t *p, const char *file,
                       int line, const char *name)
{
    int i;
    /* Compare keys as the pstats file spells them: two names that differ
     * only in bytes rp_utf8_clean replaces would otherwise be two functions
     * written under one key (found by tests/fuzz/fuzz_pstats.c). Rare
     * (startup, a filter met at run time), so the copies made for a key
     * already present do not matter. */
    file = rp_utf8_clean(p, file, RP_KEY_MAX);
    name = rp_utf8_clean(p, name, RP_KEY_MAX);
    for (i = 0; i < reg->n; i++) {
        const rp_key_t *k = &reg->keys[i];
        if (k->line == line && strcmp(k->file, file) == 0
            && strcmp(k->name, name) == 0)
            return i;
    }
    if (reg->n >= reg->cap)
        return -1;
    reg->keys[reg->n].file = file;
    reg->keys[reg->n].line = line;
    reg->keys[reg->n].name = name;
    /* Readers on other threads test id < n: the key is complete first. */
    __atomic_store_n(&reg->n, reg->n + 1, __ATOMIC_RELEASE);
    return reg->n - 1;
}

/* ------------------------------------------------------------ live profile */


rp_prof_t *rp_prof_create(apr_pool_t *p, const rp_registry_t *reg,
                          rp_label_fn label)
{
    rp_prof_t *prof = apr_pcalloc(p, sizeof *prof);
    prof->pool = p;
    apr_pool_create(&prof->scratch, p);
    prof->reg = reg;
    prof->label_fn = label;
    rp_prof_set_mirror(prof, NULL);
    prof->map_cap = reg ? reg->cap : 0;
    prof->map = apr_pcalloc(p, sizeof(rp_prof_slot_t) * (apr_size_t)(prof->map_cap + 1));
    prof->entries_cap = 64;
    prof->entries = apr_palloc(p, sizeof(rp_prof_entry_t) * (apr_size_t)prof->entries_cap);
    prof->ids = apr_palloc(p, sizeof(int) * (apr_size_t)prof->entries_cap);
    prof->tot = apr_palloc(p, sizeof(rp_prof_fn_t) * (apr_size_t)prof->entries_cap);
    prof->edges_cap = 128;
    prof->edges = apr_palloc(p, sizeof(rp_prof_edge_t) * (apr_size_t)prof->edges_cap);
    prof->recs_cap = 64;
    prof->recs = apr_palloc(p, sizeof(rp_prof_rec_t) * (apr_size_t)prof->recs_cap);
    prof->folded = 1;
    prof->edges_folded = 1;
    return prof;
}

/* Doubling growth from the profile's own pool; the old array stays in the
 * pool until the profile object dies, which is bounded by the largest
 * request seen. Rare: only a request bigger than all before it grows. */
static void *grow(apr_pool_t *p, void *old, int *cap, apr_size_t elt, int used)
{
    int ncap = *cap * 2;
    void *n = apr_palloc(p, elt * (apr_size_t)ncap);
    memcpy(n, old, elt * (apr_size_t)used);
    *cap = ncap;
    return n;
}

/* The arrays grow in their own function: rare, and kept out of the way
 * of the inlined paths below. */
static void __attribute__((noinline, cold)) grow_entries(rp_prof_t *prof)
{
    int cap = prof->entries_cap, cap2 = cap;
    prof->entries = grow(prof->pool, prof->entries, &prof->entries_cap,
                         sizeof(rp_prof_entry_t), prof->nentries);
    prof->ids = grow(prof->pool, prof->ids, &cap, sizeof(int), prof->nentries);
    prof->tot = grow(prof->pool, prof->tot, &cap2, sizeof(rp_prof_fn_t), prof->nentries);
}

static void __attribute__((noinline, cold)) grow_edges(rp_prof_t *prof)
{
    prof->edges = grow(prof->pool, prof->edges, &prof->edges_cap,
                       sizeof(rp_prof_edge_t), prof->nedges);
}

void __attribute__((noinline, cold)) rp_prof_i_grow_recs(rp_prof_t *prof)
{
    prof->recs = grow(prof->pool, prof->recs, &prof->recs_cap,
                      sizeof(rp_prof_rec_t), prof->nrec);
}


/* A new entry of the request, for registry id id (-1: dynamic). Only its
 * id is set here: the rest is set by whoever reads it (the key by
 * new_dyn_entry, first_edge by fold_edges, the totals by fold). */
static int new_entry(rp_prof_t *prof, int id)
{
    if (prof->nentries == prof->entries_cap)
        grow_entries(prof);
    prof->ids[prof->nentries] = id;
    return prof->nentries++;
}

/* Records' functions from raw (rp_prof_int.h) to local entries, those
 * not done yet: for every reader of entries, once the records are there
 * (or again for those added since). The entries of registry functions
 * are made here, in the order the records meet them, through the map
 * (registry id -> this request's entry, valid where its stamp is this
 * request's serial); dynamic ones were made when their frame opened. */
static void localize(const rp_prof_t *cprof)
{
    rp_prof_t *prof = (rp_prof_t *)cprof;   /* one thread at a time */
    rp_prof_rec_t *recs;
    rp_prof_slot_t *map;
    uint32_t serial;
    int *ids, i, n, end = prof->nrec, most;

    if (prof->nlocal == end)
        return;
    /* Room for every entry the loop can make at once (one a record, and
     * one a registry id at most: dynamic ones exist already), so that the
     * loop keeps the arrays and the count in registers. */
    most = end - prof->nlocal < prof->map_cap ? end - prof->nlocal : prof->map_cap;
    while (prof->entries_cap - prof->nentries < most)
        grow_entries(prof);
    recs = prof->recs;
    map = prof->map;
    serial = prof->serial;
    ids = prof->ids;
    n = prof->nentries;
    for (i = prof->nlocal; i < end; i++) {
        int f = recs[i].func;
        if (f < 0)
            recs[i].func = RP_PROF_DYN_RAW(f);
        else {
            rp_prof_slot_t *m = &map[f];
            if (m->stamp != serial) {
                m->stamp = serial;
                m->entry = n;
                ids[n++] = f;
            }
            recs[i].func = m->entry;
        }
    }
    prof->nentries = n;
    prof->nlocal = end;
}

/* The other way, for readers of the request's shape (rp_prof_log_shape):
 * the map keeps every entry it made, so a later localize() finds the
 * same ones. */
static void delocalize(rp_prof_t *prof)
{
    int i;
    for (i = 0; i < prof->nlocal; i++) {
        int e = prof->recs[i].func;
        prof->recs[i].func = prof->ids[e] >= 0 ? prof->ids[e] : RP_PROF_DYN_RAW(e);
    }
    prof->nlocal = 0;
}

static int new_dyn_entry(rp_prof_t *prof, const char *file, int line, const char *label)
{
    int i = new_entry(prof, -1);
    rp_prof_entry_t *e = &prof->entries[i];
    e->file = file;
    e->line = line;
    e->label = label;
    return i;
}


/* Dynamic functions are few per request (root, subrequests, redirects):
 * a linear search by name is cheaper than any index here. */
static const char rp_prof_httpd_file[] = "httpd";   /* the file of unnamed ones */

static int entry_for_label(rp_prof_t *prof, const char *file, int line,
                           const char *label)
{
    int i;
    const char *f = file ? file : rp_prof_httpd_file;
    for (i = 0; i < prof->nentries; i++) {
        const rp_prof_entry_t *e = &prof->entries[i];
        if (prof->ids[i] < 0 && e->line == line && strcmp(e->label, label) == 0
            && strcmp(e->file, f) == 0)
            return i;
    }
    return new_dyn_entry(prof, f == rp_prof_httpd_file ? f : apr_pstrdup(prof->scratch, f),
                         line, apr_pstrdup(prof->scratch, label));
}

static APR_INLINE int edge_for(rp_prof_t *prof, int callee, int caller)
{
    rp_prof_entry_t *e = &prof->entries[callee];
    rp_prof_edge_t *g;
    int i;
    for (i = e->first_edge; i >= 0; i = prof->edges[i].next)
        if (prof->edges[i].caller == caller)
            return i;
    if (prof->nedges == prof->edges_cap)
        grow_edges(prof);
    i = prof->nedges++;
    g = &prof->edges[i];
    g->caller = caller;
    g->next = e->first_edge;
    g->nc = g->rc = 0;
    g->it = g->tt = 0;
    e->first_edge = i;
    return i;
}

/* A dynamic frame's name into the mirror: rare (the request, its
 * subrequests, a CGI run, a backend call), kept out of push's way. */
void __attribute__((noinline, cold))
rp_prof_i_mirror_dyn(const rp_prof_mirror_t *m, const rp_prof_entry_t *e, int d)
{
    char *o = m->dyn + (apr_size_t)d * (apr_size_t)m->dyn_len;
    apr_size_t cap = (apr_size_t)m->dyn_len, n;
    const char *file = e->file;
    if (e->line == 0 && (e->file == rp_prof_httpd_file || strcmp(e->file, rp_prof_httpd_file) == 0)) {
        /* apr_cpystrn's cut, with memcpy's speed (~4x on a request's name) */
        n = strlen(e->label);
        if (n >= cap)
            n = cap - 1;
        memcpy(o, e->label, n);
        o[n] = '\0';
    }
    else {
        /* Too long: the file's end (the script's name) is what tells
         * scripts apart, so its start makes way. */
        n = strlen(file) + strlen(e->label) + 16;
        if (n >= cap && strlen(file) > n - cap + 3) {
            file += n - cap + 3;
            while (((unsigned char)*file & 0xC0) == 0x80)
                file++;
            apr_snprintf(o, cap, "...%s:%d(%s)", file, e->line, e->label);
        }
        else
            apr_snprintf(o, cap, "%s:%d(%s)", file, e->line, e->label);
    }
    m->code[d] = RP_MIRROR_DYN;
}



/* rp_prof_i_push where a call costs less than the code (the rarer frames). */
static void __attribute__((noinline)) push(rp_prof_t *prof, rp_prof_kind_e kind, int raw,
                                           const void *req, rp_tick_t now)
{
    rp_prof_i_push(prof, kind, raw, req, now);
}


void __attribute__((noinline)) rp_prof_i_pop_call(rp_prof_t *prof, rp_tick_t end)
{
    rp_prof_i_pop(prof, end);
}

void rp_prof_set_mirror(rp_prof_t *prof, const rp_prof_mirror_t *m)
{
    if (!m) {
        prof->mirror_cap = 0;
        prof->mirror_depth = &prof->no_mirror_depth;
        prof->mirror_code = NULL;
        return;
    }
    prof->mirror = *m;
    prof->mirror_depth = m->depth;
    /* push reads idmap[id] for every registry id without a bound check:
     * an idmap shorter than the map is padded once into the profile's
     * own copy (the module's covers the registry's capacity). */
    if (m->nidmap >= prof->map_cap)
        prof->mirror_idmap = m->idmap;
    else {
        int i, n = m->nidmap > 0 ? m->nidmap : 0;
        if (!prof->mirror_pad)
            prof->mirror_pad = apr_palloc(prof->pool, sizeof(int)
                                                      * (apr_size_t)(prof->map_cap + 1));
        for (i = 0; i < prof->map_cap; i++)
            prof->mirror_pad[i] = i < n ? m->idmap[i] : RP_MIRROR_NONE;
        prof->mirror_idmap = prof->mirror_pad;
    }
    prof->mirror_cap = m->cap;
    *m->depth = prof->active ? prof->depth : 0;
    prof->mirror_code = m->code;
}

void rp_prof_begin(rp_prof_t *prof, const void *req, const char *root_label,
                   rp_tick_t t0)
{
    rp_prof_begin_scratch(prof, req, apr_pstrdup(rp_prof_scratch_clear(prof), root_label), t0);
}

apr_pool_t *rp_prof_scratch_clear(rp_prof_t *prof)
{
    apr_pool_clear(prof->scratch);
    return prof->scratch;
}

void rp_prof_begin_scratch(rp_prof_t *prof, const void *req, const char *root_label,
                           rp_tick_t t0)
{
    if (++prof->serial == 0) {
        /* 2^32 requests later the stamps could collide: start afresh. */
        memset(prof->map, 0, sizeof(rp_prof_slot_t) * (apr_size_t)(prof->map_cap + 1));
        prof->serial = 1;
    }
    prof->nentries = 0;
    prof->nedges = 0;
    prof->depth = 0;
    prof->dropped = 0;
    prof->root_ticks = 0;
    prof->nrec = 0;
    prof->nlocal = 0;
    prof->last_rec = -1;
    prof->last_end = 0;
    prof->selfs_done = 0;
    prof->folded = 0;
    prof->edges_folded = 0;
    prof->ev_lim = prof->ev_max;
    /* No entry yet: entry_for_label's search would find none. */
    push(prof, RP_FR_REQ,
         RP_PROF_DYN_RAW(new_dyn_entry(prof, rp_prof_httpd_file, 0, root_label)), req, t0);
    prof->active = 1;
}

/* Close lazy frames that the call about to start for req does not belong
 * in, and open the request and phase frames it does belong in. Returns 0,
 * or -1 when the stack has no room for the frames needed. */
static int on_stack(const rp_prof_t *prof, const void *req)
{
    int i;
    for (i = prof->depth - 1; i >= 0; i--)
        if (prof->stack[i].req == req)
            return 1;
    return 0;
}

static int __attribute__((noinline)) settle(rp_prof_t *prof, const void *req, int phase,
                                            rp_tick_t now)
{
    rp_prof_frame_t *top;
    int need, newreq;

    for (;;) {
        top = &prof->stack[prof->depth - 1];
        if (top->kind == RP_FR_HOOK)
            break;                        /* nested inside a timed call */
        if (top->req == req) {
            if (top->kind == RP_FR_REQ || (phase >= 0 && top->id == phase))
                break;
            rp_prof_i_pop_call(prof, rp_prof_i_lazy_end(prof, top)); /* req's previous phase is over */
            continue;
        }
        if (prof->depth == 1)
            break;                        /* the root stays open */
        rp_prof_i_pop_call(prof, rp_prof_i_lazy_end(prof, top)); /* another request's frames are over */
    }
    if (phase >= 0 && top->kind == RP_FR_PHASE && top->req == req)
        return 0;                         /* already in this phase */

    /* A request already on the stack is not a new context: a subrequest's
     * output flows on into its parent's filters (SUBREQ_CORE). */
    newreq = top->req != req && !on_stack(prof, req);
    need = newreq + (phase >= 0) + 1;
    if (prof->depth + need > RP_MAX_DEPTH)
        return -1;
    if (newreq) {
        const char *label = prof->label_fn ? prof->label_fn(req, prof->scratch)
                                           : "request";
        push(prof, RP_FR_REQ, RP_PROF_DYN_RAW(entry_for_label(prof, NULL, 0, label)), req,
             now);
    }
    if (phase >= 0) {
        if (!rp_prof_id_known(prof, phase))
            return -1;
        push(prof, RP_FR_PHASE, phase, req, now);
    }
    return 0;
}


/* rp_prof_enter when frames must be closed or opened first, beyond the
 * usual phase change: out of line, so that the usual path saves no
 * registers for the call to settle. */
int __attribute__((noinline)) rp_prof_i_enter_settling(rp_prof_t *prof, const void *req,
                                                       int phase, int hook, rp_tick_t now)
{
    if (settle(prof, req, phase, now) < 0) {
        prof->dropped++;
        return -1;
    }
    return rp_prof_i_enter_hook(prof, req, hook, now, 0);
}

int rp_prof_enter(rp_prof_t *prof, const void *req, int phase, int hook,
                  rp_tick_t now)
{
    /* Ids from elsewhere than the registry: the checked road, which drops
     * the call as before (settle and enter_hook look each id up checked). */
    if (!rp_prof_id_known(prof, hook) || (phase >= 0 && !rp_prof_id_known(prof, phase))) {
        if (!prof->active)
            return -1;
        return req ? rp_prof_i_enter_settling(prof, req, phase, hook, now)
                   : rp_prof_i_enter_hook(prof, req, hook, now, 0);
    }
    return rp_prof_enter_hot(prof, req, phase, hook, now);
}

int rp_prof_enter_dynamic(rp_prof_t *prof, const void *req, const char *file,
                          int line, const char *label, rp_tick_t now)
{
    if (!prof->active)
        return -1;
    /* req NULL as in rp_prof_enter: nested in what is open, not taken for
     * a request context of its own (which would call label_fn(NULL)). */
    if ((req && settle(prof, req, -1, now) < 0) || prof->depth >= RP_MAX_DEPTH) {
        prof->dropped++;
        return -1;
    }
    push(prof, RP_FR_HOOK, RP_PROF_DYN_RAW(entry_for_label(prof, file, line, label)),
         req ? req : prof->stack[prof->depth - 1].req, now);
    return prof->depth - 1;
}

/* rp_prof_exit when the call's frame is not simply on top. */
void __attribute__((noinline)) rp_prof_i_exit_other(rp_prof_t *prof, int handle, rp_tick_t now)
{
    if (!prof->active || handle < 1 || handle >= prof->depth)
        return;
    /* Lazy frames opened inside this call end with their last child. */
    while (prof->depth - 1 > handle)
        rp_prof_i_pop_call(prof, rp_prof_i_lazy_end(prof, &prof->stack[prof->depth - 1]));
    rp_prof_i_pop(prof, now);
}

void rp_prof_exit(rp_prof_t *prof, int handle, rp_tick_t now)
{
    rp_prof_exit_hot(prof, handle, now);
}

/* Frames of a request that is gone belong to no request any more. */
static const char gone_req;

void rp_prof_forget(rp_prof_t *prof, const void *req)
{
    int i;
    if (!prof->active || !req)
        return;
    for (i = 1; i < prof->depth; i++)
        if (prof->stack[i].req == req)
            prof->stack[i].req = &gone_req;
}

/* The ticks of record rec's closed children so far (its children are
 * the records after it one level deeper, up to the next one at its
 * level or above). Rare: a CGI run's accounting. */
static rp_tick_t child_ticks(const rp_prof_t *prof, int rec)
{
    int d = prof->recs[rec].depth, i;
    rp_tick_t sub = 0;
    for (i = rec + 1; i < prof->nrec && prof->recs[i].depth > d; i++)
        if (prof->recs[i].depth == d + 1)
            sub += prof->recs[i].t1 - prof->recs[i].t0;
    return sub;
}

rp_tick_t rp_prof_add_child(rp_prof_t *prof, int handle, const char *file,
                            int line, const char *label, rp_tick_t ticks,
                            rp_tick_t now)
{
    rp_prof_frame_t *f;
    rp_tick_t el, avail, sub;

    if (!prof->active || handle < 1 || handle >= prof->depth
        || prof->depth >= RP_MAX_DEPTH)
        return 0;
    /* Lazy frames opened inside the call end with their last child. */
    while (prof->depth - 1 > handle)
        rp_prof_i_pop_call(prof, rp_prof_i_lazy_end(prof, &prof->stack[prof->depth - 1]));
    f = &prof->stack[handle];
    el = now > prof->recs[f->rec].t0 ? now - prof->recs[f->rec].t0 : 0;
    sub = child_ticks(prof, f->rec);
    avail = el > sub ? el - sub : 0;
    if (ticks > avail)
        ticks = avail;
    push(prof, RP_FR_HOOK, RP_PROF_DYN_RAW(entry_for_label(prof, file, line, label)), f->req,
         now - ticks);
    /* In the event log (the aggregate tree folds it, so its nodes match the
     * files) but marked: accounting, not a moment, so no timeline shows it. */
    prof->recs[prof->stack[prof->depth - 1].rec].acct = 1;
    rp_prof_i_pop_call(prof, now);
    return ticks;
}

/* cProfile's accounting from the records, in the order the frames were
 * opened (cf. _lsprof's Stop(), here for every frame at once). A frame is
 * a recursive call of its function (rc) when a frame of the same function
 * is among its ancestors, and only the outermost adds its total time (tt);
 * the same per (caller, callee) edge. A record's ancestors are the latest
 * records of each smaller depth: st[d] holds the function of the latest
 * record at depth d. Only a function (an edge) met before in the request
 * can have itself among its ancestors, so most records look no further. */
static APR_INLINE int among(const int *st, int n, int func)
{
    int d;
    for (d = 0; d < n; d++)
        if (st[d] == func)
            return 1;
    return 0;
}

/* Each record's self ticks: its ticks less its children's (a record's
 * parent is the latest record one level up; children come after their
 * parent, so each record's self first gathers its children's ticks, as
 * the tree's finish() does). A pop used to do this per frame; one pass
 * on a reader's demand is cheaper, and the status page's shapes and the
 * tree need none (docs/performance, twelfth round). An open record's
 * own ticks are 0 so far (t1 = t0), so its self reads 0; with open_sub,
 * its children's ticks so far are first put there by stack level. */
static void selfs(rp_prof_t *prof, rp_tick_t *open_sub)
{
    rp_prof_rec_t *recs = prof->recs;
    int par[RP_MAX_DEPTH];
    int i;

    for (i = 0; i < prof->nrec; i++) {
        rp_prof_rec_t *r = &recs[i];
        int d = r->depth;
        if (d > 0)
            recs[par[d - 1]].self += r->t1 - r->t0;
        r->self = 0;
        par[d] = i;
    }
    if (open_sub)
        for (i = 0; i < prof->depth; i++)
            open_sub[i] = recs[prof->stack[i].rec].self;
    for (i = 0; i < prof->nrec; i++) {
        rp_prof_rec_t *r = &recs[i];
        rp_tick_t tt = r->t1 - r->t0;
        r->self = tt > r->self ? tt - r->self : 0;
    }
}

/* The records' self, filled in once the request is over. */
static APR_INLINE void need_selfs(const rp_prof_t *prof)
{
    if (!prof->selfs_done && !prof->active) {
        selfs((rp_prof_t *)prof, NULL);
        ((rp_prof_t *)prof)->selfs_done = 1;
    }
}

static void fold(rp_prof_t *prof)
{
    int st[RP_MAX_DEPTH];
    int i;

    localize(prof);
    for (i = 0; i < prof->nentries; i++) {
        rp_prof_fn_t *t = &prof->tot[i];
        t->id = prof->ids[i];
        t->calls = 0;
        t->self = t->total = 0;
        prof->entries[i].rc = 0;
    }
    if (prof->active)
        return;         /* read before the end: 0 */
    need_selfs(prof);
    for (i = 0; i < prof->nrec; i++) {
        const rp_prof_rec_t *r = &prof->recs[i];
        rp_prof_fn_t *t = &prof->tot[r->func];

        if (t->calls++ && among(st, r->depth, r->func))
            prof->entries[r->func].rc++;
        else
            t->total += r->t1 - r->t0;
        t->self += r->self;
        st[r->depth] = r->func;
    }
    prof->folded = 1;
}

/* The totals, folded on the first reader's demand rather than at every
 * request's end: the status page's usual road (rp_agg's shapes) reads
 * none. The object is used by one thread at a time, so folding in a
 * reader changes no result. */
static APR_INLINE void totals(const rp_prof_t *prof)
{
    if (!prof->folded)
        fold((rp_prof_t *)prof);
}

/* Is the edge caller -> func open among the ancestors st[0 .. n-1]? */
static APR_INLINE int edge_among(const int *st, int n, int caller, int func)
{
    int d;
    for (d = 1; d < n; d++)
        if (st[d] == func && st[d - 1] == caller)
            return 1;
    return 0;
}

/* The edges, only when a query needs them (rp_prof_stats): the status
 * page's totals need none. The caller of a frame is the function of the
 * nearest record before it one level up. */
static void fold_edges(rp_prof_t *prof)
{
    int st[RP_MAX_DEPTH];
    int i;

    localize(prof);
    for (i = 0; i < prof->nentries; i++)
        prof->entries[i].first_edge = -1;
    for (i = 0; i < prof->nrec; i++) {
        const rp_prof_rec_t *r = &prof->recs[i];
        int d = r->depth;

        if (d > 0) {
            rp_prof_edge_t *g = &prof->edges[edge_for(prof, r->func, st[d - 1])];
            if (g->nc++ && edge_among(st, d, st[d - 1], r->func))
                g->rc++;
            else
                g->tt += r->t1 - r->t0;
            g->it += r->self;
        }
        st[d] = r->func;
    }
    prof->edges_folded = 1;
}

void rp_prof_end(rp_prof_t *prof, rp_tick_t now)
{
    if (!prof->active)
        return;
    while (prof->depth > 1) {
        rp_prof_frame_t *top = &prof->stack[prof->depth - 1];
        /* A call still running (the finishing code runs inside it) ends
         * now; lazy frames end with their last child. */
        rp_prof_i_pop_call(prof, top->kind == RP_FR_HOOK ? now : rp_prof_i_lazy_end(prof, top));
    }
    prof->root_ticks = now > prof->recs[0].t0 ? now - prof->recs[0].t0 : 0;
    rp_prof_i_pop_call(prof, now);
    prof->active = 0;
}

rp_tick_t rp_prof_root_ticks(const rp_prof_t *prof)
{
    return prof->root_ticks;
}

long rp_prof_dropped(const rp_prof_t *prof)
{
    return prof->dropped;
}

int rp_prof_active(const rp_prof_t *prof)
{
    return prof->active;
}

int rp_prof_nfuncs(const rp_prof_t *prof)
{
    localize(prof);
    return prof->nentries;
}

const int *rp_prof_ids(const rp_prof_t *prof, int *nf)
{
    localize(prof);
    *nf = prof->nentries;
    return prof->ids;
}

const rp_prof_fn_t *rp_prof_funcs_view(const rp_prof_t *prof, int *n)
{
    totals(prof);
    *n = prof->nentries;
    return prof->tot;
}

void **rp_prof_user(rp_prof_t *prof, int which)
{
    return &prof->user[which >= 0 && which < RP_PROF_NUSER ? which : 0];
}

apr_pool_t *rp_prof_pool(const rp_prof_t *prof)
{
    return prof->pool;
}

rp_stats_t *rp_prof_stats(const rp_prof_t *prof, apr_pool_t *p,
                          double sec_per_tick)
{
    rp_stats_t *st = apr_palloc(p, sizeof *st);
    rp_edge_t *edges;
    int i;

    /* The profile object is used by one thread at a time: filling in the
     * totals and edges on the first query that needs them changes no
     * result. */
    totals(prof);
    if (prof->folded && !prof->edges_folded)
        fold_edges((rp_prof_t *)prof);
    /* One array for every function's callers: each function gets a slice. */
    edges = apr_palloc(p, sizeof(rp_edge_t) * (apr_size_t)(prof->nedges + 1));

    st->nfuncs = prof->nentries;
    st->funcs = apr_palloc(p, sizeof(rp_func_t) * (apr_size_t)(prof->nentries + 1));
    for (i = 0; i < prof->nentries; i++) {
        const rp_prof_entry_t *e = &prof->entries[i];
        rp_func_t *f = &st->funcs[i];
        int j, n = 0, id = prof->ids[i];

        if (id >= 0) {
            const rp_key_t *k = &prof->reg->keys[id];
            f->file = k->file;
            f->line = k->line;
            f->name = k->name;
        }
        else {
            f->file = apr_pstrdup(p, e->file);
            f->line = e->line;
            f->name = apr_pstrdup(p, e->label);
        }
        f->key_slot = id + 1;       /* 0 for dynamic (id -1) */
        f->nc = prof->tot[i].calls;
        f->cc = prof->tot[i].calls - e->rc;
        f->tt = (double)prof->tot[i].self * sec_per_tick;
        f->ct = (double)prof->tot[i].total * sec_per_tick;
        for (j = e->first_edge; j >= 0; j = prof->edges[j].next)
            n++;
        f->ncallers = n;
        f->callers = edges;
        edges += n;
        /* Edges are kept newest first; list them oldest first. */
        for (j = e->first_edge; j >= 0; j = prof->edges[j].next) {
            const rp_prof_edge_t *g = &prof->edges[j];
            rp_edge_t *out = &f->callers[--n];
            out->caller = g->caller;
            out->nc = g->nc;
            out->cc = g->nc - g->rc;
            out->tt = (double)g->it * sec_per_tick;
            out->ct = (double)g->tt * sec_per_tick;
        }
    }
    return st;
}

/* ------------------------------------------- event log and live snapshot */

void rp_prof_set_event_log(rp_prof_t *prof, int max)
{
    if (max < 0)
        max = 0;
    prof->ev_max = max;
}

void rp_prof_want_event_log(rp_prof_t *prof, int max)
{
    if (max > prof->ev_max)
        rp_prof_set_event_log(prof, max);
}

rp_trace_t *rp_prof_trace(const rp_prof_t *prof, apr_pool_t *p, double sec_per_tick)
{
    rp_trace_t *tr = apr_pcalloc(p, sizeof *tr);
    rp_tick_t origin;
    int i;

    int nev = rp_prof_nevents(prof);

    localize(prof);
    tr->dropped = nev < prof->nrec && prof->ev_max ? prof->nrec - nev : 0;
    if (nev == 0)
        return tr;
    origin = prof->recs[0].t0;             /* the root, opened first */
    tr->ev = apr_palloc(p, sizeof(rp_trace_ev_t) * (apr_size_t)nev);
    tr->n = 0;
    for (i = 0; i < nev; i++) {
        const rp_prof_rec_t *e = &prof->recs[i];
        rp_trace_ev_t *o;
        if (e->acct)
            continue;       /* CPU time and exit status: no slice of their own */
        o = &tr->ev[tr->n++];
        o->func = e->func;
        o->depth = e->depth;
        o->ts = e->t0 > origin ? (double)(e->t0 - origin) * sec_per_tick * 1e6 : 0.0;
        o->dur = e->t1 > e->t0 ? (double)(e->t1 - e->t0) * sec_per_tick * 1e6 : 0.0;
    }
    return tr;
}

int rp_prof_nevents(const rp_prof_t *prof)
{
    if (!prof->ev_max)
        return 0;
    return prof->nrec < prof->ev_lim ? prof->nrec : prof->ev_lim;
}

const rp_prof_rec_t *rp_prof_log(const rp_prof_t *prof, int *n)
{
    localize(prof);
    need_selfs(prof);
    *n = rp_prof_nevents(prof);
    return prof->recs;
}

const rp_prof_rec_t *rp_prof_log_ticks(const rp_prof_t *prof, int *n)
{
    localize(prof);
    *n = rp_prof_nevents(prof);
    return prof->recs;
}

const rp_prof_rec_t *rp_prof_log_shape(rp_prof_t *prof, int *n)
{
    delocalize(prof);
    *n = rp_prof_nevents(prof);
    return prof->recs;
}

int rp_prof_log_whole(const rp_prof_t *prof)
{
    return prof->ev_max && prof->nrec <= prof->ev_lim;
}

int rp_prof_outer(const rp_prof_rec_t *log, int n, unsigned char *flags, int *caller)
{
    int st[RP_MAX_DEPTH];
    int i;

    memset(st, 0xff, sizeof st);        /* -1: no function */
    for (i = 0; i < n; i++) {
        int f = log[i].func, d = log[i].depth;
        if (d < 0 || d >= RP_MAX_DEPTH)
            return -1;
        flags[i] = (among(st, d, f) ? 0 : RP_PROF_FN_OUTER)
                   | (d > 0 && edge_among(st, d, st[d - 1], f) ? 0 : RP_PROF_EDGE_OUTER);
        if (caller)
            caller[i] = d > 0 ? st[d - 1] : -1;
        st[d] = f;
    }
    return 0;
}

void rp_prof_events(const rp_prof_t *prof, rp_prof_ev_t *out)
{
    int i, n = rp_prof_nevents(prof);

    localize(prof);
    for (i = 0; i < n; i++) {
        const rp_prof_rec_t *e = &prof->recs[i];
        out[i].func = e->func;
        out[i].depth = e->depth;
        out[i].t0 = e->t0;
        out[i].t1 = e->t1;
    }
}

void rp_prof_event(const rp_prof_t *prof, int i, int *func, int *depth,
                   rp_tick_t *t0, rp_tick_t *t1)
{
    const rp_prof_rec_t *e = &prof->recs[i];
    localize(prof);
    *func = e->func;
    *depth = e->depth;
    *t0 = e->t0;
    *t1 = e->t1;
}

void rp_prof_func_key(const rp_prof_t *prof, int i, const char **file,
                      int *line, const char **name)
{
    const rp_prof_entry_t *e;
    localize(prof);
    e = &prof->entries[i];
    if (prof->ids[i] >= 0) {
        const rp_key_t *k = &prof->reg->keys[prof->ids[i]];
        *file = k->file;
        *line = k->line;
        *name = k->name;
    }
    else {
        *file = e->file;
        *line = e->line;
        *name = e->label;
    }
}

rp_tick_t rp_prof_self_now(const rp_prof_t *prof, rp_tick_t now, rp_tick_t *out)
{
    rp_tick_t sub[RP_MAX_DEPTH];
    int i;
    localize(prof);
    if (prof->folded) {
        for (i = 0; i < prof->nentries; i++)
            out[i] = prof->tot[i].self;
    }
    else {
        /* Closed frames from their records (an open one's self is 0 so
         * far, its closed children's ticks go to sub); the open ones
         * below. */
        if (prof->active)
            selfs((rp_prof_t *)prof, sub);
        else
            need_selfs(prof);
        for (i = 0; i < prof->nentries; i++)
            out[i] = 0;
        for (i = 0; i < prof->nrec; i++)
            out[prof->recs[i].func] += prof->recs[i].self;
    }
    if (!prof->active || prof->depth == 0)
        return 0;
    /* An open frame's own time so far: its elapsed time less its closed
     * children and less the open child above it. */
    for (i = 0; i < prof->depth; i++) {
        const rp_prof_frame_t *f = &prof->stack[i];
        const rp_prof_rec_t *r = &prof->recs[f->rec];
        rp_tick_t el = now > r->t0 ? now - r->t0 : 0;
        rp_tick_t child = 0;
        if (i + 1 < prof->depth) {
            rp_tick_t t0 = prof->recs[prof->stack[i + 1].rec].t0;
            child = now > t0 ? now - t0 : 0;
        }
        if (el > sub[i] + child)
            out[r->func] += el - sub[i] - child;
    }
    return now > prof->recs[0].t0 ? now - prof->recs[0].t0 : 0;
}
