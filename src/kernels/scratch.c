/* Scratch that kernels keep per thread between calls (the AVX-512 GEMM's packing buffers): one
 * block of GANC_KERNEL_SCRATCH_FLOATS floats per thread that asks, allocated on its first call
 * and kept, since the same threads run every step and nothing may be allocated per step.
 *
 * Every block is on one list, so ganc_shutdown frees them all; a thread that exits hands its
 * block to the next thread that asks (a pthread key destructor), so programs whose threads come
 * and go do not pile blocks up. Blocks are not counted by ganc_alloc_count: a thread's first
 * product may come in any step, and the tests that count allocations mean the network's. */
#include "ganc_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct block {
    _Alignas(64) float data[GANC_KERNEL_SCRATCH_FLOATS];
    struct block *all_next;   /* every block */
    struct block *spare_next; /* blocks of threads that exited */
} block;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static block *all, *spare;
static size_t count;
/* Bumped when ganc_shutdown frees every block: a thread whose block is from an older generation
 * must not touch it again. */
static _Atomic unsigned generation;
static _Thread_local block *mine;
static _Thread_local unsigned mine_generation;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static int have_key;

/* Runs when a thread that took a block exits (its thread-local variables are still there). */
static void thread_exit(void *b)
{
    pthread_mutex_lock(&lock);
    if (b == mine && mine_generation == atomic_load_explicit(&generation, memory_order_relaxed)) {
        mine->spare_next = spare;
        spare = mine;
    }
    mine = NULL;
    pthread_mutex_unlock(&lock);
}

static void make_key(void) { have_key = pthread_key_create(&exit_key, thread_exit) == 0; }

float *ganc_kernel_scratch(void)
{
    if (mine && mine_generation == atomic_load_explicit(&generation, memory_order_relaxed)) return mine->data;
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&lock);
    block *b = spare;
    if (b) {
        spare = b->spare_next;
    } else if ((b = aligned_alloc(64, sizeof *b))) {
        b->all_next = all;
        all = b;
        count++;
    }
    if (b) {
        mine = b;
        mine_generation = atomic_load_explicit(&generation, memory_order_relaxed);
        if (have_key) pthread_setspecific(exit_key, b);
    }
    pthread_mutex_unlock(&lock);
    return b ? b->data : NULL;
}

void ganc_kernel_scratch_free(void)
{
    pthread_mutex_lock(&lock);
    for (block *b = all, *next; b; b = next) {
        next = b->all_next;
        free(b);
    }
    all = spare = NULL;
    count = 0;
    atomic_fetch_add_explicit(&generation, 1, memory_order_relaxed);
    mine = NULL;
    pthread_mutex_unlock(&lock);
}

size_t ganc_kernel_scratch_blocks(void)
{
    pthread_mutex_lock(&lock);
    const size_t n = count;
    pthread_mutex_unlock(&lock);
    return n;
}
