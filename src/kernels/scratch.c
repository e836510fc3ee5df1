/* Scratch that kernels keep per thread between calls: the GEMM kernels' packing buffers
 * (ganc_kernel_scratch) and the bf16 GEMM's rounded operands (ganc_bf16_scratch, kernels/bf16.c).
 * Two pools, because the bf16 GEMM calls the fp32 kernels while its own block is in use. Each
 * pool gives one block per thread that asks, allocated on its first call and kept, since the
 * same threads run every step and nothing may be allocated per step.
 *
 * Every block is on its pool's list, so ganc_shutdown frees them all; a thread that exits hands
 * its block to the next thread that asks (a pthread key destructor), so programs whose threads
 * come and go do not pile blocks up. Blocks are not counted by ganc_alloc_count: a thread's
 * first product may come in any step, and the tests that count allocations mean the network's. */
#include "ganc_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

typedef struct block {
    struct block *all_next;   /* every block of the pool */
    struct block *spare_next; /* blocks of threads that exited */
    _Alignas(64) float data[]; /* the pool's `floats` */
} block;

enum { KERNEL, BF16, POOLS };

typedef struct {
    size_t floats;
    pthread_mutex_t lock;
    block *all, *spare;
    size_t count;
    /* Bumped when ganc_shutdown frees every block: a thread whose block is from an older
     * generation must not touch it again. */
    _Atomic unsigned generation;
    pthread_once_t key_once;
    pthread_key_t exit_key;
    int have_key;
} pool;

static pool pools[POOLS] = {
    {.floats = GANC_KERNEL_SCRATCH_FLOATS, .lock = PTHREAD_MUTEX_INITIALIZER, .key_once = PTHREAD_ONCE_INIT},
    {.floats = GANC_BF16_SCRATCH_FLOATS, .lock = PTHREAD_MUTEX_INITIALIZER, .key_once = PTHREAD_ONCE_INIT},
};
static _Thread_local block *mine[POOLS];
static _Thread_local unsigned mine_generation[POOLS];

/* Runs when a thread that took a block of pool `which` exits (its thread-local variables are
 * still there). */
static void thread_exit(int which, void *b)
{
    pool *P = &pools[which];
    pthread_mutex_lock(&P->lock);
    if (b == mine[which] && mine_generation[which] == atomic_load_explicit(&P->generation, memory_order_relaxed)) {
        mine[which]->spare_next = P->spare;
        P->spare = mine[which];
    }
    mine[which] = NULL;
    pthread_mutex_unlock(&P->lock);
}

static void kernel_exit(void *b) { thread_exit(KERNEL, b); }
static void bf16_exit(void *b) { thread_exit(BF16, b); }
static void make_kernel_key(void) { pools[KERNEL].have_key = pthread_key_create(&pools[KERNEL].exit_key, kernel_exit) == 0; }
static void make_bf16_key(void) { pools[BF16].have_key = pthread_key_create(&pools[BF16].exit_key, bf16_exit) == 0; }

static float *take(int which)
{
    pool *P = &pools[which];
    if (mine[which] && mine_generation[which] == atomic_load_explicit(&P->generation, memory_order_relaxed))
        return mine[which]->data;
    pthread_once(&P->key_once, which == KERNEL ? make_kernel_key : make_bf16_key);
    pthread_mutex_lock(&P->lock);
    block *b = P->spare;
    /* aligned_alloc wants a multiple of the alignment */
    const size_t bytes = (sizeof(block) + P->floats * sizeof(float) + 63) / 64 * 64;
    if (b) {
        P->spare = b->spare_next;
    } else if ((b = aligned_alloc(64, bytes))) {
        b->all_next = P->all;
        P->all = b;
        P->count++;
    }
    if (b) {
        mine[which] = b;
        mine_generation[which] = atomic_load_explicit(&P->generation, memory_order_relaxed);
        if (P->have_key) pthread_setspecific(P->exit_key, b);
    }
    pthread_mutex_unlock(&P->lock);
    return b ? b->data : NULL;
}

float *ganc_kernel_scratch(void) { return take(KERNEL); }
float *ganc_bf16_scratch(void) { return take(BF16); }

void ganc_kernel_scratch_free(void)
{
    for (int which = 0; which < POOLS; which++) {
        pool *P = &pools[which];
        pthread_mutex_lock(&P->lock);
        for (block *b = P->all, *next; b; b = next) {
            next = b->all_next;
            free(b);
        }
        P->all = P->spare = NULL;
        P->count = 0;
        atomic_fetch_add_explicit(&P->generation, 1, memory_order_relaxed);
        mine[which] = NULL;
        pthread_mutex_unlock(&P->lock);
    }
}

size_t ganc_kernel_scratch_blocks(void)
{
    pthread_mutex_lock(&pools[KERNEL].lock);
    const size_t n = pools[KERNEL].count;
    pthread_mutex_unlock(&pools[KERNEL].lock);
    return n;
}
