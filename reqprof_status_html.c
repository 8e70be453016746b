/*
 * reqprof_status_html.c - the status page in HTML: what runs now, a
 * summary (requests, error rates, percentiles, the sample), the slowest
 * requests, time per phase, modules and hooks, URLs, the latency
 * histogram and virtual hosts; a window selector, sortable tables
 * (?sort=), ?refresh=N like mod_status.
 *
 * One unit in HTML: milliseconds. No scripts, nothing from outside the
 * page (the CSP says so); every string that came from a request goes
 * through ap_escape_html. Tables scroll inside their own box so that the
 * page itself never overflows, at 1400 px or on a phone.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "reqprof_status_out.h"
#include "reqprof_status_html.h"

static const char *const STYLE =
    "<style>"
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:.5em 1.2em;color:#1d2330;"
    "max-width:1360px;background:#fbfbfc}"
    "h1{font-size:1.35em;margin:.4em 0}h2{font-size:1.1em;margin:1.3em 0 .4em;"
    "border-bottom:2px solid #dde3ee;padding-bottom:2px}"
    "nav{display:flex;flex-wrap:wrap;gap:.3em 1.2em;font-size:90%;margin:.3em 0 .8em}"
    "nav span.sel{font-weight:bold}a{color:#1f5fbf}"
    ".tw{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:.3em 0 .8em;font-size:88%}"
    "td,th{border-bottom:1px solid #e2e6ee;padding:3px 8px;text-align:left;"
    "vertical-align:top}th{background:#eef2f8;white-space:nowrap}"
    "th a{color:inherit;text-decoration:none}th.n,td.n{text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.path{word-break:break-all;min-width:10em;max-width:42em}td.t{white-space:nowrap}"
    "td.stack{font-family:monospace;font-size:92%;word-break:break-all}"
    ".cards{display:flex;flex-wrap:wrap;gap:.6em}"
    ".card{background:#fff;border:1px solid #dde3ee;border-radius:6px;padding:.4em .8em;"
    "flex:1 1 7em;max-width:12em}.card .v{display:block;font-size:1.35em;font-weight:bold;"
    "font-variant-numeric:tabular-nums}.card small{color:#5a6475}"
    ".bad .v{color:#b3261e}.note{color:#5a6475;font-size:88%;margin:.3em 0}"
    ".bar{display:flex;height:24px;width:100%;border:1px solid #99a;margin:.4em 0}"
    ".bar div{overflow:hidden;white-space:nowrap;font-size:75%;line-height:24px;"
    "padding-left:3px;border-right:1px solid #fff;box-sizing:border-box}"
    ".legend{display:flex;flex-wrap:wrap;gap:.2em 1em;font-size:85%;margin:0 0 .6em}"
    ".sw{display:inline-block;width:.9em;height:.9em;margin-right:.3em;"
    "vertical-align:middle;border:1px solid #99a}"
    ".h{background:#6f93c6;height:11px;display:inline-block}"
    ".e4{color:#8a5a00}.e5{color:#b3261e;font-weight:bold}"
    "@media (max-width:600px){body{padding:.3em .5em}.card{flex-basis:6em}}"
    "</style>";

static const char *const COLOURS[] = { "#8dd3c7", "#ffffb3", "#bebada", "#fb8072",
                                       "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
                                       "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f" };
#define NCOLOURS (sizeof COLOURS / sizeof COLOURS[0])

/* What the page was asked for: kept in every link it makes. */
typedef struct view {
    request_rec *r;
    const char *window;     /* "", "1m", ... */
    int refresh;            /* seconds, 0: none */
    const char *sort;       /* "" or a column name */
} view_t;

/* A link to the page with one setting changed (the others kept). */
static const char *link_to(const view_t *v, const char *window, int refresh,
                           const char *sort)
{
    apr_pool_t *p = v->r->pool;
    const char *q = "";
    if (*window)
        q = apr_pstrcat(p, q, "&amp;window=", window, NULL);
    if (refresh)
        q = apr_psprintf(p, "%s&amp;refresh=%d", q, refresh);
    if (*sort)
        q = apr_pstrcat(p, q, "&amp;sort=", sort, NULL);
    return *q ? apr_pstrcat(p, "?", q + 5, NULL) : "?";
}

static const char *pct(apr_pool_t *p, uint64_t part, uint64_t whole)
{
    return whole ? apr_psprintf(p, "%.2f%%", 100.0 * (double)part / (double)whole) : "-";
}

/* ------------------------------------------------------------ sections */

static void nav(const view_t *v, const rp_agg_snap_t *s)
{
    static const char *const windows[] = { "", "1m", "5m", "15m", "60m" };
    static const char *const wnames[] = { "since start", "1 min", "5 min", "15 min", "60 min" };
    static const int refreshes[] = { 0, 5, 10, 30 };
    request_rec *r = v->r;
    int i;
    ap_rputs("<nav><span>Window:", r);
    for (i = 0; i < 5; i++) {
        if (!strcmp(v->window, windows[i]))
            ap_rprintf(r, " <span class=\"sel\">%s</span>", wnames[i]);
        else
            ap_rprintf(r, " <a href=\"%s\">%s</a>",
                       link_to(v, windows[i], v->refresh, v->sort), wnames[i]);
    }
    ap_rputs("</span><span>Refresh:", r);
    for (i = 0; i < 4; i++) {
        const char *label = refreshes[i] ? apr_psprintf(r->pool, "%ds", refreshes[i]) : "off";
        if (v->refresh == refreshes[i])
            ap_rprintf(r, " <span class=\"sel\">%s</span>", label);
        else
            ap_rprintf(r, " <a href=\"%s\">%s</a>",
                       link_to(v, v->window, refreshes[i], v->sort), label);
    }
    /* The aggregate call tree of all traffic (reqprof_tree.c), over the
     * same window. */
    ap_rprintf(r, "</span><span>All traffic: <a class=\"flame-all\" href=\"?flame%s%s\">"
               "flame view</a>, <a href=\"?prof%s%s\">.prof</a>, "
               "<a href=\"?pprof%s%s\">pprof</a>, <a href=\"?collapsed%s%s\">folded</a>"
               "</span>",
               *v->window ? "&amp;window=" : "", v->window,
               *v->window ? "&amp;window=" : "", v->window,
               *v->window ? "&amp;window=" : "", v->window,
               *v->window ? "&amp;window=" : "", v->window);
    ap_rputs("<span>Also as <a href=\"?json\">JSON</a>, "
             "<a href=\"?prometheus\">Prometheus</a>, <a href=\"?auto\">text</a></span>"
             "</nav>\n", r);
    (void)s;
}

static void inflight_table(const view_t *v, const apr_array_header_t *rows)
{
    request_rec *r = v->r;
    int i, j;
    ap_rprintf(r, "<h2 id=\"inflight\">In flight now</h2>");
    if (!rows) {
        ap_rputs("<p class=\"note\">Not available.</p>\n", r);
        return;
    }
    ap_rprintf(r, "<p class=\"note\">%d request%s being served (this one not counted), "
               "longest first. The stack is where a profiled request is now, "
               "outermost first; a request that was not profiled shows none.</p>\n",
               rows->nelts, rows->nelts == 1 ? "" : "s");
    if (!rows->nelts)
        return;
    ap_rputs("<div class=\"tw\"><table class=\"inflight\"><tr><th class=\"n\">elapsed ms</th>"
             "<th>method</th><th>path</th><th>vhost</th><th>pid</th><th>now in</th></tr>\n", r);
    for (i = 0; i < rows->nelts; i++) {
        const rp_inflight_row_t *f = &APR_ARRAY_IDX(rows, i, rp_inflight_row_t);
        ap_rprintf(r, "<tr><td class=\"n\">%.1f</td><td>%s</td><td class=\"path\">%s</td>"
                   "<td>%s</td><td class=\"n\">%ld</td><td class=\"stack\">",
                   f->elapsed * 1e3, ap_escape_html(r->pool, f->method),
                   ap_escape_html(r->pool, f->path), ap_escape_html(r->pool, f->vhost),
                   (long)f->pid);
        for (j = 0; j < f->nstack; j++)
            ap_rprintf(r, "%s%s", j ? " &rarr; " : "", ap_escape_html(r->pool, f->stack[j]));
        if (!f->nstack)
            ap_rputs(f->profiled ? "-" : "(not profiled)", r);
        ap_rputs("</td></tr>\n", r);
    }
    ap_rputs("</table></div>\n", r);
}

static void card(request_rec *r, const char *cls, const char *value, const char *label)
{
    ap_rprintf(r, "<div class=\"card%s\"><span class=\"v\">%s</span><small>%s</small></div>",
               cls, value, label);
}

static void summary(request_rec *r, const rp_agg_snap_t *s, int full)
{
    apr_pool_t *p = r->pool;
    uint64_t errs = s->status[4];
    ap_rputs("<div class=\"cards\">", r);
    ap_rprintf(r, "<div class=\"card\"><span class=\"v\" id=\"requests\">%" APR_UINT64_T_FMT "</span>"
               "<small>requests</small></div>", (apr_uint64_t)s->requests);
    card(r, errs ? " bad" : "", pct(p, errs, s->requests), "5xx errors");
    card(r, "", pct(p, s->status[3], s->requests), "4xx");
    card(r, "", reqprof_status_ms(p, s->requests ? s->sum_ns / s->requests : 0), "mean ms");
    card(r, "", apr_psprintf(p, "%.3f", rp_agg_percentile(s, 0.5) * 1e3), "p50 ms");
    card(r, "", apr_psprintf(p, "%.3f", rp_agg_percentile(s, 0.9) * 1e3), "p90 ms");
    card(r, "", apr_psprintf(p, "%.3f", rp_agg_percentile(s, 0.99) * 1e3), "p99 ms");
    card(r, "", reqprof_status_ms(p, s->max_ns), "max ms");
    ap_rputs("</div>\n", r);
    if (!full)
        return;
    ap_rprintf(r, "<div class=\"tw\"><table class=\"classes\"><tr><th>status</th>"
               "<th class=\"n\">1xx</th><th class=\"n\">2xx</th><th class=\"n\">3xx</th>"
               "<th class=\"n\">4xx</th><th class=\"n\">5xx</th></tr><tr><td>requests</td>"
               "<td class=\"n\">%" APR_UINT64_T_FMT "</td><td class=\"n\">%" APR_UINT64_T_FMT
               "</td><td class=\"n\">%" APR_UINT64_T_FMT "</td><td class=\"n e4\">%"
               APR_UINT64_T_FMT "</td><td class=\"n e5\">%" APR_UINT64_T_FMT "</td></tr>"
               "</table></div>\n", (apr_uint64_t)s->status[0], (apr_uint64_t)s->status[1],
               (apr_uint64_t)s->status[2], (apr_uint64_t)s->status[3],
               (apr_uint64_t)s->status[4]);
    if (s->profiled < s->requests)
        ap_rprintf(r, "<p class=\"note sample\">Every request is counted above and in the "
                   "URL, latency and virtual host tables. Profiled (the sample): %"
                   APR_UINT64_T_FMT " of %" APR_UINT64_T_FMT " (%s). Phases, modules and "
                   "hooks and the slowest list come from that sample; the modules "
                   "table also shows its time scaled to all requests (labelled).</p>\n",
                   (apr_uint64_t)s->profiled, (apr_uint64_t)s->requests,
                   pct(p, s->profiled, s->requests));
    else
        ap_rprintf(r, "<p class=\"note\">All %" APR_UINT64_T_FMT " requests were profiled "
                   "(no sampling).</p>\n", (apr_uint64_t)s->requests);
    ap_rprintf(r, "<p class=\"note\">%s. Counting since %s; last reset %s.</p>\n",
               s->window ? apr_psprintf(p, "Figures of the last %d minute%s", s->window,
                                        s->window == 1 ? "" : "s")
                         : "Figures since the start",
               reqprof_status_date(p, s->created), reqprof_status_date(p, s->reset));
}

static void slow_table(request_rec *r, const rp_agg_snap_t *s)
{
    int i;
    ap_rputs("<h2 id=\"slowest\">Slowest recent requests</h2>", r);
    if (!s->nslow) {
        ap_rputs("<p class=\"note\">None yet.</p>\n", r);
        return;
    }
    ap_rputs("<div class=\"tw\"><table class=\"slowest\"><tr><th class=\"n\">ms</th>"
             "<th>method</th><th>URL</th><th class=\"n\">status</th><th>vhost</th>"
             "<th>when</th><th>trace id</th><th></th></tr>\n", r);
    for (i = 0; i < s->nslow; i++) {
        const rp_agg_slowrow_t *w = &s->slow[i];
        ap_rprintf(r, "<tr><td class=\"n\">%s</td><td>%s</td><td class=\"path\">%s</td>"
                   "<td class=\"n\">%d</td><td>%s</td><td class=\"t\">%s</td>"
                   "<td class=\"trace\">%s</td><td class=\"t\">"
                   "<a class=\"view\" "
                   "href=\"?view=%" APR_UINT64_T_FMT "\">flame</a> <a class=\"prof\" "
                   "href=\"?prof=%" APR_UINT64_T_FMT "\">.prof</a></td></tr>\n",
                   reqprof_status_ms(r->pool, w->wall_ns), ap_escape_html(r->pool, w->method),
                   ap_escape_html(r->pool, w->path), w->status,
                   ap_escape_html(r->pool, w->vhost), reqprof_status_date(r->pool, w->when),
                   ap_escape_html(r->pool, w->traceid ? w->traceid : ""),
                   (apr_uint64_t)w->id, (apr_uint64_t)w->id);
    }
    ap_rputs("</table></div>\n", r);
}

static void phase_bar(request_rec *r, const rp_agg_snap_t *s)
{
    uint64_t total = 0;
    int i, n = 0;
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].phase)
            total += s->keys[i].ct_ns;
    ap_rputs("<h2 id=\"phases\">Time per phase</h2>", r);
    if (!total) {
        ap_rputs("<p class=\"note\">No profiled request yet.</p>\n", r);
        return;
    }
    ap_rputs("<div class=\"bar phases\">", r);
    for (i = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        double share;
        if (!k->phase || !k->ct_ns)
            continue;
        share = 100.0 * (double)k->ct_ns / (double)total;
        /* A label inside the bar only where it fits; the legend has all. */
        ap_rprintf(r, "<div title=\"%s %.1f%%\" style=\"width:%.2f%%;background:%s\">%s</div>",
                   ap_escape_html(r->pool, k->name), share, share, COLOURS[n++ % NCOLOURS],
                   share >= 9.0 ? ap_escape_html(r->pool, k->name) : "");
    }
    ap_rputs("</div><div class=\"legend\">", r);
    for (i = 0, n = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (!k->phase || !k->ct_ns)
            continue;
        ap_rprintf(r, "<span><span class=\"sw\" style=\"background:%s\"></span>%s "
                   "%.1f%% (%s ms)</span>", COLOURS[n++ % NCOLOURS],
                   ap_escape_html(r->pool, k->name), 100.0 * (double)k->ct_ns / (double)total,
                   reqprof_status_ms(r->pool, k->ct_ns));
    }
    ap_rputs("</div>\n<div class=\"tw\"><table class=\"phases\"><tr><th>phase</th>"
             "<th class=\"n\">calls</th><th class=\"n\">cumulative ms</th>"
             "<th class=\"n\">self ms</th><th class=\"n\">ms per call</th></tr>\n", r);
    for (i = 0; i < s->nkeys; i++) {
        const rp_agg_keyrow_t *k = &s->keys[i];
        if (k->phase && k->calls)
            ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                       "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                       "</tr>\n", ap_escape_html(r->pool, k->name), (apr_uint64_t)k->calls,
                       reqprof_status_ms(r->pool, k->ct_ns), reqprof_status_ms(r->pool, k->tt_ns),
                       reqprof_status_ms(r->pool, k->ct_ns / k->calls));
    }
    ap_rputs("</table></div>\n", r);
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

static void modules_table(const view_t *v, const rp_agg_snap_t *s)
{
    static const char *const cols[] = { "module", "hook", "calls", "tottime", "cumtime" };
    static const char *const heads[] = { "module", "hook", "calls", "self ms",
                                         "cumulative ms" };
    static int (*const cmp[])(const void *, const void *) = {
        by_module, by_hook, by_calls, by_tt_ns, by_ct_ns };
    request_rec *r = v->r;
    const rp_agg_keyrow_t **rows = apr_palloc(r->pool, sizeof(*rows)
                                                       * (apr_size_t)(s->nkeys + 1));
    int i, n = 0, field = 4, scaled = s->profiled && s->profiled < s->requests;
    double scale = scaled ? (double)s->requests / (double)s->profiled : 1.0;

    for (i = 0; i < 5; i++)
        if (!strcmp(v->sort, cols[i]))
            field = i;
    for (i = 0; i < s->nkeys; i++)
        if (!s->keys[i].phase && s->keys[i].calls)
            rows[n++] = &s->keys[i];
    qsort(rows, (size_t)n, sizeof *rows, cmp[field]);
    ap_rputs("<h2 id=\"modules\">Modules and hooks</h2>", r);
    if (scaled)
        ap_rprintf(r, "<p class=\"note\">From the %" APR_UINT64_T_FMT " profiled requests; "
                   "the last column scales cumulative time to all %" APR_UINT64_T_FMT
                   " (&times;%.2f).</p>", (apr_uint64_t)s->profiled,
                   (apr_uint64_t)s->requests, scale);
    ap_rputs("<div class=\"tw\"><table class=\"modules\"><tr>", r);
    for (i = 0; i < 5; i++)
        ap_rprintf(r, "<th%s><a href=\"%s#modules\">%s%s</a></th>", i >= 2 ? " class=\"n\"" : "",
                   link_to(v, v->window, v->refresh, cols[i]), heads[i],
                   field == i ? " &#9660;" : "");
    ap_rprintf(r, "<th class=\"n\">ms per call</th>%s</tr>\n",
               scaled ? "<th class=\"n\">cumulative ms, scaled to all requests</th>" : "");
    for (i = 0; i < n; i++) {
        ap_rprintf(r, "<tr><td>%s:%d</td><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT
                   "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%.4f"
                   "</td>", ap_escape_html(r->pool, rows[i]->file), rows[i]->line,
                   ap_escape_html(r->pool, rows[i]->name), (apr_uint64_t)rows[i]->calls,
                   reqprof_status_ms(r->pool, rows[i]->tt_ns), reqprof_status_ms(r->pool, rows[i]->ct_ns),
                   (double)rows[i]->ct_ns / 1e6 / (double)rows[i]->calls);
        if (scaled)
            ap_rprintf(r, "<td class=\"n\">%.3f</td>", (double)rows[i]->ct_ns / 1e6 * scale);
        ap_rputs("</tr>\n", r);
    }
    ap_rputs("</table></div>\n", r);
}

static int url_cmp_requests(const void *x, const void *y)
{
    const rp_agg_urlrow_t *a = *(rp_agg_urlrow_t * const *)x;
    const rp_agg_urlrow_t *b = *(rp_agg_urlrow_t * const *)y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->path, b->path);
}

#define URLDESC(nm, expr) \
    static int url_cmp_##nm(const void *x, const void *y) \
    { \
        const rp_agg_urlrow_t *a = *(rp_agg_urlrow_t * const *)x; \
        const rp_agg_urlrow_t *b = *(rp_agg_urlrow_t * const *)y; \
        uint64_t va, vb; \
        { const rp_agg_urlrow_t *u = a; va = (expr); } \
        { const rp_agg_urlrow_t *u = b; vb = (expr); } \
        return va == vb ? url_cmp_requests(x, y) : va > vb ? -1 : 1; \
    }
URLDESC(total, u->sum_ns)
URLDESC(max, u->max_ns)
URLDESC(errors, u->status[3] + u->status[4])

static void urls_table(const view_t *v, const rp_agg_snap_t *s)
{
    static const char *const cols[] = { "requests", "errors", "total", "max" };
    static int (*const cmp[])(const void *, const void *) = {
        url_cmp_requests, url_cmp_errors, url_cmp_total, url_cmp_max };
    request_rec *r = v->r;
    const rp_agg_urlrow_t **rows = apr_palloc(r->pool, sizeof(*rows)
                                                       * (apr_size_t)(s->nurls + 1));
    int i, field = 0;

    for (i = 0; i < 4; i++)
        if (!strcmp(v->sort, cols[i]))
            field = i;
    for (i = 0; i < s->nurls; i++)
        rows[i] = &s->urls[i];
    qsort(rows, (size_t)s->nurls, sizeof *rows, cmp[field]);
    ap_rprintf(r, "<h2 id=\"urls\">URLs</h2><p class=\"note\">%d of at most %d paths kept; "
               "%" APR_UINT64_T_FMT " requests of paths that made way for others are under "
               "(other).</p><div class=\"tw\"><table class=\"urls\"><tr><th>path</th>",
               s->nurls, s->window ? RP_AGG_WIN_URLS * s->window : s->sizes.nurls,
               (apr_uint64_t)s->url_other_count);
#define URL_TH(i, label) \
    ap_rprintf(r, "<th class=\"n\"><a href=\"%s#urls\">%s%s</a></th>", \
               link_to(v, v->window, v->refresh, cols[i]), label, field == i ? " &#9660;" : "")
    URL_TH(0, "requests");
    ap_rputs("<th class=\"n\">4xx</th>", r);
    URL_TH(1, "5xx");
    ap_rputs("<th class=\"n\">mean ms</th>", r);
    URL_TH(3, "max ms");
    URL_TH(2, "total ms");
#undef URL_TH
    ap_rputs("<th>last</th></tr>\n", r);
    for (i = 0; i < s->nurls; i++) {
        const rp_agg_urlrow_t *u = rows[i];
        ap_rprintf(r, "<tr><td class=\"path\">%s</td><td class=\"n\">%" APR_UINT64_T_FMT
                   "</td><td class=\"n e4\">%" APR_UINT64_T_FMT "</td><td class=\"n e5\">%"
                   APR_UINT64_T_FMT "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"t\">%s</td></tr>\n",
                   ap_escape_html(r->pool, u->path), (apr_uint64_t)u->count,
                   (apr_uint64_t)u->status[3], (apr_uint64_t)u->status[4],
                   reqprof_status_ms(r->pool, u->count ? u->sum_ns / u->count : 0),
                   reqprof_status_ms(r->pool, u->max_ns), reqprof_status_ms(r->pool, u->sum_ns), reqprof_status_date(r->pool, u->last));
    }
    if (s->url_other_count)
        ap_rprintf(r, "<tr><td>(other)</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                   "<td class=\"n\">%" APR_UINT64_T_FMT "</td><td class=\"n\">%"
                   APR_UINT64_T_FMT "</td><td class=\"n\">%s</td><td></td>"
                   "<td class=\"n\">%s</td><td></td></tr>\n",
                   (apr_uint64_t)s->url_other_count, (apr_uint64_t)s->url_other_status[3],
                   (apr_uint64_t)s->url_other_status[4],
                   reqprof_status_ms(r->pool, s->url_other_sum_ns / s->url_other_count),
                   reqprof_status_ms(r->pool, s->url_other_sum_ns));
    ap_rputs("</table></div>\n", r);
}

static void histogram(request_rec *r, const rp_agg_snap_t *s)
{
    uint64_t most = 1;
    int i;
    for (i = 0; i < RP_AGG_NBUCKETS; i++)
        if (s->hist[i] > most)
            most = s->hist[i];
    ap_rputs("<h2 id=\"latency\">Latency</h2><div class=\"tw\"><table class=\"histogram\">"
             "<tr><th class=\"n\">up to ms</th><th class=\"n\">requests</th><th></th></tr>\n", r);
    for (i = 0; i < RP_AGG_NBUCKETS; i++) {
        const char *le = i < RP_AGG_NBUCKETS - 1
                         ? apr_psprintf(r->pool, "%g", rp_agg_bucket_le[i] * 1e3) : "more";
        ap_rprintf(r, "<tr><td class=\"n\">%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                   "<td><span class=\"h\" style=\"width:%dpx\"></span></td></tr>\n",
                   le, (apr_uint64_t)s->hist[i], (int)(240 * s->hist[i] / most));
    }
    ap_rputs("</table></div>\n", r);
}

static void vhosts_table(request_rec *r, const rp_agg_snap_t *s)
{
    int i;
    ap_rputs("<h2 id=\"vhosts\">Virtual hosts</h2><div class=\"tw\"><table class=\"vhosts\">"
             "<tr><th>vhost</th><th class=\"n\">requests</th><th class=\"n\">4xx</th>"
             "<th class=\"n\">5xx</th><th class=\"n\">mean ms</th></tr>\n", r);
    for (i = 0; i < s->nvhosts; i++)
        if (s->vhost_requests[i])
            ap_rprintf(r, "<tr><td>%s</td><td class=\"n\">%" APR_UINT64_T_FMT "</td>"
                       "<td class=\"n e4\">%" APR_UINT64_T_FMT "</td><td class=\"n e5\">%"
                       APR_UINT64_T_FMT "</td><td class=\"n\">%s</td></tr>\n",
                       ap_escape_html(r->pool, s->vhost_names[i]),
                       (apr_uint64_t)s->vhost_requests[i],
                       (apr_uint64_t)s->vhost_status[i * RP_AGG_NCLASS + 3],
                       (apr_uint64_t)s->vhost_status[i * RP_AGG_NCLASS + 4],
                       reqprof_status_ms(r->pool, s->vhost_sum_ns[i] / s->vhost_requests[i]));
    ap_rputs("</table></div>\n", r);
}

/* --------------------------------------------------------------- page */

/* A word of [a-z0-9] (a sort column or a window name), else "". */
static const char *word(const char *v)
{
    const char *c;
    if (!v)
        return "";
    for (c = v; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) || c - v > 16)
            return "";
    return v;
}

void reqprof_status_html(request_rec *r, const rp_agg_snap_t *s, int reset_allowed,
                         const char *window, const char *sort, int refresh,
                         const apr_array_header_t *inflight)
{
    view_t v;
    v.r = r;
    v.window = s->window ? word(window) : "";
    v.sort = word(sort);
    v.refresh = refresh;

    ap_set_content_type(r, "text/html; charset=utf-8");
    /* Nothing but the page itself: no scripts, no outside resources. */
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_rputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">", r);
    if (refresh)
        ap_rprintf(r, "<meta http-equiv=\"refresh\" content=\"%d\">", refresh);
    ap_rprintf(r, "<title>mod_reqprof status</title>%s</head><body>\n"
               "<h1>mod_reqprof status</h1>\n", STYLE);
    nav(&v, s);
    inflight_table(&v, inflight);
    ap_rputs("<h2 id=\"summary\">Summary</h2>", r);
    summary(r, s, 1);
    if (reset_allowed)
        ap_rputs("<form method=\"post\" action=\"\"><button type=\"submit\">Reset "
                 "counters</button></form>\n", r);
    slow_table(r, s);
    phase_bar(r, s);
    modules_table(&v, s);
    urls_table(&v, s);
    histogram(r, s);
    vhosts_table(r, s);
    ap_rprintf(r, "<p class=\"note\">Shared memory: %" APR_SIZE_T_FMT " bytes.</p>"
               "</body></html>\n", s->bytes);
}

void reqprof_status_section(request_rec *r, const rp_agg_snap_t *s)
{
    ap_rputs("<hr /><h2>mod_reqprof</h2>\n", r);
    summary(r, s, 0);
}
