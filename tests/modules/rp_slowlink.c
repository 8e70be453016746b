/*
 * rp_slowlink.c - LD_PRELOAD shim for the writer-thread tests: every
 * linkat() first sleeps RP_SLOWLINK_MS milliseconds, so the files of a
 * burst of requests are still queued when the server is told to stop.
 * Built by the integration tests; never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags);

int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)
{
    static int (*real)(int, const char *, int, const char *, int);
    const char *ms = getenv("RP_SLOWLINK_MS");
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "linkat");
    if (ms && *ms) {
        long v = atol(ms);
        struct timespec t;
        t.tv_sec = v / 1000;
        t.tv_nsec = (v % 1000) * 1000000L;
        nanosleep(&t, NULL);
    }
    return real(olddirfd, oldpath, newdirfd, newpath, flags);
}
