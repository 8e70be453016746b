/*
 * rp_file.h - write a profile file atomically and without overwriting.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include <apr_pools.h>
#include <apr_file_info.h>

/* Write len bytes to dir/name: first to a hidden temporary file in dir
 * (".rp-<pid>-<seq>.tmp"), then hard-link it to the final name. When
 * dir/name exists, "-1", "-2", ... is inserted before the last
 * '.'-extension (or appended) until a free name is found (at most 10000
 * tries, then EEXIST), so no file is ever overwritten and no reader ever
 * sees a partial file. Where link() is not supported (EXDEV, EPERM,
 * ENOTSUP) the name is claimed with an exclusive create and the temporary
 * renamed over it: readers may then briefly see an empty file. The
 * temporary is always removed. perms are APR_FPROT_* bits as for
 * apr_file_open, e.g. APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD
 * (that is 0x0640: an octal 0640 means other bits), set exactly whatever
 * the process umask.
 * Safe from many threads (each with its own p) and processes at once.
 * On success *final_path (from p) names the file written; on error it is
 * NULL. Returns the first APR error met; APR_EINVAL when name is empty,
 * "." or "..", or holds a '/'. */
apr_status_t rp_file_write_unique(apr_pool_t *p, const char *dir,
                                  const char *name, const void *data,
                                  apr_size_t len, apr_fileperms_t perms,
                                  const char **final_path);

/* Name reservations, for naming a file before it can be written (the
 * access log line that names a profile is written before the profile is
 * complete). Claims the first free candidate among name, name-1, ... as
 * rp_file_write_unique would pick it: a hidden marker ".CANDIDATE.rsv" is
 * created exclusively in dir and the candidate itself must not exist.
 * *reserved (from p) is the claimed name. Writers that all reserve first
 * never pick the same name; rp_file_write_unique(dir, *reserved) then
 * writes exactly that name, and rp_file_unreserve removes the marker
 * (after writing, or when the file will not be written). A marker left by
 * a crash only makes its name skipped. */
apr_status_t rp_file_reserve(apr_pool_t *p, const char *dir, const char *name,
                             apr_fileperms_t perms, const char **reserved);
void rp_file_unreserve(apr_pool_t *p, const char *dir, const char *reserved);

/* Test hook: when set, called before each step with the step's name:
 * "open" (the temporary), "write" (once, before the data), "link" (once
 * per candidate name); a non-zero return is used as the error of that
 * step, exactly as if the system call had failed (so EEXIST on "link"
 * moves on to the next name and EXDEV selects the rename fallback). Lets
 * tests inject ENOSPC/EACCES deterministically. Process-global: set it
 * before threads start. NULL removes it. */
typedef apr_status_t (*rp_file_fault_fn)(const char *step);
void rp_file_set_fault(rp_file_fault_fn fn);

#endif
