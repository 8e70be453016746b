/*
 * reqprof_cgi.c - each CGI run is an entry of its own, keyed by the
 * script's path, called from mod_cgi's or mod_cgid's handler entry.
 *
 * The entry's key is the same for every run of a script,
 * "/usr/lib/cgi-bin/x.cgi:1(cgi)", so profiles of one URL merge. Below it:
 *  - "read output": time spent blocked reading the script's output, by
 *    whichever filter reads it (DEFLATE, CACHE_SAVE, CONTENT_LENGTH). The
 *    output reaches the filters as a PIPE bucket (mod_cgid) or mod_cgi's
 *    own CGI bucket; both morph when read, so while the handler runs each
 *    timed filter gives such buckets a bucket type of ours whose read is
 *    the original's, timed and charged to the script, nested under the
 *    filter that reads (reqprof_cgi_mark);
 *  - "cpu user", "cpu sys": the script's CPU time (mod_cgi only), taken
 *    from the run's self time, and "exit N" / "signal N" called once per
 *    run that ended that way. All merge across files like any entry.
 *
 * mod_cgi forks the script from the thread running the request. A
 * pthread_atfork handler opens the run's frame at the fork itself and
 * learns the child's pid by comparing this thread's children (Linux's
 * /proc/self/task/TID/children) before and after. When the handler has
 * returned, waitid(WNOWAIT) reads the exited child's status and rusage
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

#include "rp_parse.h"
#include "rp_text.h"
#include "reqprof_cgi.h"
#include "reqprof_state.h"
#include "reqprof_tramp.h"

APLOG_USE_MODULE(reqprof);

#define CGI_LABEL "cgi"
#define MAX_CHILDREN 64
#define WAIT_STEP_US 1000
#define WAIT_MAX_US 10000

enum { KIND_CGI = 1, KIND_CGID = 2 };

/* One script run. */
typedef struct cgi_run {
    const char *script;    /* pstats file of the entry */
    int kind;
    pid_t pid;             /* 0 when not known */
    int exited;            /* status read */
    int status;            /* exit code, or -signal */
    int64_t user_us, sys_us;   /* CPU time, when exited */
} cgi_run_t;

/* The run whose handler is running on this thread: its fork (mod_cgi),
 * and the reads of its output by the filters (timed_read). */
typedef struct pending {
    reqprof_state_t *st;
    unsigned gen;
    request_rec *r;
    cgi_run_t *run;
    int frame;             /* opened at the fork; -1 before */
    int nbefore;
    pid_t before[MAX_CHILDREN];
    cgi_run_t runrec;
} pending_t;
static __thread pending_t *pending __attribute__((tls_model("initial-exec")));

#define N_CGI 8
static reqprof_slot_t slots_cgi[N_CGI];
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
    char path[64], buf[1024], *tok, *last;
    FILE *f;
    size_t n;
    int count = 0;

    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
    if (!(f = fopen(path, "re")))
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (tok = apr_strtok(buf, " \n", &last); tok && count < max;
         tok = apr_strtok(NULL, " \n", &last)) {
        apr_int64_t v;
        if (rp_parse_int64(tok, 1, INT32_MAX, &v) != RP_INT_OK)
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
    return reqprof_handler_is(r, "cgi-script")
           || reqprof_handler_is(r, "application/x-httpd-cgi");
}

static void init_run(pending_t *pd, request_rec *r, int kind)
{
    cgi_run_t *run = &pd->runrec;
    memset(run, 0, sizeof *run);
    run->script = rp_utf8_clean(r->pool, r->filename ? r->filename : r->uri, 1024);
    run->kind = kind;
    pd->run = run;
}

static int peek_exit(cgi_run_t *run);
static void add_run_children(pending_t *pd, rp_tick_t now);

/* A CGI request inside the handler's timed call h: the run's frame and
 * its children around fn. */
static __attribute__((noinline)) int
cgi_run(int i, request_rec *r, reqprof_hot_t h, int (*fn)(request_rec *))
{
    pending_t pd, *saved;
    void *saved_cgi;
    int rv;

    pd.st = h.st;
    pd.gen = h.gen;
    pd.r = r;
    init_run(&pd, r, kinds[i]);
    pd.frame = -1;
    pd.nbefore = -1;
    if (kinds[i] == KIND_CGID)
        pd.frame = rp_prof_enter_dynamic(h.st->prof, r, pd.run->script, 1,
                                         CGI_LABEL, rp_clock_now());
    saved = pending;
    pending = &pd;
    saved_cgi = h.st->cgi;
    h.st->cgi = &pd;
    rv = fn(r);
    pending = saved;
    if (h.st->gen == h.gen) {
        h.st->cgi = saved_cgi;
        if (pd.frame >= 0) {
            add_run_children(&pd, rp_clock_now());
            rp_prof_exit(h.st->prof, pd.frame, rp_clock_now());
        }
    }
    return rv;
}

/* Every request passes here (mod_cgi's handler declines the rest): one
 * copy, with the profile's enter and exit inlined as in the stubs'
 * bodies, and the CGI run's bookkeeping (a pending_t on the stack, which
 * brings a stack-protector check) out of line in cgi_run. */
static __attribute__((noinline)) int cgi_call(int i, request_rec *r)
{
    const reqprof_slot_t *s = &slots_cgi[i];
    int (*fn)(request_rec *) = (int (*)(request_rec *))s->orig;
    reqprof_hot_t h = reqprof_hot_enter_inl(r, s);
    int rv;

    if (!h.st)
        return fn(r);
    rv = is_cgi_request(r) ? cgi_run(i, r, h, fn) : fn(r);
    reqprof_hot_exit_r_inl(h, r);
    return rv;
}

#define T_CGI(a, b, c) \
static int t_cgi_##a##b##c(request_rec *r) { return cgi_call(REQPROF_SLOT_IDX(a, b, c), r); }
REQPROF_T10(T_CGI, 0, 0)
#define P_CGI(a, b, c) (void (*)(void))t_cgi_##a##b##c,
static void (*const tramp_cgi[10])(void) = { REQPROF_T10(P_CGI, 0, 0) };

int reqprof_cgi_wrap(reqprof_hook_link_t *e, int hook, int phase, const char *file)
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
    (void)name;
    return file[0] == '/';      /* the run and its children */
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
    run->user_us = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    run->sys_us = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
    return 1;
}

/* The handler returned: under mod_cgi the script closed its output and
 * exits a moment later (waited for up to 10 ms). Its CPU time and exit
 * become children of the run's entry, under names that are the same for
 * every run so that files merge. */
static void add_run_children(pending_t *pd, rp_tick_t now)
{
    rp_prof_t *prof = pd->st->prof;
    cgi_run_t *run = pd->run;
    const char *how;
    int waited = 0;

    if (run->kind != KIND_CGI || !run->pid)
        return;
    while (!peek_exit(run) && waited < WAIT_MAX_US) {
        apr_sleep(WAIT_STEP_US);
        waited += WAIT_STEP_US;
    }
    if (!run->exited) {
        rp_prof_add_child(prof, pd->frame, run->script, 1, "still running", 0, now);
        return;
    }
    rp_prof_add_child(prof, pd->frame, run->script, 1, "cpu user",
                      rp_clock_ticks_from_usec(run->user_us), now);
    rp_prof_add_child(prof, pd->frame, run->script, 1, "cpu sys",
                      rp_clock_ticks_from_usec(run->sys_us), now);
    how = run->status >= 0 ? apr_psprintf(pd->r->pool, "exit %d", run->status)
                           : apr_psprintf(pd->r->pool, "signal %d", -run->status);
    rp_prof_add_child(prof, pd->frame, run->script, 1, how, 0, now);
}

/* ---- the script's output, read by the filters ----
 * A bucket type of ours per type of morphing bucket met in a CGI
 * handler's output (PIPE, mod_cgi's CGI): the original's functions, with
 * read timed. proxy_t begins with the type, so b->type leads back to it. */
typedef struct proxy {
    apr_bucket_type_t type;
    const apr_bucket_type_t *orig;
} proxy_t;

#define N_PROXY_TYPES 8
static proxy_t proxies[N_PROXY_TYPES];
static int nproxies;            /* published with release order */
static int proxies_lock;        /* spin lock for the rare add */

static APR_INLINE int is_proxy(const apr_bucket_type_t *t)
{
    return (const void *)t >= (const void *)&proxies[0]
           && (const void *)t < (const void *)&proxies[N_PROXY_TYPES];
}

static apr_status_t timed_read(apr_bucket *b, const char **str, apr_size_t *len,
                               apr_read_type_e block);

/* Our type standing for orig, made on first sight; NULL when full. */
static const apr_bucket_type_t *proxy_for(const apr_bucket_type_t *orig)
{
    int i, n = __atomic_load_n(&nproxies, __ATOMIC_ACQUIRE);
    const apr_bucket_type_t *found = NULL;

    for (i = 0; i < n; i++)
        if (proxies[i].orig == orig)
            return &proxies[i].type;
    while (__atomic_exchange_n(&proxies_lock, 1, __ATOMIC_ACQUIRE))
        ;
    for (i = 0; i < nproxies && proxies[i].orig != orig; i++)
        ;
    if (i < nproxies)
        found = &proxies[i].type;
    else if (nproxies < N_PROXY_TYPES) {
        proxies[i].type = *orig;
        proxies[i].type.read = timed_read;
        proxies[i].orig = orig;
        __atomic_store_n(&nproxies, i + 1, __ATOMIC_RELEASE);
        found = &proxies[i].type;
    }
    __atomic_store_n(&proxies_lock, 0, __ATOMIC_RELEASE);
    return found;
}

static apr_status_t timed_read(apr_bucket *b, const char **str, apr_size_t *len,
                               apr_read_type_e block)
{
    const apr_bucket_type_t *orig = ((const proxy_t *)b->type)->orig;
    const apr_bucket_type_t *mine = b->type;
    pending_t *pd = pending;
    apr_bucket *next = APR_BUCKET_NEXT(b);
    apr_status_t rv;
    int frame = -1;

    /* The original read sees its own type, and morphs b as it likes. */
    b->type = orig;
    if (pd && pd->st->gen == pd->gen)
        frame = rp_prof_enter_dynamic(pd->st->prof, NULL, pd->run->script, 1,
                                      "read output", rp_clock_now());
    rv = orig->read(b, str, len, block);
    if (frame >= 0 && pd->st->gen == pd->gen)
        rp_prof_exit(pd->st->prof, frame, rp_clock_now());
    /* The rest of the output is a new bucket of the same kind after b. */
    if (APR_BUCKET_NEXT(b) != next && APR_BUCKET_NEXT(b)->type == orig)
        APR_BUCKET_NEXT(b)->type = mine;
    else if (b->type == orig)      /* not morphed (EAGAIN): still the script's */
        b->type = mine;
    return rv;
}

void reqprof_cgi_mark(apr_bucket_brigade *bb)
{
    apr_bucket *b;
    /* APR_BRIGADE_SENTINEL's offsetof through a null pointer is undefined
     * behaviour (UBSan says so): the ring ends where a bucket's link is
     * the brigade's list head itself. */
    for (b = APR_BRIGADE_FIRST(bb); (void *)&b->link != (void *)&bb->list;
         b = APR_BUCKET_NEXT(b)) {
        const apr_bucket_type_t *t;
        /* The script's output is the one morphing data bucket (unknown
         * length) the handler passes on. */
        if (b->length != (apr_size_t)-1 || APR_BUCKET_IS_METADATA(b)
            || is_proxy(b->type))
            continue;
        if ((t = proxy_for(b->type)) != NULL)
            b->type = t;
    }
}
