/*
 * reqprof_output.c - writing a kept request's files: one per format of
 * ProfileFormat, named by ProfileFilenameFormat, written atomically and
 * never over another file (rp_file), then counted against the directory's
 * ProfileMaxFiles/ProfileMaxDirSize (reqprof_retain.c).
 *
 * Names: a format that uses {ext} is expanded with each format's
 * extension (prof, callgrind, json, folded). One that does not is used as
 * it is for pstats; for the other formats a final ".prof" is replaced by
 * the format's extension, or the extension is appended.
 */
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "apr_portable.h"
#include "apr_hash.h"
#include "apr_shm.h"
#include "apr_strings.h"

#include "rp_callgrind.h"
#include "rp_chrome.h"
#include "rp_clock.h"
#include "rp_collapsed.h"
#include "rp_file.h"
#include "rp_fname.h"
#include "rp_pprof.h"
#include "rp_pstats.h"
#include "rp_ratelimit.h"
#include "rp_text.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"
#include "reqprof_output.h"
#include "reqprof_state.h"
#include "reqprof_retain.h"
#include "reqprof_writer.h"

APLOG_USE_MODULE(reqprof);

typedef struct format {
    int bit;
    const char *name;         /* as in ProfileFormat and the note's suffix */
    const char *ext;
} format_t;

static const format_t formats[] = {
    { REQPROF_FMT_PSTATS, "pstats", "prof" },
    { REQPROF_FMT_CALLGRIND, "callgrind", "callgrind" },
    { REQPROF_FMT_CHROME, "chrome", "json" },
    { REQPROF_FMT_COLLAPSED, "collapsed", "folded" },
    { REQPROF_FMT_PPROF, "pprof", "pb.gz" },
};
#define NFORMATS (int)(sizeof formats / sizeof formats[0])

/* Failures to write a profile are reported at most once a minute per child,
 * with how many were not reported: a full disk must not flood the log. */
static rp_ratelimit_t write_faults;

/* s: the server whose file it is (the file may be written by the
 * child's writer, after its request). */
static void warn_limited(server_rec *s, apr_status_t rv, const char *dir, const char *name)
{
    apr_uint32_t skipped;
    if (!rp_ratelimit_pass(&write_faults, (apr_uint32_t)apr_time_sec(apr_time_now()),
                           REQPROF_FAULT_LOG_INTERVAL, &skipped))
        return;
    ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                 "RP0030: cannot write profile %s/%s (%u similar failures "
                 "not logged in the last minute)", dir, name, skipped);
}

static const char *file_name(apr_pool_t *p, const rp_fname_t *fn,
                             rp_fname_vars_t *v, const format_t *f)
{
    const char *name;
    apr_size_t n, elen = strlen(f->ext);

    v->ext = f->ext;
    name = rp_fname_expand(p, fn, v);
    if (f->bit == REQPROF_FMT_PSTATS || rp_fname_uses(fn, "ext"))
        return name;
    n = strlen(name);
    if (n > 5 && !strcmp(name + n - 5, ".prof"))
        n -= 5;
    if (n + 1 + elen > RP_FNAME_MAX)       /* room for a unique suffix */
        n = RP_FNAME_MAX - 1 - elen;
    return apr_pstrcat(p, apr_pstrndup(p, name, n), ".", f->ext, NULL);
}

/* The request's labels ride on every sample (go tool pprof -tagfocus,
 * Pyroscope/Parca label queries) and in one comment line (-comments). */
static apr_status_t encode_pprof(request_rec *top, const rp_stats_t *stats,
                                 apr_pool_t *p, const char **data, apr_size_t *len)
{
    rp_pprof_t *pp = rp_pprof_create(p);
    request_rec *last = top;
    const char *labels[13];
    const char *status, *id = reqprof_request_id(top);
    const char *traceid = reqprof_trace_id(top);
    int n = 0;
    apr_status_t rv;

    while (last->next)
        last = last->next;
    status = apr_itoa(p, last->status);
    labels[n++] = "method";
    labels[n++] = top->method ? top->method : "";
    labels[n++] = "path";
    labels[n++] = top->uri ? top->uri : "";
    labels[n++] = "vhost";
    labels[n++] = top->server->server_hostname ? top->server->server_hostname : "";
    labels[n++] = "status";
    labels[n++] = status;
    labels[n++] = "id";
    labels[n++] = id;
    if (traceid) {
        labels[n++] = "traceid";
        labels[n++] = traceid;
    }
    labels[n] = NULL;
    if ((rv = rp_pprof_add_stats(pp, stats, labels)) != APR_SUCCESS)
        return rv;
    rp_pprof_comment(pp, apr_psprintf(p, "%s %s vhost=%s status=%s id=%s%s%s",
                                      labels[1], labels[3], labels[5], status, id,
                                      traceid ? " traceid=" : "",
                                      traceid ? traceid : ""));
    return rp_pprof_encode(pp, (int64_t)top->request_time * 1000,
                           stats->nfuncs > 0 ? (int64_t)(stats->funcs[0].ct * 1e9 + 0.5) : 0,
                           p, data, len);
}

/* pstats, callgrind and collapsed files have no header to hold a trace
 * id: the root's name carries it ("request GET /x trace=4bf9..."), only
 * for requests that came with a valid traceparent. A shallow copy: the
 * live stats stay as they are for the other formats. */
static const rp_stats_t *with_trace_root(apr_pool_t *p, const rp_stats_t *stats,
                                         const char *traceid)
{
    rp_stats_t *c;
    if (!traceid || stats->nfuncs <= 0 || stats->funcs[0].ncallers != 0)
        return stats;
    c = apr_palloc(p, sizeof *c);
    c->nfuncs = stats->nfuncs;
    c->funcs = apr_pmemdup(p, stats->funcs, sizeof(rp_func_t) * (apr_size_t)stats->nfuncs);
    c->funcs[0].name = apr_pstrcat(p, stats->funcs[0].name ? stats->funcs[0].name : "",
                                   " trace=", traceid, NULL);
    return c;
}

/* The pstats bytes of each static function's key, made once per child
 * and generation (rp_pstats.h): a file copies them instead of cleaning
 * and encoding every key again. Made by post_config from pconf, dropped
 * with it. Registry ids past the cap (reqprof_wrap.c's registry holds
 * 2048) are encoded per file, as before. */
#define PSTATS_KEYS_CAP 2048
static rp_pstats_keys_t *pstats_keys;

/* The length of the .prof of a frame shape whose file the template holds,
 * written from the frames alone (no rp_stats_t), with the frames log and
 * the root's name; 0 otherwise. The root's name must be the template's:
 * not with a trace id in it. */
static apr_size_t planned_len(reqprof_state_t *st, const rp_pstats_tmpl_t *t,
                              uint64_t shape, const char *traceid,
                              const rp_prof_rec_t **log, int *n, const char **root)
{
    const char *file;
    int line;

    if (!t || !shape || traceid || !rp_prof_log_whole(st->prof))
        return 0;
    *log = rp_prof_log(st->prof, n);
    rp_prof_func_key(st->prof, 0, &file, &line, root);
    return rp_pstats_plan_len(t, shape, *n, *root);
}

/* That .prof, made straight into a block of the child's writer (no copy
 * of it in the request's pool): the job, or NULL where encode has to. */
static reqprof_writer_job_t *planned_job(request_rec *top, reqprof_state_t *st,
                                         uint64_t shape, const char *name,
                                         const char **data, apr_size_t *len)
{
    rp_pstats_tmpl_t *t = *(rp_pstats_tmpl_t **)rp_prof_user(st->prof,
                                                             REQPROF_USER_PSTATS);
    const rp_prof_rec_t *log;
    reqprof_writer_job_t *job;
    const char *root;
    apr_size_t size;
    char *buf;
    int n;

    size = planned_len(st, t, shape, reqprof_trace_id(top), &log, &n, &root);
    if (!size || !(buf = reqprof_writer_job(name, size, &job)))
        return NULL;
    rp_pstats_plan_fill(t, log, n, rp_clock_sec_per_tick, top->pool, (unsigned char *)buf);
    *data = buf;
    *len = size;
    return job;
}

/* A .prof from the template's plan into p: APR_EINCOMPLETE where none. */
static apr_status_t encode_planned(reqprof_state_t *st, rp_pstats_tmpl_t *t,
                                   uint64_t shape, const char *traceid, apr_pool_t *p,
                                   const char **data, apr_size_t *len)
{
    const rp_prof_rec_t *log;
    const char *root;
    int n;

    if (!planned_len(st, t, shape, traceid, &log, &n, &root))
        return APR_EINCOMPLETE;
    return rp_pstats_encode_plan(t, shape, log, n, root, rp_clock_sec_per_tick, p, data,
                                 len);
}

static apr_status_t encode(request_rec *top, reqprof_state_t *st,
                           const rp_stats_t **statsp, const format_t *f,
                           uint64_t shape, const char **data, apr_size_t *len)
{
    apr_pool_t *p = top->pool;
    const char *traceid = reqprof_trace_id(top);
    const rp_stats_t *stats;
    const char *label;

    if (f->bit == REQPROF_FMT_PSTATS) {
        /* The profile object is this thread's: so is its template. */
        rp_pstats_tmpl_t **t = (rp_pstats_tmpl_t **)rp_prof_user(st->prof,
                                                                REQPROF_USER_PSTATS);
        apr_status_t rv;
        if (!*t)
            *t = rp_pstats_tmpl_create(rp_prof_pool(st->prof));
        if (encode_planned(st, *t, shape, traceid, p, data, len) == APR_SUCCESS)
            return APR_SUCCESS;
        if (!*statsp)
            *statsp = rp_prof_stats(st->prof, p, rp_clock_sec_per_tick);
        stats = with_trace_root(p, *statsp, traceid);
        rv = rp_pstats_encode_tmpl(stats, pstats_keys, *t, p, data, len);
        if (rv == APR_SUCCESS && shape && !traceid && rp_prof_log_whole(st->prof)) {
            int n;
            const rp_prof_rec_t *log = rp_prof_log(st->prof, &n);
            rp_pstats_tmpl_plan(*t, shape, log, n, stats);
        }
        return rv;
    }
    if (!*statsp)
        *statsp = rp_prof_stats(st->prof, p, rp_clock_sec_per_tick);
    stats = *statsp;
    if (f->bit != REQPROF_FMT_CHROME && f->bit != REQPROF_FMT_PPROF)
        stats = with_trace_root(p, stats, traceid);
    label = stats->nfuncs > 0 ? stats->funcs[0].name : "request";

    switch (f->bit) {
    case REQPROF_FMT_CALLGRIND: {
        rp_callgrind_meta_t m;
        m.cmd = label;
        m.pid = reqprof_pid;
        return rp_callgrind_encode(stats, &m, p, data, len);
    }
    case REQPROF_FMT_CHROME: {
        rp_chrome_meta_t m;
        m.pid = reqprof_pid;
        m.tid = (long)(apr_uintptr_t)apr_os_thread_current() & 0x7fffffffL;
        m.origin_us = 0;
        m.start_epoch_us = (double)top->request_time;
        m.process_name = apr_psprintf(p, "httpd %s", top->server->server_hostname
                                      ? top->server->server_hostname : "");
        m.thread_name = label;
        m.trace_id = traceid;
        m.span_id = reqprof_span_id(top);
        return rp_chrome_encode(stats, rp_prof_trace(st->prof, p, rp_clock_sec_per_tick),
                                &m, p, data, len);
    }
    case REQPROF_FMT_COLLAPSED:
        return rp_collapsed_encode(stats, p, data, len);
    case REQPROF_FMT_PPROF:
    default:
        return encode_pprof(top, stats, p, data, len);
    }
}

#define PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD)

/* The server's ProfileFilenameFormat, or the default one. */
static const rp_fname_t *server_fname(const reqprof_srv_t *sc)
{
    return sc->fname ? sc->fname : reqprof_default_fname();
}

/* What fn may show of the request; the id and the trace ids only when fn
 * shows them (the id may cost a system call). */
static void name_vars(request_rec *top, const reqprof_state_t *st, double elapsed_ms,
                      const rp_fname_t *fn, rp_fname_vars_t *v)
{
    request_rec *last = top;
    while (last->next)
        last = last->next;
    v->method = top->method;
    v->path = st->path;
    v->vhost = top->server->server_hostname ? top->server->server_hostname : "";
    v->id = rp_fname_uses_id(fn) ? reqprof_request_id(top) : "-";
    v->ext = "";
    v->elapsed_ms = elapsed_ms;
    v->time = (double)top->request_time / 1e6;
    v->status = last->status;
    v->pid = reqprof_pid;
    v->traceid = rp_fname_uses_trace(fn) ? reqprof_trace_id(top) : NULL;
    v->spanid = v->traceid ? reqprof_span_id(top) : NULL;
}

/* Each ProfileDir opened once per child (rp_dir_t: openat/linkat by its
 * descriptor), found by the server config that names it. Made by
 * post_config for every server with a ProfileDir; read-only after. */
static apr_hash_t *dirs;

static apr_status_t write_file(apr_pool_t *p, const reqprof_srv_t *sc,
                               const char *name, const char *data, apr_size_t len,
                               const char **final)
{
    rp_dir_t *d = dirs ? apr_hash_get(dirs, &sc, sizeof sc) : NULL;

    if (d != NULL)
        return rp_file_write_in(p, d, name, data, len, PERMS, final);
    return rp_file_write_unique(p, sc->dir, name, data, len, PERMS, final);
}

/* The child's writer (reqprof_writer.c) writes a queued file with this:
 * as the request would have, without the notes (mod_log_config has
 * logged the request by now; names it logs are reserved and written by
 * the request itself). */
static void write_queued(apr_pool_t *p, server_rec *s, const reqprof_srv_t *sc,
                         const char *name, const char *data, apr_size_t len)
{
    const char *final = NULL;
    apr_status_t rv = write_file(p, sc, name, data, len, &final);

    if (rv != APR_SUCCESS)
        warn_limited(s, rv, sc->dir, name);
    else if (sc->retention)
        reqprof_retain_add(sc->retention, s, p, final, len);
}

void reqprof_output_child_init(apr_pool_t *pchild, server_rec *s)
{
    reqprof_writer_child_init(pchild, s, write_queued);
}

static apr_status_t dirs_forget(void *data)
{
    (void)data;
    dirs = NULL;
    return APR_SUCCESS;
}

static void make_dirs(apr_pool_t *pconf, server_rec *s)
{
    apr_hash_t *h = apr_hash_make(pconf);

    for (; s != NULL; s = s->next) {
        const reqprof_srv_t *sc = ap_get_module_config(s->module_config,
                                                        &reqprof_module);
        if (sc && sc->dir && !apr_hash_get(h, &sc, sizeof sc)) {
            const reqprof_srv_t **key = apr_palloc(pconf, sizeof *key);
            *key = sc;
            apr_hash_set(h, key, sizeof *key, rp_dir_make(pconf, sc->dir));
        }
    }
    /* Registered after the directories' cleanups, so it runs first. */
    apr_pool_cleanup_register(pconf, NULL, dirs_forget, apr_pool_cleanup_null);
    dirs = h;
}

/* The notes name the file on the request the client sent and on the one
 * that answered (mod_log_config's %{...}n reads the final request). */
static void set_notes(request_rec *top, const format_t *f, const char *path)
{
    request_rec *last = top;
    const char *key = apr_pstrcat(top->pool, "reqprof-file-", f->name, NULL);
    for (;;) {
        if (!apr_table_get(last->notes, "reqprof-file"))
            apr_table_setn(last->notes, "reqprof-file", path);
        apr_table_setn(last->notes, key, path);
        if (!last->next)
            break;
        last = last->next;
    }
}

static rp_reservation_t *reserve(request_rec *top, const reqprof_srv_t *sc,
                                 const rp_fname_vars_t *vars, const format_t *f)
{
    const rp_fname_t *fn = server_fname(sc);
    rp_fname_vars_t v = *vars;
    const char *name = file_name(top->pool, fn, &v, f);
    rp_reservation_t *res = NULL;
    apr_status_t rv = rp_file_reserve(top->pool, sc->dir, name, PERMS, &res);
    if (rv != APR_SUCCESS) {
        warn_limited(top->server, rv, sc->dir, name);
        return NULL;
    }
    return res;
}

/* The reservations made before logging, one per format, kept with the
 * request's pool (they end with it). */
#define RSV_KEY "reqprof-rsv"

/* Names are reserved before logging only when something in the
 * configuration mentions the reqprof-file notes (a LogFormat or CustomLog
 * with %{reqprof-file}n, a SetEnvIf, ...): a reservation costs a hidden
 * marker's create, lookup and unlink, which make bench found to be most
 * of what a .prof costs a small request on tmpfs. Otherwise each file is
 * written when logging is over, named then, and the notes are set then.
 * Set by post_config (every generation), read by requests. */
static int reserve_names;

static int mentions_notes(const ap_directive_t *d)
{
    for (; d != NULL; d = d->next) {
        if ((d->args && ap_strcasestr(d->args, "reqprof-file"))
            || mentions_notes(d->first_child))
            return 1;
    }
    return 0;
}

int reqprof_output_reserve(request_rec *r)
{
    request_rec *top = reqprof_top(r);
    reqprof_state_t *st;
    const reqprof_dir_t *dc;
    const reqprof_srv_t *sc;
    rp_fname_vars_t v;
    rp_reservation_t **held;
    apr_int64_t elapsed;
    int i, bits;

    if (!reserve_names || !top->request_config
        || !(st = ap_get_module_config(top->request_config, &reqprof_module))
        || st == &reqprof_off || apr_table_get(top->notes, "reqprof-reserved"))
        return DECLINED;
    dc = ap_get_module_config(top->per_dir_config, &reqprof_module);
    sc = ap_get_module_config(top->server->module_config, &reqprof_module);
    elapsed = apr_time_now() - top->request_time;      /* the root's anchor */
    if (!sc->dir || !dc || dc->engine != 1 || !reqprof_ctl_selected(top, &st->ctl, dc, sc)
        || (dc->min_duration > 0 && elapsed < dc->min_duration))
        return DECLINED;
    apr_table_setn(top->notes, "reqprof-reserved", "1");
    name_vars(top, st, (double)elapsed / 1000.0, server_fname(sc), &v);
    bits = sc->formats ? sc->formats : REQPROF_FMT_PSTATS;
    held = apr_pcalloc(top->pool, sizeof(*held) * NFORMATS);
    for (i = 0; i < NFORMATS; i++) {
        if ((bits & formats[i].bit) && (held[i] = reserve(top, sc, &v, &formats[i])))
            set_notes(top, &formats[i],
                      apr_pstrcat(top->pool, sc->dir, "/",
                                  rp_reservation_name(held[i]), NULL));
    }
    apr_pool_userdata_setn(held, RSV_KEY, NULL, top->pool);
    return DECLINED;
}

void reqprof_output_write(request_rec *top, reqprof_state_t *st,
                          const rp_stats_t *stats, const reqprof_srv_t *sc,
                          uint64_t shape)
{
    apr_pool_t *p = top->pool;
    int bits = sc->formats ? sc->formats : REQPROF_FMT_PSTATS;
    rp_reservation_t **held = NULL;
    rp_fname_vars_t v;
    int i, named = 0;

    apr_pool_userdata_get((void **)&held, RSV_KEY, p);
    for (i = 0; i < NFORMATS; i++) {
        const format_t *f = &formats[i];
        rp_reservation_t *res = held ? held[i] : NULL;
        const char *final = NULL, *data, *name;
        reqprof_writer_job_t *job;
        apr_size_t len;
        apr_status_t rv;

        if (!(bits & f->bit))
            continue;
        if (held == NULL) {
            /* Not named before logging (no reservations wanted, or the
             * request was not kept then): named and written now. */
            if (!named) {
                name_vars(top, st, rp_clock_seconds(rp_prof_root_ticks(st->prof)) * 1000.0,
                          server_fname(sc), &v);
                named = 1;
            }
            name = file_name(p, server_fname(sc), &v, f);
            /* Usually the child's writer writes it, after the request. */
            job = f->bit == REQPROF_FMT_PSTATS
                      ? planned_job(top, st, shape, name, &data, &len) : NULL;
            if (job) {
                if (reqprof_writer_submit(job, top->server, sc))
                    continue;
            }
            else if (encode(top, st, &stats, f, shape, &data, &len) != APR_SUCCESS)
                continue;
            else if (reqprof_writer_queue(top->server, sc, name, data, len))
                continue;
            rv = write_file(p, sc, name, data, len, &final);
            if (job)
                reqprof_writer_drop(job);
        }
        else {
            /* Named before logging (reqprof_output_reserve); a reservation
             * that failed then is not tried again. */
            if (res == NULL)
                continue;
            name = rp_reservation_name(res);
            if (encode(top, st, &stats, f, shape, &data, &len) != APR_SUCCESS) {
                rp_file_unreserve(res);
                continue;
            }
            rv = rp_file_write_reserved(res, data, len, &final);
        }
        if (rv != APR_SUCCESS) {
            warn_limited(top->server, rv, sc->dir, name);
            continue;
        }
        if (!held || strcmp(strrchr(final, '/') + 1, name))
            set_notes(top, f, final);
        if (sc->retention)
            reqprof_retain_add(sc->retention, top->server, p, final, len);
    }
}

/* rp_file's name hints, in memory every child of this generation shares
 * (1024 slots): children writing the same name take different "-N"
 * candidates instead of colliding. */
#define HINTS_SIZE 8192

static apr_status_t hints_unshare(void *data)
{
    (void)data;
    rp_file_share_hints(NULL, 0);
    return APR_SUCCESS;
}

void reqprof_output_register_hooks(apr_pool_t *p)
{
    static const char *const before_logging[] = { "mod_log_config.c", NULL };
    (void)p;
    ap_hook_log_transaction(reqprof_output_reserve, NULL, before_logging,
                            APR_HOOK_FIRST);
}

static apr_status_t keys_forget(void *data)
{
    (void)data;
    pstats_keys = NULL;
    return APR_SUCCESS;
}

int reqprof_output_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    apr_shm_t *shm;
    apr_status_t rv;

    reserve_names = mentions_notes(ap_conftree);
    /* Registered before the cache's own cleanup, so it runs after it. */
    apr_pool_cleanup_register(pconf, NULL, keys_forget, apr_pool_cleanup_null);
    pstats_keys = rp_pstats_keys_create(pconf, PSTATS_KEYS_CAP);
    make_dirs(pconf, s);
    rv = apr_shm_create(&shm, HINTS_SIZE, NULL, pconf);
    if (rv == APR_SUCCESS) {
        memset(apr_shm_baseaddr_get(shm), 0, HINTS_SIZE);
        rp_file_share_hints(apr_shm_baseaddr_get(shm), HINTS_SIZE);
        /* runs before the segment's own cleanup (last in, first out) */
        apr_pool_cleanup_register(pconf, NULL, hints_unshare, apr_pool_cleanup_null);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, rv, s,
                     "RP0031: no shared memory for file name hints; each child "
                     "process numbers same-named files on its own");
    }
    return reqprof_retain_post_config(pconf, ptemp, s);
}
