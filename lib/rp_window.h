/*
 * rp_window.h - the recent-traffic windows shared by the status page's
 * counters and the aggregate call trees: per-minute slots in a ring, and
 * the window names the status page accepts (&window=1m|5m|15m|60m).
 *
 * A writer adds to the slot of the minute its request ended in; a reader
 * sums the slots whose stamp lies in the last N minutes. Each slot carries
 * the minute number it holds (its stamp); the ring has one slot more than
 * the longest window, so the slot a writer is about to reuse is never one
 * a 60-minute reader needs. How a region clears a slot before reuse is
 * the region's business (see rp_win_slot_claim).
 *
 * The length of a "minute" is rp_win_minute_usec: 60 s, except in tests,
 * which shorten it (the glue reads REQPROF_TEST_MINUTE_MS at startup) so
 * that a window can age out without a 60 s sleep. APR only.
 */
#ifndef RP_WINDOW_H
#define RP_WINDOW_H

#include <apr.h>
#include <apr_time.h>
#include <apr_atomic.h>
#include <string.h>

#define RP_WIN_SLOTS    61          /* 60 minutes read + the one being reused */
#define RP_WIN_MAX      60          /* the longest window, in minutes */

/* Microseconds in a window "minute" (60 s; tests set it shorter). */
extern apr_time_t rp_win_minute_usec;

/* The minute number of a time (minutes since the epoch, >= 1 for any
 * time after 1970-01-01 00:01, so 0 can mean "never stamped"). */
static APR_INLINE apr_uint32_t rp_win_minute(apr_time_t t)
{
    return (apr_uint32_t)(t / rp_win_minute_usec);
}

/* The ring slot of a minute number. */
static APR_INLINE int rp_win_slot(apr_uint32_t minute)
{
    return (int)(minute % RP_WIN_SLOTS);
}

/* Whether a slot stamped `stamp` counts in a window of `minutes` minutes
 * read at minute `now` (the current minute and the minutes-1 before it). */
static APR_INLINE int rp_win_in(apr_uint32_t stamp, apr_uint32_t now, int minutes)
{
    return stamp != 0 && stamp <= now && now - stamp < (apr_uint32_t)minutes;
}

/* Set rp_win_minute_usec from a test setting: ms milliseconds when the
 * text is a number from 10 to 60000, else the real 60 s (NULL too).
 * Called once per generation, before any region uses the windows. */
void rp_win_configure(const char *ms);

/* "1m", "5m", "15m", "60m" -> 1, 5, 15, 60; NULL or "" or "all" -> 0
 * (since start); anything else -> -1. */
static APR_INLINE int rp_win_parse(const char *s)
{
    if (s == NULL || *s == '\0' || strcmp(s, "all") == 0)
        return 0;
    if (strcmp(s, "1m") == 0)  return 1;
    if (strcmp(s, "5m") == 0)  return 5;
    if (strcmp(s, "15m") == 0) return 15;
    if (strcmp(s, "60m") == 0) return 60;
    return -1;
}

/* A slot's stamp word says which minute its counts belong to. A writer at
 * minute m whose slot is stamped otherwise must clear the slot first:
 * rp_win_slot_claim returns 1 to exactly one caller, which moved the stamp
 * from the old minute to RP_WIN_CLEARING and must now zero the slot's
 * counts and then call rp_win_slot_ready(stamp, m). It returns 0 when the
 * stamp reads m (add as usual); a writer that finds the slot being
 * cleared waits for it (a memset: microseconds), so no count added at
 * minute m is wiped by m's own clearing. Readers never count a clearing
 * slot (rp_win_in: it is no minute). The wait is bounded (50 ms): a
 * clearer that died mid-clear is taken over by the next writer, which
 * clears again; only a clearer that is alive and stalled that long can
 * then lose the counts added meanwhile. */
#define RP_WIN_CLEARING 0xFFFFFFFFu

int rp_win_slot_wait(volatile apr_uint32_t *stamp, apr_uint32_t m);

static APR_INLINE int rp_win_slot_claim(volatile apr_uint32_t *stamp,
                                        apr_uint32_t m)
{
    apr_uint32_t old = apr_atomic_read32(stamp);
    if (old == m)
        return 0;
    if (old != RP_WIN_CLEARING && apr_atomic_cas32(stamp, RP_WIN_CLEARING, old) == old)
        return 1;
    return rp_win_slot_wait(stamp, m);
}

static APR_INLINE void rp_win_slot_ready(volatile apr_uint32_t *stamp,
                                         apr_uint32_t m)
{
    apr_atomic_set32(stamp, m);
}

#endif
