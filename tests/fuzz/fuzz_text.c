/*
 * fuzz_text.c - lib/rp_text.c: UTF-8 cleaning, Python repr() of str and
 * float, the shortest-digits routine and the float layout.
 *
 * Input: 2 bytes of limit, 8 bytes of a double, then any bytes (cut at the
 * first NUL, as the C strings lib/ receives are). Promises checked:
 * rp_utf8_clean gives valid UTF-8 of at most max bytes with no control
 * characters, and is a fixpoint on its own output; rp_py_repr_str gives a
 * quoted, valid UTF-8 line; rp_py_repr_float reads back to the same double
 * (Python's repr guarantee); rp_py_float_digits gives at most 17 digits,
 * no leading zero, and no trailing zero.
 */
#include <math.h>
#include "fuzz_common.h"
#include "rp_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    apr_size_t max = (apr_size_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
    double x = fuzz_double(&in);
    const char *s = fuzz_str(&in, p), *c, *c2, *r, *fr;
    size_t i, n;

    c = rp_utf8_clean(p, s, max);
    n = strlen(c);
    FUZZ_CHECK(n <= max, "cleaned to %zu bytes, max %zu", n, (size_t)max);
    FUZZ_CHECK(n <= strlen(s) * 3, "grew past 3x: %zu from %zu", n, strlen(s));
    FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)c, n), "not UTF-8");
    for (i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)c[i] >= 0x20 && c[i] != 0x7f,
                   "control byte 0x%02x kept", (unsigned char)c[i]);
    c2 = rp_utf8_clean(p, c, max);
    FUZZ_CHECK(strcmp(c, c2) == 0, "cleaning is not idempotent");
    /* With room to spare nothing is cut: the same as with no limit. */
    if (max >= 3 * strlen(s))
        FUZZ_CHECK(strcmp(c, rp_utf8_clean(p, s, (apr_size_t)1 << 30)) == 0,
                   "cut although max %zu leaves room", (size_t)max);

    /* repr of a cleaned string and of the raw bytes (contract: prints
     * invalid bytes as U+FFFD, never crashes). */
    for (i = 0; i < 2; i++) {
        r = rp_py_repr_str(p, i ? s : c);
        n = strlen(r);
        FUZZ_CHECK(n >= 2 && (r[0] == '\'' || r[0] == '"') && r[n - 1] == r[0],
                   "repr not quoted: %s", r);
        FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)r, n), "repr not UTF-8");
        FUZZ_CHECK(strchr(r, '\n') == NULL, "newline in repr");
    }

    fr = rp_py_repr_float(p, x);
    FUZZ_CHECK(fr && fr[0], "empty float repr");
    if (isnan(x))
        FUZZ_CHECK(strcmp(fr, "nan") == 0, "repr(nan) = %s", fr);
    else if (isinf(x))
        FUZZ_CHECK(strcmp(fr, x < 0 ? "-inf" : "inf") == 0, "repr(inf) = %s", fr);
    else {
        char *end;
        double back = strtod(fr, &end);
        FUZZ_CHECK(*end == '\0' && memcmp(&back, &x, sizeof x) == 0,
                   "repr %s does not read back as %a", fr, x);
    }

    if (isfinite(x) && x > 0) {
        char digits[17 + 1], buf[17 + 32];
        int e10 = 0, nd = rp_py_float_digits(x, digits, &e10), len;
        FUZZ_CHECK(nd >= 1 && nd <= 17, "%d digits", nd);
        FUZZ_CHECK(digits[0] != '0', "leading zero");
        FUZZ_CHECK(nd == 1 || digits[nd - 1] != '0', "trailing zero");
        len = rp_py_layout(buf, 0, digits, nd, e10, 16);
        FUZZ_CHECK(len > 0 && len < (int)sizeof buf, "layout length %d", len);
        buf[len] = '\0';
        FUZZ_CHECK(strtod(buf, NULL) == x, "layout %s is not %a", buf, x);
    }
    fuzz_done(p);
    return 0;
}
