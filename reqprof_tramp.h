/*
 * reqprof_tramp.h - what every trampoline shares: slots, the timed call
 * around the original function, and the macros that make trampolines by
 * the hundred (C has no closures: trampoline i knows its slot i).
 *
 * Internal to the glue: reqprof_wrap.c (request hooks), reqprof_filters.c
 * (output and input filters), reqprof_proxy.c (mod_proxy's hooks) and
 * reqprof_cgi.c (CGI runs). The functions declared here are in
 * reqprof_tramp.c.
 */
#ifndef REQPROF_TRAMP_H
#define REQPROF_TRAMP_H

#include "httpd.h"
#include "rp_clock.h"
#include "rp_prof_int.h"
#include "reqprof_state.h"

/* One wrapped function: the original and the registry ids to charge. */
typedef struct reqprof_slot {
    void (*orig)(void);   /* cast back to the signature by its trampoline */
    int hook;             /* registry id of the entry */
    int phase;            /* registry id of its phase node, -1 for none */
} reqprof_slot_t;

/* The layout every APR hook link struct shares (apr_hooks.h). */
typedef struct reqprof_hook_link {
    void (*pFunc)(void);
    const char *szName;
    const char * const *aszPredecessors;
    const char * const *aszSuccessors;
    int nOrder;
} reqprof_hook_link_t;

/* Ten and a hundred trampolines at a time; slot index a*100 + b*10 + c. */
#define REQPROF_T10(M, a, b) \
    M(a,b,0) M(a,b,1) M(a,b,2) M(a,b,3) M(a,b,4) \
    M(a,b,5) M(a,b,6) M(a,b,7) M(a,b,8) M(a,b,9)
#define REQPROF_T100(M, a) \
    REQPROF_T10(M,a,0) REQPROF_T10(M,a,1) REQPROF_T10(M,a,2) REQPROF_T10(M,a,3) \
    REQPROF_T10(M,a,4) REQPROF_T10(M,a,5) REQPROF_T10(M,a,6) REQPROF_T10(M,a,7) \
    REQPROF_T10(M,a,8) REQPROF_T10(M,a,9)
#define REQPROF_T30(M) REQPROF_T10(M,0,0) REQPROF_T10(M,0,1) REQPROF_T10(M,0,2)
#define REQPROF_SLOT_IDX(a, b, c) ((a) * 100 + (b) * 10 + (c))

/* What a trampoline carries from its call's start to its end: 16 bytes,
 * returned and passed by value in two registers. No trampoline holds a
 * local whose address is taken, so -fstack-protector-strong (apxs's
 * flags) puts no canary check in them: a dozen instructions per call. */
typedef struct reqprof_hot {
    reqprof_state_t *st;  /* NULL: not profiled, call the original only */
    unsigned gen;
    int frame;
} reqprof_hot_t;

/* Filters added at run time are wrapped by reqprof_filters_scan, which
 * sits above every trampoline (it needs the filter trampolines): it is
 * handed down with reqprof_tramp_set_chain_scan (mod_reqprof.c, at
 * child_init) and called through this pointer only when a chain's head
 * moved. */
typedef void (*reqprof_chain_scan_fn)(reqprof_state_t *st, request_rec *r);
extern reqprof_chain_scan_fn reqprof_chain_scan;
void reqprof_tramp_set_chain_scan(reqprof_chain_scan_fn fn);

/* Both heads compared in one test (after every timed call). */
static APR_INLINE void reqprof_chain_check(reqprof_state_t *st, request_rec *r)
{
    if ((((uintptr_t)r->output_filters ^ (uintptr_t)st->seen_out)
         | ((uintptr_t)r->input_filters ^ (uintptr_t)st->seen_in)) != 0)
        reqprof_chain_scan(st, r);
}

/* The enter and exit are inlined into every trampoline (always_inline:
 * gcc would make them one out-of-line copy per file): one call layer
 * less each way, about 600 instructions a request on the bench's static
 * file (docs/performance, ninth round). The _inl forms inline the
 * profile's own enter and exit too (rp_prof_int.h), one more call layer
 * less (~700 a request, eleventh round): for code that exists once per
 * signature (reqprof_wrap.c's shared trampolines, the filter calls), not
 * for trampolines made by the hundred, where it would double the text.
 * clk is the clock both reads take (rp_clock_now_as): the shared bodies
 * exist once per clock (REQPROF_BODIES), the rest test at each read. */
static APR_INLINE __attribute__((always_inline)) reqprof_hot_t
reqprof_hot_enter_as(request_rec *r, const reqprof_slot_t *s, int inl, int clk)
{
    reqprof_hot_t h;
    h.st = reqprof_state(r);
    h.gen = 0;
    h.frame = -1;
    if (!h.st)
        return h;
    h.gen = h.st->gen;
    h.st->refs++;
    h.frame = inl ? rp_prof_enter_hot(h.st->prof, r, s->phase, s->hook, rp_clock_now_as(clk))
                  : rp_prof_enter(h.st->prof, r, s->phase, s->hook, rp_clock_now_as(clk));
    return h;
}

/* The call has returned: close its frame and, when its request is still
 * alive, check r's filter chains. The request may have ended inside the
 * call (its pool destroyed): then the generation moved on and only the
 * reference is ours. One read of gen serves both: while the
 * request lives the object is not released, so it cannot change
 * between them, and reqprof_call_done recycles only a released one. */
static APR_INLINE __attribute__((always_inline)) void
reqprof_hot_exit_r_as(reqprof_hot_t h, request_rec *r, int inl, int clk)
{
    rp_tick_t now = rp_clock_now_as(clk);
    int alive = h.st->gen == h.gen;
    if (alive) {
        if (inl)
            rp_prof_exit_hot(h.st->prof, h.frame, now);
        else
            rp_prof_exit(h.st->prof, h.frame, now);
    }
    reqprof_call_done(h.st);
    if (alive)
        reqprof_chain_check(h.st, r);
}

#define reqprof_hot_enter(r, s) reqprof_hot_enter_as((r), (s), 0, RP_CLOCK_CHOSEN)
#define reqprof_hot_exit_r(h, r) reqprof_hot_exit_r_as((h), (r), 0, RP_CLOCK_CHOSEN)
#define reqprof_hot_enter_inl(r, s) reqprof_hot_enter_as((r), (s), 1, RP_CLOCK_CHOSEN)
#define reqprof_hot_exit_r_inl(h, r) reqprof_hot_exit_r_as((h), (r), 1, RP_CLOCK_CHOSEN)

/* On x86-64 (ELF) a trampoline is a 16-byte stub made by REQPROF_STUB:
 * it puts its slot's index in the first argument register its signature
 * leaves free and jumps to one shared body per signature, which has the
 * profile's enter and exit inlined (reqprof_wrap.c, reqprof_filters.c).
 * Each body is built twice, once per clock, and the stub jumps through a
 * pointer that post_config sets to the one for the clock rp_clock_init
 * chose (reqprof_wrap_set_clock, reqprof_filters_set_clock): the same
 * three instructions as a direct jump, and no clock test in the body
 * (docs/performance, fifteenth round).
 * Elsewhere, or built with -DREQPROF_C_TRAMPOLINES, each trampoline is a
 * C function (TRAMPOLINE, below). */
#if defined(__x86_64__) && defined(__ELF__) && !defined(REQPROF_C_TRAMPOLINES)
#define REQPROF_STUBS 1

/* Stub NAMEabc, for a top-level asm block: index a*100+b*10+c into REG
 * (written as a sum: "015" would be octal to the assembler), then on to
 * the body that the pointer GEN holds. endbr64 (a no-op without CET)
 * keeps it a valid target of an indirect call. */
#define REQPROF_STUB(NAME, REG, GEN, a, b, c) \
    "\t.globl " #NAME #a #b #c "\n" \
    "\t.hidden " #NAME #a #b #c "\n" \
    "\t.type " #NAME #a #b #c ", @function\n" \
    "\t.p2align 4\n" \
    #NAME #a #b #c ":\n" \
    "\t.cfi_startproc\n" \
    "\tendbr64\n" \
    "\tmovl $(" #a "*100+" #b "*10+" #c "), " REG "\n" \
    "\tjmp *" GEN "(%rip)\n" \
    "\t.cfi_endproc\n" \
    "\t.size " #NAME #a #b #c ", .-" #NAME #a #b #c "\n"

/* What C sees of a stub: an address, cast to its type where it is used. */
#define REQPROF_STUB_DECL(NAME, a, b, c) \
    __attribute__((visibility("hidden"))) void NAME##a##b##c(void);

/* A shared body made once per clock by DEF(SUFFIX, CLK): NAME_tsc and
 * NAME_mono, and the pointer NAME_to that the stubs jump through. It
 * holds the _mono one until REQPROF_BODIES_PICK, which post_config runs
 * right after rp_clock_init, before anything is wrapped. Hidden even in
 * builds without -fvisibility=hidden (ASan's): the stubs load it
 * PC-relative, which a symbol other objects could override forbids. */
#define REQPROF_BODIES(NAME, DEF) \
    DEF(_tsc, RP_CLOCK_TSC) \
    DEF(_mono, RP_CLOCK_MONO) \
    __attribute__((used, visibility("hidden"))) void (*NAME##_to)(void) = \
        (void (*)(void))NAME##_mono;

/* NAME_to on the body for the clock rp_clock_init chose. */
#define REQPROF_BODIES_PICK(NAME) \
    (NAME##_to = rp_clock_use_tsc ? (void (*)(void))NAME##_tsc : (void (*)(void))NAME##_mono)
#endif

/* A trampoline returning RET for a function taking PARAMS, called with
 * ARGS, whose request is REQ; slot array SLOTS, index a*100+b*10+c. */
#define TRAMPOLINE(NAME, SLOTS, RET, PARAMS, ARGS, REQ, a, b, c) \
static RET NAME##a##b##c PARAMS \
REQPROF_TIMED_CALL(RET, PARAMS, &SLOTS[REQPROF_SLOT_IDX(a, b, c)], ARGS, REQ, 0, \
                   RP_CLOCK_CHOSEN)

/* The body of a trampoline (a C one above, or a stub's shared body): the
 * original of slot S, a function RET (PARAMS), called with ARGS around
 * the timed call for request REQ; INL and CLK as for reqprof_hot_enter_as. */
#define REQPROF_TIMED_CALL(RET, PARAMS, S, ARGS, REQ, INL, CLK) \
{ \
    const reqprof_slot_t *s = (S); \
    RET (*fn) PARAMS = (RET (*) PARAMS)s->orig; \
    reqprof_hot_t h = reqprof_hot_enter_as(REQ, s, INL, CLK); \
    RET rv; \
    if (!h.st) \
        return fn ARGS; \
    rv = fn ARGS; \
    reqprof_hot_exit_r_as(h, REQ, INL, CLK); \
    return rv; \
}

/* ---- shared by the wrapping code of every timing unit ---- */

/* This generation's functions (phases, hook entries, filters, ...). */
extern rp_registry_t *reqprof_registry;

/* pre_config: forget the previous generation's registry and pool. */
void reqprof_tramp_reset(void);

/* post_config, before anything is wrapped: a new registry and line
 * numbering from pconf. */
void reqprof_tramp_generation(apr_pool_t *pconf);

/* The pool of this generation (pconf) while wrapping. */
extern apr_pool_t *reqprof_gen_pool;

/* Load address of this DSO: functions there are ours (trampolines). */
extern void *reqprof_own_base;

/* "mod_x.c" when fn lives in mod_x.so, else NULL; *base is the object's
 * load address (NULL if unknown). */
const char *reqprof_so_module_file(apr_pool_t *p, void *fn, void **base);

/* The module file to charge a hook entry to. */
const char *reqprof_entry_file(apr_pool_t *p, const reqprof_hook_link_t *e, void **base);

/* Next free line number for entries of hook in file (1, 2, ...): several
 * entries of one module for one hook are told apart by it. */
int reqprof_next_line(const char *hook, const char *file);

/* Log once per generation that something could not be timed. */
void reqprof_warn_full(server_rec *s, const char *what, const char *who);

/* A wrapper's own way with some entries (mod_cgi's handler): 1 when it
 * took entry e (registry id, phase id, module file), 0 to wrap it as
 * usual. */
typedef int (*reqprof_wrap_special_fn)(reqprof_hook_link_t *e, int id, int phase,
                                       const char *file);

/* Wrap every entry of a hook array with the trampolines given; returns
 * how many were wrapped. Entries from this DSO are skipped; special (may
 * be NULL) is asked first about each. */
int reqprof_wrap_links(apr_array_header_t *arr, const char *hookname,
                       int phase, reqprof_slot_t *slots, void (*const *tramps)(void),
                       int cap, int *used, reqprof_wrap_special_fn special,
                       server_rec *s);

#endif
