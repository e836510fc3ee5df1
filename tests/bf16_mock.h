/* Portable stand-ins for the AVX512-BF16 and AMX-BF16 intrinsics that kernels/gemm_bf16_*.c
 * use, written from Intel's descriptions of the instructions, so that tests/test_bf16_mock.c
 * can run those kernels' packing, blocking, masking and tiling on a CPU without them. They
 * check the kernels' logic, not the hardware: the real instructions still have to run on a
 * machine that has them (tests/test_bf16.c does that wherever they are). Subnormals are not
 * flushed here (the instructions flush them); the tests' inputs have none. */
#ifndef GANC_BF16_MOCK_H
#define GANC_BF16_MOCK_H

#include <stdint.h>
#include <string.h>

/* 64-byte vectors returned by these static functions only: no ABI crossed */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

typedef float __m512 __attribute__((vector_size(64)));
typedef long long __m512i __attribute__((vector_size(64)));
typedef short __m512bh __attribute__((vector_size(64)));
typedef uint16_t __mmask16;

static inline float mock_bf16(uint16_t h)
{
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline __m512 _mm512_setzero_ps(void) { return (__m512){0}; }
static inline __m512 _mm512_set1_ps(float x)
{
    __m512 v;
    for (int i = 0; i < 16; i++) v[i] = x;
    return v;
}
static inline __m512i _mm512_set1_epi32(int x)
{
    int32_t l[16];
    for (int i = 0; i < 16; i++) l[i] = x;
    __m512i v;
    memcpy(&v, l, sizeof v);
    return v;
}
static inline __m512i _mm512_loadu_si512(const void *p)
{
    __m512i v;
    memcpy(&v, p, sizeof v);
    return v;
}
/* Vectors go in by address (macros over compound literals): GCC notes an ABI change for 64-byte
 * vectors passed by value without AVX-512, a note no pragma silences. */
#define _mm512_mul_ps(a, b) mock_mul((const __m512[]){a}, (const __m512[]){b})
#define _mm512_add_ps(a, b) mock_add((const __m512[]){a}, (const __m512[]){b})
#define _mm512_fmadd_ps(a, b, c) mock_fmadd((const __m512[]){a}, (const __m512[]){b}, (const __m512[]){c})
#define _mm512_mask_storeu_ps(p, m, v) mock_mask_store(p, m, (const __m512[]){v})
#define _mm512_dpbf16_ps(acc, a, b) mock_dpbf16((const __m512[]){acc}, (const __m512bh[]){a}, (const __m512bh[]){b})
static inline __m512 mock_mul(const __m512 *a, const __m512 *b) { return *a * *b; }
static inline __m512 mock_add(const __m512 *a, const __m512 *b) { return *a + *b; }
static inline __m512 mock_fmadd(const __m512 *a, const __m512 *b, const __m512 *c)
{
    __m512 r;
    for (int i = 0; i < 16; i++) r[i] = __builtin_fmaf((*a)[i], (*b)[i], (*c)[i]);
    return r;
}
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const float *p)
{
    __m512 r = {0};
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) r[i] = p[i];
    return r;
}
static inline void mock_mask_store(float *p, __mmask16 m, const __m512 *v)
{
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) p[i] = (*v)[i];
}
/* VDPBF16PS: lane i += a.bf16[2i+1] * b.bf16[2i+1], then += a.bf16[2i] * b.bf16[2i] (fp32) */
static inline __m512 mock_dpbf16(const __m512 *acc, const __m512bh *a, const __m512bh *b)
{
    uint16_t x[32], y[32];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    __m512 r = *acc;
    for (int i = 0; i < 16; i++) {
        r[i] += mock_bf16(x[2 * i + 1]) * mock_bf16(y[2 * i + 1]);
        r[i] += mock_bf16(x[2 * i]) * mock_bf16(y[2 * i]);
    }
    return r;
}

/* AMX: eight tiles of 16 rows x 64 bytes (the kernels configure every one so) */
static _Thread_local uint8_t mock_tmm[8][16][64];
#define _tile_loadconfig(cfg) ((void)(cfg))
#define _tile_release() ((void)0)
#define _tile_zero(t) memset(mock_tmm[t], 0, sizeof mock_tmm[t])
#define _tile_loadd(t, base, stride) mock_tile_move(mock_tmm[t], (const void *)(base), (long)(stride), 1)
#define _tile_stored(t, base, stride) mock_tile_move(mock_tmm[t], (void *)(base), (long)(stride), 0)
#define _tile_dpbf16ps(c, a, b) mock_tile_dp(mock_tmm[c], mock_tmm[a], mock_tmm[b])
static inline void mock_tile_move(uint8_t tile[16][64], const void *mem, long stride, int load)
{
    for (int r = 0; r < 16; r++) {
        if (load) memcpy(tile[r], (const uint8_t *)mem + r * stride, 64);
        else memcpy((uint8_t *)mem + r * stride, tile[r], 64);
    }
}
/* TDPBF16PS: C[m][n] (fp32) += sum over k of A[m].pair[k] . B[k].pair[n], the pair's two
 * products added in turn, even element first */
static inline void mock_tile_dp(uint8_t c[16][64], uint8_t a[16][64], uint8_t b[16][64])
{
    for (int m = 0; m < 16; m++)
        for (int n = 0; n < 16; n++) {
            float acc;
            memcpy(&acc, &c[m][4 * n], 4);
            for (int k = 0; k < 16; k++) {
                uint16_t x[2], y[2];
                memcpy(x, &a[m][4 * k], 4);
                memcpy(y, &b[k][4 * n], 4);
                acc += mock_bf16(x[0]) * mock_bf16(y[0]);
                acc += mock_bf16(x[1]) * mock_bf16(y[1]);
            }
            memcpy(&c[m][4 * n], &acc, 4);
        }
}

#endif
