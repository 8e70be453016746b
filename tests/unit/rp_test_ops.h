/* A request profiled from a string of operations, for the unit tests
 * that need real rp_prof frames of a known shape (test_agg, test_pstats).
 *   "E<h>p<ph>"  enter hook h in phase ph (a call of the request's own);
 *   "E<h>"       enter hook h nested in the open frame;
 *   "X"          exit the frame entered last;
 *   "C"          add a CGI's CPU time (a dynamic function) to it.
 * Times step by 1..97 ticks drawn from *seed, so two requests of one
 * string have the same shape and other times. */
#ifndef RP_TEST_OPS_H
#define RP_TEST_OPS_H
#include <apr_strings.h>
#include "rp_prof.h"

static int rp_test_ops_req;     /* the request they profile */

/* The label of a request context: every one is "request GET /". */
static __attribute__((unused)) const char *rp_test_ops_label(const void *r, apr_pool_t *p)
{
    (void)r;
    return apr_pstrdup(p, "request GET /");
}

/* A profile object for the ops, its event log on, and its registry
 * (*reg): nhooks hooks of file (ids in hook[]) and the phases fixups and
 * handler (ph[0], ph[1]). */
static __attribute__((unused)) rp_prof_t *rp_test_ops_prof(apr_pool_t *p, const char *file,
                                                          int nhooks, int *hook, int *ph,
                                                          rp_registry_t **reg)
{
    rp_prof_t *prof;
    int i;
    *reg = rp_registry_create(p, 16);
    for (i = 0; i < nhooks; i++)
        hook[i] = rp_registry_add(*reg, file, i, "hook");
    ph[0] = rp_registry_add(*reg, "httpd", 0, "fixups");
    ph[1] = rp_registry_add(*reg, "httpd", 0, "handler");
    prof = rp_prof_create(p, *reg, rp_test_ops_label);
    rp_prof_set_event_log(prof, 64);
    return prof;
}

static __attribute__((unused)) void rp_test_ops_run(rp_prof_t *prof, const char *o,
                                                    const int *hook, const int *ph,
                                                    unsigned *seed)
{
    int h[16], depth = 0;
    rp_tick_t now = 100;

    rp_prof_begin(prof, &rp_test_ops_req, "request GET /", now);
    for (; *o; o++) {
        *seed = *seed * 1103515245u + 12345u;
        now += 1 + (*seed >> 16) % 97;
        if (*o == 'E') {
            int k = o[1] - '0', phase = -1;
            o++;
            if (o[1] == 'p') {
                phase = ph[o[2] - '0'];
                o += 2;
            }
            h[depth++] = rp_prof_enter(prof, &rp_test_ops_req, phase, hook[k], now);
            assert_true(h[depth - 1] > 0);
        }
        else if (*o == 'X')
            rp_prof_exit(prof, h[--depth], now);
        else if (*o == 'C')
            assert_true(rp_prof_add_child(prof, h[depth - 1], "/cgi-bin/x.cgi", 0,
                                          "cpu", 1 + (*seed >> 20) % 5, now) > 0);
    }
    assert_int_equal(depth, 0);
    rp_prof_end(prof, now + 3);
}
#endif
