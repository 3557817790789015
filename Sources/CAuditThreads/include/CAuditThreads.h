#ifndef CAUDIT_THREADS_H
#define CAUDIT_THREADS_H
/* Thread calls Swift's Glibc module cannot reach: syscall(2) is variadic. */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lowers (or raises) the calling thread's nice value; 0 on success, -1 with errno. */
static inline int caudit_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

#endif
