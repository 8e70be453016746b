/*
 * rp_file.c - write a profile file atomically and without overwriting.
 *
 * The data goes to an unnamed file in the target directory (Linux's
 * O_TMPFILE), or where that is not supported to a hidden temporary, which
 * is then hard-linked to the first free name: link() fails with EEXIST
 * instead of replacing, so concurrent writers (threads or processes)
 * can never clobber each other's files, and readers only ever see whole
 * files. Filesystems without hard links get a rename() fallback.
 */
#define _GNU_SOURCE 1           /* O_TMPFILE, AT_SYMLINK_FOLLOW */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_portable.h>
#include <apr_strings.h>

#include "rp_file.h"

/* Free-name search stops after this many candidates ("x", "x-1", ...). */
#define RP_FILE_TRIES 10000

/* Candidates tried with link() one by one before the rest are skipped by
 * a stat() search. Werkzeug's default format names files to the second,
 * so every request of one second shares a name: probing one link() per
 * taken candidate cost O(n) per file and O(n^2) per second (make bench
 * measured a 12-byte file falling from 19000 to 1400 req/s). */
#define RP_FILE_LINEAR 8

/* A temporary name already taken (a stale file of a crashed process whose
 * pid came back) is skipped this many times before giving up. */
#define RP_FILE_TMP_TRIES 100

/* Process-wide sequence for temporary names; with the pid it makes them
 * unique across threads and processes. */
static volatile apr_uint32_t rp_tmp_seq;

/* Test hook; set before threads start, read without a lock. */
static rp_file_fault_fn rp_fault;

#ifdef O_TMPFILE
/* Set once linkat() through /proc/self/fd has failed for want of /proc (a
 * chroot): this process then goes the hidden-temporary way. */
static volatile int rp_proc_missing;
#endif

void rp_file_set_fault(rp_file_fault_fn fn)
{
    rp_fault = fn;
#ifdef O_TMPFILE
    rp_proc_missing = 0;
#endif
}

static apr_status_t rp_step(const char *step)
{
    rp_file_fault_fn fn = rp_fault;
    return fn != NULL ? fn(step) : APR_SUCCESS;
}

/* Errors by which link() says "this filesystem has no hard links". */
static int rp_no_hardlinks(apr_status_t rv)
{
    return rv == APR_FROM_OS_ERROR(EXDEV) || rv == APR_FROM_OS_ERROR(EPERM)
        || rv == APR_FROM_OS_ERROR(ENOTSUP)
#if defined(EOPNOTSUPP) && EOPNOTSUPP != ENOTSUP
        || rv == APR_FROM_OS_ERROR(EOPNOTSUPP)
#endif
        || rv == APR_FROM_OS_ERROR(ENOSYS);
}

/* Writes candidate i of name after the "dir/" already in buf at base:
 * "a.prof" -> "a-3.prof", "a" -> "a-3". A leading '.' is not an
 * extension. */
static void rp_candidate(char *buf, apr_size_t base, const char *name,
                         apr_size_t namelen, const char *dot, int i)
{
    char *o = buf + base;
    apr_size_t stem = dot != NULL ? (apr_size_t)(dot - name) : namelen;

    memcpy(o, name, stem);
    o += stem;
    if (i > 0) {
        /* "-%d" without printf: every file of a busy second has one */
        char digits[12], *d = digits + sizeof digits;
        do {
            *--d = (char)('0' + i % 10);
            i /= 10;
        } while (i > 0);
        *o++ = '-';
        memcpy(o, d, (apr_size_t)(digits + sizeof digits - d));
        o += digits + sizeof digits - d;
    }
    memcpy(o, name + stem, namelen - stem);
    o[namelen - stem] = '\0';
}

/* The candidates of one name in one directory, probed with lstat(). */
typedef struct rp_probe {
    apr_pool_t *pool;
    const char *dir;
    char *buf;              /* "dir/" then the candidate, rewritten per try */
    apr_size_t base;        /* where the candidate starts in buf */
    const char *name;
    apr_size_t namelen;
    const char *dot;        /* the extension's '.', or NULL */
    int markers;            /* a reservation marker makes a name taken too */
} rp_probe_t;

static const char *rp_marker(apr_pool_t *p, const char *dir, const char *name);

/* Candidate i is taken when its file exists (or, with markers, its
 * reservation marker). Leaves candidate i in buf. */
static int rp_taken(const rp_probe_t *pr, int i)
{
    struct stat st;

    rp_candidate(pr->buf, pr->base, pr->name, pr->namelen, pr->dot, i);
    if (lstat(pr->buf, &st) == 0)
        return 1;
    return pr->markers
           && lstat(rp_marker(pr->pool, pr->dir, pr->buf + pr->base), &st) == 0;
}

/* The first candidate >= from that is not taken (RP_FILE_TRIES if none),
 * in O(log n) probes: doubling steps, then bisection. It assumes taken
 * names form a run, which holds unless files are deleted; a wrong guess
 * only means the exclusive step (link, marker) fails with EEXIST and the
 * search goes on one by one, so correctness never depends on it. */
static int rp_skip_taken(const rp_probe_t *pr, int from)
{
    int lo = from - 1, hi = from, step = 1;     /* lo is known taken */

    while (hi < RP_FILE_TRIES && rp_taken(pr, hi)) {
        lo = hi;
        step *= 2;
        hi = lo + step < RP_FILE_TRIES ? lo + step : RP_FILE_TRIES;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (rp_taken(pr, mid))
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* A probe of name in dir, with its buffer. */
static void rp_probe_init(rp_probe_t *pr, apr_pool_t *p, const char *dir,
                          const char *name, int markers)
{
    apr_size_t dirlen = strlen(dir);
    int slash = dir[dirlen - 1] != '/';

    pr->pool = p;
    pr->dir = dir;
    pr->name = name;
    pr->namelen = strlen(name);
    pr->dot = strrchr(name, '.');
    /* A compression suffix keeps the extension before it: "a.pb.gz" ->
     * "a-1.pb.gz", not "a.pb-1.gz". */
    if (pr->dot != NULL && pr->dot > name && !strcmp(pr->dot, ".gz")) {
        const char *prev = pr->dot - 1;
        while (prev > name && *prev != '.')
            prev--;
        if (prev > name)
            pr->dot = prev;
    }
    if (pr->dot == name)
        pr->dot = NULL;             /* a leading '.' is not an extension */
    pr->markers = markers;
    pr->base = dirlen + (apr_size_t)slash;
    pr->buf = apr_palloc(p, pr->base + pr->namelen + 8);
    memcpy(pr->buf, dir, dirlen);
    if (slash)
        pr->buf[dirlen] = '/';
}

/* APR_FPROT_* bits as a mode_t (they are not the same numbers). */
static mode_t rp_mode(apr_fileperms_t perms)
{
    static const struct { apr_fileperms_t apr; mode_t mode; } bits[] = {
        { APR_FPROT_UREAD, S_IRUSR }, { APR_FPROT_UWRITE, S_IWUSR },
        { APR_FPROT_UEXECUTE, S_IXUSR }, { APR_FPROT_GREAD, S_IRGRP },
        { APR_FPROT_GWRITE, S_IWGRP }, { APR_FPROT_GEXECUTE, S_IXGRP },
        { APR_FPROT_WREAD, S_IROTH }, { APR_FPROT_WWRITE, S_IWOTH },
        { APR_FPROT_WEXECUTE, S_IXOTH },
    };
    mode_t m = 0;
    apr_size_t i;

    for (i = 0; i < sizeof bits / sizeof bits[0]; i++)
        if (perms & bits[i].apr)
            m |= bits[i].mode;
    return m;
}

/* The process umask, read once from /proc (umask() can only be read by
 * setting it, which races with other threads); 0777 when unknown, so
 * every mode gets fixed. httpd does not change it after start. */
static volatile int rp_umask_cached = -1;

void rp_file_reread_umask(void)
{
    rp_umask_cached = -1;
}

static int rp_umask(void)
{
    int um = rp_umask_cached;

    if (um < 0) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[128];
        um = 0777;
        while (f != NULL && fgets(line, sizeof line, f) != NULL)
            if (sscanf(line, "Umask: %o", (unsigned *)&um) == 1)
                break;
        if (f != NULL)
            fclose(f);
        rp_umask_cached = um;
    }
    return um;
}

/* Gives the open file fd exactly mode, if the umask took some away (the
 * unnamed file and the hidden temporary alike). */
static apr_status_t rp_fix_fd_mode(int fd, mode_t mode)
{
    if ((mode & (mode_t)rp_umask()) == 0 || fchmod(fd, mode) == 0)
        return APR_SUCCESS;
    return APR_FROM_OS_ERROR(errno);
}

static apr_status_t rp_fix_mode(apr_file_t *f, apr_fileperms_t perms)
{
    apr_os_file_t fd;
    apr_status_t rv = apr_os_file_get(&fd, f);

    return rv != APR_SUCCESS ? rv : rp_fix_fd_mode(fd, rp_mode(perms));
}

/* Creates and opens a fresh temporary file in dir, with exactly perms:
 * open() applies the process umask, which httpd inherits from whoever
 * started it (077 would take the group's read, 000 is harmless here). */
static apr_status_t rp_open_tmp(apr_pool_t *p, const char *dir,
                                const char *sep, apr_fileperms_t perms,
                                apr_file_t **fp, const char **tmp)
{
    apr_status_t rv;
    int tries = 0;

    do {
        *tmp = apr_psprintf(p, "%s%s.rp-%ld-%u.tmp", dir, sep, (long)getpid(),
                            (unsigned)apr_atomic_inc32(&rp_tmp_seq));
        rv = rp_step("open");
        if (rv == APR_SUCCESS)
            rv = apr_file_open(fp, *tmp, APR_FOPEN_CREATE | APR_FOPEN_EXCL
                               | APR_FOPEN_WRITE | APR_FOPEN_BINARY, perms, p);
    } while (APR_STATUS_IS_EEXIST(rv) && ++tries < RP_FILE_TMP_TRIES);
    if (rv != APR_SUCCESS)
        return rv;
    if ((rv = rp_fix_mode(*fp, perms)) != APR_SUCCESS) {
        apr_file_close(*fp);
        apr_file_remove(*tmp, p);
    }
    return rv;
}

/* Writes all of data, looping on short writes, and closes f. */
static apr_status_t rp_write_close(apr_file_t *f, const void *data,
                                   apr_size_t len)
{
    apr_size_t off = 0;
    apr_status_t rv = rp_step("write"), crv;

    while (rv == APR_SUCCESS && off < len) {
        apr_size_t n = len - off;
        rv = apr_file_write(f, (const char *)data + off, &n);
        if (rv == APR_SUCCESS && n == 0)
            rv = APR_FROM_OS_ERROR(EIO);    /* no progress: never spin */
        off += n;
    }
    /* Close errors count too: NFS reports a full disk only there. */
    crv = apr_file_close(f);
    return rv != APR_SUCCESS ? rv : crv;
}

/* Where the next file of a name should go: a table of slots, each one
 * 64-bit word with a name's hash in the high half and its next candidate
 * in the low half, so no reader sees one name's hash with another's index.
 * A writer claims a candidate with one atomic add, so writers that share
 * the table (threads, and processes when the glue puts it in shared
 * memory: rp_file_share_hints) take different candidates and the usual
 * case is one link() per file. Werkzeug's default names share one name
 * per second; without a shared counter two httpd children writing it
 * alternately collided on every file (make bench under strace: 6.7
 * link() and 10 stat() calls per file). Only a hint: names of different
 * hashes in one slot take turns, and a stale or torn guess costs a
 * search or leaves a gap in the "-N" numbers, never a shared name
 * (link() or the exclusive marker decides that). */
#define RP_HINTS_LOCAL 64
static uint64_t rp_hints_local[RP_HINTS_LOCAL];
static uint64_t *rp_hints = rp_hints_local;
static uint32_t rp_hints_mask = RP_HINTS_LOCAL - 1;

void rp_file_share_hints(void *mem, apr_size_t size)
{
    uint32_t n = 1;

    if (mem == NULL || size < sizeof(uint64_t)) {
        rp_hints = rp_hints_local;
        rp_hints_mask = RP_HINTS_LOCAL - 1;
        return;
    }
    while ((apr_size_t)n * 2 * sizeof(uint64_t) <= size && n < (1u << 20))
        n *= 2;
    rp_hints = mem;
    rp_hints_mask = n - 1;
}

/* A name in a directory: one counter per (directory, name), so a name's
 * first file in one ProfileDir is not numbered after those of another. */
static uint32_t rp_name_hash(const char *dir, const char *name)
{
    uint32_t h = 2166136261u;           /* FNV-1a */
    while (*dir)
        h = (h ^ (unsigned char)*dir++) * 16777619u;
    h = (h ^ '/') * 16777619u;
    while (*name)
        h = (h ^ (unsigned char)*name++) * 16777619u;
    return h;
}

/* The candidate this writer tries first (RP_FILE_TRIES when the name's
 * candidates are used up). */
static int rp_hint_claim(uint32_t hash)
{
    uint64_t *w = &rp_hints[hash & rp_hints_mask];
    uint64_t cur = __atomic_load_n(w, __ATOMIC_RELAXED);

    for (;;) {
        if ((uint32_t)(cur >> 32) == hash) {
            uint64_t prev = __atomic_fetch_add(w, 1, __ATOMIC_RELAXED);
            if ((uint32_t)(prev >> 32) == hash)
                return (uint32_t)prev < RP_FILE_TRIES ? (int)(uint32_t)prev
                                                      : RP_FILE_TRIES;
            /* Another name took the slot between load and add (our add
             * only left a gap in its numbers): look again. */
            cur = __atomic_load_n(w, __ATOMIC_RELAXED);
            continue;
        }
        if (__atomic_compare_exchange_n(w, &cur, ((uint64_t)hash << 32) | 1u, 0,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return 0;
    }
}

/* The writer that claimed candidate `claimed` wrote nothing: the next
 * writer may have it, if nobody claimed one since. */
static void rp_hint_unclaim(uint32_t hash, int claimed)
{
    uint64_t *w = &rp_hints[hash & rp_hints_mask];
    uint64_t cur = ((uint64_t)hash << 32) | (uint32_t)(claimed + 1);

    __atomic_compare_exchange_n(w, &cur, cur - 1, 0, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
}

/* The writer that claimed candidate `claimed` ended at `used` (a search
 * moved it past names taken behind the counter's back): the next writer
 * starts after it. */
static void rp_hint_used(uint32_t hash, int claimed, int used)
{
    uint64_t *w = &rp_hints[hash & rp_hints_mask];
    uint64_t cur = __atomic_load_n(w, __ATOMIC_RELAXED);
    uint64_t want = ((uint64_t)hash << 32) | (uint32_t)(used + 1);

    if (used == claimed)
        return;
    while ((uint32_t)(cur >> 32) == hash && cur < want
           && !__atomic_compare_exchange_n(w, &cur, want, 0, __ATOMIC_RELAXED,
                                           __ATOMIC_RELAXED))
        ;
}

/* Fallback without hard links: claim the name with an exclusive create,
 * then rename the temporary over that empty placeholder. Unlike link()
 * this has a window: between the two steps a reader can see an empty
 * file, and a crash there leaves one behind. It never shows a partial
 * file, and another writer cannot take the claimed name. */
static apr_status_t rp_claim_rename(apr_pool_t *p, const char *tmp,
                                    const char *final, apr_fileperms_t perms)
{
    apr_file_t *f;
    apr_status_t rv;

    rv = apr_file_open(&f, final, APR_FOPEN_CREATE | APR_FOPEN_EXCL
                       | APR_FOPEN_WRITE | APR_FOPEN_BINARY, perms, p);
    if (rv != APR_SUCCESS)
        return rv;
    apr_file_close(f);
    rv = apr_file_rename(tmp, final, p);
    if (rv != APR_SUCCESS)
        apr_file_remove(final, p);      /* our own empty placeholder */
    return rv;
}

/* The end of a write that claimed candidate start: written as candidate
 * i at path, or (rv not APR_SUCCESS) nothing written. Returns rv. */
static apr_status_t rp_hint_done(uint32_t hash, int start, int i, apr_status_t rv,
                                 const char *path, const char **final_path)
{
    if (rv == APR_SUCCESS) {
        rp_hint_used(hash, start, i);
        if (final_path != NULL)
            *final_path = path;
    }
    else
        rp_hint_unclaim(hash, start);
    return rv;
}

#ifdef O_TMPFILE
/* Set once linkat(AT_EMPTY_PATH) was refused (kernels before 6.10 want
 * CAP_DAC_READ_SEARCH for it): this process links through /proc/self/fd. */
static volatile int rp_empty_path_denied;

/* Links the unnamed file fd as pr's current candidate: relative to dirfd
 * when there is one (no lookup of the directory's path), by the file's
 * descriptor itself where the kernel allows it, else through
 * /proc/self/fd/N. */
static apr_status_t rp_link_anon(int fd, int dirfd, const rp_probe_t *pr)
{
    int at = dirfd >= 0 ? dirfd : AT_FDCWD;
    const char *target = dirfd >= 0 ? pr->buf + pr->base : pr->buf;
    char proc[40];
    int err;

    if (!rp_empty_path_denied) {
        if (linkat(fd, "", at, target, AT_EMPTY_PATH) == 0)
            return APR_SUCCESS;
        err = errno;
        if (err != ENOENT && err != EPERM && err != EINVAL)
            return APR_FROM_OS_ERROR(err);
    }
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, proc, at, target, AT_SYMLINK_FOLLOW) != 0)
        return APR_FROM_OS_ERROR(errno);
    /* /proc could do what AT_EMPTY_PATH could not: the kernel refuses the
     * latter, not the directory; go through /proc from now on. */
    rp_empty_path_denied = 1;
    return APR_SUCCESS;
}

/* The cheap way, where the kernel and filesystem allow it: the data goes
 * into an unnamed file in dir (O_TMPFILE), which is then linked to the
 * first free candidate from start. Compared with a hidden temporary this
 * saves the temporary's name: its lookup, its unlink and the directory
 * lock each of those takes (make bench: tmpfs file creation was most of
 * a profiled static request's cost). Nothing is ever left behind: an
 * unnamed file that is not linked vanishes with its descriptor.
 *
 * Returns APR_SUCCESS with *at the candidate written, or the error to
 * report; or sets *fallback (and nothing was created) when this way is
 * not available here: no O_TMPFILE on this filesystem, no /proc, or no
 * hard links (then *linkless too, so the caller goes straight to its
 * rename fallback). */
static apr_status_t rp_write_anon(rp_probe_t *pr, int dirfd, int start,
                                  const void *data, apr_size_t len,
                                  apr_fileperms_t perms, int *at, int *fallback,
                                  int *linkless)
{
    mode_t mode = rp_mode(perms);
    apr_status_t rv;
    apr_size_t off = 0;
    int fd = -1, i, tries;

    rv = rp_step("open");
    if (rv == APR_SUCCESS
        && (fd = dirfd >= 0 ? openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)
                            : open(pr->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode)) < 0)
        rv = APR_FROM_OS_ERROR(errno);
    if (rv != APR_SUCCESS) {
        /* EISDIR: a kernel older than O_TMPFILE; EOPNOTSUPP: a filesystem
         * without it (NFS, FUSE); EINVAL is the C library's variant. */
        if (rv == APR_FROM_OS_ERROR(EOPNOTSUPP) || rv == APR_FROM_OS_ERROR(EISDIR)
            || rv == APR_FROM_OS_ERROR(EINVAL) || rp_no_hardlinks(rv))
            *fallback = 1;
        return rv;
    }
    rv = rp_fix_fd_mode(fd, mode);
    if (rv == APR_SUCCESS)
        rv = rp_step("write");
    while (rv == APR_SUCCESS && off < len) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno != EINTR)
            rv = APR_FROM_OS_ERROR(errno);
        else if (n == 0)
            rv = APR_FROM_OS_ERROR(EIO);    /* no progress: never spin */
        else if (n > 0)
            off += (apr_size_t)n;
    }
    for (i = start, tries = 0; rv == APR_SUCCESS && i < RP_FILE_TRIES; i++, tries++) {
        if (tries == RP_FILE_LINEAR
            && (i = rp_skip_taken(pr, i)) == RP_FILE_TRIES)
            break;
        rp_candidate(pr->buf, pr->base, pr->name, pr->namelen, pr->dot, i);
        rv = rp_step("link");
        if (rv == APR_SUCCESS)
            rv = rp_link_anon(fd, dirfd, pr);
        if (rv == APR_SUCCESS) {
            *at = i;
            break;
        }
        if (APR_STATUS_IS_EEXIST(rv)) {
            rv = APR_SUCCESS;
            continue;
        }
        if (rp_no_hardlinks(rv)) {
            *fallback = *linkless = 1;
        }
        else if (APR_STATUS_IS_ENOENT(rv) && access("/proc/self/fd", F_OK) != 0) {
            rp_proc_missing = 1;
            *fallback = 1;
        }
        break;
    }
    if (rv == APR_SUCCESS && i >= RP_FILE_TRIES)
        rv = APR_FROM_OS_ERROR(EEXIST);
    if (close(fd) != 0 && rv == APR_SUCCESS && errno != EINTR) {
        /* Linked but perhaps not stored: take it back, report it. */
        rv = APR_FROM_OS_ERROR(errno);
        unlink(pr->buf);
    }
    return rv;
}
#endif

static apr_status_t rp_write_unique_at(apr_pool_t *p, int dirfd, const char *dir,
                                       const char *name, const void *data,
                                       apr_size_t len, apr_fileperms_t perms,
                                       const char **final_path);

apr_status_t rp_file_write_unique(apr_pool_t *p, const char *dir,
                                  const char *name, const void *data,
                                  apr_size_t len, apr_fileperms_t perms,
                                  const char **final_path)
{
    return rp_write_unique_at(p, -1, dir, name, data, len, perms, final_path);
}

/* dirfd: dir opened (rp_dir_t), or -1 to go by dir's path. */
static apr_status_t rp_write_unique_at(apr_pool_t *p, int dirfd, const char *dir,
                                       const char *name, const void *data,
                                       apr_size_t len, apr_fileperms_t perms,
                                       const char **final_path)
{
    rp_probe_t pr;
    const char *tmp;
    apr_file_t *f;
    apr_status_t rv;
    uint32_t hash;
    int i = 0, tries, start, fallback = 0, moved = 0;

    if (final_path != NULL)
        *final_path = NULL;
    if (dir == NULL || *dir == '\0' || name == NULL || *name == '\0'
        || strchr(name, '/') != NULL || strcmp(name, ".") == 0
        || strcmp(name, "..") == 0 || (data == NULL && len > 0))
        return APR_EINVAL;

    /* One buffer rewritten for every candidate: no pool growth per try. */
    rp_probe_init(&pr, p, dir, name, 0);
    hash = rp_name_hash(dir, name);
    start = rp_hint_claim(hash);
#ifdef O_TMPFILE
    if (!rp_proc_missing) {
        int anon_fallback = 0;
        rv = rp_write_anon(&pr, dirfd, start, data, len, perms, &i,
                           &anon_fallback, &fallback);
        if (!anon_fallback)
            return rp_hint_done(hash, start, i, rv, pr.buf, final_path);
    }
#endif
    rv = rp_open_tmp(p, dir, dir[strlen(dir) - 1] == '/' ? "" : "/", perms, &f, &tmp);
    if (rv != APR_SUCCESS) {
        rp_hint_unclaim(hash, start);
        return rv;      /* nothing was created */
    }
    rv = rp_write_close(f, data, len);

    for (i = start, tries = 0; rv == APR_SUCCESS && i < RP_FILE_TRIES; i++, tries++) {
        if (tries == RP_FILE_LINEAR
            && (i = rp_skip_taken(&pr, i)) == RP_FILE_TRIES)
            break;
        rp_candidate(pr.buf, pr.base, name, pr.namelen, pr.dot, i);
        if (!fallback) {
            rv = rp_step("link");
            if (rv == APR_SUCCESS)
                rv = apr_file_link(tmp, pr.buf);
            if (rv == APR_SUCCESS)
                break;
            if (APR_STATUS_IS_EEXIST(rv)) {
                rv = APR_SUCCESS;
                continue;
            }
            if (!rp_no_hardlinks(rv))
                break;
            fallback = 1;   /* and try this same candidate by rename */
        }
        rv = rp_claim_rename(p, tmp, pr.buf, perms);
        if (rv == APR_SUCCESS) {
            moved = 1;
            break;
        }
        if (APR_STATUS_IS_EEXIST(rv))
            rv = APR_SUCCESS;
    }
    if (rv == APR_SUCCESS && i >= RP_FILE_TRIES)
        rv = APR_FROM_OS_ERROR(EEXIST);

    if (!moved)
        apr_file_remove(tmp, p);    /* on success too: the link stays */
    return rp_hint_done(hash, start, i, rv, pr.buf, final_path);
}

/* ---- directories opened once (rp_dir_t) ---- */

struct rp_dir {
    const char *path;
    int fd;                 /* -1 until first used; atomically replaced */
};

static apr_status_t rp_dir_cleanup(void *data)
{
    rp_dir_t *d = data;
    int fd = __atomic_exchange_n(&d->fd, -1, __ATOMIC_ACQ_REL);

    if (fd >= 0)
        close(fd);
    return APR_SUCCESS;
}

rp_dir_t *rp_dir_make(apr_pool_t *p, const char *path)
{
    rp_dir_t *d = apr_palloc(p, sizeof *d);

    d->path = apr_pstrdup(p, path);
    d->fd = -1;
    apr_pool_cleanup_register(p, d, rp_dir_cleanup, apr_pool_cleanup_null);
    return d;
}

const char *rp_dir_path(const rp_dir_t *d)
{
    return d->path;
}

/* d's descriptor, opened on first use (or again when stale is the one
 * in place: its directory is gone). Racing threads each open one; the
 * loser closes its own. A replaced descriptor is not closed: another
 * thread may be using it right now, and closing it could hand its number
 * to an unrelated open; it leaks, once per directory replaced. -1 when
 * the directory cannot be opened. */
static int rp_dir_fd(rp_dir_t *d, int stale)
{
    int fd = __atomic_load_n(&d->fd, __ATOMIC_ACQUIRE), nfd;

    if (fd >= 0 && fd != stale)
        return fd;
    nfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (nfd < 0)
        return -1;
    if (!__atomic_compare_exchange_n(&d->fd, &fd, nfd, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        close(nfd);         /* another thread was first: use its */
        return fd;
    }
    return nfd;
}

apr_status_t rp_file_write_in(apr_pool_t *p, rp_dir_t *d, const char *name,
                              const void *data, apr_size_t len,
                              apr_fileperms_t perms, const char **final_path)
{
    int fd = -1;
    apr_status_t rv;

#ifdef O_TMPFILE
    fd = rp_dir_fd(d, -1);
#endif
    rv = rp_write_unique_at(p, fd, d->path, name, data, len, perms, final_path);
    if (fd >= 0 && APR_STATUS_IS_ENOENT(rv)) {
        /* The directory was removed: one made again under its path is
         * used from now on; while there is none, the error stands. */
        int nfd = rp_dir_fd(d, fd);
        if (nfd >= 0 && nfd != fd)
            rv = rp_write_unique_at(p, nfd, d->path, name, data, len, perms,
                                    final_path);
    }
    return rv;
}

/* ---- name reservations (rp_file_reserve) ---- */

static const char *rp_marker(apr_pool_t *p, const char *dir, const char *name)
{
    return apr_pstrcat(p, dir, dir[strlen(dir) - 1] == '/' ? "" : "/", ".",
                       name, ".rsv", NULL);
}

struct rp_reservation {
    apr_pool_t *pool;
    const char *dir;
    const char *name;       /* the claimed name */
    const char *marker;     /* dir/.name.rsv, open as f until written */
    apr_file_t *f;
    apr_fileperms_t perms;
    int marker_gone;
};

/* A reservation dropped without rp_file_unreserve (its pool destroyed
 * first) takes its marker with it. */
static apr_status_t rp_reservation_cleanup(void *data)
{
    rp_reservation_t *res = data;

    if (!res->marker_gone) {
        res->marker_gone = 1;
        unlink(res->marker);
    }
    return APR_SUCCESS;
}

apr_status_t rp_file_reserve(apr_pool_t *p, const char *dir, const char *name,
                             apr_fileperms_t perms, rp_reservation_t **reserved)
{
    rp_probe_t pr;
    uint32_t hash;
    int i, tries, start;

    *reserved = NULL;
    if (dir == NULL || *dir == '\0' || name == NULL || *name == '\0'
        || strchr(name, '/') != NULL || strcmp(name, ".") == 0
        || strcmp(name, "..") == 0)
        return APR_EINVAL;
    rp_probe_init(&pr, p, dir, name, 1);

    /* Werkzeug's default names share one name per second: the hint table
     * makes the usual case one probe, not one per file of that second. */
    hash = rp_name_hash(dir, name);
    i = start = rp_hint_claim(hash);

    for (tries = 0; i < RP_FILE_TRIES; i++, tries++) {
        apr_file_t *f;
        struct stat st;
        apr_status_t rv;
        const char *marker;
        rp_reservation_t *res;

        if (tries == RP_FILE_LINEAR
            && (i = rp_skip_taken(&pr, i)) == RP_FILE_TRIES)
            break;
        rv = rp_step("reserve");
        rp_candidate(pr.buf, pr.base, name, pr.namelen, pr.dot, i);
        marker = rp_marker(p, dir, pr.buf + pr.base);
        if (rv == APR_SUCCESS)
            rv = apr_file_open(&f, marker, APR_FOPEN_CREATE | APR_FOPEN_EXCL
                               | APR_FOPEN_WRITE | APR_FOPEN_BINARY, perms, p);
        if (APR_STATUS_IS_EEXIST(rv))
            continue;                    /* someone else is claiming it */
        if (rv != APR_SUCCESS) {
            rp_hint_unclaim(hash, start);
            return rv;
        }
        /* The marker becomes the file: it gets the file's exact mode. */
        if ((rv = rp_fix_mode(f, perms)) != APR_SUCCESS) {
            apr_file_close(f);
            apr_file_remove(marker, p);
            rp_hint_unclaim(hash, start);
            return rv;
        }
        if (lstat(pr.buf, &st) == 0) {
            apr_file_close(f);
            apr_file_remove(marker, p);  /* taken for good */
            continue;
        }
        rp_hint_used(hash, start, i);
        res = apr_palloc(p, sizeof *res);
        res->pool = p;
        res->dir = dir;
        res->name = apr_pstrdup(p, pr.buf + pr.base);
        res->marker = marker;
        res->f = f;
        res->perms = perms;
        res->marker_gone = 0;
        apr_pool_cleanup_register(p, res, rp_reservation_cleanup,
                                  apr_pool_cleanup_null);
        *reserved = res;
        return APR_SUCCESS;
    }
    rp_hint_unclaim(hash, start);
    return APR_FROM_OS_ERROR(EEXIST);
}

const char *rp_reservation_name(const rp_reservation_t *res)
{
    return res->name;
}

apr_status_t rp_file_write_reserved(rp_reservation_t *res, const void *data,
                                    apr_size_t len, const char **final_path)
{
    apr_pool_t *p = res->pool;
    const char *final;
    apr_status_t rv;
    apr_file_t *f = res->f;

    if (final_path != NULL)
        *final_path = NULL;
    if (f == NULL || res->marker_gone || (data == NULL && len > 0))
        return APR_EINVAL;              /* written or released already */
    res->f = NULL;
    /* The marker is the temporary: hidden, and only ever linked whole. */
    rv = rp_write_close(f, data, len);
    if (rv != APR_SUCCESS) {
        rp_file_unreserve(res);
        return rv;
    }
    final = apr_pstrcat(p, res->dir, res->dir[strlen(res->dir) - 1] == '/' ? "" : "/",
                        res->name, NULL);
    rv = rp_step("link");
    if (rv == APR_SUCCESS)
        rv = apr_file_link(res->marker, final);
    if (rv == APR_SUCCESS) {
        rp_file_unreserve(res);
        if (final_path != NULL)
            *final_path = final;
        return APR_SUCCESS;
    }
    if (APR_STATUS_IS_EEXIST(rv) || rp_no_hardlinks(rv)) {
        /* A writer that does not reserve took the name, or there are no
         * hard links here: the careful path picks the name and keeps the
         * never-overwrite promise. */
        rv = rp_file_write_unique(p, res->dir, res->name, data, len, res->perms,
                                  final_path);
    }
    rp_file_unreserve(res);
    return rv;
}

void rp_file_unreserve(rp_reservation_t *res)
{
    if (res == NULL)
        return;
    if (res->f != NULL) {
        apr_file_close(res->f);
        res->f = NULL;
    }
    if (!res->marker_gone) {
        res->marker_gone = 1;
        unlink(res->marker);
    }
}
