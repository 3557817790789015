/* forkstorm: short-lived processes as fast as W workers can fork them, for S seconds: the load of
 * issue #19's memory bound for the process table (many thousands of processes a second).
 *
 * Each worker forks in a loop. A child calls _exit(0) at once, except every Nth (-x N), which execs
 * PROGRAM (/bin/true by default) first. A worker keeps at most 64 children unreaped. Every process
 * of the storm runs with group id GID (-G, default 32343 = 0x7e57), so that a rule
 * `-F gid=GID` matches the workers' fork/clone calls and the children's execve and exit_group,
 * and nothing else on the machine. With -g it first prints "ready pid=…" and waits for a line on
 * standard input (a harness loads the rule in between). With -p it prints one progress line
 * ("t=… forks=…") a second on standard output.
 *
 * usage: forkstorm -s SECONDS [-w WORKERS] [-x N] [-G GID] [-g] [-p] [PROGRAM]
 * prints: forks=N execs=E failed=F wall_s=… rate_eps=…  (forks a second) */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

struct shared {
    atomic_long forks, execs, failed;
};

static void worker(struct shared *shared, double deadline, long every, const char *program) {
    char *child_argv[] = {(char *)program, NULL};
    long running = 0, n = 0;
    int status;
    while (now() < deadline) {
        n++;
        int exec = every > 0 && n % every == 0;
        pid_t pid = fork();
        if (pid == 0) {
            if (exec) execve(program, child_argv, environ);
            _exit(0);
        }
        if (pid < 0) {
            atomic_fetch_add(&shared->failed, 1);
            if (waitpid(-1, &status, 0) > 0) running--;
            continue;
        }
        atomic_fetch_add(&shared->forks, 1);
        if (exec) atomic_fetch_add(&shared->execs, 1);
        running++;
        while (running > 0) {
            pid_t done = waitpid(-1, &status, running >= 64 ? 0 : WNOHANG);
            if (done <= 0) break;
            running--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) atomic_fetch_add(&shared->failed, 1);
        }
    }
    while (running > 0 && waitpid(-1, &status, 0) > 0) running--;
    _exit(0);
}

int main(int argc, char **argv) {
    double seconds = 0;
    long workers = 2, every = 0;
    gid_t gid = 32343;
    int gate = 0, progress = 0, opt;
    while ((opt = getopt(argc, argv, "s:w:x:G:gp")) != -1) {
        switch (opt) {
        case 's': seconds = atof(optarg); break;
        case 'w': workers = atol(optarg); break;
        case 'x': every = atol(optarg); break;
        case 'G': gid = (gid_t)atol(optarg); break;
        case 'g': gate = 1; break;
        case 'p': progress = 1; break;
        default:
            fprintf(stderr, "usage: forkstorm -s SECONDS [-w WORKERS] [-x N] [-G GID] [-g] [-p] [PROGRAM]\n");
            return 2;
        }
    }
    if (seconds <= 0 || workers <= 0) { fprintf(stderr, "forkstorm: -s and -w must be positive\n"); return 2; }
    const char *program = optind < argc ? argv[optind] : "/bin/true";
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0) { perror("forkstorm: setresgid"); return 1; }
    struct shared *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) { perror("forkstorm: mmap"); return 1; }
    if (gate) {
        char line[64];
        printf("ready pid=%d\n", getpid());
        fflush(stdout);
        if (!fgets(line, sizeof line, stdin)) return 1;
    }
    double start = now(), deadline = start + seconds;
    for (long i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid == 0) worker(shared, deadline, every, program);
        if (pid < 0) { perror("forkstorm: fork"); return 1; }
    }
    double next = start + 1;
    while (now() < deadline) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (progress && now() >= next) {
            printf("t=%.1f forks=%ld\n", now() - start, atomic_load(&shared->forks));
            fflush(stdout);
            next += 1;
        }
    }
    while (wait(NULL) > 0 || errno == EINTR) {}
    double wall = now() - start;
    long forks = atomic_load(&shared->forks);
    printf("forks=%ld execs=%ld failed=%ld wall_s=%.3f rate_eps=%.0f\n", forks, atomic_load(&shared->execs),
           atomic_load(&shared->failed), wall, forks / wall);
    return atomic_load(&shared->failed) != 0;
}
