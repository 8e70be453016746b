/*
 * reqprof_writer.c - ProfileWriteThread.
 *
 * Creating a file links a name into ProfileDir, and the kernel does that
 * under the directory's lock. When every worker thread of a busy child
 * writes its own request's file, they queue for that lock, and one that is
 * preempted while it holds it (a voluntary preemption point in the
 * directory code, on a machine whose CPUs are all busy) holds up every
 * other writer for a scheduler slice: on this project's 2-vCPU VM a
 * worker spent milliseconds at a time waiting in linkat, and the child
 * more CPU a file than a loop writing the same files alone
 * (docs/performance, sixteenth round).
 *
 * So a request's files are copied into a queue and one thread per child
 * writes them, in the order they came. The request's thread only copies
 * (one malloc, one memcpy, a mutex held for a few stores), and a .prof
 * filled in from its plan is written straight into the queued block, with
 * no copy; under a steady load it wakes no one (NAP_USEC), and the writer
 * lets waiting requests run between files (step_aside). What is queued
 * is bounded (REQPROF_WRITER_MAX_BYTES): past it the request writes its
 * own file, as without the writer, so a writer that falls behind costs
 * latency, never a profile. At the child's exit the writer writes what is
 * queued before it is joined.
 *
 * Only files named after logging go this way: a name reserved before
 * mod_log_config logs it (reqprof_output_reserve) is written by the
 * request, which holds the reservation.
 */
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "reqprof_thread.h"
#include "reqprof_writer.h"

APLOG_USE_MODULE(reqprof);

struct reqprof_writer_job {
    struct reqprof_writer_job *next;
    server_rec *s;
    const reqprof_srv_t *sc;
    apr_size_t len;
    char *data;                 /* after the name, in the same block */
    char name[1];
};

static reqprof_writer_fn write_fn;      /* NULL: no writer in this child */
static apr_pool_t *writer_pool;         /* its own allocator: the writer's */
/* Its mutex guards the rest; its condition is signalled for a job or to
 * stop. */
static reqprof_thread_t writer;
static reqprof_writer_job_t *head, *tail;
static apr_size_t queued;               /* bytes of file content queued */
static int sleeping;                    /* until signalled: a job wakes it */
static int napping;                     /* for a nap: only NAP_BYTES wake it */

/* Waking a sleeping thread is a system call, and on a VM whose other CPU
 * is idle an interrupt sent to it: ~8 us of the request's CPU at a fixed
 * load of 3,200 requests a second (docs/performance, seventeenth round).
 * So while files come faster than one a nap, the writer wakes by itself
 * every NAP_USEC and writes what came meanwhile: a file waits at most
 * that long, and requests wake no one, unless NAP_BYTES wait. When a nap
 * finds nothing, it sleeps until the next file again. */
#define NAP_USEC 10000
#define NAP_BYTES (1u << 20)

/* A batch is written a file after another, ~20 us each on tmpfs. A
 * request that wakes on the writer's CPU meanwhile waited for the rest of
 * the batch, and at a fixed load that wait was the .prof's p99: +258 us
 * over no module's against +44 with the writer stepping aside
 * (apr_thread_yield) between files (docs/performance, eighteenth round).
 * It steps aside only while it keeps up (a batch under NAP_BYTES): on a
 * saturated server, yielding after every file made p99 worse (14,030 us
 * against 9,670), the writer falling behind the requests it let run. */

static void *APR_THREAD_FUNC reqprof_writer_thread(apr_thread_t *thd, void *data)
{
    apr_pool_t *p = data;       /* the writer's alone */
    apr_time_t woke = 0;        /* when a file last woke it */
    int nap = 0;                /* its next wait is a nap */

    (void)thd;
    apr_thread_mutex_lock(writer.mutex);
    for (;;) {
        reqprof_writer_job_t *j = head;
        apr_size_t len;
        int step_aside;
        if (!j) {
            if (writer.stopping)
                break;
            if (nap) {
                napping = 1;
                apr_thread_cond_timedwait(writer.cond, writer.mutex, NAP_USEC);
                napping = 0;
                nap = head != NULL;
            }
            else {
                apr_time_t now;
                sleeping = 1;
                apr_thread_cond_wait(writer.cond, writer.mutex);
                sleeping = 0;
                now = apr_time_now();
                nap = now - woke < NAP_USEC;
                woke = now;
            }
            continue;
        }
        /* The whole queue at once: the lock once a batch, not twice a
         * file, while requests queue more. */
        step_aside = queued < NAP_BYTES;
        head = tail = NULL;
        apr_thread_mutex_unlock(writer.mutex);
        len = 0;
        while (j) {
            reqprof_writer_job_t *next = j->next;
            write_fn(p, j->s, j->sc, j->name, j->data, j->len);
            apr_pool_clear(p);
            len += j->len;
            free(j);
            j = next;
            if (j && step_aside)
                apr_thread_yield();
        }
        apr_thread_mutex_lock(writer.mutex);
        queued -= len;
    }
    apr_thread_mutex_unlock(writer.mutex);
    return NULL;
}

char *reqprof_writer_job(const char *name, apr_size_t len, reqprof_writer_job_t **jp)
{
    apr_size_t nlen;
    reqprof_writer_job_t *j;

    if (!write_fn || len > REQPROF_WRITER_MAX_BYTES)
        return NULL;
    nlen = strlen(name);
    if (!(j = malloc(sizeof *j + nlen + len)))
        return NULL;
    memcpy(j->name, name, nlen + 1);
    j->data = j->name + nlen + 1;
    j->len = len;
    *jp = j;
    return j->data;
}

int reqprof_writer_submit(reqprof_writer_job_t *j, server_rec *s, const reqprof_srv_t *sc)
{
    int wake;

    j->s = s;
    j->sc = sc;
    j->next = NULL;
    apr_thread_mutex_lock(writer.mutex);
    if (writer.stopping || queued > REQPROF_WRITER_MAX_BYTES - j->len) {
        apr_thread_mutex_unlock(writer.mutex);
        return 0;
    }
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    queued += j->len;
    wake = sleeping || (napping && queued >= NAP_BYTES);
    apr_thread_mutex_unlock(writer.mutex);
    if (wake)
        apr_thread_cond_signal(writer.cond);
    return 1;
}

void reqprof_writer_drop(reqprof_writer_job_t *j)
{
    free(j);
}

int reqprof_writer_queue(server_rec *s, const reqprof_srv_t *sc, const char *name,
                         const char *data, apr_size_t len)
{
    reqprof_writer_job_t *j;
    char *copy = reqprof_writer_job(name, len, &j);

    if (!copy)
        return 0;
    memcpy(copy, data, len);
    if (reqprof_writer_submit(j, s, sc))
        return 1;
    reqprof_writer_drop(j);
    return 0;
}

/* A pre-cleanup of pchild, as the flusher's (reqprof_batch.c): before
 * pchild's subpools (the thread's) go. The writer empties the queue,
 * then it is joined. */
static apr_status_t writer_exit(void *unused)
{
    (void)unused;
    reqprof_thread_stop(&writer);
    if (writer_pool) {
        apr_pool_destroy(writer_pool);
        writer_pool = NULL;
    }
    write_fn = NULL;
    return APR_SUCCESS;
}

/* Some server writes files. */
static int files_anywhere(server_rec *s)
{
    for (; s; s = s->next) {
        const reqprof_srv_t *sc = ap_get_module_config(s->module_config, &reqprof_module);
        if (sc->dir && sc->engine_anywhere)
            return 1;
    }
    return 0;
}

void reqprof_writer_child_init(apr_pool_t *pchild, server_rec *s, reqprof_writer_fn fn)
{
    const reqprof_srv_t *main_sc = ap_get_module_config(s->module_config, &reqprof_module);
    apr_status_t rv;

    write_fn = NULL;
    writer.thread = NULL;
    writer_pool = NULL;
    head = tail = NULL;
    queued = 0;
    sleeping = napping = 0;
    if (main_sc->write_thread == 0 || !files_anywhere(s))
        return;
    if ((rv = reqprof_thread_init(&writer, pchild)) != APR_SUCCESS
        || (rv = apr_pool_create_unmanaged_ex(&writer_pool, NULL, NULL)) != APR_SUCCESS) {
        writer_pool = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "RP0023: cannot set up ProfileWriteThread: requests write their "
                     "own files in this child");
        return;
    }
    write_fn = fn;          /* before the thread reads it */
    rv = reqprof_thread_start(&writer, pchild, reqprof_writer_thread, writer_pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "RP0024: cannot start the ProfileWriteThread thread: requests "
                     "write their own files in this child");
        write_fn = NULL;
        apr_pool_destroy(writer_pool);
        writer_pool = NULL;
        return;
    }
    apr_pool_pre_cleanup_register(pchild, NULL, writer_exit);
}
