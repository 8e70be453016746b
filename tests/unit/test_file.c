/* Unit tests for rp_file: unique names, no partial or temporary files
 * left behind, injected I/O errors, the no-hard-link fallback, and many
 * threads writing the same name at once. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <apr_file_io.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_test.h"
#include "rp_file.h"

/* Per test: rp_test.h's fresh pool in *state, plus a fresh empty
 * directory kept as the pool's user data. */
typedef struct fixture {
    apr_pool_t *p;
    const char *dir;
} fixture_t;

static fixture_t fixture(void **state)
{
    fixture_t fx;
    void *dir = NULL;
    fx.p = *state;
    apr_pool_userdata_get(&dir, "rp_test_dir", fx.p);
    fx.dir = dir;
    return fx;
}

static int dir_setup(void **state)
{
    apr_pool_t *p;
    const char *tmpdir = NULL;
    char *templ;

    if (rp_test_pool_setup(state) != 0)
        return -1;
    p = *state;
    if (apr_temp_dir_get(&tmpdir, p) != APR_SUCCESS)
        return -1;
    templ = apr_pstrcat(p, tmpdir, "/rp_file_test.XXXXXX", NULL);
    if (mkdtemp(templ) == NULL)
        return -1;
    return apr_pool_userdata_setn(templ, "rp_test_dir", NULL, p) == APR_SUCCESS
        ? 0 : -1;
}

static int dir_teardown(void **state)
{
    fixture_t fx = fixture(state);
    apr_dir_t *d;
    apr_finfo_t fi;

    rp_file_set_fault(NULL);
    if (apr_dir_open(&d, fx.dir, fx.p) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
            if (strcmp(fi.name, ".") == 0 || strcmp(fi.name, "..") == 0)
                continue;
            apr_file_remove(apr_pstrcat(fx.p, fx.dir, "/", fi.name, NULL), fx.p);
        }
        apr_dir_close(d);
    }
    apr_dir_remove(fx.dir, fx.p);
    return rp_test_pool_teardown(state);
}

/* APR permission bits; an octal 0640 would mean other bits. */
#define PERMS_RW (APR_FPROT_UREAD | APR_FPROT_UWRITE)
#define PERMS_RW_R (APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD)

/* RP_TEST with a directory. */
#define RP_DIR_TEST(fn) cmocka_unit_test_setup_teardown(fn, dir_setup, dir_teardown)

/* Counts entries of dir; *tmps gets those that look like our temporaries. */
static int count_files(apr_pool_t *p, const char *dir, int *tmps)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int n = 0;

    *tmps = 0;
    assert_int_equal(apr_dir_open(&d, dir, p), APR_SUCCESS);
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        if (strcmp(fi.name, ".") == 0 || strcmp(fi.name, "..") == 0)
            continue;
        n++;
        if (strncmp(fi.name, ".rp-", 4) == 0)
            (*tmps)++;
    }
    apr_dir_close(d);
    return n;
}

static void assert_dir_holds(apr_pool_t *p, const char *dir, int want)
{
    int tmps;
    assert_int_equal(count_files(p, dir, &tmps), want);
    assert_int_equal(tmps, 0);
}

static char *read_all(apr_pool_t *p, const char *path, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;

    assert_int_equal(apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                                   APR_FPROT_OS_DEFAULT, p), APR_SUCCESS);
    assert_int_equal(apr_file_info_get(&fi, APR_FINFO_SIZE, f), APR_SUCCESS);
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    if (n > 0)
        assert_int_equal(apr_file_read_full(f, buf, n, NULL), APR_SUCCESS);
    buf[n] = '\0';
    apr_file_close(f);
    *len = n;
    return buf;
}

static void assert_content(apr_pool_t *p, const char *path, const char *want)
{
    apr_size_t n;
    const char *got = read_all(p, path, &n);
    assert_int_equal(n, strlen(want));
    assert_string_equal(got, want);
}

static int exists(apr_pool_t *p, const char *path)
{
    apr_finfo_t fi;
    return apr_stat(&fi, path, APR_FINFO_TYPE, p) == APR_SUCCESS;
}

/* ---- plain writes ---- */

static void test_write_read_back(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;
    apr_finfo_t fi;

    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "GET.root.3ms.1.prof",
                                          "hello", 5, PERMS_RW_R, &path), APR_SUCCESS);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/GET.root.3ms.1.prof", NULL));
    assert_content(fx.p, path, "hello");
    assert_int_equal(apr_stat(&fi, path, APR_FINFO_PROT | APR_FINFO_NLINK, fx.p),
                     APR_SUCCESS);
    /* the temporary's link is gone, and perms were applied */
    assert_int_equal(fi.nlink, 1);
    assert_int_equal(fi.protection, PERMS_RW_R);
    assert_dir_holds(fx.p, fx.dir, 1);
}

/* The mode is exactly perms whatever the umask httpd was started with:
 * 077 must not take the group's read, 000 must not give more. Both the
 * link and the rename fallback (the temporary's mode is what is kept). */
static apr_status_t exdev_on_link(const char *step)
{
    return strcmp(step, "link") == 0 ? APR_FROM_OS_ERROR(EXDEV) : APR_SUCCESS;
}

static void test_mode_ignores_umask(void **state)
{
    fixture_t fx = fixture(state);
    static const mode_t masks[] = { 077, 0, 022, 027 };
    mode_t old = umask(0);
    apr_size_t i;
    int fallback;

    for (fallback = 0; fallback < 2; fallback++) {
        rp_file_set_fault(fallback ? exdev_on_link : NULL);
        for (i = 0; i < sizeof masks / sizeof masks[0]; i++) {
            const char *path = NULL;
            struct stat st;
            apr_status_t rv;

            umask(masks[i]);
            rp_file_reread_umask();
            rv = rp_file_write_unique(fx.p, fx.dir, "m.prof", "x", 1, PERMS_RW_R, &path);
            umask(0);
            assert_int_equal(rv, APR_SUCCESS);
            assert_int_equal(stat(path, &st), 0);
            assert_int_equal(st.st_mode & 07777, 0640);
        }
    }
    rp_file_set_fault(NULL);
    umask(old);
    rp_file_reread_umask();
    assert_dir_holds(fx.p, fx.dir, 8);
}

static void test_binary_and_empty(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;
    unsigned char bin[4096];
    apr_size_t i, n;
    const char *got;

    for (i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "b.prof", bin,
                                          sizeof(bin), PERMS_RW, &path), APR_SUCCESS);
    got = read_all(fx.p, path, &n);
    assert_int_equal(n, sizeof(bin));
    assert_memory_equal(got, bin, sizeof(bin));

    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "e.prof", "", 0,
                                          PERMS_RW, &path), APR_SUCCESS);
    assert_content(fx.p, path, "");
    assert_dir_holds(fx.p, fx.dir, 2);
}

static void test_big_write(void **state)
{
    fixture_t fx = fixture(state);
    apr_size_t len = 8u << 20, n;
    char *data = apr_palloc(fx.p, len);
    const char *path, *got;

    memset(data, 'z', len);
    data[len - 1] = '!';
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "big.prof", data, len,
                                          PERMS_RW, &path), APR_SUCCESS);
    got = read_all(fx.p, path, &n);
    assert_int_equal(n, len);
    assert_memory_equal(got, data, len);
}

static void test_same_name_five_times(void **state)
{
    fixture_t fx = fixture(state);
    static const char *const want[] = {
        "x.prof", "x-1.prof", "x-2.prof", "x-3.prof", "x-4.prof"
    };
    int i;

    for (i = 0; i < 5; i++) {
        const char *path = NULL;
        char body[32];
        snprintf(body, sizeof(body), "body %d", i);
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "x.prof", body,
                                              strlen(body), PERMS_RW_R, &path),
                         APR_SUCCESS);
        assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/", want[i], NULL));
    }
    for (i = 0; i < 5; i++) {
        char body[32];
        snprintf(body, sizeof(body), "body %d", i);
        assert_content(fx.p, apr_pstrcat(fx.p, fx.dir, "/", want[i], NULL), body);
    }
    assert_dir_holds(fx.p, fx.dir, 5);
}

static void test_suffix_placement(void **state)
{
    fixture_t fx = fixture(state);
    static const struct { const char *name, *second; } cases[] = {
        { "noext", "noext-1" },
        { "a.b.prof", "a.b-1.prof" },
        { "_.hidden", "_-1.hidden" },
        { "trail.", "trail-1." },
        { "~x", "~x-1" },
        { "p.pb.gz", "p-1.pb.gz" },     /* ProfileFormat pprof */
        { "q.gz", "q-1.gz" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = NULL;
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, cases[i].name, "1",
                                              1, PERMS_RW, &path), APR_SUCCESS);
        assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/",
                                              cases[i].name, NULL));
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, cases[i].name, "2",
                                              1, PERMS_RW, &path), APR_SUCCESS);
        assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/",
                                              cases[i].second, NULL));
        assert_content(fx.p, path, "2");
    }
    assert_dir_holds(fx.p, fx.dir, 14);
}

/* A trailing '/' on the directory makes no "//" in the path. */
static void test_dir_trailing_slash(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;
    assert_int_equal(rp_file_write_unique(fx.p, apr_pstrcat(fx.p, fx.dir, "/", NULL),
                                          "s.prof", "s", 1, PERMS_RW, &path), APR_SUCCESS);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/s.prof", NULL));
}

/* An existing file is never touched, whatever it holds. */
static void test_never_overwrites(void **state)
{
    fixture_t fx = fixture(state);
    const char *victim = apr_pstrcat(fx.p, fx.dir, "/v.prof", NULL);
    const char *path;
    apr_file_t *f;

    assert_int_equal(apr_file_open(&f, victim, APR_FOPEN_CREATE | APR_FOPEN_WRITE,
                                   PERMS_RW, fx.p), APR_SUCCESS);
    apr_file_puts("precious", f);
    apr_file_close(f);
    assert_int_equal(apr_dir_make(apr_pstrcat(fx.p, fx.dir, "/v-1.prof", NULL),
                                  APR_FPROT_OS_DEFAULT, fx.p), APR_SUCCESS);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "v.prof", "new", 3,
                                          PERMS_RW, &path), APR_SUCCESS);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/v-2.prof", NULL));
    assert_content(fx.p, victim, "precious");
    apr_dir_remove(apr_pstrcat(fx.p, fx.dir, "/v-1.prof", NULL), fx.p);
}

/* ---- bad arguments and missing directories ---- */

static void test_bad_names(void **state)
{
    fixture_t fx = fixture(state);
    static const char *const bad[] = { "", ".", "..", "a/b", "/abs", "../up" };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *path = "unset";
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, bad[i], "x", 1,
                                              PERMS_RW, &path), APR_EINVAL);
        assert_null(path);
    }
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, NULL, "x", 1, PERMS_RW, NULL),
                     APR_EINVAL);
    assert_int_equal(rp_file_write_unique(fx.p, "", "n", "x", 1, PERMS_RW, NULL),
                     APR_EINVAL);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "n", NULL, 1, PERMS_RW, NULL),
                     APR_EINVAL);
    assert_dir_holds(fx.p, fx.dir, 0);
}

static void test_missing_dir(void **state)
{
    fixture_t fx = fixture(state);
    const char *missing = apr_pstrcat(fx.p, fx.dir, "/no/such", NULL);
    const char *path = "unset";
    apr_status_t rv;

    rv = rp_file_write_unique(fx.p, missing, "x.prof", "x", 1, PERMS_RW, &path);
    assert_true(APR_STATUS_IS_ENOENT(rv));
    assert_null(path);
    assert_false(exists(fx.p, missing));
    assert_dir_holds(fx.p, fx.dir, 0);
}

/* ---- injected faults ---- */

/* Which step fails, with what, and after how many calls of that step. */
static const char *fault_step;
static apr_status_t fault_rv;
static int fault_skip;
static int fault_calls;

static apr_status_t inject(const char *step)
{
    if (fault_step == NULL || strcmp(step, fault_step) != 0)
        return APR_SUCCESS;
    fault_calls++;
    if (fault_skip > 0) {
        fault_skip--;
        return APR_SUCCESS;
    }
    return fault_rv;
}

static void set_fault(const char *step, int err, int skip)
{
    fault_step = step;
    fault_rv = APR_FROM_OS_ERROR(err);
    fault_skip = skip;
    fault_calls = 0;
    rp_file_set_fault(inject);
}

static void test_faults_leave_nothing(void **state)
{
    fixture_t fx = fixture(state);
    static const char *const steps[] = { "open", "write", "link" };
    static const int errs[] = { ENOSPC, EACCES, EIO, ENAMETOOLONG };
    const char *final = apr_pstrcat(fx.p, fx.dir, "/f.prof", NULL);
    size_t s, e;

    for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        for (e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
            const char *path = "unset";
            set_fault(steps[s], errs[e], 0);
            assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "f.prof", "data",
                                                  4, PERMS_RW, &path),
                             APR_FROM_OS_ERROR(errs[e]));
            assert_int_equal(fault_calls, 1);
            assert_null(path);
            /* no partial file under the final name, no temporary left */
            assert_false(exists(fx.p, final));
            assert_dir_holds(fx.p, fx.dir, 0);
        }
    }
    /* and once the fault is gone the same call works */
    rp_file_set_fault(NULL);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "f.prof", "data", 4,
                                          PERMS_RW, NULL), APR_SUCCESS);
    assert_content(fx.p, final, "data");
    assert_dir_holds(fx.p, fx.dir, 1);
}

/* A fault on a later candidate's link keeps the earlier files intact. */
static void test_fault_after_collision(void **state)
{
    fixture_t fx = fixture(state);
    const char *path;

    apr_file_t *f;
    apr_size_t n = 5;

    /* written by someone else: this process has no hint for the name */
    assert_int_equal(apr_file_open(&f, apr_pstrcat(fx.p, fx.dir, "/c.prof", NULL),
                                   APR_FOPEN_CREATE | APR_FOPEN_EXCL | APR_FOPEN_WRITE,
                                   PERMS_RW, fx.p), APR_SUCCESS);
    assert_int_equal(apr_file_write(f, "first", &n), APR_SUCCESS);
    apr_file_close(f);
    set_fault("link", ENOSPC, 1);       /* "c.prof" taken, "c-1.prof" fails */
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "c.prof", "second", 6,
                                          PERMS_RW, &path), APR_FROM_OS_ERROR(ENOSPC));
    assert_int_equal(fault_calls, 2);
    assert_content(fx.p, apr_pstrcat(fx.p, fx.dir, "/c.prof", NULL), "first");
    assert_false(exists(fx.p, apr_pstrcat(fx.p, fx.dir, "/c-1.prof", NULL)));
    assert_dir_holds(fx.p, fx.dir, 1);
}

/* Many files of one name (every request of one second under Werkzeug's
 * format): the next free name is found with a handful of link() calls,
 * not one per file already there. */
static void test_many_collisions_few_links(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;
    int k;

    for (k = 0; k < 300; k++)
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "m.prof", "m", 1,
                                              PERMS_RW, NULL), APR_SUCCESS);
    set_fault("link", EIO, 1000000);     /* counts link steps, never fails */
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "m.prof", "m", 1,
                                          PERMS_RW, &path), APR_SUCCESS);
    rp_file_set_fault(NULL);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/m-300.prof", NULL));
    assert_true(fault_calls <= 9);
    assert_dir_holds(fx.p, fx.dir, 301);
    /* A gap (a file deleted) is filled by link()'s EEXIST walk, never
     * overwritten: with m-3 gone the search may land on it or after. */
    assert_int_equal(apr_file_remove(apr_pstrcat(fx.p, fx.dir, "/m-3.prof", NULL), fx.p),
                     APR_SUCCESS);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "m.prof", "n", 1,
                                          PERMS_RW, &path), APR_SUCCESS);
    assert_dir_holds(fx.p, fx.dir, 301);
    assert_content(fx.p, path, "n");
}

/* link() saying EEXIST moves on to the next name. */
static void test_link_eexist_moves_on(void **state)
{
    fixture_t fx = fixture(state);
    const char *path;

    set_fault("link", EEXIST, 0);
    /* every candidate "exists": gives up after its tries, leaves nothing */
    assert_true(APR_STATUS_IS_EEXIST(rp_file_write_unique(fx.p, fx.dir, "t.prof",
                                                          "t", 1, PERMS_RW, &path)));
    assert_int_equal(fault_calls, 10000);
    assert_dir_holds(fx.p, fx.dir, 0);
}

/* Filesystems without hard links: link() fails with EXDEV, EPERM or
 * ENOTSUP and the rename fallback still never overwrites. */
static void test_no_hardlink_fallback(void **state)
{
    fixture_t fx = fixture(state);
    static const int errs[] = { EXDEV, EPERM, ENOTSUP };
    size_t e;
    int i;

    for (e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
        const char *name = apr_psprintf(fx.p, "h%d.prof", (int)e);
        const char *stem = apr_psprintf(fx.p, "%s/h%d", fx.dir, (int)e);
        set_fault("link", errs[e], 0);
        for (i = 0; i < 3; i++) {
            const char *path = NULL;
            const char *body = apr_psprintf(fx.p, "fallback %d", i);
            assert_int_equal(rp_file_write_unique(fx.p, fx.dir, name, body,
                                                  strlen(body), PERMS_RW_R, &path),
                             APR_SUCCESS);
            assert_string_equal(path, i == 0
                                ? apr_pstrcat(fx.p, stem, ".prof", NULL)
                                : apr_psprintf(fx.p, "%s-%d.prof", stem, i));
            assert_content(fx.p, path, body);
        }
        /* link is given up at the first candidate: one call per write */
        assert_int_equal(fault_calls, 3);
    }
    assert_dir_holds(fx.p, fx.dir, 9);
}

/* ---- the unnamed temporary (O_TMPFILE) ---- */

/* Whether dir's filesystem makes unnamed files (tmpfs, ext4, xfs, btrfs
 * do; overlayfs before Linux 6.6 and NFS do not). */
static int tmpfile_supported(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
#else
    (void)dir;
    return 0;
#endif
}

static apr_pool_t *seen_pool;
static const char *seen_dir;
static int names_at_link;

/* Counts what the directory holds when the first link is made. */
static apr_status_t watch_link(const char *step)
{
    int tmps;
    if (strcmp(step, "link") == 0 && names_at_link < 0)
        names_at_link = count_files(seen_pool, seen_dir, &tmps);
    return APR_SUCCESS;
}

/* Where the filesystem allows it the data is never under any name before
 * its final one: no hidden temporary to create, look up and unlink (make
 * bench found those three directory operations to be most of what a
 * .prof costs a small request on tmpfs). */
static void test_unnamed_temporary(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;
    apr_finfo_t fi;

    if (!tmpfile_supported(fx.dir)) {
        fprintf(stderr, "%s: no O_TMPFILE here, the fallback is tested instead\n",
                fx.dir);
        skip();
    }
    seen_pool = fx.p;
    seen_dir = fx.dir;
    names_at_link = -1;
    rp_file_set_fault(watch_link);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "u.prof", "unnamed", 7,
                                          PERMS_RW_R, &path), APR_SUCCESS);
    assert_int_equal(names_at_link, 0);
    assert_content(fx.p, path, "unnamed");
    assert_int_equal(apr_stat(&fi, path, APR_FINFO_PROT, fx.p), APR_SUCCESS);
    assert_int_equal(fi.protection, PERMS_RW_R);
    /* a second file of the name, while the first is there */
    names_at_link = -1;
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "u.prof", "second", 6,
                                          PERMS_RW_R, &path), APR_SUCCESS);
    assert_int_equal(names_at_link, 1);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/u-1.prof", NULL));
    assert_dir_holds(fx.p, fx.dir, 2);
}

static int opens;

static apr_status_t no_tmpfile_once(const char *step)
{
    if (strcmp(step, "open") == 0 && opens++ == 0)
        return APR_FROM_OS_ERROR(EOPNOTSUPP);
    return APR_SUCCESS;
}

/* A filesystem without O_TMPFILE: the hidden temporary is used, and left
 * nowhere. */
static void test_no_tmpfile_fallback(void **state)
{
    fixture_t fx = fixture(state);
    const char *path = NULL;

    opens = 0;
    rp_file_set_fault(no_tmpfile_once);
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "n.prof", "named", 5,
                                          PERMS_RW, &path), APR_SUCCESS);
    assert_int_equal(opens, tmpfile_supported(fx.dir) ? 2 : 1);
    assert_content(fx.p, path, "named");
    assert_dir_holds(fx.p, fx.dir, 1);
}

/* ---- hints shared by processes ---- */

static int link_steps;

static apr_status_t count_links(const char *step)
{
    if (strcmp(step, "link") == 0)
        link_steps++;
    return APR_SUCCESS;
}

/* Two processes write one name, strictly taking turns (as two httpd
 * children do under load when every request of a second shares a
 * name). With the hint table in memory they share, each file costs one
 * link(): every writer claims its own candidate. With a table each, every
 * file after the first collided with the other process's last one. */
static void test_processes_share_hints(void **state)
{
    fixture_t fx = fixture(state);
    void *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    int to_child[2], to_parent[2], k, status, child_links = -1;
    const int turns = 40;
    char token = 't';
    pid_t pid;

    assert_true(mem != MAP_FAILED);
    rp_file_share_hints(mem, 4096);
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    link_steps = 0;
    rp_file_set_fault(count_links);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apr_pool_t *cp;
        int ok = 1;
        apr_pool_create(&cp, NULL);
        for (k = 0; k < turns; k++) {
            ok &= read(to_child[0], &token, 1) == 1;
            ok &= rp_file_write_unique(cp, fx.dir, "w.prof", "c", 1, PERMS_RW,
                                       NULL) == APR_SUCCESS;
            ok &= write(to_parent[1], &token, 1) == 1;
        }
        _exit(ok ? (link_steps > 250 ? 250 : link_steps) : 255);
    }
    for (k = 0; k < turns; k++) {
        assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "w.prof", "p", 1,
                                              PERMS_RW, NULL), APR_SUCCESS);
        assert_int_equal(write(to_child[1], &token, 1), 1);
        assert_int_equal(read(to_parent[0], &token, 1), 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    child_links = WEXITSTATUS(status);
    rp_file_set_fault(NULL);
    rp_file_share_hints(NULL, 0);
    munmap(mem, 4096);
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    assert_int_equal(link_steps, turns);
    assert_int_equal(child_links, turns);
    assert_dir_holds(fx.p, fx.dir, 2 * turns);
    assert_true(exists(fx.p, apr_psprintf(fx.p, "%s/w-%d.prof", fx.dir, 2 * turns - 1)));
}

/* ---- concurrency ---- */

#define N_THREADS 8
#define N_WRITES 50

typedef struct worker {
    const char *dir;
    int id;
    apr_status_t rv;
} worker_t;

static void *APR_THREAD_FUNC writer(apr_thread_t *t, void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;
    int i;

    w->rv = apr_pool_create(&p, NULL);  /* pools are not shared by threads */
    for (i = 0; w->rv == APR_SUCCESS && i < N_WRITES; i++) {
        char body[32];
        snprintf(body, sizeof(body), "t%02d w%02d", w->id, i);
        w->rv = rp_file_write_unique(p, w->dir, "same.prof", body, strlen(body),
                                     PERMS_RW, NULL);
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    /* Plain return, not apr_thread_exit(): pthread_exit's unwinding
     * leaves stale stack poisoning that ASan then trips over. */
    (void)t;
    return NULL;
}

static void test_threads_same_name(void **state)
{
    fixture_t fx = fixture(state);
    apr_thread_t *th[N_THREADS];
    worker_t w[N_THREADS];
    unsigned char seen[N_THREADS][N_WRITES];
    int i, tmps;

    memset(seen, 0, sizeof(seen));
    for (i = 0; i < N_THREADS; i++) {
        w[i].dir = fx.dir;
        w[i].id = i;
        w[i].rv = APR_EGENERAL;
        assert_int_equal(apr_thread_create(&th[i], NULL, writer, &w[i], fx.p),
                         APR_SUCCESS);
    }
    for (i = 0; i < N_THREADS; i++) {
        apr_status_t trv;
        assert_int_equal(apr_thread_join(&trv, th[i]), APR_SUCCESS);
        assert_int_equal(w[i].rv, APR_SUCCESS);
    }
    assert_int_equal(count_files(fx.p, fx.dir, &tmps), N_THREADS * N_WRITES);
    assert_int_equal(tmps, 0);

    /* Every write landed in its own file: same.prof, same-1 ... same-399,
     * each holding a distinct body. */
    for (i = 0; i < N_THREADS * N_WRITES; i++) {
        const char *path = i == 0
            ? apr_pstrcat(fx.p, fx.dir, "/same.prof", NULL)
            : apr_psprintf(fx.p, "%s/same-%d.prof", fx.dir, i);
        apr_size_t n;
        const char *got = read_all(fx.p, path, &n);
        int t = -1, k = -1;
        assert_int_equal(sscanf(got, "t%d w%d", &t, &k), 2);
        assert_true(t >= 0 && t < N_THREADS && k >= 0 && k < N_WRITES);
        assert_int_equal(seen[t][k], 0);
        seen[t][k] = 1;
    }
}

/* ---- a directory opened once (rp_dir_t) ---- */

/* Names, contents and faults as rp_file_write_unique, by descriptor. */
static void test_dir_writes_like_unique(void **state)
{
    fixture_t fx = fixture(state);
    rp_dir_t *d = rp_dir_make(fx.p, fx.dir);
    const char *path = NULL;
    int i;

    assert_string_equal(rp_dir_path(d), fx.dir);
    for (i = 0; i < 3; i++) {
        char body[16];
        snprintf(body, sizeof body, "body %d", i);
        assert_int_equal(rp_file_write_in(fx.p, d, "y.prof", body, strlen(body),
                                          PERMS_RW_R, &path), APR_SUCCESS);
        assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/",
                                              i == 0 ? "y.prof"
                                              : apr_psprintf(fx.p, "y-%d.prof", i),
                                              NULL));
        assert_content(fx.p, path, body);
    }
    /* a file that is already there keeps its content */
    assert_int_equal(rp_file_write_unique(fx.p, fx.dir, "z.prof", "old", 3,
                                          PERMS_RW, NULL), APR_SUCCESS);
    assert_int_equal(rp_file_write_in(fx.p, d, "z.prof", "new", 3, PERMS_RW, &path),
                     APR_SUCCESS);
    assert_string_equal(path, apr_pstrcat(fx.p, fx.dir, "/z-1.prof", NULL));
    assert_content(fx.p, apr_pstrcat(fx.p, fx.dir, "/z.prof", NULL), "old");
    /* injected faults leave nothing behind */
    set_fault("write", ENOSPC, 0);
    assert_int_equal(rp_file_write_in(fx.p, d, "f.prof", "x", 1, PERMS_RW, &path),
                     APR_FROM_OS_ERROR(ENOSPC));
    assert_null(path);
    rp_file_set_fault(NULL);
    assert_dir_holds(fx.p, fx.dir, 5);
}

/* The directory removed: the write fails with ENOENT, nothing is made
 * anywhere; made again under its path: files go there again. */
static void test_dir_removed_and_made_again(void **state)
{
    fixture_t fx = fixture(state);
    apr_pool_t *gen;
    rp_dir_t *d;
    const char *path = NULL;
    apr_status_t rv;

    apr_pool_create(&gen, fx.p);
    d = rp_dir_make(gen, fx.dir);
    assert_int_equal(rp_file_write_in(gen, d, "a.prof", "1", 1, PERMS_RW, &path),
                     APR_SUCCESS);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(fx.dir), 0);
    rv = rp_file_write_in(gen, d, "a.prof", "2", 1, PERMS_RW, &path);
    assert_true(APR_STATUS_IS_ENOENT(rv));
    assert_null(path);
    assert_false(exists(fx.p, fx.dir));
    assert_int_equal(mkdir(fx.dir, 0700), 0);
    assert_int_equal(rp_file_write_in(gen, d, "a.prof", "3", 1, PERMS_RW, &path),
                     APR_SUCCESS);
    /* (a-1.prof: the name counter does not go back to a deleted name) */
    assert_int_equal(strncmp(path, fx.dir, strlen(fx.dir)), 0);
    assert_content(fx.p, path, "3");
    assert_dir_holds(fx.p, fx.dir, 1);
    apr_pool_destroy(gen);          /* closes the descriptor */
}

/* A directory that never existed: ENOENT, and it works once made. */
static void test_dir_missing_at_first(void **state)
{
    fixture_t fx = fixture(state);
    const char *sub = apr_pstrcat(fx.p, fx.dir, "/later", NULL);
    rp_dir_t *d = rp_dir_make(fx.p, sub);
    const char *path = "unset";

    assert_true(APR_STATUS_IS_ENOENT(rp_file_write_in(fx.p, d, "b.prof", "x", 1,
                                                      PERMS_RW, &path)));
    assert_null(path);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(rp_file_write_in(fx.p, d, "b.prof", "x", 1, PERMS_RW, &path),
                     APR_SUCCESS);
    assert_content(fx.p, path, "x");
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(sub), 0);
}

int main(void);

static const struct CMUnitTest group[] = {
    RP_DIR_TEST(test_write_read_back),
    RP_DIR_TEST(test_mode_ignores_umask),
    RP_DIR_TEST(test_binary_and_empty),
    RP_DIR_TEST(test_big_write),
    RP_DIR_TEST(test_same_name_five_times),
    RP_DIR_TEST(test_suffix_placement),
    RP_DIR_TEST(test_dir_trailing_slash),
    RP_DIR_TEST(test_never_overwrites),
    RP_DIR_TEST(test_bad_names),
    RP_DIR_TEST(test_missing_dir),
    RP_DIR_TEST(test_faults_leave_nothing),
    RP_DIR_TEST(test_fault_after_collision),
    RP_DIR_TEST(test_link_eexist_moves_on),
    RP_DIR_TEST(test_many_collisions_few_links),
    RP_DIR_TEST(test_no_hardlink_fallback),
    RP_DIR_TEST(test_unnamed_temporary),
    RP_DIR_TEST(test_no_tmpfile_fallback),
    RP_DIR_TEST(test_processes_share_hints),
    RP_DIR_TEST(test_threads_same_name),
    RP_DIR_TEST(test_dir_writes_like_unique),
    RP_DIR_TEST(test_dir_removed_and_made_again),
    RP_DIR_TEST(test_dir_missing_at_first),
};

RP_TEST_MAIN(group)
