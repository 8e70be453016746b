/* Unit tests for rp_retain, the lock-free ring behind ProfileMaxFiles and
 * ProfileMaxDirSize: limits by count and by bytes, what is removed and in
 * which order, names too long, a ring left full, the startup fill, 8
 * threads adding at once (every file removed at most once, the survivors
 * the newest, counts exact); a stress pair: 60000 random adds, limit
 * changes and refusals against a model queue (every removal, count and
 * byte total checked after each step), and 4 threads adding files of
 * random sizes under both limits. */
#include "rp_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <apr_atomic.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include "rp_retain.h"

/* The removals a test saw, in order. */
typedef struct removed {
    int n;
    char names[64][RP_RETAIN_NAME_CAP];
} removed_t;

static void note_removed(void *ctx, const char *name)
{
    removed_t *rm = ctx;
    if (rm->n < 64)
        apr_cpystrn(rm->names[rm->n], name, RP_RETAIN_NAME_CAP);
    rm->n++;
}

static rp_retain_ring_t *ring(apr_pool_t *p, apr_uint32_t slots, apr_uint32_t files,
                              apr_uint64_t bytes)
{
    return rp_retain_ring_init(apr_palloc(p, rp_retain_ring_bytes(slots)), slots,
                               files, bytes);
}

static void test_file_limit_removes_oldest_first(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(3), 3, 0);
    removed_t rm = { 0 };
    char name[32];
    int i;
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "f%d.prof", i);
        assert_true(rp_retain_add(rg, name, 10, note_removed, &rm));
    }
    assert_int_equal(rm.n, 2);
    assert_string_equal(rm.names[0], "f0.prof");
    assert_string_equal(rm.names[1], "f1.prof");
    assert_int_equal(rp_retain_count(rg), 3);
    assert_int_equal(rp_retain_bytes(rg), 30);
}

static void test_byte_limit(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(0), 0, 100);
    removed_t rm = { 0 };
    assert_true(rp_retain_add(rg, "a.prof", 60, note_removed, &rm));
    assert_true(rp_retain_add(rg, "b.prof", 40, note_removed, &rm));
    assert_int_equal(rm.n, 0);                  /* exactly at the limit */
    assert_true(rp_retain_add(rg, "c.prof", 1, note_removed, &rm));
    assert_int_equal(rm.n, 1);
    assert_string_equal(rm.names[0], "a.prof");
    assert_int_equal(rp_retain_bytes(rg), 41);
    /* a file larger than the limit on its own goes at once, with all others */
    assert_true(rp_retain_add(rg, "huge.prof", 500, note_removed, &rm));
    assert_int_equal(rm.n, 4);
    assert_string_equal(rm.names[3], "huge.prof");
    assert_int_equal(rp_retain_count(rg), 0);
    assert_int_equal(rp_retain_bytes(rg), 0);
}

static void test_size_only_ring_caps_files(void **state)
{
    (void)state;
    assert_int_equal(rp_retain_slots_for(0), RP_RETAIN_SIZE_ONLY_FILES + RP_RETAIN_SLACK);
    assert_int_equal(rp_retain_slots_for(10), 10 + RP_RETAIN_SLACK);
}

static void test_long_name_is_not_recorded(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(2), 2, 0);
    removed_t rm = { 0 };
    char *name = apr_palloc(*state, RP_RETAIN_NAME_CAP + 1);
    memset(name, 'x', RP_RETAIN_NAME_CAP);
    name[RP_RETAIN_NAME_CAP] = '\0';
    assert_false(rp_retain_add(rg, name, 1, note_removed, &rm));
    name[RP_RETAIN_NAME_CAP - 1] = '\0';        /* 255 bytes: fits */
    assert_true(rp_retain_add(rg, name, 1, note_removed, &rm));
    assert_int_equal(rp_retain_count(rg), 1);
    assert_int_equal(rm.n, 0);
}

static void test_limits_change_applies_on_next_add(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(10), 10, 0);
    removed_t rm = { 0 };
    char name[32];
    int i;
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "f%d.json", i);
        rp_retain_add(rg, name, 1, note_removed, &rm);
    }
    rp_retain_set_limits(rg, 4, 0);
    rp_retain_add(rg, "last.json", 1, note_removed, &rm);
    assert_int_equal(rp_retain_count(rg), 4);
    assert_int_equal(rm.n, 5);
    assert_string_equal(rm.names[4], "f4.json");
}

static void test_profile_names(void **state)
{
    (void)state;
    assert_true(rp_retain_is_profile_name("GET.root.1ms.1.prof"));
    assert_true(rp_retain_is_profile_name("x.callgrind"));
    assert_true(rp_retain_is_profile_name("x.json"));
    assert_true(rp_retain_is_profile_name("x.folded"));
    assert_true(rp_retain_is_profile_name("x.pb.gz"));
    assert_false(rp_retain_is_profile_name(".x.prof.rsv"));
    assert_false(rp_retain_is_profile_name(".rp-12-3.tmp"));
    assert_false(rp_retain_is_profile_name(".hidden.prof"));
    assert_false(rp_retain_is_profile_name(".prof"));
    assert_false(rp_retain_is_profile_name("prof"));
    assert_false(rp_retain_is_profile_name("notes.txt"));
    assert_false(rp_retain_is_profile_name("x.gz"));
}

static void test_fill_sorts_oldest_first_and_applies_limits(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(2), 2, 0);
    removed_t rm = { 0 };
    rp_retain_found_t found[4] = {
        { "c.prof", 300, 1 }, { "a.prof", 100, 1 }, { "b2.prof", 200, 1 },
        { "b1.prof", 200, 1 },
    };
    rp_retain_fill(rg, found, 4, note_removed, &rm);
    assert_int_equal(rm.n, 2);
    assert_string_equal(rm.names[0], "a.prof");
    assert_string_equal(rm.names[1], "b1.prof");     /* same mtime: by name */
    assert_int_equal(rp_retain_count(rg), 2);
}

/* ---- many threads at once ---- */

#define THREADS 8
#define PER_THREAD 4000
#define LIMIT 50

static volatile apr_uint32_t removed_times[THREADS * PER_THREAD];

static void count_removed(void *ctx, const char *name)
{
    int id = atoi(name);
    (void)ctx;
    if (id >= 0 && id < THREADS * PER_THREAD)
        apr_atomic_inc32(&removed_times[id]);
}

typedef struct adder {
    rp_retain_ring_t *rg;
    int first, count;                   /* files first .. first + count - 1 */
    apr_uint64_t (*size)(int id);       /* each file's bytes */
    int failed;
} adder_t;

static apr_uint64_t three_bytes(int id)
{
    (void)id;
    return 3;
}

static void *APR_THREAD_FUNC add_many(apr_thread_t *t, void *data)
{
    adder_t *a = data;
    char name[32];
    int i;
    for (i = 0; i < a->count; i++) {
        snprintf(name, sizeof name, "%d.prof", a->first + i);
        if (!rp_retain_add(a->rg, name, a->size(a->first + i), count_removed, NULL))
            a->failed++;
    }
    (void)t;
    return NULL;
}

/* n threads, thread i adding files i * per .. (i + 1) * per - 1 of
 * size(id) bytes (removed_times cleared first); returns the adds that
 * failed. */
static int run_adders(apr_pool_t *p, rp_retain_ring_t *rg, apr_uint64_t (*size)(int),
                      int n, int per, adder_t *ad)
{
    apr_thread_t *th[THREADS];
    apr_status_t rv;
    int i, failed = 0;

    for (i = 0; i < n * per; i++)
        removed_times[i] = 0;
    for (i = 0; i < n; i++) {
        ad[i].rg = rg;
        ad[i].first = i * per;
        ad[i].count = per;
        ad[i].size = size;
        ad[i].failed = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, add_many, &ad[i], p),
                         APR_SUCCESS);
    }
    for (i = 0; i < n; i++) {
        apr_thread_join(&rv, th[i]);
        failed += ad[i].failed;
    }
    return failed;
}

static void test_threads_remove_each_file_at_most_once(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(LIMIT), LIMIT, 0);
    adder_t ad[THREADS];
    int i, removed = 0, twice = 0;
    int failed = run_adders(*state, rg, three_bytes, THREADS, PER_THREAD, ad);

    for (i = 0; i < THREADS * PER_THREAD; i++) {
        removed += removed_times[i] > 0;
        twice += removed_times[i] > 1;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(twice, 0);
    /* at rest: exactly the limit, and every other file removed */
    assert_int_equal(rp_retain_count(rg), LIMIT);
    assert_int_equal(removed, THREADS * PER_THREAD - LIMIT);
    assert_int_equal(rp_retain_bytes(rg), 3 * LIMIT);
    /* each thread's last file is newer than all it removed: it survives
     * unless later files of other threads pushed it out; the newest file
     * of all threads together is never removed by its own add */
    for (i = 0; i < THREADS; i++)
        if (removed_times[ad[i].first + PER_THREAD - 1] == 0)
            break;
    assert_true(i < THREADS);
}

/* ---- a long random sequence against a model ---- */

/* The model: the files recorded, oldest first, as a plain array queue. */
#define MODEL_CAP 4096
typedef struct model {
    char names[MODEL_CAP][32];
    apr_uint64_t sizes[MODEL_CAP];
    int head, n;
    apr_uint64_t bytes;
    /* what the ring removed and the model expected, in order */
    int removed, mismatches;
} model_t;

static void model_pop(model_t *m)
{
    m->bytes -= m->sizes[m->head % MODEL_CAP];
    m->head++;
    m->n--;
}

static void check_removed(void *ctx, const char *name)
{
    model_t *m = ctx;
    /* m->removed walks the model's queue from where it stood before the
     * add: the ring must remove exactly those files, in that order */
    if (strcmp(name, m->names[m->removed % MODEL_CAP]) != 0)
        m->mismatches++;
    m->removed++;
}

/* Add to the model as rp_retain_add does: when the ring is full, the
 * oldest go first; then the oldest while a limit is exceeded (the new
 * file too, when it alone is over the byte limit). */
static void model_add(model_t *m, apr_uint32_t cap, apr_uint32_t file_limit,
                      apr_uint64_t max_bytes, const char *name, apr_uint64_t size)
{
    int at;
    while ((apr_uint32_t)m->n >= cap)
        model_pop(m);
    at = (m->head + m->n) % MODEL_CAP;
    apr_cpystrn(m->names[at], name, sizeof m->names[at]);
    m->sizes[at] = size;
    m->n++;
    m->bytes += size;
    while (m->n > 0 && ((apr_uint32_t)m->n > file_limit || (max_bytes && m->bytes > max_bytes)))
        model_pop(m);
}

static void test_random_sequence_matches_model(void **state)
{
    const apr_uint32_t slots = rp_retain_slots_for(40);      /* 296 */
    rp_retain_ring_t *rg = ring(*state, slots, 40, 0);
    static model_t m;
    apr_uint32_t max_files = 40;
    apr_uint64_t max_bytes = 0;
    unsigned seed = 7;
    int op;

    memset(&m, 0, sizeof m);
    for (op = 0; op < 60000; op++) {
        unsigned r = (seed = seed * 1103515245u + 12345u) >> 8;
        if (r % 500 == 0) {
            /* new limits, as a restart sets them: fewer files, more than
             * the ring holds (its slots then bound it), none; bytes or not */
            static const apr_uint32_t files[] = { 1, 5, 40, 0, 400 };
            max_files = files[(r >> 9) % 5];
            max_bytes = (r >> 12) % 3 ? 0 : 1 + (r >> 14) % 5000;
            rp_retain_set_limits(rg, max_files, max_bytes);
        }
        else if (r % 97 == 0) {
            /* a name too long is refused and changes nothing */
            char name[RP_RETAIN_NAME_CAP + 1];
            memset(name, 'x', RP_RETAIN_NAME_CAP);
            name[RP_RETAIN_NAME_CAP] = '\0';
            assert_int_equal(rp_retain_add(rg, name, 1, check_removed, &m), 0);
        }
        else {
            char name[32];
            apr_uint64_t size = (r >> 10) % 700;     /* 0 bytes too */
            apr_uint32_t limit = max_files ? max_files : slots - RP_RETAIN_SLACK;
            snprintf(name, sizeof name, "f%d.prof", op);
            /* the expected victims are the model's oldest, from m.head on */
            m.removed = m.head;
            model_add(&m, slots, limit, max_bytes, name, size);
            assert_int_equal(rp_retain_add(rg, name, size, check_removed, &m), 1);
            assert_int_equal(m.removed, m.head);    /* as many as the model popped */
        }
        assert_int_equal(m.mismatches, 0);
        assert_int_equal(rp_retain_count(rg), m.n);
        assert_true(rp_retain_bytes(rg) == m.bytes);
    }
}

/* ---- threads, random sizes, both limits ---- */

#define BTHREADS 4
#define BPER 3000
#define BFILES 30
#define BBYTES 20000

static apr_uint64_t bsize(int id)
{
    return (apr_uint64_t)((id * 2654435761u) >> 7) % 1500;
}

static void test_threads_both_limits_random_sizes(void **state)
{
    rp_retain_ring_t *rg = ring(*state, rp_retain_slots_for(BFILES), BFILES, BBYTES);
    adder_t ad[BTHREADS];
    apr_uint64_t kept_bytes = 0;
    int i, j, kept = 0;

    assert_int_equal(run_adders(*state, rg, bsize, BTHREADS, BPER, ad), 0);
    for (i = 0; i < BTHREADS; i++) {
        int seen_kept = 0;
        for (j = 0; j < BPER; j++) {
            int id = i * BPER + j;
            assert_true(removed_times[id] <= 1);            /* never twice */
            if (removed_times[id] == 0) {
                seen_kept = 1;
                kept++;
                kept_bytes += bsize(id);
            }
            else
                /* oldest first: once one of a thread's files is kept,
                 * every later one of that thread is kept too */
                assert_false(seen_kept);
        }
    }
    /* the ring's counts are those of the files not removed, within both
     * limits at rest */
    assert_int_equal(rp_retain_count(rg), kept);
    assert_true(rp_retain_bytes(rg) == kept_bytes);
    assert_true(kept <= BFILES);
    assert_true(kept_bytes <= BBYTES);
    assert_true(kept > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        RP_TEST(test_file_limit_removes_oldest_first),
        RP_TEST(test_byte_limit),
        RP_TEST(test_size_only_ring_caps_files),
        RP_TEST(test_long_name_is_not_recorded),
        RP_TEST(test_limits_change_applies_on_next_add),
        RP_TEST(test_profile_names),
        RP_TEST(test_fill_sorts_oldest_first_and_applies_limits),
        RP_TEST(test_threads_remove_each_file_at_most_once),
        RP_TEST(test_random_sequence_matches_model),
        RP_TEST(test_threads_both_limits_random_sizes),
    };
    apr_initialize();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
