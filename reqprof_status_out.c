/*
 * reqprof_status_out.c - the status page's formats: HTML (with the flame
 * view of a slow request), JSON, Prometheus text exposition, and the
 * ?auto "Key: value" lines (also used in /server-status?auto).
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

void reqprof_status_json(request_rec *r, const rp_agg_snap_t *s)
{
    apr_pool_t *p = r->pool;
    int i, first;

    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"version\": 1, \"requests\": %" APR_UINT64_T_FMT ",\n",
               (apr_uint64_t)s->requests);
    ap_rprintf(r, " \"since\": %" APR_INT64_T_FMT ", \"reset\": %" APR_INT64_T_FMT ",\n",
               (apr_int64_t)apr_time_sec(s->created), (apr_int64_t)apr_time_sec(s->reset));
    ap_rprintf(r, " \"duration\": {\"sum\": %s, \"max\": %s, \"p50\": %.6f, "
               "\"p90\": %.6f, \"p99\": %.6f},\n", sec(p, s->sum_ns), sec(p, s->max_ns),
               rp_agg_percentile(s, 0.5), rp_agg_percentile(s, 0.9),
               rp_agg_percentile(s, 0.99));
    ap_rputs(" \"histogram\": [", r);
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
        ap_rprintf(r, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s}",
                   (apr_uint64_t)s->vhost_requests[i], sec(p, s->vhost_sum_ns[i]));
        first = 0;
    }
    ap_rputs("],\n \"urls\": [", r);
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = &s->urls[i];
        ap_rputs(i ? ",\n  {\"path\": " : "\n  {\"path\": ", r);
        json_str(r, u->path);
        ap_rprintf(r, ", \"requests\": %" APR_UINT64_T_FMT ", \"seconds\": %s, \"max\": %s, "
                   "\"last\": %" APR_INT64_T_FMT "}", (apr_uint64_t)u->count,
                   sec(p, u->sum_ns), sec(p, u->max_ns), (apr_int64_t)apr_time_sec(u->last));
    }
    ap_rprintf(r, "],\n \"urls_other\": {\"requests\": %" APR_UINT64_T_FMT
               ", \"seconds\": %s},\n", (apr_uint64_t)s->url_other_count,
               sec(p, s->url_other_sum_ns));
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
                   ", \"functions\": %d, \"truncated\": %s}", w->status, sec(p, w->wall_ns),
                   (apr_int64_t)apr_time_sec(w->when), w->nfuncs,
                   w->truncated ? "true" : "false");
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
    ap_rprintf(r, "# HELP reqprof_requests_total Requests profiled (ProfileEngine On) "
               "since the server started or the status page was reset.\n"
               "# TYPE reqprof_requests_total counter\n"
               "reqprof_requests_total %" APR_UINT64_T_FMT "\n", (apr_uint64_t)s->requests);
    ap_rputs("# HELP reqprof_request_duration_seconds Wall time of profiled requests.\n"
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
    ap_rputs("# HELP reqprof_vhost_requests_total Profiled requests per virtual host.\n"
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
    ap_rprintf(r, "ReqprofRequests: %" APR_UINT64_T_FMT "\n"
               "ReqprofDurationSum: %.6f\nReqprofDurationMax: %.6f\n"
               "ReqprofDurationP50: %.6f\nReqprofDurationP90: %.6f\n"
               "ReqprofDurationP99: %.6f\n"
               "ReqprofURLs: %d\nReqprofURLsOther: %" APR_UINT64_T_FMT "\n"
               "ReqprofSlowest: %d\n",
               (apr_uint64_t)s->requests, (double)s->sum_ns * NS, (double)s->max_ns * NS,
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

static const char *ms(apr_pool_t *p, uint64_t ns)
{
    return apr_psprintf(p, "%.3f", (double)ns / 1e6);
}

static const char *date(apr_pool_t *p, apr_time_t t)
{
    char *buf;
    if (!t)
        return "-";
    buf = apr_palloc(p, APR_RFC822_DATE_LEN);
    apr_rfc822_date(buf, t);
    return buf;
}

static int by_module(const void *x, const void *y)
{
    const rp_agg_keyrow_t *a = *(rp_agg_keyrow_t * const *)x;
    const rp_agg_keyrow_t *b = *(rp_agg_keyrow_t * const *)y;
    int c = strcmp(a->file, b->file);
    return c ? c : a->line - b->line;
}

static int by_hook(const void *x, const void *y)
{
    const rp_agg_keyrow_t *a = *(rp_agg_keyrow_t * const *)x;
    const rp_agg_keyrow_t *b = *(rp_agg_keyrow_t * const *)y;
    int c = strcmp(a->name, b->name);
    return c ? c : by_module(x, y);
}

#define DESC(f) \
    static int by_##f(const void *x, const void *y) \
    { \
        const rp_agg_keyrow_t *a = *(rp_agg_keyrow_t * const *)x; \
        const rp_agg_keyrow_t *b = *(rp_agg_keyrow_t * const *)y; \
        return a->f == b->f ? by_module(x, y) : a->f > b->f ? -1 : 1; \
    }
DESC(calls)
DESC(tt_ns)
DESC(ct_ns)

static void modules_table(request_rec *r, const rp_agg_snap_t *s)
{
    static const char *const cols[] = { "module", "hook", "calls", "tottime", "cumtime" };
    const char *sort = NULL;
    const rp_agg_keyrow_t **rows = apr_palloc(r->pool, sizeof(*rows) * (apr_size_t)(s->nkeys + 1));
    int i, n = 0, field = 4;

    if (r->args) {
        const char *a = ap_strstr_c(r->args, "sort=");
        if (a)
            sort = a + 5;
    }
    for (i = 0; sort && i < 5; i++)
        if (!strncmp(sort, cols[i], strlen(cols[i])))
            field = i + 1;
    for (i = 0; i < s->nkeys; i++)
        if (!s->keys[i].phase && s->keys[i].calls)
            rows[n++] = &s->keys[i];
    {
        static int (*const cmp[])(const void *, const void *) = {
            by_module, by_hook, by_calls, by_tt_ns, by_ct_ns };
        qsort(rows, (size_t)n, sizeof *rows, cmp[field - 1]);
    }
    ap_rputs("<h2 id=\"modules\">Modules and hooks</h2><table class=\"modules\"><tr>", r);
    for (i = 0; i < 5; i++)
        ap_rprintf(r, "<th><a href=\"?sort=%s#modules\">%s%s</a></th>", cols[i], cols[i],
                   field == i + 1 ? " &#9660;" : "");
    ap_rputs("<th>s per call</th></tr>\n", r);
    for (i = 0; i < n; i++)
        ap_rprintf(r, "<tr><td>%s:%d</td><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT
                   "</td><td class=\"n\">%.6f</td><td class=\"n\">%.6f</td>"
                   "<td class=\"n\">%.6f</td></tr>\n",
                   ap_escape_html(r->pool, rows[i]->file), rows[i]->line,
                   ap_escape_html(r->pool, rows[i]->name), (apr_uint64_t)rows[i]->calls,
                   (double)rows[i]->tt_ns * NS, (double)rows[i]->ct_ns * NS,
                   (double)rows[i]->ct_ns * NS / (double)rows[i]->calls);
    ap_rputs("</table>\n", r);
}

static void phase_bar(request_rec *r, const rp_agg_snap_t *s)
{
    static const char *const colours[] = { "#8dd3c7", "#ffffb3", "#bebada", "#fb8072",
                                           "#80b1d3", "#fdb462", "#b3de69", "#fccde5" };
    uint64_t total = 0;
    int i, n = 0;
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].phase)
            total += s->keys[i].ct_ns;
    ap_rputs("<h2>Time per phase</h2><div class=\"bar phases\">", r);
    for (i = 0; total && i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        double share;
        if (!k->phase || !k->ct_ns)
            continue;
        share = 100.0 * (double)k->ct_ns / (double)total;
        ap_rprintf(r, "<div title=\"%s %.1f%%\" style=\"width:%.2f%%;background:%s\">%s</div>",
                   ap_escape_html(r->pool, k->name), share, share, colours[n++ % 8],
                   ap_escape_html(r->pool, k->name));
    }
    ap_rputs("</div><table><tr><th>phase</th><th>calls</th><th>cumtime s</th>"
             "<th>tottime s</th></tr>\n", r);
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].phase && s->keys[i].calls)
            ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                       "<td class=\"n\">%.6f</td><td class=\"n\">%.6f</td></tr>\n",
                       ap_escape_html(r->pool, s->keys[i].name),
                       (apr_uint64_t)s->keys[i].calls, (double)s->keys[i].ct_ns * NS,
                       (double)s->keys[i].tt_ns * NS);
    ap_rputs("</table>\n", r);
}

static void histogram(request_rec *r, const rp_agg_snap_t *s)
{
    uint64_t most = 1;
    int i;
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        if (s->hist[i] > most)
            most = s->hist[i];
    ap_rputs("<h2>Latency</h2><table class=\"histogram\"><tr><th>up to</th>"
             "<th>requests</th><th></th></tr>\n", r);
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        const char *le = i < RP_AGG_NBUCKETS - 1
                         ? apr_pstrcat(r->pool, rp_agg_bucket_text[i], " s", NULL) : "more";
        ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                   "<td><span class=\"h\" style=\"width:%dpx\"></span></td></tr>\n",
                   le, (apr_uint64_t)s->hist[i], (int)(300 * s->hist[i] / most));
    }
    ap_rputs("</table>\n", r);
}

static void slow_table(request_rec *r, const rp_agg_snap_t *s)
{
    int i;
    ap_rputs("<h2 id=\"slowest\">Slowest recent requests</h2><table class=\"slowest\">"
             "<tr><th>time ms</th><th>method</th><th>URL</th><th>status</th>"
             "<th>vhost</th><th>when</th><th></th></tr>\n", r);
    for (i = 0; i < s->nslow; i++) {
        const rp_agg_slowrow_t *w = &s->slow[i];
        ap_rprintf(r, "<tr><td class=\"n\">%s</td><td>%s</td><td>%s</td><td>%d</td>"
                   "<td>%s</td><td>%s</td><td><a class=\"view\" href=\"?view=%"
                   APR_UINT64_T_FMT "\">flame</a> <a class=\"prof\" href=\"?prof=%"
                   APR_UINT64_T_FMT "\">.prof</a></td></tr>\n",
                   ms(r->pool, w->wall_ns), ap_escape_html(r->pool, w->method),
                   ap_escape_html(r->pool, w->path), w->status,
                   ap_escape_html(r->pool, w->vhost), date(r->pool, w->when),
                   (apr_uint64_t)w->id, (apr_uint64_t)w->id);
    }
    ap_rputs("</table>\n", r);
}

static void urls_table(request_rec *r, const rp_agg_snap_t *s)
{
    int i;
    ap_rprintf(r, "<h2>URLs</h2><p>%d of at most %d paths kept; %" APR_UINT64_T_FMT
               " requests of paths that made way for others are under (other).</p>"
               "<table class=\"urls\"><tr><th>path</th><th>requests</th><th>mean ms</th>"
               "<th>max ms</th><th>last</th></tr>\n", s->nurls, s->sizes.nurls,
               (apr_uint64_t)s->url_other_count);
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = &s->urls[i];
        ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td></tr>\n",
                   ap_escape_html(r->pool, u->path), (apr_uint64_t)u->count,
                   ms(r->pool, u->count ? u->sum_ns / u->count : 0),
                   ms(r->pool, u->max_ns), date(r->pool, u->last));
    }
    if (s->url_other_count)
        ap_rprintf(r, "<tr><td>(other)</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                   "<td class=\"n\">%s</td><td></td><td></td></tr>\n",
                   (apr_uint64_t)s->url_other_count,
                   ms(r->pool, s->url_other_sum_ns / s->url_other_count));
    ap_rputs("</table>\n", r);
}

static void summary(request_rec *r, const rp_agg_snap_t *s)
{
    ap_rprintf(r, "<table class=\"summary\"><tr><th>requests</th><td class=\"n\" id=\"requests\">%"
               APR_UINT64_T_FMT "</td></tr><tr><th>mean ms</th><td class=\"n\">%s</td></tr>"
               "<tr><th>p50 / p90 / p99 ms</th><td class=\"n\">%.3f / %.3f / %.3f</td></tr>"
               "<tr><th>max ms</th><td class=\"n\">%s</td></tr>"
               "<tr><th>counting since</th><td>%s</td></tr>"
               "<tr><th>last reset</th><td>%s</td></tr></table>\n",
               (apr_uint64_t)s->requests, ms(r->pool, s->requests ? s->sum_ns / s->requests : 0),
               rp_agg_percentile(s, 0.5) * 1e3, rp_agg_percentile(s, 0.9) * 1e3,
               rp_agg_percentile(s, 0.99) * 1e3, ms(r->pool, s->max_ns),
               date(r->pool, s->created), date(r->pool, s->reset));
}

void reqprof_status_html(request_rec *r, const rp_agg_snap_t *s, int reset_allowed)
{
    int i;
    page_head(r, "mod_reqprof status");
    ap_rputs("<h1>mod_reqprof status</h1>\n<p>Also as <a href=\"?json\">JSON</a>, "
             "<a href=\"?prometheus\">Prometheus</a>, <a href=\"?auto\">plain text</a>."
             "</p>\n", r);
    summary(r, s);
    if (reset_allowed)
        ap_rputs("<form method=\"post\" action=\"\"><button type=\"submit\">Reset "
                 "counters</button></form>\n", r);
    slow_table(r, s);
    phase_bar(r, s);
    modules_table(r, s);
    histogram(r, s);
    ap_rputs("<h2>Virtual hosts</h2><table class=\"vhosts\"><tr><th>vhost</th>"
             "<th>requests</th><th>mean ms</th></tr>\n", r);
    for (i = 0; i < s->nvhosts; i++)
        if (s->vhost_requests[i])
            ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                       "<td class=\"n\">%s</td></tr>\n",
                       ap_escape_html(r->pool, s->vhost_names[i]),
                       (apr_uint64_t)s->vhost_requests[i],
                       ms(r->pool, s->vhost_sum_ns[i] / s->vhost_requests[i]));
    ap_rputs("</table>\n", r);
    urls_table(r, s);
    ap_rprintf(r, "<p>Shared memory: %" APR_SIZE_T_FMT " bytes.</p></body></html>\n", s->bytes);
}

void reqprof_status_view(request_rec *r, const rp_stats_t *st, const rp_agg_slowrow_t *w)
{
    page_head(r, apr_psprintf(r->pool, "%s %s - mod_reqprof", w->method, w->path));
    ap_rprintf(r, "<p><a href=\"?\">&larr; status</a></p><h1>%s %s</h1>\n"
               "<p>status %d, vhost %s, %s ms, %s, %d functions%s. "
               "<a class=\"prof\" href=\"?prof=%" APR_UINT64_T_FMT "\">Download .prof</a> "
               "(pstats, SnakeViz)</p>\n<div class=\"flamebox\">",
               ap_escape_html(r->pool, w->method), ap_escape_html(r->pool, w->path),
               w->status, ap_escape_html(r->pool, w->vhost), ms(r->pool, w->wall_ns),
               date(r->pool, w->when), w->nfuncs,
               w->truncated ? " (tree cut at its size limit)" : "", (apr_uint64_t)w->id);
    ap_rputs(rp_flame_svg_focus(st, apr_psprintf(r->pool, "?view=%" APR_UINT64_T_FMT
                                                 "&focus=", (apr_uint64_t)w->id),
                                reqprof_tree_arg(r, "focus"), r->pool), r);
    ap_rputs("</div>\n<p>Each bar is a function (phase, hook entry, filter), as wide as "
             "its cumulative time under its caller; hover for the numbers.</p>"
             "</body></html>\n", r);
}

void reqprof_status_section(request_rec *r, const rp_agg_snap_t *s)
{
    ap_rputs("<hr /><h2>mod_reqprof</h2>\n", r);
    summary(r, s);
}
