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

static const struct CMUnitTest tests[] = {
    RP_TEST(test_ct_equal),
    RP_TEST(test_cookie),
    RP_TEST(test_cookie_strip),
};

RP_TEST_MAIN(tests)
