/*
 * rp_trigger.c - constant-time token comparison and cookie lookup for
 * ProfileTrigger.
 */
#include <string.h>
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
