/*
 * fuzz_trigger.c - ProfileTrigger's token checks (lib/rp_trigger.c): the
 * constant-time comparison and the cookie lookup.
 *
 * Input: a mode byte, NAME \0 SECRET \0 GUESS \0 HEADER (the rest). The
 * secret and the guess are passed as exactly sized heap copies with no NUL
 * after them, the header and the name as exactly sized C strings, so a read
 * past any of them is caught.
 *
 * rp_ct_equal must say exactly whether the two byte strings are equal
 * (either way round). rp_cookie_matches is compared with a reference
 * written here from rp_trigger.h: the header split at ';' and ',', each
 * piece "name=value" with blanks (space, tab) trimmed around both, one
 * pair of double quotes taken off the value; a match is a piece whose
 * name is NAME and whose value is the secret. In the odd modes the header
 * is built with NAME=SECRET (quoted in some) among hostile pieces, and
 * whenever the name and secret can be written in a cookie at all, it must
 * match. A NULL header never matches.
 */
#include "fuzz_common.h"
#include "rp_trigger.h"

/* n bytes at d in a malloc of exactly n bytes (no terminator). */
static char *exact_copy(apr_pool_t *p, const void *d, size_t n)
{
    char *m = malloc(n ? n : 1);

    if (m == NULL)
        abort();
    memcpy(m, d, n);
    apr_pool_cleanup_register(p, m, fuzz_free, apr_pool_cleanup_null);
    /* Only the first n bytes are ours: for n == 0 point past the end. */
    return n ? m : m + 1;
}

static int blank(char c)
{
    return c == ' ' || c == '\t';
}

static int ref_cookie(const char *h, const char *name, const char *secret, size_t slen)
{
    size_t nlen = strlen(name);
    int found = 0;

    while (h && *h) {
        const char *end = h + strcspn(h, ";,"), *eq = memchr(h, '=', (size_t)(end - h));
        if (eq) {
            const char *n0 = h, *n1 = eq, *v0 = eq + 1, *v1 = end;
            while (n0 < n1 && blank(*n0))
                n0++;
            while (n1 > n0 && blank(n1[-1]))
                n1--;
            while (v0 < v1 && blank(*v0))
                v0++;
            while (v1 > v0 && blank(v1[-1]))
                v1--;
            if (v1 - v0 >= 2 && *v0 == '"' && v1[-1] == '"') {
                v0++;
                v1--;
            }
            if ((size_t)(n1 - n0) == nlen && !memcmp(n0, name, nlen)
                && (size_t)(v1 - v0) == slen && !memcmp(v0, secret, slen))
                found = 1;
        }
        h = *end ? end + 1 : end;
    }
    return found;
}

/* Can NAME=SECRET stand in a Cookie header as one piece that reads back
 * as exactly that name and value? */
static int writable(const char *name, const char *secret, size_t slen, int quoted)
{
    size_t nlen = strlen(name);

    if (nlen == 0 || strpbrk(name, ";,=") || blank(name[0]) || blank(name[nlen - 1]))
        return 0;
    if (memchr(secret, ';', slen) || memchr(secret, ',', slen) || memchr(secret, 0, slen))
        return 0;
    if (quoted)
        return 1;
    /* Unquoted: blanks at the ends would be trimmed, and a value that
     * itself starts and ends with '"' would lose them. */
    return slen == 0 || (!blank(secret[0]) && !blank(secret[slen - 1])
                         && !(slen >= 2 && secret[0] == '"' && secret[slen - 1] == '"'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    unsigned mode = fuzz_byte(&in);
    const char *name = fuzz_str(&in, p);
    const char *s = fuzz_str(&in, p), *g = fuzz_str(&in, p), *h;
    size_t slen = strlen(s), glen = strlen(g), hlen;
    const char *secret, *guess;
    char *header;
    int want, got, quoted = 0, visible = 0;

    /* Secrets with a NUL inside: from mode bit 1, the guess's bytes are
     * appended after a NUL (a config string never holds one; the
     * comparison must still be exact). */
    if (mode & 2) {
        char *t = malloc(slen + 1 + glen);
        if (t == NULL)
            abort();
        memcpy(t, s, slen);
        t[slen] = '\0';
        memcpy(t + slen + 1, g, glen);
        secret = exact_copy(p, t, slen + 1 + glen);
        slen += 1 + glen;
        free(t);
    }
    else
        secret = exact_copy(p, s, slen);
    guess = exact_copy(p, g, glen);

    want = glen == slen && memcmp(guess, secret, slen) == 0;
    FUZZ_CHECK(rp_ct_equal(guess, glen, secret, slen) == want,
               "ct_equal(%zu bytes, %zu bytes) != %d", glen, slen, want);
    FUZZ_CHECK(rp_ct_equal(secret, slen, guess, glen) == want,
               "ct_equal reversed != %d", want);
    FUZZ_CHECK(rp_ct_equal(secret, slen, secret, slen) == 1, "secret != itself");

    /* The header: the rest of the input, or in odd modes a cookie string
     * with NAME=SECRET put among the rest's pieces. */
    hlen = in.n;
    if (mode & 1) {
        size_t cut = hlen ? (mode >> 2) % (hlen + 1) : 0, pos = 0;
        quoted = (mode >> 7) & 1;
        /* A NUL in the input ends the header where httpd's would end. */
        visible = memchr(in.d, 0, cut) == NULL;
        header = malloc(hlen + strlen(name) + slen + 16);
        if (header == NULL)
            abort();
        memcpy(header, in.d, cut);
        pos = cut;
        header[pos++] = ';';
        header[pos++] = ' ';
        memcpy(header + pos, name, strlen(name));
        pos += strlen(name);
        header[pos++] = '=';
        if (quoted)
            header[pos++] = '"';
        memcpy(header + pos, secret, slen);
        pos += slen;
        if (quoted)
            header[pos++] = '"';
        header[pos++] = ',';
        memcpy(header + pos, in.d + cut, hlen - cut);
        pos += hlen - cut;
        header[pos] = '\0';
        h = header;
    }
    else {
        header = malloc(hlen + 1);
        if (header == NULL)
            abort();
        memcpy(header, in.d, hlen);
        header[hlen] = '\0';
        h = header;
    }
    hlen = strlen(h);
    {
        char *hc = exact_copy(p, h, hlen + 1);
        free(header);
        h = hc;
    }

    want = ref_cookie(h, name, secret, slen);
    got = rp_cookie_matches(h, name, secret, slen);
    FUZZ_CHECK(got == want, "cookie '%s' in '%s': %d, reference %d", name, h, got, want);
    if ((mode & 1) && visible && writable(name, secret, slen, quoted))
        FUZZ_CHECK(got == 1, "cookie '%s' set in '%s' not found", name, h);
    FUZZ_CHECK(rp_cookie_matches(NULL, name, secret, slen) == 0, "NULL header matched");
    fuzz_done(p);
    return 0;
}
