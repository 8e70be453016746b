/* Unit tests for lib/rp_text.c: UTF-8 cleaning and Python repr(). */
#include "rp_test.h"
#include <math.h>
#include "rp_text.h"

#define FFFD "\xEF\xBF\xBD"
#define CLEAN(s, max) rp_utf8_clean((apr_pool_t *)*state, (s), (max))
#define BIG ((apr_size_t)-1)

static void test_clean_null_and_empty(void **state)
{
    assert_string_equal(CLEAN(NULL, BIG), "");
    assert_string_equal(CLEAN("", BIG), "");
    assert_string_equal(CLEAN("abc", 0), "");
}

static void test_clean_keeps_valid_utf8(void **state)
{
    const char *s = "mod_dir.c caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 " FFFD;

    assert_string_equal(CLEAN(s, BIG), s);
}

static void test_clean_replaces_invalid_bytes(void **state)
{
    /* One U+FFFD per maximal invalid subpart, as Python's 'replace'. */
    assert_string_equal(CLEAN("a\xFF" "b", BIG), "a" FFFD "b");
    assert_string_equal(CLEAN("\x80", BIG), FFFD);
    assert_string_equal(CLEAN("\xF5\x80", BIG), FFFD FFFD);
    /* truncated sequences: the valid prefix is one subpart */
    assert_string_equal(CLEAN("\xE2\x82" "A", BIG), FFFD "A");
    assert_string_equal(CLEAN("\xF0\x9F\x98", BIG), FFFD);
    assert_string_equal(CLEAN("\xC2", BIG), FFFD);
}

static void test_clean_rejects_overlong_and_surrogates(void **state)
{
    /* overlong '/' in two and three bytes */
    assert_string_equal(CLEAN("\xC0\xAF", BIG), FFFD FFFD);
    assert_string_equal(CLEAN("\xC1\xBF", BIG), FFFD FFFD);
    assert_string_equal(CLEAN("\xE0\x80\xAF", BIG), FFFD FFFD FFFD);
    assert_string_equal(CLEAN("\xF0\x80\x80\xAF", BIG), FFFD FFFD FFFD FFFD);
    /* U+D800 and U+DFFF encoded: surrogates are not characters */
    assert_string_equal(CLEAN("\xED\xA0\x80", BIG), FFFD FFFD FFFD);
    assert_string_equal(CLEAN("\xED\xBF\xBF", BIG), FFFD FFFD FFFD);
    /* above U+10FFFF */
    assert_string_equal(CLEAN("\xF4\x90\x80\x80", BIG), FFFD FFFD FFFD FFFD);
    /* the boundaries just inside stay */
    assert_string_equal(CLEAN("\xE0\xA0\x80", BIG), "\xE0\xA0\x80");
    assert_string_equal(CLEAN("\xED\x9F\xBF", BIG), "\xED\x9F\xBF");
    assert_string_equal(CLEAN("\xF4\x8F\xBF\xBF", BIG), "\xF4\x8F\xBF\xBF");
}

static void test_clean_controls_become_question_marks(void **state)
{
    assert_string_equal(CLEAN("a\tb\nc\rd\x01" "e\x7F", BIG), "a?b?c?d?e?");
    /* C1 controls are valid UTF-8 characters and are kept */
    assert_string_equal(CLEAN("\xC2\x85", BIG), "\xC2\x85");
}

static void test_clean_truncation_never_splits(void **state)
{
    assert_string_equal(CLEAN("abcdef", 3), "abc");
    assert_string_equal(CLEAN("a\xC3\xA9", 2), "a");
    assert_string_equal(CLEAN("a\xC3\xA9", 3), "a\xC3\xA9");
    assert_string_equal(CLEAN("\xE6\x97\xA5", 2), "");
    assert_string_equal(CLEAN("\xF0\x9F\x98\x80x", 3), "");
    assert_string_equal(CLEAN("\xF0\x9F\x98\x80x", 4), "\xF0\x9F\x98\x80");
    /* a replaced byte counts as the 3 bytes of U+FFFD */
    assert_string_equal(CLEAN("a\xFF", 3), "a");
    assert_string_equal(CLEAN("a\xFF", 4), "a" FFFD);
    assert_int_equal(strlen(CLEAN("\xFF\xFF\xFF\xFF", 10)), 9);
}

#define REPR(s) rp_py_repr_str((apr_pool_t *)*state, (s))

static void test_repr_str_quotes(void **state)
{
    assert_string_equal(REPR(""), "''");
    assert_string_equal(REPR("abc"), "'abc'");
    assert_string_equal(REPR("it's"), "\"it's\"");
    assert_string_equal(REPR("say \"hi\""), "'say \"hi\"'");
    assert_string_equal(REPR("both ' and \""), "'both \\' and \"'");
    assert_string_equal(REPR(NULL), "''");
}

static void test_repr_str_escapes(void **state)
{
    assert_string_equal(REPR("a\\.c"), "'a\\\\.c'");
    assert_string_equal(REPR("\t\n\r"), "'\\t\\n\\r'");
    assert_string_equal(REPR("\x01\x1F\x7F"), "'\\x01\\x1f\\x7f'");
    /* printable non-ASCII is kept, unprintable escaped like Python */
    assert_string_equal(REPR("caf\xC3\xA9 \xE6\x97\xA5"), "'caf\xC3\xA9 \xE6\x97\xA5'");
    assert_string_equal(REPR("\xC2\x85\xC2\xA0\xC2\xAD"), "'\\x85\\xa0\\xad'");
    assert_string_equal(REPR("\xE2\x80\xA8\xEF\xBB\xBF"), "'\\u2028\\ufeff'");
    assert_string_equal(REPR("\xF3\xA0\x80\x81"), "'\\U000e0001'");
    assert_string_equal(REPR(FFFD), "'" FFFD "'");
    /* invalid input (a broken contract) still gives valid UTF-8 */
    assert_string_equal(REPR("a\xFF"), "'a" FFFD "'");
}

#define FREPR(x) rp_py_repr_float((apr_pool_t *)*state, (x))

static void test_repr_float_fixed(void **state)
{
    assert_string_equal(FREPR(0.0), "0.0");
    assert_string_equal(FREPR(-0.0), "-0.0");
    assert_string_equal(FREPR(0.5), "0.5");
    assert_string_equal(FREPR(0.1), "0.1");
    assert_string_equal(FREPR(0.25), "0.25");
    assert_string_equal(FREPR(-1.5), "-1.5");
    assert_string_equal(FREPR(100.0), "100.0");
    assert_string_equal(FREPR(123.456), "123.456");
    assert_string_equal(FREPR(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(FREPR(1.0 / 3), "0.3333333333333333");
    assert_string_equal(FREPR(0.0001), "0.0001");
    assert_string_equal(FREPR(1e15), "1000000000000000.0");
    assert_string_equal(FREPR(1234567890123456.0), "1234567890123456.0");
}

static void test_repr_float_exponent(void **state)
{
    assert_string_equal(FREPR(1e-05), "1e-05");
    assert_string_equal(FREPR(1.5e-05), "1.5e-05");
    assert_string_equal(FREPR(1e16), "1e+16");
    assert_string_equal(FREPR(1e22), "1e+22");
    assert_string_equal(FREPR(1e100), "1e+100");
    assert_string_equal(FREPR(5e-324), "5e-324");
    assert_string_equal(FREPR(1.7976931348623157e308), "1.7976931348623157e+308");
    assert_string_equal(FREPR(-2.5e-10), "-2.5e-10");
}

static void test_repr_float_shortest_at_power_of_two(void **state)
{
    /* 2**-1017: the nearest 16-digit decimal (...044e-307) does not read
     * back, the next one up does; %.17g would print 17 digits. */
    assert_string_equal(FREPR(ldexp(1.0, -1017)), "7.120236347223045e-307");
}

static void test_repr_float_special(void **state)
{
    assert_string_equal(FREPR(INFINITY), "inf");
    assert_string_equal(FREPR(-INFINITY), "-inf");
    assert_string_equal(FREPR(NAN), "nan");
    assert_string_equal(FREPR(-NAN), "nan");
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_clean_null_and_empty),
    RP_TEST(test_clean_keeps_valid_utf8),
    RP_TEST(test_clean_replaces_invalid_bytes),
    RP_TEST(test_clean_rejects_overlong_and_surrogates),
    RP_TEST(test_clean_controls_become_question_marks),
    RP_TEST(test_clean_truncation_never_splits),
    RP_TEST(test_repr_str_quotes),
    RP_TEST(test_repr_str_escapes),
    RP_TEST(test_repr_float_fixed),
    RP_TEST(test_repr_float_exponent),
    RP_TEST(test_repr_float_shortest_at_power_of_two),
    RP_TEST(test_repr_float_special),
};

RP_TEST_MAIN(tests)
