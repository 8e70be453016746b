/*
 * reqprof_config.c - directive setters, config merging and the startup
 * checks of mod_reqprof. Every setter validates its value and returns a
 * message naming the directive and the bad value, so `apachectl -t` fails
 * with something an administrator can act on.
 */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "ap_regex.h"
#include "unixd.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_file_info.h"

#include "rp_parse.h"
#include "rp_http.h"
#include "reqprof_config.h"
#include "rp_tree.h"

APLOG_USE_MODULE(reqprof);

static rp_fname_t *default_fname;
static rp_sort_t *default_sort;

const char *reqprof_config_init(apr_pool_t *pconf)
{
    const char *err = rp_fname_compile(pconf, RP_FNAME_DEFAULT, &default_fname);
    if (err)
        return err;
    /* Werkzeug's default order: internal time, then call count. */
    default_sort = apr_pcalloc(pconf, sizeof *default_sort);
    if ((err = rp_sort_add(pconf, default_sort, "time")) != NULL
        || (err = rp_sort_add(pconf, default_sort, "calls")) != NULL)
        return err;
    return NULL;
}

const rp_fname_t *reqprof_default_fname(void)
{
    return default_fname;
}

void *reqprof_create_srv(apr_pool_t *p, server_rec *s)
{
    reqprof_srv_t *c = apr_pcalloc(p, sizeof *c);
    (void)s;
    c->rate_sections_max = -1;
    c->status_urls = REQPROF_UNSET;
    c->status_slowest = REQPROF_UNSET;
    c->status_vhost = -1;
    c->agg_nodes = REQPROF_UNSET;
    c->tree_vhost = -1;
    c->status_flush = REQPROF_UNSET;
    c->write_thread = REQPROF_UNSET;
    return c;
}

void *reqprof_merge_srv(apr_pool_t *p, void *basev, void *addv)
{
    const reqprof_srv_t *base = basev, *add = addv;
    reqprof_srv_t *c = apr_pcalloc(p, sizeof *c);
    c->dir = add->dir ? add->dir : base->dir;
    c->fname = add->fname ? add->fname : base->fname;
    c->fname_src = add->fname ? add->fname_src : base->fname_src;
    /* <Directory> and <Location> of the main server apply in vhosts too. */
    c->engine_anywhere = base->engine_anywhere || add->engine_anywhere;
    c->errorlog_anywhere = base->errorlog_anywhere || add->errorlog_anywhere;
    c->formats = add->formats ? add->formats : base->formats;
    c->triggers = add->triggers ? add->triggers : base->triggers;
    c->env_triggers = add->triggers ? add->env_triggers : base->env_triggers;
    c->max_files = add->max_files ? add->max_files : base->max_files;
    c->max_dir_size = add->max_dir_size ? add->max_dir_size : base->max_dir_size;
    c->rate_sections_max = base->rate_sections_max > add->rate_sections_max
                           ? base->rate_sections_max : add->rate_sections_max;
    /* Global: only the main server's values are used. */
    c->status_urls = base->status_urls;
    c->status_slowest = base->status_slowest;
    c->status_file = base->status_file;
    c->status_vhost = -1;
    c->agg_nodes = base->agg_nodes;
    c->tree_vhost = -1;
    c->status_flush = base->status_flush;
    c->write_thread = base->write_thread;
    return c;
}

void *reqprof_create_dir(apr_pool_t *p, char *dir)
{
    reqprof_dir_t *c = apr_pcalloc(p, sizeof *c);
    (void)dir;
    c->engine = REQPROF_UNSET;
    c->errorlog = REQPROF_UNSET;
    c->nrestricts = REQPROF_UNSET;
    c->unit = REQPROF_UNSET;
    c->min_duration = REQPROF_UNSET;
    c->sample_rate = -1;
    c->server_timing = REQPROF_UNSET;
    c->status_reset = REQPROF_UNSET;
    return c;
}

void *reqprof_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const reqprof_dir_t *base = basev, *add = addv;
    reqprof_dir_t *c = apr_pcalloc(p, sizeof *c);
    c->engine = add->engine != REQPROF_UNSET ? add->engine : base->engine;
    c->errorlog = add->errorlog != REQPROF_UNSET ? add->errorlog : base->errorlog;
    c->sort = add->sort ? add->sort : base->sort;
    if (add->nrestricts != REQPROF_UNSET) {
        c->restricts = add->restricts;
        c->nrestricts = add->nrestricts;
    }
    else {
        c->restricts = base->restricts;
        c->nrestricts = base->nrestricts;
    }
    c->unit = add->unit != REQPROF_UNSET ? add->unit : base->unit;
    c->min_duration = add->min_duration != REQPROF_UNSET ? add->min_duration
                                                         : base->min_duration;
    c->sample_rate = add->sample_rate >= 0 ? add->sample_rate : base->sample_rate;
    c->server_timing = add->server_timing != REQPROF_UNSET ? add->server_timing
                                                           : base->server_timing;
    c->status_reset = add->status_reset != REQPROF_UNSET ? add->status_reset
                                                         : base->status_reset;
    return c;
}

const rp_sort_t *reqprof_dir_sort(const reqprof_dir_t *d)
{
    return d->sort ? d->sort : default_sort;
}

rp_unit_e reqprof_dir_unit(const reqprof_dir_t *d)
{
    return d->unit == REQPROF_UNSET ? RP_UNIT_MS : (rp_unit_e)d->unit;
}

static reqprof_srv_t *srv_of(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &reqprof_module);
}

/* On|Off with a message that names the bad value (AP_INIT_FLAG's does not). */
static const char *on_off(cmd_parms *cmd, const char *arg, int *out)
{
    if (!strcasecmp(arg, "on"))
        *out = 1;
    else if (!strcasecmp(arg, "off"))
        *out = 0;
    else
        return apr_psprintf(cmd->pool, "%s: '%s' is not On or Off",
                            cmd->cmd->name, arg);
    return NULL;
}

/* On|Off into *out; On also marks the server (*anywhere), so that the
 * hooks know some scope of it wants the work. */
static const char *on_off_noted(cmd_parms *cmd, const char *arg, int *out, int *anywhere)
{
    const char *err = on_off(cmd, arg, out);
    if (!err && *out)
        *anywhere = 1;
    return err;
}

const char *reqprof_set_engine(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return on_off_noted(cmd, arg, &((reqprof_dir_t *)dcfg)->engine,
                        &srv_of(cmd)->engine_anywhere);
}

const char *reqprof_set_errorlog(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return on_off_noted(cmd, arg, &((reqprof_dir_t *)dcfg)->errorlog,
                        &srv_of(cmd)->errorlog_anywhere);
}

const char *reqprof_set_dir(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    const char *path;
    (void)dcfg;
    if (err)
        return err;
    if (!*arg)
        return "ProfileDir: empty path";
    /* Relative paths are relative to ServerRoot, like every other path. */
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path)
        return apr_psprintf(cmd->pool, "ProfileDir: invalid path '%s'", arg);
    srv_of(cmd)->dir = path;
    return NULL;
}

const char *reqprof_set_fname(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    reqprof_srv_t *s = srv_of(cmd);
    rp_fname_t *f = NULL;
    (void)dcfg;
    if (err)
        return err;
    if ((err = rp_fname_compile(cmd->pool, arg, &f)) != NULL)
        return apr_psprintf(cmd->pool, "ProfileFilenameFormat '%s': %s", arg, err);
    s->fname = f;
    s->fname_src = arg;
    return NULL;
}

const char *reqprof_set_sort(cmd_parms *cmd, void *dcfg, const char *args)
{
    reqprof_dir_t *d = dcfg;
    rp_sort_t *sort = apr_pcalloc(cmd->pool, sizeof *sort);
    const char *word;

    while (*(word = ap_getword_conf(cmd->temp_pool, &args)) != '\0') {
        const char *err = rp_sort_add(cmd->pool, sort, word);
        if (err)
            return apr_psprintf(cmd->pool, "ProfileSortBy: %s", err);
    }
    if (sort->nfields == 0)
        return "ProfileSortBy: needs at least one sort key";
    d->sort = sort;
    return NULL;
}

static int regex_search(void *re, const char *s)
{
    return ap_regexec((ap_regex_t *)re, s, 0, NULL, 0) == 0;
}

/* The match function report options need for regex restrictions. */
rp_match_fn reqprof_regex_match = regex_search;

const char *reqprof_set_restrict(cmd_parms *cmd, void *dcfg, const char *args)
{
    reqprof_dir_t *d = dcfg;
    apr_array_header_t *list = apr_array_make(cmd->pool, 4, sizeof(rp_restrict_t));
    const char *word;

    while (*(word = ap_getword_conf(cmd->temp_pool, &args)) != '\0') {
        rp_restrict_t *r = apr_array_push(list);
        const char *err = rp_restrict_parse(cmd->pool, word, r);
        if (err)
            return apr_psprintf(cmd->pool, "ProfileRestrict: %s", err);
        if (r->kind == RP_RESTRICT_REGEX) {
            r->pattern = apr_pstrdup(cmd->pool, word);
            r->regex = ap_pregcomp(cmd->pool, r->pattern, 0);
            if (!r->regex)
                return apr_psprintf(cmd->pool,
                                    "ProfileRestrict: bad regular expression '%s'",
                                    word);
        }
    }
    if (list->nelts == 0)
        return "ProfileRestrict: needs at least one argument";
    d->restricts = (const rp_restrict_t *)list->elts;
    d->nrestricts = list->nelts;
    return NULL;
}

const char *reqprof_set_unit(cmd_parms *cmd, void *dcfg, const char *arg)
{
    reqprof_dir_t *d = dcfg;
    if (!strcasecmp(arg, "s"))
        d->unit = RP_UNIT_S;
    else if (!strcasecmp(arg, "ms"))
        d->unit = RP_UNIT_MS;
    else if (!strcasecmp(arg, "us"))
        d->unit = RP_UNIT_US;
    else
        return apr_psprintf(cmd->pool,
                            "ProfileTimeUnit: unknown unit '%s' (expected s, ms or us)",
                            arg);
    return NULL;
}

/* A whole number in [min, max] (rp_parse_int64), or an error naming the
 * directive, the value, what is wrong with it and what is expected. */
static const char *int_arg(cmd_parms *cmd, const char *arg, apr_int64_t min,
                           apr_int64_t max, apr_int64_t *out)
{
    rp_int_err_t e = rp_parse_int64(arg, min, max, out);
    if (e == RP_INT_OK)
        return NULL;
    return apr_psprintf(cmd->pool, "%s: '%s': %s (expected a whole number from %"
                        APR_INT64_T_FMT " to %" APR_INT64_T_FMT ")", cmd->cmd->name, arg,
                        rp_int_err_text(cmd->temp_pool, e, arg, min, max), min, max);
}

static const char *count_arg(cmd_parms *cmd, const char *arg, int max, int *out)
{
    apr_int64_t v;
    const char *err = int_arg(cmd, arg, 1, max, &v);
    if (!err)
        *out = (int)v;
    return err;
}

/* The status page's table sizes fix its shared memory: server-wide only. */
const char *reqprof_set_status_urls(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dcfg;
    return err ? err : count_arg(cmd, arg, REQPROF_STATUS_URLS_MAX,
                                 &srv_of(cmd)->status_urls);
}

const char *reqprof_set_status_slowest(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dcfg;
    return err ? err : count_arg(cmd, arg, REQPROF_STATUS_SLOWEST_MAX,
                                 &srv_of(cmd)->status_slowest);
}

/* Where the status page's counts are kept across a stop and start: a file
 * (made if absent) in a directory that exists. */
const char *reqprof_set_status_file(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *path, *slash;
    apr_finfo_t fi;
    (void)dcfg;
    if (err)
        return err;
    if (!*arg)
        return "ProfileStatusFile: an empty path";
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path)
        return apr_psprintf(cmd->pool, "ProfileStatusFile: invalid path '%s'", arg);
    slash = strrchr(path, '/');
    if (!slash || !slash[1])
        return apr_psprintf(cmd->pool, "ProfileStatusFile: '%s' names a directory, "
                            "not a file", arg);
    if (apr_stat(&fi, apr_pstrndup(cmd->pool, path, (apr_size_t)(slash - path) + 1),
                 APR_FINFO_TYPE, cmd->pool) != APR_SUCCESS || fi.filetype != APR_DIR)
        return apr_psprintf(cmd->pool, "ProfileStatusFile: the directory of '%s' "
                            "does not exist", arg);
    if (apr_stat(&fi, path, APR_FINFO_TYPE, cmd->pool) == APR_SUCCESS
        && fi.filetype != APR_REG)
        return apr_psprintf(cmd->pool, "ProfileStatusFile: '%s' exists and is not a "
                            "regular file", arg);
    srv_of(cmd)->status_file = path;
    return NULL;
}

/* The aggregate call tree's size fixes its shared memory: server-wide.
 * 0 switches it off; otherwise RP_TREE_MIN_NODES to RP_TREE_MAX_NODES. */
const char *reqprof_set_agg_nodes(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t v = -1;
    (void)dcfg;
    if (err)
        return err;
    if (rp_parse_int64(arg, 0, RP_TREE_MAX_NODES, &v) != RP_INT_OK
        || (v != 0 && v < RP_TREE_MIN_NODES))
        return apr_psprintf(cmd->pool, "%s: '%s' is not 0 (off) or a number from %d to %d",
                            cmd->cmd->name, arg, RP_TREE_MIN_NODES, RP_TREE_MAX_NODES);
    srv_of(cmd)->agg_nodes = (int)v;
    return NULL;
}

/* How long the status page's function counts and the aggregate tree may
 * wait in a profile object before they reach shared memory: server-wide,
 * 0 (every request) to a minute (the windows' unit). */
const char *reqprof_set_status_flush(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t us;
    (void)dcfg;
    if (err)
        return err;
    if ((err = rp_parse_duration(cmd->temp_pool, arg, &us)) != NULL)
        return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->cmd->name, arg, err);
    if (us > REQPROF_STATUS_FLUSH_MAX)
        return apr_psprintf(cmd->pool, "%s: '%s' is longer than a minute (at most 60s)",
                            cmd->cmd->name, arg);
    srv_of(cmd)->status_flush = us;
    return NULL;
}

/* Whether a thread of each child writes the files (reqprof_writer.c):
 * server-wide, default On. */
const char *reqprof_set_write_thread(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dcfg;
    if (err)
        return err;
    return on_off(cmd, arg, &srv_of(cmd)->write_thread);
}

const char *reqprof_set_status_reset(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return on_off(cmd, arg, &((reqprof_dir_t *)dcfg)->status_reset);
}

/* The nearest existing ancestor of path (path itself when it exists). */
static const char *existing_ancestor(apr_pool_t *p, const char *path,
                                     apr_finfo_t *fi)
{
    char *cur = apr_pstrdup(p, path);
    for (;;) {
        char *slash;
        if (apr_stat(fi, cur, APR_FINFO_TYPE, p) == APR_SUCCESS)
            return cur;
        slash = strrchr(cur, '/');
        if (!slash)
            return NULL;
        if (slash == cur) {
            cur[1] = '\0';
            if (apr_stat(fi, cur, APR_FINFO_TYPE, p) == APR_SUCCESS)
                return cur;
            return NULL;
        }
        *slash = '\0';
    }
}

/* Can dir be used or created? NULL if so, else why not. */
static const char *dir_problem(apr_pool_t *p, const char *dir)
{
    apr_finfo_t fi;
    const char *anc = existing_ancestor(p, dir, &fi);

    if (!anc)
        return "no part of the path exists";
    if (strcmp(anc, dir) == 0)
        return fi.filetype == APR_DIR ? NULL : "exists and is not a directory";
    if (fi.filetype != APR_DIR)
        return apr_psprintf(p, "cannot be created: %s is not a directory", anc);
    if (access(anc, W_OK | X_OK) != 0)
        return apr_psprintf(p, "cannot be created: %s is not writable (%s)",
                            anc, strerror(errno));
    return NULL;
}

int reqprof_check_dirs(apr_pool_t *ptemp, server_rec *s)
{
    int bad = 0;
    for (; s; s = s->next) {
        const reqprof_srv_t *c = ap_get_module_config(s->module_config, &reqprof_module);
        const char *why;
        if (!c->dir || !(why = dir_problem(ptemp, c->dir)))
            continue;
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "RP0010: ProfileDir %s (server %s): %s", c->dir,
                     s->server_hostname ? s->server_hostname : "main", why);
        bad = 1;
    }
    return bad ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* mkdir -p with mode 0750; the directories made are given to User/Group
 * so the children (which no longer run as root) can write into them. */
static apr_status_t make_dir(apr_pool_t *p, const char *dir)
{
    apr_finfo_t fi;
    char *parent;
    apr_status_t rv;

    if (apr_stat(&fi, dir, APR_FINFO_TYPE, p) == APR_SUCCESS)
        return fi.filetype == APR_DIR ? APR_SUCCESS : APR_ENOTDIR;
    parent = ap_make_dirstr_parent(p, dir);
    if (strlen(parent) > 1) {
        parent[strlen(parent) - 1] = '\0';   /* drop the trailing '/' */
        if ((rv = make_dir(p, parent)) != APR_SUCCESS)
            return rv;
    }
    rv = apr_dir_make(dir, APR_UREAD | APR_UWRITE | APR_UEXECUTE
                      | APR_GREAD | APR_GEXECUTE, p);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EEXIST(rv))
        return rv;
    /* apr_dir_make is subject to the umask; say exactly 0750. */
    if (chmod(dir, 0750) != 0)
        return APR_FROM_OS_ERROR(errno);
    if (geteuid() == 0
        && chown(dir, ap_unixd_config.user_id, ap_unixd_config.group_id) != 0)
        return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

int reqprof_prepare_servers(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    for (; s; s = s->next) {
        const reqprof_srv_t *c = ap_get_module_config(s->module_config, &reqprof_module);
        if (c->dir) {
            apr_status_t rv = make_dir(ptemp, c->dir);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                             "RP0011: ProfileDir %s cannot be created", c->dir);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        /* Reports are logged at notice; Debian's LogLevel is warn. An
         * administrator who said ProfileErrorLog On wants to see them, so
         * lift this module's level unless a LogLevel names it explicitly. */
        if (c->errorlog_anywhere) {
            const struct ap_logconf *l = &s->log;
            int idx = reqprof_module.module_index;
            int explicit = l->module_levels && l->module_levels[idx] >= 0;
            if (!explicit && l->level < APLOG_NOTICE)
                ap_set_module_loglevel(pconf, &s->log, idx, APLOG_NOTICE);
        }
    }
    return OK;
}

/* ---- production controls: ProfileMinDuration, ProfileSampleRate,
 * ProfileTrigger, ProfileFormat, ProfileServerTiming, ProfileMaxFiles,
 * ProfileMaxDirSize (used by reqprof_controls.c and reqprof_output.c) ---- */

const char *reqprof_set_min_duration(cmd_parms *cmd, void *dcfg, const char *arg)
{
    reqprof_dir_t *d = dcfg;
    apr_int64_t us;
    const char *err = rp_parse_duration(cmd->temp_pool, arg, &us);
    if (err)
        return apr_psprintf(cmd->pool, "ProfileMinDuration: '%s': %s", arg, err);
    d->min_duration = us;
    return NULL;
}

const char *reqprof_set_sample_rate(cmd_parms *cmd, void *dcfg, const char *arg)
{
    reqprof_dir_t *d = dcfg;
    reqprof_srv_t *s = srv_of(cmd);
    double rate;
    const char *err = rp_parse_rate(cmd->temp_pool, arg, &rate);
    if (err)
        return apr_psprintf(cmd->pool, "ProfileSampleRate: '%s': %s", arg, err);
    d->sample_rate = rate;
    /* A section's rate can only be applied when the request ends; the
     * start must let through at least the largest one (controls.c). */
    if (cmd->path && rate > s->rate_sections_max)
        s->rate_sections_max = rate;
    return NULL;
}

/* An HTTP token (RFC 9110 field-name, RFC 6265 cookie-name): a header or
 * cookie with any other name can never arrive, so the trigger would
 * silently never fire. */
static int is_http_token(const char *s)
{
    return rp_http_is_token(s);
}

/* ProfileTrigger header NAME TOKEN | cookie NAME TOKEN | env VAR. The
 * token is never repeated in a message. */
const char *reqprof_set_trigger(cmd_parms *cmd, void *dcfg, const char *args)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    reqprof_srv_t *s = srv_of(cmd);
    reqprof_trigger_t t;
    const char *kind, *extra;
    (void)dcfg;
    if (err)
        return err;
    memset(&t, 0, sizeof t);
    kind = ap_getword_conf(cmd->pool, &args);
    t.name = ap_getword_conf(cmd->pool, &args);
    if (!strcasecmp(kind, "header"))
        t.kind = REQPROF_TRIG_HEADER;
    else if (!strcasecmp(kind, "cookie"))
        t.kind = REQPROF_TRIG_COOKIE;
    else if (!strcasecmp(kind, "env"))
        t.kind = REQPROF_TRIG_ENV;
    else if (!strcasecmp(kind, "traceparent")) {
        /* No name, no token: the W3C header's sampled flag is the ask. */
        t.kind = REQPROF_TRIG_TRACEPARENT;
        if (*t.name)
            return apr_psprintf(cmd->pool, "ProfileTrigger traceparent: unexpected "
                                "argument '%s' (it takes none)", t.name);
        t.name = "traceparent";
        goto add;
    }
    else
        return apr_psprintf(cmd->pool, "ProfileTrigger: unknown kind '%s' "
                            "(expected header, cookie, env or traceparent)", kind);
    if (t.kind != REQPROF_TRIG_ENV && !is_http_token(t.name))
        return apr_psprintf(cmd->pool, "ProfileTrigger %s: bad name '%s' (letters, "
                            "digits and !#$%%&'*+-.^_`|~ only)", kind, t.name);
    if (!*t.name || ap_strchr_c(t.name, '=') || ap_strchr_c(t.name, ';'))
        return apr_psprintf(cmd->pool, "ProfileTrigger %s: bad name '%s'", kind, t.name);
    if (t.kind != REQPROF_TRIG_ENV) {
        t.token = ap_getword_conf(cmd->pool, &args);
        t.token_len = strlen(t.token);
        if (t.token_len < 8)
            return apr_psprintf(cmd->pool, "ProfileTrigger %s %s: the token must "
                                "be at least 8 characters long", kind, t.name);
    }
    extra = ap_getword_conf(cmd->temp_pool, &args);
    if (*extra)
        return apr_psprintf(cmd->pool, "ProfileTrigger %s %s: unexpected argument "
                            "'%s'", kind, t.name,
                            t.kind == REQPROF_TRIG_ENV ? extra : "...");
add:
    if (!s->triggers)
        s->triggers = apr_array_make(cmd->pool, 2, sizeof(reqprof_trigger_t));
    APR_ARRAY_PUSH(s->triggers, reqprof_trigger_t) = t;
    if (t.kind == REQPROF_TRIG_ENV)
        s->env_triggers++;
    return NULL;
}

const char *reqprof_set_format(cmd_parms *cmd, void *dcfg, const char *args)
{
    static const struct { const char *name; int bit; } fmts[] = {
        { "pstats", REQPROF_FMT_PSTATS }, { "callgrind", REQPROF_FMT_CALLGRIND },
        { "chrome", REQPROF_FMT_CHROME }, { "collapsed", REQPROF_FMT_COLLAPSED },
        { "pprof", REQPROF_FMT_PPROF },
    };
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    const char *word;
    int bits = 0;
    (void)dcfg;
    if (err)
        return err;
    while (*(word = ap_getword_conf(cmd->temp_pool, &args)) != '\0') {
        int i, n = (int)(sizeof fmts / sizeof fmts[0]);
        for (i = 0; i < n && strcasecmp(word, fmts[i].name); i++)
            ;
        if (i == n)
            return apr_psprintf(cmd->pool, "ProfileFormat: unknown format '%s' "
                                "(expected pstats, callgrind, chrome, collapsed or pprof)",
                                word);
        bits |= fmts[i].bit;
    }
    if (!bits)
        return "ProfileFormat: needs at least one format";
    srv_of(cmd)->formats = bits;
    return NULL;
}

const char *reqprof_set_server_timing(cmd_parms *cmd, void *dcfg, const char *arg)
{
    return on_off(cmd, arg, &((reqprof_dir_t *)dcfg)->server_timing);
}

const char *reqprof_set_max_files(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_int64_t n;
    (void)dcfg;
    if (err)
        return err;
    if ((err = int_arg(cmd, arg, 1, 100000, &n)) != NULL)
        return err;
    srv_of(cmd)->max_files = (long)n;
    return NULL;
}

const char *reqprof_set_max_dir_size(cmd_parms *cmd, void *dcfg, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
    apr_uint64_t n;
    (void)dcfg;
    if (err)
        return err;
    if ((err = rp_parse_size(cmd->temp_pool, arg, &n)) != NULL)
        return apr_psprintf(cmd->pool, "ProfileMaxDirSize: '%s': %s", arg, err);
    srv_of(cmd)->max_dir_size = n;
    return NULL;
}
