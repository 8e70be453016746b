/*
 * rp_file.h - write a profile file atomically and without overwriting.
 */
#ifndef RP_FILE_H
#define RP_FILE_H

#include <apr_pools.h>
#include <apr_file_info.h>

/* Write len bytes to dir/name: first to an unnamed file in dir (Linux's
 * O_TMPFILE, linked through /proc/self/fd) or, where the filesystem or
 * kernel has no such thing or /proc is missing, to a hidden temporary
 * file (".rp-<pid>-<seq>.tmp"), then hard-link it to the final name. When
 * dir/name exists, "-1", "-2", ... is inserted before the last
 * '.'-extension (or appended) until a free name is found (at most 10000
 * tries, then EEXIST; the search starts where this process's last file
 * or reservation of the same name ended), so no file is ever overwritten
 * and no reader ever sees a partial file. Where link() is not supported
 * (EXDEV, EPERM,
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

/* A directory opened once and written into by descriptor: the unnamed
 * file is made with openat(dirfd, ".", O_TMPFILE) and linked with
 * linkat(fd, "", dirfd, name, AT_EMPTY_PATH) (through /proc/self/fd where
 * the kernel refuses that), so the usual file costs four system calls
 * (openat, write, linkat, close) and no lookup of the directory's path.
 * The descriptor is opened on first use, by whichever process and thread
 * writes first (so each child of a server opens its own), and closed when
 * p is cleared. A directory removed and made again under its path is
 * noticed (the write fails with ENOENT, the path is opened again); one
 * renamed away keeps receiving the files until p is cleared. */
typedef struct rp_dir rp_dir_t;

rp_dir_t *rp_dir_make(apr_pool_t *p, const char *path);
const char *rp_dir_path(const rp_dir_t *d);

/* rp_file_write_unique into d: the same names, guarantees and fallbacks
 * (a filesystem without O_TMPFILE or hard links goes by path as before). */
apr_status_t rp_file_write_in(apr_pool_t *p, rp_dir_t *d, const char *name,
                              const void *data, apr_size_t len,
                              apr_fileperms_t perms, const char **final_path);

/* Name reservations, for naming a file before it can be written (the
 * access log line that names a profile is written before the profile is
 * complete). Claims a free candidate among name, name-1, ... as
 * rp_file_write_unique would: a hidden file ".CANDIDATE.rsv" is created
 * exclusively in dir (the marker) and the candidate itself must not
 * exist. The search starts where this process's last reservation of the
 * same name ended and skips long taken runs by bisection, so a second's
 * worth of files of one name costs a probe or two each, not one per
 * earlier file; a name freed behind that point (a file deleted) is not
 * reused. Writers that all reserve first never pick the same name.
 *
 * The marker stays open and becomes the file: rp_file_write_reserved
 * writes the data into it, hard-links it to the claimed name (so no
 * reader sees a partial file) and removes the marker. That is one open,
 * one lstat, one write, one link, one unlink and one close per file.
 * rp_file_unreserve releases a reservation that will not be written;
 * destroying p does too. A marker left by a crash only makes its name
 * skipped. */
typedef struct rp_reservation rp_reservation_t;

apr_status_t rp_file_reserve(apr_pool_t *p, const char *dir, const char *name,
                             apr_fileperms_t perms, rp_reservation_t **reserved);

/* The name claimed (no directory). */
const char *rp_reservation_name(const rp_reservation_t *res);

/* Writes len bytes as the reserved name and releases the reservation,
 * whatever the outcome. If another writer that does not reserve took the
 * name meanwhile, or the filesystem has no hard links, the data goes
 * through rp_file_write_unique (next free name). On success *final_path
 * (from the reservation's pool) names the file written. A reservation
 * is written at most once: later calls return APR_EINVAL. */
apr_status_t rp_file_write_reserved(rp_reservation_t *res, const void *data,
                                    apr_size_t len, const char **final_path);

/* Releases res without writing (idempotent; NULL is ignored). */
void rp_file_unreserve(rp_reservation_t *res);

/* Where the next file of each name should go is kept in a small table;
 * by default each process has its own. Giving every process of a server
 * one table in memory they share (zeroed, created before they fork, at
 * least 8 bytes; a power of two of 8-byte slots is used) lets them take
 * different "-N" candidates with an atomic add instead of colliding and
 * searching. NULL goes back to the process's own table. */
void rp_file_share_hints(void *mem, apr_size_t size);

/* Test hook: when set, called before each step with the step's name:
 * "open" (the temporary), "write" (once, before the data), "link" (once
 * per candidate name), "reserve" (once per candidate rp_file_reserve
 * tries to claim); rp_file_write_reserved uses "write" and "link" too; a non-zero return is used as the error of that
 * step, exactly as if the system call had failed (so EEXIST on "link"
 * moves on to the next name and EXDEV selects the rename fallback). Lets
 * tests inject ENOSPC/EACCES deterministically. Process-global: set it
 * before threads start. NULL removes it. */
typedef apr_status_t (*rp_file_fault_fn)(const char *step);

/* Files get exactly their perms whatever the umask: a file whose mode the
 * umask cut is fchmod()ed. The umask is read once per process; call this
 * after changing it (tests do; httpd does not). */
void rp_file_reread_umask(void);
void rp_file_set_fault(rp_file_fault_fn fn);

#endif
