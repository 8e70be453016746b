/*
 * floor.c - the cost of a profile file with nothing else around it: the
 * kernel's floor for "a file per request". Writes COUNT files of BYTES
 * bytes into DIR the way rp_file.c does on its usual path (DIR opened
 * once; an unnamed O_TMPFILE made with openat in it, one write, linkat
 * with AT_EMPTY_PATH, or through /proc/self/fd where the kernel refuses
 * that, close) and prints
 * the CPU time (user + system) and wall time per file in microseconds:
 *
 *     floor DIR BYTES COUNT [KEEP]      ->  "cpu_us wall_us"
 *
 * With KEEP, at most KEEP files are kept: after each file the oldest
 * beyond KEEP is removed (unlinkat), as ProfileMaxFiles and
 * ProfileMaxDirSize remove them, so the tmpfs pages are used again
 * rather than new ones taken for every file. The files left are removed
 * afterwards (not timed). Built by make bench.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
         + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char name[4096], proc[64];
    char *buf;
    long bytes, count, keep = 0, i;
    int dirfd;
    double c0, w0, c1, w1;

    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s DIR BYTES COUNT [KEEP]\n", argv[0]);
        return 2;
    }
    bytes = atol(argv[2]);
    count = atol(argv[3]);
    if (argc == 5 && (keep = atol(argv[4])) < 1)
        return 2;
    if (bytes < 0 || count <= 0 || !(buf = malloc(bytes ? bytes : 1)))
        return 2;
    memset(buf, 'x', bytes);
    c0 = cpu_seconds();
    w0 = wall_seconds();
    dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        perror("open DIR");
        return 1;
    }
    for (i = 0; i < count; i++) {
        /* as rp_file_write_in: by the directory's descriptor, opened once */
        int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640);
        if (fd < 0) {
            perror("openat O_TMPFILE");
            return 1;
        }
        if (write(fd, buf, bytes) != bytes) {
            perror("write");
            return 1;
        }
        snprintf(name, sizeof name, "floor-%ld.prof", i);
        if (linkat(fd, "", dirfd, name, AT_EMPTY_PATH) != 0) {
            /* kernels before 6.10 refuse that without CAP_DAC_READ_SEARCH */
            snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
            if (linkat(AT_FDCWD, proc, dirfd, name, AT_SYMLINK_FOLLOW) != 0) {
                perror("linkat");
                return 1;
            }
        }
        close(fd);
        if (keep && i >= keep) {
            snprintf(name, sizeof name, "floor-%ld.prof", i - keep);
            if (unlinkat(dirfd, name, 0) != 0) {
                perror("unlinkat");
                return 1;
            }
        }
    }
    c1 = cpu_seconds();
    w1 = wall_seconds();
    for (i = keep && count > keep ? count - keep : 0; i < count; i++) {
        snprintf(name, sizeof name, "%s/floor-%ld.prof", argv[1], i);
        unlink(name);
    }
    printf("%.3f %.3f\n", (c1 - c0) * 1e6 / count, (w1 - w0) * 1e6 / count);
    close(dirfd);
    free(buf);
    return 0;
}
