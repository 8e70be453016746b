/*
 * rp_statusfile.h - the status page's counts in a file (ProfileStatusFile),
 * so that they survive a full stop and start.
 *
 * The file is the shared region's image behind a small header:
 *
 *   0  "RPSTATF\0"           magic
 *   8  u32 format (1)        this header's version
 *  12  u32 0                 reserved
 *  16  u64 bytes             the image's length
 *  24  u64 FNV-1a 64         of the image
 *  32  the image             rp_agg's region, its own header first
 *
 * Written to a temporary file beside it and renamed over it, so a reader
 * sees the old file or the new one, never half of one. Read back only
 * into a region of exactly the same layout (rp_agg's magic, version and
 * sizes); anything else is refused with a reason and the region is left
 * as it was. Little-endian, this machine's layout: not a transport format.
 * APR only.
 */
#ifndef RP_STATUSFILE_H
#define RP_STATUSFILE_H

#include <apr_pools.h>
#include "rp_agg.h"

#define RP_STATUSFILE_HEADER 32

/* Write a's region to path atomically (path.tmp.PID, then rename), the
 * data synced to disk before the rename. */
apr_status_t rp_statusfile_write(const rp_agg_t *a, const char *path, apr_pool_t *p);

/* The same with the sync optional: without it the rename is still atomic
 * for every process (a crash of httpd loses nothing written), but a crash
 * of the machine may find the previous file or none. For writes made on a
 * request's thread, which must not wait for the disk. */
apr_status_t rp_statusfile_write_ex(const rp_agg_t *a, const char *path, apr_pool_t *p,
                                    int sync);

/* Load path into a (which must be freshly made: nothing counted yet).
 * Returns 1 when loaded; 0 when there is no file; -1 when the file was
 * not used, with *why saying why (another layout, damaged, unreadable). */
int rp_statusfile_read(rp_agg_t *a, const char *path, apr_pool_t *p, const char **why);

/* Whether a minute (rp_win_minute_usec) has passed since the last save of
 * a's file; 1 to exactly one caller, which then writes it. now: usec. */
int rp_statusfile_due(rp_agg_t *a, apr_time_t now);

#endif
