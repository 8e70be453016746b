/*
 * reqprof_tree.c - the aggregate call tree in the server (see
 * reqprof_tree.h, and lib/rp_tree.h for the lock-free rules).
 *
 * Shared memory: one anonymous apr_shm made by the parent in post_config
 * from the process pool, inherited by the children. A restart (graceful
 * or not) keeps the region as it is when ProfileAggregateNodes and the
 * number of virtual hosts are unchanged, so the tree and its windows go
 * on; otherwise a new, empty region replaces it. No shared memory (it
 * could not be made): requests are served and profiled as ever, the
 * views answer 503 saying so.
 *
 * Recording reads the request's timeline (rp_prof's event log, switched
 * on for every profiled request while the tree is on) and folds it into
 * the request's own call tree, then adds that node by node.
 */
#include <stdlib.h>

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "rp_clock.h"
#include "rp_parse.h"
#include "rp_pstats.h"
#include "rp_tree.h"
#include "rp_tree_out.h"
#include "reqprof_state.h"
#include "reqprof_tree.h"

APLOG_USE_MODULE(reqprof);

#define USERDATA_KEY "reqprof-tree-shm"
#define ON_STACK 256            /* events handled without allocating */

typedef struct kept {
    apr_shm_t *shm;
    rp_tree_sizes_t sz;
} kept_t;

static rp_tree_t *tree;         /* this generation's handle, NULL: none */
static int tree_wanted;         /* ProfileAggregateNodes is not 0 */
static int *funcmap;            /* registry id -> tree function id, -2: not yet */
static int funcmap_n;

/* Tests shorten the window "minute" (REQPROF_TEST_MINUTE_MS). The status
 * page's counters read the same variable; both set rp_win_minute_usec to
 * the same value. */
void reqprof_tree_post_config(apr_pool_t *pconf, server_rec *s, const rp_registry_t *reg)
{
    const reqprof_srv_t *mc = ap_get_module_config(s->module_config, &reqprof_module);
    apr_pool_t *pproc = s->process->pool;
    rp_tree_sizes_t sz;
    kept_t *kept = NULL;
    apr_shm_t *shm = NULL;
    apr_status_t rv;
    server_rec *v;
    int reused = 0, nservers = 0, i;

    tree = NULL;
    funcmap = NULL;
    funcmap_n = 0;
    for (v = s; v; v = v->next)
        nservers++;
    memset(&sz, 0, sizeof sz);
    sz.nnodes = mc->agg_nodes == REQPROF_UNSET ? REQPROF_AGG_NODES_DEFAULT : mc->agg_nodes;
    sz.nvhosts = nservers < RP_TREE_MAX_VHOSTS ? nservers : RP_TREE_MAX_VHOSTS;
    tree_wanted = sz.nnodes > 0;
    apr_pool_userdata_get((void **)&kept, USERDATA_KEY, pproc);
    if (!tree_wanted) {
        if (kept && kept->shm) {
            apr_shm_destroy(kept->shm);
            kept->shm = NULL;
        }
        return;
    }
    if (kept && kept->shm && memcmp(&kept->sz, &sz, sizeof sz) == 0)
        shm = kept->shm;
    else {
        apr_size_t size = rp_tree_size(&sz);
        rv = apr_shm_create(&shm, size, NULL, pproc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         "RP0210: cannot create %" APR_SIZE_T_FMT " bytes of shared "
                         "memory for the aggregate call tree (ProfileAggregateNodes %d): "
                         "its views are unavailable", size, sz.nnodes);
            return;
        }
        if (kept && kept->shm)
            apr_shm_destroy(kept->shm);     /* old children keep their mapping */
    }
    tree = rp_tree_attach(pconf, apr_shm_baseaddr_get(shm), apr_shm_size_get(shm), &sz,
                          apr_time_now(), &reused);
    if (!kept) {
        kept = apr_pcalloc(pproc, sizeof *kept);
        apr_pool_userdata_set(kept, USERDATA_KEY, apr_pool_cleanup_null, pproc);
    }
    kept->shm = shm;
    kept->sz = sz;
    if (!tree) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "RP0211: shared memory too small for the aggregate call tree");
        return;
    }
    for (v = s; v; v = v->next) {
        reqprof_srv_t *c = ap_get_module_config(v->module_config, &reqprof_module);
        c->tree_vhost = rp_tree_vhost(tree, v->server_hostname ? v->server_hostname
                                                               : "(none)");
    }
    funcmap_n = reg ? reg->cap : 0;
    funcmap = apr_palloc(pconf, sizeof(int) * (apr_size_t)(funcmap_n + 1));
    for (i = 0; i < funcmap_n; i++)
        funcmap[i] = -2;
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "RP0212: aggregate call tree: %d nodes, %" APR_SIZE_T_FMT " bytes of "
                 "shared memory, %s", sz.nnodes, rp_tree_size(&sz),
                 reused ? "kept from the previous generation" : "new");
}

int reqprof_tree_events(void)
{
    return tree ? REQPROF_TREE_EVENTS : 0;
}

/* The tree function of the profile's local function i, whose registry id
 * is id. Hook entries, phases and filters (registry ids) are looked up
 * once per child; the few per-request names (subrequests, CGI scripts,
 * backends) each time. */
static int func_of(const rp_prof_t *prof, int i, int id)
{
    const char *file, *name;
    int line, f;

    if (i == 0)
        return RP_TREE_FUNC_ROOT;
    if (id >= 0 && id < funcmap_n && funcmap[id] >= 0)
        return funcmap[id];
    rp_prof_func_key(prof, i, &file, &line, &name);
    f = rp_tree_func(tree, file, line, name);
    /* A store of the same value by several threads at once is harmless. */
    if (id >= 0 && id < funcmap_n && f >= 0)
        funcmap[id] = f;
    return f;
}

/* REQPROF_STATUS_HANDLER, spelled here so that this unit needs nothing
 * from the status page's (which calls it). */
static int is_status_request(const request_rec *r)
{
    return reqprof_handler_is(r, "reqprof-status");
}

void reqprof_tree_flush(rp_prof_t *prof, apr_time_t now)
{
    rp_tree_cache_t *c = tree ? *(rp_tree_cache_t **)rp_prof_user(prof, REQPROF_USER_TREE)
                              : NULL;
    if (c)
        rp_tree_cache_flush(c, now);
}

void reqprof_tree_record(request_rec *top, rp_prof_t *prof, int batching, apr_time_t now,
                         reqprof_shape_t *shape)
{
    const reqprof_srv_t *sc;
    rp_tree_ev_t ev_stack[ON_STACK], *ev = ev_stack;
    rp_tree_rec_t rec_stack[ON_STACK], *rec = rec_stack;
    int work_stack[5 * ON_STACK], *work = work_stack;
    int local_stack[ON_STACK], *local = local_stack;
    rp_tree_cache_t **cache, *c;
    const rp_prof_rec_t *log;
    const int *ids;
    double ns_per_tick = rp_clock_sec_per_tick * 1e9;
    int n, nf, i, keyable = 1;

    shape->tag = 0;
    shape->ticks = NULL;
    shape->nticks = 0;
    if (!tree || !prof || is_status_request(top))
        return;
    /* The shape form first: a registry function's number there is its
     * registry id, so no request needs its functions looked up. */
    log = rp_prof_log_shape(prof, &n);
    if (n < 1)
        return;
    sc = ap_get_module_config(top->server->module_config, &reqprof_module);
    /* The path cache hangs on the profile object: one thread at a time,
     * and the flusher holding the batch lock. */
    cache = (rp_tree_cache_t **)rp_prof_user(prof, REQPROF_USER_TREE);
    if (batching == REQPROF_BATCH_BUSY)
        c = NULL;       /* the flusher has it: the uncached road, at once */
    else {
        if (!*cache)
            *cache = rp_tree_cache_create(rp_prof_pool(prof), ON_STACK);
        c = *cache;
        rp_tree_cache_batch(c, batching == REQPROF_BATCH_ON, now);
        /* The usual case: a shape met before, read from the log as it is
         * (a cached path holds at most ON_STACK records). */
        if (rp_tree_record_log(tree, c, sc->tree_vhost, log, n, ns_per_tick, now, NULL) >= 0) {
            shape->tag = rp_tree_cache_tag(c);
            shape->ticks = rp_tree_cache_ticks(c, &shape->nticks);
            return;
        }
    }
    /* A shape not keyed yet: the log with local functions. */
    ids = rp_prof_ids(prof, &nf);
    log = rp_prof_log_ticks(prof, &n);
    if (nf < 1)
        return;
    if (n > ON_STACK) {
        ev = apr_palloc(top->pool, sizeof(*ev) * (apr_size_t)n);
        rec = apr_palloc(top->pool, sizeof(*rec) * (apr_size_t)n);
        work = apr_palloc(top->pool, sizeof(int) * 5 * (apr_size_t)n);
    }
    if (nf > ON_STACK)
        local = apr_palloc(top->pool, sizeof(int) * (apr_size_t)nf);
    /* Every local function to its tree function. A shape may be keyed by
     * its registry ids only when each of them stands for one tree
     * function for good: no per-request name (a subrequest, a CGI
     * script), none the tree had no room for. */
    for (i = 0; i < nf; i++) {
        local[i] = func_of(prof, i, ids[i]);
        if (i > 0 && (ids[i] < 0 || local[i] < 0))
            keyable = 0;
    }
    for (i = 0; i < n; i++) {
        int f = log[i].func;
        ev[i].func = f < 0 || f >= nf ? -1 : local[f];
        ev[i].depth = log[i].depth;
        ev[i].t0 = log[i].t0;
        ev[i].t1 = log[i].t1;
    }
    rp_tree_record_events(tree, c, sc->tree_vhost, ev, n, ns_per_tick, now, rec, work);
    if (keyable)
        rp_tree_cache_key(c, tree, sc->tree_vhost, ev, rp_prof_log_shape(prof, &n), n);
}

/* ------------------------------------------------------------ the views */

const char *reqprof_tree_arg(request_rec *r, const char *name)
{
    const char *raw = rp_query_arg(r->pool, r->args, name);
    char *v, *c;
    if (!raw)
        return NULL;
    v = apr_pstrdup(r->pool, raw);
    for (c = v; *c; c++)
        if (*c == '+')
            *c = ' ';
    ap_unescape_url(v);
    return v;
}

/* The query string naming this vhost and window, for links. */
static const char *scope_args(request_rec *r, const char *vhost, const char *window)
{
    return apr_pstrcat(r->pool,
                       vhost ? "&vhost=" : "", vhost ? ap_escape_uri(r->pool, vhost) : "",
                       window && *window ? "&window=" : "", window ? window : "", NULL);
}

static void flame_page(request_rec *r, const rp_tree_snap_t *s, const char *vhost,
                       const char *window, const char *focus)
{
    const char *scope = scope_args(r, vhost, window);
    const char *base = apr_pstrcat(r->pool, "?flame", scope, "&focus=", NULL);
    static const char *const wins[] = { "", "1m", "5m", "15m", "60m" };
    int i;

    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_rprintf(r, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
               "<title>All traffic - mod_reqprof</title><style>"
               "body{font-family:sans-serif;margin:1em}"
               ".flame text{pointer-events:none;fill:#000}"
               ".flame a:hover rect,.flame g:hover rect{stroke:#000}"
               "nav a{margin-right:.8em}</style></head><body>\n"
               "<p><a href=\"?\">&larr; status</a></p>"
               "<h1>All traffic: %s, %s</h1>\n",
               ap_escape_html(r->pool, vhost ? vhost : "all virtual hosts"),
               window && *window ? apr_psprintf(r->pool, "last %s",
                                                ap_escape_html(r->pool, window))
                                 : "since start");
    ap_rputs("<nav>Window:", r);
    for (i = 0; i < 5; i++)
        ap_rprintf(r, " <a href=\"?flame%s\">%s</a>",
                   ap_escape_html(r->pool, scope_args(r, vhost, wins[i])),
                   *wins[i] ? wins[i] : "since start");
    ap_rputs(" &middot; Host: <a href=\"?flame", r);
    ap_rprintf(r, "%s\">all</a>", ap_escape_html(r->pool, scope_args(r, NULL, window)));
    for (i = 0; i < s->nvhosts; i++)
        if (s->vhosts[i])
            ap_rprintf(r, " <a href=\"?flame%s\">%s</a>",
                       ap_escape_html(r->pool, scope_args(r, s->vhosts[i], window)),
                       ap_escape_html(r->pool, s->vhosts[i]));
    ap_rprintf(r, "</nav>\n<p>%" APR_UINT64_T_FMT " requests, %.3f ms in all. "
               "Download: <a href=\"?prof%s\">.prof</a> (pstats, SnakeViz) "
               "<a href=\"?pprof%s\">pprof</a> <a href=\"?collapsed%s\">folded stacks</a>"
               "%s</p>\n",
               (apr_uint64_t)(s->nnodes ? s->nodes[0].calls : 0),
               s->nnodes ? (double)s->nodes[0].cum_ns / 1e6 : 0.0,
               ap_escape_html(r->pool, scope), ap_escape_html(r->pool, scope),
               ap_escape_html(r->pool, scope),
               focus && *focus ? apr_pstrcat(r->pool, " &middot; <a href=\"?flame",
                                             ap_escape_html(r->pool, scope),
                                             "\">whole tree</a>", NULL) : "");
    ap_rputs("<div class=\"flamebox\">", r);
    ap_rputs(rp_tree_flame(s, focus, base, r->pool), r);
    ap_rprintf(r, "</div>\n<p>Each bar is a function (phase, hook entry, filter, "
               "subrequest, CGI run, backend) on its call path, as wide as its "
               "cumulative time there; hover for calls, self and cumulative time; "
               "click to zoom. %d of %d nodes in use%s.</p></body></html>\n",
               s->used, s->capacity,
               s->used >= s->capacity * 7 / 8 ? " (full: new paths count as (other))" : "");
}

static int send_bytes(request_rec *r, const char *type, const char *filename,
                      const char *data, apr_size_t len)
{
    ap_set_content_type(r, type);
    if (filename)
        apr_table_setn(r->headers_out, "Content-Disposition",
                       apr_psprintf(r->pool, "attachment; filename=\"%s\"", filename));
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only && len)
        ap_rwrite(data, (int)len, r);
    return OK;
}

int reqprof_tree_handler(request_rec *r)
{
    const char *flame = reqprof_tree_arg(r, "flame"), *prof = reqprof_tree_arg(r, "prof");
    const char *pprof = reqprof_tree_arg(r, "pprof");
    const char *collapsed = reqprof_tree_arg(r, "collapsed");
    const char *vhost, *window, *secs, *data;
    rp_tree_counts_t *counts;
    rp_tree_snap_t *snap;
    apr_time_t start;
    apr_size_t len;
    apr_status_t rv;
    int win, seconds = 0, vidx = -1;

    /* ?prof=ID is one slow request's profile; bare ?prof the aggregate. */
    if (prof && *prof)
        prof = NULL;
    /* The same views as paths (/reqprof-status/pprof ...): scrapers that
     * take a path and add ?seconds=N themselves need no query of ours. */
    if (r->path_info && *r->path_info) {
        const char *pi = r->path_info;
        if (!strcmp(pi, "/pprof"))
            pprof = "";
        else if (!strcmp(pi, "/prof"))
            prof = "";
        else if (!strcmp(pi, "/collapsed"))
            collapsed = "";
        else if (!strcmp(pi, "/flame"))
            flame = "";
    }
    if (!flame && !prof && !pprof && !collapsed)
        return DECLINED;
    if (!tree) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        r->status = HTTP_SERVICE_UNAVAILABLE;
        ap_rputs(tree_wanted ? "The aggregate call tree has no shared memory (see RP0210 "
                               "in the error log).\n"
                             : "The aggregate call tree is off (ProfileAggregateNodes 0).\n",
                 r);
        return OK;
    }
    window = reqprof_tree_arg(r, "window");
    if ((win = rp_win_parse(window)) < 0)
        return HTTP_BAD_REQUEST;
    if ((secs = reqprof_tree_arg(r, "seconds")) != NULL) {
        apr_int64_t n;
        if (rp_parse_int64(secs, 1, 60, &n) != RP_INT_OK)
            return HTTP_BAD_REQUEST;
        seconds = (int)n;
    }
    vhost = reqprof_tree_arg(r, "vhost");
    if (vhost) {
        rp_tree_snap_t *names = rp_tree_snap(tree, rp_tree_counts(tree, r->pool, 0, 0),
                                             -1, r->pool);
        int i;
        for (i = 0; i < names->nvhosts; i++)
            if (names->vhosts[i] && !strcmp(names->vhosts[i], vhost))
                vidx = i;
        if (vidx < 0)
            return HTTP_NOT_FOUND;
    }
    start = apr_time_now();
    counts = rp_tree_counts(tree, r->pool, win, start);
    if (seconds) {
        /* Like Go's /debug/pprof/profile?seconds=N: what finished meanwhile. */
        rp_tree_counts_t *before = rp_tree_counts(tree, r->pool, 0, start);
        apr_sleep(apr_time_from_sec(seconds));
        counts = rp_tree_counts(tree, r->pool, 0, apr_time_now());
        rp_tree_counts_sub(counts, before);
    }
    snap = rp_tree_snap(tree, counts, vidx, r->pool);
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");

    if (flame) {
        flame_page(r, snap, vhost, win ? window : NULL, reqprof_tree_arg(r, "focus"));
        return OK;
    }
    if (prof) {
        rp_stats_t *st = rp_tree_stats(snap, r->pool);
        if (!st || rp_pstats_encode(st, r->pool, &data, &len) != APR_SUCCESS) {
            ap_set_content_type(r, "text/plain; charset=utf-8");
            r->status = HTTP_NOT_FOUND;
            ap_rputs("No requests recorded (in this window).\n", r);
            return OK;
        }
        return send_bytes(r, "application/octet-stream", "reqprof-all.prof", data, len);
    }
    if (pprof) {
        apr_time_t from = seconds ? start : win ? start - (apr_time_t)win * rp_win_minute_usec
                                                : snap->created;
        apr_time_t to = seconds ? apr_time_now() : start;
        rv = rp_tree_pprof(snap, (int64_t)from * 1000, (int64_t)(to - from) * 1000,
                           r->pool, &data, &len);
        if (rv != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
        return send_bytes(r, "application/octet-stream", "profile.pb.gz", data, len);
    }
    if (rp_tree_collapsed(snap, r->pool, &data, &len) != APR_SUCCESS) {
        data = "";
        len = 0;
    }
    return send_bytes(r, "text/plain; charset=utf-8", NULL, data, len);
}
