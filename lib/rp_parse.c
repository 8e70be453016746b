/*
 * rp_parse.c - durations, sizes, rates and counts for the production
 * directives. Hand-written scanners rather than strtod: they accept only
 * plain decimal text (no exponents, hex, "inf", "nan", signs or blanks),
 * so what an administrator sees is exactly what is used.
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_parse.h"

#define MAX_DIGITS 15       /* decimals: exact in a double and in int64 */
#define TOO_LONG   ((apr_size_t)-1)
#define MAX_BYTES  ((apr_uint64_t)1 << 50)

/* Digits[.digits] at s: the value as an integer mantissa and the number of
 * fraction digits. Returns the length scanned; 0 when there is no number,
 * TOO_LONG when it has more than MAX_DIGITS digits. */
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
                return TOO_LONG;
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
    apr_int64_t mant, scale, div, whole, part, v;
    int frac;
    apr_size_t n = scan_decimal(s, &mant, &frac);
    const char *unit;

    if (n == TOO_LONG)
        return "more than 15 digits";
    if (!n)
        return "not a number followed by us, ms or s";
    unit = s + n;
    if (!*unit || !strcmp(unit, "s"))
        scale = 1000000;
    else if (!strcmp(unit, "ms"))
        scale = 1000;
    else if (!strcmp(unit, "us"))
        scale = 1;
    else
        return apr_psprintf(p, "unknown unit '%s' (use us, ms or s)", unit);
    div = pow10i(frac);
    whole = mant / div;
    part = mant % div;              /* the fraction: part / div units */
    if (whole > 3600 * (1000000 / scale))
        return "longer than one hour";
    /* The fraction in microseconds, rounded half up, in integers: both
     * scale and div are powers of ten. (Through a double, part * scale
     * can be inexact and a tie round down.) */
    if (div <= scale)
        v = whole * scale + part * (scale / div);
    else {
        apr_int64_t q = div / scale;
        v = whole * scale + part / q + ((part % q) * 2 >= q);
    }
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

    /* Any number of digits; past the largest size v stops growing. */
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (apr_uint64_t)(s[i] - '0');
        if (v > MAX_BYTES)
            v = MAX_BYTES + 1;
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
    if (v > (MAX_BYTES >> shift))
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
    if (n == TOO_LONG)
        return "more than 15 digits";
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
    apr_uint64_t v = 0;
    apr_size_t i;
    int big = 0;

    /* Any number of digits (leading zeros too); past 2^63 v stops growing
     * and the count is too big for any max. */
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9')
            return "not a whole number";
        if (v > ((apr_uint64_t)1 << 63) / 10)
            big = 1;
        else
            v = v * 10 + (apr_uint64_t)(s[i] - '0');
    }
    if (i == 0)
        return "not a whole number";
    if (min > 0 && !big && v < (apr_uint64_t)min)
        return apr_psprintf(p, "less than %ld", min);
    if (big || max < 0 || v > (apr_uint64_t)max)
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
