/* latprobe: syscall-to-file latency. Makes K audited calls spaced D ms apart, each
 * syscall(SYS_getppid, 0x7e57b00d, TOKEN, 0, 0) with a fresh TOKEN, and after each call reads the
 * output file from where it last stopped until the text "a1=<TOKEN in hex>" shows up (polling
 * every 200 µs). Runs beside a load so the latency is measured under it.
 *
 * usage: latprobe -f FILE [-k K] [-d D_MS] [-t TIMEOUT_MS]
 * prints: lat_found=N lat_probes=K lat_p50_ms=… lat_p99_ms=… lat_max_ms=… */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    const char *path = NULL;
    int probes = 100, delay = 40, timeout = 5000, opt;
    while ((opt = getopt(argc, argv, "f:k:d:t:")) != -1) {
        switch (opt) {
        case 'f': path = optarg; break;
        case 'k': probes = atoi(optarg); break;
        case 'd': delay = atoi(optarg); break;
        case 't': timeout = atoi(optarg); break;
        default: fprintf(stderr, "usage: latprobe -f FILE [-k K] [-d MS] [-t MS]\n"); return 2;
        }
    }
    if (!path || probes <= 0) { fprintf(stderr, "latprobe: -f FILE is required\n"); return 2; }
    double *lat = calloc(probes, sizeof *lat);
    int found = 0;
    off_t offset = 0;
    int fd = open(path, O_RDONLY);
    if (fd >= 0) offset = lseek(fd, 0, SEEK_END);
    static char buf[1 << 20];
    char carry[64] = "";
    srand(getpid());
    for (int k = 0; k < probes; k++) {
        unsigned long token = 0x10000000UL + ((unsigned long)rand() & 0x0fffffffUL);
        char needle[32];
        snprintf(needle, sizeof needle, "a1=%lx", token);
        double start = now_ms();
        syscall(SYS_getppid, 0x7e57b00dUL, token, 0, 0);
        int hit = 0;
        while (!hit && now_ms() - start < timeout) {
            if (fd < 0) fd = open(path, O_RDONLY);
            ssize_t n = fd >= 0 ? pread(fd, buf + strlen(carry), sizeof buf - 64, offset) : 0;
            if (n > 0) {
                memcpy(buf, carry, strlen(carry));
                size_t total = strlen(carry) + n;
                offset += n;
                if (memmem(buf, total, needle, strlen(needle))) hit = 1;
                size_t keep = total < 40 ? total : 40; /* a needle split across two reads */
                memcpy(carry, buf + total - keep, keep);
                carry[keep] = 0;
            } else {
                usleep(200);
            }
        }
        if (hit) lat[found++] = now_ms() - start;
        double spent = now_ms() - start;
        if (spent < delay) usleep((useconds_t)((delay - spent) * 1000));
    }
    qsort(lat, found, sizeof *lat, cmp);
    double p50 = found ? lat[found / 2] : -1, p99 = found ? lat[(found * 99) / 100 < found ? (found * 99) / 100 : found - 1] : -1;
    printf("lat_found=%d lat_probes=%d lat_p50_ms=%.2f lat_p99_ms=%.2f lat_max_ms=%.2f\n", found, probes, p50, p99,
           found ? lat[found - 1] : -1);
    return 0;
}
