/*
 * fuzz_parse.c - the values of the production directives (lib/rp_parse.c):
 * ProfileMinDuration (durations), ProfileMaxDirSize (sizes),
 * ProfileSampleRate (rates), ProfileMaxFiles (counts) and the sampling
 * threshold of a rate.
 *
 * Input: TEXT \0, then optionally a flag byte, 2 bytes of a count's
 * minimum and 4 of its span (no bytes: the ProfileMaxFiles range, 1 to
 * 100000), then 8 bytes of a double for rp_rate_threshold. TEXT goes to
 * every parser as an exactly sized heap string, so reading past its end
 * is caught.
 *
 * Each parser is checked against a reference written here from the
 * grammar in rp_parse.h and computed exactly (128-bit integers; rates
 * against strtod, which rounds correctly): a text is accepted exactly when
 * the reference accepts it, with the reference's value (durations rounded
 * half up to the microsecond, rates within one ulp of the nearest double).
 * A refused text gets a non-empty message of bounded length and leaves
 * the output untouched. Accepted values are written back in other forms
 * (durations in us, ms and s, sizes with each suffix that divides them,
 * counts in digits) and must parse to the same value. Thresholds stay in
 * [0, 2^32], within 1/2 of rate * 2^32, and grow with the rate.
 */
#include <math.h>
#include <stdarg.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_parse.h"

#define DEC_MAX_DIGITS 15           /* rp_parse.h: at most 15 digits */
#define HOUR_US ((apr_int64_t)3600 * 1000000)
#define ABSENT 0x5a5a5a5a           /* output sentinel */

typedef unsigned __int128 u128;

/* "digits[.digits]" at s, the way rp_parse.h describes it. */
typedef struct dec {
    int ndig, nfrac;        /* digits in all, after the point */
    u128 mant;              /* the digits as an integer (if ndig <= 30) */
    const char *rest;       /* what follows the number */
} dec_t;

/* printf into p: libc's, since APR's formatter has no %lld. */
static const char *fmt(apr_pool_t *p, const char *f, ...)
    __attribute__((format(printf, 2, 3)));

static const char *fmt(apr_pool_t *p, const char *f, ...)
{
    char *s = apr_palloc(p, 64);
    va_list ap;

    va_start(ap, f);
    FUZZ_CHECK(vsnprintf(s, 64, f, ap) < 64, "format too long");
    va_end(ap);
    return s;
}

static void scan(const char *s, dec_t *d)
{
    int dot = 0;

    memset(d, 0, sizeof *d);
    for (;; s++) {
        if (*s >= '0' && *s <= '9') {
            if (++d->ndig <= 30)
                d->mant = d->mant * 10 + (unsigned)(*s - '0');
            d->nfrac += dot;
        }
        else if (*s == '.' && !dot)
            dot = 1;
        else
            break;
    }
    d->rest = s;
}

static u128 pow10u(int n)
{
    u128 r = 1;

    while (n-- > 0)
        r *= 10;
    return r;
}

/* A whole number of any length in digits: its value, saturated at 2^100. */
static u128 digits_value(const char *s, int *ok)
{
    u128 v = 0, cap = (u128)1 << 100;

    *ok = *s != '\0';
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            *ok = 0;
            return 0;
        }
        v = v * 10 + (unsigned)(*s - '0');
        if (v > cap)
            v = cap;
    }
    return v;
}

static void check_message(const char *err, const char *what, const char *text)
{
    size_t n;

    FUZZ_CHECK(err[0] != '\0', "%s: empty message for '%s'", what, text);
    n = strlen(err);
    /* A short reason, at most quoting the text back. */
    FUZZ_CHECK(n <= strlen(text) + 120, "%s: %zu-byte message for '%s'", what, n, text);
}

/* ------------------------------------------------------------ durations */

static apr_int64_t duration_ok(apr_pool_t *p, const char *s, const char *why)
{
    apr_int64_t v = ABSENT;
    const char *err = rp_parse_duration(p, s, &v);

    FUZZ_CHECK(err == NULL, "%s: '%s' refused: %s", why, s, err);
    return v;
}

static void check_duration(apr_pool_t *p, const char *text)
{
    apr_int64_t v = ABSENT, want = -1;
    const char *err = rp_parse_duration(p, text, &v);
    int scale = -1;
    dec_t d;

    scan(text, &d);
    if (!strcmp(d.rest, "") || !strcmp(d.rest, "s"))
        scale = 6;
    else if (!strcmp(d.rest, "ms"))
        scale = 3;
    else if (!strcmp(d.rest, "us"))
        scale = 0;
    if (scale >= 0 && d.ndig >= 1 && d.ndig <= DEC_MAX_DIGITS) {
        /* value * 10^scale us, rounded half up. */
        u128 num = d.mant * pow10u(scale), den = pow10u(d.nfrac);
        u128 r = (2 * num + den) / (2 * den);
        if (r <= (u128)HOUR_US)
            want = (apr_int64_t)r;
    }
    if (want < 0) {
        FUZZ_CHECK(err != NULL, "duration '%s' accepted as %lld", text, (long long)v);
        FUZZ_CHECK(v == ABSENT, "duration '%s' refused but written", text);
        check_message(err, "duration", text);
        return;
    }
    FUZZ_CHECK(err == NULL, "duration '%s' refused (%s), expected %lld us", text, err,
               (long long)want);
    FUZZ_CHECK(v == want, "duration '%s' is %lld us, expected %lld", text,
               (long long)v, (long long)want);

    /* The same duration in each unit reads back exactly. */
    FUZZ_CHECK(duration_ok(p, fmt(p, "%lldus", (long long)v), "us") == v,
               "%lld us in us", (long long)v);
    FUZZ_CHECK(duration_ok(p, fmt(p, "%lld.%03lldms", (long long)(v / 1000),
                                           (long long)(v % 1000)), "ms") == v,
               "%lld us in ms", (long long)v);
    FUZZ_CHECK(duration_ok(p, fmt(p, "%lld.%06llds", (long long)(v / 1000000),
                                           (long long)(v % 1000000)), "s") == v,
               "%lld us in s", (long long)v);
    FUZZ_CHECK(duration_ok(p, fmt(p, "%lld.%06lld", (long long)(v / 1000000),
                                           (long long)(v % 1000000)), "bare") == v,
               "%lld us as a bare number", (long long)v);
}

/* ---------------------------------------------------------------- sizes */

static void check_size(apr_pool_t *p, const char *text)
{
    static const char suffixes[] = "kmgt";
    apr_uint64_t v = ABSENT, want = 0;
    const char *err = rp_parse_size(p, text, &v), *s = text, *suf;
    int shift = 0, ok = 0, i;
    u128 n = 0;

    while (*s >= '0' && *s <= '9')
        s++;
    suf = s;
    if (s > text) {
        char *digits = apr_pstrndup(p, text, (apr_size_t)(s - text));
        const char *k = strchr(suffixes, *suf | 0x20);
        n = digits_value(digits, &ok);
        if (*suf && k) {
            shift = 10 * (int)(k - suffixes + 1);
            suf++;
        }
        if (*suf == 'b' || *suf == 'B')
            suf++;
        ok = ok && *suf == '\0' && n >= 1 && n <= ((u128)1 << 50) >> shift;
        want = ok ? (apr_uint64_t)(n << shift) : 0;
    }
    if (!ok) {
        FUZZ_CHECK(err != NULL, "size '%s' accepted as %llu", text, (unsigned long long)v);
        FUZZ_CHECK(v == ABSENT, "size '%s' refused but written", text);
        check_message(err, "size", text);
        return;
    }
    FUZZ_CHECK(err == NULL, "size '%s' refused (%s), expected %llu", text, err,
               (unsigned long long)want);
    FUZZ_CHECK(v == want, "size '%s' is %llu, expected %llu", text,
               (unsigned long long)v, (unsigned long long)want);

    /* Back in bytes, and with every suffix that divides it, either case,
     * with and without B. */
    for (i = 0; i <= 4; i++) {
        apr_uint64_t back = ABSENT;
        const char *t;

        if (v % ((apr_uint64_t)1 << (10 * i)))
            break;
        t = i == 0 ? fmt(p, "%llu", (unsigned long long)v)
                   : fmt(p, "%llu%c%s", (unsigned long long)(v >> (10 * i)),
                                  ((v >> (10 * i)) & 1) ? suffixes[i - 1]
                                                        : "KMGT"[i - 1],
                                  ((v >> (10 * i)) & 2) ? "B" : "");
        err = rp_parse_size(p, t, &back);
        FUZZ_CHECK(err == NULL && back == v, "%llu written as '%s' reads %s %llu",
                   (unsigned long long)v, t, err ? err : "as",
                   (unsigned long long)back);
    }
}

/* ---------------------------------------------------------------- rates */

static void check_rate(apr_pool_t *p, const char *text)
{
    double v = -7.0, want;
    const char *err = rp_parse_rate(p, text, &v);
    int pct;
    dec_t d;

    scan(text, &d);
    pct = !strcmp(d.rest, "%");
    if (d.ndig < 1 || d.ndig > DEC_MAX_DIGITS || (d.rest[0] && !pct)
        || d.mant > pow10u(d.nfrac + 2 * pct)) {
        FUZZ_CHECK(err != NULL, "rate '%s' accepted as %.17g", text, v);
        FUZZ_CHECK(v == -7.0, "rate '%s' refused but written", text);
        check_message(err, "rate", text);
        return;
    }
    FUZZ_CHECK(err == NULL, "rate '%s' refused: %s", text, err);
    want = strtod(fmt(p, "%llue-%d", (unsigned long long)d.mant,
                               d.nfrac + 2 * pct), NULL);
    FUZZ_CHECK(v >= 0.0 && v <= 1.0, "rate '%s' is %.17g", text, v);
    FUZZ_CHECK(v == want || v == nextafter(want, 0.0) || v == nextafter(want, 2.0),
               "rate '%s' is %.17g, nearest double %.17g", text, v, want);
    FUZZ_CHECK((v == 0.0) == (d.mant == 0), "rate '%s' is %.17g", text, v);
    FUZZ_CHECK((v == 1.0) == (d.mant == pow10u(d.nfrac + 2 * pct)),
               "rate '%s' is %.17g", text, v);
}

/* ----------------------------------------------------------- thresholds */

static void check_threshold(double rate)
{
    const double two32 = 4294967296.0;
    apr_uint64_t t = rp_rate_threshold(rate), up;

    FUZZ_CHECK(t <= ((apr_uint64_t)1 << 32), "threshold %llu of %a",
               (unsigned long long)t, rate);
    if (!(rate > 0.0)) {
        FUZZ_CHECK(t == 0, "threshold %llu of %a", (unsigned long long)t, rate);
        return;
    }
    if (rate >= 1.0) {
        FUZZ_CHECK(t == ((apr_uint64_t)1 << 32), "threshold %llu of %a",
                   (unsigned long long)t, rate);
        return;
    }
    FUZZ_CHECK(fabs((double)t - rate * two32) <= 0.5, "threshold %llu of %a",
               (unsigned long long)t, rate);
    up = rp_rate_threshold(nextafter(rate, 2.0));
    FUZZ_CHECK(up >= t, "threshold falls from %llu to %llu after %a",
               (unsigned long long)t, (unsigned long long)up, rate);
}

/* ------------------------------------------------------- whole numbers */

/* rp_parse_int64 against a reference in 128 bits: the verdict, the value,
 * and the value written back reads the same. */
static void check_int(apr_pool_t *p, const char *text, long min, long max)
{
    apr_int64_t v = ABSENT, back = ABSENT;
    rp_int_err_t e = rp_parse_int64(text, min, max, &v), want;
    int neg = text[0] == '-', digits_ok;
    const char *d = text + neg;
    u128 n = digits_value(d, &digits_ok);          /* capped at 2^100 */
    __int128 x = neg ? -(__int128)n : (__int128)n;

    if (!(*d >= '0' && *d <= '9'))
        want = RP_INT_NOT_NUMBER;
    else if (!digits_ok)
        want = RP_INT_TRAILING;
    else if (x < (__int128)min || x < (__int128)INT64_MIN)
        want = RP_INT_BELOW;
    else if (x > (__int128)max || x > (__int128)INT64_MAX)
        want = RP_INT_ABOVE;
    else
        want = RP_INT_OK;
    FUZZ_CHECK(e == want, "int '%s' in [%ld, %ld]: %d, expected %d", text, min, max,
               (int)e, (int)want);
    if (e != RP_INT_OK) {
        FUZZ_CHECK(v == ABSENT, "int '%s' refused but written", text);
        check_message(rp_int_err_text(p, e, text, min, max), "int", text);
        return;
    }
    FUZZ_CHECK((__int128)v == x, "int '%s' is %lld", text, (long long)v);
    e = rp_parse_int64(fmt(p, "%lld", (long long)v), min, max, &back);
    FUZZ_CHECK(e == RP_INT_OK && back == v, "int %lld does not read back", (long long)v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    const char *text = fuzz_str(&in, p);
    long min = 1, max = 100000;
    double r;

    if (in.n > 0) {
        unsigned flags = fuzz_byte(&in);
        min = (long)(int16_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
        max = (flags & 1) ? 0x7fffffffffffffffL
                          : min + (long)(uint32_t)(fuzz_u64(&in) >> 32);
    }
    r = fuzz_double(&in);

    check_duration(p, text);
    check_size(p, text);
    check_rate(p, text);
    check_int(p, text, min, max);
    check_threshold(r);
    /* And the rate this text gives, when it is one. */
    if (rp_parse_rate(p, text, &r) == NULL)
        check_threshold(r);
    fuzz_done(p);
    return 0;
}
