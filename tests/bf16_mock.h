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

/* Plain structs, not vector types: no ABI question without AVX-512 (GCC warns for 64-byte
 * vectors passed or returned by value), and the kernels' one reinterpretation goes through
 * their AS_BH macro. */
typedef struct {
    float f[16];
} __m512;
typedef struct {
    uint32_t u[16];
} __m512i;
typedef __m512i __m512bh;
typedef uint16_t __mmask16;
#define AS_BH(x) (x)

static inline float mock_bf16(uint16_t h)
{
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline __m512 _mm512_setzero_ps(void) { return (__m512){{0}}; }
static inline __m512 _mm512_set1_ps(float x)
{
    __m512 v;
    for (int i = 0; i < 16; i++) v.f[i] = x;
    return v;
}
static inline __m512i _mm512_set1_epi32(int x)
{
    __m512i v;
    for (int i = 0; i < 16; i++) v.u[i] = (uint32_t)x;
    return v;
}
static inline __m512i _mm512_loadu_si512(const void *p)
{
    __m512i v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline __m512 _mm512_mul_ps(__m512 a, __m512 b)
{
    for (int i = 0; i < 16; i++) a.f[i] *= b.f[i];
    return a;
}
static inline __m512 _mm512_add_ps(__m512 a, __m512 b)
{
    for (int i = 0; i < 16; i++) a.f[i] += b.f[i];
    return a;
}
static inline __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c)
{
    for (int i = 0; i < 16; i++) a.f[i] = __builtin_fmaf(a.f[i], b.f[i], c.f[i]);
    return a;
}
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const float *p)
{
    __m512 r = {{0}};
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) r.f[i] = p[i];
    return r;
}
static inline void _mm512_mask_storeu_ps(float *p, __mmask16 m, __m512 v)
{
    for (int i = 0; i < 16; i++)
        if (m >> i & 1) p[i] = v.f[i];
}
/* VDPBF16PS: lane i += a.bf16[2i+1] * b.bf16[2i+1], then += a.bf16[2i] * b.bf16[2i] (fp32) */
static inline __m512 _mm512_dpbf16_ps(__m512 acc, __m512bh a, __m512bh b)
{
    for (int i = 0; i < 16; i++) {
        acc.f[i] += mock_bf16((uint16_t)(a.u[i] >> 16)) * mock_bf16((uint16_t)(b.u[i] >> 16));
        acc.f[i] += mock_bf16((uint16_t)a.u[i]) * mock_bf16((uint16_t)b.u[i]);
    }
    return acc;
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
