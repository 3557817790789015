/* loadgen: makes exactly N audited syscalls from W worker processes, as fast as possible or paced
 * to R calls per second in total, so a benchmark knows how many events the kernel should produce.
 *
 * Each call is syscall(SYS_getppid, MAGIC, sequence, 0, 0): getppid ignores its arguments but the
 * kernel logs a0..a3, so a rule `-F a0=MAGIC` matches these calls and nothing else on the host.
 *
 * usage: loadgen -n N [-w W] [-r R] [-m MAGIC]
 * prints: events=N workers=W wall_s=… rate_eps=… */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long total = 0, workers = 1;
    double rate = 0;
    unsigned long magic = 0x7e57b00cUL;
    int opt;
    while ((opt = getopt(argc, argv, "n:w:r:m:")) != -1) {
        switch (opt) {
        case 'n': total = atol(optarg); break;
        case 'w': workers = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'm': magic = strtoul(optarg, NULL, 0); break;
        default: fprintf(stderr, "usage: loadgen -n N [-w W] [-r R] [-m MAGIC]\n"); return 2;
        }
    }
    if (total <= 0 || workers <= 0) { fprintf(stderr, "loadgen: -n and -w must be positive\n"); return 2; }
    int gate[2];
    if (pipe(gate) != 0) { perror("pipe"); return 1; }
    for (long w = 0; w < workers; w++) {
        long share = total / workers + (w < total % workers ? 1 : 0);
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            char c;
            close(gate[1]);
            if (read(gate[0], &c, 1) < 0) _exit(1); /* all workers start together */
            double start = now();
            double interval = rate > 0 ? (double)workers / rate : 0;
            for (long i = 0; i < share; i++) {
                if (interval > 0) {
                    double due = start + i * interval;
                    double wait = due - now();
                    if (wait > 0) {
                        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
                        nanosleep(&ts, NULL);
                    }
                }
                syscall(SYS_getppid, magic, (unsigned long)(w << 40 | i), 0, 0);
            }
            _exit(0);
        }
    }
    close(gate[0]);
    double start = now();
    close(gate[1]);
    int failed = 0, status;
    while (wait(&status) > 0) failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    double wall = now() - start;
    printf("events=%ld workers=%ld wall_s=%.3f rate_eps=%.0f\n", total, workers, wall, total / wall);
    return failed;
}
