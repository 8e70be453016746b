/* Unit tests for rp_parse: the values of ProfileMinDuration,
 * ProfileMaxDirSize, ProfileSampleRate and ProfileMaxFiles, with their
 * boundaries and the text that must be refused. */
#include "rp_test.h"
#include "rp_parse.h"

static apr_int64_t dur_ok(apr_pool_t *p, const char *s)
{
    apr_int64_t v = -1;
    const char *err = rp_parse_duration(p, s, &v);
    if (err)
        fail_msg("duration \"%s\": %s", s, err);
    return v;
}

static void test_duration_units(void **state)
{
    apr_pool_t *p = *state;
    assert_int_equal(dur_ok(p, "250ms"), 250000);
    assert_int_equal(dur_ok(p, "1s"), 1000000);
    assert_int_equal(dur_ok(p, "500us"), 500);
    assert_int_equal(dur_ok(p, "0"), 0);
    assert_int_equal(dur_ok(p, "0ms"), 0);
    /* a bare number is seconds, as httpd's Timeout */
    assert_int_equal(dur_ok(p, "2"), 2000000);
    assert_int_equal(dur_ok(p, "0.25"), 250000);
    assert_int_equal(dur_ok(p, "1.5s"), 1500000);
    assert_int_equal(dur_ok(p, ".5s"), 500000);
    assert_int_equal(dur_ok(p, "0.5ms"), 500);
    assert_int_equal(dur_ok(p, "200."), 200000000);
}

static void test_duration_rounding_and_limits(void **state)
{
    apr_pool_t *p = *state;
    assert_int_equal(dur_ok(p, "0.0000004s"), 0);       /* rounds down */
    assert_int_equal(dur_ok(p, "0.0000005s"), 1);       /* half up */
    assert_int_equal(dur_ok(p, "1.4us"), 1);
    assert_int_equal(dur_ok(p, "0.12345678901234s"), 123457);
    assert_int_equal(dur_ok(p, "3600s"), 3600000000LL);
    assert_int_equal(dur_ok(p, "3600000ms"), 3600000000LL);
    assert_int_equal(dur_ok(p, "3600000000us"), 3600000000LL);
}

static void test_duration_refused(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "", "ms", "-1s", "+1s", "1 s", " 1s", "1s ", "1e3ms", "1h", "1m",
        "1sec", "1.2.3s", ".", ".s", "0x10", "inf", "nan", "3600.000001s",
        "3601s", "3600001ms", "1000000000000000000s", "1234567890123456us",
        "1MS", NULL };
    int i;
    for (i = 0; bad[i]; i++) {
        apr_int64_t v = 77;
        const char *err = rp_parse_duration(p, bad[i], &v);
        if (!err)
            fail_msg("duration \"%s\" accepted as %lld", bad[i], (long long)v);
        assert_int_equal(v, 77);          /* untouched on error */
    }
}

static void test_size(void **state)
{
    apr_pool_t *p = *state;
    apr_uint64_t v = 0;
    assert_null(rp_parse_size(p, "1", &v));
    assert_true(v == 1);
    assert_null(rp_parse_size(p, "4096", &v));
    assert_true(v == 4096);
    assert_null(rp_parse_size(p, "10K", &v));
    assert_true(v == 10240);
    assert_null(rp_parse_size(p, "512kb", &v));
    assert_true(v == 512 * 1024);
    assert_null(rp_parse_size(p, "100M", &v));
    assert_true(v == 100ULL << 20);
    assert_null(rp_parse_size(p, "2G", &v));
    assert_true(v == 2ULL << 30);
    assert_null(rp_parse_size(p, "1TB", &v));
    assert_true(v == 1ULL << 40);
    assert_null(rp_parse_size(p, "1024T", &v));
    assert_true(v == 1ULL << 50);
}

static void test_size_refused(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "", "0", "0M", "K", "-1", "1.5M", "10X", "10MiB", "10 M", "1025T",
        "2000000G", "1234567890123456", "10MBB", NULL };
    int i;
    for (i = 0; bad[i]; i++) {
        apr_uint64_t v = 77;
        if (!rp_parse_size(p, bad[i], &v))
            fail_msg("size \"%s\" accepted", bad[i]);
        assert_true(v == 77);
    }
}

static void test_rate(void **state)
{
    apr_pool_t *p = *state;
    double r = -1;
    assert_null(rp_parse_rate(p, "0", &r));
    assert_true(r == 0.0);
    assert_null(rp_parse_rate(p, "1", &r));
    assert_true(r == 1.0);
    assert_null(rp_parse_rate(p, "0.01", &r));
    assert_true(r == 0.01);
    assert_null(rp_parse_rate(p, "1%", &r));
    assert_true(r == 0.01);
    assert_null(rp_parse_rate(p, "100%", &r));
    assert_true(r == 1.0);
    assert_null(rp_parse_rate(p, "0.5%", &r));
    assert_true(r == 0.005);
    assert_null(rp_parse_rate(p, ".25", &r));
    assert_true(r == 0.25);
    assert_null(rp_parse_rate(p, "1.000", &r));
    assert_true(r == 1.0);
}

static void test_rate_refused(void **state)
{
    apr_pool_t *p = *state;
    static const char *const bad[] = {
        "", "%", "1.01", "101%", "2", "-0.1", "0.1 ", "1e-2", "50 %",
        "0.5%%", "half", "nan", NULL };
    int i;
    for (i = 0; bad[i]; i++) {
        double r = 7;
        if (!rp_parse_rate(p, bad[i], &r))
            fail_msg("rate \"%s\" accepted", bad[i]);
        assert_true(r == 7);
    }
}

static void test_threshold(void **state)
{
    (void)state;
    assert_true(rp_rate_threshold(0.0) == 0);
    assert_true(rp_rate_threshold(1.0) == (1ULL << 32));
    assert_true(rp_rate_threshold(0.25) == (1ULL << 30));
    assert_true(rp_rate_threshold(0.5) == (1ULL << 31));
    /* the largest draw is selected at rate 1 only */
    assert_true(0xffffffffULL < rp_rate_threshold(1.0));
    assert_false(0xffffffffULL < rp_rate_threshold(0.9999999));
    assert_true(rp_rate_threshold(1e-9) == 4);
}

static void test_int64(void **state)
{
    apr_int64_t v = 0;
    (void)state;
    assert_int_equal(rp_parse_int64("1", 1, 1000, &v), RP_INT_OK);
    assert_int_equal(v, 1);
    assert_int_equal(rp_parse_int64("1000", 1, 1000, &v), RP_INT_OK);
    assert_int_equal(v, 1000);
    assert_int_equal(rp_parse_int64("-7", -10, 10, &v), RP_INT_OK);
    assert_int_equal(v, -7);
    assert_int_equal(rp_parse_int64("-0", 0, 0, &v), RP_INT_OK);
    assert_int_equal(v, 0);
    v = 77;
    assert_int_equal(rp_parse_int64("0", 1, 1000, &v), RP_INT_BELOW);
    assert_int_equal(rp_parse_int64("-5", 1, 1000, &v), RP_INT_BELOW);
    assert_int_equal(rp_parse_int64("1001", 1, 1000, &v), RP_INT_ABOVE);
    assert_int_equal(rp_parse_int64("", 1, 1000, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64(NULL, 1, 1000, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64("-", 1, 1000, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64("many", 1, 1000, &v), RP_INT_NOT_NUMBER);
    /* what strtol took and this does not */
    assert_int_equal(rp_parse_int64(" 5", 1, 1000, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64("+5", 1, 1000, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64("0x10", 0, 1000, &v), RP_INT_TRAILING);
    assert_int_equal(rp_parse_int64("5 ", 1, 1000, &v), RP_INT_TRAILING);
    assert_int_equal(rp_parse_int64("1.0", 1, 1000, &v), RP_INT_TRAILING);
    assert_int_equal(rp_parse_int64("10k", 1, 1000, &v), RP_INT_TRAILING);
    assert_int_equal(rp_parse_int64("--5", -10, 10, &v), RP_INT_NOT_NUMBER);
    assert_int_equal(rp_parse_int64("99999999999999999999", 1, 1000, &v), RP_INT_ABOVE);
    assert_int_equal(rp_parse_int64("-99999999999999999999", 1, 1000, &v), RP_INT_BELOW);
    assert_int_equal(v, 77);        /* untouched by every refusal */
}

static void test_int64_limits(void **state)
{
    apr_int64_t v = 0;
    (void)state;
    assert_int_equal(rp_parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &v),
                     RP_INT_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(rp_parse_int64("-9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     RP_INT_OK);
    assert_true(v == INT64_MIN);
    assert_int_equal(rp_parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
                     RP_INT_ABOVE);
    assert_int_equal(rp_parse_int64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
                     RP_INT_BELOW);
    assert_int_equal(rp_parse_int64("18446744073709551616", INT64_MIN, INT64_MAX, &v),
                     RP_INT_ABOVE);
    assert_true(v == INT64_MIN);
}

static void test_int64_messages(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(rp_int_err_text(p, RP_INT_NOT_NUMBER, "many", 1, 9),
                        "not a whole number");
    assert_string_equal(rp_int_err_text(p, RP_INT_TRAILING, "10k", 1, 9),
                        "not a whole number (it goes on with 'k')");
    assert_string_equal(rp_int_err_text(p, RP_INT_TRAILING, "-1.5", -9, 9),
                        "not a whole number (it goes on with '.5')");
    assert_string_equal(rp_int_err_text(p, RP_INT_BELOW, "0", 1, 9), "less than 1");
    assert_string_equal(rp_int_err_text(p, RP_INT_ABOVE, "10", 1, 9), "more than 9");
}

/* Found by tests/fuzz/fuzz_parse.c: the fraction went through a double,
 * where part * scale is inexact past 2^53 and a tie rounded down. */
static void test_duration_ties_round_up(void **state)
{
    apr_pool_t *p = *state;
    assert_int_equal(dur_ok(p, ".241550500000000s"), 241551);
    assert_int_equal(dur_ok(p, ".81947650000000s"), 819477);
    assert_int_equal(dur_ok(p, ".99530050000000s"), 995301);
    assert_int_equal(dur_ok(p, ".241550499999999s"), 241550);
    assert_int_equal(dur_ok(p, "0.0005005ms"), 1);
    assert_int_equal(dur_ok(p, "3599.9999995s"), 3600000000LL);
}

static void test_too_many_digits_said(void **state)
{
    apr_pool_t *p = *state;
    apr_int64_t us = 77;
    double r = 7;
    const char *err = rp_parse_duration(p, "0.0000000000000001s", &us);
    assert_non_null(err);
    assert_non_null(strstr(err, "15 digits"));
    err = rp_parse_rate(p, "0.0000000000000001", &r);
    assert_non_null(err);
    assert_non_null(strstr(err, "15 digits"));
}

/* Found by fuzz_parse: 2^50 bytes, the documented maximum, was refused
 * when written in bytes (16 digits), and so was any size with 16 leading
 * zeros. */
static void test_size_any_digits(void **state)
{
    apr_pool_t *p = *state;
    apr_uint64_t v = 0;
    assert_null(rp_parse_size(p, "1125899906842624", &v));
    assert_true(v == 1ULL << 50);
    assert_null(rp_parse_size(p, "00000000000000000001K", &v));
    assert_true(v == 1024);
    assert_non_null(rp_parse_size(p, "1125899906842625", &v));
    assert_non_null(rp_parse_size(p, "99999999999999999999999999T", &v));
    assert_non_null(rp_parse_size(p, "99999999999999999999999999X", &v));
    assert_true(v == 1024);
}

static void test_query_arg(void **state)
{
    apr_pool_t *p = *state;
    const char *q = "json&window=5m&prof=12&flame&profile=x&=y&seconds=";
    assert_string_equal(rp_query_arg(p, q, "window"), "5m");
    assert_string_equal(rp_query_arg(p, q, "prof"), "12");        /* not "profile" */
    assert_string_equal(rp_query_arg(p, q, "json"), "");
    assert_string_equal(rp_query_arg(p, q, "flame"), "");
    assert_string_equal(rp_query_arg(p, q, "seconds"), "");
    assert_string_equal(rp_query_arg(p, q, "profile"), "x");
    assert_null(rp_query_arg(p, q, "pro"));
    assert_null(rp_query_arg(p, q, "auto"));
    assert_null(rp_query_arg(p, NULL, "json"));
    assert_null(rp_query_arg(p, "", "json"));
    /* the first of two, as written (no unescaping) */
    assert_string_equal(rp_query_arg(p, "a=%41+b&a=2", "a"), "%41+b");
}

/* Found by fuzz_parse (in the count parser this one replaced): 16 digits
 * with leading zeros were "more than max" whatever their value. */
static void test_int64_leading_zeros(void **state)
{
    apr_int64_t v = 0;
    (void)state;
    assert_int_equal(rp_parse_int64("0000000000000000000005", 1, 100000, &v), RP_INT_OK);
    assert_int_equal(v, 5);
    assert_int_equal(rp_parse_int64("00000000000000000000000", 1, 100000, &v),
                     RP_INT_BELOW);
    assert_int_equal(rp_parse_int64("-0000000000000000000000000000007", -9, 0, &v),
                     RP_INT_OK);
    assert_int_equal(v, -7);
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_duration_units),
    RP_TEST(test_duration_rounding_and_limits),
    RP_TEST(test_duration_refused),
    RP_TEST(test_size),
    RP_TEST(test_size_refused),
    RP_TEST(test_rate),
    RP_TEST(test_rate_refused),
    RP_TEST(test_threshold),
    RP_TEST(test_int64),
    RP_TEST(test_int64_limits),
    RP_TEST(test_int64_messages),
    RP_TEST(test_duration_ties_round_up),
    RP_TEST(test_too_many_digits_said),
    RP_TEST(test_size_any_digits),
    RP_TEST(test_int64_leading_zeros),
    RP_TEST(test_query_arg),
};

RP_TEST_MAIN(tests)
