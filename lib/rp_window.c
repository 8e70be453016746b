/*
 * rp_window.c - the length of a window minute (see rp_window.h).
 */
#include "rp_window.h"

apr_time_t rp_win_minute_usec = APR_USEC_PER_SEC * 60;
