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
#ifndef _GNU_SOURCE
#define _GNU_SOURCE      /* dladdr */
#endif
#include <dlfcn.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_cfgtree.h"
#include "util_filter.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "reqprof_config.h"
#include "reqprof_request.h"
#include "reqprof_wrap.h"

APLOG_USE_MODULE(reqprof);

rp_registry_t *reqprof_registry;

#define REGISTRY_CAP 2048

/* The layout every APR hook link struct shares (apr_hooks.h). */
typedef struct hook_link {
    void (*pFunc)(void);
    const char *szName;
    const char * const *aszPredecessors;
    const char * const *aszSuccessors;
    int nOrder;
} hook_link_t;

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

typedef struct slot {
    union {
        void (*any)(void);
        int (*int_r)(request_rec *);
        void (*void_r)(request_rec *);
        int (*int_r_int)(request_rec *, int);
        int (*int_r_str)(request_rec *, const char *);
        apr_status_t (*stat)(apr_finfo_t *, request_rec *, apr_int32_t);
        apr_status_t (*htaccess)(request_rec *, const char *, const char *,
                                 ap_configfile_t **, const char **);
    } orig;
    int hook;         /* registry id of the entry */
    int phase;        /* registry id of its phase node, -1 for inner hooks */
} slot_t;

/* Ten and a hundred trampolines at a time; slot index a*100 + b*10 + c. */
#define D10(M, a, b) M(a,b,0) M(a,b,1) M(a,b,2) M(a,b,3) M(a,b,4) \
                     M(a,b,5) M(a,b,6) M(a,b,7) M(a,b,8) M(a,b,9)
#define D100(M, a) D10(M,a,0) D10(M,a,1) D10(M,a,2) D10(M,a,3) D10(M,a,4) \
                   D10(M,a,5) D10(M,a,6) D10(M,a,7) D10(M,a,8) D10(M,a,9)
#define IDX(a, b, c) ((a) * 100 + (b) * 10 + (c))

/* What every trampoline does around the original call. */
typedef struct hot {
    reqprof_state_t *st;
    unsigned gen;
    int frame;
} hot_t;

static APR_INLINE int hot_enter(hot_t *h, request_rec *r, const slot_t *s)
{
    h->st = reqprof_state(r);
    if (!h->st)
        return 0;
    h->gen = h->st->gen;
    h->st->inflight++;
    h->frame = rp_prof_enter(h->st->prof, r, s->phase, s->hook, rp_clock_now());
    return 1;
}

static APR_INLINE void hot_exit(hot_t *h)
{
    rp_tick_t now = rp_clock_now();
    /* The request may have ended inside the call (its pool destroyed):
     * then the generation moved on and only the in-flight count is ours. */
    if (h->st->gen == h->gen)
        rp_prof_exit(h->st->prof, h->frame, now);
    reqprof_call_done(h->st);
}

#define N_INT_R 400
#define N_SMALL 30

static slot_t slots_int_r[N_INT_R];
static slot_t slots_void_r[N_SMALL];
static slot_t slots_int_r_int[N_SMALL];
static slot_t slots_int_r_str[N_SMALL];
static slot_t slots_stat[N_SMALL];
static slot_t slots_htaccess[N_SMALL];

#define T_INT_R(a, b, c) \
static int t_int_r_##a##b##c(request_rec *r) \
{ \
    const slot_t *s = &slots_int_r[IDX(a, b, c)]; \
    hot_t h; int rv; \
    if (!hot_enter(&h, r, s)) return s->orig.int_r(r); \
    rv = s->orig.int_r(r); hot_exit(&h); return rv; \
}
#define T_VOID_R(a, b, c) \
static void t_void_r_##a##b##c(request_rec *r) \
{ \
    const slot_t *s = &slots_void_r[IDX(a, b, c)]; \
    hot_t h; \
    if (!hot_enter(&h, r, s)) { s->orig.void_r(r); return; } \
    s->orig.void_r(r); hot_exit(&h); \
}
#define T_INT_R_INT(a, b, c) \
static int t_int_r_int_##a##b##c(request_rec *r, int x) \
{ \
    const slot_t *s = &slots_int_r_int[IDX(a, b, c)]; \
    hot_t h; int rv; \
    if (!hot_enter(&h, r, s)) return s->orig.int_r_int(r, x); \
    rv = s->orig.int_r_int(r, x); hot_exit(&h); return rv; \
}
#define T_INT_R_STR(a, b, c) \
static int t_int_r_str_##a##b##c(request_rec *r, const char *x) \
{ \
    const slot_t *s = &slots_int_r_str[IDX(a, b, c)]; \
    hot_t h; int rv; \
    if (!hot_enter(&h, r, s)) return s->orig.int_r_str(r, x); \
    rv = s->orig.int_r_str(r, x); hot_exit(&h); return rv; \
}
#define T_STAT(a, b, c) \
static apr_status_t t_stat_##a##b##c(apr_finfo_t *fi, request_rec *r, apr_int32_t w) \
{ \
    const slot_t *s = &slots_stat[IDX(a, b, c)]; \
    hot_t h; apr_status_t rv; \
    if (!hot_enter(&h, r, s)) return s->orig.stat(fi, r, w); \
    rv = s->orig.stat(fi, r, w); hot_exit(&h); return rv; \
}
#define T_HTACCESS(a, b, c) \
static apr_status_t t_htaccess_##a##b##c(request_rec *r, const char *d, \
        const char *n, ap_configfile_t **cf, const char **full) \
{ \
    const slot_t *s = &slots_htaccess[IDX(a, b, c)]; \
    hot_t h; apr_status_t rv; \
    if (!hot_enter(&h, r, s)) return s->orig.htaccess(r, d, n, cf, full); \
    rv = s->orig.htaccess(r, d, n, cf, full); hot_exit(&h); return rv; \
}

D100(T_INT_R, 0) D100(T_INT_R, 1) D100(T_INT_R, 2) D100(T_INT_R, 3)
D10(T_VOID_R, 0, 0) D10(T_VOID_R, 0, 1) D10(T_VOID_R, 0, 2)
D10(T_INT_R_INT, 0, 0) D10(T_INT_R_INT, 0, 1) D10(T_INT_R_INT, 0, 2)
D10(T_INT_R_STR, 0, 0) D10(T_INT_R_STR, 0, 1) D10(T_INT_R_STR, 0, 2)
D10(T_STAT, 0, 0) D10(T_STAT, 0, 1) D10(T_STAT, 0, 2)
D10(T_HTACCESS, 0, 0) D10(T_HTACCESS, 0, 1) D10(T_HTACCESS, 0, 2)

#define P_INT_R(a, b, c) (void (*)(void))t_int_r_##a##b##c,
#define P_VOID_R(a, b, c) (void (*)(void))t_void_r_##a##b##c,
#define P_INT_R_INT(a, b, c) (void (*)(void))t_int_r_int_##a##b##c,
#define P_INT_R_STR(a, b, c) (void (*)(void))t_int_r_str_##a##b##c,
#define P_STAT(a, b, c) (void (*)(void))t_stat_##a##b##c,
#define P_HTACCESS(a, b, c) (void (*)(void))t_htaccess_##a##b##c,

static void (*const tramp_int_r[N_INT_R])(void) = {
    D100(P_INT_R, 0) D100(P_INT_R, 1) D100(P_INT_R, 2) D100(P_INT_R, 3)
};
static void (*const tramp_void_r[N_SMALL])(void) = {
    D10(P_VOID_R, 0, 0) D10(P_VOID_R, 0, 1) D10(P_VOID_R, 0, 2)
};
static void (*const tramp_int_r_int[N_SMALL])(void) = {
    D10(P_INT_R_INT, 0, 0) D10(P_INT_R_INT, 0, 1) D10(P_INT_R_INT, 0, 2)
};
static void (*const tramp_int_r_str[N_SMALL])(void) = {
    D10(P_INT_R_STR, 0, 0) D10(P_INT_R_STR, 0, 1) D10(P_INT_R_STR, 0, 2)
};
static void (*const tramp_stat[N_SMALL])(void) = {
    D10(P_STAT, 0, 0) D10(P_STAT, 0, 1) D10(P_STAT, 0, 2)
};
static void (*const tramp_htaccess[N_SMALL])(void) = {
    D10(P_HTACCESS, 0, 0) D10(P_HTACCESS, 0, 1) D10(P_HTACCESS, 0, 2)
};

/* ---- output filters ----
 * A filter's ap_filter_rec_t is global, so its function is swapped like a
 * hook entry's. mod_filter calls provider functions straight from their
 * records with f->frec pointing at its own harness: a trampoline knows its
 * filter from its slot, never from f. Connection-level filters (CORE)
 * have no f->r; they are charged to the request whose request-level filter
 * called them on this thread (filter_current), and to none when the MPM
 * writes on its own after the request ended. */
#define N_FILTER 100
static slot_t slots_filter[N_FILTER];
static int filters_used;

typedef struct filter_ctx {
    reqprof_state_t *st;
    unsigned gen;
} filter_ctx_t;
static __thread filter_ctx_t filter_current;

static APR_INLINE apr_status_t filter_call(int i, ap_filter_t *f,
                                           apr_bucket_brigade *bb)
{
    const slot_t *s = &slots_filter[i];
    ap_out_filter_func fn = (ap_out_filter_func)s->orig.any;
    filter_ctx_t saved = filter_current;
    reqprof_state_t *st;
    unsigned gen;
    int frame;
    apr_status_t rv;

    if (f->r)
        st = reqprof_state(f->r);
    else if (saved.st && saved.st->gen == saved.gen)
        st = saved.st;
    else
        st = NULL;
    if (!st)
        return fn(f, bb);
    gen = st->gen;
    st->inflight++;
    filter_current.st = st;
    filter_current.gen = gen;
    frame = rp_prof_enter(st->prof, f->r, -1, s->hook, rp_clock_now());
    rv = fn(f, bb);
    {
        rp_tick_t now = rp_clock_now();
        if (st->gen == gen)
            rp_prof_exit(st->prof, frame, now);
    }
    filter_current = saved;
    reqprof_call_done(st);
    return rv;
}

#define T_FILTER(a, b, c) \
static apr_status_t t_filter_##a##b##c(ap_filter_t *f, apr_bucket_brigade *bb) \
{ \
    return filter_call(IDX(a, b, c), f, bb); \
}
D100(T_FILTER, 0)
#define P_FILTER(a, b, c) t_filter_##a##b##c,
static ap_out_filter_func const tramp_filter[N_FILTER] = { D100(P_FILTER, 0) };

/* Per signature: its slots, trampolines, capacity and how many are used. */
static struct sigtab {
    slot_t *slots;
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
static apr_hash_t *entry_counts;   /* "hook\0file" -> int*: next line number */
static apr_pool_t *gen_pool;
static int wrapped;
static int warned_full;
static int selftime_id = -1;
static void *own_base;             /* load address of this DSO */

void reqprof_wrap_reset(void)
{
    int i;
    for (i = 0; i < SIG_COUNT; i++)
        sigs[i].used = 0;
    filters_used = 0;
    reqprof_registry = NULL;
    entry_counts = NULL;
    gen_pool = NULL;
    wrapped = 0;
    warned_full = 0;
    selftime_id = -1;
}

int reqprof_wrapped_count(void)
{
    return wrapped;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* "mod_x.c" when fn lives in mod_x.so, else NULL; *base is the object's
 * load address (NULL if unknown). */
static const char *so_module_file(apr_pool_t *p, void *fn, void **base)
{
    Dl_info di;
    *base = NULL;
    if (dladdr(fn, &di) && di.dli_fname) {
        const char *so = base_name(di.dli_fname);
        apr_size_t n = strlen(so);
        *base = di.dli_fbase;
        if (n > 7 && strncmp(so, "mod_", 4) == 0 && strcmp(so + n - 3, ".so") == 0)
            return apr_pstrcat(p, apr_pstrndup(p, so, n - 3), ".c", NULL);
    }
    return NULL;
}

/* The module file to charge an entry to. szName is the __FILE__ of the
 * module that was registering when the entry was added, which is wrong
 * for entries added outside register_hooks; when the function lives in a
 * mod_*.so whose name disagrees, trust the shared object. */
static const char *entry_file(apr_pool_t *p, const hook_link_t *e, void **base)
{
    const char *name = e->szName ? base_name(e->szName) : "unknown";
    const char *so = so_module_file(p, (void *)e->pFunc, base);
    return so && strcmp(so, name) != 0 ? so : name;
}

static int next_line(const char *hook, const char *file)
{
    const char *key = apr_pstrcat(gen_pool, hook, "|", file, NULL);
    int *n = apr_hash_get(entry_counts, key, APR_HASH_KEY_STRING);
    if (!n) {
        n = apr_pcalloc(gen_pool, sizeof *n);
        apr_hash_set(entry_counts, key, APR_HASH_KEY_STRING, n);
    }
    return ++*n;
}

static void wrap_hook(int h, server_rec *s)
{
    const hookdesc_t *d = &hooks[h];
    struct sigtab *t = &sigs[d->sig];
    apr_array_header_t *arr = d->get();
    hook_link_t *links;
    int i;

    if (!arr || arr->nelts == 0)
        return;
    if (arr->elt_size != sizeof(hook_link_t)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "RP0003: hook %s has entries of %d bytes, expected %d: not timed",
                     d->name, arr->elt_size, (int)sizeof(hook_link_t));
        return;
    }
    links = (hook_link_t *)arr->elts;
    for (i = 0; i < arr->nelts; i++) {
        hook_link_t *e = &links[i];
        slot_t *sl;
        void *base;
        const char *file = entry_file(gen_pool, e, &base);
        int id;

        /* Our trampolines (already wrapped) and our own hooks. */
        if (base == own_base || (e->szName && !strcmp(base_name(e->szName), "mod_reqprof.c")))
            continue;
        if (t->used == t->cap
            || (id = rp_registry_add(reqprof_registry, file,
                                     next_line(d->name, file), d->name)) < 0) {
            if (!warned_full++)
                ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                             "RP0004: no room to time %s entry of %s (and maybe "
                             "others): left untimed", d->name, file);
            continue;
        }
        sl = &t->slots[t->used];
        sl->orig.any = e->pFunc;
        sl->hook = id;
        sl->phase = d->inner ? -1 : phase_ids[h];
        e->pFunc = t->tramps[t->used];
        t->used++;
        wrapped++;
    }
}

/* Output filters httpd and Debian's modules register. Names that are not
 * registered in this configuration are skipped; filters named only in the
 * configuration are found in the config tree. */
static const char *const stock_filters[] = {
    "CORE", "SUBREQ_CORE", "OLD_WRITE", "CONTENT_LENGTH", "HTTP_HEADER",
    "HTTP_OUTERROR", "CHUNK", "BYTERANGE", "DEFLATE", "INFLATE", "INCLUDES",
    "SUBSTITUTE", "SED", "BUFFER", "RATE_LIMIT", "DATA", "XML2ENC",
    "PROXY_HTML", "CACHE_SAVE", "CACHE_SAVE_SUBREQ", "CACHE_OUT",
    "CACHE_OUT_SUBREQ", "CACHE_REMOVE_URL", "CACHE_INVALIDATE",
    "BROTLI_COMPRESS", "FIXUP_HEADERS_OUT", "FIXUP_HEADERS_ERR", "XLATEOUT",
    "DUMPIO_OUT", "SSL/TLS Filter", "BUCKETEER",
    NULL
};

/* Filters compiled into httpd itself, by the file that registers them. */
static const char *core_filter_file(const char *name)
{
    static const char *const http_core[] = {
        "HTTP_HEADER", "HTTP_OUTERROR", "CHUNK", "BYTERANGE", NULL };
    int i;
    for (i = 0; http_core[i]; i++)
        if (!strcasecmp(name, http_core[i]))
            return "http_core.c";
    return "core.c";
}

/* httpd keeps filter names lowercased; people write them in capitals. */
static const char *filter_label(const char *name)
{
    char *l = apr_pstrcat(gen_pool, "filter ", name, NULL);
    ap_str_toupper(l + 7);
    return l;
}

static void wrap_filter(const char *name, server_rec *s)
{
    ap_filter_rec_t *frec = ap_get_output_filter_handle(name);
    const char *file;
    void *base;
    slot_t *sl;
    int id;

    if (!frec || !frec->filter_func.out_func)
        return;
    file = so_module_file(gen_pool, (void *)frec->filter_func.out_func, &base);
    if (base == own_base)
        return;                        /* wrapped already (another name) */
    if (!file)
        file = core_filter_file(frec->name);
    if (filters_used == N_FILTER
        || (id = rp_registry_add(reqprof_registry, file, 1,
                                 filter_label(frec->name))) < 0) {
        if (!warned_full++)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                         "RP0005: no room to time filter %s (and maybe others)",
                         frec->name);
        return;
    }
    sl = &slots_filter[filters_used];
    sl->orig.any = (void (*)(void))frec->filter_func.out_func;
    sl->hook = id;
    sl->phase = -1;
    frec->filter_func.out_func = tramp_filter[filters_used];
    filters_used++;
    wrapped++;
}

/* Filter names the configuration uses: SetOutputFilter A;B, AddOutputFilter
 * A;B ext, AddOutputFilterByType A;B type, FilterDeclare/FilterProvider. */
static void wrap_config_filters(ap_directive_t *d, server_rec *s)
{
    for (; d; d = d->next) {
        const char *dn = d->directive;
        if (!strcasecmp(dn, "SetOutputFilter") || !strcasecmp(dn, "AddOutputFilter")
            || !strcasecmp(dn, "AddOutputFilterByType")
            || !strcasecmp(dn, "FilterDeclare") || !strcasecmp(dn, "FilterProvider")) {
            const char *args = d->args;
            char *first = ap_getword_conf(gen_pool, &args);
            char *name, *last;
            for (name = apr_strtok(first, ";", &last); name;
                 name = apr_strtok(NULL, ";", &last))
                wrap_filter(name, s);
            if (!strcasecmp(dn, "FilterProvider"))     /* its provider */
                wrap_filter(ap_getword_conf(gen_pool, &args), s);
        }
        if (d->first_child)
            wrap_config_filters(d->first_child, s);
    }
}

int reqprof_wrap_all(apr_pool_t *pconf, server_rec *s)
{
    Dl_info di;
    int h;

    reqprof_wrap_reset();
    gen_pool = pconf;
    entry_counts = apr_hash_make(pconf);
    reqprof_registry = rp_registry_create(pconf, REGISTRY_CAP);
    own_base = dladdr((void *)&reqprof_module, &di) ? di.dli_fbase : NULL;
    for (h = 0; h < NHOOKS; h++)
        phase_ids[h] = hooks[h].inner ? -1
                       : rp_registry_add(reqprof_registry, "httpd", 0, hooks[h].name);
    for (h = 0; h < NHOOKS; h++)
        wrap_hook(h, s);
    for (h = 0; stock_filters[h]; h++)
        wrap_filter(stock_filters[h], s);
    wrap_config_filters(ap_conftree, s);
    selftime_id = rp_registry_add(reqprof_registry, "mod_reqprof.c", 1, "selftime");
    return OK;
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
    slot_t *sl = &slots_int_r[N_INT_R - 1];
    int (*tramp)(request_rec *) = (int (*)(request_rec *))tramp_int_r[N_INT_R - 1];
    apr_time_t t0;
    int i;

    *on = *off = -1;
    if (selftime_id < 0 || iterations <= 0)
        return;
    /* The reserved slot is published in no hook; every caller writes the
     * same values, so concurrent self-tests do not disturb each other. */
    sl->orig.int_r = noop_hook;
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
