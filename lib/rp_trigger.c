/*
 * rp_trigger.c - constant-time token comparison, cookie lookup and
 * removal for ProfileTrigger.
 */
#include <string.h>
#include <apr_strings.h>
#include "rp_trigger.h"

int rp_ct_equal(const char *guess, apr_size_t glen, const char *secret,
                apr_size_t slen)
{
    volatile unsigned char diff = (unsigned char)(glen != slen);
    apr_size_t i;
    for (i = 0; i < slen; i++) {
        /* Past the guess's end compare against 0 (a secret byte is never
         * 0 in a config string), still touching every secret byte. */
        unsigned char g = i < glen ? (unsigned char)guess[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)secret[i]);
    }
    return diff == 0;
}

static int is_sep_space(char c)
{
    return c == ' ' || c == '\t';
}

int rp_cookie_matches(const char *header, const char *name,
                      const char *secret, apr_size_t slen)
{
    apr_size_t nlen = strlen(name);
    const char *p = header;
    int found = 0;

    if (!header)
        return 0;
    while (*p) {
        const char *end, *eq, *v;
        apr_size_t vlen;
        while (*p == ';' || *p == ',' || is_sep_space(*p))
            p++;
        end = p;
        while (*end && *end != ';' && *end != ',')
            end++;
        eq = memchr(p, '=', (apr_size_t)(end - p));
        if (eq) {
            const char *ne = eq;
            while (ne > p && is_sep_space(ne[-1]))
                ne--;
            v = eq + 1;
            while (v < end && is_sep_space(*v))
                v++;
            vlen = (apr_size_t)(end - v);
            while (vlen > 0 && is_sep_space(v[vlen - 1]))
                vlen--;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') {
                v++;
                vlen -= 2;
            }
            /* Every cookie of that name is compared: no early exit. */
            if ((apr_size_t)(ne - p) == nlen && !memcmp(p, name, nlen))
                found |= rp_ct_equal(v, vlen, secret, slen);
        }
        p = end;
    }
    return found;
}

/* Is the cookie at [p, end) called name? Same parsing as rp_cookie_matches. */
static int cookie_named(const char *p, const char *end, const char *name,
                        apr_size_t nlen)
{
    const char *eq = memchr(p, '=', (apr_size_t)(end - p)), *ne;
    if (!eq)
        return 0;
    for (ne = eq; ne > p && is_sep_space(ne[-1]); ne--)
        ;
    return (apr_size_t)(ne - p) == nlen && !memcmp(p, name, nlen);
}

const char *rp_cookie_strip(apr_pool_t *p, const char *header, const char *name)
{
    apr_size_t nlen = strlen(name);
    const char *c;
    char *out, *o;
    int removed = 0;

    if (!header)
        return NULL;
    /* "; " between kept cookies may be longer than the separators read */
    out = o = apr_palloc(p, 2 * strlen(header) + 1);
    for (c = header; *c; ) {
        const char *end, *last;
        while (*c == ';' || *c == ',' || is_sep_space(*c))
            c++;
        for (end = c; *end && *end != ';' && *end != ','; end++)
            ;
        for (last = end; last > c && is_sep_space(last[-1]); last--)
            ;
        if (last > c) {
            if (cookie_named(c, end, name, nlen))
                removed = 1;
            else {
                if (o > out) {
                    *o++ = ';';
                    *o++ = ' ';
                }
                memcpy(o, c, (apr_size_t)(last - c));
                o += last - c;
            }
        }
        c = end;
    }
    *o = '\0';
    if (!removed)
        return header;
    return o > out ? out : NULL;
}

/* ------------------------------------------------------------ traceparent */

static int lowerhex(const char *s, apr_size_t n, unsigned *val, int *nonzero)
{
    apr_size_t i;
    unsigned v = 0;
    int nz = 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return 0;           /* uppercase, NUL, anything else */
        nz |= d != 0;
        v = (v << 4) | (d & 0xf);
    }
    if (val)
        *val = v;
    if (nonzero)
        *nonzero = nz;
    return 1;
}

int rp_traceparent_parse(const char *h, rp_traceparent_t *out)
{
    const char *end;
    apr_size_t n;
    int tnz, snz;

    memset(out, 0, sizeof *out);
    if (!h)
        return 0;
    while (*h == ' ' || *h == '\t')
        h++;
    for (end = h; *end; end++)
        ;
    while (end > h && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    n = (apr_size_t)(end - h);
    if (n < 55)
        return 0;
    /* Each lowerhex stops at the first non-hex byte, so no read goes past
     * a NUL before the length check above has been passed. */
    if (!lowerhex(h, 2, &out->version, NULL) || out->version == 0xff || h[2] != '-'
        || !lowerhex(h + 3, 32, NULL, &tnz) || h[35] != '-'
        || !lowerhex(h + 36, 16, NULL, &snz) || h[52] != '-'
        || !lowerhex(h + 53, 2, &out->flags, NULL) || !tnz || !snz
        || (out->version == 0 && n != 55) || (n > 55 && h[55] != '-')) {
        memset(out, 0, sizeof *out);
        return 0;
    }
    memcpy(out->traceid, h + 3, 32);
    memcpy(out->spanid, h + 36, 16);
    return 1;
}
