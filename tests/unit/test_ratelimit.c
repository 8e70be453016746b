/* Unit tests for rp_ratelimit: one report per interval, the count of those
 * refused, a clock set back, and exactly one pass among racing threads. */
#include "rp_test.h"
#include <apr_thread_proc.h>
#include "rp_ratelimit.h"

#define T0 1795226900u

static void test_first_passes_then_one_per_interval(void **state)
{
    rp_ratelimit_t rl = { 0, 0 };
    apr_uint32_t n = 99;
    (void)state;
    assert_true(rp_ratelimit_pass(&rl, T0, 60, &n));
    assert_int_equal(n, 0);
    assert_false(rp_ratelimit_pass(&rl, T0, 60, &n));
    assert_false(rp_ratelimit_pass(&rl, T0 + 1, 60, &n));
    assert_false(rp_ratelimit_pass(&rl, T0 + 59, 60, &n));
    assert_true(rp_ratelimit_pass(&rl, T0 + 60, 60, &n));
    assert_int_equal(n, 3);                /* the three refused */
    assert_false(rp_ratelimit_pass(&rl, T0 + 100, 60, NULL));
    assert_true(rp_ratelimit_pass(&rl, T0 + 500, 60, &n));
    assert_int_equal(n, 1);                /* counted without an out pointer */
    assert_true(rp_ratelimit_pass(&rl, T0 + 560, 60, &n));
    assert_int_equal(n, 0);
}

static void test_clock_set_back_passes(void **state)
{
    rp_ratelimit_t rl = { 0, 0 };
    apr_uint32_t n;
    (void)state;
    assert_true(rp_ratelimit_pass(&rl, T0, 60, &n));
    /* otherwise silent for the hour the clock went back */
    assert_true(rp_ratelimit_pass(&rl, T0 - 3600, 60, &n));
    assert_false(rp_ratelimit_pass(&rl, T0 - 3599, 60, &n));
}

typedef struct racer {
    rp_ratelimit_t *rl;
    int passed;
    apr_uint32_t refused_seen;
} racer_t;

#define RACERS 6
#define CALLS 20000

static void *APR_THREAD_FUNC race(apr_thread_t *t, void *data)
{
    racer_t *r = data;
    int i;
    for (i = 0; i < CALLS; i++) {
        apr_uint32_t n = 0;
        if (rp_ratelimit_pass(r->rl, T0 + (apr_uint32_t)(i / 5000), 60, &n)) {
            r->passed++;
            r->refused_seen += n;
        }
    }
    (void)t;
    return NULL;
}

static void test_threads_one_pass_per_interval(void **state)
{
    apr_pool_t *p = *state;
    rp_ratelimit_t rl = { 0, 0 };
    apr_thread_t *th[RACERS];
    racer_t r[RACERS];
    apr_uint32_t later, seen = 0;
    int i, passed = 0;

    for (i = 0; i < RACERS; i++) {
        r[i].rl = &rl;
        r[i].passed = 0;
        r[i].refused_seen = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, race, &r[i], p), APR_SUCCESS);
    }
    for (i = 0; i < RACERS; i++) {
        apr_status_t rv;
        apr_thread_join(&rv, th[i]);
        passed += r[i].passed;
        seen += r[i].refused_seen;
    }
    /* all within one interval: one line for 120000 calls */
    assert_int_equal(passed, 1);
    assert_true(rp_ratelimit_pass(&rl, T0 + 60, 60, &later));
    /* Every other call suppressed, counted once: the calls refused
     * between the pass's compare-and-swap and its taking of the count
     * (other threads run meanwhile) are what that pass reported, the
     * rest what the next one does. */
    assert_int_equal(seen + later, RACERS * CALLS - 1);
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_first_passes_then_one_per_interval),
    RP_TEST(test_clock_set_back_passes),
    RP_TEST(test_threads_one_pass_per_interval),
};

RP_TEST_MAIN(tests)
