/*
 * reqprof_writer.h - ProfileWriteThread: a request's profile files
 * written by a thread of the child's own once the request has ended.
 */
#ifndef REQPROF_WRITER_H
#define REQPROF_WRITER_H

#include "httpd.h"
#include "apr_pools.h"

#include "reqprof_config.h"

/* Writes one file (in the writer's pool p, cleared after each) and
 * reports its own failures: s is the request's server, for the log. */
typedef void (*reqprof_writer_fn)(apr_pool_t *p, server_rec *s, const reqprof_srv_t *sc,
                                  const char *name, const char *data, apr_size_t len);

/* Starts the child's writer when ProfileWriteThread is on (the default)
 * and some server has a ProfileDir; it writes with fn. A pre-cleanup of
 * pchild lets it write what is queued, then joins it. */
void reqprof_writer_child_init(apr_pool_t *pchild, server_rec *s, reqprof_writer_fn fn);

/* Hands a copy of data to the writer: 1 when queued. 0 (no writer, no
 * memory, or REQPROF_WRITER_MAX_BYTES already waiting): the caller writes
 * the file itself, so nothing is lost when the writer falls behind. */
int reqprof_writer_queue(server_rec *s, const reqprof_srv_t *sc, const char *name,
                         const char *data, apr_size_t len);

/* The same in two steps, for content made in place: a block of len
 * bytes for the file name (NULL: no writer, too big or no memory), then
 * queued with its server. When submit says 0 (the queue is full or the
 * child stopping), the caller writes the content itself, then drops the
 * job. */
typedef struct reqprof_writer_job reqprof_writer_job_t;
char *reqprof_writer_job(const char *name, apr_size_t len, reqprof_writer_job_t **jp);
int reqprof_writer_submit(reqprof_writer_job_t *j, server_rec *s, const reqprof_srv_t *sc);
void reqprof_writer_drop(reqprof_writer_job_t *j);

/* At most this much file content waits for the writer in one child. */
#define REQPROF_WRITER_MAX_BYTES (16u << 20)

#endif
