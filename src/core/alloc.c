/* Every heap allocation of the library goes through ganc_alloc: 64-byte alignment for vector
 * code, zeroed memory, and a counter that tests use to prove the training step allocates
 * nothing once a network is built. */
#include "ganc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic uint64_t alloc_calls;

void *ganc_alloc(size_t bytes)
{
    alloc_calls++;
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded == 0) rounded = 64;
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
