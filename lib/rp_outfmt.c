/*
 * rp_outfmt.c - formatted appends and function names for the text writers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <apr_strings.h>
#include "rp_outfmt.h"
#include "rp_text.h"

/* Function names are cut here: readable, and a bound on line length. */
#define NAME_MAX_BYTES 1024

void rp_buf_printf(rp_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((apr_size_t)n < sizeof small) {
        rp_buf_add(b, small, (apr_size_t)n);
        return;
    }
    {
        char *big = apr_palloc(b->pool, (apr_size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(big, (apr_size_t)n + 1, fmt, ap);
        va_end(ap);
        rp_buf_add(b, big, (apr_size_t)n);
    }
}

void rp_buf_json_str(rp_buf_t *b, const char *s)
{
    const char *c = s ? s : "", *run = c;
    apr_size_t kept = 0;        /* bytes of text so far (U+FFFD counts 3) */

    rp_buf_add(b, "\"", 1);
    while (*c) {
        unsigned char u = (unsigned char)*c;
        unsigned cp = u;
        apr_size_t n = u < 0x80 ? 1 : rp_utf8_next(c, &cp);
        apr_size_t width = cp == RP_UTF8_BAD ? 3 : n;
        const char *esc = NULL;
        char hex[8];

        if (kept + width > RP_JSON_STR_MAX)
            break;              /* before the character, never inside */
        kept += width;
        if (cp == RP_UTF8_BAD)
            esc = "\xEF\xBF\xBD";
        else if (u == '"')
            esc = "\\\"";
        else if (u == '\\')
            esc = "\\\\";
        else if (u < 0x20 || u == 0x7f || u == '<' || u == '>' || u == '&') {
            snprintf(hex, sizeof hex, "\\u%04x", u);
            esc = hex;
        }
        if (esc) {
            rp_buf_add(b, run, (apr_size_t)(c - run));
            rp_buf_add(b, esc, strlen(esc));
            run = c + n;
        }
        c += n;
    }
    rp_buf_add(b, run, (apr_size_t)(c - run));
    rp_buf_add(b, "\"", 1);
}

const char *rp_func_display(apr_pool_t *p, const rp_func_t *f)
{
    const char *file = f->file ? f->file : "";
    const char *name = f->name ? f->name : "";
    if (!strcmp(file, "httpd"))
        return rp_utf8_clean(p, name, NAME_MAX_BYTES);
    return rp_utf8_clean(p, apr_psprintf(p, "%s:%d(%s)", file, f->line, name),
                         NAME_MAX_BYTES);
}

int rp_callees(const rp_stats_t *st, apr_pool_t *p, int **first, rp_callee_t **kids)
{
    int i, j, nk = 0, root = -1;
    int *fi = apr_palloc(p, sizeof(int) * (apr_size_t)st->nfuncs);
    rp_callee_t *k;

    for (i = 0; i < st->nfuncs; i++) {
        fi[i] = -1;
        nk += st->funcs[i].ncallers;
        if (root < 0 && st->funcs[i].ncallers == 0)
            root = i;
    }
    k = apr_palloc(p, sizeof(rp_callee_t) * (apr_size_t)(nk + 1));
    nk = 0;
    /* Backwards, each pushed on its parent's list: the lists read forwards. */
    for (i = st->nfuncs - 1; i >= 0; i--) {
        const rp_func_t *f = &st->funcs[i];
        for (j = f->ncallers - 1; j >= 0; j--) {
            int caller = f->callers[j].caller;
            if (caller < 0 || caller >= st->nfuncs)
                continue;
            k[nk].callee = i;
            k[nk].edge = &f->callers[j];
            k[nk].next = fi[caller];
            fi[caller] = nk++;
        }
    }
    *first = fi;
    *kids = k;
    return root < 0 ? 0 : root;
}
