/*
 * rp_parse.c - durations, sizes, rates and counts for the production
 * directives, and whole numbers. Hand-written scanners rather than strtod
 * and strtol: they accept only plain decimal text (no exponents, hex,
 * "inf", "nan", '+' or blanks; '-' only before a whole number), so what
 * an administrator sees is exactly what is used.
 */
#include <stdint.h>
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

rp_int_err_t rp_parse_int64(const char *s, apr_int64_t min, apr_int64_t max,
                            apr_int64_t *out)
{
    apr_uint64_t mag = 0;            /* the magnitude, capped past 2^63 */
    const apr_uint64_t cap = (apr_uint64_t)1 << 63;
    apr_int64_t v;
    int neg;
    apr_size_t i;

    if (!s)
        return RP_INT_NOT_NUMBER;
    neg = s[0] == '-';
    for (i = (apr_size_t)neg; s[i] >= '0' && s[i] <= '9'; i++) {
        if (mag > cap / 10)
            mag = cap + 1;          /* beyond any bound, and stays there */
        else if ((mag = mag * 10 + (apr_uint64_t)(s[i] - '0')) > cap)
            mag = cap + 1;
    }
    if (i == (apr_size_t)neg)
        return RP_INT_NOT_NUMBER;
    if (s[i])
        return RP_INT_TRAILING;
    /* Compare in magnitudes first: no signed overflow on the way. */
    if (neg) {
        if (mag > cap)
            return RP_INT_BELOW;
        v = mag == cap ? INT64_MIN : -(apr_int64_t)mag;
    }
    else {
        if (mag >= cap)
            return RP_INT_ABOVE;
        v = (apr_int64_t)mag;
    }
    if (v < min)
        return RP_INT_BELOW;
    if (v > max)
        return RP_INT_ABOVE;
    *out = v;
    return RP_INT_OK;
}

const char *rp_int_err_text(apr_pool_t *p, rp_int_err_t e, const char *s,
                            apr_int64_t min, apr_int64_t max)
{
    const char *rest;
    switch (e) {
    case RP_INT_OK:
        return "a whole number";
    case RP_INT_TRAILING:
        rest = s + (s[0] == '-');
        while (*rest >= '0' && *rest <= '9')
            rest++;
        return apr_psprintf(p, "not a whole number (it goes on with '%.16s')", rest);
    case RP_INT_BELOW:
        return apr_psprintf(p, "less than %" APR_INT64_T_FMT, min);
    case RP_INT_ABOVE:
        return apr_psprintf(p, "more than %" APR_INT64_T_FMT, max);
    case RP_INT_NOT_NUMBER:
    default:
        return "not a whole number";
    }
}

const char *rp_query_arg(apr_pool_t *p, const char *args, const char *name)
{
    apr_size_t n = strlen(name);
    while (args && *args) {
        const char *end = strchr(args, '&');
        apr_size_t len = end ? (apr_size_t)(end - args) : strlen(args);
        if (len >= n && !strncmp(args, name, n) && (len == n || args[n] == '='))
            return len == n ? "" : apr_pstrndup(p, args + n + 1, len - n - 1);
        args = end ? end + 1 : NULL;
    }
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
