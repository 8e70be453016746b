/*
 * fuzz_writers.c - the callgrind, Chrome trace, collapsed-stack and flame
 * (SVG) writers (lib/rp_callgrind.c, rp_chrome.c, rp_collapsed.c,
 * rp_flame.c) fed by random profiles, their output parsed back here.
 *
 * First input byte, low bit:
 *   0 - a profile recorded through lib/rp_prof.c's API with the event log
 *       on (sometimes too small): random nesting of requests, subrequests,
 *       request-less calls, phases, hooks and dynamic entries, requests
 *       ending with calls open; names are input bytes (invalid UTF-8
 *       too). What the module writes.
 *   1 - an rp_stats_t and a trace built directly: any graph (cycles,
 *       self-calls, several roots or none, dangling caller indexes), any
 *       finite non-negative times and any counts, events naming functions
 *       that do not exist. Only the output's structure is required.
 *
 * Callgrind: the header, then one "fl= fn= cost" block per function with
 * its call blocks "cfl= cfn= calls=N LINE" + cost, "totals:" equal to
 * "summary:"; names one line each, valid UTF-8, never starting with '(',
 * fl=/fn= as rp_callgrind.h says (never a path in fl=); recorded profiles: a call line per
 * caller edge with its count, self costs adding up to the summary.
 * Chrome: one valid JSON object (a parser here, strict: UTF-8, no control
 * characters, JSON numbers); two "M" events, one "X" per logged frame of
 * an existing function unless 0 us long (then counted in
 * otherData.hidden_events), no args, ts/dur whole microseconds in start
 * order and strictly nested (no slice crosses the end of an open one,
 * none of 0 us but the first), otherData's counts numbers; recorded:
 * the root first, where it started.
 * Collapsed: lines "FRAME;FRAME... COUNT", every path starting at the
 * root's name, at most 128 frames, whole counts, zero only for the root's
 * own line; recorded trees: counts add up to the root's time.
 * Flame: well-formed SVG (tags balanced, text and attributes escaped,
 * valid UTF-8 without control characters whatever the names), at most
 * RP_FLAME_MAX_RECTS frames RP_FLAME_MAX_DEPTH deep, each rect inside the
 * canvas and inside its parent.
 */
#include <math.h>
#include <apr_strings.h>
#include "fuzz_common.h"
#include "rp_callgrind.h"
#include "rp_chrome.h"
#include "rp_collapsed.h"
#include "rp_flame.h"
#include "rp_outfmt.h"
#include "rp_prof.h"
#include "rp_text.h"

#define FUZZ_MAX_OPS 2048
#define FUZZ_NREQ 4
#define NAME_MAX_BYTES 1024         /* rp_outfmt.c's cut for names */

typedef struct profile {
    rp_stats_t *st;
    rp_trace_t *tr;
    int recorded;
} profile_t;

/* ------------------------------------------------- random live profiles */

static const char *fuzz_paths[FUZZ_NREQ];

static const char *label(const void *req, apr_pool_t *p)
{
    const char *const *r = req;

    return apr_pstrcat(p, r == &fuzz_paths[1] ? "redirect " : "subrequest ",
                       rp_utf8_clean(p, *r, 256), NULL);
}

static void recorded(fuzz_in_t *in, apr_pool_t *p, profile_t *out)
{
    static const char *const phases[] = { "translate_name", "access_checker",
                                          "handler", "log_transaction" };
    static const double spt[] = { 1e-9, 1e-6, 1.0 / 3e9, 1e-3 };
    rp_registry_t *reg = rp_registry_create(p, 40);
    rp_prof_t *prof;
    rp_tick_t now = fuzz_u64(in) >> 12;
    unsigned setup = fuzz_byte(in);
    int handles[RP_MAX_DEPTH + 8], nh = 0, ops, i, n;
    double sec_per_tick = spt[setup & 3];

    for (i = 0; i < 4; i++)
        rp_registry_add(reg, "httpd", 0, phases[i]);
    n = 1 + (int)(fuzz_byte(in) % 24);
    for (i = 0; i < n; i++) {
        const char *file = fuzz_str(in, p), *name = fuzz_str(in, p);
        rp_registry_add(reg, file, (int)(fuzz_byte(in) % 5), name);
    }
    for (i = 0; i < FUZZ_NREQ; i++)
        fuzz_paths[i] = fuzz_str(in, p);

    prof = rp_prof_create(p, reg, label);
    /* The event log: mostly roomy, sometimes a few frames only. */
    rp_prof_set_event_log(prof, (setup & 4) ? (int)(setup >> 3) : 4096);
    rp_prof_begin(prof, &fuzz_paths[0],
                  apr_pstrcat(p, "request GET ", rp_utf8_clean(p, fuzz_paths[0], 256),
                              NULL), now);
    for (ops = 0; in->n > 0 && ops < FUZZ_MAX_OPS; ops++) {
        unsigned op = fuzz_byte(in);
        int h = -1;

        now += (op >> 4) * ((op & 8) ? 999983u : 7u);
        switch (op & 7) {
        case 0: case 1: case 2: {
            unsigned r = fuzz_byte(in);
            const void *req = (r & 3) == 3 ? NULL : &fuzz_paths[r & 3];
            h = rp_prof_enter(prof, req, (int)((r >> 2) % 5) - 1,
                              (int)(fuzz_byte(in) % (unsigned)(reg->n + 2)), now);
            break;
        }
        case 3: {
            unsigned r = fuzz_byte(in);
            const void *req = (r & 3) == 3 ? NULL : &fuzz_paths[r & 3];
            const char *lab = fuzz_str(in, p);
            h = rp_prof_enter_dynamic(prof, req, (r & 4) ? fuzz_str(in, p) : NULL,
                                      (int)(r >> 4), rp_utf8_clean(p, lab, 256), now);
            break;
        }
        case 4: case 5:
            if (nh > 0)
                rp_prof_exit(prof, handles[--nh], now);
            break;
        case 6:
            rp_prof_end(prof, now);
            nh = 0;
            if (fuzz_byte(in) & 1)
                rp_prof_begin(prof, &fuzz_paths[0], "request GET /again", now);
            break;
        case 7: {
            /* a subrequest destroyed; a CGI run's CPU children */
            unsigned r = fuzz_byte(in);
            if (r & 1)
                rp_prof_forget(prof, &fuzz_paths[(r >> 1) % 3]);
            else if (nh > 0)
                rp_prof_add_child(prof, handles[nh - 1], "/x.cgi", 1,
                                  rp_utf8_clean(p, fuzz_str(in, p), 64),
                                  (rp_tick_t)(r >> 1) * 1000u, now);
            break;
        }
        default:
            break;
        }
        if (h >= 0 && nh < (int)(sizeof handles / sizeof handles[0]))
            handles[nh++] = h;
    }
    rp_prof_end(prof, now + 1);
    out->st = rp_prof_stats(prof, p, sec_per_tick);
    out->tr = rp_prof_trace(prof, p, sec_per_tick);
    out->recorded = 1;
}

/* ------------------------------------------ hand-made profile and trace */

/* A finite, non-negative time from two bytes: 0 .. ~65 s, or tiny. */
static double any_time(fuzz_in_t *in)
{
    unsigned v = fuzz_byte(in) << 8 | fuzz_byte(in);

    return (v & 1) ? v * 1e-9 : v * 1e-3;
}

static void direct(fuzz_in_t *in, apr_pool_t *p, profile_t *out)
{
    rp_stats_t *st = apr_pcalloc(p, sizeof *st);
    rp_trace_t *tr = apr_pcalloc(p, sizeof *tr);
    int i, j;

    st->nfuncs = (int)(fuzz_byte(in) % 48);
    st->funcs = apr_pcalloc(p, sizeof(rp_func_t) * (size_t)(st->nfuncs + 1));
    for (i = 0; i < st->nfuncs; i++) {
        rp_func_t *f = &st->funcs[i];
        unsigned b = fuzz_byte(in);

        f->file = (b & 1) ? "httpd" : fuzz_str(in, p);
        f->name = fuzz_str(in, p);
        f->line = (int)(int8_t)fuzz_byte(in);
        f->nc = (int64_t)(int16_t)(fuzz_byte(in) << 8 | fuzz_byte(in));
        f->cc = f->nc / 2;
        f->tt = any_time(in);
        f->ct = (b & 2) ? f->tt + any_time(in) : any_time(in);
        f->ncallers = (int)((b >> 2) % 5);
        f->callers = apr_pcalloc(p, sizeof(rp_edge_t) * (size_t)(f->ncallers + 1));
        for (j = 0; j < f->ncallers; j++) {
            rp_edge_t *e = &f->callers[j];

            e->caller = (int)(int8_t)fuzz_byte(in);     /* may dangle */
            e->nc = (int64_t)(int8_t)fuzz_byte(in);
            e->cc = e->nc;
            e->tt = any_time(in);
            e->ct = any_time(in);
        }
    }
    tr->n = (int)(fuzz_byte(in) % 64);
    tr->ev = apr_pcalloc(p, sizeof(rp_trace_ev_t) * (size_t)(tr->n + 1));
    for (i = 0; i < tr->n; i++) {
        tr->ev[i].func = (int)(int8_t)fuzz_byte(in);
        tr->ev[i].depth = (int)(fuzz_byte(in) % 100);
        tr->ev[i].ts = any_time(in) * 1e6;
        tr->ev[i].dur = any_time(in) * 1e6;
    }
    tr->dropped = (long)(int8_t)fuzz_byte(in);
    out->st = st;
    out->tr = tr;
    out->recorded = 0;
}

/* ------------------------------------------------------------- helpers */

typedef struct lines {
    const char *d;
    size_t n, pos;
    int lineno;
} lines_t;

/* The next line (without its '\n'), NULL at the end. */
static const char *next_line(lines_t *l, apr_pool_t *p)
{
    const char *nl;
    const char *s;

    if (l->pos >= l->n)
        return NULL;
    nl = memchr(l->d + l->pos, '\n', l->n - l->pos);
    FUZZ_CHECK(nl != NULL, "last line without a newline");
    s = apr_pstrndup(p, l->d + l->pos, (apr_size_t)(nl - (l->d + l->pos)));
    FUZZ_CHECK(strlen(s) == (size_t)(nl - (l->d + l->pos)), "NUL in line %d", l->lineno);
    l->pos = (size_t)(nl - l->d) + 1;
    l->lineno++;
    return s;
}

static void check_text(const char *s, size_t n, const char *what)
{
    size_t i;

    FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)s, n), "%s: not UTF-8", what);
    for (i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)s[i] >= 0x20 || s[i] == '\n',
                   "%s: control byte 0x%02x at %zu", what, (unsigned char)s[i], i);
}

/* A whole number in decimal (optionally signed): its value. */
static int parse_int(const char *s, int allow_sign, long long *v)
{
    char *end;

    if (!((*s >= '0' && *s <= '9') || (allow_sign && *s == '-' && s[1] >= '0' && s[1] <= '9')))
        return 0;
    *v = strtoll(s, &end, 10);
    return *end == '\0';
}

static unsigned long long ns(double s)
{
    double v = floor(s * 1e9 + 0.5);

    return v > 0 ? (unsigned long long)v : 0ULL;
}

/* ------------------------------------------------------------ callgrind */

static const char *cg_value(const char *line, const char *prefix)
{
    size_t n = strlen(prefix);

    FUZZ_CHECK(line != NULL, "output ends before '%s'", prefix);
    FUZZ_CHECK(strncmp(line, prefix, n) == 0, "expected '%s', got '%s'", prefix, line);
    return line + n;
}

static void cg_name(const char *name, const char *display)
{
    FUZZ_CHECK(name[0] != '\0' && name[0] != '(', "callgrind name '%s'", name);
    if (display[0] == '\0')
        FUZZ_CHECK(strcmp(name, "?") == 0, "empty name written as '%s'", name);
    else if (display[0] == '(')
        FUZZ_CHECK(name[0] == ' ' && strcmp(name + 1, display) == 0,
                   "'%s' written as '%s'", display, name);
    else
        FUZZ_CHECK(strcmp(name, display) == 0, "'%s' written as '%s'", display, name);
}

static void cg_cost(const char *line, long long *pos, long long *cost, apr_pool_t *p)
{
    const char *sp;

    FUZZ_CHECK(line != NULL, "cost line missing");
    sp = strchr(line, ' ');
    FUZZ_CHECK(sp != NULL, "cost line '%s'", line);
    FUZZ_CHECK(parse_int(apr_pstrndup(p, line, (apr_size_t)(sp - line)), 0, pos)
               && parse_int(sp + 1, 0, cost), "cost line '%s'", line);
}

static void check_callgrind(const profile_t *pr, apr_pool_t *p)
{
    const rp_stats_t *st = pr->st;
    rp_callgrind_meta_t m = { "GET /x\n(y)", 1234 };
    const char *out = NULL, *l;
    apr_size_t len = 0;
    apr_status_t rv = rp_callgrind_encode(st, &m, p, &out, &len);
    lines_t ls;
    long long summary = -1, totals = -1, pos, cost, selfsum = 0;
    int i, j, calls = 0, want_calls = 0;

    if (st->nfuncs == 0) {
        FUZZ_CHECK(rv == APR_EINVAL, "empty profile encoded");
        return;
    }
    FUZZ_CHECK(rv == APR_SUCCESS && out != NULL, "callgrind encode failed");
    check_text(out, len, "callgrind");
    ls.d = out;
    ls.n = len;
    ls.pos = 0;
    ls.lineno = 1;
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "# callgrind format"), "no format line");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "version: 1"), "no version");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "creator: mod_reqprof"), "no creator");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "pid: 1234"), "no pid");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "cmd: GET /x?(y)"), "cmd not cleaned");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "part: 1"), "no part");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), ""), "no blank line");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "positions: line"), "no positions");
    FUZZ_CHECK(!strcmp(next_line(&ls, p), "events: ns"), "no events");
    l = next_line(&ls, p);
    FUZZ_CHECK(parse_int(cg_value(l, "summary: "), 0, &summary), "summary '%s'", l);
    FUZZ_CHECK(!strcmp(next_line(&ls, p), ""), "no blank line");

    for (i = 0; i < st->nfuncs; i++) {
        const rp_func_t *f = &st->funcs[i];

        const char *file = f->file ? f->file : "", *fl;

        /* httpd's nodes fl=httpd fn=NAME; module entries fl=FILE
         * fn=LINE(NAME); a path (or nothing) as file: fl=??? fn=the
         * display name. Never a '/' in fl=: no file to open. */
        fl = cg_value(next_line(&ls, p), "fl=");
        FUZZ_CHECK(!strchr(fl, '/'), "fl=%s", fl);
        if (!strcmp(file, "httpd")) {
            cg_name(fl, "httpd");
            cg_name(cg_value(next_line(&ls, p), "fn="),
                    rp_utf8_clean(p, f->name, NAME_MAX_BYTES));
        }
        else if (*file && !strchr(file, '/') && strcmp(file, "???")) {
            cg_name(fl, rp_utf8_clean(p, file, NAME_MAX_BYTES));
            cg_name(cg_value(next_line(&ls, p), "fn="),
                    rp_utf8_clean(p, apr_psprintf(p, "%d(%s)", f->line, f->name),
                                  NAME_MAX_BYTES));
        }
        else {
            cg_name(fl, "???");
            cg_name(cg_value(next_line(&ls, p), "fn="), rp_func_display(p, f));
        }
        cg_cost(next_line(&ls, p), &pos, &cost, p);
        FUZZ_CHECK(pos == (f->line > 0 ? f->line : 0), "position %lld of line %d",
                   pos, f->line);
        FUZZ_CHECK((unsigned long long)cost == ns(f->tt), "self cost %lld of %g s",
                   cost, f->tt);
        selfsum += cost;
        while ((l = next_line(&ls, p)) != NULL && l[0] != '\0') {
            long long n, target;
            const char *c, *sp;

            (void)cg_value(l, "cfl=");
            (void)cg_value(next_line(&ls, p), "cfn=");
            c = cg_value(next_line(&ls, p), "calls=");
            sp = strchr(c, ' ');
            FUZZ_CHECK(sp && parse_int(apr_pstrndup(p, c, (apr_size_t)(sp - c)), 1, &n)
                       && parse_int(sp + 1, 0, &target), "calls line 'calls=%s'", c);
            if (pr->recorded)
                FUZZ_CHECK(n >= 1, "calls=%lld", n);
            cg_cost(next_line(&ls, p), &pos, &cost, p);
            calls++;
        }
        FUZZ_CHECK(l != NULL, "function block %d not closed", i);
    }
    l = next_line(&ls, p);
    FUZZ_CHECK(l && parse_int(cg_value(l, "totals: "), 0, &totals), "totals '%s'", l);
    FUZZ_CHECK(totals == summary, "totals %lld, summary %lld", totals, summary);
    FUZZ_CHECK(next_line(&ls, p) == NULL, "text after totals");
    /* Every edge with a real caller is one call block. */
    for (i = 0; i < st->nfuncs; i++)
        for (j = 0; j < st->funcs[i].ncallers; j++)
            want_calls += st->funcs[i].callers[j].caller >= 0
                          && st->funcs[i].callers[j].caller < st->nfuncs;
    FUZZ_CHECK(calls == want_calls, "%d call blocks for %d edges", calls, want_calls);
    /* The summary is the sum of the self costs, to rounding. */
    if (pr->recorded)
        FUZZ_CHECK(llabs(selfsum - summary) <= st->nfuncs / 2 + 1,
                   "self costs %lld, summary %lld", selfsum, summary);
}

/* ---------------------------------------------------------------- JSON */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    double num;
    char *str;              /* J_STR: decoded, NUL-terminated */
    int n;                  /* J_ARR, J_OBJ: members */
    char **keys;
    struct jv **vals;
} jv_t;

typedef struct jp {
    const char *s;
    size_t n, pos;
    apr_pool_t *p;
    int depth;
} jp_t;

static void j_ws(jp_t *j)
{
    while (j->pos < j->n && strchr(" \t\r\n", j->s[j->pos]) && j->s[j->pos])
        j->pos++;
}

static int j_peek(jp_t *j)
{
    j_ws(j);
    return j->pos < j->n ? (unsigned char)j->s[j->pos] : -1;
}

static void j_expect(jp_t *j, char c)
{
    FUZZ_CHECK(j_peek(j) == c, "JSON: expected '%c' at %zu", c, j->pos);
    j->pos++;
}

static unsigned j_hex4(jp_t *j)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int c;
        FUZZ_CHECK(j->pos < j->n, "JSON: \\u cut");
        c = j->s[j->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            FUZZ_CHECK(0, "JSON: bad \\u digit");
    }
    return v;
}

static char *j_string(jp_t *j)
{
    size_t start, cap, k = 0;
    char *out;

    j_expect(j, '"');
    start = j->pos;
    cap = 4 * (j->n - start) + 1;
    out = apr_palloc(j->p, cap);
    for (;;) {
        unsigned char c;

        FUZZ_CHECK(j->pos < j->n, "JSON: string not closed");
        c = (unsigned char)j->s[j->pos++];
        if (c == '"')
            break;
        FUZZ_CHECK(c >= 0x20, "JSON: raw control 0x%02x in a string", c);
        if (c != '\\') {
            out[k++] = (char)c;
            continue;
        }
        FUZZ_CHECK(j->pos < j->n, "JSON: escape cut");
        c = (unsigned char)j->s[j->pos++];
        switch (c) {
        case '"': case '\\': case '/': out[k++] = (char)c; break;
        case 'b': out[k++] = '\b'; break;
        case 'f': out[k++] = '\f'; break;
        case 'n': out[k++] = '\n'; break;
        case 'r': out[k++] = '\r'; break;
        case 't': out[k++] = '\t'; break;
        case 'u': {
            unsigned u = j_hex4(j);
            /* The writer escapes control characters only. */
            FUZZ_CHECK(u < 0x80 && u != 0, "JSON: \\u%04x", u);
            out[k++] = (char)u;
            break;
        }
        default:
            FUZZ_CHECK(0, "JSON: bad escape '\\%c'", c);
        }
    }
    out[k] = '\0';
    FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)out, k), "JSON string not UTF-8");
    return out;
}

static double j_number(jp_t *j)
{
    size_t start = j->pos;
    char *num, *end;
    double v;

    if (j->pos < j->n && j->s[j->pos] == '-')
        j->pos++;
    FUZZ_CHECK(j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9',
               "JSON: bad number at %zu", start);
    if (j->s[j->pos] == '0')
        j->pos++;
    else
        while (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
            j->pos++;
    if (j->pos < j->n && j->s[j->pos] == '.') {
        j->pos++;
        FUZZ_CHECK(j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9',
                   "JSON: no digit after '.' at %zu", start);
        while (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
            j->pos++;
    }
    if (j->pos < j->n && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        j->pos++;
        if (j->pos < j->n && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
            j->pos++;
        FUZZ_CHECK(j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9',
                   "JSON: bad exponent at %zu", start);
        while (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
            j->pos++;
    }
    num = apr_pstrndup(j->p, j->s + start, (apr_size_t)(j->pos - start));
    v = strtod(num, &end);
    FUZZ_CHECK(*end == '\0' && isfinite(v), "JSON: number '%s'", num);
    return v;
}

static jv_t *j_value(jp_t *j)
{
    jv_t *v = apr_pcalloc(j->p, sizeof *v);
    int c = j_peek(j), cap = 8;

    FUZZ_CHECK(++j->depth < 64, "JSON nested too deep");
    if (c == '{' || c == '[') {
        int obj = c == '{';

        j->pos++;
        v->type = obj ? J_OBJ : J_ARR;
        v->keys = apr_pcalloc(j->p, sizeof(char *) * (size_t)cap);
        v->vals = apr_pcalloc(j->p, sizeof(jv_t *) * (size_t)cap);
        if (j_peek(j) == (obj ? '}' : ']'))
            j->pos++;
        else
            for (;;) {
                if (v->n == cap) {
                    char **k = apr_pcalloc(j->p, sizeof(char *) * (size_t)cap * 2);
                    jv_t **w = apr_pcalloc(j->p, sizeof(jv_t *) * (size_t)cap * 2);
                    memcpy(k, v->keys, sizeof(char *) * (size_t)cap);
                    memcpy(w, v->vals, sizeof(jv_t *) * (size_t)cap);
                    v->keys = k;
                    v->vals = w;
                    cap *= 2;
                }
                if (obj) {
                    int i;
                    v->keys[v->n] = j_string(j);
                    for (i = 0; i < v->n; i++)
                        FUZZ_CHECK(strcmp(v->keys[i], v->keys[v->n]) != 0,
                                   "JSON: duplicate key '%s'", v->keys[i]);
                    j_expect(j, ':');
                }
                v->vals[v->n++] = j_value(j);
                c = j_peek(j);
                j->pos++;
                if (c == ',')
                    continue;
                FUZZ_CHECK(c == (obj ? '}' : ']'), "JSON: expected ',' or close at %zu",
                           j->pos - 1);
                break;
            }
    }
    else if (c == '"') {
        v->type = J_STR;
        v->str = j_string(j);
    }
    else if (c == '-' || (c >= '0' && c <= '9')) {
        v->type = J_NUM;
        v->num = j_number(j);
    }
    else {
        static const char *const lits[] = { "true", "false", "null" };
        int i, ok = 0;
        for (i = 0; i < 3 && !ok; i++)
            if (j->n - j->pos >= strlen(lits[i])
                && !memcmp(j->s + j->pos, lits[i], strlen(lits[i]))) {
                j->pos += strlen(lits[i]);
                v->type = i < 2 ? J_BOOL : J_NULL;
                ok = 1;
            }
        FUZZ_CHECK(ok, "JSON: unexpected byte 0x%02x at %zu", (unsigned)c, j->pos);
    }
    j->depth--;
    return v;
}

static const jv_t *j_get(const jv_t *o, const char *key, int type)
{
    int i;

    FUZZ_CHECK(o->type == J_OBJ, "not an object looking for '%s'", key);
    for (i = 0; i < o->n; i++)
        if (!strcmp(o->keys[i], key)) {
            FUZZ_CHECK(o->vals[i]->type == type, "'%s' has type %d, not %d", key,
                       o->vals[i]->type, type);
            return o->vals[i];
        }
    FUZZ_CHECK(0, "no '%s'", key);
    return NULL;
}

/* -------------------------------------------------------------- chrome */

static void check_chrome(const profile_t *pr, apr_pool_t *p)
{
    const rp_stats_t *st = pr->st;
    const rp_trace_t *tr = pr->tr;
    rp_chrome_meta_t m = { 42, 7, 0.0, 1.7e15, "httpd \"www\"\n", "GET /\x01\xff",
                           NULL, NULL };
    const char *out = NULL;
    apr_size_t len = 0;
    apr_status_t rv;
    jp_t j;
    const jv_t *root, *evs, *e, *other;
    int i, k, nx = 0, nopen = 0;
    double open_s[130], open_e[130], last_ts = -1;

    m.origin_us = (tr->n & 1) ? 1000.5 : 0.0;
    if (tr->n & 2)
        m.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    rv = rp_chrome_encode(st, tr, &m, p, &out, &len);
    if (st->nfuncs == 0) {
        FUZZ_CHECK(rv == APR_EINVAL, "empty profile encoded");
        return;
    }
    FUZZ_CHECK(rv == APR_SUCCESS && out != NULL, "chrome encode failed");
    j.s = out;
    j.n = len;
    j.pos = 0;
    j.p = p;
    j.depth = 0;
    root = j_value(&j);
    FUZZ_CHECK(j_peek(&j) == -1, "bytes after the JSON value at %zu", j.pos);
    evs = j_get(root, "traceEvents", J_ARR);
    FUZZ_CHECK(!strcmp(j_get(root, "displayTimeUnit", J_STR)->str, "ms"), "unit");
    other = j_get(root, "otherData", J_OBJ);
    FUZZ_CHECK(j_get(other, "dropped_events", J_NUM)->num == (double)tr->dropped,
               "otherData.dropped_events");
    FUZZ_CHECK(j_get(other, "request_start_us", J_NUM)->num == 1.7e15, "request_start_us");
    if (m.trace_id)
        FUZZ_CHECK(!strcmp(j_get(other, "trace_id", J_STR)->str, m.trace_id), "trace_id");
    FUZZ_CHECK(evs->n >= 2, "%d events", evs->n);
    for (i = 0; i < 2; i++) {
        e = evs->vals[i];
        FUZZ_CHECK(!strcmp(j_get(e, "ph", J_STR)->str, "M"), "event %d not M", i);
        FUZZ_CHECK(!strcmp(j_get(e, "name", J_STR)->str,
                           i ? "thread_name" : "process_name"), "metadata name");
        /* rp_buf_json_str keeps control characters (as \u00XX) where
         * rp_utf8_clean makes them '?': equal once both are cleaned. */
        FUZZ_CHECK(!strcmp(rp_utf8_clean(p, j_get(j_get(e, "args", J_OBJ), "name",
                                                  J_STR)->str, NAME_MAX_BYTES),
                           rp_utf8_clean(p, i ? m.thread_name : m.process_name,
                                         NAME_MAX_BYTES)), "metadata value");
    }
    for (i = 0; i < tr->n; i++)
        if (tr->ev[i].func >= 0 && tr->ev[i].func < st->nfuncs)
            nx++;
    for (k = 2; k < evs->n; k++) {
        double ts, dur;
        int x;

        e = evs->vals[k];
        FUZZ_CHECK(!strcmp(j_get(e, "ph", J_STR)->str, "X"), "event %d not X", k);
        (void)j_get(e, "name", J_STR);
        (void)j_get(e, "cat", J_STR);
        for (x = 0; x < e->n; x++)
            FUZZ_CHECK(strcmp(e->keys[x], "args"), "slice %d has args", k);
        FUZZ_CHECK(j_get(e, "pid", J_NUM)->num == 42 && j_get(e, "tid", J_NUM)->num == 7,
                   "pid/tid of %d", k);
        ts = j_get(e, "ts", J_NUM)->num;
        dur = j_get(e, "dur", J_NUM)->num;
        FUZZ_CHECK(ts == floor(ts) && dur == floor(dur) && ts >= 0 && dur >= 0
                   && ts + dur <= 9007199254740991.0, "ts/dur of %d not whole", k);
        FUZZ_CHECK(ts >= last_ts, "slice %d starts before the one before it", k);
        last_ts = ts;
        /* Strict nesting: against the open slices, a slice either lies
         * inside the innermost or starts at or after its end (then that
         * one is closed); never across an end. Only a top-level slice
         * may be 0 us long. */
        while (nopen > 0 && !(ts >= open_s[nopen - 1] && ts + dur <= open_e[nopen - 1])) {
            FUZZ_CHECK(ts >= open_e[nopen - 1], "slice %d [%f, +%f] crosses [%f, %f]", k,
                       ts, dur, open_s[nopen - 1], open_e[nopen - 1]);
            nopen--;
        }
        FUZZ_CHECK(dur > 0 || k == 2, "slice %d of 0 us", k);
        if (nopen < 128) {
            open_s[nopen] = ts;
            open_e[nopen] = ts + dur;
            nopen++;
        }
        if (pr->recorded && k == 2)     /* the root, where it started */
            FUZZ_CHECK(fabs(ts - m.origin_us) <= 0.5 && tr->ev[0].depth == 0, "root");
    }
    FUZZ_CHECK(j_get(other, "events", J_NUM)->num == evs->n - 2, "otherData.events");
    FUZZ_CHECK(j_get(other, "events", J_NUM)->num + j_get(other, "hidden_events", J_NUM)->num
               == nx, "%d frames, events + hidden_events differ", nx);
}

/* ------------------------------------------------------------ collapsed */

/* Every function but the root has one caller, and all are reachable:
 * then the folded stacks add up to the root's time. */
static int is_tree(const rp_stats_t *st, int root, apr_pool_t *p)
{
    char *seen = apr_pcalloc(p, (size_t)st->nfuncs);
    int i, grew = 1;

    for (i = 0; i < st->nfuncs; i++)
        if (i != root && st->funcs[i].ncallers != 1)
            return 0;
    if (st->funcs[root].ncallers != 0)
        return 0;
    seen[root] = 1;
    while (grew) {
        grew = 0;
        for (i = 0; i < st->nfuncs; i++) {
            int c = i == root ? -1 : st->funcs[i].callers[0].caller;
            if (!seen[i] && c >= 0 && c < st->nfuncs && seen[c]) {
                seen[i] = 1;
                grew = 1;
            }
        }
    }
    for (i = 0; i < st->nfuncs; i++)
        if (!seen[i])
            return 0;
    return 1;
}

static void check_collapsed(const profile_t *pr, apr_pool_t *p)
{
    const rp_stats_t *st = pr->st;
    const char *out = NULL, *l, *rootname;
    apr_size_t len = 0;
    apr_status_t rv = rp_collapsed_encode(st, p, &out, &len);
    lines_t ls;
    int i, root = 0, nlines = 0;
    long long sum = 0;
    char *c;

    if (st->nfuncs == 0) {
        FUZZ_CHECK(rv == APR_EINVAL, "empty profile encoded");
        return;
    }
    FUZZ_CHECK(rv == APR_SUCCESS && out != NULL && len > 0, "collapsed encode failed");
    check_text(out, len, "collapsed");
    for (i = 0; i < st->nfuncs; i++)
        if (st->funcs[i].ncallers == 0) {
            root = i;
            break;
        }
    c = apr_pstrdup(p, rp_func_display(p, &st->funcs[root]));
    for (rootname = c; *c; c++)
        if (*c == ';')
            *c = ':';
    ls.d = out;
    ls.n = len;
    ls.pos = 0;
    ls.lineno = 1;
    while ((l = next_line(&ls, p)) != NULL) {
        const char *sp = strrchr(l, ' '), *f;
        long long count;
        int frames = 1;

        FUZZ_CHECK(sp != NULL, "collapsed line '%s' has no count", l);
        FUZZ_CHECK(parse_int(sp + 1, 0, &count), "count in '%s'", l);
        FUZZ_CHECK(count >= 1 || nlines == 0, "count %lld in '%s'", count, l);
        for (f = l; f < sp; f++)
            frames += *f == ';';
        FUZZ_CHECK(frames <= 128, "%d frames", frames);
        FUZZ_CHECK(!strncmp(l, rootname, strlen(rootname))
                   && (l[strlen(rootname)] == ';' || l + strlen(rootname) == sp),
                   "line '%s' does not start at the root '%s'", l, rootname);
        if (nlines == 0)
            FUZZ_CHECK(l + strlen(rootname) == sp, "first line '%s' is not the root", l);
        sum += count;
        nlines++;
    }
    FUZZ_CHECK(nlines >= 1 && nlines <= 100000, "%d lines", nlines);
    if (pr->recorded && is_tree(st, root, p)) {
        double want = st->funcs[root].ct * 1e6;
        FUZZ_CHECK(fabs((double)sum - want) <= 0.5 * st->nfuncs + 1e-6 * want + 1,
                   "collapsed counts add to %lld us, the root took %.3f", sum, want);
    }
}

/* ---------------------------------------------------------------- flame */

/* Entities the writer uses, and nothing else after a '&'. */
static void check_escaped(const char *s, size_t n, const char *what)
{
    static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
    size_t i;

    for (i = 0; i < n; i++) {
        size_t k;
        int ok = 0;
        FUZZ_CHECK(s[i] != '<' && s[i] != '>' && s[i] != '"', "raw '%c' in %s", s[i], what);
        if (s[i] != '&')
            continue;
        for (k = 0; k < 5 && !ok; k++)
            ok = n - i >= strlen(ents[k]) && !memcmp(s + i, ents[k], strlen(ents[k]));
        FUZZ_CHECK(ok, "bare '&' in %s", what);
    }
}

static double attr_num(const char *tag, const char *name, apr_pool_t *p)
{
    const char *a = strstr(tag, apr_pstrcat(p, " ", name, "=\"", NULL));
    char *end;
    double v;

    FUZZ_CHECK(a != NULL, "no %s in '%s'", name, tag);
    a += strlen(name) + 3;
    v = strtod(a, &end);
    FUZZ_CHECK(end > a && *end == '"' && isfinite(v), "%s in '%s'", name, tag);
    return v;
}

static void check_flame(const profile_t *pr, apr_pool_t *p)
{
    const char *svg = rp_flame_svg(pr->st, p), *s = svg;
    const char *open[8];    /* element names */
    double px[RP_FLAME_MAX_DEPTH + 1], pw[RP_FLAME_MAX_DEPTH + 1];
    int depth = 0, frames = 0;
    size_t n = strlen(svg);

    FUZZ_CHECK(!strncmp(svg, "<svg class=\"flame\"", 18), "not an SVG: %.40s", svg);
    FUZZ_CHECK(n >= 6 && !strcmp(svg + n - 6, "</svg>"), "SVG not closed");
    check_text(svg, n, "flame");
    /* Tags: svg > g > (title, rect, text); text between them escaped. */
    while (*s) {
        const char *lt = strchr(s, '<'), *gt;
        char *tag;

        if (lt == NULL)
            lt = s + strlen(s);
        check_escaped(s, (size_t)(lt - s), "SVG text");
        if (!*lt)
            break;
        gt = strchr(lt, '>');
        FUZZ_CHECK(gt != NULL, "tag not closed");
        tag = apr_pstrndup(p, lt, (apr_size_t)(gt - lt + 1));
        s = gt + 1;
        if (tag[1] == '/') {
            FUZZ_CHECK(depth > 0, "close with nothing open: %s", tag);
            depth--;
            FUZZ_CHECK(!strcmp(apr_pstrndup(p, tag + 2, strlen(tag) - 3), open[depth]),
                       "%s closes <%s>", tag, open[depth]);
            continue;
        }
        {
            /* Attribute values: between quotes, escaped. */
            const char *q = tag;
            while ((q = strchr(q, '"')) != NULL) {
                const char *q2 = strchr(q + 1, '"');
                FUZZ_CHECK(q2 != NULL, "attribute not closed in %s", tag);
                check_escaped(q + 1, (size_t)(q2 - q - 1), "attribute");
                q = q2 + 1;
            }
        }
        if (!strncmp(tag, "<rect ", 6)) {
            double x = attr_num(tag, "x", p), y = attr_num(tag, "y", p);
            double w = attr_num(tag, "width", p);
            int d = (int)(y / RP_FLAME_ROW);

            FUZZ_CHECK(tag[strlen(tag) - 2] == '/' && depth == 2, "rect %s at %d", tag, depth);
            FUZZ_CHECK(y == d * RP_FLAME_ROW && d >= 0 && d < RP_FLAME_MAX_DEPTH,
                       "rect at y=%g", y);
            FUZZ_CHECK(x >= 0 && w >= 0.495 && x + w <= RP_FLAME_WIDTH + 0.02,
                       "rect x=%g width=%g", x, w);
            if (d > 0)
                FUZZ_CHECK(x >= px[d - 1] - 0.01 && x + w <= px[d - 1] + pw[d - 1] + 0.02,
                           "rect [%g, +%g] outside its parent [%g, +%g]", x, w,
                           px[d - 1], pw[d - 1]);
            else
                FUZZ_CHECK(frames == 1, "a second rect at depth 0");
            px[d] = x;
            pw[d] = w;
            continue;
        }
        FUZZ_CHECK(tag[strlen(tag) - 2] != '/', "unexpected empty tag %s", tag);
        if (!strncmp(tag, "<g ", 3))
            frames++;
        FUZZ_CHECK(depth < 8, "tags nested too deep");
        FUZZ_CHECK((depth == 0 && !strncmp(tag, "<svg ", 5))
                   || (depth == 1 && !strncmp(tag, "<g class=\"frame\">", 17))
                   || (depth == 1 && !strncmp(tag, "<text ", 6) && frames == 0)
                   || (depth == 2 && (!strcmp(tag, "<title>") || !strncmp(tag, "<text ", 6))),
                   "tag %s at depth %d", tag, depth);
        open[depth++] = apr_pstrndup(p, tag + 1, strcspn(tag + 1, " >"));
    }
    FUZZ_CHECK(depth == 0, "%d tags left open", depth);
    FUZZ_CHECK(frames <= RP_FLAME_MAX_RECTS, "%d frames", frames);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    fuzz_in_t in = { data, size };
    profile_t pr;

    if (fuzz_byte(&in) & 1)
        direct(&in, p, &pr);
    else
        recorded(&in, p, &pr);
    check_callgrind(&pr, p);
    check_chrome(&pr, p);
    check_collapsed(&pr, p);
    check_flame(&pr, p);
    fuzz_done(p);
    return 0;
}
