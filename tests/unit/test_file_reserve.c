/* Unit tests for rp_file_reserve/rp_file_unreserve: names claimed before
 * the file is written are never handed out twice. */
#include <stdlib.h>
#include <unistd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include "rp_test.h"
#include "rp_file.h"

#define PERMS (APR_FPROT_UREAD | APR_FPROT_UWRITE)

static const char *tmpdir(apr_pool_t *p)
{
    char *d = apr_pstrdup(p, "/tmp/rp-reserve-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static int exists(apr_pool_t *p, const char *dir, const char *name)
{
    apr_finfo_t fi;
    return apr_stat(&fi, apr_pstrcat(p, dir, "/", name, NULL), APR_FINFO_TYPE, p)
           == APR_SUCCESS;
}

static void cleanup(apr_pool_t *p, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    if (apr_dir_open(&d, dir, p) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS)
            if (strcmp(fi.name, ".") && strcmp(fi.name, ".."))
                apr_file_remove(apr_pstrcat(p, dir, "/", fi.name, NULL), p);
        apr_dir_close(d);
    }
    apr_dir_remove(dir, p);
}

static void test_reserve_distinct_names(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *a, *b, *c, *final;
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &a), APR_SUCCESS);
    assert_string_equal(a, "x.prof");
    assert_true(exists(p, dir, ".x.prof.rsv"));
    assert_false(exists(p, dir, "x.prof"));
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &b), APR_SUCCESS);
    assert_string_equal(b, "x-1.prof");
    /* the reserved name is written exactly */
    assert_int_equal(rp_file_write_unique(p, dir, a, "abc", 3, PERMS, &final), APR_SUCCESS);
    assert_string_equal(final, apr_pstrcat(p, dir, "/x.prof", NULL));
    rp_file_unreserve(p, dir, a);
    assert_false(exists(p, dir, ".x.prof.rsv"));
    /* an existing file is skipped, a released reservation reused */
    rp_file_unreserve(p, dir, b);
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &c), APR_SUCCESS);
    assert_string_equal(c, "x-1.prof");
    rp_file_unreserve(p, dir, c);
    assert_int_equal(rp_file_reserve(p, dir, "noext", PERMS, &c), APR_SUCCESS);
    assert_string_equal(c, "noext");
    assert_int_equal(rp_file_reserve(p, dir, "noext", PERMS, &c), APR_SUCCESS);
    assert_string_equal(c, "noext-1");
    cleanup(p, dir);
}

static void test_reserve_refuses_bad_names(void **state)
{
    apr_pool_t *p = *state;
    const char *r = "x";
    assert_int_equal(rp_file_reserve(p, "/tmp", "a/b", PERMS, &r), APR_EINVAL);
    assert_null(r);
    assert_int_equal(rp_file_reserve(p, "/tmp", "..", PERMS, &r), APR_EINVAL);
    assert_int_equal(rp_file_reserve(p, "/tmp", "", PERMS, &r), APR_EINVAL);
    assert_int_equal(rp_file_reserve(p, "", "a", PERMS, &r), APR_EINVAL);
    assert_int_not_equal(rp_file_reserve(p, "/nonexistent-rp-dir", "a", PERMS, &r),
                         APR_SUCCESS);
}

static const struct CMUnitTest tests[] = {
    RP_TEST(test_reserve_distinct_names),
    RP_TEST(test_reserve_refuses_bad_names),
};

RP_TEST_MAIN(tests)
