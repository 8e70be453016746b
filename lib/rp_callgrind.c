/*
 * rp_callgrind.c - callgrind writer. The callers graph maps straight onto
 * callgrind's call lines: the edge caller -> callee gives the call count
 * and the inclusive cost, written in the caller's block.
 */
#include <math.h>
#include <string.h>
#include <apr_strings.h>
#include "rp_callgrind.h"
#include "rp_outfmt.h"
#include "rp_text.h"

static unsigned long long ns(double s)
{
    double v = floor(s * 1e9 + 0.5);
    return v > 0 ? (unsigned long long)v : 0ULL;
}

/* File and function names go on "fl=" and "fn=" lines unquoted: no
 * newline may be in them (rp_utf8_clean made control characters '?'), and
 * a leading '(' would read as a compressed-name reference. */
static const char *safe_name(apr_pool_t *p, const char *s)
{
    const char *c = rp_utf8_clean(p, s, 1024);
    return *c == '(' ? apr_pstrcat(p, " ", c, NULL) : *c ? c : "?";
}

/* callgrind_annotate prints a function as "FILE:FN" and opens FILE as
 * source, KCachegrind shows FN with FILE as its location. So a module
 * entry is fl=mod_cgid.c fn=1(handler) (read together as the pstats name,
 * once), httpd's own nodes fl=httpd fn=handler, and an entry whose file
 * is a path (a CGI script, a module built with a full __FILE__) is
 * fl=??? (valgrind's "unknown", never opened) with the whole pstats name
 * as fn, so the path is part of a name and never a file to annotate. */
static void split_name(apr_pool_t *p, const rp_func_t *f, const char **fl,
                       const char **fn)
{
    const char *file = f->file ? f->file : "";
    if (!strcmp(file, "httpd")) {
        *fl = "httpd";
        *fn = safe_name(p, f->name ? f->name : "");
    }
    else if (*file && !strchr(file, '/') && strcmp(file, "???")) {
        *fl = safe_name(p, file);
        *fn = safe_name(p, apr_psprintf(p, "%d(%s)", f->line, f->name ? f->name : ""));
    }
    else {
        *fl = "???";
        *fn = safe_name(p, rp_func_display(p, f));
    }
}

apr_status_t rp_callgrind_encode(const rp_stats_t *st, const rp_callgrind_meta_t *m,
                                 apr_pool_t *p, const char **data, apr_size_t *len)
{
    rp_buf_t b;
    const char **file, **name;
    double total = 0;
    int i, j;

    if (!st || st->nfuncs <= 0)
        return APR_EINVAL;
    file = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    name = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        split_name(p, &st->funcs[i], &file[i], &name[i]);
        total += st->funcs[i].tt;
    }
    rp_buf_init(&b, p, 8192);
    rp_buf_printf(&b, "# callgrind format\nversion: 1\ncreator: mod_reqprof\n"
                  "pid: %ld\ncmd: %s\npart: 1\n\npositions: line\nevents: ns\n"
                  "summary: %llu\n\n", m ? m->pid : 0L,
                  safe_name(p, m && m->cmd ? m->cmd : "request"), ns(total));
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        rp_buf_printf(&b, "fl=%s\nfn=%s\n%d %llu\n", file[i], name[i],
                      f->line > 0 ? f->line : 0, ns(f->tt));
        /* The calls this function made: edges where it is the caller. */
        for (j = 0; j < st->nfuncs; j++) {
            const rp_func_t *g = &st->funcs[j];
            int k;
            for (k = 0; k < g->ncallers; k++) {
                const rp_edge_t *e = &g->callers[k];
                if (e->caller != i)
                    continue;
                rp_buf_printf(&b, "cfl=%s\ncfn=%s\ncalls=%lld %d\n%d %llu\n",
                              file[j], name[j], (long long)e->nc,
                              g->line > 0 ? g->line : 0,
                              f->line > 0 ? f->line : 0, ns(e->ct));
            }
        }
        rp_buf_add(&b, "\n", 1);
    }
    rp_buf_printf(&b, "totals: %llu\n", ns(total));
    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}
