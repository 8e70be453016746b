/* Common includes for the cmocka unit tests of lib/. */
#ifndef RP_TEST_H
#define RP_TEST_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <apr_general.h>
#include <apr_pools.h>

/* Setup/teardown giving each test a fresh APR pool in *state. */
static int rp_test_pool_setup(void **state)
{
    apr_pool_t *p = NULL;
    if (apr_pool_create(&p, NULL) != APR_SUCCESS)
        return -1;
    *state = p;
    return 0;
}

static int rp_test_pool_teardown(void **state)
{
    apr_pool_destroy((apr_pool_t *)*state);
    return 0;
}

#define RP_TEST(fn) cmocka_unit_test_setup_teardown(fn, rp_test_pool_setup, rp_test_pool_teardown)

/* main() body: initialise APR, run the group, return failures. */
#define RP_TEST_MAIN(group) \
    int main(void) { \
        int rc; \
        apr_initialize(); \
        rc = cmocka_run_group_tests(group, NULL, NULL); \
        apr_terminate(); \
        return rc; \
    }
#endif
