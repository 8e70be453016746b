/*
 * rp_status_fmt.c - the status page's JSON, Prometheus and ?auto formats
 * (see rp_status_fmt.h).
 */
#include <stdarg.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "rp_flame.h"
#include "rp_inflight.h"
#include "rp_outfmt.h"
#include "rp_status_fmt.h"

#define NS 1e-9

static const char *const class_name[RP_AGG_NCLASS] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

/* printf onto b with APR's formatter (apr_pvsprintf), the one the page
 * was served with through ap_rprintf: the same digits for every double
 * (rp_buf_printf uses the C library's, which may round the last one
 * otherwise). */
static void put(rp_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void put(rp_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    const char *s;
    va_start(ap, fmt);
    s = apr_pvsprintf(b->pool, fmt, ap);
    va_end(ap);
    rp_buf_add(b, s, strlen(s));
}

static void puts_(rp_buf_t *b, const char *s)
{
    rp_buf_add(b, s, strlen(s));
}

/* ------------------------------------------------------------------ JSON */

static const char *sec(apr_pool_t *p, uint64_t ns)
{
    return apr_psprintf(p, "%.9f", (double)ns * NS);
}

/* {"1xx": n, ..., "5xx": n} */
static const char *json_status(apr_pool_t *p, const uint64_t *st)
{
    return apr_psprintf(p, "{\"1xx\": %" APR_UINT64_T_FMT ", \"2xx\": %" APR_UINT64_T_FMT
                        ", \"3xx\": %" APR_UINT64_T_FMT ", \"4xx\": %" APR_UINT64_T_FMT
                        ", \"5xx\": %" APR_UINT64_T_FMT "}", (apr_uint64_t)st[0],
                        (apr_uint64_t)st[1], (apr_uint64_t)st[2], (apr_uint64_t)st[3],
                        (apr_uint64_t)st[4]);
}

/* The share of the requests that were profiled (1 when none yet). */
static double sample_share(const rp_agg_snap_t *s)
{
    return s->requests ? (double)s->profiled / (double)s->requests : 1.0;
}

/* ,\n  {"KEY": or \n  {"KEY": for the first row of a list. */
static void row_open(rp_buf_t *b, int first, const char *key)
{
    put(b, "%s{\"%s\": ", first ? "\n  " : ",\n  ", key);
}

static void json_head(rp_buf_t *b, const rp_agg_snap_t *s)
{
    apr_pool_t *p = b->pool;
    put(b, "{\"version\": 1, \"window\": \"%s\", \"requests\": %" APR_UINT64_T_FMT
        ", \"profiled\": %" APR_UINT64_T_FMT ", \"sample_rate\": %.6f,\n"
        " \"status\": %s,\n", s->window ? apr_psprintf(p, "%dm", s->window) : "all",
        (apr_uint64_t)s->requests, (apr_uint64_t)s->profiled, sample_share(s),
        json_status(p, s->status));
    put(b, " \"since\": %" APR_INT64_T_FMT ", \"reset\": %" APR_INT64_T_FMT ",\n",
        (apr_int64_t)apr_time_sec(s->created), (apr_int64_t)apr_time_sec(s->reset));
    put(b, " \"duration\": {\"sum\": %s, \"max\": %s, \"p50\": %.6f, "
        "\"p90\": %.6f, \"p99\": %.6f},\n", sec(p, s->sum_ns), sec(p, s->max_ns),
        rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9), rp_agg_percentile(s, 0.99));
}

static void json_inflight(rp_buf_t *b, const apr_array_header_t *inflight)
{
    int i, j;
    puts_(b, " \"inflight\": [");
    for (i = 0; inflight && i < inflight->nelts; i++) {
        const rp_inflight_row_t *f = &APR_ARRAY_IDX(inflight, i, rp_inflight_row_t);
        row_open(b, i == 0, "method");
        rp_buf_json_str(b, f->method);
        puts_(b, ", \"path\": ");
        rp_buf_json_str(b, f->path);
        puts_(b, ", \"vhost\": ");
        rp_buf_json_str(b, f->vhost);
        put(b, ", \"seconds\": %.3f, \"pid\": %ld, \"profiled\": %s, \"stack\": [",
            f->elapsed, f->pid, f->profiled ? "true" : "false");
        for (j = 0; j < f->nstack; j++) {
            if (j)
                puts_(b, ", ");
            rp_buf_json_str(b, f->stack[j]);
        }
        puts_(b, "]}");
    }
    puts_(b, "],\n");
}

static void json_histogram(rp_buf_t *b, const rp_agg_snap_t *s)
{
    int i;
    puts_(b, " \"histogram\": [");
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        if (i < RP_AGG_NBUCKETS - 1)
            put(b, "%s{\"le\": %s, \"count\": %" APR_UINT64_T_FMT "}", i ? ", " : "",
                rp_agg_bucket_text[i], (apr_uint64_t)s->hist[i]);
        else
            put(b, ", {\"le\": \"+Inf\", \"count\": %" APR_UINT64_T_FMT "}",
                (apr_uint64_t)s->hist[i]);
    }
    puts_(b, "],\n");
}

/* "modules" (hook entries) or "phases": the keys of that kind. */
static void json_keys(rp_buf_t *b, const rp_agg_snap_t *s, int phases)
{
    int i, first = 1;
    puts_(b, phases ? " \"phases\": [" : " \"modules\": [");
    for (i = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (k->phase != phases)
            continue;
        if (phases)
            row_open(b, first, "phase");
        else {
            row_open(b, first, "module");
            rp_buf_json_str(b, k->file);
            put(b, ", \"entry\": %d, \"hook\": ", k->line);
        }
        rp_buf_json_str(b, k->name);
        put(b, ", \"calls\": %" APR_UINT64_T_FMT ", \"tottime\": %s, \"cumtime\": %s}",
            (apr_uint64_t)k->calls, sec(b->pool, k->tt_ns), sec(b->pool, k->ct_ns));
        first = 0;
    }
    puts_(b, "],\n");
}

static void json_vhosts(rp_buf_t *b, const rp_agg_snap_t *s)
{
    int i, first = 1;
    puts_(b, " \"vhosts\": [");
    for (i = 0; i < s->nvhosts; i++) {
        if (!s->vhost_requests[i])
            continue;
        row_open(b, first, "vhost");
        rp_buf_json_str(b, s->vhost_names[i]);
        put(b, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s, \"status\": %s}",
            (apr_uint64_t)s->vhost_requests[i], sec(b->pool, s->vhost_sum_ns[i]),
            json_status(b->pool, s->vhost_status + i * RP_AGG_NCLASS));
        first = 0;
    }
    puts_(b, "],\n");
}

static void json_urls(rp_buf_t *b, const rp_agg_snap_t *s)
{
    apr_pool_t *p = b->pool;
    int i;
    puts_(b, " \"urls\": [");
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = &s->urls[i];
        row_open(b, i == 0, "path");
        rp_buf_json_str(b, u->path);
        put(b, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s, \"max\": %s, "
            "\"last\": %" APR_INT64_T_FMT ", \"status\": %s}", (apr_uint64_t)u->count,
            sec(p, u->sum_ns), sec(p, u->max_ns), (apr_int64_t)apr_time_sec(u->last),
            json_status(p, u->status));
    }
    put(b, "],\n \"urls_other\": {\"requests\": %" APR_UINT64_T_FMT
        ", \"seconds\": %s, \"status\": %s},\n", (apr_uint64_t)s->url_other_count,
        sec(p, s->url_other_sum_ns), json_status(p, s->url_other_status));
}

static void json_slowest(rp_buf_t *b, const rp_agg_snap_t *s)
{
    int i;
    puts_(b, " \"slowest\": [");
    for (i = 0; i < s->nslow; i++) {
        const rp_agg_slowrow_t *w = &s->slow[i];
        put(b, "%s{\"id\": %" APR_UINT64_T_FMT ", \"method\": ", i ? ",\n  " : "\n  ",
            (apr_uint64_t)w->id);
        rp_buf_json_str(b, w->method);
        puts_(b, ", \"path\": ");
        rp_buf_json_str(b, w->path);
        puts_(b, ", \"vhost\": ");
        rp_buf_json_str(b, w->vhost);
        put(b, ", \"status\": %d, \"seconds\": %s, \"when\": %" APR_INT64_T_FMT
            ", \"functions\": %d, \"truncated\": %s, \"traceid\": ", w->status,
            sec(b->pool, w->wall_ns), (apr_int64_t)apr_time_sec(w->when), w->nfuncs,
            w->truncated ? "true" : "false");
        rp_buf_json_str(b, w->traceid ? w->traceid : "");
        puts_(b, "}");
    }
    puts_(b, "],\n");
}

void rp_status_json(rp_buf_t *b, const rp_agg_snap_t *s, const apr_array_header_t *inflight)
{
    json_head(b, s);
    json_inflight(b, inflight);
    json_histogram(b, s);
    json_keys(b, s, 0);
    json_keys(b, s, 1);
    json_vhosts(b, s);
    json_urls(b, s);
    json_slowest(b, s);
    put(b, " \"sizes\": {\"urls\": %d, \"slowest\": %d, \"functions\": %d, "
        "\"vhosts\": %d, \"shm_bytes\": %" APR_SIZE_T_FMT "},\n"
        " \"calls_not_counted\": %" APR_UINT64_T_FMT "}\n",
        s->sizes.nurls, s->sizes.nslow, s->sizes.nkeys, s->sizes.nvhosts,
        s->bytes, (apr_uint64_t)s->keys_dropped);
}

/* ------------------------------------------------------------ Prometheus */

const char *rp_prom_label(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, 2 * strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            *o++ = '\\';
            *o++ = *s;
        }
        else if (*s == '\n') {
            *o++ = '\\';
            *o++ = 'n';
        }
        else
            *o++ = *s;
    }
    *o = '\0';
    return out;
}

typedef struct prom_row {
    const char *labels;     /* module="..",hook="..",vhost=".." */
    uint64_t calls, tt, ct;
} prom_row_t;

/* The hook entries (phases 0) or phases (1) by their labels and virtual
 * host: entries of one module and hook (core.c's two handlers) are one
 * series. */
static apr_array_header_t *hook_rows(apr_pool_t *p, const rp_agg_snap_t *s, int phases)
{
    apr_hash_t *seen = apr_hash_make(p);      /* labels -> row index + 1 */
    apr_array_header_t *rows = apr_array_make(p, 64, sizeof(prom_row_t));
    int i, c;
    for (i = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (k->phase != phases)
            continue;
        for (c = 0; c < s->nvhosts; c++) {
            const char *labels;
            prom_row_t *row;
            apr_size_t at;
            if (!k->vcalls[c])
                continue;
            labels = phases
                ? apr_psprintf(p, "phase=\"%s\",vhost=\"%s\"", rp_prom_label(p, k->name),
                               rp_prom_label(p, s->vhost_names[c]))
                : apr_psprintf(p, "module=\"%s\",hook=\"%s\",vhost=\"%s\"",
                               rp_prom_label(p, k->file), rp_prom_label(p, k->name),
                               rp_prom_label(p, s->vhost_names[c]));
            /* Indexes, not pointers: pushing may move the array. */
            at = (apr_size_t)apr_hash_get(seen, labels, APR_HASH_KEY_STRING);
            if (!at) {
                row = apr_array_push(rows);
                row->labels = labels;
                row->calls = row->tt = row->ct = 0;
                at = (apr_size_t)rows->nelts;
                apr_hash_set(seen, labels, APR_HASH_KEY_STRING, (void *)at);
            }
            row = &APR_ARRAY_IDX(rows, at - 1, prom_row_t);
            row->calls += k->vcalls[c];
            row->tt += k->vtt_ns[c];
            row->ct += k->vct_ns[c];
        }
    }
    return rows;
}

/* A metric family's two comment lines. */
static void prom_head(rp_buf_t *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter family; field: 0 calls, 1 self seconds, 2 cumulative. */
static void prom_family(rp_buf_t *b, const char *name, const char *help,
                        const apr_array_header_t *rows, int field)
{
    int i;
    prom_head(b, name, "counter", help);
    for (i = 0; i < rows->nelts; i++) {
        const prom_row_t *row = &APR_ARRAY_IDX(rows, i, prom_row_t);
        if (field == 0)
            put(b, "%s{%s} %" APR_UINT64_T_FMT "\n", name, row->labels,
                (apr_uint64_t)row->calls);
        else
            put(b, "%s{%s} %.9f\n", name, row->labels,
                (double)(field == 1 ? row->tt : row->ct) * NS);
    }
}

static void prom_requests(rp_buf_t *b, const rp_agg_snap_t *s)
{
    uint64_t classed = 0;
    int i;
    prom_head(b, "reqprof_requests_total", "counter", "Requests served where ProfileEngine "
              "is On (profiled or not) since the server started or the status page was "
              "reset, by status class.");
    for (i = 0; i < RP_AGG_NCLASS; i++) {
        classed += s->status[i];
        put(b, "reqprof_requests_total{code=\"%s\"} %" APR_UINT64_T_FMT "\n",
            class_name[i], (apr_uint64_t)s->status[i]);
    }
    if (s->requests > classed)
        put(b, "reqprof_requests_total{code=\"other\"} %" APR_UINT64_T_FMT "\n",
            (apr_uint64_t)(s->requests - classed));
    prom_head(b, "reqprof_profiled_requests_total", "counter", "Of those, the requests "
              "profiled (sampling and triggers chose them): the hook figures are theirs.");
    put(b, "reqprof_profiled_requests_total %" APR_UINT64_T_FMT "\n",
        (apr_uint64_t)s->profiled);
}

static void prom_histogram(rp_buf_t *b, const rp_agg_snap_t *s)
{
    uint64_t cum = 0;
    int i;
    prom_head(b, "reqprof_request_duration_seconds", "histogram",
              "Wall time of requests (profiled or not).");
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        cum += s->hist[i];
        put(b, "reqprof_request_duration_seconds_bucket{le=\"%s\"} %" APR_UINT64_T_FMT "\n",
            i < RP_AGG_NBUCKETS - 1 ? rp_agg_bucket_text[i] : "+Inf", (apr_uint64_t)cum);
    }
    put(b, "reqprof_request_duration_seconds_sum %.9f\n"
        "reqprof_request_duration_seconds_count %" APR_UINT64_T_FMT "\n",
        (double)s->sum_ns * NS, (apr_uint64_t)cum);
}

void rp_status_prometheus(rp_buf_t *b, const rp_agg_snap_t *s)
{
    apr_array_header_t *hooks = hook_rows(b->pool, s, 0), *phases = hook_rows(b->pool, s, 1);
    int i;

    prom_requests(b, s);
    prom_histogram(b, s);
    prom_head(b, "reqprof_vhost_requests_total", "counter", "Requests per virtual host.");
    for (i = 0; i < s->nvhosts; i++)
        if (s->vhost_requests[i])
            put(b, "reqprof_vhost_requests_total{vhost=\"%s\"} %" APR_UINT64_T_FMT "\n",
                rp_prom_label(b->pool, s->vhost_names[i]), (apr_uint64_t)s->vhost_requests[i]);
    prom_family(b, "reqprof_hook_calls_total",
                "Calls of each module's hook entries and output filters.", hooks, 0);
    prom_family(b, "reqprof_hook_self_seconds_total",
                "Self time (pstats tottime) of each module's hook entries.", hooks, 1);
    prom_family(b, "reqprof_hook_seconds_total",
                "Cumulative time (pstats cumtime) of each module's hook entries.", hooks, 2);
    prom_family(b, "reqprof_phase_calls_total", "Request phases run.", phases, 0);
    prom_family(b, "reqprof_phase_seconds_total",
                "Cumulative time (pstats cumtime) of each request phase.", phases, 2);
}

/* ------------------------------------------------------------------ auto */

void rp_status_auto(rp_buf_t *b, const rp_agg_snap_t *s)
{
    int i;
    put(b, "ReqprofRequests: %" APR_UINT64_T_FMT "\nReqprofProfiled: %" APR_UINT64_T_FMT
        "\n", (apr_uint64_t)s->requests, (apr_uint64_t)s->profiled);
    for (i = 0; i < RP_AGG_NCLASS; i++)
        put(b, "ReqprofStatus%s: %" APR_UINT64_T_FMT "\n", class_name[i],
            (apr_uint64_t)s->status[i]);
    put(b, "ReqprofDurationSum: %.6f\nReqprofDurationMax: %.6f\n"
        "ReqprofDurationP50: %.6f\nReqprofDurationP90: %.6f\n"
        "ReqprofDurationP99: %.6f\n"
        "ReqprofURLs: %d\nReqprofURLsOther: %" APR_UINT64_T_FMT "\n"
        "ReqprofSlowest: %d\n",
        (double)s->sum_ns * NS, (double)s->max_ns * NS,
        rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9),
        rp_agg_percentile(s, 0.99), s->nurls, (apr_uint64_t)s->url_other_count,
        s->nslow);
    /* Phase names are the module's own words (no quote in them): escaped
     * as the HTML of /server-status escaped them. */
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].phase && s->keys[i].calls)
            put(b, "ReqprofPhase_%s: %.6f\n", rp_xml_escape(b->pool, s->keys[i].name),
                (double)s->keys[i].ct_ns * NS);
}
