/*
 * rp_pstats_tool - drive lib/'s pstats writer and text report from the
 * command line, so tests/integration/test_pstats_format.py can check them
 * against Python's own pstats module.
 *
 * Profile mode (the default) reads a profile from stdin, one function per
 * line, funcs[] in line order; blank lines and lines starting with '#' are
 * skipped:
 *
 *   FILE LINE NAME CC NC TT CT [CALLER:NC:CC:TT:CT ...]
 *
 * FILE and NAME are percent-encoded bytes ("%41" is 'A', any byte may be
 * given this way, "-" alone is the empty string); LINE, CC, NC are decimal
 * integers; TT and CT are anything strtod() reads (float.hex() output keeps
 * them exact); CALLER is the 0-based index of the calling function's line.
 *
 *   rp_pstats_tool [-o OUT.prof] [-u s|ms|us] [-s KEY]... [-r ARG]...
 *                  [-n [-u ...] [-s ...] [-r ...]]...
 *
 * writes the pstats file to OUT.prof and prints one report per group of
 * options; "-n" starts the next report, and reports are separated by a
 * line holding a single form feed (which no report line can contain).
 * Regex restrictions are compiled with regcomp(REG_EXTENDED).
 *
 *   rp_pstats_tool --sort-words    one sort word per stdin line; prints
 *                                  "ok<TAB>label<TAB>fields" or "error<TAB>msg"
 *   rp_pstats_tool --text          stdin lines "f FLOAT" (prints repr),
 *                                  "s PCT" (prints repr of the string),
 *                                  "c MAX PCT" (prints rp_utf8_clean as hex)
 *
 * Exit status: 0 done, 1 encode or write failure, 2 bad usage or input.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <regex.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include "rp_stats.h"
#include "rp_text.h"
#include "rp_pstats.h"
#include "rp_report.h"

#define TOOL_MAX_REPORTS 256
#define TOOL_MAX_RESTRICTS 32

/* One report's options, as given between "-n" separators. */
typedef struct tool_report {
    rp_sort_t sort;
    rp_restrict_t restricts[TOOL_MAX_RESTRICTS];
    int nrestricts;
    rp_unit_e unit;
} tool_report_t;

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static char *pct_decode(apr_pool_t *p, const char *s);
static int64_t parse_i64(const char *s);
static double parse_double(const char *s);
static void read_profile(apr_pool_t *p, rp_stats_t *st);
static int regex_match(void *regex, const char *s);
static void print_line(void *ctx, const char *line);
static int sort_words_mode(apr_pool_t *p);
static int text_mode(apr_pool_t *p);
static int profile_mode(apr_pool_t *p, int argc, char **argv);

static void die(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "rp_pstats_tool: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static char *pct_decode(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    if (strcmp(s, "-") == 0)
        return apr_pstrdup(p, "");
    while (*s) {
        if (*s == '%') {
            char hex[3];

            if (!s[1] || !s[2])
                die("truncated %%XX escape in '%s'", s);
            hex[0] = s[1];
            hex[1] = s[2];
            hex[2] = '\0';
            *o++ = (char)strtol(hex, NULL, 16);
            s += 3;
        }
        else {
            *o++ = *s++;
        }
    }
    *o = '\0';
    return out;
}

static int64_t parse_i64(const char *s)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        die("bad integer '%s'", s);
    return (int64_t)v;
}

static double parse_double(const char *s)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end)
        die("bad float '%s'", s);
    return v;
}

static void read_profile(apr_pool_t *p, rp_stats_t *st)
{
    char *line = NULL;
    size_t cap = 0;
    int nalloc = 16;

    st->nfuncs = 0;
    st->funcs = calloc((size_t)nalloc, sizeof(*st->funcs));
    while (getline(&line, &cap, stdin) >= 0) {
        char *save = NULL, *tok[7], *edge;
        rp_func_t *f;
        int i, ealloc = 0;

        if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
            continue;
        for (i = 0; i < 7; i++) {
            tok[i] = strtok_r(i ? NULL : line, " \t\r\n", &save);
            if (tok[i] == NULL)
                die("%s", "a function line needs FILE LINE NAME CC NC TT CT");
        }
        if (st->nfuncs == nalloc) {
            nalloc *= 2;
            st->funcs = realloc(st->funcs, sizeof(*st->funcs) * (size_t)nalloc);
        }
        f = &st->funcs[st->nfuncs++];
        memset(f, 0, sizeof(*f));
        f->file = pct_decode(p, tok[0]);
        f->line = (int)parse_i64(tok[1]);
        f->name = pct_decode(p, tok[2]);
        f->cc = parse_i64(tok[3]);
        f->nc = parse_i64(tok[4]);
        f->tt = parse_double(tok[5]);
        f->ct = parse_double(tok[6]);
        while ((edge = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
            char *esave = NULL, *part[5];
            rp_edge_t *e;

            for (i = 0; i < 5; i++) {
                part[i] = strtok_r(i ? NULL : edge, ":", &esave);
                if (part[i] == NULL)
                    die("%s", "an edge is CALLER:NC:CC:TT:CT");
            }
            if (f->ncallers == ealloc) {
                ealloc = ealloc ? ealloc * 2 : 4;
                f->callers = realloc(f->callers, sizeof(*f->callers) * (size_t)ealloc);
            }
            e = &f->callers[f->ncallers++];
            e->caller = (int)parse_i64(part[0]);
            e->nc = parse_i64(part[1]);
            e->cc = parse_i64(part[2]);
            e->tt = parse_double(part[3]);
            e->ct = parse_double(part[4]);
        }
    }
    free(line);
}

static int regex_match(void *regex, const char *s)
{
    return regexec((const regex_t *)regex, s, 0, NULL, 0) == 0;
}

static void print_line(void *ctx, const char *line)
{
    (void)ctx;
    fputs(line, stdout);
    fputc('\n', stdout);
}

static int sort_words_mode(apr_pool_t *p)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        rp_sort_t s;
        const char *err;
        int i;

        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        memset(&s, 0, sizeof(s));
        err = rp_sort_add(p, &s, line);
        if (err) {
            printf("error\t%s\n", err);
            continue;
        }
        printf("ok\t%s\t", s.label);
        for (i = 0; i < s.nfields; i++)
            printf("%s%d", i ? "," : "", (int)s.fields[i]);
        printf("\n");
    }
    free(line);
    return 0;
}

static int text_mode(apr_pool_t *p)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) >= 0) {
        char *save = NULL, *kind, *a, *b;

        if (n > 0 && line[n - 1] == '\n')
            line[n - 1] = '\0';
        kind = strtok_r(line, " ", &save);
        a = strtok_r(NULL, " ", &save);
        b = strtok_r(NULL, " ", &save);
        if (kind && a && strcmp(kind, "f") == 0) {
            printf("%s\n", rp_py_repr_float(p, parse_double(a)));
        }
        else if (kind && a && strcmp(kind, "s") == 0) {
            printf("%s\n", rp_py_repr_str(p, pct_decode(p, a)));
        }
        else if (kind && a && b && strcmp(kind, "c") == 0) {
            const unsigned char *c = (const unsigned char *)
                rp_utf8_clean(p, pct_decode(p, b), (apr_size_t)parse_i64(a));

            for (; *c; c++)
                printf("%02x", *c);
            printf("\n");
        }
        else {
            die("bad --text line '%s'", line);
        }
    }
    free(line);
    return 0;
}

static int profile_mode(apr_pool_t *p, int argc, char **argv)
{
    static tool_report_t reports[TOOL_MAX_REPORTS];
    static regex_t *regexes[TOOL_MAX_REPORTS * TOOL_MAX_RESTRICTS];
    int nreports = 1, nregexes = 0, i;
    const char *out = NULL;
    rp_stats_t st;

    memset(&reports[0], 0, sizeof(reports[0]));
    for (i = 1; i < argc; i++) {
        tool_report_t *r = &reports[nreports - 1];
        const char *opt = argv[i], *arg = i + 1 < argc ? argv[i + 1] : NULL;
        const char *err;

        if (strcmp(opt, "-n") == 0) {
            if (nreports == TOOL_MAX_REPORTS)
                die("%s", "too many reports");
            memset(&reports[nreports++], 0, sizeof(reports[0]));
            continue;
        }
        if (arg == NULL)
            die("option %s needs an argument", opt);
        i++;
        if (strcmp(opt, "-o") == 0) {
            out = arg;
        }
        else if (strcmp(opt, "-u") == 0) {
            if (strcmp(arg, "s") == 0)
                r->unit = RP_UNIT_S;
            else if (strcmp(arg, "ms") == 0)
                r->unit = RP_UNIT_MS;
            else if (strcmp(arg, "us") == 0)
                r->unit = RP_UNIT_US;
            else
                die("unknown unit '%s'", arg);
        }
        else if (strcmp(opt, "-s") == 0) {
            if ((err = rp_sort_add(p, &r->sort, arg)) != NULL)
                die("%s", err);
        }
        else if (strcmp(opt, "-r") == 0) {
            rp_restrict_t *rs;

            if (r->nrestricts == TOOL_MAX_RESTRICTS)
                die("%s", "too many restrictions");
            rs = &r->restricts[r->nrestricts++];
            if ((err = rp_restrict_parse(p, arg, rs)) != NULL)
                die("%s", err);
            if (rs->kind == RP_RESTRICT_REGEX) {
                regex_t *re = malloc(sizeof(*re));

                /* Left NULL when it does not compile: the report then
                 * says so the way pstats does. */
                if (regcomp(re, rs->pattern, REG_EXTENDED | REG_NOSUB) == 0) {
                    rs->regex = re;
                    regexes[nregexes++] = re;
                }
                else {
                    free(re);
                }
            }
        }
        else {
            die("unknown option '%s'", opt);
        }
    }

    read_profile(p, &st);
    if (out) {
        const char *data;
        apr_size_t len;
        FILE *fp;

        if (rp_pstats_encode(&st, p, &data, &len) != APR_SUCCESS) {
            fprintf(stderr, "rp_pstats_tool: cannot encode an empty profile\n");
            return 1;
        }
        fp = fopen(out, "wb");
        if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0) {
            fprintf(stderr, "rp_pstats_tool: cannot write %s\n", out);
            return 1;
        }
    }
    for (i = 0; i < nreports; i++) {
        rp_report_opts_t o;

        memset(&o, 0, sizeof(o));
        o.sort = &reports[i].sort;
        o.restricts = reports[i].restricts;
        o.nrestricts = reports[i].nrestricts;
        o.match = regex_match;
        o.unit = reports[i].unit;
        if (i)
            printf("\f\n");
        rp_report(&st, &o, p, print_line, NULL);
    }

    for (i = 0; i < nregexes; i++) {
        regfree(regexes[i]);
        free(regexes[i]);
    }
    for (i = 0; i < st.nfuncs; i++)
        free(st.funcs[i].callers);
    free(st.funcs);
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    int rc;

    apr_initialize();
    apr_pool_create(&p, NULL);
    if (argc == 2 && strcmp(argv[1], "--sort-words") == 0)
        rc = sort_words_mode(p);
    else if (argc == 2 && strcmp(argv[1], "--text") == 0)
        rc = text_mode(p);
    else
        rc = profile_mode(p, argc, argv);
    if (fflush(stdout) != 0)
        rc = 1;
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
