/*
 * rp_window.c - the length of a window minute (see rp_window.h).
 */
#include "rp_parse.h"
#include "rp_window.h"

apr_time_t rp_win_minute_usec = APR_USEC_PER_SEC * 60;

void rp_win_configure(const char *ms)
{
    apr_int64_t v;
    rp_win_minute_usec = rp_parse_int64(ms, 10, 60000, &v) == RP_INT_OK
                         ? (apr_time_t)v * 1000 : APR_USEC_PER_SEC * 60;
}
