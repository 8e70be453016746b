/*
 * reqprof_status_out.c - the status page's formats: the flame view of a
 * slow request, JSON, Prometheus text exposition, and the ?auto
 * "Key: value" lines (also used in /server-status?auto). The main HTML
 * page is in reqprof_status_html.c.
 *
 * Every string that came from a request (URL paths, methods, virtual host
 * names) is escaped for the format it goes into: ap_escape_html in HTML,
 * \uXXXX for < > & and controls in JSON, Prometheus label escaping; URLs
 * never go into Prometheus labels (unbounded) nor into ?auto.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "util_script.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include "rp_flame.h"
#include "reqprof_tree.h"
#include "reqprof_status.h"

#define NS 1e-9

/* ------------------------------------------------------------------ JSON */

static void json_str(request_rec *r, const char *s)
{
    char buf[256];
    apr_size_t n = 0;
    buf[n++] = '"';
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (n > sizeof buf - 8) {
            ap_rwrite(buf, (int)n, r);
            n = 0;
        }
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        }
        else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) {
            /* < > & too: the page must be safe wherever it is pasted. */
            n += (apr_size_t)apr_snprintf(buf + n, 7, "\\u%04x", c);
        }
        else
            buf[n++] = (char)c;
    }
    buf[n++] = '"';
    ap_rwrite(buf, (int)n, r);
}

static const char *sec(apr_pool_t *p, uint64_t ns)
{
    return apr_psprintf(p, "%.9f", (double)ns * NS);
}

static const char *const class_name[RP_AGG_NCLASS] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

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

void reqprof_status_json(request_rec *r, const rp_agg_snap_t *s,
                         const apr_array_header_t *inflight)
{
    apr_pool_t *p = r->pool;
    int i, j, first;

    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"version\": 1, \"window\": \"%s\", \"requests\": %" APR_UINT64_T_FMT
               ", \"profiled\": %" APR_UINT64_T_FMT ", \"sample_rate\": %.6f,\n"
               " \"status\": %s,\n", s->window ? apr_psprintf(p, "%dm", s->window) : "all",
               (apr_uint64_t)s->requests, (apr_uint64_t)s->profiled, sample_share(s),
               json_status(p, s->status));
    ap_rprintf(r, " \"since\": %" APR_INT64_T_FMT ", \"reset\": %" APR_INT64_T_FMT ",\n",
               (apr_int64_t)apr_time_sec(s->created), (apr_int64_t)apr_time_sec(s->reset));
    ap_rprintf(r, " \"duration\": {\"sum\": %s, \"max\": %s, \"p50\": %.6f, "
               "\"p90\": %.6f, \"p99\": %.6f},\n", sec(p, s->sum_ns), sec(p, s->max_ns),
               rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9),
               rp_agg_percentile(s, 0.99));
    ap_rputs(" \"inflight\": [", r);
    for (i = 0; inflight && i < inflight->nelts; i++) {
        const reqprof_inflight_row_t *f = &APR_ARRAY_IDX(inflight, i, reqprof_inflight_row_t);
        ap_rputs(i ? ",\n  {\"method\": " : "\n  {\"method\": ", r);
        json_str(r, f->method);
        ap_rputs(", \"path\": ", r);
        json_str(r, f->path);
        ap_rputs(", \"vhost\": ", r);
        json_str(r, f->vhost);
        ap_rprintf(r, ", \"seconds\": %.3f, \"pid\": %ld, \"profiled\": %s, \"stack\": [",
                   f->elapsed, f->pid, f->profiled ? "true" : "false");
        for (j = 0; j < f->nstack; j++) {
            if (j)
                ap_rputs(", ", r);
            json_str(r, f->stack[j]);
        }
        ap_rputs("]}", r);
    }
    ap_rputs("],\n \"histogram\": [", r);
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        if (i < RP_AGG_NBUCKETS - 1)
            ap_rprintf(r, "%s{\"le\": %s, \"count\": %" APR_UINT64_T_FMT "}", i ? ", " : "",
                       rp_agg_bucket_text[i], (apr_uint64_t)s->hist[i]);
        else
            ap_rprintf(r, ", {\"le\": \"+Inf\", \"count\": %" APR_UINT64_T_FMT "}",
                       (apr_uint64_t)s->hist[i]);
    }
    ap_rputs("],\n \"modules\": [", r);
    for (i = 0, first = 1; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (k->phase)
            continue;
        ap_rputs(first ? "\n  {\"module\": " : ",\n  {\"module\": ", r);
        json_str(r, k->file);
        ap_rprintf(r, ", \"entry\": %d, \"hook\": ", k->line);
        json_str(r, k->name);
        ap_rprintf(r, ", \"calls\": %" APR_UINT64_T_FMT ", \"tottime\": %s, \"cumtime\": %s}",
                   (apr_uint64_t)k->calls, sec(p, k->tt_ns), sec(p, k->ct_ns));
        first = 0;
    }
    ap_rputs("],\n \"phases\": [", r);
    for (i = 0, first = 1; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (!k->phase)
            continue;
        ap_rputs(first ? "\n  {\"phase\": " : ",\n  {\"phase\": ", r);
        json_str(r, k->name);
        ap_rprintf(r, ", \"calls\": %" APR_UINT64_T_FMT ", \"tottime\": %s, \"cumtime\": %s}",
                   (apr_uint64_t)k->calls, sec(p, k->tt_ns), sec(p, k->ct_ns));
        first = 0;
    }
    ap_rputs("],\n \"vhosts\": [", r);
    for (i = 0, first = 1; i < s->nvhosts; i++) {
        if (!s->vhost_requests[i])
            continue;
        ap_rputs(first ? "\n  {\"vhost\": " : ",\n  {\"vhost\": ", r);
        json_str(r, s->vhost_names[i]);
        ap_rprintf(r, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s, "
                   "\"status\": %s}", (apr_uint64_t)s->vhost_requests[i],
                   sec(p, s->vhost_sum_ns[i]),
                   json_status(p, s->vhost_status + i * RP_AGG_NCLASS));
        first = 0;
    }
    ap_rputs("],\n \"urls\": [", r);
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = &s->urls[i];
        ap_rputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", r);
        json_str(r, u->path);
        ap_rprintf(r, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s, \"max\": %s, "
                   "\"last\": %" APR_INT64_T_FMT ", \"status\": %s}", (apr_uint64_t)u->count,
                   sec(p, u->sum_ns), sec(p, u->max_ns), (apr_int64_t)apr_time_sec(u->last),
                   json_status(p, u->status));
    }
    ap_rprintf(r, "],\n \"urls_other\": {\"requests\": %" APR_UINT64_T_FMT
               ", \"seconds\": %s, \"status\": %s},\n", (apr_uint64_t)s->url_other_count,
               sec(p, s->url_other_sum_ns), json_status(p, s->url_other_status));
    ap_rputs(" \"slowest\": [", r);
    for (i = 0; i < s->nslow; i++) {
        const rp_agg_slowrow_t *w = &s->slow[i];
        ap_rprintf(r, "%s{\"id\": %" APR_UINT64_T_FMT ", \"method\": ", i ? ",\n  " : "\n  ",
                   (apr_uint64_t)w->id);
        json_str(r, w->method);
        ap_rputs(", \"path\": ", r);
        json_str(r, w->path);
        ap_rputs(", \"vhost\": ", r);
        json_str(r, w->vhost);
        ap_rprintf(r, ", \"status\": %d, \"seconds\": %s, \"when\": %" APR_INT64_T_FMT
                   ", \"functions\": %d, \"truncated\": %s, \"traceid\": ", w->status,
                   sec(p, w->wall_ns), (apr_int64_t)apr_time_sec(w->when), w->nfuncs,
                   w->truncated ? "true" : "false");
        json_str(r, w->traceid ? w->traceid : "");
        ap_rputs("}", r);
    }
    ap_rprintf(r, "],\n \"sizes\": {\"urls\": %d, \"slowest\": %d, \"functions\": %d, "
               "\"vhosts\": %d, \"shm_bytes\": %" APR_SIZE_T_FMT "},\n"
               " \"calls_not_counted\": %" APR_UINT64_T_FMT "}\n",
               s->sizes.nurls, s->sizes.nslow, s->sizes.nkeys, s->sizes.nvhosts,
               s->bytes, (apr_uint64_t)s->keys_dropped);
}

/* ------------------------------------------------------------ Prometheus */

static const char *prom_label(apr_pool_t *p, const char *s)
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

/* Entries of one module and hook (core.c's two handlers) are one series. */
static apr_array_header_t *hook_rows(request_rec *r, const rp_agg_snap_t *s, int phases)
{
    apr_hash_t *seen = apr_hash_make(r->pool);      /* labels -> row index + 1 */
    apr_array_header_t *rows = apr_array_make(r->pool, 64, sizeof(prom_row_t));
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
                ? apr_psprintf(r->pool, "phase=\"%s\",vhost=\"%s\"",
                               prom_label(r->pool, k->name),
                               prom_label(r->pool, s->vhost_names[c]))
                : apr_psprintf(r->pool, "module=\"%s\",hook=\"%s\",vhost=\"%s\"",
                               prom_label(r->pool, k->file), prom_label(r->pool, k->name),
                               prom_label(r->pool, s->vhost_names[c]));
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

static void prom_family(request_rec *r, const char *name, const char *help,
                        const apr_array_header_t *rows, int field)
{
    int i;
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (i = 0; i < rows->nelts; i++) {
        const prom_row_t *row = &APR_ARRAY_IDX(rows, i, prom_row_t);
        if (field == 0)
            ap_rprintf(r, "%s{%s} %" APR_UINT64_T_FMT "\n", name, row->labels,
                       (apr_uint64_t)row->calls);
        else
            ap_rprintf(r, "%s{%s} %.9f\n", name, row->labels,
                       (double)(field == 1 ? row->tt : row->ct) * NS);
    }
}

void reqprof_status_prometheus(request_rec *r, const rp_agg_snap_t *s)
{
    apr_array_header_t *hooks = hook_rows(r, s, 0), *phases = hook_rows(r, s, 1);
    uint64_t cum = 0;
    int i;

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    {
        uint64_t classed = 0;
        ap_rputs("# HELP reqprof_requests_total Requests served where ProfileEngine is On "
                 "(profiled or not) since the server started or the status page was "
                 "reset, by status class.\n# TYPE reqprof_requests_total counter\n", r);
        for (i = 0; i < RP_AGG_NCLASS; i++) {
            classed += s->status[i];
            ap_rprintf(r, "reqprof_requests_total{code=\"%s\"} %" APR_UINT64_T_FMT "\n",
                       class_name[i], (apr_uint64_t)s->status[i]);
        }
        if (s->requests > classed)
            ap_rprintf(r, "reqprof_requests_total{code=\"other\"} %" APR_UINT64_T_FMT "\n",
                       (apr_uint64_t)(s->requests - classed));
    }
    ap_rprintf(r, "# HELP reqprof_profiled_requests_total Of those, the requests profiled "
               "(sampling and triggers chose them): the hook figures are theirs.\n"
               "# TYPE reqprof_profiled_requests_total counter\n"
               "reqprof_profiled_requests_total %" APR_UINT64_T_FMT "\n",
               (apr_uint64_t)s->profiled);
    ap_rputs("# HELP reqprof_request_duration_seconds Wall time of requests "
             "(profiled or not).\n"
             "# TYPE reqprof_request_duration_seconds histogram\n", r);
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        cum += s->hist[i];
        if (i < RP_AGG_NBUCKETS - 1)
            ap_rprintf(r, "reqprof_request_duration_seconds_bucket{le=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", rp_agg_bucket_text[i], (apr_uint64_t)cum);
        else
            ap_rprintf(r, "reqprof_request_duration_seconds_bucket{le=\"+Inf\"} %"
                       APR_UINT64_T_FMT "\n", (apr_uint64_t)cum);
    }
    ap_rprintf(r, "reqprof_request_duration_seconds_sum %.9f\n"
               "reqprof_request_duration_seconds_count %" APR_UINT64_T_FMT "\n",
               (double)s->sum_ns * NS, (apr_uint64_t)cum);
    ap_rputs("# HELP reqprof_vhost_requests_total Requests per virtual host.\n"
             "# TYPE reqprof_vhost_requests_total counter\n", r);
    for (i = 0; i < s->nvhosts; i++)
        if (s->vhost_requests[i])
            ap_rprintf(r, "reqprof_vhost_requests_total{vhost=\"%s\"} %" APR_UINT64_T_FMT
                       "\n", prom_label(r->pool, s->vhost_names[i]),
                       (apr_uint64_t)s->vhost_requests[i]);
    prom_family(r, "reqprof_hook_calls_total",
                "Calls of each module's hook entries and output filters.", hooks, 0);
    prom_family(r, "reqprof_hook_self_seconds_total",
                "Self time (pstats tottime) of each module's hook entries.", hooks, 1);
    prom_family(r, "reqprof_hook_seconds_total",
                "Cumulative time (pstats cumtime) of each module's hook entries.", hooks, 2);
    prom_family(r, "reqprof_phase_calls_total", "Request phases run.", phases, 0);
    prom_family(r, "reqprof_phase_seconds_total",
                "Cumulative time (pstats cumtime) of each request phase.", phases, 2);
}

/* ------------------------------------------------------------------ auto */

void reqprof_status_auto(request_rec *r, const rp_agg_snap_t *s)
{
    int i;
    ap_rprintf(r, "ReqprofRequests: %" APR_UINT64_T_FMT "\nReqprofProfiled: %"
               APR_UINT64_T_FMT "\n", (apr_uint64_t)s->requests, (apr_uint64_t)s->profiled);
    for (i = 0; i < RP_AGG_NCLASS; i++)
        ap_rprintf(r, "ReqprofStatus%s: %" APR_UINT64_T_FMT "\n", class_name[i],
                   (apr_uint64_t)s->status[i]);
    ap_rprintf(r, "ReqprofDurationSum: %.6f\nReqprofDurationMax: %.6f\n"
               "ReqprofDurationP50: %.6f\nReqprofDurationP90: %.6f\n"
               "ReqprofDurationP99: %.6f\n"
               "ReqprofURLs: %d\nReqprofURLsOther: %" APR_UINT64_T_FMT "\n"
               "ReqprofSlowest: %d\n",
               (double)s->sum_ns * NS, (double)s->max_ns * NS,
               rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9),
               rp_agg_percentile(s, 0.99), s->nurls, (apr_uint64_t)s->url_other_count,
               s->nslow);
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].phase && s->keys[i].calls)
            ap_rprintf(r, "ReqprofPhase_%s: %.6f\n",
                       ap_escape_html(r->pool, s->keys[i].name),
                       (double)s->keys[i].ct_ns * NS);
}

/* ------------------------------------------------------------------ HTML */

static const char *const STYLE =
    "<style>body{font-family:sans-serif;margin:1em 2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
    "td.n{text-align:right;font-family:monospace}th a{color:inherit}"
    ".bar{display:flex;height:22px;width:100%;border:1px solid #999;margin:.5em 0}"
    ".bar div{overflow:hidden;white-space:nowrap;font-size:70%;color:#000;"
    "border-right:1px solid #fff}"
    ".h{background:#7a9cc6;height:12px;display:inline-block}"
    ".flame text{pointer-events:none}.flame g:hover rect{stroke:#000}"
    "</style>";

static void page_head(request_rec *r, const char *title)
{
    ap_set_content_type(r, "text/html; charset=utf-8");
    /* Nothing but the page itself: no scripts, no outside resources. */
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_rprintf(r, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
               "%s</head><body>\n", ap_escape_html(r->pool, title), STYLE);
}

/* Milliseconds with three decimals, and an RFC 822 date ("-" for none):
 * the units the HTML pages show (reqprof_status_html.c uses them too). */
const char *reqprof_status_ms(apr_pool_t *p, uint64_t ns)
{
    return apr_psprintf(p, "%.3f", (double)ns / 1e6);
}

const char *reqprof_status_date(apr_pool_t *p, apr_time_t t)
{
    char *buf;
    if (!t)
        return "-";
    buf = apr_palloc(p, APR_RFC822_DATE_LEN);
    apr_rfc822_date(buf, t);
    return buf;
}

void reqprof_status_view(request_rec *r, const rp_stats_t *st, const rp_agg_slowrow_t *w)
{
    page_head(r, apr_psprintf(r->pool, "%s %s - mod_reqprof", w->method, w->path));
    ap_rprintf(r, "<p><a href=\"?\">&larr; status</a></p><h1>%s %s</h1>\n"
               "<p>status %d, vhost %s, %s ms, %s, %d functions%s. "
               "<a class=\"prof\" href=\"?prof=%" APR_UINT64_T_FMT "\">Download .prof</a> "
               "(pstats, SnakeViz)</p>\n<div class=\"flamebox\">",
               ap_escape_html(r->pool, w->method), ap_escape_html(r->pool, w->path),
               w->status, ap_escape_html(r->pool, w->vhost), reqprof_status_ms(r->pool, w->wall_ns),
               reqprof_status_date(r->pool, w->when), w->nfuncs,
               w->truncated ? " (tree cut at its size limit)" : "", (apr_uint64_t)w->id);
    ap_rputs(rp_flame_svg_focus(st, apr_psprintf(r->pool, "?view=%" APR_UINT64_T_FMT
                                                 "&focus=", (apr_uint64_t)w->id),
                                reqprof_tree_arg(r, "focus"), r->pool), r);
    ap_rputs("</div>\n<p>Each bar is a function (phase, hook entry, filter), as wide as "
             "its cumulative time under its caller; hover for the numbers.</p>"
             "</body></html>\n", r);
}
