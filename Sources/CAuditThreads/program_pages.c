#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "CAuditThreads.h"

/* dl_iterate_phdr callback: drops the resident pages of the main program's read-only PT_LOAD
 * segments (code, read-only data; never a writable or RELRO one, whose pages hold relocated or
 * written data). Adds the bytes released to *data. */
static int release_readonly_segments(struct dl_phdr_info *info, size_t size, void *data) {
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

size_t caudit_release_program_pages(void) {
    size_t released = 0;
    dl_iterate_phdr(release_readonly_segments, &released);
    return released;
}
