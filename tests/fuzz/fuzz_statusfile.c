/*
 * fuzz_statusfile.c - reading a status file (lib/rp_statusfile.c) whose
 * image is anything at all: the input is laid over a region image of a
 * small layout (the header's magic, version and sizes kept right so that
 * the reader takes it), given a correct checksum, written to a file and
 * read back; then the page's reads (since start, every window, each slow
 * request as a profile) and more counting must stay within bounds, and
 * the copy into another layout too. A second round hands the raw input to
 * the reader as the whole file: it must be refused or taken, never crash.
 */
#include <unistd.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include <stddef.h>
#include "rp_agg_int.h"
#include "rp_statusfile.h"
#include "rp_window.h"

/* Bytes of rp_agg's own header the input may not change: what says
 * which layout the image is (the rest of the header is fuzzed too). */
#define HDR_KEEP offsetof(hdr_t, created)

static rp_agg_t *region(apr_pool_t *p, const rp_agg_sizes_t *sz)
{
    apr_size_t n = rp_agg_size(sz);
    int reused;
    return rp_agg_attach(p, apr_pcalloc(p, n), n, sz, apr_time_from_sec(60000), &reused);
}

static void use(rp_agg_t *a, apr_pool_t *p)
{
    rp_agg_snap_t *s = rp_agg_read(a, p);
    rp_agg_req_t r;
    int i, w;
    for (i = 0; i < s->nslow; i++)
        (void)rp_agg_slow_stats(a, s->slow[i].id, p, NULL);
    for (w = 1; w <= 60; w *= 2)
        (void)rp_agg_read_window(a, p, w, apr_time_from_sec(60000));
    (void)rp_agg_percentile(s, 0.5);
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = "/x";
    r.vhost = "v";
    r.vhost_idx = 0;
    r.status = 200;
    r.when = apr_time_from_sec(60000);
    rp_agg_count(a, &r);
    (void)rp_agg_key(a, "f", 1, "n");
    (void)rp_agg_vhost(a, "w");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    rp_agg_sizes_t sz = { 4, 2, 3, 2 }, other = { 5, 3, 4, 2 };
    rp_agg_t *a = region(p, &sz), *b, *c;
    const char *path = apr_psprintf(p, "/tmp/fuzz-statusfile-%ld", (long)getpid());
    const char *why = NULL;
    apr_size_t n = rp_agg_size(&sz), k;
    unsigned char *base = (unsigned char *)a->hdr;
    apr_file_t *f;
    int rc;

    /* The region's bytes after its layout from the input, repeated. */
    for (k = HDR_KEEP; size && k < n; k++)
        base[k] = data[(k - HDR_KEEP) % size];
    FUZZ_CHECK(rp_statusfile_write(a, path, p) == APR_SUCCESS, "write");
    b = region(p, &sz);
    rc = rp_statusfile_read(b, path, p, &why);
    FUZZ_CHECK(rc == 1, "a well-formed file of this layout refused: %s", why ? why : "");
    use(b, p);
    c = region(p, &other);
    rp_agg_copy(c, b);
    use(c, p);
    /* The raw input as the whole file. */
    if (apr_file_open(&f, path, APR_FOPEN_WRITE | APR_FOPEN_TRUNCATE | APR_FOPEN_CREATE,
                      APR_FPROT_UREAD | APR_FPROT_UWRITE, p) == APR_SUCCESS) {
        apr_size_t len = size;
        apr_file_write_full(f, data, len, NULL);
        apr_file_close(f);
        b = region(p, &sz);
        rc = rp_statusfile_read(b, path, p, &why);
        FUZZ_CHECK(rc == -1 || rc == 1, "rc %d", rc);
        use(b, p);
    }
    apr_file_remove(path, p);
    fuzz_done(p);
    return 0;
}
