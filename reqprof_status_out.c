/*
 * reqprof_status_out.c - the status page's formats as responses: JSON,
 * Prometheus text exposition and the ?auto "Key: value" lines (also used
 * in /server-status?auto), written by lib/rp_status_fmt.c and sent from
 * here with their content types; and the flame view of a slow request.
 * The main HTML page is in reqprof_status_html.c.
 *
 * Every string that came from a request (URL paths, methods, virtual host
 * names) is escaped for the format it goes into: ap_escape_html in HTML,
 * rp_buf_json_str in JSON, Prometheus label escaping; URLs never go into
 * Prometheus labels (unbounded) nor into ?auto.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"
#include "apr_strings.h"

#include "rp_flame.h"
#include "rp_status_fmt.h"
#include "reqprof_tree.h"
#include "reqprof_status_out.h"

/* The page's formats are written by lib/rp_status_fmt.c into a buffer;
 * here they get their content type (NULL: the caller's) and are sent. */
static rp_buf_t *new_buf(request_rec *r)
{
    rp_buf_t *b = apr_palloc(r->pool, sizeof *b);
    rp_buf_init(b, r->pool, 16384);
    return b;
}

static void send_buf(request_rec *r, const char *content_type, const rp_buf_t *b)
{
    if (content_type)
        ap_set_content_type(r, content_type);
    if (b->len)
        ap_rwrite(b->data, (int)b->len, r);
}

void reqprof_status_json(request_rec *r, const rp_agg_snap_t *s,
                         const apr_array_header_t *inflight)
{
    rp_buf_t *b = new_buf(r);
    rp_status_json(b, s, inflight);
    send_buf(r, "application/json", b);
}

void reqprof_status_prometheus(request_rec *r, const rp_agg_snap_t *s)
{
    rp_buf_t *b = new_buf(r);
    rp_status_prometheus(b, s);
    send_buf(r, "text/plain; version=0.0.4; charset=utf-8", b);
}

void reqprof_status_auto(request_rec *r, const rp_agg_snap_t *s)
{
    rp_buf_t *b = new_buf(r);
    rp_status_auto(b, s);
    send_buf(r, NULL, b);
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
