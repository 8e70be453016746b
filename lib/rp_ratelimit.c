/*
 * rp_ratelimit.c - one report per interval (see rp_ratelimit.h).
 */
#include <apr_atomic.h>
#include "rp_ratelimit.h"

int rp_ratelimit_pass(rp_ratelimit_t *rl, apr_uint32_t now_sec,
                      apr_uint32_t interval_sec, apr_uint32_t *suppressed)
{
    apr_uint32_t last = apr_atomic_read32(&rl->last);
    apr_uint32_t n;

    /* last == 0: never reported. A clock set back (now < last) passes too,
     * rather than staying silent until it catches up. */
    if ((last != 0 && now_sec >= last && now_sec - last < interval_sec)
        || apr_atomic_cas32(&rl->last, now_sec, last) != last) {
        apr_atomic_inc32(&rl->suppressed);
        return 0;
    }
    n = apr_atomic_xchg32(&rl->suppressed, 0);
    if (suppressed)
        *suppressed = n;
    return 1;
}
