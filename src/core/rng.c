/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11).
 * Counter based: block b of stream `seed` is philox(key = seed, counter = b), so fills are
 * reproducible for any thread count and the state is just (seed, counter). Fills use
 * ceil(n/4) consecutive blocks, value i coming from block counter + i/4, lane i%4. */
#include "ganc_internal.h"

#include <math.h>

philox_block ganc_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2])
{
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)M0 * c0, p1 = (uint64_t)M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += W0; k1 += W1;
    }
    philox_block b = {{c0, c1, c2, c3}};
    return b;
}

static inline philox_block philox4x32_10(uint64_t counter, uint64_t seed)
{
    const uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    return ganc_philox4x32_10(ctr, key);
}

/* PHILOX_LANES consecutive blocks at once, lane by lane in arrays: the same arithmetic as
 * ganc_philox4x32_10, across blocks (32x32 -> 64-bit products are one instruction in SSE2,
 * AVX2 and AVX-512). out[w][l] is word w of block counter + l. */
#define PHILOX_LANES 16

#if defined(__AVX2__)
#include <immintrin.h>

/* The high and low halves of the 32 x 32 -> 64-bit products m * c of eight lanes: products
 * of the even lanes and of the odd ones (shifted down), then their halves blended back into
 * lane order. */
static inline void mulhilo8(__m256i m, __m256i c, __m256i *hi, __m256i *lo)
{
    const __m256i even = _mm256_mul_epu32(c, m), odd = _mm256_mul_epu32(_mm256_srli_epi64(c, 32), m);
    *lo = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xAA);
}

/* The same as the scalar loop below, eight blocks to a register: GCC does not vectorise the
 * 64-bit products of that loop, and it ran at ~7 ns per Bernoulli value. */
static void philox_lanes(uint64_t counter, uint64_t seed, uint32_t out[4][PHILOX_LANES])
{
    __m256i c0[PHILOX_LANES / 8], c1[PHILOX_LANES / 8], c2[PHILOX_LANES / 8], c3[PHILOX_LANES / 8];
    for (int v = 0; v < PHILOX_LANES / 8; v++) {
        uint32_t lo[8], hi[8];
        for (int l = 0; l < 8; l++) {
            const uint64_t ctr = counter + (uint64_t)(8 * v + l);
            lo[l] = (uint32_t)ctr;
            hi[l] = (uint32_t)(ctr >> 32);
        }
        c0[v] = _mm256_loadu_si256((const __m256i *)lo);
        c1[v] = _mm256_loadu_si256((const __m256i *)hi);
        c2[v] = c3[v] = _mm256_setzero_si256();
    }
    const __m256i m0 = _mm256_set1_epi64x(0xD2511F53u), m1 = _mm256_set1_epi64x(0xCD9E8D57u);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        const __m256i key0 = _mm256_set1_epi32((int)k0), key1 = _mm256_set1_epi32((int)k1);
        for (int v = 0; v < PHILOX_LANES / 8; v++) {
            __m256i hi0, lo0, hi1, lo1;
            mulhilo8(m0, c0[v], &hi0, &lo0);
            mulhilo8(m1, c2[v], &hi1, &lo1);
            c0[v] = _mm256_xor_si256(_mm256_xor_si256(hi1, c1[v]), key0);
            c2[v] = _mm256_xor_si256(_mm256_xor_si256(hi0, c3[v]), key1);
            c1[v] = lo1;
            c3[v] = lo0;
        }
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    for (int v = 0; v < PHILOX_LANES / 8; v++) {
        _mm256_storeu_si256((__m256i *)&out[0][8 * v], c0[v]);
        _mm256_storeu_si256((__m256i *)&out[1][8 * v], c1[v]);
        _mm256_storeu_si256((__m256i *)&out[2][8 * v], c2[v]);
        _mm256_storeu_si256((__m256i *)&out[3][8 * v], c3[v]);
    }
}
#else
static void philox_lanes(uint64_t counter, uint64_t seed, uint32_t out[4][PHILOX_LANES])
{
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    uint32_t c0[PHILOX_LANES], c1[PHILOX_LANES], c2[PHILOX_LANES], c3[PHILOX_LANES];
    for (int l = 0; l < PHILOX_LANES; l++) {
        const uint64_t ctr = counter + (uint64_t)l;
        c0[l] = (uint32_t)ctr;
        c1[l] = (uint32_t)(ctr >> 32);
        c2[l] = c3[l] = 0;
    }
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        for (int l = 0; l < PHILOX_LANES; l++) {
            const uint64_t p0 = (uint64_t)M0 * c0[l], p1 = (uint64_t)M1 * c2[l];
            const uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1[l] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3[l] ^ k1;
            c1[l] = (uint32_t)p1;
            c3[l] = (uint32_t)p0;
            c0[l] = n0;
            c2[l] = n2;
        }
        k0 += W0;
        k1 += W1;
    }
    for (int l = 0; l < PHILOX_LANES; l++) {
        out[0][l] = c0[l];
        out[1][l] = c1[l];
        out[2][l] = c2[l];
        out[3][l] = c3[l];
    }
}
#endif

void ganc_rng_seed(ganc_rng *r, uint64_t seed)
{
    r->seed = seed;
    r->counter = 0;
}

/* Uniform in [0, 1) with 24 random bits: exactly representable in float. */
static inline float u32_to_unit(uint32_t u) { return (float)(u >> 8) * (1.0f / 16777216.0f); }

void ganc_rng_uniform(ganc_rng *r, float *out, size_t n, float lo, float hi)
{
    const uint64_t base = r->counter, key = r->seed;
    const float span = hi - lo;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t b = 0; b < (n + 3) / 4; b++) {
        philox_block blk = philox4x32_10(base + b, key);
        for (size_t j = 0; j < 4 && 4 * b + j < n; j++) {
            float v = lo + span * u32_to_unit(blk.v[j]);
            out[4 * b + j] = v < hi ? v : lo; /* rounding must never produce hi itself */
        }
    }
    r->counter += (n + 3) / 4;
}

void ganc_rng_normal(ganc_rng *r, float *out, size_t n, float mean, float std)
{
    const uint64_t base = r->counter, key = r->seed;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t b = 0; b < (n + 3) / 4; b++) {
        philox_block blk = philox4x32_10(base + b, key);
        double z[4];
        for (int pair = 0; pair < 2; pair++) {
            /* Box-Muller on (0, 1] x [0, 1) with 32-bit resolution. */
            double u1 = ((double)blk.v[2 * pair] + 1.0) * (1.0 / 4294967296.0);
            double u2 = (double)blk.v[2 * pair + 1] * (1.0 / 4294967296.0);
            double rad = sqrt(-2.0 * log(u1));
            z[2 * pair] = rad * cos(6.283185307179586 * u2);
            z[2 * pair + 1] = rad * sin(6.283185307179586 * u2);
        }
        for (size_t j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = (float)(mean + std * z[j]);
    }
    r->counter += (n + 3) / 4;
}

#if defined(__AVX2__)
/* out[4 l + j] = w[j][l] < threshold (threshold <= 2^32) as 1 or 0: words compared unsigned
 * (as signed after flipping their top bits), then each 4 x 8 block of answers transposed so
 * that a block's four values lie together. */
static void bernoulli_lanes_avx2(const uint32_t w[4][PHILOX_LANES], uint64_t threshold, float *out)
{
    const __m256i flip = _mm256_set1_epi32(INT32_MIN), one = _mm256_castps_si256(_mm256_set1_ps(1.0f));
    const __m256i all = threshold > UINT32_MAX ? _mm256_set1_epi32(-1) : _mm256_setzero_si256();
    const __m256i limit = _mm256_xor_si256(_mm256_set1_epi32((int)(uint32_t)threshold), flip);
    for (int v = 0; v < PHILOX_LANES / 8; v++) {
        __m256i m[4];
        for (int j = 0; j < 4; j++) {
            const __m256i x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)&w[j][8 * v]), flip);
            m[j] = _mm256_and_si256(_mm256_or_si256(_mm256_cmpgt_epi32(limit, x), all), one);
        }
        const __m256i t0 = _mm256_unpacklo_epi32(m[0], m[1]), t1 = _mm256_unpackhi_epi32(m[0], m[1]);
        const __m256i t2 = _mm256_unpacklo_epi32(m[2], m[3]), t3 = _mm256_unpackhi_epi32(m[2], m[3]);
        const __m256i b04 = _mm256_unpacklo_epi64(t0, t2), b15 = _mm256_unpackhi_epi64(t0, t2);
        const __m256i b26 = _mm256_unpacklo_epi64(t1, t3), b37 = _mm256_unpackhi_epi64(t1, t3);
        float *o = out + 32 * v;
        _mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(b04, b15, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 8), _mm256_permute2x128_si256(b26, b37, 0x20));
        _mm256_storeu_si256((__m256i *)(o + 16), _mm256_permute2x128_si256(b04, b15, 0x31));
        _mm256_storeu_si256((__m256i *)(o + 24), _mm256_permute2x128_si256(b26, b37, 0x31));
    }
}
#endif

void ganc_rng_bernoulli(ganc_rng *r, float *out, size_t n, float p)
{
    const uint64_t base = r->counter, key = r->seed;
    /* value v (an integer) is below p * 2^32 exactly when it is below the ceiling of that */
    const uint64_t threshold = (uint64_t)ceil((double)p * 4294967296.0);
    const size_t blocks = (n + 3) / 4, groups = (blocks + PHILOX_LANES - 1) / PHILOX_LANES;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t g = 0; g < groups; g++) {
        uint32_t w[4][PHILOX_LANES];
        philox_lanes(base + g * PHILOX_LANES, key, w);
        const size_t first = g * PHILOX_LANES * 4;
        if (first + PHILOX_LANES * 4 <= n) {
#if defined(__AVX2__)
            bernoulli_lanes_avx2(w, threshold, out + first);
#else
            for (int l = 0; l < PHILOX_LANES; l++)
                for (int j = 0; j < 4; j++) out[first + 4 * l + j] = (uint64_t)w[j][l] < threshold ? 1.0f : 0.0f;
#endif
        } else {
            for (size_t i = first; i < n; i++) {
                const size_t l = (i - first) / 4, j = (i - first) % 4;
                out[i] = (uint64_t)w[j][l] < threshold ? 1.0f : 0.0f;
            }
        }
    }
    r->counter += blocks;
}

/* Parts of a draw. Value i of a fill comes from block counter + i / 4 alone (lane i % 4), so
 * a part is the whole fill started at block counter + first / 4, with the values of that block
 * before `first` dropped: a lead of first % 4 values is drawn from its block into a small
 * array, the rest straight into out. */
typedef void (*fill_fn)(ganc_rng *r, float *out, size_t n, float a, float b);

static void fill_part(ganc_rng *r, fill_fn fill, float *out, size_t first, size_t n, size_t total, float a, float b)
{
    ganc_rng t = *r;
    t.counter += first / 4;
    size_t done = 0;
    if (first % 4 && n) {
        float block[4];
        fill(&t, block, 4, a, b); /* (one block: t moves on by one) */
        for (size_t j = first % 4; j < 4 && done < n; j++) out[done++] = block[j];
    }
    if (done < n) fill(&t, out + done, n - done, a, b);
    r->counter += (total + 3) / 4;
}

static void fill_bernoulli(ganc_rng *r, float *out, size_t n, float p, float unused)
{
    (void)unused;
    ganc_rng_bernoulli(r, out, n, p);
}

void ganc_rng_uniform_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float lo, float hi)
{
    fill_part(r, ganc_rng_uniform, out, first, n, total, lo, hi);
}

void ganc_rng_normal_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float mean, float std)
{
    fill_part(r, ganc_rng_normal, out, first, n, total, mean, std);
}

void ganc_rng_bernoulli_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float p)
{
    fill_part(r, fill_bernoulli, out, first, n, total, p, 0.0f);
}

uint64_t ganc_rng_u64(ganc_rng *r)
{
    philox_block blk = philox4x32_10(r->counter++, r->seed);
    return ((uint64_t)blk.v[1] << 32) | blk.v[0];
}

double ganc_rng_double(ganc_rng *r) { return (double)(ganc_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Fisher-Yates; each swap index from 64 random bits, so the modulo bias is below 2^-32. */
void ganc_rng_permutation(ganc_rng *r, int32_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (int32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(ganc_rng_u64(r) % i);
        int32_t t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
    }
}
