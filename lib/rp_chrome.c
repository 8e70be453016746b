/*
 * rp_chrome.c - Chrome trace-event writer.
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_chrome.h"
#include "rp_outfmt.h"

static void meta_event(rp_buf_t *b, const rp_chrome_meta_t *m, const char *what,
                       const char *value)
{
    rp_buf_printf(b, "{\"name\":\"%s\",\"ph\":\"M\",\"ts\":0,\"pid\":%ld,"
                  "\"tid\":%ld,\"args\":{\"name\":", what, m->pid, m->tid);
    rp_buf_json_str(b, value ? value : "");
    rp_buf_add(b, "}},\n", 4);
}

apr_status_t rp_chrome_encode(const rp_stats_t *st, const rp_trace_t *tr,
                              const rp_chrome_meta_t *m, apr_pool_t *p,
                              const char **data, apr_size_t *len)
{
    rp_buf_t b;
    const char **label, **key;
    int i, n = tr ? tr->n : 0;

    if (!st || st->nfuncs <= 0 || !m)
        return APR_EINVAL;
    label = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    key = apr_palloc(p, sizeof(char *) * (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        const char *file = f->file ? f->file : "";
        key[i] = apr_psprintf(p, "%s:%d(%s)", file, f->line, f->name ? f->name : "");
        if (!strcmp(file, "httpd"))
            label[i] = f->name ? f->name : "";
        else if (f->line > 1)
            label[i] = apr_psprintf(p, "%s %s #%d", file, f->name ? f->name : "", f->line);
        else
            label[i] = apr_psprintf(p, "%s %s", file, f->name ? f->name : "");
    }
    rp_buf_init(&b, p, 256 + (apr_size_t)n * 160);
    rp_buf_add(&b, "{\"traceEvents\":[\n", 17);
    meta_event(&b, m, "process_name", m->process_name);
    meta_event(&b, m, "thread_name", m->thread_name);
    for (i = 0; i < n; i++) {
        const rp_trace_ev_t *e = &tr->ev[i];
        if (e->func < 0 || e->func >= st->nfuncs)
            continue;
        rp_buf_add(&b, "{\"name\":", 8);
        rp_buf_json_str(&b, label[e->func]);
        rp_buf_add(&b, ",\"cat\":", 7);
        rp_buf_json_str(&b, st->funcs[e->func].file ? st->funcs[e->func].file : "");
        rp_buf_printf(&b, ",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%ld,"
                      "\"tid\":%ld,\"args\":{\"function\":",
                      m->origin_us + e->ts, e->dur, m->pid, m->tid);
        rp_buf_json_str(&b, key[e->func]);
        rp_buf_printf(&b, ",\"depth\":%d}},\n", e->depth);
    }
    /* The last element carries no trailing comma: close with a summary
     * instant event on the root's start. */
    rp_buf_printf(&b, "{\"name\":\"reqprof\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,"
                  "\"pid\":%ld,\"tid\":%ld,\"args\":{\"events\":%d,"
                  "\"dropped_events\":%ld}}\n", m->origin_us, m->pid, m->tid, n,
                  tr ? tr->dropped : 0L);
    rp_buf_printf(&b, "],\n\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":"
                  "\"mod_reqprof\",\"request_start_us\":\"%.0f\","
                  "\"dropped_events\":\"%ld\"}}\n",
                  m->start_epoch_us, tr ? tr->dropped : 0L);
    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}
