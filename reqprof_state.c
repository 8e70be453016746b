/*
 * reqprof_state.c - per-request profiling state.
 *
 * A request is profiled from its first timed hook call when its virtual
 * host has ProfileEngine On in any scope; whether the profile is kept is
 * decided at the end from the request's own per-directory config (which is
 * only known after the walks; reqprof_request.c). Profile objects come
 * from a per-child free list, so a request allocates nothing for
 * profiling once the child has warmed up.
 */
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"

#include "rp_clock.h"
#include "rp_text.h"
#include "rp_trigger.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"
#include "reqprof_state.h"

APLOG_USE_MODULE(reqprof);

/* Keys stay readable and error-log lines short. */
#define LABEL_MAX 256

reqprof_state_t reqprof_off;

/* Frames logged per request when a timeline (chrome) is written. */
#define REQPROF_EVENT_LOG_MAX 20000

static const rp_registry_t *registry;    /* this generation's, per child */
static int tree_events;                  /* the aggregate tree's event log */
static reqprof_state_begin_fn on_begin;

static apr_thread_mutex_t *free_mutex;   /* NULL under prefork */
static reqprof_state_t *free_list;
static apr_array_header_t *all_pools;    /* to destroy at child exit */
static reqprof_state_t *all_states;      /* read by the flusher thread */
static int want_batch;
static int child_ready;

/* A subrequest's context ends with its pool (ap_destroy_sub_req): the
 * next subrequest may get the same address (mod_dir's DirectoryIndex
 * lookups do) and must not be taken for this one. */
typedef struct sub_gone {
    reqprof_state_t *st;
    unsigned gen;
    const void *req;
} sub_gone_t;

static apr_status_t forget_sub(void *data)
{
    const sub_gone_t *g = data;
    if (g->st->gen == g->gen)
        rp_prof_forget(g->st->prof, g->req);
    return APR_SUCCESS;
}

static const char *label_of(const void *req, apr_pool_t *p)
{
    const request_rec *r = req;
    const char *kind;
    reqprof_state_t *st;
    apr_size_t len;

    /* Called once per new context. A redirect's request lives in its
     * parent's pool until the request ends: no cleanup needed. */
    if (r->main && r->pool != r->main->pool
        && (st = reqprof_state((request_rec *)r)) != NULL) {
        sub_gone_t *g = apr_palloc(r->pool, sizeof *g);
        g->st = st;
        g->gen = st->gen;
        g->req = req;
        apr_pool_cleanup_register(r->pool, g, forget_sub, apr_pool_cleanup_null);
    }
    kind = r->main ? "subrequest " : r->prev ? "redirect " : "request ";
    return apr_pstrcat(p, kind, rp_utf8_view(p, r->uri, LABEL_MAX, &len), NULL);
}

static apr_status_t destroy_states(void *unused)
{
    int i;
    (void)unused;
    child_ready = 0;
    for (i = 0; i < all_pools->nelts; i++)
        apr_pool_destroy(APR_ARRAY_IDX(all_pools, i, apr_pool_t *));
    all_pools->nelts = 0;
    free_list = NULL;
    all_states = NULL;
    return APR_SUCCESS;
}

long reqprof_pid;

void reqprof_state_child_init(apr_pool_t *pchild, server_rec *s,
                              const rp_registry_t *reg, int events,
                              reqprof_state_begin_fn begin_fn)
{
    int threaded = 0;
    registry = reg;
    tree_events = events;
    on_begin = begin_fn;
    reqprof_pid = (long)getpid();   /* glibc no longer caches it: a syscall */
    free_list = NULL;
    free_mutex = NULL;
    all_states = NULL;
    want_batch = 0;
    all_pools = apr_array_make(pchild, 16, sizeof(apr_pool_t *));
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) == APR_SUCCESS && threaded
        && apr_thread_mutex_create(&free_mutex, APR_THREAD_MUTEX_DEFAULT,
                                   pchild) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "RP0020: cannot create a mutex: profiling disabled in this child");
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, destroy_states, apr_pool_cleanup_null);
    child_ready = 1;
}

/* One lock per profiled request (not per hook call). */
static reqprof_state_t *acquire(void)
{
    reqprof_state_t *st;
    apr_pool_t *sp;

    if (free_mutex)
        apr_thread_mutex_lock(free_mutex);
    st = free_list;
    if (st)
        free_list = st->next;
    else if (apr_pool_create_unmanaged_ex(&sp, NULL, NULL) == APR_SUCCESS) {
        /* Its own allocator: used by one thread at a time, never shared. */
        st = apr_pcalloc(sp, sizeof *st);
        st->prof = rp_prof_create(sp, registry, label_of);
        /* No lock, no batch: its counts go to shared memory at once. */
        if (want_batch
            && apr_thread_mutex_create(&st->batch_lock, APR_THREAD_MUTEX_DEFAULT,
                                       sp) != APR_SUCCESS)
            st->batch_lock = NULL;
        APR_ARRAY_PUSH(all_pools, apr_pool_t *) = sp;
        /* Published whole: the flusher walks the list without the lock. */
        st->all_next = all_states;
        __atomic_store_n(&all_states, st, __ATOMIC_RELEASE);
    }
    if (free_mutex)
        apr_thread_mutex_unlock(free_mutex);
    return st;
}

reqprof_state_t *reqprof_state_all(void)
{
    return __atomic_load_n(&all_states, __ATOMIC_ACQUIRE);
}

void reqprof_state_want_batch(void)
{
    want_batch = 1;
}

void reqprof_state_recycle(reqprof_state_t *st)
{
    if (free_mutex)
        apr_thread_mutex_lock(free_mutex);
    st->next = free_list;
    free_list = st;
    if (free_mutex)
        apr_thread_mutex_unlock(free_mutex);
}

/* The request is over and gives its reference back. Calls still running
 * with this object (a filter whose frame was open when the
 * end-of-request bucket destroyed the request inside it) see gen change;
 * the object waits for the last of them (a zombie) before anyone else
 * may use it. */
static void release(reqprof_state_t *st)
{
    rp_prof_set_mirror(st->prof, NULL);     /* its in-flight record is done */
    st->gen++;
    st->r = NULL;
    st->path = NULL;
    if (--st->refs == 0)
        reqprof_state_recycle(st);
}

/* The request pool died without log_transaction (aborted early): give the
 * object back; trampolines still open see the new generation. */
static apr_status_t state_cleanup(void *data)
{
    release(data);
    return APR_SUCCESS;
}

void reqprof_state_end(request_rec *top, reqprof_state_t *st)
{
    ap_set_module_config(top->request_config, &reqprof_module, &reqprof_off);
    apr_pool_cleanup_kill(top->pool, st, state_cleanup);
    release(st);
}

/* Open the root frame, "request GET /path", at t0. The label is built
 * with the lengths rp_utf8_view already knows (apr_pstrcat would take
 * ~350 instructions) in the profile's own pool, where rp_prof_begin
 * would have copied it. Returns what st->path_clean holds. */
static int root_begin(rp_prof_t *prof, request_rec *top, const char *path, rp_tick_t t0)
{
    static const char pre[] = "request ";
    apr_size_t mlen, plen;
    const char *m = rp_utf8_view(top->pool, top->method, 32, &mlen);
    const char *u = rp_utf8_view(top->pool, path, LABEL_MAX, &plen);
    char *s = apr_palloc(rp_prof_scratch_clear(prof), sizeof(pre) + mlen + 1 + plen);
    char *o = s;
    memcpy(o, pre, sizeof(pre) - 1);
    o += sizeof(pre) - 1;
    memcpy(o, m, mlen);
    o += mlen;
    *o++ = ' ';
    memcpy(o, u, plen);
    o[plen] = '\0';
    rp_prof_begin_scratch(prof, top, s, t0);
    return u == path ? (int)plen : -1;
}

reqprof_state_t *reqprof_state_begin(request_rec *top)
{
    const reqprof_srv_t *sc;
    reqprof_state_t *st;
    rp_tick_t now;
    apr_time_t age;
    char *path;
    reqprof_ctl_t ctl;

    /* The phantom request of a closing keep-alive connection. */
    if (!top->the_request)
        return &reqprof_off;
    sc = ap_get_module_config(top->server->module_config, &reqprof_module);
    if (!child_ready || !registry || !sc->engine_anywhere
        || !reqprof_ctl_begin(top, sc, &ctl)       /* sampling, triggers */
        || !(st = acquire())) {
        ap_set_module_config(top->request_config, &reqprof_module, &reqprof_off);
        if (child_ready && sc->engine_anywhere && on_begin)
            on_begin(top, NULL);
        return &reqprof_off;
    }
    /* The path as the client asked for it, before redirects rewrite r->uri. */
    path = apr_pstrdup(top->pool, top->parsed_uri.path ? top->parsed_uri.path
                                                      : top->uri ? top->uri : "");
    ap_unescape_url(path);      /* decodes even when it also reports an error */
    st->path = path;
    st->r = top;
    st->refs = 1;               /* the request's own (release gives it back) */
    /* The last request's chains are gone: its heads' addresses may come
     * back as heads of this one, which reqprof_filters_scan must check
     * all the same (it checks a chain's entry points when its head is
     * not the one it saw last). */
    st->seen_out = st->seen_in = NULL;
    st->inflight = NULL;        /* on_begin sets it when there is a record */
    /* The decision, and the timeline a format needs: before rp_prof_begin. */
    st->ctl = ctl;
    rp_prof_set_event_log(st->prof, (sc->formats & REQPROF_FMT_CHROME) && sc->dir
                                    ? REQPROF_EVENT_LOG_MAX : 0);
    if (on_begin)
        on_begin(top, st);
    rp_prof_want_event_log(st->prof, tree_events);

    /* The root starts when the request line was read, not at the first hook. */
    now = rp_clock_now();
    age = apr_time_now() - top->request_time;
    /* rp_utf8_view: the method and path themselves when already clean
     * (the usual case), without rp_utf8_clean's copy (~300 instructions each). */
    st->path_clean = root_begin(st->prof, top, path,
                                now - (age > 0 ? rp_clock_ticks_from_usec(age) : 0));
    apr_pool_cleanup_register(top->pool, st, state_cleanup, apr_pool_cleanup_null);
    ap_set_module_config(top->request_config, &reqprof_module, st);
    return st;
}

const char *reqprof_request_id(request_rec *r)
{
    const char *uid = apr_table_get(r->subprocess_env, "UNIQUE_ID");
    if (uid)
        return uid;
    if (!r->log_id) {
        const char *id = NULL;
        /* The same id ErrorLogFormat's %L shows, so lines correlate. */
        if (ap_run_generate_log_id(r->connection, r, &id) == OK && id)
            r->log_id = id;
    }
    return r->log_id ? r->log_id : "-";
}

/* Parsed once per request when first asked for, from the top request as
 * it arrived; kept in its notes ("" for none), where a LogFormat can
 * show them too (%{reqprof-traceid}n). */
static const char *trace_note(request_rec *r, const char *which)
{
    request_rec *top = reqprof_top(r);
    const char *v;
    /* Most requests have none: one lookup, nothing stored. */
    if (!apr_table_get(top->headers_in, "traceparent"))
        return NULL;
    v = apr_table_get(top->notes, which);
    if (!v) {
        rp_traceparent_t tp;
        rp_traceparent_parse(apr_table_get(top->headers_in, "traceparent"), &tp);
        apr_table_set(top->notes, "reqprof-traceid", tp.traceid);
        apr_table_set(top->notes, "reqprof-spanid", tp.spanid);
        v = apr_table_get(top->notes, which);
    }
    return v && *v ? v : NULL;
}

const char *reqprof_trace_id(request_rec *r)
{
    return trace_note(r, "reqprof-traceid");
}

const char *reqprof_span_id(request_rec *r)
{
    return trace_note(r, "reqprof-spanid");
}
