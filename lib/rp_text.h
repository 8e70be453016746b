/*
 * rp_text.h - text helpers shared by the writers: UTF-8 cleaning and
 * Python-compatible repr() of strings and floats.
 */
#ifndef RP_TEXT_H
#define RP_TEXT_H

#include <apr_pools.h>

/* Copy s into p as valid UTF-8 of at most max bytes (not counting the NUL),
 * never cutting a character in half. Invalid bytes become U+FFFD, one per
 * maximal invalid subpart as Python's decode(errors='replace') does
 * (overlong forms, surrogates and code points past U+10FFFF are invalid);
 * control characters (< 0x20, 0x7f) become '?'. A NULL s yields "". */
const char *rp_utf8_clean(apr_pool_t *p, const char *s, apr_size_t max);

/* s itself when it is already what rp_utf8_clean would return (printable
 * ASCII, at most max bytes): the usual case, with no copy; else
 * rp_utf8_clean's copy in p. *len is the result's length. The result
 * lives as long as the shorter-lived of s and p. */
const char *rp_utf8_view(apr_pool_t *p, const char *s, apr_size_t max,
                         apr_size_t *len);

/* Python's repr() of a str: 'abc', "it's", with \\ \n \r \t \xNN escapes
 * for control characters, and \xNN \uNNNN \UNNNNNNNN for the assigned
 * non-ASCII code points Python deems unprintable (unassigned ones are kept).
 * s should be valid UTF-8 (use rp_utf8_clean); invalid bytes print as
 * U+FFFD. */
const char *rp_py_repr_str(apr_pool_t *p, const char *s);

/* Python's repr() of a float: shortest text that reads back to the same
 * double (0.5, 0.1, 1e-05, 0.0). */
const char *rp_py_repr_float(apr_pool_t *p, double x);

/* Shortest decimal digits that read back as x (finite, > 0), as Python's
 * repr() picks them. Writes at most 17 digits, no sign, no NUL, into
 * digits; *exp10 is the power of ten of the first digit. Returns the
 * number of digits. */
int rp_py_float_digits(double x, char *digits, int *exp10);

/* Lay out nd decimal digits (first at 10^exp10) the way Python's 'r' and
 * 'g'-style formats do: exponent notation ("1.5e-05", "1e+16") when the
 * decimal point would fall before -4 or after threshold digits, else fixed
 * notation with at least one digit after the point ("3.0"). buf needs
 * nd + 32 bytes when exp10 is within double range. Returns the length. */
int rp_py_layout(char *buf, int negative, const char *digits, int nd,
                 int exp10, int threshold);

/* Decode one character at s (not at its NUL): returns the bytes it takes
 * and sets *cp to its code point, or to RP_UTF8_BAD for an invalid
 * sequence, which then takes its "maximal subpart" (one U+FFFD's worth,
 * as Python's decode(errors='replace') and rp_utf8_clean count it). */
#define RP_UTF8_BAD 0xFFFFFFFFu
apr_size_t rp_utf8_next(const char *s, unsigned *cp);

#endif
