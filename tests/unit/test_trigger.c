/* Unit tests for rp_trigger: constant-time equality and cookie lookup. */
#include "rp_test.h"
#include "rp_trigger.h"

#define SECRET "s3cret-token-0123"

static int eq(const char *guess)
{
    return rp_ct_equal(guess, strlen(guess), SECRET, strlen(SECRET));
}

static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(eq(SECRET));
    assert_false(eq(""));
    assert_false(eq("s3cret-token-012"));       /* prefix */
    assert_false(eq("s3cret-token-01234"));     /* longer */
    assert_false(eq("S3cret-token-0123"));      /* case */
    assert_false(eq("s3cret-token-0124"));      /* last byte */
    /* a guess with a NUL where the secret ends is still different */
    assert_false(rp_ct_equal(SECRET "\0", strlen(SECRET) + 1, SECRET, strlen(SECRET)));
    assert_true(rp_ct_equal("", 0, "", 0));
}

static int ck(const char *header)
{
    return rp_cookie_matches(header, "rp", SECRET, strlen(SECRET));
}

static void test_cookie(void **state)
{
    (void)state;
    assert_true(ck("rp=" SECRET));
    assert_true(ck("a=1; rp=" SECRET "; b=2"));
    assert_true(ck("a=1;rp=" SECRET));
    assert_true(ck("rp=\"" SECRET "\""));
    assert_true(ck("a=1, rp=" SECRET));           /* merged headers */
    assert_true(ck("rp=wrong; rp=" SECRET));       /* any of several */
    assert_true(ck("  rp = " SECRET "  "));
    assert_false(ck(NULL));
    assert_false(ck(""));
    assert_false(ck("rp="));
    assert_false(ck("rp"));
    assert_false(ck("rp=wrong"));
    assert_false(ck("RP=" SECRET));                /* names are exact */
    assert_false(ck("xrp=" SECRET));
    assert_false(ck("rpx=" SECRET));
    assert_false(ck("a=rp=" SECRET));
    assert_false(ck("rp=" SECRET "x"));
    assert_false(ck(";;;,,,"));
}

static const char *strip(void **state, const char *header)
{
    return rp_cookie_strip(*state, header, "rp");
}

static void test_cookie_strip(void **state)
{
    static const char *const kept[] = { "a=1", "a=1; b=2", "rpx=1; xrp=2", "RP=1", "", ";;" };
    apr_size_t i;

    assert_string_equal(strip(state, "a=1; rp=" SECRET "; b=2"), "a=1; b=2");
    assert_string_equal(strip(state, "rp=" SECRET ";b=2"), "b=2");
    assert_string_equal(strip(state, "a=1 , rp = x,b=2  "), "a=1; b=2");
    assert_string_equal(strip(state, "rp=x; a=1; rp=\"y\""), "a=1");   /* every one */
    assert_string_equal(strip(state, "flag; rp=x; a=rp=1"), "flag; a=rp=1");
    /* tiny cookies: the joined result is longer than what was removed */
    assert_string_equal(strip(state, "a;b;c;d;e;f;g;rp="), "a; b; c; d; e; f; g");
    assert_null(strip(state, "rp=" SECRET));
    assert_null(strip(state, " rp=1 ;; rp=2 "));
    assert_null(strip(state, NULL));
    for (i = 0; i < sizeof kept / sizeof kept[0]; i++)
        assert_ptr_equal(strip(state, kept[i]), kept[i]);   /* untouched */
}

/* W3C Trace Context's examples and the ways a header can be wrong. */
static void test_traceparent(void **state)
{
    static const char *const bad[] = {
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",       /* short */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",     /* 00 + more */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",      /* uppercase */
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",      /* zero trace */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",      /* zero span */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      /* version ff */
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",      /* dash moved */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0z",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",     /* later, no '-' */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, "
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",      /* two merged */
    };
    rp_traceparent_t t;
    size_t i;
    (void)state;
    assert_int_equal(rp_traceparent_parse(NULL, &t), 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rp_traceparent_parse(bad[i], &t))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_string_equal(t.traceid, "");
        assert_int_equal(t.flags, 0);
    }
    assert_int_equal(rp_traceparent_parse(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", &t), 1);
    assert_string_equal(t.traceid, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(t.spanid, "00f067aa0ba902b7");
    assert_int_equal(t.version, 0);
    assert_int_equal(t.flags, 1);
    assert_int_equal(rp_traceparent_parse(
        " \t00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ", &t), 1);
    assert_int_equal(t.flags, 0);
    /* A later version: more fields after a '-' are allowed and ignored. */
    assert_int_equal(rp_traceparent_parse(
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-ever", &t), 1);
    assert_int_equal(t.version, 0xcc);
    assert_int_equal(t.flags, 9);
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_ct_equal),
    RP_TEST(test_cookie),
    RP_TEST(test_cookie_strip),
    RP_TEST(test_traceparent),
};

RP_TEST_MAIN(tests)
