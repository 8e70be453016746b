/*
 * mod_asan_canary.c - test-only module, built with the same sanitizers as
 * the ASan build of mod_reqprof (make asan-module). Its handler
 * "asan-canary" commits one bug on purpose: `?ubsan` a signed integer
 * overflow (UBSan reports and goes on), `?asan` a heap-buffer-overflow read
 * (ASan reports and the process exits). tests/integration/test_asan.py
 * requests both last, after counting zero reports, to prove that the
 * sanitizers are live in that very server and that their reports reach the
 * files the test reads: a run that finds nothing proves nothing otherwise.
 * Built by the integration tests; never installed.
 */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

static int canary_handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "asan-canary") != 0)
        return DECLINED;
    ap_set_content_type(r, "text/plain");
    if (r->args && !strcmp(r->args, "ubsan")) {
        volatile int big = 0x7fffffff;
        int sum = big + (int)r->method_number + 1;      /* overflows */
        ap_rprintf(r, "ubsan canary %d\n", sum);
    }
    else if (r->args && !strcmp(r->args, "asan")) {
        volatile char *buf = malloc(16);
        volatile size_t at = 16;
        char c = buf[at];                               /* one past the end */
        free((void *)buf);
        ap_rprintf(r, "asan canary %d\n", c);
    }
    else
        ap_rputs("no canary\n", r);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_handler(canary_handler, NULL, NULL, APR_HOOK_FIRST);
}

AP_DECLARE_MODULE(asan_canary) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks, 0
};
