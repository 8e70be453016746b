/* Unit tests for rp_http (the HTTP token checker) and rp_servertiming
 * (the Server-Timing header's value). */
#include "rp_test.h"
#include "rp_http.h"
#include "rp_servertiming.h"

static void test_tchar(void **state)
{
    const char *ok = "!#$%&'*+-.^_`|~azAZ09";
    const char *bad = " \t\"(),/:;<=>?@[\\]{}\x7f";
    (void)state;
    for (; *ok; ok++)
        assert_true(rp_http_is_tchar((unsigned char)*ok));
    for (; *bad; bad++)
        assert_false(rp_http_is_tchar((unsigned char)*bad));
    assert_false(rp_http_is_tchar('\0'));
    assert_false(rp_http_is_tchar(0x80));
    assert_false(rp_http_is_tchar(0xff));
    assert_false(rp_http_is_tchar('\n'));
}

static void test_token(void **state)
{
    (void)state;
    assert_true(rp_http_is_token("X-Profile"));
    assert_true(rp_http_is_token("a"));
    assert_true(rp_http_is_token("!#$%&'*+-.^_`|~"));
    assert_false(rp_http_is_token(""));
    assert_false(rp_http_is_token(NULL));
    assert_false(rp_http_is_token("a b"));
    assert_false(rp_http_is_token("a=b"));
    assert_false(rp_http_is_token("a;"));
    assert_false(rp_http_is_token("caf\xc3\xa9"));
    assert_false(rp_http_is_token("x\x7f"));
}

static void test_metric_token(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(rp_servertiming_token(p, "mod_cgid.c"), "mod_cgid");
    assert_string_equal(rp_servertiming_token(p, "core.c"), "core");
    assert_string_equal(rp_servertiming_token(p, "mod x/y.c"), "mod_x_y");
    assert_string_equal(rp_servertiming_token(p, "a.c.c"), "a.c");
    assert_string_equal(rp_servertiming_token(p, ".c"), ".c");   /* only longer names lose .c */
    assert_string_equal(rp_servertiming_token(p, "c"), "c");
    assert_string_equal(rp_servertiming_token(p, ""), "_");
    assert_string_equal(rp_servertiming_token(p, "caf\xc3\xa9.c"), "caf__");
    assert_string_equal(rp_servertiming_token(p, "http_core.cc"), "http_core.cc");
    assert_true(rp_http_is_token(rp_servertiming_token(p, "\"weird\";name=1.c")));
}

static void test_quoted(void **state)
{
    apr_pool_t *p = *state;
    assert_string_equal(rp_servertiming_quoted(p, "handler"), "\"handler\"");
    assert_string_equal(rp_servertiming_quoted(p, ""), "\"\"");
    assert_string_equal(rp_servertiming_quoted(p, "a\"b\\c"), "\"a\\\"b\\\\c\"");
    assert_string_equal(rp_servertiming_quoted(p, "a\r\nb\tc\x7f" "d"), "\"abcd\"");
    assert_string_equal(rp_servertiming_quoted(p, "\"\"\"\""),
                        "\"\\\"\\\"\\\"\\\"\"");    /* the worst case fits */
    assert_string_equal(rp_servertiming_quoted(p, "caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

static void test_value_empty(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 4);
    assert_string_equal(rp_servertiming_value(p, t, 12400, 1e-6, 5), "total;dur=12.400");
    assert_string_equal(rp_servertiming_value(p, t, 0, 1e-9, 5), "total;dur=0.000");
}

/* Per-module sums, the busiest hook of each, the top N by time, ms with
 * three decimals. */
static void test_value_modules(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 8);
    rp_servertiming_add(t, "core.c", "map_to_storage", 1000);
    rp_servertiming_add(t, "mod_cgid.c", "handler", 10100000);
    rp_servertiming_add(t, "core.c", "handler", 3000);
    rp_servertiming_add(t, "mod_dir.c", "fixups", 2000);
    rp_servertiming_add(t, "core.c", "translate_name", 200);
    assert_string_equal(rp_servertiming_value(p, t, 12400000, 1e-9, 5),
                        "total;dur=12.400, mod_cgid;dur=10.100;desc=\"handler\", "
                        "core;dur=0.004;desc=\"handler\", "
                        "mod_dir;dur=0.002;desc=\"fixups\"");
}

static void test_value_top(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 8);
    rp_servertiming_add(t, "a.c", "h", 1000000);
    rp_servertiming_add(t, "b.c", "h", 3000000);
    rp_servertiming_add(t, "c.c", "h", 2000000);
    rp_servertiming_add(t, "d.c", "h", 4000000);
    assert_string_equal(rp_servertiming_value(p, t, 10000000, 1e-9, 2),
                        "total;dur=10.000, d;dur=4.000;desc=\"h\", b;dur=3.000;desc=\"h\"");
    t = rp_servertiming_make(p, 8);
    rp_servertiming_add(t, "a.c", "h", 1);
    assert_string_equal(rp_servertiming_value(p, t, 1, 1e-9, 0), "total;dur=0.000");
}

/* The first hook of a module with the most time names it: a later hook
 * of equal time does not replace it. */
static void test_value_busiest_hook(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 2);
    rp_servertiming_add(t, "m.c", "low", 1);
    rp_servertiming_add(t, "m.c", "first", 6);
    rp_servertiming_add(t, "m.c", "second", 6);
    rp_servertiming_add(t, "m.c", "last", 4);
    assert_string_equal(rp_servertiming_value(p, t, 17000, 1e-6, 5),
                        "total;dur=17.000, m;dur=0.017;desc=\"first\"");
}

/* Files past the capacity are not counted; those within still are. */
static void test_value_cap(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 1);
    rp_servertiming_add(t, "a.c", "h", 1000);
    rp_servertiming_add(t, "b.c", "h", 9000);
    rp_servertiming_add(t, "a.c", "g", 2000);
    assert_string_equal(rp_servertiming_value(p, t, 12000, 1e-6, 5),
                        "total;dur=12.000, a;dur=3.000;desc=\"g\"");
    t = rp_servertiming_make(p, 0);
    rp_servertiming_add(t, "a.c", "h", 1000);
    assert_string_equal(rp_servertiming_value(p, t, 1000, 1e-6, 5), "total;dur=1.000");
}

/* Module names and hooks from anywhere stay a valid header value. */
static void test_value_escaping(void **state)
{
    apr_pool_t *p = *state;
    rp_servertiming_t *t = rp_servertiming_make(p, 2);
    rp_servertiming_add(t, "mod \"x\".c", "a\"b\r\n", 1000);
    assert_string_equal(rp_servertiming_value(p, t, 1000, 1e-6, 5),
                        "total;dur=1.000, mod__x_;dur=1.000;desc=\"a\\\"b\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tchar),
        cmocka_unit_test(test_token),
        RP_TEST(test_metric_token),
        RP_TEST(test_quoted),
        RP_TEST(test_value_empty),
        RP_TEST(test_value_modules),
        RP_TEST(test_value_top),
        RP_TEST(test_value_busiest_hook),
        RP_TEST(test_value_cap),
        RP_TEST(test_value_escaping),
    };
    int rc;
    apr_initialize();
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    apr_terminate();
    return rc;
}
