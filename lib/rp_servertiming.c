/*
 * rp_servertiming.c - the Server-Timing header's value (see
 * rp_servertiming.h).
 */
#include <string.h>
#include <apr_strings.h>

#include "rp_http.h"
#include "rp_servertiming.h"

typedef struct rp_servertiming_mod {
    const char *file;
    const char *top_hook;      /* the module's hook with the most self time */
    uint64_t top_ticks;
    uint64_t ticks;
} rp_servertiming_mod_t;

struct rp_servertiming {
    rp_servertiming_mod_t *mods;
    int n, cap;
};

const char *rp_servertiming_token(apr_pool_t *p, const char *file)
{
    apr_size_t n = strlen(file);
    char *t, *c;
    if (n > 2 && !strcmp(file + n - 2, ".c"))
        n -= 2;
    t = apr_pstrndup(p, file, n ? n : 1);
    if (!n)
        t[0] = '_';
    for (c = t; *c; c++)
        if (!rp_http_is_tchar((unsigned char)*c))
            *c = '_';
    return t;
}

const char *rp_servertiming_quoted(apr_pool_t *p, const char *s)
{
    char *q = apr_palloc(p, strlen(s) * 2 + 3), *o = q;
    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            continue;
        if (c == '"' || c == '\\')
            *o++ = '\\';
        *o++ = (char)c;
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

rp_servertiming_t *rp_servertiming_make(apr_pool_t *p, int cap)
{
    rp_servertiming_t *t = apr_palloc(p, sizeof *t);
    t->cap = cap > 0 ? cap : 0;
    t->n = 0;
    t->mods = apr_pcalloc(p, sizeof(rp_servertiming_mod_t) * (apr_size_t)(t->cap + 1));
    return t;
}

void rp_servertiming_add(rp_servertiming_t *t, const char *file, const char *hook,
                         uint64_t ticks)
{
    rp_servertiming_mod_t *m;
    int j;
    for (j = 0; j < t->n && strcmp(t->mods[j].file, file); j++)
        ;
    if (j == t->n) {
        if (t->n == t->cap)
            return;
        t->mods[t->n].file = file;
        t->n++;
    }
    m = &t->mods[j];
    m->ticks += ticks;
    if (ticks > m->top_ticks) {
        m->top_ticks = ticks;
        m->top_hook = hook;
    }
}

const char *rp_servertiming_value(apr_pool_t *p, rp_servertiming_t *t, uint64_t total,
                                  double sec_per_tick, int top)
{
    rp_servertiming_mod_t *mods = t->mods;
    char *out = apr_psprintf(p, "total;dur=%.3f", (double)total * sec_per_tick * 1e3);
    int i, j;

    /* Selection of the top entries, in place. */
    for (i = 0; i < top && i < t->n; i++) {
        int best = i;
        rp_servertiming_mod_t tmp;
        for (j = i + 1; j < t->n; j++)
            if (mods[j].ticks > mods[best].ticks)
                best = j;
        tmp = mods[i];
        mods[i] = mods[best];
        mods[best] = tmp;
        out = apr_psprintf(p, "%s, %s;dur=%.3f;desc=%s", out,
                           rp_servertiming_token(p, mods[i].file),
                           (double)mods[i].ticks * sec_per_tick * 1e3,
                           rp_servertiming_quoted(p, mods[i].top_hook
                                                     ? mods[i].top_hook : ""));
    }
    return out;
}
