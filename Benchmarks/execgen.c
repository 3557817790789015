/* execgen: starts a program N times at a fixed rate, the load of laurel's published performance data
 * (a loop that runs /bin/true under an execve rule).
 *
 * Each start is posix_spawn (clone with CLONE_VM|CLONE_VFORK, then execve in the child), paced to
 * R starts per second from one schedule: a start that comes late does not move the later ones.
 * Children are reaped as they exit. With -g the program first waits for a line on standard input, so
 * that a harness can load a rule naming this process (-F ppid=PID) before the first start.
 *
 * usage: execgen -n N -r R [-g] [PROGRAM]      (PROGRAM defaults to /bin/true)
 * prints: execs=N failed=F wall_s=… rate_eps=… */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static long reap(int block, long *failed) {
    long reaped = 0;
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, block ? 0 : WNOHANG)) > 0) {
        reaped++;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) (*failed)++;
    }
    return reaped;
}

int main(int argc, char **argv) {
    long total = 0;
    double rate = 0;
    int gate = 0, opt;
    while ((opt = getopt(argc, argv, "n:r:g")) != -1) {
        switch (opt) {
        case 'n': total = atol(optarg); break;
        case 'r': rate = atof(optarg); break;
        case 'g': gate = 1; break;
        default: fprintf(stderr, "usage: execgen -n N -r R [-g] [PROGRAM]\n"); return 2;
        }
    }
    if (total <= 0 || rate <= 0) { fprintf(stderr, "execgen: -n and -r must be positive\n"); return 2; }
    char *program = optind < argc ? argv[optind] : "/bin/true";
    char *child_argv[] = {program, NULL};
    if (gate) {
        char line[64];
        printf("ready pid=%d\n", getpid());
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin)) return 1;
    }
    long failed = 0, running = 0;
    double start = now(), interval = 1.0 / rate;
    for (long i = 0; i < total; i++) {
        double wait = start + i * interval - now();
        if (wait > 0) {
            struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        }
        pid_t pid;
        int err = posix_spawn(&pid, program, NULL, NULL, child_argv, environ);
        if (err != 0) {
            failed++;
        } else {
            running++;
        }
        running -= reap(0, &failed);
    }
    running -= reap(1, &failed);
    double wall = now() - start;
    printf("execs=%ld failed=%ld wall_s=%.3f rate_eps=%.0f\n", total, failed, wall, total / wall);
    return failed != 0;
}
