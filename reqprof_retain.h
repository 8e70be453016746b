/*
 * reqprof_retain.h - ProfileMaxFiles and ProfileMaxDirSize: each limited
 * ProfileDir's files in a ring in shared memory, oldest first.
 */
#ifndef REQPROF_RETAIN_H
#define REQPROF_RETAIN_H

#include "httpd.h"

typedef struct reqprof_retention reqprof_retention_t;

/* post_config: find or create (and fill, by one scan of the directory)
 * the ring of every ProfileDir that has limits. */
int reqprof_retain_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

/* A file of len bytes was written at path: count it, then remove the
 * oldest files while a limit is exceeded. s: the server whose file it is,
 * for the log; p: for the removed files' paths. */
void reqprof_retain_add(reqprof_retention_t *rt, server_rec *s, apr_pool_t *p,
                        const char *path, apr_size_t len);

#endif
