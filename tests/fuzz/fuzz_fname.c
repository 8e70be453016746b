/*
 * fuzz_fname.c - ProfileFilenameFormat: the format parser and the expander.
 *
 * Input: FORMAT \0 METHOD \0 PATH \0 VHOST \0 ID \0 EXT \0, then 8-byte
 * elapsed, time (doubles, any bits: NaN, inf, huge), status, pid, then
 * TRACEID \0 SPANID (an empty SPANID is passed as NULL).
 * Whatever the format and the request, an expanded name is one safe file
 * name component: non-empty, at most RP_FNAME_MAX bytes, no '/' (and no
 * NUL inside), never "." or "..", never hidden. A format is only accepted
 * without '/' in it; a refused one comes with a message.
 */
#include "fuzz_common.h"
#include "rp_fname.h"

static const char *const fuzz_names[] = {
    "method", "path", "elapsed", "time", "status", "vhost", "pid", "id",
    "ext", "traceid", "spanid", "", "nope", "pat",
};

static void check_name(const char *name, const char *what)
{
    size_t len;

    FUZZ_CHECK(name != NULL, "%s: NULL name", what);
    len = strlen(name);
    FUZZ_CHECK(len > 0, "%s: empty name", what);
    FUZZ_CHECK(len <= RP_FNAME_MAX, "%s: %zu bytes: '%s'", what, len, name);
    FUZZ_CHECK(strchr(name, '/') == NULL, "%s: '/' in '%s'", what, name);
    FUZZ_CHECK(name[0] != '.', "%s: hidden or dot name '%s'", what, name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    rp_fname_vars_t v;
    rp_fname_t *f = NULL, *def = NULL;
    const char *fmt, *err;
    size_t i;

    fmt = fuzz_str(&in, p);
    v.method = fuzz_str(&in, p);
    v.path = fuzz_str(&in, p);
    v.vhost = fuzz_str(&in, p);
    v.id = fuzz_str(&in, p);
    v.ext = fuzz_str(&in, p);
    v.elapsed_ms = fuzz_double(&in);
    v.time = fuzz_double(&in);
    v.status = (long)(int64_t)fuzz_u64(&in);
    v.pid = (long)(int64_t)fuzz_u64(&in);
    v.traceid = fuzz_str(&in, p);
    v.spanid = fuzz_str(&in, p);
    /* NULL strings are allowed by the contract. */
    if (v.vhost[0] == '\0')
        v.vhost = NULL;
    if (v.spanid[0] == '\0')
        v.spanid = NULL;

    err = rp_fname_compile(p, fmt, &f);
    if (err == NULL) {
        FUZZ_CHECK(f != NULL, "compiled without an error but no format");
        FUZZ_CHECK(strchr(fmt, '/') == NULL, "accepted '/' in '%s'", fmt);
        for (i = 0; i < sizeof fuzz_names / sizeof fuzz_names[0]; i++)
            (void)rp_fname_uses(f, fuzz_names[i]);
        check_name(rp_fname_expand(p, f, &v), "format");
        check_name(rp_fname_expand(p, f, NULL), "format, no vars");
    }
    else {
        FUZZ_CHECK(err[0] != '\0', "empty error message for '%s'", fmt);
    }

    /* The default format with the same hostile request. */
    err = rp_fname_compile(p, RP_FNAME_DEFAULT, &def);
    FUZZ_CHECK(err == NULL, "default format refused: %s", err);
    check_name(rp_fname_expand(p, def, &v), "default");
    fuzz_done(p);
    return 0;
}
