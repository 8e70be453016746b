/*
 * fuzz_pstats.c - the pstats writer (lib/rp_pstats.c) fed by random
 * profiles, read back by a marshal reader written here (Python cannot run
 * per input; tests/integration/test_pstats_format.py already loads random
 * files with the real pstats).
 *
 * First input byte, low bit:
 *   0 - a profile recorded through lib/rp_prof.c's API: random nesting of
 *       requests, subrequests, request-less calls, phases, hooks (some ids
 *       unknown), clock steps, requests ending with calls open, deep stacks;
 *       hook names and request paths are input bytes (invalid UTF-8 too).
 *       The file must hold cProfile's invariants: 0 <= cc <= nc,
 *       0 <= tt <= ct, exactly one root, every caller a key, edge calls
 *       adding up to the callee's calls, everything reachable from the root.
 *   1 - an rp_stats_t built directly with any numbers (negative, beyond
 *       int32, NaN) and dangling caller indexes: only the stream's structure
 *       and an exact round trip of every number are required.
 * In both modes the stream must be exactly one marshal dict of
 * {(str, int, str): (int, int, float, float, {(str, int, str): (int, int,
 * float, float)})} with valid UTF-8 strings and no duplicate keys, and
 * decode back to the numbers of the rp_stats_t it was written from.
 */
#include <math.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_prof.h"
#include "rp_pstats.h"
#include "rp_text.h"

#define FUZZ_MAX_OPS 4096
#define FUZZ_NREQ 4

/* ------------------------------------------------------ marshal reader */

typedef struct span {
    const unsigned char *s;
    uint32_t n;
} span_t;

typedef struct mkey {
    span_t file, name;
    int64_t line;
} mkey_t;

typedef struct medge {
    mkey_t key;
    int64_t nc, cc;
    double tt, ct;
} medge_t;

typedef struct mfunc {
    mkey_t key;
    int64_t cc, nc;
    double tt, ct;
    int ncallers;
    medge_t *callers;
} mfunc_t;

typedef struct reader {
    const unsigned char *d;
    size_t n, pos;
} reader_t;

static unsigned rd_byte(reader_t *r)
{
    FUZZ_CHECK(r->pos < r->n, "stream ends early at %zu", r->pos);
    return r->d[r->pos++];
}

static uint32_t rd_u32(reader_t *r)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++)
        v |= (uint32_t)rd_byte(r) << (8 * i);
    return v;
}

static int64_t rd_int(reader_t *r)
{
    unsigned t = rd_byte(r);

    if (t == 'i')
        return (int32_t)rd_u32(r);
    FUZZ_CHECK(t == 'l', "expected an int, got 0x%02x at %zu", t, r->pos - 1);
    {
        int32_t nd = (int32_t)rd_u32(r);
        int32_t cnt = nd < 0 ? -nd : nd, k;
        uint64_t mag = 0;

        /* The writer only uses 'l' past int32 and for at most 64 bits. */
        FUZZ_CHECK(cnt >= 3 && cnt <= 5, "'l' with %d digits", nd);
        for (k = 0; k < cnt; k++) {
            unsigned lo = rd_byte(r), hi = rd_byte(r), dig = lo | hi << 8;
            FUZZ_CHECK(dig < 0x8000, "'l' digit %u >= 2**15", dig);
            FUZZ_CHECK(k < cnt - 1 || dig != 0, "'l' top digit is zero");
            mag |= (uint64_t)dig << (15 * k);
        }
        FUZZ_CHECK(nd < 0 ? mag > (uint64_t)INT32_MAX + 1 : mag > INT32_MAX,
                   "'l' used for a value that fits 'i'");
        return nd < 0 ? (int64_t)(0 - mag) : (int64_t)mag;
    }
}

static double rd_float(reader_t *r)
{
    uint64_t bits = 0;
    double d;
    int i;

    FUZZ_CHECK(rd_byte(r) == 'g', "expected 'g' at %zu", r->pos - 1);
    for (i = 0; i < 8; i++)
        bits |= (uint64_t)rd_byte(r) << (8 * i);
    memcpy(&d, &bits, sizeof d);
    return d;
}

static span_t rd_str(reader_t *r)
{
    span_t sp;

    FUZZ_CHECK(rd_byte(r) == 'u', "expected 'u' at %zu", r->pos - 1);
    sp.n = rd_u32(r);
    FUZZ_CHECK(sp.n <= r->n - r->pos, "string of %u bytes past the end", sp.n);
    sp.s = r->d + r->pos;
    r->pos += sp.n;
    FUZZ_CHECK(fuzz_valid_utf8(sp.s, sp.n), "string is not valid UTF-8");
    FUZZ_CHECK(memchr(sp.s, 0, sp.n) == NULL, "NUL inside a string");
    return sp;
}

static void rd_tuple(reader_t *r, uint32_t want)
{
    unsigned t = rd_byte(r);
    uint32_t n = t == ')' ? rd_byte(r) : t == '(' ? rd_u32(r) : 0xFFFFFFFFu;

    FUZZ_CHECK(t == ')' || t == '(', "expected a tuple, got 0x%02x", t);
    FUZZ_CHECK(n == want, "tuple of %u, expected %u", n, want);
}

static mkey_t rd_key(reader_t *r)
{
    mkey_t k;

    rd_tuple(r, 3);
    k.file = rd_str(r);
    k.line = rd_int(r);
    k.name = rd_str(r);
    return k;
}

static int key_eq(const mkey_t *a, const mkey_t *b)
{
    return a->line == b->line && a->file.n == b->file.n && a->name.n == b->name.n
        && memcmp(a->file.s, b->file.s, a->file.n) == 0
        && memcmp(a->name.s, b->name.s, a->name.n) == 0;
}

/* Peeks for the dict end '0'. */
static int rd_dict_end(reader_t *r)
{
    FUZZ_CHECK(r->pos < r->n, "dict not closed");
    if (r->d[r->pos] == '0') {
        r->pos++;
        return 1;
    }
    return 0;
}

static int read_stream(const char *data, size_t len, apr_pool_t *p, mfunc_t **out)
{
    reader_t r = { (const unsigned char *)data, len, 0 };
    int n = 0, cap = 16, i;
    mfunc_t *f = apr_palloc(p, sizeof *f * (size_t)cap);

    FUZZ_CHECK(rd_byte(&r) == '{', "stream does not start with a dict");
    while (!rd_dict_end(&r)) {
        mfunc_t *m;
        int ecap = 4;

        if (n == cap) {
            mfunc_t *g = apr_palloc(p, sizeof *f * (size_t)cap * 2);
            memcpy(g, f, sizeof *f * (size_t)cap);
            f = g;
            cap *= 2;
        }
        m = &f[n];
        m->key = rd_key(&r);
        for (i = 0; i < n; i++)
            FUZZ_CHECK(!key_eq(&f[i].key, &m->key), "duplicate key %d and %d", i, n);
        rd_tuple(&r, 5);
        m->cc = rd_int(&r);
        m->nc = rd_int(&r);
        m->tt = rd_float(&r);
        m->ct = rd_float(&r);
        FUZZ_CHECK(rd_byte(&r) == '{', "callers is not a dict");
        m->ncallers = 0;
        m->callers = apr_palloc(p, sizeof(medge_t) * (size_t)ecap);
        while (!rd_dict_end(&r)) {
            medge_t *e;

            if (m->ncallers == ecap) {
                medge_t *g = apr_palloc(p, sizeof(medge_t) * (size_t)ecap * 2);
                memcpy(g, m->callers, sizeof(medge_t) * (size_t)ecap);
                m->callers = g;
                ecap *= 2;
            }
            e = &m->callers[m->ncallers];
            e->key = rd_key(&r);
            for (i = 0; i < m->ncallers; i++)
                FUZZ_CHECK(!key_eq(&m->callers[i].key, &e->key), "duplicate caller");
            rd_tuple(&r, 4);
            e->nc = rd_int(&r);
            e->cc = rd_int(&r);
            e->tt = rd_float(&r);
            e->ct = rd_float(&r);
            m->ncallers++;
        }
        n++;
    }
    FUZZ_CHECK(r.pos == r.n, "%zu bytes after the dict", r.n - r.pos);
    FUZZ_CHECK(n > 0, "empty dict (pstats cannot load it)");
    *out = f;
    return n;
}

static int find_key(const mfunc_t *f, int n, const mkey_t *k)
{
    int i;

    for (i = 0; i < n; i++)
        if (key_eq(&f[i].key, k))
            return i;
    return -1;
}

static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The file says what st says, number for number. */
static void check_round_trip(const rp_stats_t *st, const mfunc_t *f, int n,
                             apr_pool_t *p)
{
    int i, j, k;

    FUZZ_CHECK(n == st->nfuncs, "%d keys for %d functions", n, st->nfuncs);
    for (i = 0; i < n; i++) {
        const rp_func_t *s = &st->funcs[i];

        mkey_t want;

        want.file.s = (const unsigned char *)rp_utf8_clean(p, s->file, 0x7FFFFFFF);
        want.file.n = (uint32_t)strlen((const char *)want.file.s);
        want.name.s = (const unsigned char *)rp_utf8_clean(p, s->name, 0x7FFFFFFF);
        want.name.n = (uint32_t)strlen((const char *)want.name.s);
        want.line = s->line;
        FUZZ_CHECK(key_eq(&f[i].key, &want), "key %d is not the cleaned key", i);
        FUZZ_CHECK(f[i].cc == s->cc && f[i].nc == s->nc, "calls differ at %d", i);
        FUZZ_CHECK(same_double(f[i].tt, s->tt) && same_double(f[i].ct, s->ct),
                   "times differ at %d", i);
        for (j = 0, k = 0; j < s->ncallers; j++) {
            const rp_edge_t *e = &s->callers[j];

            if (e->caller < 0 || e->caller >= st->nfuncs)
                continue;               /* dangling: left out */
            FUZZ_CHECK(k < f[i].ncallers, "edge missing at %d", i);
            FUZZ_CHECK(key_eq(&f[i].callers[k].key, &f[e->caller].key),
                       "edge %d of %d names the wrong caller", k, i);
            FUZZ_CHECK(f[i].callers[k].nc == e->nc && f[i].callers[k].cc == e->cc
                       && same_double(f[i].callers[k].tt, e->tt)
                       && same_double(f[i].callers[k].ct, e->ct),
                       "edge %d of %d differs", k, i);
            k++;
        }
        FUZZ_CHECK(k == f[i].ncallers, "extra edges at %d", i);
    }
}

/* What SnakeViz, tuna and gprof2dot rely on (cf. walk_callers_graph in
 * tests/integration/httpd.py). */
static void check_cprofile(const mfunc_t *f, int n, apr_pool_t *p)
{
    const double rel = 1e-9, abs_eps = 1e-12;
    int *seen = apr_pcalloc(p, sizeof(int) * (size_t)n), *todo;
    int i, j, roots = 0, root = -1, ntodo = 0;

    for (i = 0; i < n; i++) {
        int64_t calls = 0;

        FUZZ_CHECK(0 <= f[i].cc && f[i].cc <= f[i].nc, "cc %lld nc %lld at %d",
                   (long long)f[i].cc, (long long)f[i].nc, i);
        FUZZ_CHECK(f[i].tt >= 0 && f[i].tt <= f[i].ct * (1 + rel) + abs_eps,
                   "tt %g ct %g at %d", f[i].tt, f[i].ct, i);
        for (j = 0; j < f[i].ncallers; j++) {
            const medge_t *e = &f[i].callers[j];

            FUZZ_CHECK(find_key(f, n, &e->key) >= 0, "caller of %d is no key", i);
            FUZZ_CHECK(0 <= e->cc && e->cc <= e->nc, "edge calls at %d", i);
            FUZZ_CHECK(e->tt >= 0 && e->tt <= e->ct * (1 + rel) + abs_eps
                       && e->ct <= f[i].ct * (1 + rel) + abs_eps,
                       "edge times at %d: tt %g ct %g of %g", i, e->tt, e->ct, f[i].ct);
            calls += e->nc;
        }
        if (f[i].ncallers == 0) {
            roots++;
            root = i;
        }
        else {
            FUZZ_CHECK(calls == f[i].nc, "edge calls %lld != nc %lld at %d",
                       (long long)calls, (long long)f[i].nc, i);
        }
    }
    FUZZ_CHECK(roots == 1, "%d roots", roots);
    todo = apr_palloc(p, sizeof(int) * (size_t)n);
    seen[root] = 1;
    todo[ntodo++] = root;
    while (ntodo > 0) {
        int c = todo[--ntodo];

        for (i = 0; i < n; i++) {
            if (seen[i])
                continue;
            for (j = 0; j < f[i].ncallers; j++) {
                if (key_eq(&f[i].callers[j].key, &f[c].key)) {
                    seen[i] = 1;
                    todo[ntodo++] = i;
                    break;
                }
            }
        }
    }
    for (i = 0; i < n; i++)
        FUZZ_CHECK(seen[i], "function %d is not reachable from the root", i);
}

/* ------------------------------------------------- random live profiles */

typedef struct fuzz_req {
    const char *path;        /* input bytes */
} fuzz_req_t;

static fuzz_req_t fuzz_reqs[FUZZ_NREQ];

/* As the glue's label_of: a kind and the cleaned path. */
static const char *label(const void *req, apr_pool_t *p)
{
    const fuzz_req_t *fr = req;

    return apr_pstrcat(p, fr == &fuzz_reqs[1] ? "redirect " : "subrequest ",
                       rp_utf8_clean(p, fr->path, 256), NULL);
}

/* The profile recorded_profile made (NULL: none), for the plan check. */
static rp_prof_t *fuzz_prof;

static rp_stats_t *recorded_profile(fuzz_in_t *in, apr_pool_t *p)
{
    static const char *const phases[] = { "translate_name", "fixups", "handler",
                                          "log_transaction" };
    rp_registry_t *reg = rp_registry_create(p, 32);
    rp_prof_t *prof;
    rp_tick_t now = fuzz_u64(in) >> 8;       /* room to add to */
    int handles[RP_MAX_DEPTH + 8], nh = 0, ops, i, nhooks;

    for (i = 0; i < 4; i++)
        rp_registry_add(reg, "httpd", 0, phases[i]);
    /* Hook and filter names: what modules and the config spell, here any
     * bytes; a repeated name is the same function. */
    nhooks = 1 + (int)(fuzz_byte(in) % 20);
    for (i = 0; i < nhooks; i++) {
        const char *file = fuzz_str(in, p), *name = fuzz_str(in, p);
        rp_registry_add(reg, file, (int)(fuzz_byte(in) % 4), name);
    }
    for (i = 0; i < FUZZ_NREQ; i++)
        fuzz_reqs[i].path = fuzz_str(in, p);

    prof = rp_prof_create(p, reg, label);
    fuzz_prof = prof;
    rp_prof_set_event_log(prof, 1 << 20);
    rp_prof_begin(prof, &fuzz_reqs[0],
                  apr_pstrcat(p, "request GET ", rp_utf8_clean(p, fuzz_reqs[0].path, 256),
                              NULL), now);
    for (ops = 0; in->n > 0 && ops < FUZZ_MAX_OPS; ops++) {
        unsigned op = fuzz_byte(in);

        now += (op >> 4) * (op & 8 ? 1000003u : 1u);    /* steps, some long */
        switch (op & 7) {
        case 0: case 1: case 2: case 3: {
            unsigned r = fuzz_byte(in);
            const void *req = (r & 3) == 3 ? NULL : &fuzz_reqs[r & 3];
            int phase = (int)((r >> 2) % 5) - 1;              /* -1: none */
            int hook = (int)(fuzz_byte(in) % (unsigned)(reg->n + 2)); /* some unknown */
            int h = rp_prof_enter(prof, req, phase, hook, now);
            if (nh < (int)(sizeof handles / sizeof handles[0]))
                handles[nh++] = h;
            break;
        }
        case 4: case 5:
            if (nh > 0)
                rp_prof_exit(prof, handles[--nh], now);
            break;
        case 6:
            /* The request ends with calls still open (the end-of-request
             * bucket inside the core filter); the glue then stops calling
             * exit for them. Sometimes a new request starts on the object. */
            rp_prof_end(prof, now);
            nh = 0;
            if (fuzz_byte(in) & 1)
                rp_prof_begin(prof, &fuzz_reqs[0], "request GET /again", now);
            break;
        default:
            (void)rp_prof_active(prof);
            (void)rp_prof_dropped(prof);
            break;
        }
    }
    rp_prof_end(prof, now + 1);
    (void)rp_prof_root_ticks(prof);
    return rp_prof_stats(prof, p, 1e-6);
}

/* ------------------------------------------------ hand-made rp_stats_t */

static rp_stats_t *direct_stats(fuzz_in_t *in, apr_pool_t *p)
{
    rp_stats_t *st = apr_pcalloc(p, sizeof *st);
    int i, j;

    st->nfuncs = (int)(fuzz_byte(in) % 40);
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (size_t)(st->nfuncs + 1));
    for (i = 0; i < st->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];

        /* Distinct keys: a unique line per function (same names allowed). */
        f->file = fuzz_str(in, p);
        f->name = fuzz_str(in, p);
        f->line = i;
        f->cc = (int64_t)fuzz_u64(in);
        f->nc = (int64_t)fuzz_u64(in);
        f->tt = fuzz_double(in);
        f->ct = fuzz_double(in);
        f->ncallers = (int)(fuzz_byte(in) % 6);
        f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * (size_t)(f->ncallers + 1));
        for (j = 0; j < f->ncallers; j++) {
            rp_edge_t *e = &f->callers[j];

            /* Distinct callers (a dict); some indexes dangle. */
            e->caller = j * 7 + (int)(fuzz_byte(in) % 7) - 1;
            e->nc = (int64_t)fuzz_u64(in);
            e->cc = (int64_t)fuzz_u64(in);
            e->tt = fuzz_double(in);
            e->ct = fuzz_double(in);
        }
    }
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    unsigned mode = fuzz_byte(&in);
    rp_stats_t *st;

    fuzz_prof = NULL;
    st = (mode & 1) ? direct_stats(&in, p) : recorded_profile(&in, p);
    const char *out = NULL;
    apr_size_t len = 0;
    apr_status_t rv = rp_pstats_encode(st, p, &out, &len);
    mfunc_t *f;
    int n;

    if (st->nfuncs == 0) {
        FUZZ_CHECK(rv == APR_EINVAL && out == NULL && len == 0, "empty profile encoded");
    }
    else {
        FUZZ_CHECK(rv == APR_SUCCESS && out != NULL, "encode failed: %d", rv);
        n = read_stream(out, len, p, &f);
        check_round_trip(st, f, n, p);
        {
            /* The key cache (one per generation: this input's registry)
             * must give the very same bytes when filled and when read. */
            rp_pstats_keys_t *keys = rp_pstats_keys_create(p, 16);
            const char *c1 = NULL, *c2 = NULL;
            apr_size_t l1 = 0, l2 = 0;
            FUZZ_CHECK(rp_pstats_encode_keys(st, keys, p, &c1, &l1) == APR_SUCCESS
                       && rp_pstats_encode_keys(st, keys, p, &c2, &l2) == APR_SUCCESS,
                       "cached encode failed");
            FUZZ_CHECK(l1 == len && l2 == len && !memcmp(c1, out, len)
                       && !memcmp(c2, out, len), "cached bytes differ");
        }
        if (fuzz_prof && rp_prof_log_whole(fuzz_prof)) {
            /* The plan of a recorded file: the frames it was made from
             * give back its very bytes (when a plan is kept: counts past
             * int32 or a file past the template's size keep none). */
            rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
            const rp_prof_rec_t *log;
            const char *c1 = NULL;
            apr_size_t l1 = 0;
            int nlog;
            log = rp_prof_log(fuzz_prof, &nlog);
            FUZZ_CHECK(rp_pstats_encode_plan(t, 5, log, nlog, st->funcs[0].name, 1e-6, p,
                                             &c1, &l1) == APR_EINCOMPLETE, "plan from nothing");
            FUZZ_CHECK(rp_pstats_encode_tmpl(st, NULL, t, p, &c1, &l1) == APR_SUCCESS,
                       "template encode failed");
            rp_pstats_tmpl_plan(t, 5, log, nlog, st);
            if (rp_pstats_encode_plan(t, 5, log, nlog, st->funcs[0].name, 1e-6, p, &c1,
                                      &l1) == APR_SUCCESS)
                FUZZ_CHECK(l1 == len && !memcmp(c1, out, len), "planned bytes differ");
            else {
                /* Refused: only for what the template keeps no file of. */
                int wide = 0, i, j;
                for (i = 0; i < st->nfuncs; i++) {
                    const rp_func_t *fn = &st->funcs[i];
                    wide |= fn->cc != (int32_t)fn->cc || fn->nc != (int32_t)fn->nc;
                    for (j = 0; j < fn->ncallers; j++)
                        wide |= fn->callers[j].nc != (int32_t)fn->callers[j].nc
                                || fn->callers[j].cc != (int32_t)fn->callers[j].cc;
                }
                FUZZ_CHECK(len > (256u << 10) || wide, "no plan kept for a plain file");
            }
        }
        {
            /* The last file's template: recorded by this file, filled in
             * for the same shape with the rest of the input as numbers
             * (counts past int32 among them), and each time exactly the
             * bytes the plain encoder writes. */
            rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
            const char *c1 = NULL, *plain = NULL;
            apr_size_t l1 = 0, lp = 0;
            int round, i, j;
            FUZZ_CHECK(rp_pstats_encode_tmpl(st, NULL, t, p, &c1, &l1) == APR_SUCCESS
                       && l1 == len && !memcmp(c1, out, len), "template: recorded bytes differ");
            for (round = 0; round < 2; round++) {
                for (i = 0; i < st->nfuncs; i++) {
                    rp_func_t *fn = &st->funcs[i];
                    fn->cc = (int64_t)(fuzz_byte(&in) & 1 ? fuzz_u64(&in) : fuzz_byte(&in));
                    fn->nc = (int64_t)fuzz_byte(&in);
                    fn->tt = fuzz_double(&in);
                    for (j = 0; j < fn->ncallers; j++) {
                        fn->callers[j].nc = (int64_t)fuzz_byte(&in) - 3;
                        fn->callers[j].ct = fuzz_double(&in);
                    }
                }
                FUZZ_CHECK(rp_pstats_encode(st, p, &plain, &lp) == APR_SUCCESS
                           && rp_pstats_encode_tmpl(st, NULL, t, p, &c1, &l1) == APR_SUCCESS,
                           "template encode failed");
                FUZZ_CHECK(l1 == lp && !memcmp(c1, plain, lp), "template: filled bytes differ");
            }
        }
        if (!(mode & 1))
            check_cprofile(f, n, p);
    }
    fuzz_done(p);
    return 0;
}
