/*
 * rp_window.c - the length of a window minute (see rp_window.h).
 */
#include <stdlib.h>
#include "rp_window.h"

apr_time_t rp_win_minute_usec = APR_USEC_PER_SEC * 60;

void rp_win_configure(const char *ms)
{
    char *end = NULL;
    long v = ms ? strtol(ms, &end, 10) : 0;
    rp_win_minute_usec = ms && *ms && end && !*end && v >= 10 && v <= 60000
                         ? (apr_time_t)v * 1000 : APR_USEC_PER_SEC * 60;
}
