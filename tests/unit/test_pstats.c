/* Unit tests for lib/rp_pstats.c: marshal bytes against hand-computed
 * vectors (the cross-check with Python itself is in
 * tests/integration/test_pstats_format.py). */
#define _GNU_SOURCE 1   /* memmem */
#include "rp_test.h"
#include "rp_test_ops.h"
#include <stdio.h>
#include <math.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_pstats.h"
#include "rp_prof.h"

/* Assert that b holds exactly the n bytes of want, showing the first
 * difference. */
#define assert_bytes(b, want) \
    assert_bytes_n((b)->data, (b)->len, (want), sizeof(want) - 1)

static void assert_bytes_n(const char *got, apr_size_t glen,
                           const char *want, apr_size_t wlen)
{
    apr_size_t i;

    for (i = 0; i < glen && i < wlen; i++) {
        if (got[i] != want[i])
            fail_msg("byte %u: got 0x%02x, want 0x%02x", (unsigned)i,
                     (unsigned char)got[i], (unsigned char)want[i]);
    }
    assert_int_equal(glen, wlen);
}

/* Encode st, which must succeed, and compare with the literal want. */
#define assert_encoded(state, st, want) do { \
        const char *data_; \
        apr_size_t len_; \
        assert_int_equal(rp_pstats_encode((st), (apr_pool_t *)*(state), \
                                          &data_, &len_), APR_SUCCESS); \
        assert_bytes_n(data_, len_, (want), sizeof(want) - 1); \
    } while (0)

static rp_buf_t new_buf(void **state)
{
    rp_buf_t b;

    rp_buf_init(&b, (apr_pool_t *)*state, 0);
    return b;
}

static void test_buf_grows_and_keeps_content(void **state)
{
    rp_buf_t b;
    int i;

    rp_buf_init(&b, (apr_pool_t *)*state, 3);
    for (i = 0; i < 1000; i++) {
        char c = (char)('a' + i % 26);
        rp_buf_add(&b, &c, 1);
    }
    rp_buf_add(&b, "", 0);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap >= 1000);
    for (i = 0; i < 1000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
}

static void test_marshal_small_ints(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_int(&b, 0);
    rp_marshal_int(&b, 1);
    rp_marshal_int(&b, 300);
    assert_bytes(&b, "i\0\0\0\0" "i\x01\0\0\0" "i\x2c\x01\0\0");
}

static void test_marshal_negative_ints(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_int(&b, -1);
    rp_marshal_int(&b, -2);
    assert_bytes(&b, "i\xff\xff\xff\xff" "i\xfe\xff\xff\xff");
}

static void test_marshal_int32_edges_stay_i(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_int(&b, INT32_MAX);
    rp_marshal_int(&b, INT32_MIN);
    assert_bytes(&b, "i\xff\xff\xff\x7f" "i\0\0\0\x80");
}

static void test_marshal_2_pow_31_is_long(void **state)
{
    rp_buf_t b = new_buf(state);

    /* 2**31 = 2 * (2**15)**2: three base-2**15 digits 0, 0, 2 */
    rp_marshal_int(&b, (int64_t)1 << 31);
    assert_bytes(&b, "l\x03\0\0\0" "\0\0" "\0\0" "\x02\0");
}

static void test_marshal_minus_2_pow_40_is_long(void **state)
{
    rp_buf_t b = new_buf(state);

    /* -2**40 = -(1024 * (2**15)**2): count -3, digits 0, 0, 1024 */
    rp_marshal_int(&b, -((int64_t)1 << 40));
    assert_bytes(&b, "l\xfd\xff\xff\xff" "\0\0" "\0\0" "\0\x04");
}

static void test_marshal_int64_extremes(void **state)
{
    rp_buf_t b = new_buf(state);

    /* 2**63-1: four digits 0x7fff then 7; -2**63: four 0 then 8 */
    rp_marshal_int(&b, INT64_MAX);
    rp_marshal_int(&b, INT64_MIN);
    assert_bytes(&b, "l\x05\0\0\0" "\xff\x7f\xff\x7f\xff\x7f\xff\x7f\x07\0"
                     "l\xfb\xff\xff\xff" "\0\0\0\0\0\0\0\0\x08\0");
}

static void test_marshal_floats(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_float(&b, 0.1);
    rp_marshal_float(&b, -0.0);
    rp_marshal_float(&b, 1.0);
    assert_bytes(&b, "g\x9a\x99\x99\x99\x99\x99\xb9\x3f"
                     "g\0\0\0\0\0\0\0\x80"
                     "g\0\0\0\0\0\0\xf0\x3f");
}

static void test_marshal_float_inf(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_float(&b, INFINITY);
    assert_bytes(&b, "g\0\0\0\0\0\0\xf0\x7f");
}

static void test_marshal_strings(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_str(&b, "abc");
    rp_marshal_str(&b, "");
    /* non-ASCII is 'u' with the UTF-8 byte length, never 'z' (Latin-1) */
    rp_marshal_str(&b, "caf\xc3\xa9");
    assert_bytes(&b, "u\x03\0\0\0abc" "u\0\0\0\0" "u\x05\0\0\0caf\xc3\xa9");
}

static void test_marshal_tuples_and_dict(void **state)
{
    rp_buf_t b = new_buf(state);

    rp_marshal_tuple_begin(&b, 3);
    rp_marshal_tuple_begin(&b, 255);
    rp_marshal_tuple_begin(&b, 256);
    rp_marshal_tuple_begin(&b, 70000);
    rp_marshal_dict_begin(&b);
    rp_marshal_dict_end(&b);
    assert_bytes(&b, ")\x03" ")\xff" "(\0\x01\0\0" "(\x70\x11\x01\0" "{0");
}

static void test_encode_empty_is_einval(void **state)
{
    rp_stats_t st = {0, NULL};
    const char *data = "x";
    apr_size_t len = 7;

    assert_int_equal(rp_pstats_encode(&st, (apr_pool_t *)*state, &data, &len),
                     APR_EINVAL);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_int_equal(rp_pstats_encode(NULL, (apr_pool_t *)*state, &data, &len),
                     APR_EINVAL);
}

static void test_encode_one_function(void **state)
{
    rp_func_t f = {"a.c", 7, "f", 1, 2, 0.5, 1.0, 0, NULL, 0};
    rp_stats_t st = {1, &f};
    /* {('a.c', 7, 'f'): (1, 2, 0.5, 1.0, {})} */
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x03\0\0\0a.c" "i\x07\0\0\0" "u\x01\0\0\0f"
                     ")\x05" "i\x01\0\0\0" "i\x02\0\0\0"
                     "g\0\0\0\0\0\0\xe0\x3f" "g\0\0\0\0\0\0\xf0\x3f"
                     "{0"
                     "0");
}

static void test_encode_nested_callers(void **state)
{
    /* root r calls g (edge nc 3, cc 2), g calls itself once */
    rp_edge_t edges[] = {
        {0, 3, 2, 0.25, 0.5},
        {1, 1, 0, 0.0, 0.0},
    };
    rp_func_t f[] = {
        {"h", 0, "r", 1, 1, 0.0, 1.0, 0, NULL, 0},
        {"h", 1, "g", 2, 4, 0.25, 0.5, 2, edges, 0},
    };
    rp_stats_t st = {2, f};
    /* {('h',0,'r'): (1,1,0.0,1.0,{}),
     *  ('h',1,'g'): (2,4,0.25,0.5,{('h',0,'r'): (3,2,0.25,0.5),
     *                             ('h',1,'g'): (1,0,0.0,0.0)})} */
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x01\0\0\0h" "i\0\0\0\0" "u\x01\0\0\0r"
                     ")\x05" "i\x01\0\0\0" "i\x01\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\xf0\x3f" "{0"
                     ")\x03" "u\x01\0\0\0h" "i\x01\0\0\0" "u\x01\0\0\0g"
                     ")\x05" "i\x02\0\0\0" "i\x04\0\0\0"
                     "g\0\0\0\0\0\0\xd0\x3f" "g\0\0\0\0\0\0\xe0\x3f"
                     "{"
                     ")\x03" "u\x01\0\0\0h" "i\0\0\0\0" "u\x01\0\0\0r"
                     ")\x04" "i\x03\0\0\0" "i\x02\0\0\0"
                     "g\0\0\0\0\0\0\xd0\x3f" "g\0\0\0\0\0\0\xe0\x3f"
                     ")\x03" "u\x01\0\0\0h" "i\x01\0\0\0" "u\x01\0\0\0g"
                     ")\x04" "i\x01\0\0\0" "i\0\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0"
                     "0"
                     "0");
}

static void test_encode_cleans_invalid_utf8(void **state)
{
    /* 0xff would make marshal.load() raise; a tab would break reports */
    rp_func_t f = {"b\xff", -1, "t\tx", (int64_t)1 << 31, 0, 0.0, 0.0, 0, NULL, 0};
    rp_stats_t st = {1, &f};
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x04\0\0\0b\xef\xbf\xbd" "i\xff\xff\xff\xff"
                     "u\x03\0\0\0t?x"
                     ")\x05" "l\x03\0\0\0\0\0\0\0\x02\0" "i\0\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0" "{0"
                     "0");
}

/* Counts past int32 on an edge are sized and written as TYPE_LONG. */
static void test_encode_wide_edge_counts(void **state)
{
    rp_edge_t edges[] = {{0, (int64_t)1 << 40, -((int64_t)1 << 31) - 1, 0.0, 0.0}};
    rp_func_t f[] = {
        {"h", 0, "r", 1, 1, 0.0, 0.0, 0, NULL, 0},
        {"h", 1, "g", 1, 1, 0.0, 0.0, 1, edges, 0},
    };
    rp_stats_t st = {2, f};
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x01\0\0\0h" "i\0\0\0\0" "u\x01\0\0\0r"
                     ")\x05" "i\x01\0\0\0" "i\x01\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0" "{0"
                     ")\x03" "u\x01\0\0\0h" "i\x01\0\0\0" "u\x01\0\0\0g"
                     ")\x05" "i\x01\0\0\0" "i\x01\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0"
                     "{"
                     ")\x03" "u\x01\0\0\0h" "i\0\0\0\0" "u\x01\0\0\0r"
                     ")\x04"
                     /* 2**40 = 1024 * (2**15)**2: digits 0, 0, 1024 */
                     "l\x03\0\0\0" "\0\0" "\0\0" "\0\x04"
                     /* -(2**31 + 1): digits 1, 0, 2, count -3 */
                     "l\xfd\xff\xff\xff" "\x01\0" "\0\0" "\x02\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0"
                     "0"
                     "0");
}

static void test_encode_skips_dangling_caller(void **state)
{
    rp_edge_t edges[] = {{5, 1, 1, 0.0, 0.0}, {-1, 1, 1, 0.0, 0.0}};
    rp_func_t f = {"a", 1, "f", 1, 1, 0.0, 0.0, 2, edges, 0};
    rp_stats_t st = {1, &f};
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x01\0\0\0a" "i\x01\0\0\0" "u\x01\0\0\0f"
                     ")\x05" "i\x01\0\0\0" "i\x01\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0" "{0"
                     "0");
}


/* ---- the key cache (rp_pstats_keys_t) ---- */

/* Encode st both ways; the cached bytes must be exactly the plain ones. */
static const char *encode_both(apr_pool_t *p, const rp_stats_t *st,
                               rp_pstats_keys_t *k, apr_size_t *len)
{
    const char *plain, *cached;
    apr_size_t plen, clen;

    assert_int_equal(rp_pstats_encode(st, p, &plain, &plen), APR_SUCCESS);
    assert_int_equal(rp_pstats_encode_keys(st, k, p, &cached, &clen), APR_SUCCESS);
    assert_bytes_n(cached, clen, plain, plen);
    *len = clen;
    return cached;
}

/* One request through the real registry and profile: a root, a phase,
 * three hooks (one called twice, one nested in another), so the stats
 * carry key_slot as the module's do. */
static rp_stats_t *profile_of(apr_pool_t *p, rp_registry_t *reg)
{
    rp_prof_t *prof = rp_prof_create(p, reg, NULL);
    int h;

    rp_prof_begin(prof, (void *)1, "request GET /x", 0);
    h = rp_prof_enter(prof, (void *)1, 0, 1, 10);
    rp_prof_exit(prof, h, 20);
    h = rp_prof_enter(prof, (void *)1, 0, 2, 30);
    {
        int n = rp_prof_enter(prof, (void *)1, -1, 3, 35);
        rp_prof_exit(prof, n, 38);
    }
    rp_prof_exit(prof, h, 40);
    h = rp_prof_enter(prof, (void *)1, 0, 1, 50);
    rp_prof_exit(prof, h, 60);
    rp_prof_end(prof, 100);
    return rp_prof_stats(prof, p, 1e-6);
}

static rp_registry_t *registry_of(apr_pool_t *p, const char *const *names)
{
    rp_registry_t *reg = rp_registry_create(p, 16);
    int i;

    assert_int_equal(rp_registry_add(reg, "httpd", 0, "handler"), 0);
    for (i = 0; names[i]; i++)
        assert_int_equal(rp_registry_add(reg, names[i], 1 + i, "hook"), i + 1);
    return reg;
}

static void test_keys_cached_bytes_equal_plain(void **state)
{
    apr_pool_t *p = *state;
    static const char *const names[] = {"mod_a.c", "mod_b.c", "mod_c.c", NULL};
    rp_registry_t *reg = registry_of(p, names);
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 16);
    rp_stats_t *st = profile_of(p, reg);
    const char *first, *again;
    apr_size_t n1, n2;
    int i, slots = 0;

    for (i = 0; i < st->nfuncs; i++)
        slots += st->funcs[i].key_slot > 0;
    assert_int_equal(slots, 4);             /* the phase and three hooks */
    assert_int_equal(st->funcs[0].key_slot, 0);     /* the root: dynamic */
    first = encode_both(p, st, k, &n1);     /* fills the cache */
    again = encode_both(p, st, k, &n2);     /* reads it */
    assert_int_equal(n1, n2);
    assert_memory_equal(first, again, n1);
}

/* A restart clears the generation's pool and makes a new registry in
 * it: the same ids name other functions, in strings that land at the
 * very addresses the old ones had (a cleared pool hands its memory out
 * again in the same order). The new generation's cache must write the
 * new keys. */
static void test_keys_new_generation_never_reuses_bytes(void **state)
{
    apr_pool_t *p = *state, *gen;
    static const char *const old_names[] = {"mod_old.c", "mod_b.c", "mod_c.c", NULL};
    static const char *const new_names[] = {"mod_new.c", "mod_b.c", "mod_c.c", NULL};
    rp_registry_t *reg;
    rp_pstats_keys_t *k;
    rp_stats_t *st;
    const char *data, *old_file;
    apr_size_t len;

    apr_pool_create(&gen, p);
    reg = registry_of(gen, old_names);
    old_file = reg->keys[1].file;
    k = rp_pstats_keys_create(gen, 16);
    st = profile_of(gen, reg);
    data = encode_both(gen, st, k, &len);
    assert_non_null(memmem(data, len, "mod_old.c", 9));

    apr_pool_clear(gen);                    /* graceful restart */
    reg = registry_of(gen, new_names);
    k = rp_pstats_keys_create(gen, 16);
    st = profile_of(gen, reg);
    /* Not required, but what makes this test bite: same address. */
    if (reg->keys[1].file != old_file)
        print_message("note: the new key did not reuse the old address\n");
    data = encode_both(gen, st, k, &len);
    assert_non_null(memmem(data, len, "mod_new.c", 9));
    assert_null(memmem(data, len, "mod_old.c", 9));
    data = encode_both(gen, st, k, &len);   /* from the cache now */
    assert_non_null(memmem(data, len, "mod_new.c", 9));
    assert_null(memmem(data, len, "mod_old.c", 9));
    apr_pool_destroy(gen);
}

/* A cache given stats of another (live) registry, whose ids name other
 * strings: those keys are encoded from their own strings. */
static void test_keys_other_registry_is_a_miss(void **state)
{
    apr_pool_t *p = *state;
    static const char *const one[] = {"mod_one.c", "mod_b.c", "mod_c.c", NULL};
    static const char *const two[] = {"mod_two.c", "mod_b.c", "mod_c.c", NULL};
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 16);
    const char *data;
    apr_size_t len;

    encode_both(p, profile_of(p, registry_of(p, one)), k, &len);
    data = encode_both(p, profile_of(p, registry_of(p, two)), k, &len);
    assert_non_null(memmem(data, len, "mod_two.c", 9));
    assert_null(memmem(data, len, "mod_one.c", 9));
}

/* Same strings, another line: another key. */
static void test_keys_other_line_is_a_miss(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 4);
    rp_func_t f = {"a.c", 7, "f", 1, 1, 0.0, 0.0, 0, NULL, 1};
    rp_stats_t st = {1, &f};
    const char *data;
    apr_size_t len;

    encode_both(p, &st, k, &len);
    f.line = 8;
    data = encode_both(p, &st, k, &len);
    assert_memory_equal(data + 1 + 2 + 5 + 3, "i\x08\0\0\0", 5);
}

/* A key_slot on strings that are not clean (a hand-made one): the cache
 * holds the cleaned key, as the plain writer writes it. */
static void test_keys_cache_cleans(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 4);
    rp_func_t f = {"b\xff", 1, "t\tx", 1, 1, 0.0, 0.0, 0, NULL, 2};
    rp_stats_t st = {1, &f};
    apr_size_t len;

    encode_both(p, &st, k, &len);
    encode_both(p, &st, k, &len);
}

/* Slots past the cache's capacity, negative ones and 0 are encoded
 * without it. */
static void test_keys_out_of_range_slots(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 2);
    rp_func_t f[3] = {
        {"a.c", 1, "in", 1, 1, 0.0, 0.0, 0, NULL, 2},       /* id 1: last slot */
        {"b.c", 2, "past", 1, 1, 0.0, 0.0, 0, NULL, 3},     /* id 2: no slot */
        {"c.c", 3, "neg", 1, 1, 0.0, 0.0, 0, NULL, -5},
    };
    rp_stats_t st = {3, f};
    apr_size_t len;

    encode_both(p, &st, k, &len);
    encode_both(p, &st, k, &len);
    encode_both(p, &st, NULL, &len);
    k = rp_pstats_keys_create(p, 0);
    encode_both(p, &st, k, &len);
}

/* Threads meeting an empty slot at once each make a block; one is kept
 * and every file is right (ASan sees the losers' blocks freed). */
typedef struct race {
    rp_pstats_keys_t *k;
    const rp_stats_t *st;
    const char *want;
    apr_size_t wlen;
    int bad;
} race_t;

static void *APR_THREAD_FUNC race_run(apr_thread_t *t, void *data)
{
    race_t *r = data;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 200; i++) {
        const char *d;
        apr_size_t n;
        if (rp_pstats_encode_keys(r->st, r->k, p, &d, &n) != APR_SUCCESS
            || n != r->wlen || memcmp(d, r->want, n) != 0)
            __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    (void)t;
    return NULL;
}

static void test_keys_threads_race_to_fill(void **state)
{
    apr_pool_t *p = *state;
    static const char *const names[] = {"mod_a.c", "mod_b.c", "mod_c.c", NULL};
    rp_stats_t *st = profile_of(p, registry_of(p, names));
    race_t r;
    apr_thread_t *t[4];
    apr_status_t rv;
    int round, i;

    assert_int_equal(rp_pstats_encode(st, p, &r.want, &r.wlen), APR_SUCCESS);
    r.st = st;
    r.bad = 0;
    for (round = 0; round < 20; round++) {
        r.k = rp_pstats_keys_create(p, 16);
        for (i = 0; i < 4; i++)
            assert_int_equal(apr_thread_create(&t[i], NULL, race_run, &r, p), APR_SUCCESS);
        for (i = 0; i < 4; i++)
            apr_thread_join(&rv, t[i]);
    }
    assert_int_equal(r.bad, 0);
}

/* ---- the last file's template (rp_pstats_tmpl_t) ---- */

/* profile_of's request with its times scaled by k: the same shape. */
static rp_stats_t *profile_scaled(apr_pool_t *p, rp_registry_t *reg, rp_tick_t k)
{
    rp_prof_t *prof = rp_prof_create(p, reg, NULL);
    int h, n;

    rp_prof_begin(prof, (void *)1, "request GET /x", 0);
    h = rp_prof_enter(prof, (void *)1, 0, 1, 10 * k);
    rp_prof_exit(prof, h, 20 * k);
    h = rp_prof_enter(prof, (void *)1, 0, 2, 30 * k);
    n = rp_prof_enter(prof, (void *)1, -1, 3, 35 * k);
    rp_prof_exit(prof, n, 38 * k + 1);
    rp_prof_exit(prof, h, 40 * k);
    h = rp_prof_enter(prof, (void *)1, 0, 1, 50 * k);
    rp_prof_exit(prof, h, 60 * k + 3);
    rp_prof_end(prof, 100 * k + 7);
    return rp_prof_stats(prof, p, 1e-6);
}

/* Encode through t; the bytes must be the plain encoder's. */
static void encode_tmpl_equal(apr_pool_t *p, const rp_stats_t *st, rp_pstats_keys_t *k,
                              rp_pstats_tmpl_t *t)
{
    const char *plain, *got;
    apr_size_t plen, glen;

    assert_int_equal(rp_pstats_encode(st, p, &plain, &plen), APR_SUCCESS);
    assert_int_equal(rp_pstats_encode_tmpl(st, k, t, p, &got, &glen), APR_SUCCESS);
    assert_bytes_n(got, glen, plain, plen);
}

static void assert_tmpl_counts(const rp_pstats_tmpl_t *t, unsigned long hits,
                               unsigned long misses)
{
    unsigned long h, m;
    rp_pstats_tmpl_counts(t, &h, &m);
    assert_int_equal(h, hits);
    assert_int_equal(m, misses);
}

static void test_tmpl_same_shape_is_filled_in(void **state)
{
    apr_pool_t *p = *state;
    static const char *const names[] = {"mod_a.c", "mod_b.c", "mod_c.c", NULL};
    rp_registry_t *reg = registry_of(p, names);
    rp_pstats_keys_t *k = rp_pstats_keys_create(p, 16);
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    rp_tick_t scale;

    encode_tmpl_equal(p, profile_scaled(p, reg, 1), k, t);     /* records */
    assert_tmpl_counts(t, 0, 1);
    for (scale = 2; scale < 2000; scale = scale * 3 + 1)
        encode_tmpl_equal(p, profile_scaled(p, reg, scale), k, t);
    assert_tmpl_counts(t, 7, 1);
    /* Without the key cache too. */
    encode_tmpl_equal(p, profile_scaled(p, reg, 5), NULL, t);
    assert_tmpl_counts(t, 8, 1);
}

/* Every change of shape is seen: the file is encoded anew (a miss) and
 * its bytes are still the plain encoder's. */
static void test_tmpl_other_shapes_are_encoded(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    char root[] = "request GET /a";
    static const char file_a[] = "mod_a.c", name_a[] = "hook";
    static const char other_file[] = "mod_a.c";     /* equal, elsewhere */
    rp_edge_t e1[] = {{0, 1, 1, 0.5, 0.5}};
    rp_edge_t e2[] = {{0, 2, 2, 0.25, 0.25}, {1, 1, 1, 0.125, 0.125}};
    rp_func_t f[3] = {
        {"httpd", 0, root, 1, 1, 0.0, 1.0, 0, NULL, 0},
        {file_a, 1, name_a, 1, 1, 0.5, 0.5, 1, e1, 2},
        {file_a, 2, name_a, 3, 3, 0.5, 0.5, 2, e2, 3},
    };
    rp_stats_t st = {3, f};
    unsigned long misses = 0;

    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 0, ++misses);
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, misses);
    /* A dynamic name changed in place (same address, other bytes). */
    root[13] = 'b';
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* A static function's file at another address, even if equal. */
    f[1].file = other_file;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* Another caller. */
    e2[1].caller = 2;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* One caller fewer. */
    f[2].ncallers = 1;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* Another line. */
    f[2].line = 9;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* One function fewer. */
    st.nfuncs = 2;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, ++misses);
    /* And the last shape is kept: new numbers only. */
    f[1].tt = 7.0;
    e1[0].nc = 5;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 2, misses);
}

/* A count past int32 is written as a longer 'l': the file is encoded
 * anew, and the template of the usual shape stays for the next file. */
static void test_tmpl_wide_counts_and_dangling_callers(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    rp_edge_t edges[] = {{5, 1, 1, 0.0, 0.0}, {0, 1, 1, 0.5, 0.25}, {-1, 1, 1, 0.0, 0.0}};
    rp_func_t f = {"a", 1, "f", 1, 1, 0.0, 0.0, 3, edges, 0};
    rp_stats_t st = {1, &f};

    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 0, 1);
    f.nc = f.cc = 4;
    edges[1].nc = 3;
    edges[0].nc = (int64_t)1 << 40;     /* dangling: not in the file */
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, 1);
    f.cc = (int64_t)1 << 40;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, 2);
    f.cc = -((int64_t)1 << 33);
    edges[1].cc = -7;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, 3);
    f.cc = 2;
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 2, 3);
}

/* A file past 256 KB is not kept: each is encoded, and still right. */
static void test_tmpl_large_files_are_not_kept(void **state)
{
    apr_pool_t *p = *state;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    int n = 6000, i;
    rp_func_t *f = apr_pcalloc(p, sizeof(rp_func_t) * (apr_size_t)n);
    rp_stats_t st = {n, f};

    for (i = 0; i < n; i++) {
        f[i].file = "mod_with_a_rather_long_file_name.c";
        f[i].line = i;
        f[i].name = "a_function_name";
        f[i].nc = f[i].cc = 1;
    }
    encode_tmpl_equal(p, &st, NULL, t);
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 0, 2);
    st.nfuncs = 100;                        /* small again: kept */
    encode_tmpl_equal(p, &st, NULL, t);
    encode_tmpl_equal(p, &st, NULL, t);
    assert_tmpl_counts(t, 1, 3);
}

/* ---- a file from a request's frames (rp_pstats_encode_plan) ---- */

/* Frame shapes (rp_test_ops.h). 1 is 0's file shape (the same functions
 * and callers) with other counts; 2 has recursion of a function and of
 * an edge; 3 recursion alone. */
static const char *const plan_ops[] = {
    "E0p0 E1 X E1 X X E2p1 X",
    "E0p0 E1 X X E2p1 X",
    "E0p0 E1 E1 X E0 E1 X X X X E2p1 X",
    "E3p0 E3 E3 X X X",
};

/* Every file written from a plan is, byte for byte, the file
 * rp_pstats_encode writes from rp_prof_stats of the same profile: runs
 * of each shape, shapes that share a file shape, other time units. A
 * plan is of one tag, one root name, and the recorded file: a shape
 * recorded since takes it away. */
static void plan_files(apr_pool_t *p, double spt)
{
    rp_registry_t *reg;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    int hook[4], ph[2], i, n;
    unsigned seed = 3, planned = 0;
    rp_prof_t *prof = rp_test_ops_prof(p, "mod_y.c", 4, hook, ph, &reg);

    for (i = 0; i < 400; i++) {
        int s = (i / 5 + i / 37) % 4;
        const rp_prof_rec_t *log;
        const char *got, *want;
        apr_size_t glen, wlen;
        apr_status_t rv;

        rp_test_ops_run(prof, plan_ops[s], hook, ph, &seed);
        log = rp_prof_log(prof, &n);
        assert_true(rp_prof_log_whole(prof));
        /* Not the recorded root: no plan. */
        assert_int_equal(rp_pstats_encode_plan(t, (uint64_t)s + 1, log, n, "request GET /x",
                                               spt, p, &got, &glen), APR_EINCOMPLETE);
        assert_int_equal(rp_pstats_plan_len(t, (uint64_t)s + 1, n, "request GET /x"), 0);
        wlen = rp_pstats_plan_len(t, (uint64_t)s + 1, n, "request GET /");
        rv = rp_pstats_encode_plan(t, (uint64_t)s + 1, log, n, "request GET /", spt, p,
                                   &got, &glen);
        /* The length first, for a caller's own memory: the same answer. */
        assert_int_equal(wlen, rv == APR_SUCCESS ? glen : 0);
        if (rv == APR_SUCCESS)
            planned++;
        else {
            const rp_stats_t *st = rp_prof_stats(prof, p, spt);
            assert_int_equal(rv, APR_EINCOMPLETE);
            assert_int_equal(rp_pstats_encode_tmpl(st, NULL, t, p, &got, &glen),
                             APR_SUCCESS);
            rp_pstats_tmpl_plan(t, (uint64_t)s + 1, log, n, st);
        }
        assert_int_equal(rp_pstats_encode(rp_prof_stats(prof, p, spt), p, &want, &wlen),
                         APR_SUCCESS);
        assert_bytes_n(got, glen, want, wlen);
    }
    assert_int_equal(rp_pstats_tmpl_planned(t), planned);
    assert_true(planned > 300);
    /* Another tag of the same frames: no plan. */
    {
        const rp_prof_rec_t *log = rp_prof_log(prof, &n);
        const char *got;
        apr_size_t glen;
        assert_int_equal(rp_pstats_encode_plan(t, 99, log, n, "request GET /", spt, p,
                                               &got, &glen), APR_EINCOMPLETE);
    }
}

static void test_plan_files_same_bytes(void **state)
{
    plan_files(*state, 1.0);
}

static void test_plan_files_same_bytes_scaled(void **state)
{
    plan_files(*state, 3.7e-10);
}

/* The process's data size in KB (VmData: malloc's heap and APR's
 * blocks, which may be mmap'd), 0 when unknown. */
static long vm_data_kb(void)
{
    char line[256];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmData: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Two frame shapes of one file shape taking turns: each makes its plan
 * anew, in memory cleared for it, so the template does not grow with
 * the turns (the process's data size, which holds APR's blocks). */
static void test_plan_memory_bounded(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    apr_pool_t *scratch;
    int hook[4], ph[2], i, n;
    unsigned seed = 11;
    long before = 0;
    rp_prof_t *prof = rp_test_ops_prof(p, "mod_y.c", 4, hook, ph, &reg);

    apr_pool_create(&scratch, p);
    for (i = 0; i < 20000; i++) {
        const rp_stats_t *st;
        const rp_prof_rec_t *log;
        const char *got;
        apr_size_t glen;
        int s = i & 1;
        rp_test_ops_run(prof, plan_ops[s], hook, ph, &seed);
        st = rp_prof_stats(prof, scratch, 1.0);
        assert_int_equal(rp_pstats_encode_tmpl(st, NULL, t, scratch, &got, &glen),
                         APR_SUCCESS);
        log = rp_prof_log(prof, &n);
        rp_pstats_tmpl_plan(t, (uint64_t)s + 1, log, n, st);
        apr_pool_clear(scratch);
        if (i == 100)
            before = vm_data_kb();
    }
    assert_true(before > 0);
    assert_true(vm_data_kb() < before + 1024);
    {
        /* and the last plan is whole */
        const rp_prof_rec_t *log = rp_prof_log(prof, &n);
        const char *got;
        apr_size_t glen;
        assert_int_equal(rp_pstats_encode_plan(t, 2, log, n, "request GET /", 1.0, p, &got,
                                               &glen), APR_SUCCESS);
    }
}

/* No plan is kept for a file that is not the recorded one, or frames
 * that do not make it. */
static void test_plan_refused(void **state)
{
    apr_pool_t *p = *state;
    rp_registry_t *reg;
    rp_pstats_tmpl_t *t = rp_pstats_tmpl_create(p);
    const rp_stats_t *st0, *st3;
    const rp_prof_rec_t *log;
    const char *got;
    apr_size_t glen;
    int hook[4], ph[2], n;
    unsigned seed = 9;
    rp_prof_t *prof = rp_test_ops_prof(p, "mod_y.c", 4, hook, ph, &reg);

    rp_test_ops_run(prof, plan_ops[3], hook, ph, &seed);
    st3 = rp_prof_stats(prof, p, 1.0);
    rp_test_ops_run(prof, plan_ops[0], hook, ph, &seed);
    st0 = rp_prof_stats(prof, p, 1.0);
    log = rp_prof_log(prof, &n);
    /* Nothing recorded yet. */
    rp_pstats_tmpl_plan(t, 1, log, n, st0);
    assert_int_equal(rp_pstats_encode_plan(t, 1, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_EINCOMPLETE);
    /* Recorded: shape 3's file, not these frames'. */
    assert_int_equal(rp_pstats_encode_tmpl(st3, NULL, t, p, &got, &glen), APR_SUCCESS);
    rp_pstats_tmpl_plan(t, 1, log, n, st0);
    rp_pstats_tmpl_plan(t, 2, log, n, st3);
    assert_int_equal(rp_pstats_encode_plan(t, 1, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_EINCOMPLETE);
    assert_int_equal(rp_pstats_encode_plan(t, 2, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_EINCOMPLETE);
    /* Tag 0 names nothing. */
    assert_int_equal(rp_pstats_encode_tmpl(st0, NULL, t, p, &got, &glen), APR_SUCCESS);
    rp_pstats_tmpl_plan(t, 0, log, n, st0);
    assert_int_equal(rp_pstats_encode_plan(t, 0, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_EINCOMPLETE);
    rp_pstats_tmpl_plan(t, 1, log, n, st0);
    assert_int_equal(rp_pstats_encode_plan(t, 1, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_SUCCESS);
    /* Recorded anew (another file shape): the plan goes with the file. */
    assert_int_equal(rp_pstats_encode_tmpl(st3, NULL, t, p, &got, &glen), APR_SUCCESS);
    assert_int_equal(rp_pstats_encode_plan(t, 1, log, n, "request GET /", 1.0, p, &got,
                                           &glen), APR_EINCOMPLETE);
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_buf_grows_and_keeps_content),
    RP_TEST(test_marshal_small_ints),
    RP_TEST(test_marshal_negative_ints),
    RP_TEST(test_marshal_int32_edges_stay_i),
    RP_TEST(test_marshal_2_pow_31_is_long),
    RP_TEST(test_marshal_minus_2_pow_40_is_long),
    RP_TEST(test_marshal_int64_extremes),
    RP_TEST(test_marshal_floats),
    RP_TEST(test_marshal_float_inf),
    RP_TEST(test_marshal_strings),
    RP_TEST(test_marshal_tuples_and_dict),
    RP_TEST(test_encode_empty_is_einval),
    RP_TEST(test_encode_one_function),
    RP_TEST(test_encode_nested_callers),
    RP_TEST(test_encode_cleans_invalid_utf8),
    RP_TEST(test_encode_skips_dangling_caller),
    RP_TEST(test_encode_wide_edge_counts),
    RP_TEST(test_keys_cached_bytes_equal_plain),
    RP_TEST(test_keys_new_generation_never_reuses_bytes),
    RP_TEST(test_keys_other_registry_is_a_miss),
    RP_TEST(test_keys_other_line_is_a_miss),
    RP_TEST(test_keys_cache_cleans),
    RP_TEST(test_keys_out_of_range_slots),
    RP_TEST(test_keys_threads_race_to_fill),
    RP_TEST(test_tmpl_same_shape_is_filled_in),
    RP_TEST(test_tmpl_other_shapes_are_encoded),
    RP_TEST(test_tmpl_wide_counts_and_dangling_callers),
    RP_TEST(test_tmpl_large_files_are_not_kept),
    RP_TEST(test_plan_files_same_bytes),
    RP_TEST(test_plan_files_same_bytes_scaled),
    RP_TEST(test_plan_refused),
    RP_TEST(test_plan_memory_bounded),
};

RP_TEST_MAIN(tests)
