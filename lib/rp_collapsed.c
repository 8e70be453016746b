/*
 * rp_collapsed.c - folded stacks from the callers graph: a depth-first
 * walk from the root along reversed caller edges.
 */
#include <math.h>
#include <string.h>
#include <apr_strings.h>
#include "rp_collapsed.h"
#include "rp_outfmt.h"

#define MAX_DEPTH 128
#define MAX_LINES 100000      /* a bound for pathological graphs */

typedef struct walk {
    const rp_stats_t *st;
    const char **names;
    rp_callee_t *kids;
    int *first;               /* per function: head of its children list */
    char *onpath;
    rp_buf_t *out;
    int lines;
    const char *path[MAX_DEPTH];
} walk_t;

static void emit(walk_t *w, int depth, double self_s, int always)
{
    double us = floor(self_s * 1e6 + 0.5);
    int i;
    if ((us < 1 && !always) || w->lines >= MAX_LINES)
        return;
    for (i = 0; i < depth; i++) {
        if (i)
            rp_buf_add(w->out, ";", 1);
        rp_buf_add(w->out, w->path[i], strlen(w->path[i]));
    }
    rp_buf_printf(w->out, " %.0f\n", us < 0 ? 0.0 : us);
    w->lines++;
}

/* fn is reached on the current path, which accounts for `share` of fn's
 * cumulative time; self_s is fn's self time on the path. */
static void walk_share(walk_t *w, int fn, int depth, double share, double self_s)
{
    int k;

    w->path[depth] = w->names[fn];
    emit(w, depth + 1, self_s, depth == 0);
    if (depth + 1 >= MAX_DEPTH)
        return;
    w->onpath[fn] = 1;
    for (k = w->first[fn]; k >= 0; k = w->kids[k].next) {
        const rp_callee_t *c = &w->kids[k];
        const rp_func_t *cf = &w->st->funcs[c->callee];
        double on_path = c->edge->ct * share;        /* callee time here */
        double cshare = cf->ct > 0 ? on_path / cf->ct : 0.0;
        if (w->onpath[c->callee])
            continue;
        /* The callee's own time on this edge, scaled like the edge. */
        walk_share(w, c->callee, depth + 1, cshare > 1 ? 1 : cshare,
                   c->edge->tt * share);
    }
    w->onpath[fn] = 0;
}

apr_status_t rp_collapsed_encode(const rp_stats_t *st, apr_pool_t *p,
                                 const char **data, apr_size_t *len)
{
    walk_t w;
    rp_buf_t b;
    int i, root;

    if (!st || st->nfuncs <= 0)
        return APR_EINVAL;
    memset(&w, 0, sizeof w);
    w.st = st;
    w.names = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    w.onpath = apr_pcalloc(p, (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        char *n = apr_pstrdup(p, rp_func_display(p, &st->funcs[i])), *c;
        for (c = n; *c; c++)
            if (*c == ';')
                *c = ':';
        w.names[i] = n;
    }
    root = rp_callees(st, p, &w.first, &w.kids);
    rp_buf_init(&b, p, 4096);
    w.out = &b;
    walk_share(&w, root, 0, 1.0, st->funcs[root].tt);
    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}
