#ifndef CAUDIT_THREADS_H
#define CAUDIT_THREADS_H
/* Process and thread calls Swift's Glibc module cannot reach: syscall(2) is variadic, and
 * dl_iterate_phdr needs _GNU_SOURCE and a C callback (so it lives in program_pages.c: defining
 * _GNU_SOURCE here would change glibc's types against Swift's own Glibc module). */
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lowers (or raises) the calling thread's nice value; 0 on success, -1 with errno. */
static inline int caudit_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/* Drops the resident pages of the main program's read-only PT_LOAD segments (MADV_DONTNEED);
 * returns the bytes of address space covered. */
size_t caudit_release_program_pages(void);

/* A one-permit parking spot on a futex word (initially 0) for exactly one waiting thread.
 * `caudit_park` sleeps until `caudit_unpark` gave the permit (before or during the wait) or the
 * absolute CLOCK_MONOTONIC `deadline` in nanoseconds passes (negative: no limit); it returns 1
 * when it took the permit, 0 on timeout. `caudit_unpark` makes a system call only when the
 * thread sleeps. */
int caudit_park(uint32_t *word, int64_t deadline);
void caudit_unpark(uint32_t *word);

/* The git commit the build was given (`-Xcc -DSWIFT_AUDIT_COMMIT="…"`, as `make release` passes
 * it), or "" when none was: C because a Swift compilation condition cannot carry a value. */
const char *caudit_build_commit(void);

#endif
