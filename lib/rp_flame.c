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

typedef struct child {
    int func;
    double ct;
} child_t;

typedef struct flame {
    const rp_stats_t *st;
    apr_pool_t *p;
    rp_buf_t out;
    child_t **kids;          /* per function: its callees, in first-met order */
    int *nkids;
    int *onpath;
    double scale;            /* px per second */
    int rects, maxdepth;
} flame_t;

/* Phases and requests (httpd:0) in blues and greys, modules in warm
 * colours picked from their file name, so one module keeps its colour. */
static const char *colour(apr_pool_t *p, const rp_func_t *f)
{
    unsigned h = 5381;
    const char *c;
    if (!strcmp(f->file, "httpd"))
        return !strncmp(f->name, "request ", 8) || !strncmp(f->name, "subrequest ", 11)
               || !strncmp(f->name, "redirect ", 9) ? "#9db3c9" : "#b8c9dc";
    for (c = f->file; *c; c++)
        h = h * 33 + (unsigned char)*c;
    return apr_psprintf(p, "hsl(%u,75%%,%u%%)", 10 + h % 45, 55 + (h / 45) % 15);
}

static void draw(flame_t *fl, int func, double x, double w, int depth, double root_ct)
{
    const rp_func_t *f = &fl->st->funcs[func];
    double px = w * fl->scale, cx, factor;
    const char *key;
    int i, chars;

    if (px < 0.5 || depth >= RP_FLAME_MAX_DEPTH || fl->rects >= RP_FLAME_MAX_RECTS)
        return;
    fl->rects++;
    if (depth + 1 > fl->maxdepth)
        fl->maxdepth = depth + 1;
    /* Names as every other writer shows them: valid UTF-8 without control
     * characters (a CGI script's file name is taken as it is on disk). */
    key = rp_utf8_clean(fl->p, apr_psprintf(fl->p, "%s:%d(%s)", f->file, f->line,
                                            f->name), NAME_MAX_BYTES);
    {
        const char *g = apr_psprintf(fl->p,
            "<g class=\"frame\"><title>%s %.3f ms (%.1f%%)</title>"
            "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\" "
            "stroke=\"#fff\" stroke-width=\"0.5\"/>",
            rp_xml_escape(fl->p, key), w * 1e3,
            root_ct > 0 ? 100.0 * w / root_ct : 100.0,
            x * fl->scale, depth * RP_FLAME_ROW, px, RP_FLAME_ROW - 1,
            colour(fl->p, f));
        rp_buf_add(&fl->out, g, strlen(g));
    }
    chars = (int)(px / 7.0) - 1;
    if (chars >= 3) {
        const char *label = rp_utf8_clean(fl->p, f->name, NAME_MAX_BYTES);
        const char *t;
        if ((int)strlen(label) > chars) {
            /* Cut on a character boundary. */
            int n = chars - 2;
            while (n > 0 && ((unsigned char)label[n] & 0xC0) == 0x80)
                n--;
            label = apr_pstrcat(fl->p, apr_pstrndup(fl->p, label, (apr_size_t)n), "..",
                                NULL);
        }
        t = apr_psprintf(fl->p, "<text x=\"%.2f\" y=\"%d\">%s</text>",
                         x * fl->scale + 3, depth * RP_FLAME_ROW + 13,
                         rp_xml_escape(fl->p, label));
        rp_buf_add(&fl->out, t, strlen(t));
    }
    rp_buf_add(&fl->out, "</g>\n", 5);

    fl->onpath[func] = 1;
    factor = f->ct > 0 && w < f->ct ? w / f->ct : 1.0;
    cx = x;
    for (i = 0; i < fl->nkids[func]; i++) {
        const child_t *k = &fl->kids[func][i];
        double cw = k->ct * factor;
        if (fl->onpath[k->func])
            continue;                   /* recursion: drawn once, above */
        if (cx + cw > x + w)
            cw = x + w - cx;
        draw(fl, k->func, cx, cw, depth + 1, root_ct);
        cx += cw;
    }
    fl->onpath[func] = 0;
}

const char *rp_flame_svg(const rp_stats_t *st, apr_pool_t *p)
{
    flame_t fl;
    int i, j, root = -1;
    const char *head;

    if (!st || st->nfuncs < 1)
        return "<svg class=\"flame\" xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" "
               "height=\"20\"><text x=\"2\" y=\"14\">empty profile</text></svg>";
    memset(&fl, 0, sizeof fl);
    fl.st = st;
    fl.p = p;
    fl.kids = apr_pcalloc(p, sizeof(child_t *) * (apr_size_t)st->nfuncs);
    fl.nkids = apr_pcalloc(p, sizeof(int) * (apr_size_t)st->nfuncs);
    fl.onpath = apr_pcalloc(p, sizeof(int) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++)
        for (j = 0; j < st->funcs[i].ncallers; j++) {
            int c = st->funcs[i].callers[j].caller;
            if (c >= 0 && c < st->nfuncs)
                fl.nkids[c]++;
        }
    for (i = 0; i < st->nfuncs; i++) {
        fl.kids[i] = apr_pcalloc(p, sizeof(child_t) * (apr_size_t)(fl.nkids[i] + 1));
        fl.nkids[i] = 0;
    }
    for (i = 0; i < st->nfuncs; i++) {
        if (st->funcs[i].ncallers == 0 && root < 0)
            root = i;
        for (j = 0; j < st->funcs[i].ncallers; j++) {
            const rp_edge_t *g = &st->funcs[i].callers[j];
            if (g->caller >= 0 && g->caller < st->nfuncs) {
                child_t *k = &fl.kids[g->caller][fl.nkids[g->caller]++];
                k->func = i;
                k->ct = g->ct;
            }
        }
    }
    if (root < 0)
        root = 0;
    fl.scale = st->funcs[root].ct > 0 ? RP_FLAME_WIDTH / st->funcs[root].ct : 0;
    rp_buf_init(&fl.out, p, 8192);
    if (fl.scale > 0)
        draw(&fl, root, 0, st->funcs[root].ct, 0, st->funcs[root].ct);
    rp_buf_add(&fl.out, "", 1);
    head = apr_psprintf(p, "<svg class=\"flame\" xmlns=\"http://www.w3.org/2000/svg\" "
                        "width=\"%d\" height=\"%d\" font-family=\"monospace\" "
                        "font-size=\"11\">\n", RP_FLAME_WIDTH,
                        (fl.maxdepth > 0 ? fl.maxdepth : 1) * RP_FLAME_ROW);
    return apr_pstrcat(p, head, fl.out.data, "</svg>", NULL);
}
