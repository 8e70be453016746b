/*
 * rp_chrome.c - Chrome trace-event writer.
 *
 * Viewers rebuild the call tree from the slices' times alone, so a slice
 * that ends one unit after its parent (rounding) or starts before the
 * previous sibling ended makes speedscope and Perfetto nest it wrongly or
 * refuse it. Times are therefore whole microseconds (a JSON integer below
 * 2^53: ts + dur is exact in the viewer's doubles too), rounded once from
 * the absolute start and end, then clamped: a slice starts no earlier
 * than its parent and than the end of its previous sibling, and ends no
 * later than its parent.
 *
 * A slice that is 0 us long after that is left out (counted in
 * otherData.hidden_events; its time shows as its parent's self time, and
 * is exact in the other formats): speedscope processes an end before a
 * begin of another name at the same time and sorts slices that start
 * together longest first, so a zero-length slice starting with its
 * parent or before a sibling is closed before it opens or nested in the
 * sibling ("Tried to end ..."). Without them every tie is one speedscope
 * resolves right: a child starting with its parent is no longer than it,
 * and a slice starting where its sibling ended comes after that end.
 */
#include <math.h>
#include <string.h>
#include <apr_strings.h>
#include "rp_chrome.h"
#include "rp_outfmt.h"

#define MAX_US 9007199254740991.0    /* 2^53 - 1: exact in a double */
#define MAX_NEST 256                 /* deeper frames hang off this level */

static void meta_event(rp_buf_t *b, const rp_chrome_meta_t *m, const char *what,
                       const char *value)
{
    rp_buf_printf(b, "{\"name\":\"%s\",\"ph\":\"M\",\"ts\":0,\"pid\":%ld,"
                  "\"tid\":%ld,\"args\":{\"name\":", what, m->pid, m->tid);
    rp_buf_json_str(b, value ? value : "");
    rp_buf_add(b, "}}", 2);
}

static int64_t whole_us(double us)
{
    if (!(us > 0))                   /* negative, zero or NaN */
        return 0;
    if (us >= MAX_US)
        return (int64_t)MAX_US;
    return (int64_t)floor(us + 0.5);
}

/* One open slice per nesting level: where it starts and ends, and where
 * its last child ended (the earliest its next child may start). */
typedef struct level {
    int64_t start, end, child_end;
} level_t;

apr_status_t rp_chrome_encode(const rp_stats_t *st, const rp_trace_t *tr,
                              const rp_chrome_meta_t *m, apr_pool_t *p,
                              const char **data, apr_size_t *len)
{
    rp_buf_t b;
    const char **label;
    level_t lv[MAX_NEST + 1];
    int i, top = -1, written = 0, hidden = 0, n = tr ? tr->n : 0;
    int64_t root_floor = 0;

    if (!st || st->nfuncs <= 0 || !m)
        return APR_EINVAL;
    label = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        const char *file = f->file ? f->file : "";
        if (!strcmp(file, "httpd"))
            label[i] = f->name ? f->name : "";
        else if (f->line > 1)
            label[i] = apr_psprintf(p, "%s %s #%d", file, f->name ? f->name : "", f->line);
        else
            label[i] = apr_psprintf(p, "%s %s", file, f->name ? f->name : "");
    }
    rp_buf_init(&b, p, 512 + (apr_size_t)n * 120);
    rp_buf_add(&b, "{\"traceEvents\":[\n", 17);
    meta_event(&b, m, "process_name", m->process_name);
    rp_buf_add(&b, ",\n", 2);
    meta_event(&b, m, "thread_name", m->thread_name);
    for (i = 0; i < n; i++) {
        const rp_trace_ev_t *e = &tr->ev[i];
        int64_t s, t;
        int d;
        if (e->func < 0 || e->func >= st->nfuncs)
            continue;
        /* The level: as logged, but never below a level not open now. */
        d = e->depth < 0 ? 0 : e->depth;
        if (d > top + 1)
            d = top + 1;
        if (d > MAX_NEST)
            d = MAX_NEST;
        s = whole_us(m->origin_us + e->ts);
        t = whole_us(m->origin_us + e->ts + (e->dur > 0 ? e->dur : 0));
        if (d > 0) {
            /* Inside [previous sibling's end, parent's end]; that range is
             * never empty (each end was clamped the same way). */
            int64_t lo = lv[d - 1].child_end, hi = lv[d - 1].end;
            s = s < lo ? lo : s > hi ? hi : s;
            t = t < s ? s : t > hi ? hi : t;
        }
        else {
            if (s < root_floor)
                s = root_floor;
            if (t < s)
                t = s;
            root_floor = t;
        }
        lv[d].start = s;
        lv[d].end = t;
        lv[d].child_end = s;
        if (d > 0)
            lv[d - 1].child_end = t;
        top = d;
        if (t == s && written > 0) {      /* the first (the request) stays */
            hidden++;
            continue;
        }
        rp_buf_add(&b, ",\n{\"name\":", 10);
        rp_buf_json_str(&b, label[e->func]);
        rp_buf_add(&b, ",\"cat\":", 7);
        rp_buf_json_str(&b, st->funcs[e->func].file ? st->funcs[e->func].file : "");
        rp_buf_printf(&b, ",\"ph\":\"X\",\"ts\":%lld,\"dur\":%lld,\"pid\":%ld,\"tid\":%ld}",
                      (long long)s, (long long)(t - s), m->pid, m->tid);
        written++;
    }
    rp_buf_printf(&b, "\n],\n\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":"
                  "\"mod_reqprof\",\"request_start_us\":%lld,\"events\":%d,"
                  "\"hidden_events\":%d,\"dropped_events\":%ld",
                  (long long)whole_us(m->start_epoch_us), written, hidden,
                  tr ? tr->dropped : 0L);
    if (m->trace_id) {
        rp_buf_add(&b, ",\"trace_id\":", 12);
        rp_buf_json_str(&b, m->trace_id);
    }
    if (m->span_id) {
        rp_buf_add(&b, ",\"span_id\":", 11);
        rp_buf_json_str(&b, m->span_id);
    }
    rp_buf_add(&b, "}}\n", 3);
    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}
