/*
 * reqprof_config.h - mod_reqprof's configuration: per-server and
 * per-directory records, directive setters, startup checks.
 */
#ifndef REQPROF_CONFIG_H
#define REQPROF_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "rp_report.h"
#include "rp_fname.h"

extern module AP_MODULE_DECLARE_DATA reqprof_module;

#define REQPROF_UNSET (-1)

/* ProfileFormat: which files a profiled request leaves (bits). */
#define REQPROF_FMT_PSTATS    0x1
#define REQPROF_FMT_CALLGRIND 0x2
#define REQPROF_FMT_CHROME    0x4
#define REQPROF_FMT_COLLAPSED 0x8
#define REQPROF_FMT_PPROF     0x10

/* One ProfileTrigger. */
typedef enum { REQPROF_TRIG_HEADER, REQPROF_TRIG_COOKIE, REQPROF_TRIG_ENV,
               REQPROF_TRIG_TRACEPARENT } reqprof_trig_e;
typedef struct reqprof_trigger {
    reqprof_trig_e kind;
    const char *name;         /* header, cookie or environment variable */
    const char *token;        /* the secret (header, cookie); never logged */
    apr_size_t token_len;
} reqprof_trigger_t;

struct reqprof_retention;

/* Server (and virtual host) scope. */
typedef struct reqprof_srv {
    const char *dir;          /* ProfileDir, absolute; NULL: write no files */
    rp_fname_t *fname;        /* ProfileFilenameFormat; NULL: the default */
    const char *fname_src;    /* its text, for messages */
    int engine_anywhere;      /* some scope of this server says ProfileEngine On */
    int errorlog_anywhere;    /* some scope says ProfileErrorLog On */
    /* production controls (reqprof_controls.c, reqprof_output.c) */
    int formats;              /* ProfileFormat REQPROF_FMT_* bits; 0: pstats */
    apr_array_header_t *triggers; /* ProfileTrigger (reqprof_trigger_t); NULL: none */
    int env_triggers;         /* how many of them are env triggers */
    long max_files;           /* ProfileMaxFiles; 0: unset */
    apr_uint64_t max_dir_size;/* ProfileMaxDirSize in bytes; 0: unset */
    double rate_sections_max; /* largest ProfileSampleRate in a <Directory>/
                               * <Location> of this server; -1: none */
    apr_uint64_t begin_threshold; /* post_config: draws below it are profiled */
    struct reqprof_retention *retention; /* post_config: ProfileDir limits */
    int status_urls;          /* ProfileStatusURLs (main server only) */
    int status_slowest;       /* ProfileStatusSlowest (main server only) */
    const char *status_file;  /* ProfileStatusFile (main server only), NULL: none */
    int status_vhost;         /* this server's row in the status page's
                               * shared memory (set in post_config) */
    int agg_nodes;            /* ProfileAggregateNodes (main server only);
                               * REQPROF_UNSET: default; 0: off */
    int tree_vhost;           /* this server's tree in the aggregate call
                               * tree's shared memory (post_config) */
    apr_int64_t status_flush; /* ProfileStatusFlush in us (main server
                               * only); REQPROF_UNSET: default; 0: off */
    int write_thread;         /* ProfileWriteThread (main server only);
                               * REQPROF_UNSET: default (On) */
} reqprof_srv_t;

/* Directory/Location scope; REQPROF_UNSET (or NULL) means inherited. */
typedef struct reqprof_dir {
    int engine;               /* ProfileEngine, default Off */
    int errorlog;             /* ProfileErrorLog, default Off */
    const rp_sort_t *sort;    /* ProfileSortBy, default "time calls" */
    const rp_restrict_t *restricts; /* ProfileRestrict */
    int nrestricts;           /* REQPROF_UNSET: inherited; 0: none */
    int unit;                 /* ProfileTimeUnit (rp_unit_e), default ms */
    apr_int64_t min_duration; /* ProfileMinDuration in us; REQPROF_UNSET: 0 */
    double sample_rate;       /* ProfileSampleRate; < 0: unset (see controls) */
    int server_timing;        /* ProfileServerTiming, default Off */
    int status_reset;         /* ProfileStatusReset, default Off */
} reqprof_dir_t;

void *reqprof_create_srv(apr_pool_t *p, server_rec *s);
void *reqprof_merge_srv(apr_pool_t *p, void *basev, void *addv);
void *reqprof_create_dir(apr_pool_t *p, char *dir);
void *reqprof_merge_dir(apr_pool_t *p, void *basev, void *addv);

const char *reqprof_set_engine(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_errorlog(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_dir(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_fname(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_sort(cmd_parms *cmd, void *dcfg, const char *args);
const char *reqprof_set_restrict(cmd_parms *cmd, void *dcfg, const char *args);
const char *reqprof_set_unit(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_min_duration(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_sample_rate(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_trigger(cmd_parms *cmd, void *dcfg, const char *args);
const char *reqprof_set_format(cmd_parms *cmd, void *dcfg, const char *args);
const char *reqprof_set_server_timing(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_max_files(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_max_dir_size(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_status_urls(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_status_slowest(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_agg_nodes(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_status_reset(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_status_file(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_status_flush(cmd_parms *cmd, void *dcfg, const char *arg);
const char *reqprof_set_write_thread(cmd_parms *cmd, void *dcfg, const char *arg);

/* Defaults and limits of the status page's table sizes. */
#define REQPROF_AGG_NODES_DEFAULT       4096
#define REQPROF_STATUS_URLS_DEFAULT     512
#define REQPROF_STATUS_URLS_MAX         100000
#define REQPROF_STATUS_SLOWEST_DEFAULT  16
#define REQPROF_STATUS_SLOWEST_MAX      1000
#define REQPROF_STATUS_FLUSH_DEFAULT    APR_USEC_PER_SEC
#define REQPROF_STATUS_FLUSH_MAX        (60 * APR_USEC_PER_SEC)

/* A fault that persists (a full disk, no shared memory) is logged at most
 * once per this many seconds per child process and message, with the
 * count of those not logged (rp_ratelimit). */
#define REQPROF_FAULT_LOG_INTERVAL      60

/* Regex search for ProfileRestrict patterns (compiled with ap_pregcomp). */
extern rp_match_fn reqprof_regex_match;

/* Effective values of a merged directory record. */
const rp_sort_t *reqprof_dir_sort(const reqprof_dir_t *d);
rp_unit_e reqprof_dir_unit(const reqprof_dir_t *d);

/* The default filename format, compiled (set up by reqprof_config_init). */
const rp_fname_t *reqprof_default_fname(void);

/* pre_config: compile defaults for this generation. */
const char *reqprof_config_init(apr_pool_t *pconf);

/* check_config (runs for apachectl -t too): every ProfileDir can be used. */
int reqprof_check_dirs(apr_pool_t *ptemp, server_rec *s);

/* post_config: create missing ProfileDirs (0750, owned by User/Group),
 * and make sure ProfileErrorLog reports are not filtered by LogLevel. */
int reqprof_prepare_servers(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

#endif
