/*
 * reqprof_wrap.c - time every module's request hook entries.
 *
 * After apr_hook_sort_all() every hook's entries sit in an array that
 * ap_hook_get_<name>() returns, laid out as {pFunc, szName, predecessors,
 * successors, nOrder}. We swap each pFunc for a trampoline that reads the
 * clock, calls the original and reads the clock again. C has no closures,
 * so trampolines are a macro-made table per hook signature: slot i calls
 * slots[i].orig and knows its own registry ids, never guessing them from
 * its arguments.
 *
 * A restart (graceful or not) reloads every DSO, this one included, and
 * rebuilds the arrays: everything here is per generation and redone in
 * post_config; pre_config forgets the old slots explicitly in case a DSO
 * was not really unloaded.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

#include "rp_parse.h"

#include "reqprof_config.h"
#include "reqprof_cgi.h"
#include "reqprof_state.h"
#include "reqprof_tramp.h"
#include "reqprof_wrap.h"

APLOG_USE_MODULE(reqprof);

typedef enum {
    SIG_INT_R,        /* int (request_rec *) */
    SIG_VOID_R,       /* void (request_rec *) */
    SIG_INT_R_INT,    /* int (request_rec *, int): quick_handler */
    SIG_INT_R_STR,    /* int (request_rec *, const char *): note_auth_failure */
    SIG_STAT,         /* apr_status_t (apr_finfo_t *, request_rec *, apr_int32_t) */
    SIG_HTACCESS,     /* apr_status_t (request_rec *, const char *, const char *,
                                       ap_configfile_t **, const char **) */
    SIG_COUNT
} sig_e;

#define N_INT_R 400
#define N_SMALL 30

static reqprof_slot_t slots_int_r[N_INT_R];
static reqprof_slot_t slots_void_r[N_SMALL];
static reqprof_slot_t slots_int_r_int[N_SMALL];
static reqprof_slot_t slots_int_r_str[N_SMALL];
static reqprof_slot_t slots_stat[N_SMALL];
static reqprof_slot_t slots_htaccess[N_SMALL];

#ifdef REQPROF_STUBS
/* Stubs (reqprof_tramp.h): 550 of them cost ~9 KB of text where C
 * trampolines with the profile's enter and exit inlined would cost
 * ~700 KB (docs/performance, eleventh round). */

/* The shared bodies: slot i's original called with the stub's arguments,
 * each built once per clock (REQPROF_BODIES, reqprof_tramp.h). */
#define BODY_INT_R(SUF, CLK) \
int reqprof_gen_int_r##SUF(request_rec *r, int i) \
REQPROF_TIMED_CALL(int, (request_rec *r), &slots_int_r[i], (r), r, 1, CLK)

#define BODY_INT_R_INT(SUF, CLK) \
int reqprof_gen_int_r_int##SUF(request_rec *r, int x, int i) \
REQPROF_TIMED_CALL(int, (request_rec *r, int x), &slots_int_r_int[i], (r, x), r, 1, CLK)

#define BODY_INT_R_STR(SUF, CLK) \
int reqprof_gen_int_r_str##SUF(request_rec *r, const char *x, int i) \
REQPROF_TIMED_CALL(int, (request_rec *r, const char *x), &slots_int_r_str[i], (r, x), r, 1, \
                   CLK)

#define BODY_STAT(SUF, CLK) \
apr_status_t reqprof_gen_stat##SUF(apr_finfo_t *fi, request_rec *r, apr_int32_t w, int i) \
REQPROF_TIMED_CALL(apr_status_t, (apr_finfo_t *fi, request_rec *r, apr_int32_t w), \
                   &slots_stat[i], (fi, r, w), r, 1, CLK)

#define BODY_HTACCESS(SUF, CLK) \
apr_status_t reqprof_gen_htaccess##SUF(request_rec *r, const char *d, const char *n, \
                                       ap_configfile_t **cf, const char **full, int i) \
REQPROF_TIMED_CALL(apr_status_t, (request_rec *r, const char *d, const char *n, \
                                  ap_configfile_t **cf, const char **full), \
                   &slots_htaccess[i], (r, d, n, cf, full), r, 1, CLK)

#define BODY_VOID_R(SUF, CLK) \
void reqprof_gen_void_r##SUF(request_rec *r, int i) \
{ \
    const reqprof_slot_t *s = &slots_void_r[i]; \
    void (*fn)(request_rec *) = (void (*)(request_rec *))s->orig; \
    reqprof_hot_t h = reqprof_hot_enter_as(r, s, 1, CLK); \
    fn(r); \
    if (h.st) \
        reqprof_hot_exit_r_as(h, r, 1, CLK); \
}

REQPROF_BODIES(reqprof_gen_int_r, BODY_INT_R)
REQPROF_BODIES(reqprof_gen_int_r_int, BODY_INT_R_INT)
REQPROF_BODIES(reqprof_gen_int_r_str, BODY_INT_R_STR)
REQPROF_BODIES(reqprof_gen_stat, BODY_STAT)
REQPROF_BODIES(reqprof_gen_htaccess, BODY_HTACCESS)
REQPROF_BODIES(reqprof_gen_void_r, BODY_VOID_R)

void reqprof_wrap_set_clock(void)
{
    REQPROF_BODIES_PICK(reqprof_gen_int_r);
    REQPROF_BODIES_PICK(reqprof_gen_int_r_int);
    REQPROF_BODIES_PICK(reqprof_gen_int_r_str);
    REQPROF_BODIES_PICK(reqprof_gen_stat);
    REQPROF_BODIES_PICK(reqprof_gen_htaccess);
    REQPROF_BODIES_PICK(reqprof_gen_void_r);
}

#define S_INT_R(a, b, c) REQPROF_STUB(t_int_r_, "%esi", "reqprof_gen_int_r_to", a, b, c)
#define S_VOID_R(a, b, c) REQPROF_STUB(t_void_r_, "%esi", "reqprof_gen_void_r_to", a, b, c)
#define S_INT_R_INT(a, b, c) REQPROF_STUB(t_int_r_int_, "%edx", "reqprof_gen_int_r_int_to", a, b, c)
#define S_INT_R_STR(a, b, c) REQPROF_STUB(t_int_r_str_, "%edx", "reqprof_gen_int_r_str_to", a, b, c)
#define S_STAT(a, b, c) REQPROF_STUB(t_stat_, "%ecx", "reqprof_gen_stat_to", a, b, c)
#define S_HTACCESS(a, b, c) REQPROF_STUB(t_htaccess_, "%r9d", "reqprof_gen_htaccess_to", a, b, c)

__asm__(
    "\t.pushsection .text\n"
    REQPROF_T100(S_INT_R, 0) REQPROF_T100(S_INT_R, 1)
    REQPROF_T100(S_INT_R, 2) REQPROF_T100(S_INT_R, 3)
    REQPROF_T30(S_VOID_R) REQPROF_T30(S_INT_R_INT) REQPROF_T30(S_INT_R_STR)
    REQPROF_T30(S_STAT) REQPROF_T30(S_HTACCESS)
    "\t.popsection\n");

#define D_INT_R(a, b, c) REQPROF_STUB_DECL(t_int_r_, a, b, c)
#define D_VOID_R(a, b, c) REQPROF_STUB_DECL(t_void_r_, a, b, c)
#define D_INT_R_INT(a, b, c) REQPROF_STUB_DECL(t_int_r_int_, a, b, c)
#define D_INT_R_STR(a, b, c) REQPROF_STUB_DECL(t_int_r_str_, a, b, c)
#define D_STAT(a, b, c) REQPROF_STUB_DECL(t_stat_, a, b, c)
#define D_HTACCESS(a, b, c) REQPROF_STUB_DECL(t_htaccess_, a, b, c)

REQPROF_T100(D_INT_R, 0) REQPROF_T100(D_INT_R, 1)
REQPROF_T100(D_INT_R, 2) REQPROF_T100(D_INT_R, 3)
REQPROF_T30(D_VOID_R) REQPROF_T30(D_INT_R_INT) REQPROF_T30(D_INT_R_STR)
REQPROF_T30(D_STAT) REQPROF_T30(D_HTACCESS)

#else   /* C trampolines */

#define T_INT_R(a, b, c) TRAMPOLINE(t_int_r_, slots_int_r, int, \
    (request_rec *r), (r), r, a, b, c)
#define T_INT_R_INT(a, b, c) TRAMPOLINE(t_int_r_int_, slots_int_r_int, int, \
    (request_rec *r, int x), (r, x), r, a, b, c)
#define T_INT_R_STR(a, b, c) TRAMPOLINE(t_int_r_str_, slots_int_r_str, int, \
    (request_rec *r, const char *x), (r, x), r, a, b, c)
#define T_STAT(a, b, c) TRAMPOLINE(t_stat_, slots_stat, apr_status_t, \
    (apr_finfo_t *fi, request_rec *r, apr_int32_t w), (fi, r, w), r, a, b, c)
#define T_HTACCESS(a, b, c) TRAMPOLINE(t_htaccess_, slots_htaccess, apr_status_t, \
    (request_rec *r, const char *d, const char *n, ap_configfile_t **cf, \
     const char **full), (r, d, n, cf, full), r, a, b, c)
#define T_VOID_R(a, b, c) \
static void t_void_r_##a##b##c(request_rec *r) \
{ \
    const reqprof_slot_t *s = &slots_void_r[REQPROF_SLOT_IDX(a, b, c)]; \
    void (*fn)(request_rec *) = (void (*)(request_rec *))s->orig; \
    reqprof_hot_t h = reqprof_hot_enter(r, s); \
    if (!h.st) { fn(r); return; } \
    fn(r); reqprof_hot_exit_r(h, r); \
}

REQPROF_T100(T_INT_R, 0) REQPROF_T100(T_INT_R, 1)
REQPROF_T100(T_INT_R, 2) REQPROF_T100(T_INT_R, 3)
REQPROF_T30(T_VOID_R) REQPROF_T30(T_INT_R_INT) REQPROF_T30(T_INT_R_STR)
REQPROF_T30(T_STAT) REQPROF_T30(T_HTACCESS)

void reqprof_wrap_set_clock(void)
{
}

#endif

#define P_INT_R(a, b, c) (void (*)(void))t_int_r_##a##b##c,
#define P_VOID_R(a, b, c) (void (*)(void))t_void_r_##a##b##c,
#define P_INT_R_INT(a, b, c) (void (*)(void))t_int_r_int_##a##b##c,
#define P_INT_R_STR(a, b, c) (void (*)(void))t_int_r_str_##a##b##c,
#define P_STAT(a, b, c) (void (*)(void))t_stat_##a##b##c,
#define P_HTACCESS(a, b, c) (void (*)(void))t_htaccess_##a##b##c,

static void (*const tramp_int_r[N_INT_R])(void) = {
    REQPROF_T100(P_INT_R, 0) REQPROF_T100(P_INT_R, 1)
    REQPROF_T100(P_INT_R, 2) REQPROF_T100(P_INT_R, 3)
};
static void (*const tramp_void_r[N_SMALL])(void) = { REQPROF_T30(P_VOID_R) };
static void (*const tramp_int_r_int[N_SMALL])(void) = { REQPROF_T30(P_INT_R_INT) };
static void (*const tramp_int_r_str[N_SMALL])(void) = { REQPROF_T30(P_INT_R_STR) };
static void (*const tramp_stat[N_SMALL])(void) = { REQPROF_T30(P_STAT) };
static void (*const tramp_htaccess[N_SMALL])(void) = { REQPROF_T30(P_HTACCESS) };

/* Per signature: its slots, trampolines, capacity and how many are used. */
static struct sigtab {
    reqprof_slot_t *slots;
    void (*const *tramps)(void);
    int cap;
    int used;
} sigs[SIG_COUNT] = {
    /* the last int_r slot is kept for reqprof_wrap_selftime */
    { slots_int_r, tramp_int_r, N_INT_R - 1, 0 },
    { slots_void_r, tramp_void_r, N_SMALL, 0 },
    { slots_int_r_int, tramp_int_r_int, N_SMALL, 0 },
    { slots_int_r_str, tramp_int_r_str, N_SMALL, 0 },
    { slots_stat, tramp_stat, N_SMALL, 0 },
    { slots_htaccess, tramp_htaccess, N_SMALL, 0 },
};

typedef struct hookdesc {
    const char *name;
    apr_array_header_t *(*get)(void);
    sig_e sig;
    int inner;        /* called from inside other hooks: no phase node */
} hookdesc_t;

/* Every request-processing hook httpd exports, in processing order.
 * create_request and pre_read_request run before the request line is
 * read (no request to charge yet); default_port and http_scheme are
 * trivial getters called many times per request. */
static const hookdesc_t hooks[] = {
    { "post_read_request", ap_hook_get_post_read_request, SIG_INT_R, 0 },
    { "quick_handler", ap_hook_get_quick_handler, SIG_INT_R_INT, 0 },
    { "pre_translate_name", ap_hook_get_pre_translate_name, SIG_INT_R, 0 },
    { "translate_name", ap_hook_get_translate_name, SIG_INT_R, 0 },
    { "map_to_storage", ap_hook_get_map_to_storage, SIG_INT_R, 0 },
    { "post_perdir_config", ap_hook_get_post_perdir_config, SIG_INT_R, 0 },
    { "header_parser", ap_hook_get_header_parser, SIG_INT_R, 0 },
    { "access_checker", ap_hook_get_access_checker, SIG_INT_R, 0 },
    { "access_checker_ex", ap_hook_get_access_checker_ex, SIG_INT_R, 0 },
    { "force_authn", ap_hook_get_force_authn, SIG_INT_R, 0 },
    { "check_user_id", ap_hook_get_check_user_id, SIG_INT_R, 0 },
    { "auth_checker", ap_hook_get_auth_checker, SIG_INT_R, 0 },
    { "type_checker", ap_hook_get_type_checker, SIG_INT_R, 0 },
    { "fixups", ap_hook_get_fixups, SIG_INT_R, 0 },
    { "insert_filter", ap_hook_get_insert_filter, SIG_VOID_R, 0 },
    { "insert_error_filter", ap_hook_get_insert_error_filter, SIG_VOID_R, 0 },
    { "handler", ap_hook_get_handler, SIG_INT_R, 0 },
    { "log_transaction", ap_hook_get_log_transaction, SIG_INT_R, 0 },
    { "dirwalk_stat", ap_hook_get_dirwalk_stat, SIG_STAT, 1 },
    { "open_htaccess", ap_hook_get_open_htaccess, SIG_HTACCESS, 1 },
    { "note_auth_failure", ap_hook_get_note_auth_failure, SIG_INT_R_STR, 1 },
};
#define NHOOKS (int)(sizeof hooks / sizeof hooks[0])

static int phase_ids[NHOOKS];
static int wrapped;
static int selftime_id = -1;

void reqprof_wrap_reset(void)
{
    int i;
    for (i = 0; i < SIG_COUNT; i++)
        sigs[i].used = 0;
    reqprof_tramp_reset();
    wrapped = 0;
    selftime_id = -1;
}

/* mod_cgi's and mod_cgid's handlers time the script run too. */
static int cgi_entry(reqprof_hook_link_t *e, int id, int phase, const char *file)
{
    return reqprof_cgi_module(file) && reqprof_cgi_wrap(e, id, phase, file);
}

static void wrap_hook(int h, server_rec *s)
{
    const hookdesc_t *d = &hooks[h];
    struct sigtab *t = &sigs[d->sig];
    int phase = d->inner ? -1 : phase_ids[h];
    wrapped += reqprof_wrap_links(d->get(), d->name, phase,
                                  t->slots, t->tramps, t->cap, &t->used,
                                  phase >= 0 && !strcmp(d->name, "handler")
                                  ? cgi_entry : NULL, s);
}

int reqprof_wrap_all(apr_pool_t *pconf, server_rec *s)
{
    server_rec *v;
    int h, any = 0;

    reqprof_wrap_reset();
    /* ProfileEngine On nowhere (and not settable in .htaccess): no request
     * can be profiled until the next restart reads the config again, so
     * nothing is wrapped and the module costs requests nothing. */
    for (v = s; v && !any; v = v->next) {
        const reqprof_srv_t *sc = ap_get_module_config(v->module_config, &reqprof_module);
        any = sc && sc->engine_anywhere;
    }
    if (!any) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "RP0003: ProfileEngine is On "
                     "nowhere in this configuration: no hook is timed");
        return 0;
    }
    reqprof_tramp_generation(pconf);
    for (h = 0; h < NHOOKS; h++)
        phase_ids[h] = hooks[h].inner ? -1
                       : rp_registry_add(reqprof_registry, "httpd", 0, hooks[h].name);
    for (h = 0; h < NHOOKS; h++)
        wrap_hook(h, s);
    return wrapped;
}

void reqprof_wrap_selftime_entry(void)
{
    if (reqprof_registry)
        selftime_id = rp_registry_add(reqprof_registry, "mod_reqprof.c", 1, "selftime");
}

void reqprof_wrap_rescan(server_rec *s)
{
    int h;
    if (!reqprof_registry)
        return;
    for (h = 0; h < NHOOKS; h++)
        wrap_hook(h, s);
}

/* A hook entry that does nothing, timed like any other, for measuring the
 * trampoline itself. */
static int noop_hook(request_rec *r)
{
    (void)r;
    return DECLINED;
}

void reqprof_wrap_selftime(request_rec *r, int iterations, double *on, double *off)
{
    reqprof_slot_t *sl = &slots_int_r[N_INT_R - 1];
    int (*tramp)(request_rec *) = (int (*)(request_rec *))tramp_int_r[N_INT_R - 1];
    apr_time_t t0;
    int i;

    *on = *off = -1;
    if (selftime_id < 0 || iterations <= 0)
        return;
    /* The reserved slot is published in no hook; every caller writes the
     * same values, so concurrent self-tests do not disturb each other. */
    sl->orig = (void (*)(void))noop_hook;
    sl->hook = selftime_id;
    sl->phase = -1;

    t0 = apr_time_now();
    for (i = 0; i < iterations; i++)
        tramp(r);
    *on = (double)(apr_time_now() - t0) * 1000.0 / iterations;

    /* The same calls for a request that is not profiled: the cost of the
     * module loaded but off for this request. */
    {
        request_rec fake = *r;
        fake.main = NULL;
        fake.prev = NULL;
        fake.request_config = ap_create_request_config(r->pool);
        ap_set_module_config(fake.request_config, &reqprof_module, &reqprof_off);
        t0 = apr_time_now();
        for (i = 0; i < iterations; i++)
            tramp(&fake);
        *off = (double)(apr_time_now() - t0) * 1000.0 / iterations;
    }
}

int reqprof_selftime_handler(request_rec *r)
{
    apr_int64_t n = 1000000;
    const char *arg;
    double on, off;

    if (!reqprof_handler_is(r, "reqprof-selftime"))
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    arg = rp_query_arg(r->pool, r->args, "n");
    if (arg && rp_parse_int64(arg, 1, 10000000, &n) != RP_INT_OK)
        return HTTP_BAD_REQUEST;
    reqprof_wrap_selftime(r, (int)n, &on, &off);
    ap_set_content_type(r, "text/plain; charset=utf-8");
    ap_rprintf(r, "iterations: %d\nclock: %s\nprofiled: %s\n"
               "ns_per_call_profiled: %.1f\nns_per_call_unprofiled: %.1f\n",
               (int)n, rp_clock_use_tsc ? "tsc" : "monotonic",
               reqprof_state(r) ? "yes" : "no", on, off);
    return OK;
}
