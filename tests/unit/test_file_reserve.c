/* Unit tests for rp_file_reserve/rp_file_unreserve: names claimed before
 * the file is written are never handed out twice. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
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

static const char *name_of(rp_reservation_t *r)
{
    assert_non_null(r);
    return rp_reservation_name(r);
}

static void test_reserve_distinct_names(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *final;
    rp_reservation_t *a, *b, *c;
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &a), APR_SUCCESS);
    assert_string_equal(name_of(a), "x.prof");
    assert_true(exists(p, dir, ".x.prof.rsv"));
    assert_false(exists(p, dir, "x.prof"));
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &b), APR_SUCCESS);
    assert_string_equal(name_of(b), "x-1.prof");
    /* the reserved name is written exactly, and the marker is gone */
    assert_int_equal(rp_file_write_reserved(a, "abc", 3, &final), APR_SUCCESS);
    assert_string_equal(final, apr_pstrcat(p, dir, "/x.prof", NULL));
    assert_false(exists(p, dir, ".x.prof.rsv"));
    /* once only */
    assert_int_equal(rp_file_write_reserved(a, "abc", 3, &final), APR_EINVAL);
    assert_null(final);
    /* a released reservation is free again, but the search goes on from
     * where this process's last one ended: a gap, never a shared name */
    rp_file_unreserve(b);
    rp_file_unreserve(b);               /* idempotent */
    assert_false(exists(p, dir, ".x-1.prof.rsv"));
    assert_int_equal(rp_file_reserve(p, dir, "x.prof", PERMS, &c), APR_SUCCESS);
    assert_string_equal(name_of(c), "x-2.prof");
    rp_file_unreserve(c);
    assert_int_equal(rp_file_reserve(p, dir, "noext", PERMS, &c), APR_SUCCESS);
    assert_string_equal(name_of(c), "noext");
    assert_int_equal(rp_file_reserve(p, dir, "noext", PERMS, &c), APR_SUCCESS);
    assert_string_equal(name_of(c), "noext-1");
    rp_file_unreserve(c);
    cleanup(p, dir);
}

/* The reservation's marker becomes the file: it too gets exactly its
 * mode whatever the umask. */
static void test_reserved_mode_ignores_umask(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *final;
    static const mode_t masks[] = { 077, 0, 022, 027 };
    mode_t old = umask(0);
    rp_reservation_t *r;
    struct stat st;
    size_t i;

    for (i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        umask(masks[i]);
        rp_file_reread_umask();
        assert_int_equal(rp_file_reserve(p, dir, "m.prof",
                                         PERMS | APR_FPROT_GREAD, &r), APR_SUCCESS);
        assert_int_equal(rp_file_write_reserved(r, "x", 1, &final), APR_SUCCESS);
        assert_int_equal(stat(final, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
    }
    umask(old);
    rp_file_reread_umask();
    cleanup(p, dir);
}

static int count_entries(apr_pool_t *p, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int n = 0;
    assert_int_equal(apr_dir_open(&d, dir, p), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS)
        if (strcmp(fi.name, ".") && strcmp(fi.name, ".."))
            n++;
    apr_dir_close(d);
    return n;
}

static void read_back(apr_pool_t *p, const char *path, const char *want)
{
    apr_file_t *f;
    char buf[64];
    apr_size_t n = sizeof buf;
    assert_int_equal(apr_file_open(&f, path, APR_FOPEN_READ, 0, p), APR_SUCCESS);
    apr_file_read(f, buf, &n);
    apr_file_close(f);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, n);
}

/* Someone that does not reserve (another program, or a writer of another
 * process that started where its own hint said) took the name between
 * reservation and write: the data goes to the next free name, nothing is
 * overwritten. */
static void test_reserved_name_taken_meanwhile(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *final, *other;
    rp_reservation_t *r;
    apr_file_t *f;
    apr_size_t n = 6;
    assert_int_equal(rp_file_reserve(p, dir, "t.prof", PERMS, &r), APR_SUCCESS);
    other = apr_pstrcat(p, dir, "/t.prof", NULL);
    assert_int_equal(apr_file_open(&f, other, APR_FOPEN_CREATE | APR_FOPEN_EXCL
                                   | APR_FOPEN_WRITE, PERMS, p), APR_SUCCESS);
    assert_int_equal(apr_file_write(f, "theirs", &n), APR_SUCCESS);
    apr_file_close(f);
    assert_int_equal(rp_file_write_reserved(r, "ours", 4, &final), APR_SUCCESS);
    assert_string_equal(final, apr_pstrcat(p, dir, "/t-1.prof", NULL));
    read_back(p, other, "theirs");
    read_back(p, final, "ours");
    assert_int_equal(count_entries(p, dir), 2);     /* no marker, no temporary */
    cleanup(p, dir);
}

static apr_status_t fail_write(const char *step)
{
    return strcmp(step, "write") == 0 ? APR_FROM_OS_ERROR(ENOSPC) : APR_SUCCESS;
}

/* A failed write leaves nothing behind, and a reservation dropped with
 * its pool takes its marker along. */
static void test_reserved_failures_leave_nothing(void **state)
{
    apr_pool_t *p = *state, *sub;
    const char *dir = tmpdir(p), *final = "x";
    rp_reservation_t *r;
    assert_int_equal(rp_file_reserve(p, dir, "f.prof", PERMS, &r), APR_SUCCESS);
    rp_file_set_fault(fail_write);
    assert_int_equal(rp_file_write_reserved(r, "data", 4, &final),
                     APR_FROM_OS_ERROR(ENOSPC));
    rp_file_set_fault(NULL);
    assert_null(final);
    assert_int_equal(count_entries(p, dir), 0);
    apr_pool_create(&sub, p);
    assert_int_equal(rp_file_reserve(sub, dir, "g.prof", PERMS, &r), APR_SUCCESS);
    assert_int_equal(count_entries(p, dir), 1);
    apr_pool_destroy(sub);
    assert_int_equal(count_entries(p, dir), 0);
    cleanup(p, dir);
}

static int probes;

static apr_status_t count_probes(const char *step)
{
    if (strcmp(step, "reserve") == 0)
        probes++;
    return APR_SUCCESS;
}

/* A second of Werkzeug-named files shares one name: each reservation
 * must cost a probe or two, not one per file written before it. */
static void test_reserve_same_name_is_not_quadratic(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *final;
    rp_reservation_t *r;
    int i, worst = 0;

    rp_file_set_fault(count_probes);
    for (i = 0; i < 300; i++) {
        probes = 0;
        assert_int_equal(rp_file_reserve(p, dir, "GET.root.0ms.1.prof", PERMS, &r),
                         APR_SUCCESS);
        assert_string_equal(name_of(r), i ? apr_psprintf(p, "GET.root.0ms.1-%d.prof", i)
                                          : "GET.root.0ms.1.prof");
        assert_int_equal(rp_file_write_reserved(r, "x", 1, &final), APR_SUCCESS);
        assert_string_equal(final, apr_pstrcat(p, dir, "/", name_of(r), NULL));
        if (probes > worst)
            worst = probes;
    }
    assert_int_equal(worst, 1);
    rp_file_set_fault(NULL);
    cleanup(p, dir);
}

/* Names taken by another process (no hint here) are skipped by
 * bisection after a few linear probes, and reservations still pending
 * (markers) count as taken. */
static void test_reserve_skips_taken_run(void **state)
{
    apr_pool_t *p = *state;
    const char *dir = tmpdir(p), *final;
    rp_reservation_t *r;
    int i;

    for (i = 0; i < 1000; i++)
        assert_int_equal(rp_file_write_unique(p, dir, "other.prof", "x", 1, PERMS,
                                              &final), APR_SUCCESS);
    for (i = 0; i < 5; i++) {           /* markers of pending reservations */
        apr_file_t *f;
        assert_int_equal(apr_file_open(&f, apr_psprintf(p, "%s/.other-%d.prof.rsv",
                                                        dir, 1000 + i),
                                       APR_FOPEN_CREATE | APR_FOPEN_WRITE, PERMS, p),
                         APR_SUCCESS);
        apr_file_close(f);
    }
    rp_file_set_fault(count_probes);
    probes = 0;
    assert_int_equal(rp_file_reserve(p, dir, "other.prof", PERMS, &r), APR_SUCCESS);
    assert_string_equal(name_of(r), "other-1005.prof");
    assert_true(probes <= 9);           /* 8 linear, then the free one */
    rp_file_set_fault(NULL);
    rp_file_unreserve(r);
    cleanup(p, dir);
}

static void test_reserve_refuses_bad_names(void **state)
{
    apr_pool_t *p = *state;
    rp_reservation_t *r = (rp_reservation_t *)p;
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
    RP_TEST(test_reserved_name_taken_meanwhile),
    RP_TEST(test_reserved_mode_ignores_umask),
    RP_TEST(test_reserved_failures_leave_nothing),
    RP_TEST(test_reserve_same_name_is_not_quadratic),
    RP_TEST(test_reserve_skips_taken_run),
    RP_TEST(test_reserve_refuses_bad_names),
};

RP_TEST_MAIN(tests)
