/*
 * rp_pprof.c - profile.proto written by hand, gzip'd with stored blocks.
 *
 * The protobuf wire format needs only three things here: varints (wire
 * type 0), length-delimited fields (wire type 2: strings, nested messages,
 * packed repeated integers) and field keys (field << 3 | wire type).
 * Nested messages are built in a scratch buffer, then copied behind their
 * length: profiles are small, simplicity wins.
 *
 * gzip: RFC 1952 around RFC 1951 "stored" blocks (no compression) and a
 * CRC-32. No zlib: apache2-dev does not pull zlib1g-dev, and a request's
 * profile is a few kilobytes, so compressing it is not worth a new build
 * dependency; every gzip reader (go tool pprof, Pyroscope, Parca) accepts
 * stored blocks.
 */
#include <math.h>
#include <string.h>
#include <apr_hash.h>
#include <apr_tables.h>
#include <apr_strings.h>
#include "rp_pprof.h"
#include "rp_outfmt.h"
#include "rp_text.h"

#define NAME_MAX_BYTES 1024         /* as rp_outfmt.c cuts names */
#define LABEL_MAX_BYTES 4096
#define MAX_DEPTH 128               /* as rp_collapsed.c */
#define MAX_PATHS 100000

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3,
    PROFILE_LOCATION = 4, PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6,
    PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS = 10,
    PROFILE_PERIOD_TYPE = 11, PROFILE_PERIOD = 12, PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14
};

/* Fixed string-table indexes, interned first by rp_pprof_create. */
enum { S_EMPTY, S_CALLS, S_COUNT, S_WALL, S_NANOSECONDS, S_MAPPING };

typedef struct pp_func {
    int64_t name, file;     /* string indexes */
    int line;
} pp_func_t;

typedef struct pp_sample {
    int n;                  /* stack depth */
    uint64_t *stack;        /* leaf first */
    int nlabels;
    int64_t *labels;        /* key, value string indexes */
    int64_t calls, wall;
} pp_sample_t;

struct rp_pprof {
    apr_pool_t *pool;
    apr_hash_t *str_index;          /* string -> 1 + index (as intptr) */
    apr_array_header_t *strs;       /* const char * */
    apr_hash_t *func_index;         /* pp_func_t bytes -> id */
    apr_array_header_t *funcs;      /* pp_func_t, id = 1 + position */
    apr_hash_t *sample_index;       /* stack + labels bytes -> 1 + position */
    apr_array_header_t *samples;    /* pp_sample_t */
    apr_array_header_t *comments;   /* int64_t string indexes */
};

/* ------------------------------------------------------------ wire format */

void rp_pprof_varint(rp_buf_t *b, uint64_t v)
{
    unsigned char tmp[10];
    int n = 0;
    do {
        unsigned char c = (unsigned char)(v & 0x7f);
        v >>= 7;
        tmp[n++] = (unsigned char)(v ? c | 0x80 : c);
    } while (v);
    rp_buf_add(b, tmp, (apr_size_t)n);
}

static void key(rp_buf_t *b, int field, int wire)
{
    rp_pprof_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

/* A varint field; proto3 leaves zero values out. */
static void field_int(rp_buf_t *b, int field, int64_t v)
{
    if (!v)
        return;
    key(b, field, 0);
    rp_pprof_varint(b, (uint64_t)v);
}

static void field_bytes(rp_buf_t *b, int field, const void *data, apr_size_t n)
{
    key(b, field, 2);
    rp_pprof_varint(b, n);
    rp_buf_add(b, data, n);
}

/* A nested message: scratch holds its encoding. */
static void field_msg(rp_buf_t *b, int field, rp_buf_t *scratch)
{
    field_bytes(b, field, scratch->data, scratch->len);
    scratch->len = 0;
}

/* A packed repeated varint field (proto3's default for repeated scalars). */
static void field_packed(rp_buf_t *b, int field, const uint64_t *u,
                         const int64_t *s, int n, rp_buf_t *scratch)
{
    int i;
    if (n <= 0)
        return;
    for (i = 0; i < n; i++)
        rp_pprof_varint(scratch, u ? u[i] : (uint64_t)s[i]);
    field_msg(b, field, scratch);
}

/* ------------------------------------------------------------------- gzip */

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), four bits at a time. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
    0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
    0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C
};

uint32_t rp_pprof_crc32(uint32_t crc, const void *data, apr_size_t n)
{
    const unsigned char *c = data;
    apr_size_t i;
    crc = ~crc;
    for (i = 0; i < n; i++) {
        crc ^= c[i];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
        crc = (crc >> 4) ^ crc_nibble[crc & 15];
    }
    return ~crc;
}

static void put_le32(rp_buf_t *b, uint32_t v)
{
    unsigned char c[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    rp_buf_add(b, c, 4);
}

void rp_pprof_gzip(const void *data, apr_size_t n, apr_pool_t *p,
                   const char **out, apr_size_t *outlen)
{
    /* No name, no mtime (the output depends on the input only), OS 255. */
    static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
    const unsigned char *c = data;
    apr_size_t off = 0;
    rp_buf_t b;

    rp_buf_init(&b, p, n + 18 + 5 * (n / 65535 + 1));
    rp_buf_add(&b, header, sizeof header);
    do {
        apr_size_t chunk = n - off > 65535 ? 65535 : n - off;
        unsigned char h[5];
        h[0] = off + chunk == n ? 1 : 0;     /* BFINAL, BTYPE 00 (stored) */
        h[1] = (unsigned char)chunk;
        h[2] = (unsigned char)(chunk >> 8);
        h[3] = (unsigned char)~h[1];
        h[4] = (unsigned char)~h[2];
        rp_buf_add(&b, h, 5);
        rp_buf_add(&b, c + off, chunk);
        off += chunk;
    } while (off < n);
    put_le32(&b, rp_pprof_crc32(0, data, n));
    put_le32(&b, (uint32_t)n);
    *out = b.data;
    *outlen = b.len;
}

/* ---------------------------------------------------------------- builder */

static int64_t intern(rp_pprof_t *pp, const char *s, apr_size_t max)
{
    const char *c = rp_utf8_clean(pp->pool, s ? s : "", max);
    intptr_t idx = (intptr_t)apr_hash_get(pp->str_index, c, APR_HASH_KEY_STRING);
    if (idx)
        return (int64_t)(idx - 1);
    *(const char **)apr_array_push(pp->strs) = c;
    idx = pp->strs->nelts;
    apr_hash_set(pp->str_index, c, APR_HASH_KEY_STRING, (void *)idx);
    return (int64_t)(idx - 1);
}

rp_pprof_t *rp_pprof_create(apr_pool_t *p)
{
    rp_pprof_t *pp = apr_pcalloc(p, sizeof *pp);
    pp->pool = p;
    pp->str_index = apr_hash_make(p);
    pp->strs = apr_array_make(p, 64, sizeof(const char *));
    pp->func_index = apr_hash_make(p);
    pp->funcs = apr_array_make(p, 32, sizeof(pp_func_t));
    pp->sample_index = apr_hash_make(p);
    pp->samples = apr_array_make(p, 32, sizeof(pp_sample_t));
    pp->comments = apr_array_make(p, 4, sizeof(int64_t));
    intern(pp, "", 1);
    intern(pp, "calls", 16);
    intern(pp, "count", 16);
    intern(pp, "wall", 16);
    intern(pp, "nanoseconds", 16);
    intern(pp, "mod_reqprof", 16);
    return pp;
}

uint64_t rp_pprof_location(rp_pprof_t *pp, const char *name, const char *file,
                           int line)
{
    pp_func_t *k = apr_pcalloc(pp->pool, sizeof *k);  /* zeroed padding */
    void *id;

    k->name = intern(pp, name, NAME_MAX_BYTES);
    k->file = intern(pp, file, NAME_MAX_BYTES);
    k->line = line;
    id = apr_hash_get(pp->func_index, k, sizeof *k);
    if (id)
        return (uint64_t)(uintptr_t)id;
    *(pp_func_t *)apr_array_push(pp->funcs) = *k;
    id = (void *)(uintptr_t)pp->funcs->nelts;
    apr_hash_set(pp->func_index, k, sizeof *k, id);
    return (uint64_t)(uintptr_t)id;
}

/* Merged values stop at the int64 limits rather than wrap. */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

void rp_pprof_add(rp_pprof_t *pp, const uint64_t *stack_root_first, int n,
                  int64_t calls, int64_t wall_ns, const char *const *labels)
{
    pp_sample_t s, *have;
    rp_buf_t k;
    uintptr_t at;
    int i, nl = 0;

    if (n < 0 || (n > 0 && !stack_root_first))
        return;
    while (labels && labels[2 * nl] && labels[2 * nl + 1])
        nl++;
    memset(&s, 0, sizeof s);
    s.n = n;
    s.stack = apr_palloc(pp->pool, sizeof(uint64_t) * (apr_size_t)(n + 1));
    for (i = 0; i < n; i++) {
        uint64_t id = stack_root_first[n - 1 - i];
        /* An id not from rp_pprof_location would make a file no reader
         * accepts: drop the sample instead. */
        if (id == 0 || id > (uint64_t)pp->funcs->nelts)
            return;
        s.stack[i] = id;
    }
    s.nlabels = nl;
    s.labels = apr_palloc(pp->pool, sizeof(int64_t) * (apr_size_t)(2 * nl + 1));
    for (i = 0; i < nl; i++) {
        s.labels[2 * i] = intern(pp, labels[2 * i], NAME_MAX_BYTES);
        s.labels[2 * i + 1] = intern(pp, labels[2 * i + 1], LABEL_MAX_BYTES);
    }
    s.calls = calls;
    s.wall = wall_ns;

    /* Same stack and labels: one sample, values added. */
    rp_buf_init(&k, pp->pool, 16 * (apr_size_t)(n + nl + 1));
    rp_pprof_varint(&k, (uint64_t)n);
    for (i = 0; i < n; i++)
        rp_pprof_varint(&k, s.stack[i]);
    for (i = 0; i < 2 * nl; i++)
        rp_pprof_varint(&k, (uint64_t)s.labels[i]);
    at = (uintptr_t)apr_hash_get(pp->sample_index, k.data, (apr_ssize_t)k.len);
    if (at) {
        have = &APR_ARRAY_IDX(pp->samples, (int)at - 1, pp_sample_t);
        have->calls = sat_add(have->calls, calls);
        have->wall = sat_add(have->wall, wall_ns);
        return;
    }
    *(pp_sample_t *)apr_array_push(pp->samples) = s;
    apr_hash_set(pp->sample_index, k.data, (apr_ssize_t)k.len,
                 (void *)(uintptr_t)pp->samples->nelts);
}

void rp_pprof_comment(rp_pprof_t *pp, const char *text)
{
    *(int64_t *)apr_array_push(pp->comments) = intern(pp, text, LABEL_MAX_BYTES);
}

/* ---------------------------------------------------------------- encoder */

static void value_type(rp_buf_t *b, int field, int64_t type, int64_t unit,
                       rp_buf_t *scratch)
{
    field_int(scratch, 1, type);
    field_int(scratch, 2, unit);
    field_msg(b, field, scratch);
}

apr_status_t rp_pprof_encode_raw(rp_pprof_t *pp, int64_t time_nanos,
                                 int64_t duration_nanos, apr_pool_t *p,
                                 const char **data, apr_size_t *len)
{
    rp_buf_t b, m, sub, pk;
    int i, j;

    if (!pp || !data || !len)
        return APR_EINVAL;
    rp_buf_init(&b, p, 1024 + 64 * (apr_size_t)(pp->samples->nelts + pp->funcs->nelts));
    rp_buf_init(&m, p, 256);
    rp_buf_init(&sub, p, 64);
    rp_buf_init(&pk, p, 256);

    value_type(&b, PROFILE_SAMPLE_TYPE, S_CALLS, S_COUNT, &m);
    value_type(&b, PROFILE_SAMPLE_TYPE, S_WALL, S_NANOSECONDS, &m);

    for (i = 0; i < pp->samples->nelts; i++) {
        const pp_sample_t *s = &APR_ARRAY_IDX(pp->samples, i, pp_sample_t);
        int64_t v[2];
        v[0] = s->calls;
        v[1] = s->wall;
        field_packed(&m, 1, s->stack, NULL, s->n, &pk);
        field_packed(&m, 2, NULL, v, 2, &pk);
        for (j = 0; j < s->nlabels; j++) {
            field_int(&sub, 1, s->labels[2 * j]);
            field_int(&sub, 2, s->labels[2 * j + 1]);
            field_msg(&m, 3, &sub);
        }
        field_msg(&b, PROFILE_SAMPLE, &m);
    }

    /* One mapping that says the functions are already known, so pprof
     * looks for no binary to symbolize. */
    field_int(&m, 1, 1);                /* id */
    field_int(&m, 5, S_MAPPING);        /* filename */
    field_int(&m, 7, 1);                /* has_functions */
    field_int(&m, 8, 1);                /* has_filenames */
    field_int(&m, 9, 1);                /* has_line_numbers */
    field_msg(&b, PROFILE_MAPPING, &m);

    /* One location per function, same id, one line. */
    for (i = 0; i < pp->funcs->nelts; i++) {
        const pp_func_t *f = &APR_ARRAY_IDX(pp->funcs, i, pp_func_t);
        field_int(&m, 1, i + 1);
        field_int(&m, 2, 1);
        field_int(&sub, 1, i + 1);
        field_int(&sub, 2, f->line > 0 ? f->line : 0);
        field_msg(&m, 4, &sub);
        field_msg(&b, PROFILE_LOCATION, &m);
    }
    for (i = 0; i < pp->funcs->nelts; i++) {
        const pp_func_t *f = &APR_ARRAY_IDX(pp->funcs, i, pp_func_t);
        field_int(&m, 1, i + 1);
        field_int(&m, 2, f->name);
        field_int(&m, 3, f->name);
        field_int(&m, 4, f->file);
        field_int(&m, 5, f->line > 0 ? f->line : 0);
        field_msg(&b, PROFILE_FUNCTION, &m);
    }
    for (i = 0; i < pp->strs->nelts; i++) {
        const char *s = APR_ARRAY_IDX(pp->strs, i, const char *);
        field_bytes(&b, PROFILE_STRING_TABLE, s, strlen(s));
    }
    field_int(&b, PROFILE_TIME_NANOS, time_nanos);
    field_int(&b, PROFILE_DURATION_NANOS, duration_nanos);
    value_type(&b, PROFILE_PERIOD_TYPE, S_WALL, S_NANOSECONDS, &m);
    field_int(&b, PROFILE_PERIOD, 1);
    field_packed(&b, PROFILE_COMMENT, NULL, (const int64_t *)pp->comments->elts,
                 pp->comments->nelts, &pk);
    field_int(&b, PROFILE_DEFAULT_SAMPLE_TYPE, S_WALL);
    *data = b.data;
    *len = b.len;
    return APR_SUCCESS;
}

apr_status_t rp_pprof_encode(rp_pprof_t *pp, int64_t time_nanos,
                             int64_t duration_nanos, apr_pool_t *p,
                             const char **data, apr_size_t *len)
{
    const char *raw;
    apr_size_t rawlen;
    apr_status_t rv = rp_pprof_encode_raw(pp, time_nanos, duration_nanos, p,
                                          &raw, &rawlen);
    if (rv != APR_SUCCESS)
        return rv;
    rp_pprof_gzip(raw, rawlen, p, data, len);
    return APR_SUCCESS;
}

/* ------------------------------------------------- from a finished profile */

typedef struct walk {
    rp_pprof_t *pp;
    const rp_stats_t *st;
    const char *const *labels;
    uint64_t *loc;            /* per function: its location id */
    rp_callee_t *kids;
    int *first;               /* per function: head of its children list */
    char *onpath;
    int paths;
    uint64_t path[MAX_DEPTH];
} walk_t;

static int64_t round_ns(double s)
{
    double v = floor(s * 1e9 + 0.5);
    return v > 0 && v < 9.2e18 ? (int64_t)v : 0;
}

static int64_t round_calls(double c)
{
    double v = floor(c + 0.5);
    return v > 0 && v < 9.2e18 ? (int64_t)v : 0;
}

/* As rp_collapsed.c: fn is reached on a path that accounts for `share` of
 * fn's cumulative time; self_s and calls are fn's on this path. */
static void walk_share(walk_t *w, int fn, int depth, double share,
                       double self_s, double calls)
{
    int k;

    if (w->paths >= MAX_PATHS)         /* a bound for pathological graphs */
        return;
    w->path[depth] = w->loc[fn];
    rp_pprof_add(w->pp, w->path, depth + 1, round_calls(calls),
                 round_ns(self_s), w->labels);
    w->paths++;
    if (depth + 1 >= MAX_DEPTH)
        return;
    w->onpath[fn] = 1;
    for (k = w->first[fn]; k >= 0; k = w->kids[k].next) {
        const rp_callee_t *c = &w->kids[k];
        const rp_func_t *cf = &w->st->funcs[c->callee];
        double on_path = c->edge->ct * share;
        double cshare = cf->ct > 0 ? on_path / cf->ct : 0.0;
        if (w->onpath[c->callee]) {
            /* Recursion (a phase met again in a subrequest): the inner
             * call's own time is this edge's tt; what it called is in the
             * outer call's edges already, so it is not walked again. */
            if (depth + 2 <= MAX_DEPTH && w->paths < MAX_PATHS) {
                w->path[depth + 1] = w->loc[c->callee];
                rp_pprof_add(w->pp, w->path, depth + 2,
                             round_calls((double)c->edge->nc * share),
                             round_ns(c->edge->tt * share), w->labels);
                w->paths++;
            }
            continue;
        }
        walk_share(w, c->callee, depth + 1, cshare > 1 ? 1 : cshare,
                   c->edge->tt * share, (double)c->edge->nc * share);
    }
    w->onpath[fn] = 0;
}

apr_status_t rp_pprof_add_stats(rp_pprof_t *pp, const rp_stats_t *st,
                                const char *const *labels)
{
    walk_t w;
    apr_pool_t *p;
    int i, root;

    if (!pp || !st || st->nfuncs <= 0)
        return APR_EINVAL;
    p = pp->pool;
    memset(&w, 0, sizeof w);
    w.pp = pp;
    w.st = st;
    w.labels = labels;
    w.loc = apr_palloc(p, sizeof(uint64_t) * (apr_size_t)st->nfuncs);
    w.onpath = apr_pcalloc(p, (apr_size_t)st->nfuncs);
    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];
        w.loc[i] = rp_pprof_location(pp, rp_func_display(p, f),
                                     f->file ? f->file : "", f->line);
    }
    root = rp_callees(st, p, &w.first, &w.kids);
    walk_share(&w, root, 0, 1.0, st->funcs[root].tt,
               (double)(st->funcs[root].nc > 0 ? st->funcs[root].nc : 1));
    return APR_SUCCESS;
}
