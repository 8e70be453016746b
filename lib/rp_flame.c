/*
 * rp_flame.c - icicle view of a profile as SVG (see rp_flame.h).
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_pstats.h"
#include "rp_flame.h"
#include "rp_text.h"

/* Names are cut here, as the other writers cut them (rp_outfmt.c). */
#define NAME_MAX_BYTES 1024

const char *rp_xml_escape(apr_pool_t *p, const char *s)
{
    rp_buf_t b;
    const char *c;
    if (!s)
        return "";
    if (!strpbrk(s, "&<>\"'"))
        return s;
    rp_buf_init(&b, p, strlen(s) + 32);
    for (c = s; *c; c++) {
        switch (*c) {
        case '&': rp_buf_add(&b, "&amp;", 5); break;
        case '<': rp_buf_add(&b, "&lt;", 4); break;
        case '>': rp_buf_add(&b, "&gt;", 4); break;
        case '"': rp_buf_add(&b, "&quot;", 6); break;
        case '\'': rp_buf_add(&b, "&#39;", 5); break;
        default: rp_buf_add(&b, c, 1);
        }
    }
    rp_buf_add(&b, "", 1);
    return b.data;
}

/* ------------------------------------------------ drawing a call tree */

typedef struct drawing {
    const rp_flame_node_t *nodes;
    int n;
    apr_pool_t *p;
    rp_buf_t out;
    int *kid, *sib;          /* per node: first child, next sibling */
    double scale;            /* px per second */
    double total;            /* the whole tree's seconds, for the shares */
    int rects, maxdepth;
} drawing_t;

/* Phases and requests (httpd:0) in blues and greys, modules in warm
 * colours picked from their file name, so one module keeps its colour. */
static const char *colour(apr_pool_t *p, const char *file, const char *name)
{
    unsigned h = 5381;
    const char *c;
    if (!strcmp(file, "httpd"))
        return !strncmp(name, "request ", 8) || !strncmp(name, "subrequest ", 11)
               || !strncmp(name, "redirect ", 9) || !strcmp(name, "all requests")
               ? "#9db3c9" : "#b8c9dc";
    for (c = file; *c; c++)
        h = h * 33 + (unsigned char)*c;
    return apr_psprintf(p, "hsl(%u,75%%,%u%%)", 10 + h % 45, 55 + (h / 45) % 15);
}

/* Node i drawn w seconds wide from x (w is its cumulative time, less
 * when clock rounding made its siblings add up to more than the parent). */
static void draw_node(drawing_t *d, int i, double x, double w, int depth)
{
    const rp_flame_node_t *nd = &d->nodes[i];
    const char *file = nd->file ? nd->file : "", *name = nd->name ? nd->name : "";
    double px = w * d->scale, cx, kids_w = 0, factor;
    const char *key, *g;
    int k, chars;

    if (px < 0.5 || depth >= RP_FLAME_MAX_DEPTH || d->rects >= RP_FLAME_MAX_RECTS)
        return;
    d->rects++;
    if (depth + 1 > d->maxdepth)
        d->maxdepth = depth + 1;
    /* Names as every other writer shows them: valid UTF-8 without control
     * characters (a CGI script's file name is taken as it is on disk). */
    key = rp_utf8_clean(d->p, apr_psprintf(d->p, "%s:%d(%s)", file, nd->line, name),
                        NAME_MAX_BYTES);
    if (nd->href) {
        g = apr_psprintf(d->p, "<a href=\"%s\">", rp_xml_escape(d->p, nd->href));
        rp_buf_add(&d->out, g, strlen(g));
    }
    g = apr_psprintf(d->p,
        "<g class=\"frame\"><title>%s\n%" APR_INT64_T_FMT " calls, self %.3f ms, "
        "cumulative %.3f ms (%.1f%%)</title>"
        "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
        "stroke=\"#fff\" stroke-width=\"0.5\"/>",
        rp_xml_escape(d->p, key), (apr_int64_t)nd->calls, nd->self * 1e3, nd->cum * 1e3,
        d->total > 0 ? 100.0 * nd->cum / d->total : 100.0,
        x * d->scale, depth * RP_FLAME_ROW, px, RP_FLAME_ROW - 1,
        colour(d->p, file, name));
    rp_buf_add(&d->out, g, strlen(g));
    /* A label inside the bar when at least three characters fit (7 px
     * each at font-size 11 monospace), cut with ".." when it is longer. */
    chars = (int)(px / 7.0) - 1;
    if (chars >= 3) {
        /* httpd's own nodes by name; a module's entry as "mod_x.c(hook)",
         * a script by its base name: what tells bars of one name apart. */
        const char *base = strrchr(file, '/');
        const char *label = rp_utf8_clean(d->p, strcmp(file, "httpd")
                                          ? apr_psprintf(d->p, "%s(%s)",
                                                         base ? base + 1 : file, name)
                                          : name, NAME_MAX_BYTES);
        const char *t;
        if ((int)strlen(label) > chars) {
            int cut = chars - 2;
            while (cut > 0 && ((unsigned char)label[cut] & 0xC0) == 0x80)
                cut--;
            label = apr_pstrcat(d->p, apr_pstrndup(d->p, label, (apr_size_t)cut), "..",
                                NULL);
        }
        t = apr_psprintf(d->p, "<text x=\"%.2f\" y=\"%d\">%s</text>",
                         x * d->scale + 3, depth * RP_FLAME_ROW + 13,
                         rp_xml_escape(d->p, label));
        rp_buf_add(&d->out, t, strlen(t));
    }
    rp_buf_add(&d->out, "</g>", 4);
    rp_buf_add(&d->out, nd->href ? "</a>\n" : "\n", nd->href ? 5 : 1);

    for (k = d->kid[i]; k >= 0; k = d->sib[k])
        kids_w += d->nodes[k].cum;
    /* Children never spill out of their parent (clock rounding). */
    factor = kids_w > w && kids_w > 0 ? w / kids_w : 1.0;
    cx = x;
    for (k = d->kid[i]; k >= 0; k = d->sib[k]) {
        double cw = d->nodes[k].cum * factor;
        draw_node(d, k, cx, cw, depth + 1);
        cx += cw;
    }
}

const char *rp_flame_tree_svg(const rp_flame_node_t *nodes, int n, int root,
                              double total, apr_pool_t *p)
{
    drawing_t d;
    int i;
    int *last;
    const char *head;

    if (!nodes || n < 1 || root < 0 || root >= n)
        return "<svg class=\"flame\" xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" "
               "height=\"20\"><text x=\"2\" y=\"14\">empty profile</text></svg>";
    memset(&d, 0, sizeof d);
    d.nodes = nodes;
    d.n = n;
    d.p = p;
    d.kid = apr_palloc(p, sizeof(int) * (apr_size_t)n);
    d.sib = apr_palloc(p, sizeof(int) * (apr_size_t)n);
    last = apr_palloc(p, sizeof(int) * (apr_size_t)n);
    for (i = 0; i < n; i++)
        d.kid[i] = d.sib[i] = last[i] = -1;
    /* Children in the order listed (parents come first). */
    for (i = 0; i < n; i++) {
        int pa = nodes[i].parent;
        if (pa < 0 || pa >= i)
            continue;
        if (last[pa] < 0)
            d.kid[pa] = i;
        else
            d.sib[last[pa]] = i;
        last[pa] = i;
    }
    d.total = total > 0 ? total : nodes[root].cum;
    d.scale = nodes[root].cum > 0 ? RP_FLAME_WIDTH / nodes[root].cum : 0;
    rp_buf_init(&d.out, p, 8192);
    if (d.scale > 0)
        draw_node(&d, root, 0, nodes[root].cum, 0);
    rp_buf_add(&d.out, "", 1);
    head = apr_psprintf(p, "<svg class=\"flame\" xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" font-family=\"monospace\" "
                        "font-size=\"11\">\n", RP_FLAME_WIDTH,
                        (d.maxdepth > 0 ? d.maxdepth : 1) * RP_FLAME_ROW);
    return apr_pstrcat(p, head, d.out.data, "</svg>", NULL);
}

/* -------------------------------- unfolding a callers graph into a tree */

typedef struct child {
    int func;
    double ct;
} child_t;

typedef struct unfold {
    const rp_stats_t *st;
    apr_pool_t *p;
    child_t **kids;          /* per function: its callees, in first-met order */
    int *nkids;
    int *onpath;
    rp_flame_node_t *nodes;
    int n, cap;
    const char *href_base;
} unfold_t;

/* Node for function func reached along path (function indexes joined by
 * '.'), w seconds wide; then its callees, scaled down when the function
 * is drawn narrower than its own total (it has several callers). */
static void unfold(unfold_t *u, int func, double w, int parent, const char *path,
                   int depth)
{
    const rp_func_t *f = &u->st->funcs[func];
    rp_flame_node_t *nd;
    double factor;
    int i, me;

    if (u->n >= u->cap || depth >= RP_FLAME_MAX_DEPTH || w <= 0)
        return;
    me = u->n++;
    nd = &u->nodes[me];
    nd->parent = parent;
    nd->file = f->file;
    nd->line = f->line;
    nd->name = f->name;
    nd->cum = w;
    factor = f->ct > 0 && w < f->ct ? w / f->ct : 1.0;
    nd->calls = (int64_t)((double)f->nc * factor + 0.5);
    nd->self = f->tt * factor;
    nd->href = u->href_base ? apr_pstrcat(u->p, u->href_base, path, NULL) : NULL;
    u->onpath[func] = 1;
    for (i = 0; i < u->nkids[func]; i++) {
        const child_t *k = &u->kids[func][i];
        if (u->onpath[k->func])
            continue;                   /* recursion: drawn once, above */
        unfold(u, k->func, k->ct * factor, me,
               apr_psprintf(u->p, "%s.%d", path, k->func), depth + 1);
    }
    u->onpath[func] = 0;
}

const char *rp_flame_svg(const rp_stats_t *st, apr_pool_t *p)
{
    return rp_flame_svg_focus(st, NULL, NULL, p);
}

const char *rp_flame_svg_focus(const rp_stats_t *st, const char *href_base,
                               const char *focus, apr_pool_t *p)
{
    unfold_t u;
    int i, j, root = -1, at = 0;

    if (!st || st->nfuncs < 1)
        return rp_flame_tree_svg(NULL, 0, 0, 0, p);
    memset(&u, 0, sizeof u);
    u.st = st;
    u.p = p;
    u.href_base = href_base;
    u.kids = apr_pcalloc(p, sizeof(child_t *) * (apr_size_t)st->nfuncs);
    u.nkids = apr_pcalloc(p, sizeof(int) * (apr_size_t)st->nfuncs);
    u.onpath = apr_pcalloc(p, sizeof(int) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++)
        for (j = 0; j < st->funcs[i].ncallers; j++) {
            int c = st->funcs[i].callers[j].caller;
            if (c >= 0 && c < st->nfuncs)
                u.nkids[c]++;
        }
    for (i = 0; i < st->nfuncs; i++) {
        u.kids[i] = apr_pcalloc(p, sizeof(child_t) * (apr_size_t)(u.nkids[i] + 1));
        u.nkids[i] = 0;
    }
    for (i = 0; i < st->nfuncs; i++) {
        if (st->funcs[i].ncallers == 0 && root < 0)
            root = i;
        for (j = 0; j < st->funcs[i].ncallers; j++) {
            const rp_edge_t *g = &st->funcs[i].callers[j];
            if (g->caller >= 0 && g->caller < st->nfuncs) {
                child_t *k = &u.kids[g->caller][u.nkids[g->caller]++];
                k->func = i;
                k->ct = g->ct;
            }
        }
    }
    if (root < 0)
        root = 0;
    u.cap = RP_FLAME_MAX_RECTS;
    u.nodes = apr_pcalloc(p, sizeof(rp_flame_node_t) * (apr_size_t)u.cap);
    unfold(&u, root, st->funcs[root].ct, -1, apr_itoa(p, root), 0);
    if (focus && *focus) {
        /* The node whose path is focus: its href ends with it. */
        for (i = 0; i < u.n; i++) {
            const char *h = u.nodes[i].href;
            apr_size_t hl = h ? strlen(h) : 0, fl = strlen(focus);
            if (hl >= fl && !strcmp(h + hl - fl, focus)
                && (hl == fl || h[hl - fl - 1] == '='))
                break;
        }
        at = i < u.n ? i : 0;
    }
    return rp_flame_tree_svg(u.nodes, u.n, at, st->funcs[root].ct, p);
}
