/* The bf16 product on AMX-BF16 tiles (tdpbf16ps), compiled through target attributes; run only
 * where ganc_cpu_amx_bf16 says the CPU has the tiles and Linux granted this process the tile
 * state (kernels/cpu_features.c), else the next path is used.
 *
 * Blocks as the emulation's (GANC_BF16_KC deep from K's start). op(B)'s block is packed as
 * rows of bf16 pairs (pair q of column j: (B[2q][j], B[2q+1][j]), the layout tdpbf16ps reads),
 * op(A)'s rows as pairs (ganc_bf16_pack_a and _b, kernels/bf16.c, shared with the AVX512-BF16
 * kernel); K is padded with zeros to a multiple of 32, the rows and columns to multiples of 32,
 * so every tile is full: 16 rows x 16 fp32 for C, 16 x 32 bf16 for A and B.
 * Tiles 0-3 hold a 32 x 32 block of C, 4-5 two row blocks of A, 6-7 two column blocks of B;
 * each block of C is summed over the K block in the tiles, stored to a buffer and added to C
 * (alpha, and beta on the first K block) for its valid rows and columns. The inputs are rounded
 * as ganc_bf16_round1 rounds them; the tiles flush subnormals to zero.
 *
 * Not run on such a CPU when written (the development machine has AVX2 only): tests/test_bf16.c
 * checks this path wherever the CPU has it. */
#include "ganc_internal.h"

#ifdef GANC_BF16_KERNELS
#ifdef GANC_BF16_MOCK /* tests/test_bf16_mock.c, which includes this file after its stand-ins */
#define TARGET
#else
#include <immintrin.h>
#define TARGET __attribute__((target("amx-tile,amx-bf16")))
#endif

/* LDTILECFG's 64-byte layout (palette 1) */
typedef struct {
    uint8_t palette, start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

TARGET static void configure(void)
{
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);
}

/* ct (32 x 32) = A rows [i, i+32) . B columns [j, j+32) over `pairs` (a multiple of 16) */
TARGET static void block(const uint32_t *ap, int pairs, const uint32_t *bp, int ld, float *ct)
{
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int q = 0; q < pairs; q += 16) {
        _tile_loadd(4, ap + q, pairs * 4);
        _tile_loadd(5, ap + (size_t)16 * pairs + q, pairs * 4);
        _tile_loadd(6, bp + (size_t)q * ld, ld * 4);
        _tile_loadd(7, bp + (size_t)q * ld + 16, ld * 4);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, ct, 128);
    _tile_stored(1, ct + 16, 128);
    _tile_stored(2, ct + 16 * 32, 128);
    _tile_stored(3, ct + 16 * 32 + 16, 128);
}

TARGET static void release(void) { _tile_release(); }

int ganc_sgemm_bf16_amx(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                        int ldb, float beta, float *c, int ldc)
{
    uint32_t *scratch = (uint32_t *)ganc_bf16_scratch();
    if (!scratch) return -1;
    enum { KC = GANC_BF16_KC, NC = GANC_BF16_NC, MC = GANC_BF16_MC };
    uint32_t *bp = scratch, *ap = scratch + (size_t)(KC / 2) * NC; /* KC/2 x NC, then MC x KC/2 */
    _Alignas(64) float ct[32 * 32];
    configure();
    for (int j0 = 0; j0 < n; j0 += NC) {
        const int nb = n - j0 < NC ? n - j0 : NC, ld = (nb + 31) / 32 * 32;
        for (int p0 = 0; p0 < k; p0 += KC) {
            const int kb = k - p0 < KC ? k - p0 : KC, pairs = (kb + 31) / 32 * 16;
            ganc_bf16_pack_b(b, ldb, tb, j0, nb, ld, p0, kb, pairs, bp);
            for (int i0 = 0; i0 < m; i0 += MC) {
                const int mb = m - i0 < MC ? m - i0 : MC, rows = (mb + 31) / 32 * 32;
                ganc_bf16_pack_a(a, lda, ta, i0, mb, rows, p0, kb, pairs, ap);
                for (int i = 0; i < mb; i += 32)
                    for (int j = 0; j < nb; j += 32) {
                        block(ap + (size_t)i * pairs, pairs, bp + j, ld, ct);
                        for (int r = 0; r < 32 && i + r < mb; r++) {
                            float *cr = c + (size_t)(i0 + i + r) * ldc + j0 + j;
                            for (int s = 0; s < 32 && j + s < nb; s++) {
                                const float v = alpha * ct[r * 32 + s];
                                cr[s] = p0 ? cr[s] + v : beta == 0.0f ? v : v + beta * cr[s];
                            }
                        }
                    }
            }
        }
    }
    release();
    return 0;
}

#endif
