/*
 * rp_statusfile.c - the status page's counts in a file (see rp_statusfile.h).
 */
#include <string.h>
#include <unistd.h>
#include <apr_atomic.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <apr_portable.h>
#include "rp_agg_int.h"
#include "rp_statusfile.h"

#define FILE_MAGIC  "RPSTATF"
#define FILE_FORMAT 1u

static apr_uint64_t fnv64(const unsigned char *s, apr_size_t n)
{
    apr_uint64_t h = 14695981039346656037ULL;
    apr_size_t i;
    for (i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void header(unsigned char *h, apr_uint64_t bytes, apr_uint64_t sum)
{
    apr_uint32_t fmt = FILE_FORMAT, zero = 0;
    memset(h, 0, RP_STATUSFILE_HEADER);
    memcpy(h, FILE_MAGIC, sizeof FILE_MAGIC);
    memcpy(h + 8, &fmt, 4);
    memcpy(h + 12, &zero, 4);
    memcpy(h + 16, &bytes, 8);
    memcpy(h + 24, &sum, 8);
}

apr_status_t rp_statusfile_write(const rp_agg_t *a, const char *path, apr_pool_t *p)
{
    return rp_statusfile_write_ex(a, path, p, 1);
}

apr_status_t rp_statusfile_write_ex(const rp_agg_t *a, const char *path, apr_pool_t *p,
                                    int sync)
{
    apr_size_t bytes = (apr_size_t)a->hdr->bytes, n;
    unsigned char *img = apr_palloc(p, bytes), h[RP_STATUSFILE_HEADER];
    const char *tmp = apr_psprintf(p, "%s.tmp.%ld", path, (long)getpid());
    apr_file_t *f;
    apr_status_t rv;

    /* A copy first: the counters keep moving while the file is written,
     * and the checksum must be of what is written. */
    memcpy(img, a->hdr, bytes);
    header(h, bytes, fnv64(img, bytes));
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv != APR_SUCCESS)
        return rv;
    n = sizeof h;
    rv = apr_file_write_full(f, h, n, NULL);
    if (rv == APR_SUCCESS)
        rv = apr_file_write_full(f, img, bytes, NULL);
    if (rv == APR_SUCCESS && sync)
        rv = apr_file_sync(f);
    if (apr_file_close(f) != APR_SUCCESS && rv == APR_SUCCESS)
        rv = APR_EGENERAL;
    if (rv == APR_SUCCESS)
        rv = apr_file_rename(tmp, path, p);
    if (rv != APR_SUCCESS)
        apr_file_remove(tmp, p);
    return rv;
}

int rp_statusfile_read(rp_agg_t *a, const char *path, apr_pool_t *p, const char **why)
{
    apr_size_t bytes = (apr_size_t)a->hdr->bytes, got = 0;
    unsigned char h[RP_STATUSFILE_HEADER], *img;
    apr_uint32_t fmt;
    apr_uint64_t fbytes, sum;
    apr_finfo_t fi;
    apr_file_t *f;
    const hdr_t *ih;
    apr_status_t rv;

    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (APR_STATUS_IS_ENOENT(rv))
        return 0;
    if (rv != APR_SUCCESS) {
        *why = apr_psprintf(p, "cannot open it (error %d)", rv);
        return -1;
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size != (apr_off_t)(RP_STATUSFILE_HEADER + bytes)) {
        apr_file_close(f);
        *why = "it was written with another layout (its size differs: another "
               "ProfileStatusURLs, ProfileStatusSlowest, number of virtual hosts "
               "or version)";
        return -1;
    }
    img = apr_palloc(p, bytes);
    rv = apr_file_read_full(f, h, sizeof h, &got);
    if (rv == APR_SUCCESS)
        rv = apr_file_read_full(f, img, bytes, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS) {
        *why = "it could not be read whole";
        return -1;
    }
    memcpy(&fmt, h + 8, 4);
    memcpy(&fbytes, h + 16, 8);
    memcpy(&sum, h + 24, 8);
    if (memcmp(h, FILE_MAGIC, sizeof FILE_MAGIC) != 0 || fmt != FILE_FORMAT) {
        *why = "it is not a mod_reqprof status file of this version";
        return -1;
    }
    if (fbytes != bytes || fnv64(img, bytes) != sum) {
        *why = "it is damaged (its checksum does not match)";
        return -1;
    }
    ih = (const hdr_t *)img;
    if (ih->magic != a->hdr->magic || ih->version != a->hdr->version
        || ih->bytes != a->hdr->bytes || memcmp(&ih->sizes, &a->sz, sizeof a->sz) != 0) {
        *why = "it was written with another layout (another ProfileStatusURLs, "
               "ProfileStatusSlowest, number of virtual hosts or version)";
        return -1;
    }
    memcpy(a->hdr, img, bytes);
    /* Nobody writes the image's entries any more; and whatever the file
     * holds, reading it must stay within its tables. */
    rp_agg_sanitize(a);
    a->hdr->saved = 0;
    return 1;
}

int rp_statusfile_due(rp_agg_t *a, apr_time_t now)
{
    apr_uint64_t last = apr_atomic_read64(&a->hdr->saved);
    if (last == 0) {
        /* The first request starts the clock. */
        apr_atomic_cas64(&a->hdr->saved, (apr_uint64_t)now, 0);
        return 0;
    }
    if ((apr_uint64_t)now < last + (apr_uint64_t)rp_win_minute_usec)
        return 0;
    return apr_atomic_cas64(&a->hdr->saved, (apr_uint64_t)now, last) == last;
}
