/*
 * fuzz_traceparent.c - the W3C traceparent parser (lib/rp_trigger.c,
 * rp_traceparent_parse) against a reference written here from the spec
 * in another way (split at '-' into fields, then check each).
 *
 * Input: the header value, passed as an exactly sized C string (a read
 * past its NUL is caught). Mode: when the first byte is '!', the rest is
 * spliced into a valid header at a position, so the parser sees mostly
 * near-valid values.
 */
#include "fuzz_common.h"
#include "rp_trigger.h"

static int is_lhex(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!strchr("0123456789abcdef", s[i]) || !s[i])
            return 0;
    return 1;
}

static int all_zero(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] != '0')
            return 0;
    return 1;
}

static int reference(const char *h, char *trace, char *span, unsigned *flags)
{
    size_t n, a = 0;
    char buf[4096];
    const char *f[4];
    size_t fl[4];
    int k;
    while (*h == ' ' || *h == '\t')
        h++;
    n = strlen(h);
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n < 55 || n >= sizeof buf)
        return 0;
    memcpy(buf, h, n);
    buf[n] = 0;
    for (k = 0; k < 4; k++) {
        size_t b = a;
        while (b < n && buf[b] != '-')
            b++;
        if (k < 3 && b >= n)
            return 0;
        f[k] = buf + a;
        fl[k] = b - a;
        a = b + 1;
    }
    if (fl[0] != 2 || fl[1] != 32 || fl[2] != 16 || fl[3] != 2)
        return 0;
    if (!is_lhex(f[0], 2) || !is_lhex(f[1], 32) || !is_lhex(f[2], 16) || !is_lhex(f[3], 2))
        return 0;
    if (!strncmp(f[0], "ff", 2) || all_zero(f[1], 32) || all_zero(f[2], 16))
        return 0;
    if (!strncmp(f[0], "00", 2) ? n != 55 : (n > 55 && buf[55] != '-'))
        return 0;
    memcpy(trace, f[1], 32);
    trace[32] = 0;
    memcpy(span, f[2], 16);
    span[16] = 0;
    *flags = (unsigned)strtoul((char[]){ f[3][0], f[3][1], 0 }, NULL, 16);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char valid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    rp_traceparent_t t;
    char rt[33], rs[17], *h;
    unsigned rf = 0;
    int got, want;
    size_t n;

    if (size > 0 && data[0] == '!') {
        size_t at = size > 1 ? data[1] % sizeof valid : 0, rest = size > 2 ? size - 2 : 0;
        n = sizeof valid - 1 + rest;
        h = malloc(n + 1);
        if (!h)
            abort();
        memcpy(h, valid, sizeof valid - 1);
        /* Overwrite from position at on; what is left of valid follows. */
        memcpy(h + (at < sizeof valid - 1 ? at : 0), data + 2, rest);
        h[n] = 0;
    } else {
        n = size;
        h = malloc(n + 1);
        if (!h)
            abort();
        memcpy(h, data, n);
        h[n] = 0;
    }
    got = rp_traceparent_parse(h, &t);
    want = reference(h, rt, rs, &rf);
    FUZZ_CHECK(got == want, "parser %d, reference %d on \"%s\"", got, want, h);
    if (got) {
        FUZZ_CHECK(!strcmp(t.traceid, rt) && !strcmp(t.spanid, rs) && t.flags == rf,
                   "fields differ on \"%s\"", h);
    } else {
        FUZZ_CHECK(t.traceid[0] == 0 && t.flags == 0, "not cleared");
    }
    free(h);
    return 0;
}
