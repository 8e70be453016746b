/*
 * rp_fname.h - ProfileFilenameFormat: compile a Python-format-like template
 * once at config time, expand it per request into one safe file name.
 *
 * Placeholders: {method} {path} {vhost} {id} (strings), {elapsed} (ms,
 * float), {time} (epoch seconds, float), {status} {pid} (integers),
 * {ext} (string, the file format's extension without the dot, "prof"),
 * {traceid} {spanid} (strings, from a valid W3C traceparent header; the
 * request's {id} when there is none).
 * Specs after ':' follow Python's mini-language subset
 *   numbers: [0][width][.precision][f|d]   ('d' only for integers)
 *   strings: [.maxlen][s]
 * and print what Python's format() prints ({elapsed} alone is repr()).
 * "{{" and "}}" are literal braces. Literal text may not contain '/' or NUL;
 * it is otherwise kept as written.
 */
#ifndef RP_FNAME_H
#define RP_FNAME_H

#include <apr_pools.h>

/* Names are cut so that a unique suffix ("-123") still fits in 255 bytes. */
#define RP_FNAME_MAX 240

typedef struct rp_fname rp_fname_t;

/* Werkzeug's default. */
#define RP_FNAME_DEFAULT "{method}.{path}.{elapsed:.0f}ms.{time:.0f}.prof"

/* Compile fmt. Returns NULL and sets *out, or returns an error message
 * from p naming the problem (unknown placeholder, bad spec, unbalanced
 * brace, '/' in the literal text). */
const char *rp_fname_compile(apr_pool_t *p, const char *fmt, rp_fname_t **out);

/* Non-zero when the compiled format uses the placeholder (e.g. "ext"). */
int rp_fname_uses(const rp_fname_t *f, const char *placeholder);

/* Non-zero when it shows the request id: {id}, or {traceid} / {spanid},
 * which fall back to it. Finding the id may cost a system call (httpd's
 * error-log id calls getpid), so callers fill it in only then. */
int rp_fname_uses_id(const rp_fname_t *f);

/* Non-zero when it shows {traceid} or {spanid}. */
int rp_fname_uses_trace(const rp_fname_t *f);

typedef struct rp_fname_vars {
    const char *method;   /* request method, any bytes */
    const char *path;     /* decoded URL path, any bytes; query excluded */
    const char *vhost;    /* server name */
    const char *id;       /* unique request id */
    const char *ext;      /* "prof" */
    double elapsed_ms;    /* request wall time in milliseconds */
    double time;          /* request start, seconds since the epoch */
    long status;          /* HTTP status */
    long pid;             /* process id */
    const char *traceid;  /* W3C trace id (32 hex), NULL: none */
    const char *spanid;   /* the caller's span (parent-id, 16 hex), NULL: none */
} rp_fname_vars_t;

/* Expand into a single file-name component: {path} becomes the path with
 * leading/trailing '/' stripped and '/' -> '.', or "root" when empty
 * (Werkzeug); every placeholder value keeps only [A-Za-z0-9._~+,=@-], other
 * bytes -> '_' (so a width without '0' pads with '_'); NULL strings are "";
 * a name starting with '.' gets a '_' prefix (no hidden files, never "."
 * or ".."); an empty name is "_". The result is at most RP_FNAME_MAX
 * bytes: {path} is shortened first, then the longest string values; if
 * literal text and numbers alone are too long, their middle is cut and
 * the last 16 bytes (the extension) kept. Never NULL, never empty.
 * Allocates from p only; assumes the C locale's LC_NUMERIC (as httpd). */
const char *rp_fname_expand(apr_pool_t *p, const rp_fname_t *f,
                            const rp_fname_vars_t *v);

#endif
