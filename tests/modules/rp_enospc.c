/*
 * rp_enospc.c - LD_PRELOAD shim for the fault tests: every write to a file
 * under the directory named by RP_ENOSPC_DIR fails with ENOSPC, as on a
 * full disk, deterministically. Other writes (logs, sockets) go through.
 * Built by the integration tests; never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

ssize_t write(int fd, const void *buf, size_t n);
ssize_t writev(int fd, const struct iovec *iov, int cnt);

static int full(int fd)
{
    const char *dir = getenv("RP_ENOSPC_DIR");
    char link[64], path[4096];
    ssize_t len;
    size_t dl;

    if (!dir || !*dir)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    len = readlink(link, path, sizeof path - 1);
    if (len <= 0)
        return 0;
    path[len] = '\0';
    dl = strlen(dir);
    return strncmp(path, dir, dl) == 0 && (path[dl] == '/' || path[dl] == '\0');
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "write");
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "writev");
    if (full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, iov, cnt);
}
