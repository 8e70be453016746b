/* Unit tests for rp_window: minute numbers, slots, window membership, the
 * window names, and one claim per minute change. */
#include "rp_test.h"
#include <apr_atomic.h>
#include <apr_thread_proc.h>
#include "rp_window.h"

static void test_minute_and_slot(void **state)
{
    (void)state;
    assert_int_equal(rp_win_minute(apr_time_from_sec(59)), 0);
    assert_int_equal(rp_win_minute(apr_time_from_sec(60)), 1);
    assert_int_equal(rp_win_minute(apr_time_from_sec(3600)), 60);
    assert_int_equal(rp_win_slot(60), 60);
    assert_int_equal(rp_win_slot(61), 0);
    assert_int_equal(rp_win_slot(122), 0);
}

static void test_window_membership(void **state)
{
    (void)state;
    assert_true(rp_win_in(100, 100, 1));
    assert_false(rp_win_in(99, 100, 1));
    assert_true(rp_win_in(96, 100, 5));
    assert_false(rp_win_in(95, 100, 5));
    assert_true(rp_win_in(41, 100, 60));
    assert_false(rp_win_in(40, 100, 60));
    assert_false(rp_win_in(0, 100, 60));      /* never stamped */
    assert_false(rp_win_in(101, 100, 60));    /* from the future */
}

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(rp_win_parse(NULL), 0);
    assert_int_equal(rp_win_parse(""), 0);
    assert_int_equal(rp_win_parse("all"), 0);
    assert_int_equal(rp_win_parse("1m"), 1);
    assert_int_equal(rp_win_parse("5m"), 5);
    assert_int_equal(rp_win_parse("15m"), 15);
    assert_int_equal(rp_win_parse("60m"), 60);
    assert_int_equal(rp_win_parse("2m"), -1);
    assert_int_equal(rp_win_parse("1m "), -1);
    assert_int_equal(rp_win_parse("60"), -1);
}

static void test_claim_once_per_minute(void **state)
{
    volatile apr_uint32_t stamp = 0;
    (void)state;
    assert_true(rp_win_slot_claim(&stamp, 7));
    assert_int_equal(stamp, RP_WIN_CLEARING);   /* no minute while cleared */
    assert_false(rp_win_in(stamp, 7, 60));
    rp_win_slot_ready(&stamp, 7);
    assert_int_equal(stamp, 7);
    assert_false(rp_win_slot_claim(&stamp, 7));
    assert_true(rp_win_slot_claim(&stamp, 68));
    rp_win_slot_ready(&stamp, 68);
    assert_false(rp_win_slot_claim(&stamp, 68));
}

/* A writer that meets the slot being cleared waits for the clearing to
 * end and then adds as usual: it never adds before the zeroing (that lost
 * window counts when all threads met a new minute at once). */
typedef struct waiter {
    volatile apr_uint32_t *stamp;
    volatile apr_uint32_t done, got;
} waiter_t;

static void *APR_THREAD_FUNC wait_main(apr_thread_t *th, void *arg)
{
    waiter_t *w = arg;
    w->got = (apr_uint32_t)rp_win_slot_claim(w->stamp, 9);
    apr_atomic_set32(&w->done, 1);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_claim_waits_for_the_clearing(void **state)
{
    volatile apr_uint32_t stamp = 3;
    waiter_t w = { &stamp, 0, 7 };
    apr_thread_t *th;
    apr_status_t rv;
    apr_pool_t *p;
    (void)state;
    apr_pool_create(&p, NULL);
    assert_true(rp_win_slot_claim(&stamp, 9));
    assert_int_equal(apr_thread_create(&th, NULL, wait_main, &w, p), APR_SUCCESS);
    apr_sleep(apr_time_from_msec(20));
    assert_int_equal(apr_atomic_read32(&w.done), 0);    /* still waiting */
    rp_win_slot_ready(&stamp, 9);
    apr_thread_join(&rv, th);
    assert_int_equal(w.done, 1);
    assert_int_equal(w.got, 0);         /* add as usual, no second clear */
    apr_pool_destroy(p);
}

/* A clearer that died mid-clear does not stop the writers for good: after
 * the bounded wait the next one clears again. */
static void test_dead_clearer_is_taken_over(void **state)
{
    volatile apr_uint32_t stamp = RP_WIN_CLEARING;
    apr_time_t t0 = apr_time_now();
    (void)state;
    assert_true(rp_win_slot_claim(&stamp, 9));
    assert_true(apr_time_now() - t0 >= apr_time_from_msec(40));
    rp_win_slot_ready(&stamp, 9);
    assert_false(rp_win_slot_claim(&stamp, 9));
}

static void test_minute_length_is_settable(void **state)
{
    apr_time_t saved = rp_win_minute_usec;
    (void)state;
    rp_win_minute_usec = apr_time_from_sec(2);
    assert_int_equal(rp_win_minute(apr_time_from_sec(5)), 2);
    rp_win_minute_usec = saved;
    assert_int_equal(rp_win_minute(apr_time_from_sec(5)), 0);
}

static void test_configure_from_text(void **state)
{
    (void)state;
    rp_win_configure("2000");
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(2));
    rp_win_configure("10");
    assert_int_equal(rp_win_minute_usec, 10000);
    rp_win_configure("9");             /* out of range: the real minute */
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(60));
    rp_win_configure("60001");
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(60));
    rp_win_configure("2000ms");
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(60));
    rp_win_configure("");
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(60));
    rp_win_configure(NULL);
    assert_int_equal(rp_win_minute_usec, apr_time_from_sec(60));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_minute_and_slot),
        RP_TEST(test_window_membership),
        RP_TEST(test_parse),
        RP_TEST(test_claim_once_per_minute),
        RP_TEST(test_claim_waits_for_the_clearing),
        RP_TEST(test_dead_clearer_is_taken_over),
        RP_TEST(test_minute_length_is_settable),
        RP_TEST(test_configure_from_text),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
