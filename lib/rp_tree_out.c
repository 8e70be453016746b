/*
 * rp_tree_out.c - the aggregate call tree as pstats, folded stacks, pprof
 * and an SVG icicle (see rp_tree_out.h).
 */
#include <math.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include "rp_flame.h"
#include "rp_outfmt.h"
#include "rp_pprof.h"
#include "rp_pstats.h"
#include "rp_tree_out.h"

/* Whether an ancestor of node i (strictly above it) has function f, and
 * when g >= 0, whether an ancestor edge is (g -> f). */
static int above(const rp_tree_snap_t *s, int i, int f, int g)
{
    int a = s->nodes[i].parent;
    while (a >= 0) {
        if (s->nodes[a].func == f) {
            if (g < 0)
                return 1;
            if (s->nodes[a].parent >= 0 && s->nodes[s->nodes[a].parent].func == g)
                return 1;
        }
        a = s->nodes[a].parent;
    }
    return 0;
}

rp_stats_t *rp_tree_stats(const rp_tree_snap_t *s, apr_pool_t *p)
{
    rp_stats_t *st;
    int *local, i, nedges = 0;
    apr_hash_t *edges = apr_hash_make(p);
    int *ecount;

    if (!s || s->nnodes < 1)
        return NULL;
    st = apr_pcalloc(p, sizeof *st);
    local = apr_palloc(p, sizeof(int) * (apr_size_t)(s->nfuncs + 1));
    for (i = 0; i < s->nfuncs; i++)
        local[i] = -1;
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)(s->nfuncs + 1));
    ecount = apr_pcalloc(p, sizeof(int) * (apr_size_t)(s->nfuncs + 1));
    /* Functions in the order first met (the root first). */
    for (i = 0; i < s->nnodes; i++) {
        const rp_tree_node_t *nd = &s->nodes[i];
        rp_func_t *f;
        int fi = nd->func;
        if (local[fi] < 0) {
            local[fi] = st->nfuncs++;
            f = &st->funcs[local[fi]];
            f->file = s->funcs[fi].file ? s->funcs[fi].file : "httpd";
            f->line = s->funcs[fi].line;
            f->name = s->funcs[fi].name ? s->funcs[fi].name : "?";
        }
        f = &st->funcs[local[fi]];
        f->nc += (int64_t)nd->calls;
        f->tt += (double)nd->self_ns / 1e9;
        if (!above(s, i, fi, -1)) {
            f->cc += (int64_t)nd->calls;
            f->ct += (double)nd->cum_ns / 1e9;
        }
        if (nd->parent >= 0) {
            int key[2];
            key[0] = local[s->nodes[nd->parent].func];
            key[1] = local[fi];
            if (!apr_hash_get(edges, key, sizeof key)) {
                apr_hash_set(edges, apr_pmemdup(p, key, sizeof key), sizeof key, "");
                ecount[local[fi]]++;
                nedges++;
            }
        }
    }
    /* Each function's slice of caller edges, then fill them. */
    {
        rp_edge_t *all = apr_pcalloc(p, sizeof(rp_edge_t) * (apr_size_t)(nedges + 1));
        for (i = 0; i < st->nfuncs; i++) {
            st->funcs[i].callers = all;
            all += ecount[i];
        }
    }
    for (i = 0; i < s->nnodes; i++) {
        const rp_tree_node_t *nd = &s->nodes[i];
        rp_func_t *f = &st->funcs[local[nd->func]];
        rp_edge_t *e;
        int j, caller, pf;
        if (nd->parent < 0)
            continue;
        pf = s->nodes[nd->parent].func;
        caller = local[pf];
        for (j = 0; j < f->ncallers; j++)
            if (f->callers[j].caller == caller)
                break;
        e = &f->callers[j];
        if (j == f->ncallers) {
            f->ncallers++;
            e->caller = caller;
        }
        e->nc += (int64_t)nd->calls;
        e->tt += (double)nd->self_ns / 1e9;
        if (!above(s, i, nd->func, pf)) {
            e->cc += (int64_t)nd->calls;
            e->ct += (double)nd->cum_ns / 1e9;
        }
    }
    return st;
}

/* A node's display name, as the per-request writers name functions. */
static const char *display(apr_pool_t *p, const rp_tree_snap_t *s, int i)
{
    rp_func_t f;
    const rp_tree_fn_t *fn = &s->funcs[s->nodes[i].func];
    memset(&f, 0, sizeof f);
    f.file = fn->file ? fn->file : "httpd";
    f.line = fn->line;
    f.name = fn->name ? fn->name : "?";
    return rp_func_display(p, &f);
}

apr_status_t rp_tree_collapsed(const rp_tree_snap_t *s, apr_pool_t *p,
                               const char **data, apr_size_t *len)
{
    const char **path;
    rp_buf_t b;
    int i;

    if (!s || s->nnodes < 1)
        return APR_EINVAL;
    path = apr_palloc(p, sizeof(char *) * (apr_size_t)s->nnodes);
    rp_buf_init(&b, p, 4096);
    for (i = 0; i < s->nnodes; i++) {
        const rp_tree_node_t *nd = &s->nodes[i];
        char *name = apr_pstrdup(p, display(p, s, i)), *c;
        double us = floor((double)nd->self_ns / 1e3 + 0.5);
        for (c = name; *c; c++)
            if (*c == ';')
                *c = ':';
        path[i] = nd->parent >= 0 ? apr_pstrcat(p, path[nd->parent], ";", name, NULL)
                                  : name;
        if (us < 1 && i > 0)
            continue;
        rp_buf_add(&b, path[i], strlen(path[i]));
        rp_buf_printf(&b, " %.0f\n", us);
    }
    rp_buf_add(&b, "", 1);          /* NUL-terminated too, not counted */
    *data = b.data;
    *len = b.len - 1;
    return APR_SUCCESS;
}

apr_status_t rp_tree_pprof(const rp_tree_snap_t *s, int64_t time_nanos,
                           int64_t duration_nanos, apr_pool_t *p,
                           const char **data, apr_size_t *len)
{
    rp_pprof_t *pp;
    uint64_t *loc, *stack;
    int *depth, i;

    if (!s)
        return APR_EINVAL;      /* an empty tree is an empty profile */
    pp = rp_pprof_create(p);
    loc = apr_palloc(p, sizeof(uint64_t) * (apr_size_t)(s->nnodes + 1));
    depth = apr_palloc(p, sizeof(int) * (apr_size_t)(s->nnodes + 1));
    stack = apr_palloc(p, sizeof(uint64_t) * (apr_size_t)(s->nnodes + 1));
    for (i = 0; i < s->nnodes; i++) {
        const rp_tree_node_t *nd = &s->nodes[i];
        const rp_tree_fn_t *fn = &s->funcs[nd->func];
        int a, d;
        loc[i] = rp_pprof_location(pp, display(p, s, i), fn->file ? fn->file : "httpd",
                                   fn->line);
        depth[i] = nd->parent >= 0 ? depth[nd->parent] + 1 : 0;
        for (a = i, d = depth[i]; a >= 0 && d >= 0; a = s->nodes[a].parent, d--)
            stack[d] = loc[a];
        rp_pprof_add(pp, stack, depth[i] + 1, (int64_t)nd->calls, (int64_t)nd->self_ns,
                     NULL);
    }
    rp_pprof_comment(pp, "mod_reqprof: aggregate call tree of all traffic");
    return rp_pprof_encode(pp, time_nanos, duration_nanos, p, data, len);
}

const char *rp_tree_flame(const rp_tree_snap_t *s, const char *focus,
                          const char *href_base, apr_pool_t *p)
{
    rp_flame_node_t *nodes;
    const char **path;
    int i, at;

    if (!s || s->nnodes < 1)
        return rp_flame_tree_svg(NULL, 0, 0, 0, p);
    nodes = apr_pcalloc(p, sizeof(rp_flame_node_t) * (apr_size_t)s->nnodes);
    path = apr_palloc(p, sizeof(char *) * (apr_size_t)s->nnodes);
    for (i = 0; i < s->nnodes; i++) {
        const rp_tree_node_t *nd = &s->nodes[i];
        const rp_tree_fn_t *fn = &s->funcs[nd->func];
        const char *id = apr_itoa(p, nd->func);
        path[i] = nd->parent >= 0 ? apr_pstrcat(p, path[nd->parent], ".", id, NULL) : id;
        nodes[i].parent = nd->parent;
        nodes[i].file = fn->file ? fn->file : "httpd";
        nodes[i].line = fn->line;
        nodes[i].name = fn->name ? fn->name : "?";
        nodes[i].calls = (int64_t)nd->calls;
        nodes[i].self = (double)nd->self_ns / 1e9;
        nodes[i].cum = (double)nd->cum_ns / 1e9;
        nodes[i].href = href_base ? apr_pstrcat(p, href_base, path[i], NULL) : NULL;
    }
    at = rp_tree_find(s, focus);
    return rp_flame_tree_svg(nodes, s->nnodes, at >= 0 ? at : 0,
                             (double)s->nodes[0].cum_ns / 1e9, p);
}
