/*
 * rp_fname.c - ProfileFilenameFormat: a Python str.format() subset compiled
 * once at config time into a list of segments, expanded per request with
 * no parsing, no regex and every allocation from the caller's pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <apr_strings.h>

#include "rp_fname.h"
#include "rp_text.h"

/* What a placeholder holds; decides which specs it accepts. */
enum { RP_K_STR, RP_K_FLOAT, RP_K_INT };

/* Placeholder table; the order is the one error messages list. */
enum {
    RP_V_METHOD, RP_V_PATH, RP_V_ELAPSED, RP_V_TIME, RP_V_STATUS,
    RP_V_VHOST, RP_V_PID, RP_V_ID, RP_V_EXT, RP_V_TRACEID, RP_V_SPANID,
    RP_V_COUNT
};

static const struct {
    const char *name;
    int kind;
} rp_vars[RP_V_COUNT] = {
    { "method", RP_K_STR },  { "path", RP_K_STR },
    { "elapsed", RP_K_FLOAT }, { "time", RP_K_FLOAT },
    { "status", RP_K_INT },  { "vhost", RP_K_STR },
    { "pid", RP_K_INT },     { "id", RP_K_STR },
    { "ext", RP_K_STR },
    { "traceid", RP_K_STR }, { "spanid", RP_K_STR },
};

#define RP_VAR_LIST "method, path, elapsed, time, status, vhost, pid, id, ext, " \
                    "traceid, spanid"

/* Bytes kept at the end of the name when literal text alone is too long:
 * that is where the extension lives. */
#define RP_FNAME_TAIL 16

/* {path} is shortened down to this many bytes before anything else is. */
#define RP_FNAME_PATH_FLOOR 16

/* Big enough for "%.*f" of DBL_MAX (309 digits) at the largest precision
 * accepted (RP_FNAME_MAX), so no number is ever cut by snprintf. */
#define RP_NUMBUF 640

/* One compiled piece of the format: literal text or a placeholder. */
typedef struct rp_fseg {
    const char *lit;    /* literal text with braces unescaped; NULL for a
                         * placeholder */
    apr_size_t len;     /* length of lit */
    int var;            /* RP_V_* of a placeholder */
    int zero;           /* '0' flag: pad numbers with zeros after the sign */
    int width;          /* minimum width, 0 when absent */
    int prec;           /* precision (strings: max bytes), -1 when absent */
    char type;          /* 'f', 'd', 's' or 0 when absent */
} rp_fseg_t;

struct rp_fname {
    int nseg;           /* number of segments */
    rp_fseg_t *seg;     /* segments in output order */
    unsigned uses;      /* bit (1 << RP_V_*) per placeholder used */
};

/* How a value's bytes are copied into the name. */
enum { RP_C_LIT, RP_C_STR, RP_C_PATH, RP_C_NUM };

/* A segment's value during one expansion. */
typedef struct rp_fval {
    const char *s;      /* bytes, not NUL-terminated */
    apr_size_t full;    /* length before shortening */
    apr_size_t len;     /* length used */
    int copy;           /* RP_C_*: how the bytes are sanitized */
} rp_fval_t;

static int rp_var_lookup(const char *name, apr_size_t n)
{
    int i;
    for (i = 0; i < RP_V_COUNT; i++)
        if (strlen(rp_vars[i].name) == n && memcmp(rp_vars[i].name, name, n) == 0)
            return i;
    return -1;
}

/* Parses a decimal number of at most RP_FNAME_MAX; -1 when too large, so
 * absurd widths are refused before they can overflow anything. */
static int rp_parse_num(const char **sp, const char *end)
{
    const char *s = *sp;
    int v = 0;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10 + (*s - '0');
        if (v > RP_FNAME_MAX)
            return -1;
        s++;
    }
    *sp = s;
    return v;
}

/* Parses the spec (text after ':') of placeholder sg->var into sg.
 * field is the whole "{...}" for messages. */
static const char *rp_parse_spec(apr_pool_t *p, rp_fseg_t *sg, const char *s,
                                 const char *end, const char *field)
{
    int kind = rp_vars[sg->var].kind;
    const char *start = s;

    if (kind == RP_K_STR) {
        if (s < end && *s == '.') {
            s++;
            if (s == end || *s < '0' || *s > '9')
                return apr_psprintf(p, "missing precision after '.' in %s", field);
            if ((sg->prec = rp_parse_num(&s, end)) < 0)
                return apr_psprintf(p, "maximum length too large in %s "
                                    "(at most %d)", field, RP_FNAME_MAX);
        }
        if (s < end && *s == 's')
            sg->type = *s++;
        if (s != end)
            return apr_psprintf(p, "bad format spec in %s: string placeholders "
                                "accept only .N (keep at most N bytes)", field);
        return NULL;
    }

    if (s < end && *s == '0') {
        sg->zero = 1;
        s++;
    }
    if ((sg->width = rp_parse_num(&s, end)) < 0)
        return apr_psprintf(p, "width too large in %s (at most %d)",
                            field, RP_FNAME_MAX);
    if (s < end && *s == '.') {
        s++;
        if (s == end || *s < '0' || *s > '9')
            return apr_psprintf(p, "missing precision after '.' in %s", field);
        if ((sg->prec = rp_parse_num(&s, end)) < 0)
            return apr_psprintf(p, "precision too large in %s (at most %d)",
                                field, RP_FNAME_MAX);
    }
    if (s < end && (*s == 'f' || *s == 'd'))
        sg->type = *s++;
    if (s != end)
        return apr_psprintf(p, "bad format spec '%.*s' in %s: expected "
                            "[0][width][.precision][f|d]", (int)(end - start),
                            start, field);
    if (kind == RP_K_FLOAT && sg->type == 'd')
        return apr_psprintf(p, "format code 'd' in %s needs an integer, and "
                            "{%s} is a float: use .0f", field,
                            rp_vars[sg->var].name);
    /* Python: "Precision not allowed in integer format specifier". */
    if (kind == RP_K_INT && sg->prec >= 0 && sg->type != 'f')
        return apr_psprintf(p, "precision in %s needs format code 'f' "
                            "(integers take none)", field);
    return NULL;
}

/* Compiles the text between '{' and '}' (field is the whole "{...}"). */
static const char *rp_parse_field(apr_pool_t *p, rp_fseg_t *sg,
                                  const char *body, apr_size_t n)
{
    const char *field = apr_psprintf(p, "{%.*s}", (int)n, body);
    const char *end = body + n, *name_end = body;
    apr_size_t nlen, i;
    int all_digits = 1;

    while (name_end < end && *name_end != ':' && *name_end != '!')
        name_end++;
    nlen = (apr_size_t)(name_end - body);
    if (nlen == 0)
        return apr_psprintf(p, "empty placeholder %s: name one of "
                            RP_VAR_LIST, field);
    for (i = 0; i < nlen; i++)
        if (body[i] < '0' || body[i] > '9')
            all_digits = 0;
    if (all_digits)
        return apr_psprintf(p, "positional placeholder %s is not supported: "
                            "name one of " RP_VAR_LIST, field);
    if (memchr(body, '.', nlen) || memchr(body, '[', nlen) || memchr(body, ']', nlen))
        return apr_psprintf(p, "attribute or index access in %s is not "
                            "supported", field);
    if (name_end < end && *name_end == '!')
        return apr_psprintf(p, "conversion in %s is not supported "
                            "(values are sanitized anyway)", field);
    if ((sg->var = rp_var_lookup(body, nlen)) < 0)
        return apr_psprintf(p, "unknown placeholder %s: expected one of "
                            RP_VAR_LIST, field);
    if (name_end < end)
        return rp_parse_spec(p, sg, name_end + 1, end, field);
    return NULL;
}

const char *rp_fname_compile(apr_pool_t *p, const char *fmt, rp_fname_t **out)
{
    apr_size_t n, i = 0, litlen = 0;
    char *lit;          /* unescaped literal text of the segment being read */
    rp_fname_t *f;
    rp_fseg_t *sg;
    const char *err;

    if (fmt == NULL || *fmt == '\0')
        return "empty file name format";
    n = strlen(fmt);
    f = apr_pcalloc(p, sizeof(*f));
    /* At most one segment per byte plus one: no counting pass needed. */
    f->seg = apr_pcalloc(p, (n + 1) * sizeof(*f->seg));
    lit = apr_palloc(p, n + 1);

    while (i <= n) {
        char c = fmt[i];
        if (c == '{' && fmt[i + 1] == '{') {
            lit[litlen++] = '{';
            i += 2;
        }
        else if (c == '}' && fmt[i + 1] == '}') {
            lit[litlen++] = '}';
            i += 2;
        }
        else if (c == '}') {
            return apr_psprintf(p, "unbalanced '}' at \"%s\" in \"%s\": "
                                "write }} for a literal brace", fmt + i, fmt);
        }
        else if (c == '{' || c == '\0') {
            apr_size_t j = i + 1;
            if (litlen > 0) {
                sg = &f->seg[f->nseg++];
                sg->lit = lit;
                sg->len = litlen;
                lit += litlen;
                litlen = 0;
            }
            if (c == '\0')
                break;
            while (fmt[j] != '\0' && fmt[j] != '}' && fmt[j] != '{')
                j++;
            if (fmt[j] == '\0')
                return apr_psprintf(p, "unbalanced '{' at \"%s\" in \"%s\": "
                                    "expected '}'", fmt + i, fmt);
            if (fmt[j] == '{')
                return apr_psprintf(p, "nested '{' in \"%.*s\" in \"%s\": "
                                    "write {{ for a literal brace",
                                    (int)(j - i + 1), fmt + i, fmt);
            sg = &f->seg[f->nseg];
            sg->prec = -1;
            if ((err = rp_parse_field(p, sg, fmt + i + 1, j - i - 1)) != NULL)
                return err;
            f->uses |= 1u << sg->var;
            f->nseg++;
            i = j + 1;
        }
        else if (c == '/') {
            return apr_psprintf(p, "'/' in the literal text of \"%s\": the "
                                "format makes one file name, not a path", fmt);
        }
        else {
            lit[litlen++] = c;
            i++;
        }
    }
    /* A C string cannot hold a NUL, so '/' is the only byte to refuse. */
    *out = f;
    return NULL;
}

int rp_fname_uses(const rp_fname_t *f, const char *placeholder)
{
    int v;
    if (f == NULL || placeholder == NULL)
        return 0;
    v = rp_var_lookup(placeholder, strlen(placeholder));
    return v >= 0 && (f->uses & (1u << v)) != 0;
}

int rp_fname_uses_id(const rp_fname_t *f)
{
    return f != NULL
           && (f->uses & (1u << RP_V_ID | 1u << RP_V_TRACEID | 1u << RP_V_SPANID)) != 0;
}

int rp_fname_uses_trace(const rp_fname_t *f)
{
    return f != NULL && (f->uses & (1u << RP_V_TRACEID | 1u << RP_V_SPANID)) != 0;
}

/* The bytes a file name keeps: portable, no shell or path meaning. */
static int rp_safe_byte(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '.': case '_': case '~': case '+': case ',': case '=': case '@': case '-':
        return 1;
    default:
        return 0;
    }
}

/* The sig significant digits of |x| correctly rounded (by printf's
 * "%.*e"), without trailing zeros, into digits; *exp10 is the decimal
 * exponent of the first digit. Returns the digit count. */
static int rp_sci_digits(double x, int sig, char *digits, int *exp10)
{
    char tmp[RP_NUMBUF];
    const char *s = tmp;
    int nd = 0;

    snprintf(tmp, sizeof(tmp), "%.*e", sig - 1, fabs(x));
    /* "d.ddde+XX"; the decimal point may be a locale's comma. */
    for (; *s != 'e' && *s != '\0'; s++)
        if (*s >= '0' && *s <= '9')
            digits[nd++] = *s;
    *exp10 = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    return nd;
}

/* Python's general format of a finite double into buf: prec < 0 is
 * repr() (shortest round-trip, exponent from 1e16), prec >= 0 is
 * format(x, '.{prec}'): prec significant digits, exponent once the
 * integer part needs more than prec - 1 digits, and always a ".0" in
 * fixed notation. Returns the length. */
static int rp_py_general(char *buf, double x, int prec)
{
    char digits[RP_NUMBUF];
    int nd, exp10, threshold;

    if (prec < 0) {
        if (x == 0) {
            digits[0] = '0';
            nd = 1;
            exp10 = 0;
        }
        else {
            nd = rp_py_float_digits(fabs(x), digits, &exp10);
        }
        threshold = 16;
    }
    else {
        int sig = prec == 0 ? 1 : prec;
        nd = rp_sci_digits(x, sig, digits, &exp10);
        threshold = sig - 1;
    }
    return rp_py_layout(buf, signbit(x) != 0, digits, nd, exp10, threshold);
}

/* Formats a number placeholder as Python's format() would; the result is
 * from p and may hold spaces (width without '0'), which the copy step
 * turns into '_'. */
/* "%lld" of v, with a '-' also when neg is set and v is 0 ("-0", as
 * printf and Python print a negative number rounded to zero). */
static int rp_itoa(char *out, long long v, int neg)
{
    char rev[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0, len = 0;

    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0 || neg)
        out[len++] = '-';
    while (n)
        out[len++] = rev[--n];
    out[len] = '\0';
    return len;
}

static const char *rp_format_num(apr_pool_t *p, const rp_fseg_t *sg,
                                 double d, long l, int is_int, apr_size_t *lenp)
{
    char core[RP_NUMBUF];
    int n;
    char *out;
    apr_size_t pad, signlen;

    if (is_int && sg->type != 'f')
        n = rp_itoa(core, l, 0);
    else if (sg->type == 'f' && sg->prec == 0 && fabs(d) < 1e15) {
        /* The default names' {elapsed:.0f} and {time:.0f}, once per file:
         * nearbyint rounds half to even like printf, without its cost. */
        double r = nearbyint(d);
        n = rp_itoa(core, (long long)r, signbit(r) != 0);
    }
    else if (isnan(d))
        n = snprintf(core, sizeof(core), "nan");    /* Python drops the sign */
    else if (isinf(d))
        n = snprintf(core, sizeof(core), "%s", d < 0 ? "-inf" : "inf");
    else if (sg->type == 'f')
        n = snprintf(core, sizeof(core), "%.*f", sg->prec < 0 ? 6 : sg->prec, d);
    else
        n = rp_py_general(core, d, sg->prec);
    if (n < 0 || n >= (int)sizeof(core))     /* cannot happen: see RP_NUMBUF */
        n = snprintf(core, sizeof(core), "nan");

    if (n >= sg->width) {
        *lenp = (apr_size_t)n;
        return apr_pstrmemdup(p, core, (apr_size_t)n);
    }
    pad = (apr_size_t)(sg->width - n);
    out = apr_palloc(p, (apr_size_t)sg->width + 1);
    if (sg->zero) {
        /* Python puts zeros between the sign and the digits. */
        signlen = core[0] == '-' ? 1 : 0;
        memcpy(out, core, signlen);
        memset(out + signlen, '0', pad);
        memcpy(out + signlen + pad, core + signlen, (apr_size_t)n - signlen);
    }
    else {
        memset(out, ' ', pad);
        memcpy(out + pad, core, (apr_size_t)n);
    }
    out[sg->width] = '\0';
    *lenp = (apr_size_t)sg->width;
    return out;
}

/* Shortens string values so the name fits budget bytes: {path} first
 * (down to RP_FNAME_PATH_FLOOR), then the longest strings evenly. Returns
 * the total length, which still exceeds budget only when literal text and
 * numbers alone do. */
static apr_size_t rp_fit(rp_fval_t *vals, int n, apr_size_t budget)
{
    apr_size_t total = 0, fixed = 0, strs, room, lo, hi, maxlen = 0, sum;
    int i;

    for (i = 0; i < n; i++) {
        vals[i].len = vals[i].full;
        total += vals[i].len;
        if (vals[i].copy == RP_C_STR || vals[i].copy == RP_C_PATH) {
            if (vals[i].len > maxlen)
                maxlen = vals[i].len;
        }
        else {
            fixed += vals[i].len;
        }
    }
    for (i = 0; i < n && total > budget; i++) {
        apr_size_t cut;
        if (vals[i].copy != RP_C_PATH || vals[i].len <= RP_FNAME_PATH_FLOOR)
            continue;
        cut = vals[i].len - RP_FNAME_PATH_FLOOR;
        if (cut > total - budget)
            cut = total - budget;
        vals[i].len -= cut;
        total -= cut;
    }
    if (total <= budget)
        return total;

    /* Water-filling: the largest cap L with sum(min(len, L)) <= room. */
    room = fixed < budget ? budget - fixed : 0;
    lo = 0;
    hi = maxlen;
    while (lo < hi) {
        apr_size_t mid = lo + (hi - lo + 1) / 2;
        sum = 0;
        for (i = 0; i < n; i++)
            if (vals[i].copy == RP_C_STR || vals[i].copy == RP_C_PATH)
                sum += vals[i].len < mid ? vals[i].len : mid;
        if (sum <= room)
            lo = mid;
        else
            hi = mid - 1;
    }
    strs = 0;
    for (i = 0; i < n; i++) {
        if (vals[i].copy != RP_C_STR && vals[i].copy != RP_C_PATH)
            continue;
        if (vals[i].len > lo)
            vals[i].len = lo;
        strs += vals[i].len;
    }
    /* Hand the bytes the cap left over to the first strings that were cut. */
    for (i = 0; i < n && strs < room; i++) {
        if ((vals[i].copy == RP_C_STR || vals[i].copy == RP_C_PATH)
            && vals[i].len < vals[i].full) {
            vals[i].len++;
            strs++;
        }
    }
    return fixed + strs;
}

/* Builds the name from vals within budget bytes, from p with one spare
 * byte for a '_' prefix; returns it and its length in *lenp. */
static char *rp_assemble(apr_pool_t *p, rp_fval_t *vals, int n,
                         apr_size_t budget, apr_size_t *lenp)
{
    apr_size_t total = rp_fit(vals, n, budget), o = 0, k;
    char *buf = apr_palloc(p, total + 2);
    int i;

    for (i = 0; i < n; i++) {
        const unsigned char *s = (const unsigned char *)vals[i].s;
        int copy = vals[i].copy;
        for (k = 0; k < vals[i].len; k++) {
            unsigned char c = s[k];
            if (copy == RP_C_PATH && c == '/')
                c = '.';
            else if (copy != RP_C_LIT && !rp_safe_byte(c))
                c = '_';
            buf[o++] = (char)c;
        }
    }
    if (o > budget) {
        /* Literal text and numbers alone are too long: cut the middle and
         * keep the last bytes, which hold the extension. */
        memmove(buf + budget - RP_FNAME_TAIL, buf + o - RP_FNAME_TAIL,
                RP_FNAME_TAIL);
        o = budget;
    }
    buf[o] = '\0';
    *lenp = o;
    return buf;
}

const char *rp_fname_expand(apr_pool_t *p, const rp_fname_t *f,
                            const rp_fname_vars_t *v)
{
    static const rp_fname_vars_t none;
    rp_fval_t *vals;
    char *buf;
    apr_size_t len;
    int i;

    if (v == NULL)
        v = &none;
    if (f == NULL || f->nseg == 0)
        return "_";
    vals = apr_palloc(p, (apr_size_t)f->nseg * sizeof(*vals));
    for (i = 0; i < f->nseg; i++) {
        const rp_fseg_t *sg = &f->seg[i];
        rp_fval_t *val = &vals[i];
        const char *s = NULL;

        if (sg->lit != NULL) {
            val->s = sg->lit;
            val->full = sg->len;
            val->copy = RP_C_LIT;
            continue;
        }
        val->copy = RP_C_STR;
        switch (sg->var) {
        case RP_V_METHOD: s = v->method; break;
        case RP_V_VHOST:  s = v->vhost; break;
        case RP_V_ID:     s = v->id; break;
        case RP_V_EXT:    s = v->ext; break;
        /* A request without a (valid) traceparent: its id, never "". */
        case RP_V_TRACEID: s = v->traceid && *v->traceid ? v->traceid : v->id; break;
        case RP_V_SPANID:  s = v->spanid && *v->spanid ? v->spanid : v->id; break;
        case RP_V_PATH:
            s = v->path ? v->path : "";
            val->copy = RP_C_PATH;
            break;
        case RP_V_ELAPSED:
            val->s = rp_format_num(p, sg, v->elapsed_ms, 0, 0, &val->full);
            val->copy = RP_C_NUM;
            continue;
        case RP_V_TIME:
            val->s = rp_format_num(p, sg, v->time, 0, 0, &val->full);
            val->copy = RP_C_NUM;
            continue;
        default:    /* RP_V_STATUS, RP_V_PID */
            {
                long l = sg->var == RP_V_STATUS ? v->status : v->pid;
                val->s = rp_format_num(p, sg, (double)l, l, 1, &val->full);
                val->copy = RP_C_NUM;
            }
            continue;
        }
        if (s == NULL)
            s = "";
        val->full = strlen(s);
        if (val->copy == RP_C_PATH) {
            /* Werkzeug: path.strip("/").replace("/", ".") or "root". */
            while (val->full > 0 && *s == '/') {
                s++;
                val->full--;
            }
            while (val->full > 0 && s[val->full - 1] == '/')
                val->full--;
            if (val->full == 0) {
                s = "root";
                val->full = 4;
            }
        }
        if (sg->prec >= 0 && val->full > (apr_size_t)sg->prec)
            val->full = (apr_size_t)sg->prec;
        val->s = s;
    }

    buf = rp_assemble(p, vals, f->nseg, RP_FNAME_MAX, &len);
    if (len > 0 && buf[0] == '.') {
        /* No hidden files, never "." or "..": prefix '_', which may cost
         * the name one byte. */
        if (len == RP_FNAME_MAX)
            buf = rp_assemble(p, vals, f->nseg, RP_FNAME_MAX - 1, &len);
        if (buf[0] == '.') {
            memmove(buf + 1, buf, len + 1);
            buf[0] = '_';
            len++;
        }
    }
    if (len == 0)
        return "_";
    return buf;
}
