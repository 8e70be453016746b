/*
 * rp_parse.c - durations, sizes, rates and counts for the production
 * directives. Hand-written scanners rather than strtod: they accept only
 * plain decimal text (no exponents, hex, "inf", "nan", signs or blanks),
 * so what an administrator sees is exactly what is used.
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_parse.h"

#define MAX_DIGITS 15       /* exact in a double and in int64 */

/* Digits[.digits] at s: the value as an integer mantissa and the number of
 * fraction digits. Returns the length scanned, 0 when there is no number
 * or too many digits. */
static apr_size_t scan_decimal(const char *s, apr_int64_t *mant, int *frac)
{
    apr_size_t i = 0;
    int ndig = 0, dot = 0;
    *mant = 0;
    *frac = 0;
    for (;; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++ndig > MAX_DIGITS)
                return 0;
            *mant = *mant * 10 + (c - '0');
            if (dot)
                (*frac)++;
        }
        else if (c == '.' && !dot)
            dot = 1;
        else
            break;
    }
    return ndig ? i : 0;
}

static apr_int64_t pow10i(int n)
{
    apr_int64_t r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

const char *rp_parse_duration(apr_pool_t *p, const char *s, apr_int64_t *usec)
{
    apr_int64_t mant, scale, div, v;
    int frac;
    apr_size_t n = scan_decimal(s, &mant, &frac);
    const char *unit = s + n;

    if (!n)
        return "not a number followed by us, ms or s";
    if (!*unit || !strcmp(unit, "s"))
        scale = 1000000;
    else if (!strcmp(unit, "ms"))
        scale = 1000;
    else if (!strcmp(unit, "us"))
        scale = 1;
    else
        return apr_psprintf(p, "unknown unit '%s' (use us, ms or s)", unit);
    /* Whole units exactly; the fraction (< 1 unit, so < 10^6 us) through a
     * double, exact enough for rounding to a microsecond. */
    div = pow10i(frac);
    if (mant / div > 3600 * (1000000 / scale))
        return "longer than one hour";
    v = (mant / div) * scale
        + (apr_int64_t)((double)(mant % div) * (double)scale / (double)div + 0.5);
    if (v > (apr_int64_t)3600 * 1000000)
        return "longer than one hour";
    *usec = v;
    return NULL;
}

const char *rp_parse_size(apr_pool_t *p, const char *s, apr_uint64_t *bytes)
{
    apr_uint64_t v = 0;
    apr_size_t i = 0;
    int shift = 0;
    const char *suf;

    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (i >= MAX_DIGITS)
            return "too large";
        v = v * 10 + (apr_uint64_t)(s[i] - '0');
    }
    if (i == 0)
        return "not a number of bytes (digits, then K, M, G or T)";
    suf = s + i;
    switch (*suf) {
    case 'k': case 'K': shift = 10; suf++; break;
    case 'm': case 'M': shift = 20; suf++; break;
    case 'g': case 'G': shift = 30; suf++; break;
    case 't': case 'T': shift = 40; suf++; break;
    default: break;
    }
    if (*suf == 'b' || *suf == 'B')
        suf++;
    if (*suf)
        return apr_psprintf(p, "unknown suffix '%s' (use K, M, G or T)", s + i);
    if (v == 0)
        return "must be at least 1 byte";
    if (v > ((apr_uint64_t)1 << (50 - shift)))
        return "larger than 1024T";
    *bytes = v << shift;
    return NULL;
}

const char *rp_parse_rate(apr_pool_t *p, const char *s, double *rate)
{
    apr_int64_t mant;
    int frac;
    apr_size_t n = scan_decimal(s, &mant, &frac);
    double v;

    (void)p;
    if (!n)
        return "not a fraction (0.01) or a percentage (1%)";
    v = (double)mant / (double)pow10i(frac);
    if (!strcmp(s + n, "%"))
        v /= 100.0;
    else if (s[n])
        return "not a fraction (0.01) or a percentage (1%)";
    if (v > 1.0)
        return "more than 1 (100%)";
    *rate = v;
    return NULL;
}

const char *rp_parse_count(apr_pool_t *p, const char *s, long min, long max,
                           long *out)
{
    apr_int64_t v = 0;
    apr_size_t i;

    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "not a whole number";
        if (i >= MAX_DIGITS)
            return apr_psprintf(p, "more than %ld", max);
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0)
        return "not a whole number";
    if (v < min)
        return apr_psprintf(p, "less than %ld", min);
    if (v > max)
        return apr_psprintf(p, "more than %ld", max);
    *out = (long)v;
    return NULL;
}

apr_uint64_t rp_rate_threshold(double rate)
{
    if (!(rate > 0.0))
        return 0;
    if (rate >= 1.0)
        return (apr_uint64_t)1 << 32;
    /* ldexp without libm: 2^32 exactly representable. */
    return (apr_uint64_t)(rate * 4294967296.0 + 0.5);
}
