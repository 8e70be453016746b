/*
 * reqprof_status.c - the status page's shared memory and its handler.
 *
 * Shared memory: one anonymous apr_shm made by the parent in post_config
 * from the process pool (which outlives every generation), so children
 * inherit it. A restart, graceful or not, re-runs post_config: when the
 * layout (ProfileStatusURLs, ProfileStatusSlowest, the number of virtual
 * hosts) is unchanged the same region is kept as it is, and children of
 * the old and new generations add to the same counters; when it changed,
 * a new region is made, the old one's counts are copied into it and the
 * old one is released (children of the old generation still finishing
 * requests at that moment add them to the old region: those few are not
 * in the new one). See rp_agg.h for the lock-free rules.
 *
 * Output formats live in reqprof_status_out.c.
 */
#include <stdlib.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "ap_mpm.h"
#include "scoreboard.h"
#include "mod_status.h"
#include "rp_inflight.h"
#include "rp_parse.h"
#include "rp_statusfile.h"
#include "rp_pstats.h"
#include "rp_ratelimit.h"
#include "rp_text.h"
#include "reqprof_status.h"
#include "reqprof_status_html.h"
#include "reqprof_status_out.h"
#include "reqprof_tree.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define USERDATA_KEY "reqprof-status-shm"

/* Kept in the process pool across generations. */
typedef struct kept {
    apr_shm_t *shm;
    rp_agg_sizes_t sz;
    int file_read;              /* ProfileStatusFile was looked at once */
} kept_t;

static int is_status_request(const request_rec *r);

#define INFLIGHT_KEY "reqprof-inflight-shm"

/* The in-flight records, kept in the process pool like the aggregates. */
typedef struct kept_inflight {
    apr_shm_t *shm;
    int n;
} kept_inflight_t;

static void *inflight_base;    /* records [inflight_n], one per scoreboard worker */
static int inflight_n, inflight_threads;

static rp_agg_t *agg;          /* this generation's handle on the region */
static const char *status_file; /* ProfileStatusFile, NULL: none */
static pid_t parent_pid;        /* who writes the file at stop */
static int *keymap;            /* registry id -> rp_agg key, -1: none */
static int keymap_n;           /* registry ids mapped so far */
static int keymap_cap;         /* its size: the registry's capacity */
static int *slowkey;           /* registry id -> its key when the key holds its
                                * names whole (the slow ring keeps the index),
                                * -1: the ring copies them */
static rp_ratelimit_t no_shm_faults;   /* RP0204, per child */

rp_agg_t *reqprof_status_agg(void)
{
    return agg;
}

static void map_keys(void)
{
    const rp_registry_t *reg = reqprof_registry;
    if (!agg || !reg || !keymap || !slowkey)
        return;
    for (; keymap_n < reg->n && keymap_n < reg->cap; keymap_n++) {
        const rp_key_t *k = &reg->keys[keymap_n];
        keymap[keymap_n] = rp_agg_key(agg, k->file, k->line, k->name);
        slowkey[keymap_n] = strlen(k->file) < RP_AGG_KEY_FILE
                            && strlen(k->name) < RP_AGG_KEY_NAME ? keymap[keymap_n] : -1;
    }
}

/* ProfileStatusFile: counts from before the last stop, when the layout
 * is the same; otherwise one line and a fresh start. */
static void status_file_load(server_rec *s, apr_pool_t *ptemp)
{
    const char *why = NULL;
    int rc = rp_statusfile_read(agg, status_file, ptemp, &why);
    if (rc > 0)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, "RP0206: status page counts "
                     "read back from %s", status_file);
    else if (rc < 0)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, "RP0207: ProfileStatusFile %s "
                     "not used: %s; counting afresh", status_file, why);
}

static void status_file_save(server_rec *s, apr_pool_t *p, int sync)
{
    apr_status_t rv = rp_statusfile_write_ex(agg, status_file, p, sync);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "RP0208: cannot write "
                     "ProfileStatusFile %s (its directory must be writable by the "
                     "server's User)", status_file);
}

/* The parent at stop or restart: the counts as they are (children of a
 * stop are gone by now, so nothing is lost after this). */
static apr_status_t status_file_at_exit(void *data)
{
    apr_pool_t *p;
    if (data != agg || !agg || !status_file || getpid() != parent_pid)
        return APR_SUCCESS;
    if (apr_pool_create(&p, NULL) == APR_SUCCESS) {
        status_file_save(NULL, p, 1);
        apr_pool_destroy(p);
    }
    return APR_SUCCESS;
}

/* Once a window minute, the first request to notice writes the file
 * (a crash of httpd loses at most that minute). Not synced: a request's
 * thread never waits for the disk (the parent syncs at stop). */
static void status_file_tick(request_rec *r)
{
    if (status_file && rp_statusfile_due(agg, apr_time_now()))
        status_file_save(r->server, r->pool, 0);
}

/* One record per scoreboard worker (ServerLimit x ThreadLimit), made once
 * and kept across restarts (the limits cannot change on a restart; when
 * they do, on a full one, a new region is made). */
static void inflight_post_config(server_rec *s)
{
    apr_pool_t *pproc = s->process->pool;
    kept_inflight_t *kept = NULL;
    int daemons = 0, threads = 0, n;

    inflight_base = NULL;
    inflight_n = 0;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons) != APR_SUCCESS || daemons < 1)
        daemons = 1;
    if (ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads) != APR_SUCCESS || threads < 1)
        threads = 1;
    n = daemons * threads;
    apr_pool_userdata_get((void **)&kept, INFLIGHT_KEY, pproc);
    if (!kept) {
        kept = apr_pcalloc(pproc, sizeof *kept);
        apr_pool_userdata_set(kept, INFLIGHT_KEY, apr_pool_cleanup_null, pproc);
    }
    if (kept->shm && kept->n != n) {
        apr_shm_destroy(kept->shm);
        kept->shm = NULL;
    }
    if (!kept->shm) {
        apr_status_t rv = apr_shm_create(&kept->shm, rp_inflight_size(n), NULL, pproc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, "RP0205: cannot create shared "
                         "memory for %d in-flight records: the status page will not "
                         "show what is running", n);
            kept->shm = NULL;
            return;
        }
        memset(apr_shm_baseaddr_get(kept->shm), 0, rp_inflight_size(n));
        kept->n = n;
    }
    inflight_base = apr_shm_baseaddr_get(kept->shm);
    inflight_n = n;
    inflight_threads = threads;
}

/* The record of the scoreboard worker serving c now, or NULL. */
static rp_inflight_rec_t *inflight_rec(conn_rec *c)
{
    worker_score *ws, *first;
    long i;
    if (!inflight_base || !c->sbh || !ap_scoreboard_image
        || !(ws = ap_get_scoreboard_worker(c->sbh)))
        return NULL;
    /* The workers' scores are one array, ServerLimit rows of ThreadLimit. */
    first = ap_scoreboard_image->servers[0];
    i = (long)(ws - first);
    return i >= 0 && i < inflight_n ? rp_inflight_at(inflight_base, (int)i) : NULL;
}

void reqprof_status_inflight_begin(request_rec *top, reqprof_state_t *st)
{
    rp_inflight_rec_t *rec = inflight_rec(top->connection);
    if (rec && is_status_request(top))
        rec = NULL;
    if (st)
        st->inflight = rec;     /* the end finds it there */
    if (!rec)
        return;
    rp_inflight_begin(rec, (apr_uint64_t)(uintptr_t)top, reqprof_pid, top->request_time,
                      top->method, top->parsed_uri.path ? top->parsed_uri.path : top->uri,
                      top->server->server_hostname, st != NULL);
    if (st) {
        rp_prof_mirror_t m;
        rp_inflight_mirror(rec, keymap, keymap_cap, &m);
        rp_prof_set_mirror(st->prof, &m);      /* copied */
    }
}

void reqprof_status_inflight_end(request_rec *top, reqprof_state_t *st)
{
    rp_inflight_rec_t *rec = st ? st->inflight : inflight_rec(top->connection);
    if (st && st->prof)
        rp_prof_set_mirror(st->prof, NULL);
    if (rec)
        rp_inflight_end(rec, (apr_uint64_t)(uintptr_t)top);
}

static const char *inflight_name(void *ctx, int code, apr_pool_t *p)
{
    const char *file, *name;
    int line;
    (void)ctx;
    if (!agg || !rp_agg_key_name(agg, code, &file, &line, &name))
        return NULL;
    if (line == 0 && !strcmp(file, "httpd"))
        return apr_pstrdup(p, name);
    return apr_psprintf(p, "%s:%d(%s)", file, line, name);
}

/* Only workers the scoreboard says are busy (a request that ended without
 * log_transaction leaves its record behind until the thread's next one),
 * and not the status request reading. */
typedef struct keep_ctx {
    request_rec *self;
} keep_ctx_t;

static int inflight_keep(void *ctx, int i)
{
    keep_ctx_t *k = ctx;
    worker_score *ws = ap_get_scoreboard_worker_from_indexes(i / inflight_threads,
                                                             i % inflight_threads);
    rp_inflight_rec_t *rec = rp_inflight_at(inflight_base, i);
    if (rec->owner == (apr_uint64_t)(uintptr_t)k->self && rec->pid == reqprof_pid)
        return 0;
    return ws && ws->status != SERVER_READY && ws->status != SERVER_DEAD
           && ws->status != SERVER_STARTING && ws->status != SERVER_IDLE_KILL;
}

apr_array_header_t *reqprof_status_inflight(request_rec *r)
{
    keep_ctx_t k;
    if (!inflight_base)
        return NULL;
    k.self = reqprof_top(r);
    return rp_inflight_read(inflight_base, inflight_n, apr_time_now(), r->pool,
                            inflight_name, NULL, inflight_keep, &k);
}

int reqprof_status_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    const reqprof_srv_t *mc = ap_get_module_config(s->module_config, &reqprof_module);
    apr_pool_t *pproc = s->process->pool;
    rp_agg_sizes_t sz;
    kept_t *kept = NULL;
    apr_shm_t *shm;
    apr_size_t size;
    apr_status_t rv;
    server_rec *v;
    int reused = 0, nservers = 0, copied = 0, i;
    (void)ptemp;

    agg = NULL;
    keymap = NULL;
    slowkey = NULL;
    keymap_n = 0;
    keymap_cap = 0;
    for (v = s; v; v = v->next)
        nservers++;
    sz.nkeys = REQPROF_STATUS_KEYS;
    sz.nvhosts = nservers < REQPROF_STATUS_VHOSTS ? nservers : REQPROF_STATUS_VHOSTS;
    sz.nurls = mc->status_urls > 0 ? mc->status_urls : REQPROF_STATUS_URLS_DEFAULT;
    sz.nslow = mc->status_slowest > 0 ? mc->status_slowest
                                      : REQPROF_STATUS_SLOWEST_DEFAULT;
    size = rp_agg_size(&sz);

    apr_pool_userdata_get((void **)&kept, USERDATA_KEY, pproc);
    if (kept && kept->shm && memcmp(&kept->sz, &sz, sizeof sz) == 0) {
        shm = kept->shm;
    }
    else {
        rv = apr_shm_create(&shm, size, NULL, pproc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         "RP0200: cannot create %" APR_SIZE_T_FMT " bytes of shared "
                         "memory: the status page has nothing to show", size);
            return OK;      /* profiling itself goes on */
        }
    }
    agg = rp_agg_attach(pconf, apr_shm_baseaddr_get(shm), apr_shm_size_get(shm), &sz,
                        apr_time_now(), &reused);
    if (!agg) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "RP0201: shared memory too small for the status page");
        return OK;
    }
    if (kept && kept->shm && kept->shm != shm) {
        int old_reused = 0;
        rp_agg_t *old = rp_agg_attach(pconf, apr_shm_baseaddr_get(kept->shm),
                                      apr_shm_size_get(kept->shm), &kept->sz, 0,
                                      &old_reused);
        if (old && old_reused) {
            rp_agg_copy(agg, old);
            copied = 1;
        }
        /* Only the parent's mapping goes; old children keep theirs. */
        apr_shm_destroy(kept->shm);
    }
    if (!kept) {
        kept = apr_pcalloc(pproc, sizeof *kept);
        apr_pool_userdata_set(kept, USERDATA_KEY, apr_pool_cleanup_null, pproc);
    }
    kept->shm = shm;
    kept->sz = sz;

    status_file = mc->status_file;
    if (status_file && ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) {
        /* Once per start, before names are mapped: the file's names come
         * first, this generation's are added to them. */
        if (!kept->file_read && !copied)
            status_file_load(s, ptemp);
        kept->file_read = 1;
        parent_pid = getpid();
        apr_pool_cleanup_register(pconf, agg, status_file_at_exit, apr_pool_cleanup_null);
    }
    for (v = s; v; v = v->next) {
        reqprof_srv_t *c = ap_get_module_config(v->module_config, &reqprof_module);
        c->status_vhost = rp_agg_vhost(agg, v->server_hostname ? v->server_hostname
                                                                : "(none)");
    }
    keymap_cap = reqprof_registry ? reqprof_registry->cap : 1;
    keymap = apr_palloc(pconf, sizeof(int) * (apr_size_t)keymap_cap);
    /* Ids not mapped yet show as such in the in-flight table; the mirror
     * takes the whole array, so that a frame's store needs no bound check
     * (rp_prof_set_mirror). */
    for (i = 0; i < keymap_cap; i++)
        keymap[i] = RP_MIRROR_NONE;
    slowkey = apr_palloc(pconf, sizeof(int) * (apr_size_t)(reqprof_registry
                                                           ? reqprof_registry->cap : 1));
    map_keys();
    inflight_post_config(s);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "RP0202: status page: %" APR_SIZE_T_FMT " bytes of shared memory, %s",
                 size, reused ? "kept from the previous generation"
                               : copied ? "counts copied from the previous generation"
                                        : "new");
    return OK;
}

void reqprof_status_child_init(apr_pool_t *pchild, server_rec *s)
{
    (void)pchild;
    (void)s;
    map_keys();
}

static int is_status_request(const request_rec *r)
{
    return reqprof_handler_is(r, REQPROF_STATUS_HANDLER);
}

/* Spreads writers over the stripes: processes and threads differ. */
static unsigned stripe_of(void)
{
    unsigned long t = (unsigned long)apr_os_thread_current();
    return (unsigned)reqprof_pid * 2654435761u + (unsigned)(t >> 12) * 40503u;
}

#define CALLS_ON_STACK 128

/* What every counted request has, profiled or not. */
static void fill_req(request_rec *top, const char *path, int clean, uint64_t wall_ns,
                     rp_agg_req_t *rq)
{
    const reqprof_srv_t *sc = ap_get_module_config(top->server->module_config,
                                                   &reqprof_module);
    request_rec *last = top;
    apr_size_t plen;

    while (last->next)
        last = last->next;
    rq->method = top->method;
    /* clean: path's length when the state found it clean (else -1) */
    rq->path = clean >= 0 && clean <= RP_AGG_URL_LEN - 1
               ? path : rp_utf8_view(top->pool, path, RP_AGG_URL_LEN - 1, &plen);
    rq->vhost = top->server->server_hostname ? top->server->server_hostname : "";
    rq->vhost_idx = sc->status_vhost;
    rq->status = last->status;
    rq->when = top->request_time;
    rq->wall_ns = wall_ns;
    rq->stripe = stripe_of();
    rq->traceid = NULL;         /* read only for the slow list */
}

void reqprof_status_count(request_rec *top, reqprof_state_t *st)
{
    const reqprof_dir_t *dc;
    rp_agg_req_t rq;
    uint64_t wall_ns;
    const char *path;

    if (!agg || !top->the_request || is_status_request(top))
        return;
    dc = ap_get_module_config(top->per_dir_config, &reqprof_module);
    if (!dc || dc->engine != 1)
        return;
    if (st && st->prof && st->path) {
        /* Profiled, then not chosen: its root already timed it. */
        wall_ns = (uint64_t)((double)rp_prof_root_ticks(st->prof)
                             * rp_clock_sec_per_tick * 1e9);
        path = st->path;
    }
    else {
        apr_time_t age = apr_time_now() - top->request_time;
        wall_ns = age > 0 ? (uint64_t)age * 1000 : 0;
        /* The path as the client asked for it, as profiled requests keep it. */
        char *p = apr_pstrdup(top->pool, top->parsed_uri.path ? top->parsed_uri.path
                                         : top->uri ? top->uri : "");
        ap_unescape_url(p);
        path = p;
    }
    fill_req(top, path, st && st->path == path ? st->path_clean : -1, wall_ns, &rq);
    rp_agg_count(agg, &rq);
    status_file_tick(top);
}

/* A shape for the batch: each local function's key (a registry id that
 * has none yet, being newer than the keys mapped, takes the old road:
 * its key would come later). -1: none made. */
static int shape_add(rp_agg_batch_t *b, uint64_t shape, rp_prof_t *prof,
                     apr_pool_t *p)
{
    int stack_keys[CALLS_ON_STACK], *fkey = stack_keys;
    const rp_prof_rec_t *log;
    const int *ids;
    int i, n, nf;

    log = rp_prof_log_ticks(prof, &n);
    ids = rp_prof_ids(prof, &nf);
    if (nf > CALLS_ON_STACK)
        fkey = apr_palloc(p, sizeof(int) * (apr_size_t)nf);
    for (i = 0; i < nf; i++) {
        int id = ids[i];
        if (id >= keymap_n)
            return -1;
        fkey[i] = id < 0 ? RP_AGG_UNCOUNTED : keymap[id] < 0 ? RP_AGG_NO_KEY : keymap[id];
    }
    return rp_agg_shape_add(agg, b, shape, log, n, fkey, nf,
                            rp_clock_sec_per_tick * 1e9);
}

/* The batch's usual road: the request's frames summed into its shape's
 * sums, no function totals made. Returns 0 when the shape is not kept. */
static int record_shape(rp_agg_batch_t *b, const reqprof_shape_t *shape, rp_prof_t *prof,
                        const rp_agg_req_t *rq, apr_pool_t *p)
{
    int s = rp_agg_shape_find(b, shape->tag), n;
    const rp_prof_rec_t *log;
    /* A log cut short would leave frames out of the counts. */
    if (!rp_prof_log_whole(prof))
        return 0;
    if (s < 0 && (s = shape_add(b, shape->tag, prof, p)) < 0)
        return 0;
    log = rp_prof_log_shape(prof, &n);     /* only its ticks are read */
    /* The tree's ticks of the same frames, when it has them: no second
     * pass over the log. */
    if (shape->ticks && shape->nticks == n)
        rp_agg_record_shape_ticks(agg, b, rq, s, shape->ticks, n);
    else
        rp_agg_record_shape(agg, b, rq, s, log, n);
    return 1;
}

/* The function totals (folded on demand) as calls for rp_agg. */
static rp_agg_call_t *calls_of(rp_prof_t *prof, rp_agg_call_t *on_stack, apr_pool_t *p,
                               int *ncalls)
{
    rp_agg_call_t *calls = on_stack;
    double ns_per_tick = rp_clock_sec_per_tick * 1e9;
    const rp_prof_fn_t *fns = rp_prof_funcs_view(prof, ncalls);
    int i, n = *ncalls;

    if (n > CALLS_ON_STACK)
        calls = apr_palloc(p, sizeof(rp_agg_call_t) * (apr_size_t)n);
    *ncalls = 0;
    for (i = 0; i < n; i++) {
        int id = fns[i].id;
        rp_agg_call_t *c = &calls[*ncalls];
        if (id < 0)
            continue;       /* the request itself, subrequests, redirects */
        c->key = id < keymap_n ? keymap[id] : -1;
        c->calls = (uint64_t)fns[i].calls;
        c->tt_ns = rp_scale_u64(fns[i].self, ns_per_tick);
        c->ct_ns = rp_scale_u64(fns[i].total, ns_per_tick);
        (*ncalls)++;
    }
    return calls;
}

void reqprof_status_record(request_rec *top, reqprof_state_t *st,
                           const reqprof_dir_t *dc, const reqprof_shape_t *shape,
                           apr_time_t now)
{
    rp_agg_call_t stack_calls[CALLS_ON_STACK], *calls;
    rp_agg_req_t rq;
    int i, n, ncalls;

    if (!agg || !st || !dc || dc->engine != 1 || is_status_request(top))
        return;
    fill_req(top, st->path, st->path_clean,
             (uint64_t)((double)rp_prof_root_ticks(st->prof) * rp_clock_sec_per_tick * 1e9),
             &rq);
    if (st->batching == REQPROF_BATCH_ON) {
        rp_agg_batch_t **b = (rp_agg_batch_t **)rp_prof_user(st->prof, REQPROF_USER_AGG);
        if (!*b)
            *b = rp_agg_batch_create(agg, rp_prof_pool(st->prof));
        if (!shape->tag || !record_shape(*b, shape, st->prof, &rq, top->pool)) {
            calls = calls_of(st->prof, stack_calls, top->pool, &ncalls);
            rp_agg_record_batch(agg, *b, &rq, calls, ncalls);
        }
    }
    else {
        calls = calls_of(st->prof, stack_calls, top->pool, &ncalls);
        rp_agg_record(agg, &rq, calls, ncalls);
    }
    status_file_tick(top);
    if (rp_agg_slow_wants(agg, rq.wall_ns, now)) {
        const rp_stats_t *stats = rp_prof_stats(st->prof, top->pool,
                                                rp_clock_sec_per_tick);
        /* stats->funcs[i] is the profile's function i: the ring names the
         * wrapped ones by their key, copying no string. */
        const int *ids = rp_prof_ids(st->prof, &n);
        int stack_keys[CALLS_ON_STACK];
        int *keys = n > CALLS_ON_STACK ? apr_palloc(top->pool, sizeof(int) * (apr_size_t)n)
                                       : stack_keys;
        for (i = 0; i < n; i++) {
            int id = ids[i];
            keys[i] = id >= 0 && id < keymap_n ? slowkey[id] : -1;
        }
        rq.traceid = reqprof_trace_id(top);     /* only for the slow list */
        rp_agg_slow_add_keyed(agg, &rq, stats, keys, apr_time_now());
    }
}

void reqprof_status_flush(reqprof_state_t *st, apr_time_t now)
{
    rp_agg_batch_t *b = agg ? *(rp_agg_batch_t **)rp_prof_user(st->prof, REQPROF_USER_AGG)
                            : NULL;
    if (b && rp_agg_batch_pending(b))
        rp_agg_batch_flush(agg, b, now);
}

static int send_prof(request_rec *r, uint64_t id)
{
    rp_agg_slowrow_t info;
    const rp_stats_t *st = rp_agg_slow_stats(agg, id, r->pool, &info);
    const char *data;
    apr_size_t len;

    if (!st || rp_pstats_encode(st, r->pool, &data, &len) != APR_SUCCESS)
        return HTTP_NOT_FOUND;
    ap_set_content_type(r, "application/octet-stream");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"reqprof-%"
                                APR_UINT64_T_FMT ".prof\"", (apr_uint64_t)id));
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        ap_rwrite(data, (int)len, r);
    return OK;
}

static int send_view(request_rec *r, uint64_t id)
{
    rp_agg_slowrow_t info;
    const rp_stats_t *st = rp_agg_slow_stats(agg, id, r->pool, &info);
    if (!st)
        return HTTP_NOT_FOUND;
    reqprof_status_view(r, st, &info);
    return OK;
}

static int parse_id(const char *v, uint64_t *id)
{
    apr_int64_t n;
    if (rp_parse_int64(v, 1, INT64_MAX, &n) != RP_INT_OK)
        return 0;
    *id = (uint64_t)n;
    return 1;
}

int reqprof_status_handler(request_rec *r)
{
    const reqprof_dir_t *dc;
    const char *v;
    rp_agg_snap_t *snap;
    uint64_t id;
    int reset_allowed, window = 0;

    if (!reqprof_handler_is(r, REQPROF_STATUS_HANDLER))
        return DECLINED;
    dc = ap_get_module_config(r->per_dir_config, &reqprof_module);
    reset_allowed = dc && dc->status_reset == 1;
    r->allowed = (AP_METHOD_BIT << M_GET) | (reset_allowed ? AP_METHOD_BIT << M_POST : 0);
    ap_allow_methods(r, REPLACE_ALLOW, "GET", reset_allowed ? "POST" : NULL, NULL);
    if (r->method_number == M_POST && reset_allowed) {
        int rv = ap_discard_request_body(r);
        if (rv != OK)
            return rv;
        if (!agg)
            return HTTP_SERVICE_UNAVAILABLE;
        rp_agg_reset(agg, apr_time_now());
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "RP0203: status page counters reset by %s", r->useragent_ip);
        apr_table_setn(r->headers_out, "Location", ap_construct_url(r->pool, r->uri, r));
        return HTTP_SEE_OTHER;
    }
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    {   /* the aggregate call tree's views: ?flame, ?prof, ?pprof, ?collapsed */
        int rv = reqprof_tree_handler(r);
        if (rv != DECLINED)
            return rv;
    }
    if (!agg) {
        apr_uint32_t skipped;
        /* Each scrape would log it again: once a minute per child. */
        if (rp_ratelimit_pass(&no_shm_faults, (apr_uint32_t)apr_time_sec(apr_time_now()),
                              REQPROF_FAULT_LOG_INTERVAL, &skipped))
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "RP0204: the status page has no shared memory (see RP0200; "
                          "%u such requests not logged in the last minute)", skipped);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if ((v = rp_query_arg(r->pool, r->args, "prof")) != NULL)
        return parse_id(v, &id) ? send_prof(r, id) : HTTP_BAD_REQUEST;
    if ((v = rp_query_arg(r->pool, r->args, "view")) != NULL)
        return parse_id(v, &id) ? send_view(r, id) : HTTP_BAD_REQUEST;

    if ((v = rp_query_arg(r->pool, r->args, "window")) != NULL
        && (window = rp_win_parse(v)) < 0) {
        r->status = HTTP_BAD_REQUEST;
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rputs("bad window: give window=1m, 5m, 15m or 60m, or none for "
                 "since start\n", r);
        return OK;
    }
    snap = window > 0 ? rp_agg_read_window(agg, r->pool, window, apr_time_now())
                      : rp_agg_read(agg, r->pool);
    if (rp_query_arg(r->pool, r->args, "json"))
        reqprof_status_json(r, snap, reqprof_status_inflight(r));
    else if (rp_query_arg(r->pool, r->args, "prometheus"))
        reqprof_status_prometheus(r, snap);
    else if (rp_query_arg(r->pool, r->args, "auto")) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        reqprof_status_auto(r, snap);
    }
    else {
        int refresh = 0;
        apr_int64_t n;
        /* Seconds; past an hour is an hour, anything else none. */
        switch (rp_parse_int64(rp_query_arg(r->pool, r->args, "refresh"), 1, 3600, &n)) {
        case RP_INT_OK: refresh = (int)n; break;
        case RP_INT_ABOVE: refresh = 3600; break;
        default: break;
        }
        reqprof_status_html(r, snap, reset_allowed, rp_query_arg(r->pool, r->args, "window"),
                            rp_query_arg(r->pool, r->args, "sort"), refresh,
                            reqprof_status_inflight(r));
    }
    return OK;
}

int reqprof_status_hook(request_rec *r, int flags)
{
    rp_agg_snap_t *snap;
    if (!agg)
        return OK;
    snap = rp_agg_read(agg, r->pool);
    if (flags & AP_STATUS_SHORT)
        reqprof_status_auto(r, snap);
    else
        reqprof_status_section(r, snap);
    return OK;
}

/* Filters wrapped at run time in a child (reqprof_filters.c, under its
 * lock) added registry ids: give them status keys too, so their time is
 * on the page as it is in the files. */
void reqprof_status_keys_added(void)
{
    map_keys();
}
