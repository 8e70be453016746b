/*
 * fuzz_pprof.c - the pprof writer (lib/rp_pprof.c) fed random profiles,
 * its output unpacked and decoded back here.
 *
 * Input: a mode byte, then operations. Mode low bit 0: calls of the API
 * itself (locations with input names, samples with stacks of known and
 * unknown ids, labels, comments, any values); 1: an rp_stats_t built from
 * the input (any graph: cycles, dangling callers, several roots or none)
 * through rp_pprof_add_stats.
 *
 * Required of the output: a gzip member (header, stored blocks whose
 * LEN/NLEN agree, the last one final, CRC-32 and ISIZE of the payload);
 * the payload a well-formed protobuf (known wire types, lengths inside
 * their message) with two sample types, string_table[0] == "", every
 * string valid UTF-8, every string index inside the table, every
 * location id of a sample naming a location, every location's function
 * a function, and each sample two values.
 */
#include <math.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_pprof.h"

#define MAX_OPS 512

typedef struct rd {
    const unsigned char *d;
    size_t n, i;
} rd_t;

static uint64_t varint(rd_t *r)
{
    uint64_t v = 0;
    int sh = 0;
    for (;;) {
        unsigned char c;
        FUZZ_CHECK(r->i < r->n, "varint runs past its message");
        FUZZ_CHECK(sh < 70, "varint longer than 10 bytes");
        c = r->d[r->i++];
        v |= (uint64_t)(c & 0x7f) << sh;
        sh += 7;
        if (!(c & 0x80))
            return v;
    }
}

/* A field: its number, wire type, and (type 2) the bytes or (type 0) v. */
static int field(rd_t *r, unsigned *num, rd_t *sub, uint64_t *v)
{
    uint64_t k;
    if (r->i >= r->n)
        return 0;
    k = varint(r);
    *num = (unsigned)(k >> 3);
    FUZZ_CHECK(*num > 0, "field number 0");
    if ((k & 7) == 0) {
        *v = varint(r);
        sub->d = NULL;
        return 1;
    }
    FUZZ_CHECK((k & 7) == 2, "wire type %u", (unsigned)(k & 7));
    *v = varint(r);
    FUZZ_CHECK(*v <= r->n - r->i, "length %llu past the end", (unsigned long long)*v);
    sub->d = r->d + r->i;
    sub->n = (size_t)*v;
    sub->i = 0;
    r->i += (size_t)*v;
    return 1;
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], need, cp, k;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xc2 && c <= 0xdf) { need = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { need = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { need = 3; cp = c & 0x07; }
        else return 0;
        for (k = 1; k <= need; k++) {
            if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += need + 1;
    }
    return 1;
}

/* Unpacks the gzip member: stored blocks only, CRC and size checked. */
static const unsigned char *gunzip(const char *gz, size_t n, size_t *out_n,
                                   apr_pool_t *p)
{
    const unsigned char *g = (const unsigned char *)gz;
    unsigned char *out = apr_palloc(p, n + 1);
    size_t i = 10, o = 0;
    uint32_t crc, size;
    int final = 0;

    FUZZ_CHECK(n >= 10 + 5 + 8, "gzip too short: %zu", n);
    FUZZ_CHECK(g[0] == 0x1f && g[1] == 0x8b && g[2] == 8 && g[3] == 0, "gzip header");
    while (!final) {
        unsigned len, nlen;
        FUZZ_CHECK(i + 5 <= n, "block header past the end");
        FUZZ_CHECK((g[i] & ~1u) == 0, "not a stored block: %02x", g[i]);
        final = g[i] & 1;
        len = g[i + 1] | g[i + 2] << 8;
        nlen = g[i + 3] | g[i + 4] << 8;
        FUZZ_CHECK((len ^ nlen) == 0xffff, "LEN/NLEN");
        i += 5;
        FUZZ_CHECK(i + len <= n, "block past the end");
        memcpy(out + o, g + i, len);
        o += len;
        i += len;
    }
    FUZZ_CHECK(i + 8 == n, "trailer: %zu bytes left", n - i);
    crc = (uint32_t)g[i] | (uint32_t)g[i + 1] << 8 | (uint32_t)g[i + 2] << 16
          | (uint32_t)g[i + 3] << 24;
    size = (uint32_t)g[i + 4] | (uint32_t)g[i + 5] << 8 | (uint32_t)g[i + 6] << 16
           | (uint32_t)g[i + 7] << 24;
    FUZZ_CHECK(crc == rp_pprof_crc32(0, out, o), "CRC");
    FUZZ_CHECK(size == (uint32_t)o, "ISIZE");
    *out_n = o;
    return out;
}

static void check_profile(const unsigned char *d, size_t n)
{
    rd_t r = { d, n, 0 }, sub;
    unsigned num, nstr = 0, nloc = 0, nfn = 0, ntypes = 0;
    uint64_t v, maxstr = 0, maxloc = 0, maxfn = 0, maxfnref = 0;
    int first_str = 1;

    while (field(&r, &num, &sub, &v)) {
        unsigned sn;
        rd_t s2;
        uint64_t sv;
        switch (num) {
        case 1:             /* sample_type */
            ntypes++;
            while (field(&sub, &sn, &s2, &sv))
                if (sv > maxstr) maxstr = sv;
            break;
        case 2: {           /* sample */
            int values = 0;
            while (field(&sub, &sn, &s2, &sv)) {
                if (sn == 1) {
                    while (s2.i < s2.n) {
                        uint64_t id = varint(&s2);
                        FUZZ_CHECK(id > 0, "location id 0");
                        if (id > maxloc) maxloc = id;
                    }
                } else if (sn == 2) {
                    while (s2.i < s2.n) {
                        varint(&s2);
                        values++;
                    }
                } else if (sn == 3) {
                    rd_t s3;
                    unsigned ln;
                    uint64_t lv;
                    while (field(&s2, &ln, &s3, &lv))
                        if (lv > maxstr) maxstr = lv;
                }
            }
            FUZZ_CHECK(values == 2, "sample with %d values", values);
            break;
        }
        case 3:
            while (field(&sub, &sn, &s2, &sv))
                if (sn == 5 && sv > maxstr) maxstr = sv;
            break;
        case 4: {           /* location */
            nloc++;
            while (field(&sub, &sn, &s2, &sv)) {
                if (sn == 1)
                    FUZZ_CHECK(sv == nloc, "location ids in order");
                if (sn == 4) {
                    rd_t s3;
                    unsigned ln;
                    uint64_t lv;
                    while (field(&s2, &ln, &s3, &lv))
                        if (ln == 1 && lv > maxfnref) maxfnref = lv;
                }
            }
            break;
        }
        case 5:             /* function */
            nfn++;
            while (field(&sub, &sn, &s2, &sv)) {
                if (sn == 1)
                    FUZZ_CHECK(sv == nfn, "function ids in order");
                if (sn >= 2 && sn <= 4 && sv > maxstr) maxstr = sv;
            }
            if (nfn > maxfn) maxfn = nfn;
            break;
        case 6:             /* string_table */
            FUZZ_CHECK(sub.d != NULL, "string as varint");
            if (first_str)
                FUZZ_CHECK(sub.n == 0, "string_table[0] not empty");
            first_str = 0;
            FUZZ_CHECK(valid_utf8(sub.d, sub.n), "invalid UTF-8 in string %u", nstr);
            nstr++;
            break;
        case 11:
            while (field(&sub, &sn, &s2, &sv))
                if (sv > maxstr) maxstr = sv;
            break;
        case 13:
            while (sub.i < sub.n) {
                uint64_t c = varint(&sub);
                if (c > maxstr) maxstr = c;
            }
            break;
        case 14:
            if (v > maxstr) maxstr = v;
            break;
        default:
            break;
        }
    }
    FUZZ_CHECK(ntypes == 2, "%u sample types", ntypes);
    FUZZ_CHECK(nstr > 0 && maxstr < nstr, "string index %llu of %u",
               (unsigned long long)maxstr, nstr);
    FUZZ_CHECK(maxloc <= nloc, "sample names location %llu of %u",
               (unsigned long long)maxloc, nloc);
    FUZZ_CHECK(maxfnref <= nfn && nloc == nfn, "functions");
}

static void api_ops(fuzz_in_t *in, rp_pprof_t *pp, apr_pool_t *p)
{
    uint64_t stack[40];
    int ops;
    for (ops = 0; in->n > 0 && ops < MAX_OPS; ops++) {
        unsigned op = fuzz_byte(in);
        switch (op & 3) {
        case 0: {
            const char *name = fuzz_str(in, p), *file = fuzz_str(in, p);
            rp_pprof_location(pp, name, file, (int)(int8_t)fuzz_byte(in));
            break;
        }
        case 1: {
            int n = (int)(fuzz_byte(in) % 40), i;
            const char *labels[7];
            int nl = (int)(op >> 2) % 4;
            for (i = 0; i < n; i++)
                stack[i] = fuzz_byte(in) % 12;
            for (i = 0; i < 2 * nl; i++)
                labels[i] = fuzz_str(in, p);
            labels[2 * nl] = NULL;
            rp_pprof_add(pp, stack, n, (int64_t)fuzz_u64(in), (int64_t)fuzz_u64(in),
                         nl ? labels : NULL);
            break;
        }
        default:
            rp_pprof_comment(pp, fuzz_str(in, p));
            break;
        }
    }
}

static void stats_ops(fuzz_in_t *in, rp_pprof_t *pp, apr_pool_t *p)
{
    rp_stats_t st;
    const char *labels[] = { "method", NULL, NULL };
    int i, j;
    st.nfuncs = 1 + (int)(fuzz_byte(in) % 24);
    st.funcs = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)st.nfuncs);
    for (i = 0; i < st.nfuncs; i++) {
        rp_func_t *f = &st.funcs[i];
        f->file = (fuzz_byte(in) & 1) ? "httpd" : fuzz_str(in, p);
        f->name = fuzz_str(in, p);
        f->line = (int)(fuzz_byte(in) % 5);
        f->nc = f->cc = fuzz_byte(in);
        f->tt = fabs(fuzz_double(in));
        f->ct = fabs(fuzz_double(in));
        if (!isfinite(f->tt)) f->tt = 0;
        if (!isfinite(f->ct)) f->ct = 0;
        f->ncallers = (int)(fuzz_byte(in) % 4);
        f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * (apr_size_t)(f->ncallers + 1));
        for (j = 0; j < f->ncallers; j++) {
            rp_edge_t *e = &f->callers[j];
            e->caller = (int)(fuzz_byte(in) % 30) - 2;
            e->nc = e->cc = fuzz_byte(in);
            e->tt = fabs(fuzz_double(in));
            e->ct = fabs(fuzz_double(in));
            if (!isfinite(e->tt)) e->tt = 0;
            if (!isfinite(e->ct)) e->ct = 0;
        }
    }
    labels[1] = fuzz_str(in, p);
    FUZZ_CHECK(rp_pprof_add_stats(pp, &st, labels) == APR_SUCCESS, "add_stats");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    rp_pprof_t *pp = rp_pprof_create(p);
    unsigned mode = fuzz_byte(&in);
    const char *gz;
    const unsigned char *raw;
    apr_size_t gzn, rawn;

    if (mode & 1)
        stats_ops(&in, pp, p);
    else
        api_ops(&in, pp, p);
    FUZZ_CHECK(rp_pprof_encode(pp, (int64_t)(mode * 1000003u), 5, p, &gz, &gzn)
               == APR_SUCCESS, "encode");
    raw = gunzip(gz, gzn, &rawn, p);
    check_profile(raw, rawn);
    fuzz_done(p);
    return 0;
}
