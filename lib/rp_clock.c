/*
 * rp_clock.c - clock selection and TSC calibration.
 */
#include <stdio.h>
#include <string.h>
#include "rp_clock.h"

int rp_clock_use_tsc = 0;
double rp_clock_sec_per_tick = 1e-9;

rp_tick_t rp_clock_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (rp_tick_t)ts.tv_sec * 1000000000u + (rp_tick_t)ts.tv_nsec;
}

/* The kernel only picks "tsc" as clocksource after its own stability
 * checks (invariant TSC, synchronised across CPUs); we trust its verdict
 * rather than re-deriving it from cpuid flags. */
static int kernel_trusts_tsc(void)
{
    char buf[32] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return 0;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return strncmp(buf, "tsc", 3) == 0 && (buf[3] == '\n' || buf[3] == '\0');
}

const char *rp_clock_init(int allow_tsc)
{
    rp_clock_use_tsc = 0;
    rp_clock_sec_per_tick = 1e-9;
#ifdef RP_HAVE_TSC
    if (allow_tsc && kernel_trusts_tsc()) {
        struct timespec nap = { 0, 10 * 1000 * 1000 };
        uint64_t n0 = rp_clock_monotonic(), c0 = __rdtsc();
        uint64_t n1, c1;
        nanosleep(&nap, NULL);
        n1 = rp_clock_monotonic();
        c1 = __rdtsc();
        if (c1 > c0 && n1 > n0) {
            rp_clock_sec_per_tick = (double)(n1 - n0) / 1e9 / (double)(c1 - c0);
            rp_clock_use_tsc = 1;
            return "tsc";
        }
    }
#else
    (void)allow_tsc;
#endif
    return "monotonic";
}

rp_tick_t rp_clock_ticks_from_usec(int64_t usec)
{
    if (usec <= 0)
        return 0;
    return (rp_tick_t)((double)usec * 1e-6 / rp_clock_sec_per_tick);
}
