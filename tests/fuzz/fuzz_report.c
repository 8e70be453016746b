/*
 * fuzz_report.c - ProfileSortBy and ProfileRestrict parsing (lib/rp_report.c)
 * and the report they shape.
 *
 * Input: lines. Each line is offered both as a sort word (rp_sort_add) and
 * as a restriction (rp_restrict_parse). Accepted restrictions must be what
 * their kind promises; the first few lines also name the profile's
 * functions, so the report prints hostile names. Regex restrictions are
 * matched as substrings (the module uses PCRE; the matcher is not lib's).
 * Every report line must be valid UTF-8 without newlines.
 */
#include <math.h>
#include "fuzz_common.h"
#include "rp_report.h"

#define FUZZ_MAX_WORDS 64

static int substring_match(void *regex, const char *s)
{
    return strstr(s, (const char *)regex) != NULL;
}

static void check_line(void *ctx, const char *line)
{
    size_t n = strlen(line);

    (*(int *)ctx)++;
    FUZZ_CHECK(fuzz_valid_utf8((const unsigned char *)line, n),
               "report line is not UTF-8: '%s'", line);
    FUZZ_CHECK(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL,
               "newline inside a report line: '%s'", line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    rp_sort_t sort = { 0, { 0 }, NULL };
    rp_restrict_t rs[FUZZ_MAX_WORDS];
    rp_func_t funcs[4];
    rp_edge_t edges[3];
    rp_stats_t st;
    rp_report_opts_t o;
    const char *words[FUZZ_MAX_WORDS];
    int nwords = 0, nrs = 0, sort_ok = 1, lines = 0, i;
    size_t start = 0, k;

    /* Split into lines (NUL ends a line too). */
    for (k = 0; k <= size && nwords < FUZZ_MAX_WORDS; k++) {
        if (k == size || data[k] == '\n' || data[k] == 0) {
            char *w = __wrap_apr_palloc(p, k - start + 1);
            memcpy(w, data + start, k - start);
            w[k - start] = '\0';
            words[nwords++] = w;
            start = k + 1;
        }
    }

    for (i = 0; i < nwords; i++) {
        const char *err = rp_sort_add(p, &sort, words[i]);
        if (err != NULL) {
            FUZZ_CHECK(err[0] != '\0', "empty sort error");
            sort_ok = 0;
        }
        FUZZ_CHECK(sort.nfields >= 0 && sort.nfields <= RP_SORT_MAX,
                   "nfields %d", sort.nfields);
        err = rp_restrict_parse(p, words[i], &rs[nrs]);
        if (err != NULL) {
            FUZZ_CHECK(err[0] != '\0', "empty restriction error");
            continue;
        }
        switch (rs[nrs].kind) {
        case RP_RESTRICT_COUNT:
            FUZZ_CHECK(rs[nrs].count >= 0, "count %ld from '%s'", rs[nrs].count, words[i]);
            break;
        case RP_RESTRICT_FRACTION:
            FUZZ_CHECK(rs[nrs].fraction >= 0.0 && rs[nrs].fraction < 1.0,
                       "fraction %g from '%s'", rs[nrs].fraction, words[i]);
            break;
        case RP_RESTRICT_REGEX:
            FUZZ_CHECK(rs[nrs].pattern && strcmp(rs[nrs].pattern, words[i]) == 0,
                       "regex '%s' from '%s'", rs[nrs].pattern, words[i]);
            /* Odd lines: a regex that failed to compile (regex NULL). */
            rs[nrs].regex = (i & 1) ? NULL : (void *)rs[nrs].pattern;
            break;
        default:
            FUZZ_CHECK(0, "unknown kind %d", (int)rs[nrs].kind);
        }
        nrs++;
    }

    /* A small profile: root -> a -> b, root -> c; names from the input. */
    memset(funcs, 0, sizeof funcs);
    for (i = 0; i < 4; i++) {
        funcs[i].file = i + 1 < nwords ? words[i + 1] : "mod_x.c";
        funcs[i].name = i < nwords ? words[i] : "handler";
        funcs[i].line = i * 7;
        funcs[i].nc = funcs[i].cc = i + 1;
        funcs[i].tt = 0.001 * i;
        funcs[i].ct = 0.01 * (4 - i);
    }
    funcs[1].cc = 1;        /* recursive: printed as 2/1 */
    edges[0] = (rp_edge_t){ 0, 2, 1, 0.001, 0.009 };
    edges[1] = (rp_edge_t){ 1, 3, 3, 0.002, 0.008 };
    edges[2] = (rp_edge_t){ 0, 4, 4, 0.003, 0.001 };
    funcs[1].callers = &edges[0];
    funcs[1].ncallers = 1;
    funcs[2].callers = &edges[1];
    funcs[2].ncallers = 1;
    funcs[3].callers = &edges[2];
    funcs[3].ncallers = 1;
    st.nfuncs = 4;
    st.funcs = funcs;

    o.sort = sort_ok ? &sort : NULL;
    o.restricts = rs;
    o.nrestricts = nrs;
    o.match = substring_match;
    o.unit = (rp_unit_e)(size % 3);
    rp_report(&st, &o, p, check_line, &lines);
    FUZZ_CHECK(lines >= 2, "only %d report lines", lines);
    fuzz_done(p);
    return 0;
}
