/*
 * reqprof_cgi.c - each CGI run is an entry of its own, keyed by the
 * script's path, called from mod_cgi's or mod_cgid's handler entry.
 *
 * mod_cgi forks the script from the thread running the request. A
 * pthread_atfork handler opens the run's frame at the fork itself and
 * learns the child's pid by comparing this thread's children (Linux's
 * /proc/self/task/TID/children) before and after. When the profile is
 * finished (log_transaction, before the request pool's cleanup reaps the
 * script), waitid(WNOWAIT) reads the exited child's status and rusage
 * without reaping it, so APR still reaps it as before.
 *
 * mod_cgid hands the request to its daemon, which forks the script and
 * reaps it itself: only the wall time is visible from here. The run's
 * frame is the handler call (connect, send, relay the output).
 *
 * Either way the run ends when the handler returns: the script's output
 * has then passed the output filters (or the client went away).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_strings.h"

#include "rp_text.h"
#include "reqprof_cgi.h"
#include "reqprof_request.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define CGI_LABEL "cgi"
#define MAX_CHILDREN 64
#define WAIT_STEP_US 1000
#define WAIT_MAX_US 10000

enum { KIND_CGI = 1, KIND_CGID = 2 };

/* One script run, kept in the top request's pool until the profile ends. */
typedef struct cgi_run {
    const char *script;    /* pstats file of the entry */
    int kind;
    pid_t pid;             /* 0 when not known */
    int exited;            /* status read */
    int status;            /* wait status */
    double user, sys;      /* CPU seconds, when exited */
} cgi_run_t;

#define RUNS_KEY "reqprof-cgi-runs"

/* The run being started on this thread, waiting for mod_cgi's fork. */
typedef struct pending {
    reqprof_state_t *st;
    unsigned gen;
    request_rec *r;
    cgi_run_t *run;
    int frame;             /* opened at the fork; -1 before */
    int nbefore;
    pid_t before[MAX_CHILDREN];
} pending_t;
static __thread pending_t *pending;

#define N_CGI 8
static slot_t slots_cgi[N_CGI];
static int kinds[N_CGI];
static int cgi_used;
static int atfork_done;

void reqprof_cgi_reset(void)
{
    cgi_used = 0;
}

int reqprof_cgi_module(const char *file)
{
    return !strcmp(file, "mod_cgi.c") ? KIND_CGI
           : !strcmp(file, "mod_cgid.c") ? KIND_CGID : 0;
}

/* The children of this thread, from /proc; -1 when unreadable. */
static int thread_children(pid_t *pids, int max)
{
    char path[64], buf[1024], *p, *end;
    FILE *f;
    size_t n;
    int count = 0;

    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
    if (!(f = fopen(path, "re")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (p = buf; count < max; p = end) {
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        pids[count++] = (pid_t)v;
    }
    return count;
}

static void atfork_prepare(void)
{
    pending_t *pd = pending;
    if (!pd || pd->frame >= 0 || pd->st->gen != pd->gen)
        return;
    pd->nbefore = thread_children(pd->before, MAX_CHILDREN);
    pd->frame = rp_prof_enter_dynamic(pd->st->prof, pd->r, pd->run->script, 1,
                                      CGI_LABEL, rp_clock_now());
}

static void atfork_parent(void)
{
    pending_t *pd = pending;
    pid_t now[MAX_CHILDREN];
    int n, i, j;

    if (!pd || pd->frame < 0 || pd->run->pid || pd->nbefore < 0)
        return;
    n = thread_children(now, MAX_CHILDREN);
    for (i = 0; i < n; i++) {
        for (j = 0; j < pd->nbefore && pd->before[j] != now[i]; j++)
            ;
        if (j == pd->nbefore) {
            pd->run->pid = now[i];
            return;
        }
    }
}

static int is_cgi_request(const request_rec *r)
{
    return r->handler && (!strcmp(r->handler, "cgi-script")
                          || !strcmp(r->handler, "application/x-httpd-cgi"));
}

static cgi_run_t *new_run(request_rec *r, int kind)
{
    request_rec *top = reqprof_top(r);
    apr_array_header_t *runs = NULL;
    cgi_run_t *run;

    apr_pool_userdata_get((void **)&runs, RUNS_KEY, top->pool);
    if (!runs) {
        runs = apr_array_make(top->pool, 2, sizeof(cgi_run_t));
        apr_pool_userdata_setn(runs, RUNS_KEY, NULL, top->pool);
    }
    run = apr_array_push(runs);
    memset(run, 0, sizeof *run);
    run->script = rp_utf8_clean(top->pool, r->filename ? r->filename : r->uri, 1024);
    run->kind = kind;
    return run;
}

static APR_INLINE int cgi_call(int i, request_rec *r)
{
    const slot_t *s = &slots_cgi[i];
    int (*fn)(request_rec *) = (int (*)(request_rec *))s->orig;
    pending_t pd, *saved;
    hot_t h;
    int rv;

    if (!hot_enter(&h, r, s))
        return fn(r);
    if (!is_cgi_request(r)) {
        rv = fn(r);
        hot_exit_r(&h, r);
        return rv;
    }
    pd.st = h.st;
    pd.gen = h.gen;
    pd.r = r;
    pd.run = new_run(r, kinds[i]);
    pd.frame = -1;
    pd.nbefore = -1;
    if (kinds[i] == KIND_CGID)
        pd.frame = rp_prof_enter_dynamic(h.st->prof, r, pd.run->script, 1,
                                         CGI_LABEL, rp_clock_now());
    saved = pending;
    pending = &pd;
    rv = fn(r);
    pending = saved;
    if (pd.frame >= 0 && h.st->gen == h.gen)
        rp_prof_exit(h.st->prof, pd.frame, rp_clock_now());
    hot_exit_r(&h, r);
    return rv;
}

#define T_CGI(a, b, c) \
static int t_cgi_##a##b##c(request_rec *r) { return cgi_call(IDX(a, b, c), r); }
D10(T_CGI, 0, 0)
#define P_CGI(a, b, c) (void (*)(void))t_cgi_##a##b##c,
static void (*const tramp_cgi[10])(void) = { D10(P_CGI, 0, 0) };

int reqprof_cgi_wrap(hook_link_t *e, int hook, int phase, const char *file)
{
    if (cgi_used == N_CGI)
        return 0;
    slots_cgi[cgi_used].orig = e->pFunc;
    slots_cgi[cgi_used].hook = hook;
    slots_cgi[cgi_used].phase = phase;
    kinds[cgi_used] = reqprof_cgi_module(file);
    e->pFunc = tramp_cgi[cgi_used++];
    return 1;
}

int reqprof_cgi_run_key(const char *file, const char *name)
{
    return file[0] == '/' && !strcmp(name, CGI_LABEL);
}

const char *reqprof_cgi_handler_file(void)
{
    return cgi_used && kinds[0] == KIND_CGID ? "mod_cgid.c" : "mod_cgi.c";
}

void reqprof_cgi_child_init(void)
{
    /* glibc drops the handlers when this DSO is unloaded (restart). */
    if (!atfork_done++)
        pthread_atfork(atfork_prepare, atfork_parent, NULL);
}

/* The exit status and CPU time of an exited child, leaving it to be
 * reaped by its owner; 0 when it has not exited (yet). */
static int peek_exit(cgi_run_t *run)
{
    siginfo_t si;
    struct rusage ru;

    memset(&si, 0, sizeof si);
    memset(&ru, 0, sizeof ru);
    if (syscall(SYS_waitid, P_PID, (id_t)run->pid, &si,
                WEXITED | WNOHANG | WNOWAIT, &ru) != 0 || si.si_pid != run->pid)
        return 0;
    run->exited = 1;
    run->status = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
    run->user = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
    run->sys = (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    return 1;
}

/* "a/b" + c: c appended unless it is one of the list already. */
static const char *add_distinct(apr_pool_t *p, const char *list, const char *one)
{
    apr_size_t n = strlen(one);
    const char *s = list;
    for (;;) {
        const char *end = strchr(s, '/');
        apr_size_t len = end ? (apr_size_t)(end - s) : strlen(s);
        if (len == n && !strncmp(s, one, n))
            return list;
        if (!end)
            return apr_pstrcat(p, list, "/", one, NULL);
        s = end + 1;
    }
}

/* "cgi exit 0, cpu 12.000ms (user 10.000ms, sys 2.000ms)" for the runs of
 * one script: CPU summed, distinct exits listed in order ("0/1"). */
static const char *describe(apr_pool_t *p, const cgi_run_t *runs, int n,
                            const char *script)
{
    const char *exits = NULL;
    double user = 0, sys = 0;
    int i, kind = 0, known = 0, unknown = 0;

    for (i = 0; i < n; i++) {
        const cgi_run_t *run = &runs[i];
        const char *one;
        if (strcmp(run->script, script))
            continue;
        kind |= run->kind;
        if (run->kind != KIND_CGI)
            continue;
        if (!run->exited) {
            unknown++;
            continue;
        }
        known++;
        user += run->user;
        sys += run->sys;
        one = run->status >= 0 ? apr_itoa(p, run->status)
                               : apr_psprintf(p, "signal %d", -run->status);
        exits = exits ? add_distinct(p, exits, one) : one;
    }
    if (kind == KIND_CGID)
        return "cgi via mod_cgid";
    if (!known)
        return unknown ? "cgi (still running at the end of the request)" : CGI_LABEL;
    return apr_psprintf(p, "cgi exit %s, cpu %.3fms (user %.3fms, sys %.3fms)%s",
                        exits, (user + sys) * 1e3, user * 1e3, sys * 1e3,
                        unknown ? ", some runs still running" : "");
}

void reqprof_cgi_finish(request_rec *top, rp_stats_t *stats)
{
    apr_array_header_t *runs = NULL;
    cgi_run_t *rv;
    int i, waited = 0;

    apr_pool_userdata_get((void **)&runs, RUNS_KEY, top->pool);
    if (!runs || runs->nelts == 0)
        return;
    rv = (cgi_run_t *)runs->elts;
    for (i = 0; i < runs->nelts; i++) {
        cgi_run_t *run = &rv[i];
        if (run->kind != KIND_CGI || !run->pid)
            continue;
        /* The script closed its output; it exits a moment later. */
        while (!peek_exit(run) && waited < WAIT_MAX_US) {
            apr_sleep(WAIT_STEP_US);
            waited += WAIT_STEP_US;
        }
    }
    if (!stats)
        return;
    for (i = 0; i < stats->nfuncs; i++) {
        rp_func_t *f = &stats->funcs[i];
        if (f->line == 1 && !strcmp(f->name, CGI_LABEL))
            f->name = describe(top->pool, rv, runs->nelts, f->file);
    }
}
