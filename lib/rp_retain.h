/*
 * rp_retain.h - ProfileMaxFiles and ProfileMaxDirSize's bookkeeping: the
 * files of one ProfileDir in a ring, oldest first, in memory that many
 * processes share, kept within a file count and a byte count without a
 * lock.
 *
 * A writer appends its file (a compare-and-swap on the tail reserves a
 * slot; the slot's sequence number, stored last, publishes it), adds its
 * size to an atomic byte count, then removes the oldest files (a
 * compare-and-swap on the head claims each) while a limit is exceeded.
 * Several writers at once each claim different files, so at rest the
 * directory holds at most the limits. Removing a file is the caller's
 * business (a callback), so this file knows no directory and does no I/O.
 *
 * The ring has RP_RETAIN_SLACK more slots than the file limit: writers
 * between reserving and evicting. With only a byte limit it holds
 * RP_RETAIN_SIZE_ONLY_FILES files. APR only.
 */
#ifndef RP_RETAIN_H
#define RP_RETAIN_H

#include <apr.h>
#include <apr_time.h>

#define RP_RETAIN_SLACK            256
#define RP_RETAIN_SIZE_ONLY_FILES  16384
#define RP_RETAIN_NAME_CAP         256   /* a file name (NAME_MAX 255) and its NUL */

typedef struct rp_retain_ring rp_retain_ring_t;

/* Removes the file called name (within the ring's directory). */
typedef void (*rp_retain_remove_fn)(void *ctx, const char *name);

/* Slots a ring for max_files needs (0: only a byte limit), and the bytes
 * of memory a ring of that many slots takes. */
apr_uint32_t rp_retain_slots_for(apr_uint32_t max_files);
apr_size_t rp_retain_ring_bytes(apr_uint32_t slots);

/* Lay out an empty ring of `slots` slots at mem (rp_retain_ring_bytes
 * bytes, any content), with the limits given. */
rp_retain_ring_t *rp_retain_ring_init(void *mem, apr_uint32_t slots,
                                      apr_uint32_t max_files, apr_uint64_t max_bytes);

/* Change the limits (single writer, while nobody adds: a restart). */
void rp_retain_set_limits(rp_retain_ring_t *rg, apr_uint32_t max_files,
                          apr_uint64_t max_bytes);

apr_uint32_t rp_retain_slots(const rp_retain_ring_t *rg);
apr_uint32_t rp_retain_count(const rp_retain_ring_t *rg);   /* files recorded */
apr_uint64_t rp_retain_bytes(const rp_retain_ring_t *rg);   /* their bytes */

/* Record name (size bytes) as the newest file, then remove the oldest
 * (through rm) while a limit is exceeded. Returns 0 when the file was not
 * recorded: its name is RP_RETAIN_NAME_CAP bytes or longer, or the ring
 * stayed full (writers stalled between reserving and publishing for
 * ~45 ms: a full ring waits that long for them, yielding, then sleeping).
 * Any number of threads and processes may call at once. */
int rp_retain_add(rp_retain_ring_t *rg, const char *name, apr_uint64_t size,
                  rp_retain_remove_fn rm, void *ctx);

/* Whether a directory entry counts as a profile: a name ending in .prof,
 * .callgrind, .json, .folded or .pb.gz that does not start with '.'. */
int rp_retain_is_profile_name(const char *name);

/* Files found in the directory when the ring is made. */
typedef struct rp_retain_found {
    const char *name;
    apr_time_t mtime;
    apr_uint64_t size;
} rp_retain_found_t;

/* Record the files found (reordered in place, oldest first by mtime,
 * then name), removing through rm what the limits leave no room for. */
void rp_retain_fill(rp_retain_ring_t *rg, rp_retain_found_t *found, int n,
                    rp_retain_remove_fn rm, void *ctx);

#endif
