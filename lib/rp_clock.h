/*
 * rp_clock.h - the profiler's clock: the TSC when the kernel itself trusts
 * it as its clocksource (invariant, synchronised across CPUs), otherwise
 * CLOCK_MONOTONIC through the vDSO. Two reads per timed call are the whole
 * cost floor (design.md section 4), so the read is inline.
 */
#ifndef RP_CLOCK_H
#define RP_CLOCK_H

#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define RP_HAVE_TSC 1
#endif

typedef uint64_t rp_tick_t;

/* Hidden: read on every timed call, it is then one PC-relative load
 * rather than a GOT entry's address and a load (lib/ is linked into the
 * module or statically, never shared across objects). */
extern int rp_clock_use_tsc           /* 1: ticks are TSC cycles */
    __attribute__((visibility("hidden")));
extern double rp_clock_sec_per_tick;  /* conversion to seconds */

/* CLOCK_MONOTONIC in ns; out of line, so that the struct timespec it
 * needs is not a local of every caller of rp_clock_now (such a local
 * brings -fstack-protector-strong's canary check with it). */
rp_tick_t rp_clock_monotonic(void);

/* Which clock a read takes (rp_clock_now_as): the one rp_clock_init
 * chose, tested at each read, or one fixed at compile time, for code
 * built once per clock so that its reads test nothing (the glue's
 * trampoline bodies, reqprof_tramp.h: six instructions a timed call). */
#define RP_CLOCK_CHOSEN (-1)
#define RP_CLOCK_MONO 0
#define RP_CLOCK_TSC 1

static inline rp_tick_t rp_clock_now_as(int clk)
{
#ifdef RP_HAVE_TSC
    if (clk == RP_CLOCK_TSC || (clk == RP_CLOCK_CHOSEN && rp_clock_use_tsc))
        return __rdtsc();
#else
    (void)clk;
#endif
    return rp_clock_monotonic();
}

static inline rp_tick_t rp_clock_now(void)
{
    return rp_clock_now_as(RP_CLOCK_CHOSEN);
}

/* v * f (f >= 0) truncated, for v and the product below 2^63 (tick and
 * nanosecond counts): the same value as (uint64_t)((double)v * f), by
 * the signed conversions, one instruction each way, where the unsigned
 * ones are a branch and several (the end of every request converts a
 * few dozen such numbers). */
static inline uint64_t rp_scale_u64(uint64_t v, double f)
{
    return (uint64_t)(int64_t)((double)(int64_t)v * f);
}

/* Pick the clock and calibrate it (sleeps ~10 ms when the TSC is used).
 * allow_tsc = 0 forces CLOCK_MONOTONIC. Returns the clock's name. */
const char *rp_clock_init(int allow_tsc);

/* Ticks to seconds. */
static inline double rp_clock_seconds(rp_tick_t t)
{
    return (double)t * rp_clock_sec_per_tick;
}

/* Microseconds to ticks (for anchoring the root at the request's start). */
rp_tick_t rp_clock_ticks_from_usec(int64_t usec);

#endif
