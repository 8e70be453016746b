/*
 * mod_reqprof.c - deterministic request profiler for Apache httpd 2.4.
 *
 * The module record, the directive table, and each unit's pre_config,
 * post_config, child_init and hook registration, called from here and
 * nowhere else. The work lives in layers (docs/internals, "Files"; make
 * check-layers), each unit using only those below it:
 *   reqprof_config.c    directives, merging, ProfileDir checks
 *   reqprof_controls.c  sampling, triggers, ProfileMinDuration
 *   reqprof_state.c     per-request state, its free list, request ids
 *   reqprof_tramp.h/.c  the timed call; the wrapping all timers share
 *   reqprof_cgi.c       CGI runs: wall time, CPU time, exit status
 *   reqprof_filters.c   timing output and input filters
 *   reqprof_proxy.c     timing mod_proxy's hooks and backend calls
 *   reqprof_wrap.c      timing every module's hook entries; selftime
 *   reqprof_retain.c    ProfileMaxFiles, ProfileMaxDirSize
 *   reqprof_output.c    the files of each ProfileFormat
 *   reqprof_tree.c      the aggregate call tree of all traffic
 *   reqprof_status*.c   the status page: shared aggregates and its formats
 *   reqprof_timing.c    the Server-Timing header
 *   reqprof_request.c   the end of a request: counts, files, report
 *   lib/                APR-only: profile accounting, file formats,
 *                       report, file names, atomic file writes, ...
 * See README for what each directive does and how to read a profile.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"
#include "http_protocol.h"

#include <stdlib.h>
#include "rp_clock.h"
#include "rp_window.h"
#include "reqprof_batch.h"
#include "reqprof_cgi.h"
#include "reqprof_config.h"
#include "reqprof_controls.h"
#include "reqprof_filters.h"
#include "reqprof_output.h"
#include "reqprof_proxy.h"
#include "reqprof_request.h"
#include "reqprof_state.h"
#include "reqprof_wrap.h"
#include "reqprof_status.h"
#include "reqprof_timing.h"
#include "reqprof_tramp.h"
#include "reqprof_tree.h"
#include "mod_status.h"

static const command_rec reqprof_cmds[] = {
    AP_INIT_TAKE1("ProfileEngine", reqprof_set_engine, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "On|Off: profile requests in this scope (default Off)"),
    AP_INIT_TAKE1("ProfileDir", reqprof_set_dir, NULL, RSRC_CONF,
                  "directory for one pstats file per profiled request "
                  "(created at startup; unset: no files)"),
    AP_INIT_TAKE1("ProfileFilenameFormat", reqprof_set_fname, NULL, RSRC_CONF,
                  "file name template, default "
                  "{method}.{path}.{elapsed:.0f}ms.{time:.0f}.prof"),
    AP_INIT_TAKE1("ProfileErrorLog", reqprof_set_errorlog, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "On|Off: write a pstats report of each profiled request "
                  "to the error log (default Off)"),
    AP_INIT_RAW_ARGS("ProfileSortBy", reqprof_set_sort, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "pstats sort keys for the report (default: time calls)"),
    AP_INIT_RAW_ARGS("ProfileRestrict", reqprof_set_restrict, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "pstats restrictions for the report: a count, a fraction "
                     "or a regex, applied in order"),
    AP_INIT_TAKE1("ProfileTimeUnit", reqprof_set_unit, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "s|ms|us: unit of the report's times (default ms)"),
    /* production controls (reqprof_controls.c, reqprof_output.c) */
    AP_INIT_TAKE1("ProfileMinDuration", reqprof_set_min_duration, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "TIME (250ms, 1s, 500us): only requests at least this slow "
                  "write files and error-log reports (default 0)"),
    AP_INIT_TAKE1("ProfileSampleRate", reqprof_set_sample_rate, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "RATE (0.01 or 1%): fraction of requests profiled (default 1)"),
    AP_INIT_RAW_ARGS("ProfileTrigger", reqprof_set_trigger, NULL, RSRC_CONF,
                     "header NAME TOKEN | cookie NAME TOKEN | env VAR | traceparent: "
                     "profile requests that carry the token, have VAR set or a "
                     "sampled W3C traceparent"),
    AP_INIT_RAW_ARGS("ProfileFormat", reqprof_set_format, NULL, RSRC_CONF,
                     "pstats|callgrind|chrome|collapsed|pprof ...: files each "
                     "profiled request writes (default pstats)"),
    AP_INIT_TAKE1("ProfileServerTiming", reqprof_set_server_timing, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "On|Off: add a Server-Timing response header (default Off)"),
    AP_INIT_TAKE1("ProfileMaxFiles", reqprof_set_max_files, NULL, RSRC_CONF,
                  "N: keep at most N files in ProfileDir, oldest removed first"),
    AP_INIT_TAKE1("ProfileMaxDirSize", reqprof_set_max_dir_size, NULL, RSRC_CONF,
                  "SIZE (100M): keep ProfileDir's files under SIZE bytes, "
                  "oldest removed first"),
    AP_INIT_TAKE1("ProfileStatusURLs", reqprof_set_status_urls, NULL, RSRC_CONF,
                  "URL paths the status page keeps (default 512)"),
    AP_INIT_TAKE1("ProfileStatusSlowest", reqprof_set_status_slowest, NULL, RSRC_CONF,
                  "slowest recent requests the status page keeps (default 16)"),
    AP_INIT_TAKE1("ProfileStatusFile", reqprof_set_status_file, NULL, RSRC_CONF,
                  "a file that keeps the status page's counts across a stop and start"),
    AP_INIT_TAKE1("ProfileAggregateNodes", reqprof_set_agg_nodes, NULL, RSRC_CONF,
                  "nodes of the aggregate call tree of all traffic (default 4096, "
                  "0: off)"),
    AP_INIT_TAKE1("ProfileStatusFlush", reqprof_set_status_flush, NULL, RSRC_CONF,
                  "how long function counts may wait before the status page and "
                  "the aggregate tree show them (default 1s, 0: every request)"),
    AP_INIT_TAKE1("ProfileWriteThread", reqprof_set_write_thread, NULL, RSRC_CONF,
                  "On|Off: a thread of each child writes the profile files after "
                  "their requests (default On)"),
    AP_INIT_TAKE1("ProfileStatusReset", reqprof_set_status_reset, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "On|Off: the status page may be reset by a POST (default Off)"),
    { NULL }
};

static int reqprof_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp)
{
    const char *err;
    (void)plog;
    (void)ptemp;
    /* Forget the previous generation's slots, in case a DSO was not
     * really unloaded. */
    reqprof_wrap_reset();
    reqprof_filters_reset();
    reqprof_proxy_reset();
    reqprof_cgi_reset();
    if ((err = reqprof_config_init(pconf)) != NULL) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, NULL,
                     "RP0001: cannot set up defaults: %s", err);
        return DONE;
    }
    return OK;
}

static int reqprof_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    (void)pconf;
    (void)plog;
    return reqprof_check_dirs(ptemp, s) == OK ? OK : DONE;
}

static int reqprof_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    const char *clock, *test_clock;
    int ntimed;
    (void)plog;
    if (reqprof_prepare_servers(pconf, ptemp, s) != OK
        || reqprof_ctl_post_config(pconf, ptemp, s) != OK
        || reqprof_output_post_config(pconf, ptemp, s) != OK)
        return DONE;
    /* REQPROF_TEST_CLOCK=monotonic, for tests only: CLOCK_MONOTONIC where
     * the kernel trusts the TSC, so that the code built for that clock
     * (the stubs' _mono bodies) runs on such a machine too. */
    test_clock = getenv("REQPROF_TEST_CLOCK");
    clock = rp_clock_init(!(test_clock && strcmp(test_clock, "monotonic") == 0));
    reqprof_wrap_set_clock();
    reqprof_filters_set_clock();
    /* Hooks are sorted by now; wrapping each generation anew: the request
     * hooks (a new registry), every filter known by name, mod_proxy's
     * hooks, then the self-test's entry. */
    ntimed = reqprof_wrap_all(pconf, s);
    ntimed += reqprof_filters_wrap(s);
    ntimed += reqprof_proxy_wrap(s);
    reqprof_wrap_selftime_entry();
    /* The windows' minute, shortened only by tests (REQPROF_TEST_MINUTE_MS,
     * 10 to 60000 ms), for the status counters and the tree alike. */
    rp_win_configure(getenv("REQPROF_TEST_MINUTE_MS"));
    reqprof_status_post_config(pconf, ptemp, s);
    reqprof_tree_post_config(pconf, s, reqprof_registry);
    reqprof_batch_post_config(s);
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 "RP0002: timing %d hook entries, clock %s (%.3g ns per tick)",
                 ntimed, clock, rp_clock_sec_per_tick * 1e9);
    return OK;
}

static void reqprof_child_init(apr_pool_t *pchild, server_rec *s)
{
    reqprof_state_child_init(pchild, s, reqprof_registry, reqprof_tree_events(),
                             reqprof_status_inflight_begin);
    reqprof_cgi_child_init();
    reqprof_filters_child_init(pchild, reqprof_status_keys_added);
    reqprof_tramp_set_chain_scan(reqprof_filters_scan);
    reqprof_ctl_child_init(pchild, s);
    reqprof_wrap_rescan(s);
    reqprof_proxy_wrap(s);
    reqprof_status_child_init(pchild, s);
    reqprof_batch_child_init(pchild, s);
    reqprof_output_child_init(pchild, s);
}

static void reqprof_register_hooks(apr_pool_t *p)
{
    ap_hook_pre_config(reqprof_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(reqprof_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(reqprof_post_config, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_child_init(reqprof_child_init, NULL, NULL, APR_HOOK_REALLY_LAST);
    ap_hook_handler(reqprof_selftime_handler, NULL, NULL, APR_HOOK_MIDDLE);
    reqprof_output_register_hooks(p);
    reqprof_timing_register_hooks(p);
    ap_hook_handler(reqprof_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, reqprof_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
    /* Last, so every other module's logging is inside the profile. */
    ap_hook_log_transaction(reqprof_request_finish, NULL, NULL, APR_HOOK_REALLY_LAST);
}

/* Built with -fvisibility=hidden (the Makefile): calls between our own
 * files bind at link time, with no PLT jump or GOT load on the hot path.
 * httpd finds the module by this one name, so it alone is exported. */
extern module __attribute__((visibility("default"))) reqprof_module;

AP_DECLARE_MODULE(reqprof) = {
    STANDARD20_MODULE_STUFF,
    reqprof_create_dir,
    reqprof_merge_dir,
    reqprof_create_srv,
    reqprof_merge_srv,
    reqprof_cmds,
    reqprof_register_hooks,
    0                       /* flags */
};

/* The same module under a hidden name (reqprof_state.h): the hot path
 * reads its module_index with one PC-relative load, not through the GOT
 * entry an exported name needs. */
extern module reqprof_module_local
    __attribute__((alias("reqprof_module"), visibility("hidden")));
