/*
 * reqprof_filters.c - time every output and input filter.
 *
 * A filter's ap_filter_rec_t is global, so its function is swapped like a
 * hook entry's. mod_filter calls provider functions straight from their
 * records with f->frec pointing at its own harness: a trampoline knows its
 * filter from its slot, never from f.
 *
 * Connection-level filters (CORE, CORE_IN, reqtimeout) have no f->r: they
 * are charged to the request whose request-level filter called them on
 * this thread (filter_current), and to none otherwise: the event MPM
 * flushing after the request ended, or the next request line being read
 * on a keep-alive connection.
 */
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "util_cfgtree.h"
#include "util_filter.h"
#include "ap_mpm.h"
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "reqprof_cgi.h"
#include "reqprof_filters.h"
#include "reqprof_state.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define N_OUT 100
#define N_IN 30
static reqprof_slot_t slots_out[N_OUT];
static reqprof_slot_t slots_in[N_IN];
static int out_used, in_used;

typedef struct filter_ctx {
    reqprof_state_t *st;
    unsigned gen;
} filter_ctx_t;
static __thread filter_ctx_t filter_current __attribute__((tls_model("initial-exec")));

/* The state to charge a call of filter f to, or NULL. */
static APR_INLINE reqprof_state_t *filter_state(ap_filter_t *f)
{
    if (f->r)
        return reqprof_state(f->r);
    if (filter_current.st && filter_current.st->gen == filter_current.gen)
        return filter_current.st;
    return NULL;
}

/* Open a filter's frame and make st the current context (the caller
 * keeps the one to restore); returns the frame. By value, not through a
 * pointer: a local whose address is taken would cost every filter call
 * a stack-protector check. */
static APR_INLINE __attribute__((always_inline)) int
filter_enter(reqprof_state_t *st, ap_filter_t *f, const reqprof_slot_t *s, int clk)
{
    st->refs++;
    filter_current.st = st;
    filter_current.gen = st->gen;
    return rp_prof_enter_hot(st->prof, f->r, -1, s->hook, rp_clock_now_as(clk));
}

static APR_INLINE __attribute__((always_inline)) void
filter_exit(filter_ctx_t saved, reqprof_state_t *st, unsigned gen, int frame, int clk)
{
    rp_tick_t now = rp_clock_now_as(clk);
    if (st->gen == gen)
        rp_prof_exit_hot(st->prof, frame, now);
    filter_current = saved;
    reqprof_call_done(st);
}

/* Before a timed filter runs (below, with the run-time discovery). */
static APR_INLINE void next_check(reqprof_state_t *st, ap_filter_t *f, int input);

/* The timed calls of output and input filters; clk as for
 * reqprof_hot_enter_as. Inlined into each stubs' body (two per
 * direction, one per clock), left to gcc for C trampolines. */
#ifdef REQPROF_STUBS
#define CALL_INLINE APR_INLINE __attribute__((always_inline))
#else
#define CALL_INLINE APR_INLINE
#endif

static CALL_INLINE apr_status_t
out_call(int i, ap_filter_t *f, apr_bucket_brigade *bb, int clk)
{
    ap_out_filter_func fn = (ap_out_filter_func)slots_out[i].orig;
    reqprof_state_t *st = filter_state(f);
    filter_ctx_t saved;
    apr_status_t rv;
    unsigned gen;
    int frame;

    if (!st)
        return fn(f, bb);
    next_check(st, f, 0);
    if (st->cgi)
        reqprof_cgi_mark(bb);
    gen = st->gen;
    saved = filter_current;
    frame = filter_enter(st, f, &slots_out[i], clk);
    rv = fn(f, bb);
    filter_exit(saved, st, gen, frame, clk);
    return rv;
}

static CALL_INLINE apr_status_t
in_call(int i, ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
        apr_read_type_e block, apr_off_t readbytes, int clk)
{
    ap_in_filter_func fn = (ap_in_filter_func)slots_in[i].orig;
    reqprof_state_t *st = filter_state(f);
    filter_ctx_t saved;
    apr_status_t rv;
    unsigned gen;
    int frame;

    if (!st)
        return fn(f, bb, mode, block, readbytes);
    next_check(st, f, 1);
    gen = st->gen;
    saved = filter_current;
    frame = filter_enter(st, f, &slots_in[i], clk);
    rv = fn(f, bb, mode, block, readbytes);
    filter_exit(saved, st, gen, frame, clk);
    return rv;
}

#ifdef REQPROF_STUBS
/* Stubs (reqprof_tramp.h) into one body per direction and clock, with
 * out_call or in_call and the profile's enter and exit inlined in it. */
#define BODY_OUT(SUF, CLK) \
apr_status_t reqprof_gen_out##SUF(ap_filter_t *f, apr_bucket_brigade *bb, int i) \
{ \
    return out_call(i, f, bb, CLK); \
}

#define BODY_IN(SUF, CLK) \
apr_status_t reqprof_gen_in##SUF(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t m, \
                                 apr_read_type_e bl, apr_off_t n, int i) \
{ \
    return in_call(i, f, bb, m, bl, n, CLK); \
}

REQPROF_BODIES(reqprof_gen_out, BODY_OUT)
REQPROF_BODIES(reqprof_gen_in, BODY_IN)

void reqprof_filters_set_clock(void)
{
    REQPROF_BODIES_PICK(reqprof_gen_out);
    REQPROF_BODIES_PICK(reqprof_gen_in);
}

#define S_OUT(a, b, c) REQPROF_STUB(t_out_, "%edx", "reqprof_gen_out_to", a, b, c)
#define S_IN(a, b, c) REQPROF_STUB(t_in_, "%r9d", "reqprof_gen_in_to", a, b, c)
__asm__(
    "\t.pushsection .text\n"
    REQPROF_T100(S_OUT, 0) REQPROF_T30(S_IN)
    "\t.popsection\n");
#define D_OUT(a, b, c) REQPROF_STUB_DECL(t_out_, a, b, c)
#define D_IN(a, b, c) REQPROF_STUB_DECL(t_in_, a, b, c)
REQPROF_T100(D_OUT, 0)
REQPROF_T30(D_IN)
#define P_OUT(a, b, c) (ap_out_filter_func)t_out_##a##b##c,
#define P_IN(a, b, c) (ap_in_filter_func)t_in_##a##b##c,

#else   /* C trampolines */

#define T_OUT(a, b, c) \
static apr_status_t t_out_##a##b##c(ap_filter_t *f, apr_bucket_brigade *bb) \
{ \
    return out_call(REQPROF_SLOT_IDX(a, b, c), f, bb, RP_CLOCK_CHOSEN); \
}
#define T_IN(a, b, c) \
static apr_status_t t_in_##a##b##c(ap_filter_t *f, apr_bucket_brigade *bb, \
        ap_input_mode_t m, apr_read_type_e bl, apr_off_t n) \
{ \
    return in_call(REQPROF_SLOT_IDX(a, b, c), f, bb, m, bl, n, RP_CLOCK_CHOSEN); \
}
REQPROF_T100(T_OUT, 0)
REQPROF_T30(T_IN)
#define P_OUT(a, b, c) t_out_##a##b##c,
#define P_IN(a, b, c) t_in_##a##b##c,

void reqprof_filters_set_clock(void)
{
}
#endif
static ap_out_filter_func const tramp_out[N_OUT] = { REQPROF_T100(P_OUT, 0) };
static ap_in_filter_func const tramp_in[N_IN] = { REQPROF_T30(P_IN) };

void reqprof_filters_reset(void)
{
    out_used = in_used = 0;
}

/* Filters httpd and Debian's modules register. Names that are not
 * registered in this configuration are skipped; filters named only in the
 * configuration are found in the config tree. */
static const char *const stock_out[] = {
    "CORE", "SUBREQ_CORE", "OLD_WRITE", "CONTENT_LENGTH", "HTTP_HEADER",
    "HTTP_OUTERROR", "CHUNK", "BYTERANGE", "DEFLATE", "INFLATE", "INCLUDES",
    "SUBSTITUTE", "SED", "BUFFER", "RATE_LIMIT", "DATA", "XML2ENC",
    "PROXY_HTML", "CACHE_SAVE", "CACHE_SAVE_SUBREQ", "CACHE_OUT",
    "CACHE_OUT_SUBREQ", "CACHE_REMOVE_URL", "CACHE_INVALIDATE",
    "BROTLI_COMPRESS", "FIXUP_HEADERS_OUT", "FIXUP_HEADERS_ERR", "XLATEOUT",
    "DUMPIO_OUT", "SSL/TLS Filter", "BUCKETEER",
    NULL
};
static const char *const stock_in[] = {
    "CORE_IN", "HTTP_IN", "reqtimeout", "DEFLATE", "SED", "BUFFER",
    "KEEP_BODY", "KEPT_BODY", "XLATEIN", "DUMPIO_IN", "SSL/TLS Filter",
    "FIXUP_HEADERS_IN", "UPLOAD_PROGRESS",
    NULL
};

/* Filters compiled into httpd itself, by the file that registers them:
 * dladdr only tells us the function is in the executable. Debian links
 * core.c, http_core.c, mod_logio.c, mod_log_config.c, mod_so.c,
 * mod_watchdog.c, mod_version.c and mod_unixd.c in; of those only core,
 * http_core and mod_logio register filters. A build that links more
 * modules in gets their filters charged to core.c. */
static const char *core_filter_file(const char *name)
{
    static const struct { const char *name, *file; } builtin[] = {
        { "HTTP_HEADER", "http_core.c" }, { "HTTP_OUTERROR", "http_core.c" },
        { "CHUNK", "http_core.c" }, { "BYTERANGE", "http_core.c" },
        { "HTTP_IN", "http_core.c" }, { "LOG_INPUT_OUTPUT", "mod_logio.c" },
    };
    int i;
    for (i = 0; i < (int)(sizeof builtin / sizeof builtin[0]); i++)
        if (!strcasecmp(name, builtin[i].name))
            return builtin[i].file;
    return "core.c";
}

/* httpd keeps filter names lowercased; people write them in capitals. */
static const char *filter_label(apr_pool_t *p, const char *kind, const char *name)
{
    char *l = apr_pstrcat(p, kind, name, NULL);
    ap_str_toupper(l + strlen(kind));
    return l;
}

/* Register the filter's key (strings from p) and take a slot; -1 when
 * there is no room or the function is ours already (a filter known under
 * two names). */
static int take_slot(apr_pool_t *p, void (*fn)(void), const char *fname,
                     const char *kind, int used, int cap, server_rec *s)
{
    const char *file;
    void *base;
    int id;

    file = reqprof_so_module_file(p, (void *)fn, &base);
    if (base == reqprof_own_base)
        return -1;
    if (!file)
        file = core_filter_file(fname);
    if (used == cap
        || (id = rp_registry_add_in(reqprof_registry, p, file, 1,
                                    filter_label(p, kind, fname))) < 0) {
        reqprof_warn_full(s, apr_pstrcat(p, kind, fname, NULL), file);
        return -1;
    }
    return id;
}

/* Swap the function of an output (input 0) or input filter record for a
 * trampoline. */
static int wrap_frec(ap_filter_rec_t *frec, int input, server_rec *s, apr_pool_t *p)
{
    reqprof_slot_t *slot;
    void (*fn)(void);
    int *used = input ? &in_used : &out_used;
    int id;

    /* filter_func is a union: in_func and out_func are one pointer */
    if (!frec || !(fn = (void (*)(void))frec->filter_func.out_func))
        return 0;
    id = take_slot(p, fn, frec->name, input ? "input filter " : "filter ",
                   *used, input ? N_IN : N_OUT, s);
    if (id < 0)
        return 0;
    slot = input ? &slots_in[*used] : &slots_out[*used];
    slot->orig = fn;
    slot->hook = id;
    slot->phase = -1;
    /* the slot is complete before another thread can call through it */
    if (input)
        __atomic_store_n(&frec->filter_func.in_func, tramp_in[*used], __ATOMIC_RELEASE);
    else
        __atomic_store_n(&frec->filter_func.out_func, tramp_out[*used], __ATOMIC_RELEASE);
    (*used)++;
    return 1;
}

static int wrap_out(const char *name, server_rec *s)
{
    return wrap_frec(ap_get_output_filter_handle(name), 0, s, reqprof_gen_pool);
}

static int wrap_in(const char *name, server_rec *s)
{
    return wrap_frec(ap_get_input_filter_handle(name), 1, s, reqprof_gen_pool);
}

/* Each name of a "A;B" filter list. */
static int wrap_list(const char *list, int (*wrap)(const char *, server_rec *),
                     server_rec *s)
{
    char *copy = apr_pstrdup(reqprof_gen_pool, list), *name, *last;
    int n = 0;
    for (name = apr_strtok(copy, ";", &last); name; name = apr_strtok(NULL, ";", &last))
        n += wrap(name, s);
    return n;
}

/* Filter names the configuration uses: SetOutputFilter A;B, AddOutputFilter
 * A;B ext, AddOutputFilterByType A;B type, FilterDeclare/FilterProvider,
 * SetInputFilter, AddInputFilter. */
static int wrap_config(ap_directive_t *d, server_rec *s)
{
    int n = 0;
    for (; d; d = d->next) {
        const char *dn = d->directive, *args = d->args;
        if (!strcasecmp(dn, "SetOutputFilter") || !strcasecmp(dn, "AddOutputFilter")
            || !strcasecmp(dn, "FilterDeclare")) {
            n += wrap_list(ap_getword_conf(reqprof_gen_pool, &args), wrap_out, s);
        }
        else if (!strcasecmp(dn, "AddOutputFilterByType")) {
            /* mod_filter's "BYTYPE:NAME" harnesses: wrap_filter_harnesses */
            n += wrap_list(ap_getword_conf(reqprof_gen_pool, &args), wrap_out, s);
        }
        else if (!strcasecmp(dn, "FilterProvider")) {
            n += wrap_out(ap_getword_conf(reqprof_gen_pool, &args), s);
            n += wrap_out(ap_getword_conf(reqprof_gen_pool, &args), s);
        }
        else if (!strcasecmp(dn, "SetInputFilter") || !strcasecmp(dn, "AddInputFilter")) {
            n += wrap_list(ap_getword_conf(reqprof_gen_pool, &args), wrap_in, s);
        }
        if (d->first_child)
            n += wrap_config(d->first_child, s);
    }
    return n;
}

/* ---- filters met at run time ----
 * A module may add a filter whose name appears nowhere at startup:
 * ModSecurity adds MODSECURITY_OUT/IN from its insert_filter hook and
 * removes them itself, a handler may add one of its own. Such a filter is
 * wrapped before its first call, in the request that adds it:
 *  - before a timed filter runs, the filter it will pass to (f->next) is
 *    checked, and the rest of the chain walked if that one is not timed
 *    (next_check; our own filters do the same, reqprof_filters_pass_check);
 *  - when a timed hook returns (reqprof_chain_check in reqprof_tramp.h) and
 *    the head of r's output or input chain moved since it was last seen,
 *    the places a chain is entered from outside (the request's head, its
 *    protocol head, the connection's head) are checked, and the chain
 *    walked from any of them that is not timed (reqprof_filters_scan).
 * By induction every filter below a timed one is timed before it runs.
 * A filter we cannot time (no trampoline left) breaks that induction: from
 * then on every scan walks the whole chains, as the first designs did.
 * What is left: a filter that a handler adds at the head of the chain and
 * calls in the same breath runs its first call untimed (it is wrapped as
 * soon as the filter below it runs, so its later calls are timed).
 * Wrapping takes a per-child lock and happens once per filter. */
static const void *tramp_lo, *tramp_hi;   /* our trampolines' addresses */
static apr_thread_mutex_t *discover_mutex;  /* NULL unless threaded */
static apr_pool_t *discover_pool;           /* the child's pool */

/* Functions of filters that are not to be wrapped (ours, or no room):
 * looked up without the lock, appended under it. broken: one of them is
 * not ours (ours check the filter they pass to, as timed ones do). */
#define N_SKIP 32
static const void *skip[N_SKIP];
static int nskip;
static int broken;

static void tramp_range(void)
{
    int i;
    tramp_lo = tramp_hi = (const void *)tramp_out[0];
    for (i = 0; i < N_OUT + N_IN; i++) {
        const void *t = i < N_OUT ? (const void *)tramp_out[i]
                                  : (const void *)tramp_in[i - N_OUT];
        if (t < tramp_lo)
            tramp_lo = t;
        if (t > tramp_hi)
            tramp_hi = t;
    }
}

static APR_INLINE int is_tramp(const void *fn)
{
    return fn >= tramp_lo && fn <= tramp_hi;
}

static int skipped(const void *fn)
{
    int i, n = __atomic_load_n(&nskip, __ATOMIC_ACQUIRE);
    for (i = 0; i < n; i++)
        if (skip[i] == fn)
            return 1;
    return 0;
}

/* A filter function to wrap: not ours, not one we gave up on. */
/* Told when a filter met at run time got a registry id (the status page
 * maps it). */
static void (*keys_added)(void);

static APR_INLINE int untimed(const ap_filter_t *f)
{
    const void *fn = (const void *)f->frec->filter_func.out_func;
    return fn && !is_tramp(fn) && !skipped(fn);
}

void reqprof_filters_child_init(apr_pool_t *pchild, void (*on_keys_added)(void))
{
    keys_added = on_keys_added;
    int threaded = 0;
    discover_pool = pchild;
    discover_mutex = NULL;
    nskip = 0;
    broken = 0;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS && threaded)
        apr_thread_mutex_create(&discover_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
}

/* Wrap every filter from f down to stop (excluded; NULL: the chain's
 * end) that is not timed yet; input chains with input 1. Filters are
 * told from each other by the record, so one filter in both chains
 * (DEFLATE) is wrapped in each role. */
static void wrap_chain(ap_filter_t *f, const void *stop, int input, request_rec *r)
{
    int locked = 0;
    for (; f && (const void *)f != stop; f = f->next) {
        const void *fn;
        if (!untimed(f))
            continue;
        if (!locked && discover_mutex)
            apr_thread_mutex_lock(discover_mutex);
        locked = 1;
        fn = (const void *)f->frec->filter_func.out_func;
        if (is_tramp(fn) || skipped(fn))      /* another thread was first */
            continue;
        if (wrap_frec(f->frec, input, r->server, discover_pool)) {
            if (keys_added)
                keys_added();
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          "RP0006: timing %sfilter %s, met at run time",
                          input ? "input " : "output ", f->frec->name);
        }
        else if (nskip < N_SKIP) {
            void *base = NULL;
            /* once per function: it is remembered below */
            reqprof_so_module_file(discover_pool, (void *)fn, &base);
            if (base != reqprof_own_base)
                __atomic_store_n(&broken, 1, __ATOMIC_RELEASE);
            skip[nskip] = fn;
            __atomic_store_n(&nskip, nskip + 1, __ATOMIC_RELEASE);
        }
        else        /* not remembered: every walk tries it again */
            __atomic_store_n(&broken, 1, __ATOMIC_RELEASE);
    }
    if (locked && discover_mutex)
        apr_thread_mutex_unlock(discover_mutex);
}

/* A chain is entered from outside at three places: r's head (handlers,
 * ap_finalize_request_protocol), r's protocol head (interim responses)
 * and the connection's head (core's flush between requests). When each
 * of those is timed, every filter below is timed before its first call
 * (next_check), so a chain whose head moved needs only those checked:
 * a few loads a request where walking every filter of both chains twice
 * cost ~500 instructions (docs/performance, fourteenth round). A head
 * that is not timed has its chain walked from it. With a filter in the
 * chain that we cannot time and that does not check for us (broken), the
 * whole chains are walked, as before. */
static APR_INLINE void head_check(ap_filter_t *f, int input, request_rec *r)
{
    if (f && untimed(f))
        wrap_chain(f, NULL, input, r);
}

/* One direction's three entry points (each checked once). */
static APR_INLINE void heads_check(ap_filter_t *head, ap_filter_t *proto, ap_filter_t *conn,
                                   int input, request_rec *r)
{
    head_check(head, input, r);
    if (proto != head)
        head_check(proto, input, r);
    if (conn != proto)
        head_check(conn, input, r);
}

void reqprof_filters_scan(reqprof_state_t *st, request_rec *r)
{
    const void *old_out = st->seen_out, *old_in = st->seen_in;
    conn_rec *c = r->connection;
    st->seen_out = r->output_filters;
    st->seen_in = r->input_filters;
    if (!discover_pool || !reqprof_registry)
        return;
    if (__atomic_load_n(&broken, __ATOMIC_ACQUIRE)) {
        wrap_chain(r->output_filters, NULL, 0, r);
        wrap_chain(r->input_filters, NULL, 1, r);
        return;
    }
    if (st->seen_out != old_out)
        heads_check(r->output_filters, r->proto_output_filters,
                    c ? c->output_filters : NULL, 0, r);
    if (st->seen_in != old_in)
        heads_check(r->input_filters, r->proto_input_filters,
                    c ? c->input_filters : NULL, 1, r);
}

/* Our own output filters pass on through here: the filter below is timed
 * before it runs, as next_check does for a timed one. */
void reqprof_filters_pass_check(ap_filter_t *f)
{
    if (discover_pool && reqprof_registry && f->r && f->next && untimed(f->next))
        wrap_chain(f->next, NULL, 0, f->r);
}

/* Before a timed filter runs: the filter it passes to is timed too. */
static APR_INLINE void next_check(reqprof_state_t *st, ap_filter_t *f, int input)
{
    if (f->r)
        reqprof_chain_check(st, f->r);
    if (f->next && untimed(f->next))
        wrap_chain(f->next, NULL, input, f->r ? f->r : st->r);
}

/* mod_filter keeps the filters it declares (FilterDeclare, FilterProvider
 * and AddOutputFilterByType's "BYTYPE:NAME" harnesses) in a hash in its
 * per-directory config, not in httpd's filter registry:
 * ap_get_output_filter_handle() does not know them. mod_filter's config
 * struct begins with that hash (mod_filter.c, the same through 2.4), so
 * each section's config is read for it. Harnesses an .htaccess file
 * declares are made per request and only met at run time. */
typedef struct filter_cfg_head {
    apr_hash_t *live_filters;
} filter_cfg_head_t;

static int wrap_harnesses_arr(apr_array_header_t *a, module *m, server_rec *s);

static int wrap_harnesses_in(ap_conf_vector_t *v, module *m, server_rec *s)
{
    const filter_cfg_head_t *fc;
    const core_dir_config *cd;
    apr_hash_index_t *hi;
    int n = 0;

    if (!v)
        return 0;
    if ((fc = ap_get_module_config(v, m)) && fc->live_filters)
        for (hi = apr_hash_first(reqprof_gen_pool, fc->live_filters); hi;
             hi = apr_hash_next(hi)) {
            void *frec;
            apr_hash_this(hi, NULL, NULL, &frec);
            n += wrap_frec(frec, 0, s, reqprof_gen_pool);   /* once: see take_slot */
        }
    if ((cd = ap_get_core_module_config(v)) != NULL)
        n += wrap_harnesses_arr(cd->sec_file, m, s) + wrap_harnesses_arr(cd->sec_if, m, s);
    return n;
}

static int wrap_harnesses_arr(apr_array_header_t *a, module *m, server_rec *s)
{
    int i, n = 0;
    for (i = 0; a && i < a->nelts; i++)
        n += wrap_harnesses_in(((ap_conf_vector_t **)a->elts)[i], m, s);
    return n;
}

static int wrap_filter_harnesses(server_rec *s)
{
    module *m = ap_find_linked_module("mod_filter.c");
    server_rec *v;
    int n = 0;

    for (v = s; m && v; v = v->next) {
        const core_server_config *cs = ap_get_core_module_config(v->module_config);
        n += wrap_harnesses_in(v->lookup_defaults, m, s);
        if (cs)
            n += wrap_harnesses_arr(cs->sec_dir, m, s) + wrap_harnesses_arr(cs->sec_url, m, s);
    }
    return n;
}

int reqprof_filters_wrap(server_rec *s)
{
    int i, n = 0;
    if (!reqprof_registry)      /* nothing is timed in this generation */
        return 0;
    tramp_range();
    for (i = 0; stock_out[i]; i++)
        n += wrap_out(stock_out[i], s);
    for (i = 0; stock_in[i]; i++)
        n += wrap_in(stock_in[i], s);
    n += wrap_config(ap_conftree, s);
    return n + wrap_filter_harnesses(s);
}
