/*
 * rp_file.h - write a profile file atomically and without overwriting.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include <apr_pools.h>
#include <apr_file_info.h>

/* Write len bytes to dir/name: first to a hidden temporary file in dir,
 * then hard-link it to the final name. When dir/name exists, "-1", "-2",
 * ... is inserted before the last '.'-extension (or appended) until a free
 * name is found, so no file is ever overwritten and no reader ever sees a
 * partial file. The temporary is always removed. perms as for
 * apr_file_open (e.g. 0640). On success *final_path (from p) names the
 * file written. Returns the first APR error met. */
apr_status_t rp_file_write_unique(apr_pool_t *p, const char *dir,
                                  const char *name, const void *data,
                                  apr_size_t len, apr_fileperms_t perms,
                                  const char **final_path);

/* Test hook: when set, called before each write/link step with the step's
 * name ("open", "write", "link"); a non-zero return is used as the error
 * of that step. Lets tests inject ENOSPC/EACCES deterministically. */
typedef apr_status_t (*rp_file_fault_fn)(const char *step);
void rp_file_set_fault(rp_file_fault_fn fn);

#endif
