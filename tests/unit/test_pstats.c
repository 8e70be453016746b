/* Unit tests for lib/rp_pstats.c: marshal bytes against hand-computed
 * vectors (the cross-check with Python itself is in
 * tests/integration/test_pstats_format.py). */
#include "rp_test.h"
#include <math.h>
#include "rp_pstats.h"

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
    rp_func_t f = {"a.c", 7, "f", 1, 2, 0.5, 1.0, 0, NULL};
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
        {"h", 0, "r", 1, 1, 0.0, 1.0, 0, NULL},
        {"h", 1, "g", 2, 4, 0.25, 0.5, 2, edges},
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
    rp_func_t f = {"b\xff", -1, "t\tx", (int64_t)1 << 31, 0, 0.0, 0.0, 0, NULL};
    rp_stats_t st = {1, &f};
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x04\0\0\0b\xef\xbf\xbd" "i\xff\xff\xff\xff"
                     "u\x03\0\0\0t?x"
                     ")\x05" "l\x03\0\0\0\0\0\0\0\x02\0" "i\0\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0" "{0"
                     "0");
}

static void test_encode_skips_dangling_caller(void **state)
{
    rp_edge_t edges[] = {{5, 1, 1, 0.0, 0.0}, {-1, 1, 1, 0.0, 0.0}};
    rp_func_t f = {"a", 1, "f", 1, 1, 0.0, 0.0, 2, edges};
    rp_stats_t st = {1, &f};
    assert_encoded(state, &st, "{"
                     ")\x03" "u\x01\0\0\0a" "i\x01\0\0\0" "u\x01\0\0\0f"
                     ")\x05" "i\x01\0\0\0" "i\x01\0\0\0"
                     "g\0\0\0\0\0\0\0\0" "g\0\0\0\0\0\0\0\0" "{0"
                     "0");
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
};

RP_TEST_MAIN(tests)
