/*
 * rp_text.c - UTF-8 cleaning and Python repr() of str and float.
 *
 * The pstats file must hold valid UTF-8 (marshal refuses anything else) and
 * the text report must match what Python prints, so both lean on these.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <apr_strings.h>
#include "rp_text.h"

#define RP_BAD_CP 0xFFFFFFFFu

static apr_size_t utf8_next(const unsigned char *s, unsigned *cp);
static int cp_printable(unsigned cp);

/*
 * Decode one character at s (which is not at its NUL). Returns the bytes
 * consumed. An invalid sequence yields RP_BAD_CP and consumes its "maximal
 * subpart", as Python's bytes.decode('utf-8', 'replace') does, so one
 * U+FFFD replaces what Python would replace.
 */
static apr_size_t utf8_next(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF, v;
    apr_size_t n, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0;          /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F;          /* surrogates U+D800..U+DFFF */
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90;          /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F;          /* above U+10FFFF */
    }
    else {
        *cp = RP_BAD_CP;        /* stray continuation, C0/C1, F5..FF */
        return 1;
    }
    for (i = 1; i < n; i++) {
        unsigned b = s[i];
        if (b < lo || b > hi) {
            *cp = RP_BAD_CP;
            return i;
        }
        v = (v << 6) | (b & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return n;
}

const char *rp_utf8_view(apr_pool_t *p, const char *s, apr_size_t max,
                         apr_size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    const char *out;

    if (s != NULL) {
        while (*u >= 0x20 && *u < 0x7F)
            u++;
        if (*u == '\0' && (apr_size_t)(u - (const unsigned char *)s) <= max) {
            *len = (apr_size_t)(u - (const unsigned char *)s);
            return s;
        }
    }
    out = rp_utf8_clean(p, s, max);
    *len = strlen(out);
    return out;
}

const char *rp_utf8_clean(apr_pool_t *p, const char *s, apr_size_t max)
{
    const unsigned char *in = (const unsigned char *)s;
    apr_size_t len, cap, out = 0;
    char *dst;

    if (s == NULL || max == 0)
        return "";
    len = strlen(s);
    /* One input byte never grows past the 3 bytes of U+FFFD. */
    cap = len > max / 3 ? max : len * 3;
    dst = apr_palloc(p, cap + 1);
    while (*in) {
        unsigned cp;
        apr_size_t n = utf8_next(in, &cp);
        const char *src = (const char *)in;
        apr_size_t outn = n;

        if (cp == RP_BAD_CP) {
            src = "\xEF\xBF\xBD";
            outn = 3;
        }
        else if (cp < 0x20 || cp == 0x7F) {
            src = "?";          /* keep logs and reports one line per entry */
            outn = 1;
        }
        if (out + outn > cap)
            break;              /* stop before the character, never inside */
        memcpy(dst + out, src, outn);
        out += outn;
        in += n;
    }
    dst[out] = '\0';
    return dst;
}

/*
 * Assigned code points >= 0x80 that Python's str.isprintable() rejects
 * (categories Cc Cf Cs Co Zl Zp Zs), Unicode 14 as in Python 3.11.
 * Unassigned code points (Cn) are printed as they are: their list changes
 * with every Unicode version and names never contain them in practice.
 */
static const unsigned rp_unprintable[][2] = {
    {0x80, 0xA0}, {0xAD, 0xAD}, {0x600, 0x605}, {0x61C, 0x61C},
    {0x6DD, 0x6DD}, {0x70F, 0x70F}, {0x890, 0x891}, {0x8E2, 0x8E2},
    {0x1680, 0x1680}, {0x180E, 0x180E}, {0x2000, 0x200F},
    {0x2028, 0x202F}, {0x205F, 0x2064}, {0x2066, 0x206F},
    {0x3000, 0x3000}, {0xD800, 0xF8FF}, {0xFEFF, 0xFEFF},
    {0xFFF9, 0xFFFB}, {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
    {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A},
    {0xE0001, 0xE0001}, {0xE0020, 0xE007F}, {0xF0000, 0xFFFFD},
    {0x100000, 0x10FFFD},
};

static int cp_printable(unsigned cp)
{
    apr_size_t i;

    for (i = 0; i < sizeof(rp_unprintable) / sizeof(rp_unprintable[0]); i++) {
        if (cp < rp_unprintable[i][0])
            return 1;
        if (cp <= rp_unprintable[i][1])
            return 0;
    }
    return 1;
}

const char *rp_py_repr_str(apr_pool_t *p, const char *s)
{
    const unsigned char *in;
    char quote = '\'';
    char *dst;
    apr_size_t out = 0;

    if (s == NULL)
        s = "";
    /* Python picks double quotes only to avoid escaping a single quote. */
    if (strchr(s, '\'') && !strchr(s, '"'))
        quote = '"';
    /* Worst case 4 output bytes per input byte ("\x01"), plus quotes. */
    dst = apr_palloc(p, strlen(s) * 4 + 3);
    dst[out++] = quote;
    for (in = (const unsigned char *)s; *in; ) {
        unsigned cp;
        apr_size_t n = utf8_next(in, &cp);
        int bad = cp == RP_BAD_CP;

        if (bad)
            cp = 0xFFFD;        /* the caller broke the contract; stay safe */
        if (cp == (unsigned)quote || cp == '\\') {
            dst[out++] = '\\';
            dst[out++] = (char)cp;
        }
        else if (cp == '\t' || cp == '\n' || cp == '\r') {
            dst[out++] = '\\';
            dst[out++] = cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r';
        }
        else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && !cp_printable(cp))) {
            out += (apr_size_t)sprintf(dst + out,
                                       cp < 0x100 ? "\\x%02x"
                                       : cp < 0x10000 ? "\\u%04x" : "\\U%08x", cp);
        }
        else if (bad) {
            memcpy(dst + out, "\xEF\xBF\xBD", 3);
            out += 3;
        }
        else {
            memcpy(dst + out, in, n);
            out += n;
        }
        in += n;
    }
    dst[out++] = quote;
    dst[out] = '\0';
    return dst;
}

/* Python repr's digits (David Gay's mode 0); see rp_text.h. */
int rp_py_float_digits(double x, char *digits, int *exp10)
{
    char buf[48];
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        unsigned long long m = 0, cand[2];
        int e, i, k, ncand = 0;
        char *ep;

        snprintf(buf, sizeof(buf), "%.*e", prec - 1, x);
        for (k = 0; buf[k] != 'e'; k++)
            if (buf[k] >= '0' && buf[k] <= '9')
                m = m * 10 + (unsigned long long)(buf[k] - '0');
        e = atoi(buf + k + 1);
        /* At a power of two the rounding interval is twice as wide above x
         * as below: the nearest prec-digit decimal, just below x, may miss
         * it while the next one up hits. Python's repr finds that one. */
        cand[ncand++] = m;
        cand[ncand++] = m + 1;
        for (i = 0; i < ncand; i++) {
            int n, ce = e;
            char mant[24];

            n = snprintf(mant, sizeof(mant), "%llu", cand[i]);
            if (n > prec)
                ce++;           /* 9.99 + 1 unit = 10.0: one more digit */
            snprintf(buf, sizeof(buf), "%c.%se%d", mant[0], mant + 1, ce);
            if (strtod(buf, &ep) == x) {
                while (n > 1 && mant[n - 1] == '0')
                    n--;
                memcpy(digits, mant, (apr_size_t)n);
                digits[n] = '\0';
                *exp10 = ce;
                return n;
            }
        }
    }
    /* Unreachable: 17 significant digits always round-trip. */
    snprintf(buf, sizeof(buf), "%.16e", x);
    digits[0] = buf[0];
    memcpy(digits + 1, buf + 2, 16);
    digits[17] = '\0';
    *exp10 = atoi(strchr(buf, 'e') + 1);
    return 17;
}

int rp_py_layout(char *buf, int negative, const char *digits, int nd,
                 int exp10, int threshold)
{
    int decpt = exp10 + 1, o = 0, i;

    if (negative)
        buf[o++] = '-';
    if (decpt <= -4 || decpt > threshold) {
        buf[o++] = digits[0];
        if (nd > 1) {
            buf[o++] = '.';
            memcpy(buf + o, digits + 1, (apr_size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(buf + o, 8, "e%c%02d", exp10 < 0 ? '-' : '+',
                      exp10 < 0 ? -exp10 : exp10);
        return o;
    }
    if (decpt <= 0) {
        buf[o++] = '0';
        buf[o++] = '.';
        for (i = 0; i < -decpt; i++)
            buf[o++] = '0';
        memcpy(buf + o, digits, (apr_size_t)nd);
        o += nd;
    }
    else {
        for (i = 0; i < decpt; i++)
            buf[o++] = i < nd ? digits[i] : '0';
        buf[o++] = '.';
        if (nd > decpt) {
            memcpy(buf + o, digits + decpt, (apr_size_t)(nd - decpt));
            o += nd - decpt;
        }
        else {
            buf[o++] = '0';
        }
    }
    buf[o] = '\0';
    return o;
}

const char *rp_py_repr_float(apr_pool_t *p, double x)
{
    char digits[24];
    char out[64];
    int n, e;

    if (isnan(x))
        return "nan";
    if (isinf(x))
        return x > 0 ? "inf" : "-inf";
    if (x == 0)
        return signbit(x) ? "-0.0" : "0.0";
    n = rp_py_float_digits(fabs(x), digits, &e);
    /* repr() switches to exponent notation from 1e16 on. */
    rp_py_layout(out, x < 0, digits, n, e, 16);
    return apr_pstrdup(p, out);
}

/* The decoder above, for the other escapers of lib/ (rp_outfmt.c's JSON
 * strings): one notion of "invalid UTF-8" everywhere. */
apr_size_t rp_utf8_next(const char *s, unsigned *cp)
{
    return utf8_next((const unsigned char *)s, cp);    /* RP_BAD_CP == RP_UTF8_BAD */
}
