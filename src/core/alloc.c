/* ganc_alloc: the library's numeric buffers (include/ganc.h says which go through it and which
 * do not), 64-byte aligned for vector code, zeroed, and counted, so that tests can prove the
 * training step allocates nothing once a network is built. */
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t alloc_calls;

void *ganc_alloc(size_t bytes)
{
    alloc_calls++;
    /* No object can be larger than PTRDIFF_MAX bytes, so such a request is a size computed with
     * an overflow (callers check theirs: ganc_size_mul); refuse it rather than let the rounding
     * below wrap past SIZE_MAX to a tiny block. */
    if (bytes > (size_t)PTRDIFF_MAX) {
        fprintf(stderr, "ganc: refusing to allocate %zu bytes (more than any object can have)\n", bytes);
        return NULL;
    }
    const size_t rounded = bytes <= 64 ? 64 : (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, rounded);
    if (!p) {
        fprintf(stderr, "ganc: out of memory allocating %zu bytes\n", bytes);
        abort();
    }
    memset(p, 0, rounded);
    return p;
}

void ganc_free(void *p) { free(p); }

uint64_t ganc_alloc_count(void) { return alloc_calls; }

void ganc_shutdown(void) { ganc_kernel_scratch_free(); }
