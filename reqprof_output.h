/*
 * reqprof_output.h - the files a kept request leaves in its ProfileDir
 * (ProfileFormat: pstats, callgrind, chrome, collapsed), their names, the
 * request notes naming them, and the ProfileMaxFiles/ProfileMaxDirSize
 * limits of each directory.
 */
#ifndef REQPROF_OUTPUT_H
#define REQPROF_OUTPUT_H

#include "httpd.h"
#include "rp_stats.h"
#include "reqprof_config.h"
#include "reqprof_state.h"

/* Write every configured format's file for the finished request (after
 * rp_prof_end). stats: rp_prof_stats of it, or NULL (made here when a
 * format needs it); shape: the tag of its frame shape
 * (reqprof_tree_record), 0: none, with which a .prof file of a shape met
 * before is written from the frames alone. A file named now is usually
 * queued for the child's writer (reqprof_writer.c); one the request
 * writes itself (no writer, queue full, or a name reserved for the access
 * log) sets the notes reqprof-file (the first file written) and
 * reqprof-file-<format> for each. Never fails the request. */
void reqprof_output_write(request_rec *top, reqprof_state_t *st,
                          const rp_stats_t *stats, const reqprof_srv_t *sc,
                          uint64_t shape);

/* log_transaction, before mod_log_config: claim the names of the files a
 * kept request will write and set the notes, so the access log line can
 * name them (the files themselves are written when the profile is
 * complete, after logging). {elapsed} in these names is the time up to
 * logging. */
int reqprof_output_reserve(request_rec *r);

/* register_hooks: reqprof_output_reserve, just before mod_log_config. */
void reqprof_output_register_hooks(apr_pool_t *p);

/* child_init: start the child's writer (ProfileWriteThread). */
void reqprof_output_child_init(apr_pool_t *pchild, server_rec *s);

/* post_config: set up the retention of every ProfileDir with limits. */
int reqprof_output_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);

#endif
