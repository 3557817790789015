#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "CAuditThreads.h"

/* The three states of a parker's word. Only the parking thread moves it to PARKED or EMPTY, and
 * only `caudit_unpark` to NOTIFIED, so the waker makes a system call only when somebody sleeps.
 * PARKED is EMPTY - 1, so that one decrement either takes a permit (NOTIFIED -> EMPTY) or
 * announces the sleep (EMPTY -> PARKED). */
#define EMPTY 0u
#define NOTIFIED 1u
#define PARKED UINT32_MAX

static int take_permit(uint32_t *word) {
    uint32_t expected = NOTIFIED;
    return __atomic_compare_exchange_n(word, &expected, EMPTY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static uint64_t monotonic_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int caudit_park(uint32_t *word, int64_t deadline) {
    /* NOTIFIED -> EMPTY: the permit was already given. EMPTY -> PARKED: sleep for it. */
    if (__atomic_fetch_sub(word, 1, __ATOMIC_ACQUIRE) == NOTIFIED) return 1;
    for (;;) {
        struct timespec until;
        const struct timespec *timeout = NULL;
        if (deadline >= 0) {
            if (monotonic_now() >= (uint64_t)deadline) break;
            until.tv_sec = (time_t)(deadline / 1000000000);
            until.tv_nsec = (long)(deadline % 1000000000);
            timeout = &until;
        }
        /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a wall-clock step
         * (NTP, `date`) never stretches or shortens the wait. It returns at once (EAGAIN) when
         * the word is no longer PARKED, i.e. the permit came in between. */
        syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, PARKED, timeout, NULL,
                FUTEX_BITSET_MATCH_ANY);
        if (take_permit(word)) return 1;
        /* Spurious wake-up, signal (EINTR) or timeout: check the deadline and sleep again. */
    }
    /* Timed out; a permit given at this very moment is still taken. */
    return __atomic_exchange_n(word, EMPTY, __ATOMIC_ACQUIRE) == NOTIFIED;
}

void caudit_unpark(uint32_t *word) {
    if (__atomic_exchange_n(word, NOTIFIED, __ATOMIC_RELEASE) == PARKED) {
        syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
    }
}
