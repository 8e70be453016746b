/*
 * rp_prof_int.h - the live profile's layout and its hot path, for callers
 * that want rp_prof_enter and rp_prof_exit inlined into their own code
 * (the glue's trampolines: docs/performance, eleventh round). Not part of
 * the API: use rp_prof.h; only rp_prof.c and reqprof_tramp.h include this.
 */
#ifndef RP_PROF_INT_H
#define RP_PROF_INT_H

#include "rp_prof.h"

/* Inlined wherever called (gcc keeps one out-of-line copy per file
 * otherwise, and the call is what inlining saves). */
#define RP_PROF_HOT __attribute__((always_inline))

typedef enum { RP_FR_REQ, RP_FR_PHASE, RP_FR_HOOK } rp_prof_kind_e;

/* Per-request accounting of one function (cf. _lsprof's ProfilerEntry);
 * its calls, self ticks and total ticks (outermost calls only) are in
 * the profile's tot array, which readers take in place. */
typedef struct entry {
    int64_t rc;          /* calls made while already on the stack */
    int first_edge;      /* head of this function's caller-edge list, -1 */
    const char *file;    /* dynamic only */
    int line;            /* dynamic only */
    const char *label;   /* dynamic only */
} rp_prof_entry_t;

/* One caller->callee edge (cf. ProfilerSubEntry). */
typedef struct edge {
    int caller;          /* local entry index of the caller */
    int next;            /* next edge of the same callee, -1 */
    int64_t nc, rc;
    rp_tick_t it, tt;
} rp_prof_edge_t;

/* An open frame. Its function and its start are its record's (func,
 * t0), not copied here: each push stores what it must once. Its child
 * time and self time are not kept while it runs: selfs() in rp_prof.c
 * takes them from the records when a reader needs them (docs/performance,
 * twelfth round). */
typedef struct frame {
    rp_prof_kind_e kind;
    int id;              /* its function, raw (RP_PROF_DYN_RAW) */
    const void *req;     /* request context the frame belongs to */
    int rec;             /* index of the frame's record */
} rp_prof_frame_t;

/* One frame's record (rp_prof.h's rp_prof_rec_t), in the order frames
 * were opened: every frame of the request has one (the first ev_lim of
 * them are the event log). */


/* Stamped map slot: valid only when stamp equals the profile's serial, so
 * a new request needs no clearing of the map. */
typedef struct map_slot {
    uint32_t stamp;
    int32_t entry;
} rp_prof_slot_t;

struct rp_prof {
    apr_pool_t *pool;          /* arrays; grows, never cleared */
    apr_pool_t *scratch;       /* per-request strings; cleared by begin */
    const rp_registry_t *reg;
    rp_label_fn label_fn;

    uint32_t serial;           /* request number, stamps the map */
    rp_prof_slot_t *map;           /* registry id -> local entry */
    int map_cap;

    rp_prof_entry_t *entries;
    int *ids;                  /* [entries_cap] each entry's registry id, -1 when
                                * dynamic: one array for rp_prof_ids */
    rp_prof_fn_t *tot;         /* [entries_cap] each entry's id (again, as the
                                * status page reads it) and totals */
    int nentries, entries_cap;
    rp_prof_edge_t *edges;
    int nedges, edges_cap;

    rp_prof_frame_t stack[RP_MAX_DEPTH];
    int depth;
    /* The frame closed last: its record and its end. A lazy frame ends
     * with its last child, which is that frame when its record is newer
     * than the lazy frame's own (rp_prof_i_lazy_end). */
    int last_rec;
    rp_tick_t last_end;
    int active;
    long dropped;
    rp_tick_t root_ticks;

    /* optional mirror of the open frames (rp_prof_set_mirror): a copy,
     * so that a frame's store needs no pointer chasing. Always written:
     * with no mirror, mirror_cap is 0 (no code is stored) and the depth
     * goes to no_mirror_depth, which saves a test a push and a pop. */
    int32_t *mirror_code;
    volatile int32_t *mirror_depth;
    int32_t no_mirror_depth;
    const int *mirror_idmap;   /* [map_cap]: the mirror's own, or mirror_pad */
    int *mirror_pad;           /* a short idmap padded to map_cap (NULL: none yet) */
    int mirror_cap;
    rp_prof_mirror_t mirror;

    /* every frame's record (always on), folded into entries and edges
     * by fold() after the request ends, on demand */
    rp_prof_rec_t *recs;
    int nrec, recs_cap;
    int nlocal;                /* recs[0 .. nlocal-1] hold local entries,
                                * the rest raw functions (localize()) */
    int selfs_done;            /* the records' self is filled in (selfs()) */
    int folded;                /* entries hold the records' sums */
    int edges_folded;          /* edges do too (fold_edges, on demand) */

    /* optional event log, a view of the records: off while ev_max is 0;
     * ev_lim is ev_max as it was when the request began */
    int ev_max, ev_lim;

    void *user[RP_PROF_NUSER]; /* rp_prof_user */
};

/* Rare and out of line (rp_prof.c): arrays growing, a dynamic frame's
 * name into the mirror, a lazy frame closed, and the frames a call belongs
 * in closed and opened by settle (rp_prof_enter_hot makes the usual phase
 * change itself). */
void rp_prof_i_grow_recs(rp_prof_t *prof);
void rp_prof_i_mirror_dyn(const rp_prof_mirror_t *m, const rp_prof_entry_t *e, int d);
void rp_prof_i_pop_call(rp_prof_t *prof, rp_tick_t end);
void rp_prof_i_exit_other(rp_prof_t *prof, int handle, rp_tick_t now);
int rp_prof_i_enter_settling(rp_prof_t *prof, const void *req, int phase, int hook,
                             rp_tick_t now);

static APR_INLINE int rp_prof_id_known(const rp_prof_t *prof, int id)
{
    return (unsigned)id < (unsigned)prof->map_cap && id < prof->reg->n;
}

/* A record's function as a push writes it (the "raw" form): the registry
 * id of a registry function, RP_PROF_DYN_RAW(e) for the dynamic entry e.
 * No entry is looked up on the hot path: localize() in rp_prof.c makes
 * the raw functions local entries for the first reader that wants
 * entries (docs/performance, thirteenth round). */
#define RP_PROF_DYN_RAW(e) (-1 - (e))

/* Store what the frame at depth d (raw function raw) is into the
 * mirror: for a registry function one code from the map, then the depth.
 * reg: raw is known to be a registry id (no test). */
static APR_INLINE RP_PROF_HOT void rp_prof_i_mirror_push(rp_prof_t *prof, int raw, int d,
                                                         int reg)
{
    if (d < prof->mirror_cap) {
        if (reg || raw >= 0)
            prof->mirror_code[d] = prof->mirror_idmap[raw];    /* covers map_cap */
        else
            rp_prof_i_mirror_dyn(&prof->mirror, &prof->entries[RP_PROF_DYN_RAW(raw)], d);
    }
    *prof->mirror_depth = d + 1;
}

/* One frame and its record, from values the caller holds: nothing of
 * the profile is read here (rp_prof_i_push, rp_prof_i_push_phase_hook). */
static APR_INLINE RP_PROF_HOT void
rp_prof_i_put(rp_prof_frame_t *f, rp_prof_rec_t *r, rp_prof_kind_e kind, int raw, int depth,
              int rec, const void *req, rp_tick_t now)
{
    r->func = raw;
    r->depth = (int16_t)depth;
    r->acct = 0;
    r->t0 = r->t1 = now;
    f->kind = kind;
    f->id = raw;
    f->req = req;
    f->rec = rec;
}

/* Returns the new frame's index (the depth it was pushed at), which the
 * caller would otherwise read again after the mirror's stores. reg as
 * for rp_prof_i_mirror_push. */
static APR_INLINE RP_PROF_HOT int
rp_prof_i_push_as(rp_prof_t *prof, rp_prof_kind_e kind, int raw, const void *req, rp_tick_t now,
                  int reg)
{
    int depth = prof->depth, nrec = prof->nrec;
    if (nrec == prof->recs_cap)
        rp_prof_i_grow_recs(prof);
    rp_prof_i_put(&prof->stack[depth], &prof->recs[nrec], kind, raw, depth, nrec, req, now);
    prof->nrec = nrec + 1;
    prof->depth = depth + 1;
    /* Last, as in pop. */
    rp_prof_i_mirror_push(prof, raw, depth, reg);
    return depth;
}

#define rp_prof_i_push(prof, kind, raw, req, now) rp_prof_i_push_as(prof, kind, raw, req, now, 0)

/* A phase frame and the timed call's frame in it, at once (the usual
 * phase change): the profile's fields read once, the records and frames
 * written, then the mirror. Separate pushes read them again after each
 * store through a pointer that may alias them. The caller checked that
 * two more frames fit. Returns the call's frame. */
static APR_INLINE RP_PROF_HOT int
rp_prof_i_push_phase_hook(rp_prof_t *prof, int phase, int hook, const void *req,
                          rp_tick_t now)
{
    int depth = prof->depth, nrec = prof->nrec, cap;
    rp_prof_frame_t *f = &prof->stack[depth];
    rp_prof_rec_t *r;
    int32_t *code;

    if (nrec + 2 > prof->recs_cap)
        rp_prof_i_grow_recs(prof);      /* doubles: room for both */
    r = &prof->recs[nrec];
    cap = prof->mirror_cap;
    code = prof->mirror_code;
    rp_prof_i_put(&f[0], &r[0], RP_FR_PHASE, phase, depth, nrec, req, now);
    rp_prof_i_put(&f[1], &r[1], RP_FR_HOOK, hook, depth + 1, nrec + 1, req, now);
    prof->nrec = nrec + 2;
    prof->depth = depth + 2;
    /* Registry ids both (the glue's slots hold nothing else). */
    if (depth + 1 < cap) {
        const int *idmap = prof->mirror_idmap;
        int c0 = idmap[phase], c1 = idmap[hook];
        code[depth] = c0;
        code[depth + 1] = c1;
    }
    else if (depth < cap)
        code[depth] = prof->mirror_idmap[phase];
    *prof->mirror_depth = depth + 2;
    return depth + 1;
}

/* Close the top frame at end: its record gets the close time (never
 * before its start); its self time and the accounting of _lsprof's
 * Stop() are selfs()'s and fold()'s (rp_prof.c), from the records. */
static APR_INLINE RP_PROF_HOT void rp_prof_i_pop(rp_prof_t *prof, rp_tick_t end)
{
    rp_prof_frame_t *f = &prof->stack[--prof->depth];
    rp_prof_rec_t *r = &prof->recs[f->rec];

    r->t1 = end > r->t0 ? end : r->t0;
    prof->last_rec = f->rec;
    prof->last_end = r->t1;
    /* Last: a store through the mirror may alias the profile's fields as
     * far as the compiler knows, so nothing of them is read after it. */
    *prof->mirror_depth = prof->depth;
}

/* When the lazy frame f (a phase or request frame, every child closed)
 * ends: at its last child's end, or at its start when it has none. */
static APR_INLINE RP_PROF_HOT rp_tick_t rp_prof_i_lazy_end(const rp_prof_t *prof,
                                                           const rp_prof_frame_t *f)
{
    rp_tick_t t0 = prof->recs[f->rec].t0;
    return prof->last_rec > f->rec && prof->last_end > t0 ? prof->last_end : t0;
}

/* The timed call itself, once the frames it belongs in are open. A
 * request-less call belongs to the request it runs inside, so calls
 * nested in it for that request are not taken for another request. */
static APR_INLINE RP_PROF_HOT int
rp_prof_i_enter_hook(rp_prof_t *prof, const void *req, int hook, rp_tick_t now, int known)
{
    /* Only an id not known to be the registry's is checked. */
    if (prof->depth >= RP_MAX_DEPTH || (!known && !rp_prof_id_known(prof, hook))) {
        prof->dropped++;
        return -1;
    }
    return rp_prof_i_push(prof, RP_FR_HOOK, hook, req ? req : prof->stack[prof->depth - 1].req,
                          now);
}

/* The same where the caller knows there is room and hook is the
 * registry's (rp_prof_enter_hot): no test at all. */
static APR_INLINE RP_PROF_HOT int
rp_prof_i_enter_hook_room(rp_prof_t *prof, const void *req, int hook, rp_tick_t now)
{
    return rp_prof_i_push_as(prof, RP_FR_HOOK, hook, req, now, 1);
}

/* When the top frame is a phase of req right above req's own frame, as
 * settle would find it: the phase ends with its last child. Returns the
 * new top (req's frame), else top as it was. */
static APR_INLINE RP_PROF_HOT const rp_prof_frame_t *
rp_prof_i_end_phase(rp_prof_t *prof, const rp_prof_frame_t *top, const void *req)
{
    if (top->kind == RP_FR_PHASE && prof->depth >= 2 && top[-1].kind == RP_FR_REQ
        && top[-1].req == req) {
        rp_prof_i_pop(prof, rp_prof_i_lazy_end(prof, top));
        top--;
    }
    return top;
}

/* rp_prof_enter and rp_prof_exit (rp_prof.h), inlined. hook and phase
 * (or -1) must be ids of prof's registry (rp_prof_id_known): the glue's
 * slots hold nothing else, and rp_prof_enter checks them first. */
static APR_INLINE RP_PROF_HOT int rp_prof_enter_hot(rp_prof_t *prof, const void *req, int phase,
                                                   int hook, rp_tick_t now)
{
    const rp_prof_frame_t *top;
    int depth = prof->depth;

    /* One test for two rare cases. No frame: the profile is not active
     * (begin pushes the root before it sets active, end pops every
     * frame, and nothing else pops the root). Every frame in use:
     * settle may close some (another request's lazy frames), else the
     * call is dropped, as rp_prof_i_enter_hook drops a call with no room. */
    if (depth < 1 || depth >= RP_MAX_DEPTH) {      /* one unsigned compare */
        if (depth < 1)
            return -1;
        if (req)
            return rp_prof_i_enter_settling(prof, req, phase, hook, now);
        prof->dropped++;
        return -1;
    }
    top = &prof->stack[depth - 1];
    /* req NULL: a call on the request's behalf with no request of its own
     * (a connection filter carrying its data): nest it in what is open. */
    if (!req)
        return rp_prof_i_enter_hook_room(prof, top->req, hook, now);
    /* Nothing to settle, as settle itself would find, when the top frame
     * is of the same request and is a timed call and this call has no
     * phase (a filter), or is this call's phase: the usual cases. */
    if (top->req != req)
        return rp_prof_i_enter_settling(prof, req, phase, hook, now);
    if (phase < 0) {
        if (top->kind != RP_FR_HOOK) {
            /* A call with no phase (a filter) outside any timed call of
             * its request, as settle would take it: the phase left open
             * ends with its last child and the call nests in the
             * request's own frame (once a request: the input filters that
             * discard its body after the handler). */
            top = rp_prof_i_end_phase(prof, top, req);
            if (top->kind != RP_FR_REQ)
                return rp_prof_i_enter_settling(prof, req, phase, hook, now);
        }
    }
    else if (top->kind != RP_FR_PHASE || top->id != phase) {
        /* The usual phase change, as settle would make it without its
         * loop and calls: the top frame is another phase of this request,
         * right above the request's own frame; it ends with its last child
         * and this phase opens (or the request's first phase opens).
         * Anything else, or no room, is settle's. */
        top = rp_prof_i_end_phase(prof, top, req);
        if (top->kind != RP_FR_REQ || prof->depth + 2 > RP_MAX_DEPTH)
            return rp_prof_i_enter_settling(prof, req, phase, hook, now);
        return rp_prof_i_push_phase_hook(prof, phase, hook, req, now);
    }
    return rp_prof_i_enter_hook_room(prof, req, hook, now);
}

static APR_INLINE RP_PROF_HOT void rp_prof_exit_hot(rp_prof_t *prof, int handle, rp_tick_t now)
{
    /* The usual case, the call's frame on top, in fewer tests than the
     * general one's; anything else (lazy frames opened inside the call, a
     * dropped call, the request over) is rp_prof_i_exit_other's. An
     * inactive profile has no frames (rp_prof_end pops them all, begin
     * pushes the root before it sets active), so a handle above 0 on top
     * is one of an active profile: no test of active. */
    if (__builtin_expect(handle == prof->depth - 1 && handle > 0, 1))
        rp_prof_i_pop(prof, now);
    else
        rp_prof_i_exit_other(prof, handle, now);
}

#endif
