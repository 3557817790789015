#ifndef CAUDIT_THREADS_H
#define CAUDIT_THREADS_H
/* Process and thread calls Swift's Glibc module cannot reach: syscall(2) is variadic, and
 * dl_iterate_phdr needs _GNU_SOURCE and a C callback. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Lowers (or raises) the calling thread's nice value; 0 on success, -1 with errno. */
static inline int caudit_set_thread_nice(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/* dl_iterate_phdr callback: drops the resident pages of the main program's read-only PT_LOAD
 * segments (code, read-only data; never a writable or RELRO one, whose pages hold relocated or
 * written data). Adds the bytes released to *data. */
static inline int caudit_release_readonly_segments(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    size_t *released = (size_t *)data;
    /* The main program is reported first, with an empty name; stop after it. */
    if (info->dlpi_name != NULL && info->dlpi_name[0] != 0) return 1;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || (segment->p_flags & PF_W) != 0) continue;
        /* Whole pages inside the file-backed part only: a page shared with a neighbour or with
         * zero-fill (bss) is left alone. */
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz) & ~(page - 1);
        if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) == 0) *released += end - start;
    }
    return 1;
}

/* Releases the resident pages of the program's read-only segments; returns the bytes covered. */
static inline size_t caudit_release_program_pages(void) {
    size_t released = 0;
    dl_iterate_phdr(caudit_release_readonly_segments, &released);
    return released;
}

#endif
