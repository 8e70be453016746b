/*
 * rp_window.c - the length of a window minute (see rp_window.h).
 */
#include "rp_parse.h"
#include <apr_thread_proc.h>
#include "rp_window.h"

apr_time_t rp_win_minute_usec = APR_USEC_PER_SEC * 60;

void rp_win_configure(const char *ms)
{
    apr_int64_t v;
    rp_win_minute_usec = rp_parse_int64(ms, 10, 60000, &v) == RP_INT_OK
                         ? (apr_time_t)v * 1000 : APR_USEC_PER_SEC * 60;
}

/* rp_win_slot_claim's slow path: the stamp was not m and this caller did
 * not win the clearing. Retry the claim; wait while another clears. */
int rp_win_slot_wait(volatile apr_uint32_t *stamp, apr_uint32_t m)
{
    apr_time_t give_up = 0;
    int spins = 0;
    for (;;) {
        apr_uint32_t old = apr_atomic_read32(stamp);
        if (old == m)
            return 0;
        if (old != RP_WIN_CLEARING) {
            if (apr_atomic_cas32(stamp, RP_WIN_CLEARING, old) == old)
                return 1;
            continue;
        }
        if (++spins < 100)
            continue;
        if (!give_up)
            give_up = apr_time_now() + apr_time_from_msec(50);
        else if (apr_time_now() > give_up)
            return 1;       /* the clearer is gone: clear it ourselves */
        apr_thread_yield();
    }
}
