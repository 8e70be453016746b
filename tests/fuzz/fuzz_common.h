/*
 * fuzz_common.h - shared by the libFuzzer harnesses of lib/ (one harness
 * per tests/fuzz/fuzz_NAME.c; the Makefile builds each with
 * -fsanitize=fuzzer,address,undefined and seeds it from corpus/NAME/).
 *
 * Each harness includes this once. It gives:
 *   - APR set up once, and a fresh pool per input (fuzz_pool/fuzz_done);
 *   - apr_palloc() calls made by lib/ turned into one malloc() each (the
 *     Makefile links with -Wl,--wrap=apr_palloc), freed when the pool is
 *     cleared or destroyed. A pool otherwise hands out slices of big blocks,
 *     where AddressSanitizer cannot see an overflow; this way every pool
 *     allocation lib/ makes has its own redzones. (Strings APR allocates
 *     for itself - apr_pstrdup, apr_psprintf - still come from blocks.)
 *   - FUZZ_CHECK(cond, ...): abort with a message, which libFuzzer reports
 *     as a crash and saves as a reproducer.
 *   - a byte reader (fuzz_in_t) to carve an input into typed values.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size);
void *__real_apr_palloc(apr_pool_t *p, apr_size_t size);

#define FUZZ_CHECK(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s: ", __FILE__, \
                    __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

static apr_pool_t *fuzz_root;

static apr_status_t fuzz_free(void *ptr)
{
    free(ptr);
    return APR_SUCCESS;
}

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size)
{
    void *m = malloc(size ? size : 1);

    if (m == NULL)
        abort();
    apr_pool_cleanup_register(p, m, fuzz_free, apr_pool_cleanup_null);
    return m;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS)
        abort();
    return 0;
}

static __attribute__((unused)) apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p = NULL;

    if (apr_pool_create(&p, fuzz_root) != APR_SUCCESS)
        abort();
    return p;
}

static __attribute__((unused)) void fuzz_done(apr_pool_t *p)
{
    apr_pool_destroy(p);
}

/* Carves an input into values; reads past the end yield zeros/empty. */
typedef struct fuzz_in {
    const uint8_t *d;
    size_t n;
} fuzz_in_t;

static __attribute__((unused)) unsigned fuzz_byte(fuzz_in_t *in)
{
    unsigned b;

    if (in->n == 0)
        return 0;
    b = in->d[0];
    in->d++;
    in->n--;
    return b;
}

static __attribute__((unused)) uint64_t fuzz_u64(fuzz_in_t *in)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | fuzz_byte(in);
    return v;
}

static __attribute__((unused)) double fuzz_double(fuzz_in_t *in)
{
    uint64_t bits = fuzz_u64(in);
    double d;

    memcpy(&d, &bits, sizeof d);
    return d;
}

/* The next NUL-terminated piece (or the rest), as an exactly sized malloc'd
 * C string registered on p, so reading past its end is caught. */
static __attribute__((unused)) char *fuzz_str(fuzz_in_t *in, apr_pool_t *p)
{
    size_t len = 0;
    char *s;

    while (len < in->n && in->d[len] != 0)
        len++;
    s = __wrap_apr_palloc(p, len + 1);
    memcpy(s, in->d, len);
    s[len] = '\0';
    in->d += len < in->n ? len + 1 : len;
    in->n -= len < in->n ? len + 1 : len;
    return s;
}

/* Strict UTF-8 check (no overlongs, surrogates or code points past
 * U+10FFFF), what Python's marshal accepts for a 'u' string. */
static __attribute__((unused)) int fuzz_valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], lo = 0x80, hi = 0xBF;
        size_t k, len;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        }
        else
            return 0;
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            unsigned b = s[i + k];
            if (b < lo || b > hi)
                return 0;
            lo = 0x80;
            hi = 0xBF;
        }
        i += len;
    }
    return 1;
}

#endif
