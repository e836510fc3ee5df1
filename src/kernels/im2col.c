/* im2col / col2im for square kernels with independent padding on each side. Rows of col are
 * `ld` floats apart, so a whole batch can share one col matrix (sample i at column i*oh*ow)
 * and one GEMM. Out-of-range
 * input positions read as zero (im2col) and are dropped (col2im), which also covers a
 * transposed convolution's cropping and output padding. */
#include "ganc_internal.h"

#include <string.h>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

/* Why a bordered plane: the windows of GAN layers are small (7x7 outputs, 5x5 kernels), so
 * testing every position against the input's edges cost more than the copies themselves
 * (about 2 cycles a float). Each input channel is first copied into a zero-bordered plane
 * buf (hp x wp: exactly the rows and columns the windows reach, plus SLACK columns so that
 * rows can be read and written in whole vectors); the k*k rows of col are then plain strided
 * copies out of it (im2col), or strided sums into it that are added to x at the end
 * (col2im). */
enum { SLACK = 32 };

static int plane_rows(const ganc_conv_geom *g) { return (g->oh - 1) * g->stride + g->k; }
static int plane_cols(const ganc_conv_geom *g) { return (g->ow - 1) * g->stride + g->k + SLACK; }

size_t ganc_conv_plane_floats(const ganc_conv_geom *g)
{
    return (size_t)plane_rows(g) * plane_cols(g);
}

/* The part of row yy of buf that holds input: columns [*lo, *hi) of buf, from x's column
 * *lo - pad_l; returns the input row (-1: none). */
static int plane_span(const ganc_conv_geom *g, int yy, int *lo, int *hi)
{
    const int iy = yy - g->pad_t, reach = (g->ow - 1) * g->stride + g->k;
    *lo = g->pad_l > 0 ? g->pad_l : 0;
    *hi = g->pad_l + g->w < reach ? g->pad_l + g->w : reach;
    return iy >= 0 && iy < g->h && *hi > *lo ? iy : -1;
}

#if defined(__AVX2__) && !defined(__AVX512F__)
/* AVX2 without AVX-512: gather_rows and scatter_add_rows below work in vectors of 8. A masked
 * store costs more on AMD's cores than the 3 or 7 floats of a dcgan28 row, so they use whole
 * vectors wherever what runs past a row is either written again later (the next rows of the
 * block, gather) or adds zeros (scatter), and plain loops or masked loads only at a block's
 * end. */

/* lanes [0, w) of a vector, w <= 8 */
static inline __m256i lanes8(int w)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(w), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* src[0], src[s], ..., src[7s] for s = 1 or 2 (reading up to src[15]) */
static inline __m256 load8(const float *src, int s)
{
    if (s == 1) return _mm256_loadu_ps(src);
    const __m256 e = _mm256_shuffle_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(src + 8), _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0))); /* a0 a2 b0 b2 | a4 a6 b4 b6 -> in order */
}

/* dst[0], dst[s], ..., dst[7s] += v for s = 1 or 2, adding +0 between (stride 2) and past
 * lane 7 of a stride-2 spread's first half when v's upper half is zero (few = 1: lanes 4-7
 * are zero and dst[8..15] is left alone). */
static inline void add8(float *dst, __m256 v, int s, int few)
{
    if (s == 1) {
        _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), v));
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    const __m256 lo = _mm256_unpacklo_ps(v, zero), hi = _mm256_unpackhi_ps(v, zero); /* v0 0 v1 0 | v4 0 v5 0 ... */
    _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), _mm256_permute2f128_ps(lo, hi, 0x20)));
    if (!few) _mm256_storeu_ps(dst + 8, _mm256_add_ps(_mm256_loadu_ps(dst + 8), _mm256_permute2f128_ps(lo, hi, 0x31)));
}
#endif

/* dst[0 .. n) = src[0], src[s], src[2s], ... */
static void gather_row(const float *src, float *dst, int n, int s)
{
#if defined(__AVX512F__)
    if (s == 1 || s == 2) {
        const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
        for (int o = 0; o < n; o += 16) {
            const int w = n - o < 16 ? n - o : 16;
            const __mmask16 m = (__mmask16)(w == 16 ? 0xFFFFu : (1u << w) - 1u);
            const __m512 v = s == 1 ? _mm512_loadu_ps(src + o)
                                    : _mm512_permutex2var_ps(_mm512_loadu_ps(src + 2 * o), even,
                                                             _mm512_loadu_ps(src + 2 * o + 16));
            _mm512_mask_storeu_ps(dst + o, m, v);
        }
        return;
    }
#endif
    for (int o = 0; o < n; o++) dst[o] = src[(size_t)o * s];
}

/* One window offset (ky, kx): oh rows of ow values into dst (contiguous), row oy from src +
 * oy * s * wp. GAN maps are narrow (7 or 14 wide), so the common cases - a row in one vector,
 * stride 1 or 2 - get a loop of their own with the mask and permutation hoisted. */
static void gather_rows(const float *src, int wp, float *dst, int oh, int ow, int s)
{
#if defined(__AVX512F__)
    if (ow <= 16 && (s == 1 || s == 2)) {
        const __mmask16 m = (__mmask16)(ow == 16 ? 0xFFFFu : (1u << ow) - 1u);
        const size_t step = (size_t)s * wp;
        if (s == 1) {
            for (int oy = 0; oy < oh; oy++, src += step, dst += ow) _mm512_mask_storeu_ps(dst, m, _mm512_loadu_ps(src));
        } else {
            const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
            for (int oy = 0; oy < oh; oy++, src += step, dst += ow)
                _mm512_mask_storeu_ps(dst, m, _mm512_permutex2var_ps(_mm512_loadu_ps(src), even, _mm512_loadu_ps(src + 16)));
        }
        return;
    }
#elif defined(__AVX2__)
    if ((s == 1 || s == 2) && ow >= 4) { /* (narrower rows: the plain loop is as fast) */
        /* A vector that runs past row oy lands in rows oy + 1, ... of this block, which are
         * written after it; only one that would run past the block's end (its last oh * ow
         * values) is done value by value. Reads stay within the plane's SLACK columns. */
        const size_t step = (size_t)s * wp;
        const int total = oh * ow;
        for (int oy = 0; oy < oh; oy++, src += step, dst += ow) {
            const int room = total - oy * ow;
            int o = 0;
            for (; o < ow && o + 8 <= room; o += 8) _mm256_storeu_ps(dst + o, load8(src + (size_t)o * s, s));
            for (; o < ow; o++) dst[o] = src[(size_t)o * s];
        }
        return;
    }
#endif
    for (int oy = 0; oy < oh; oy++) gather_row(src + (size_t)oy * s * wp, dst + (size_t)oy * ow, ow, s);
}

/* dst[0], dst[s], dst[2s], ... += src[0 .. n) */
static void scatter_add_row(const float *src, float *dst, int n, int s)
{
#if defined(__AVX512F__)
    if (s == 1 || s == 2) {
        const __m512i lo = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
        const __m512i hi = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
        for (int o = 0; o < n; o += 16) {
            const int w = n - o < 16 ? n - o : 16;
            const __m512 v = _mm512_maskz_loadu_ps((__mmask16)(w == 16 ? 0xFFFFu : (1u << w) - 1u), src + o);
            if (s == 1) {
                _mm512_storeu_ps(dst + o, _mm512_add_ps(_mm512_loadu_ps(dst + o), v));
            } else { /* v's lanes to the even positions of 32 floats, zeros between */
                float *d = dst + 2 * o;
                _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), _mm512_maskz_permutexvar_ps(0x5555, lo, v)));
                if (w > 8)
                    _mm512_storeu_ps(d + 16, _mm512_add_ps(_mm512_loadu_ps(d + 16),
                                                           _mm512_maskz_permutexvar_ps(0x5555, hi, v)));
            }
        }
        return;
    }
#endif
    for (int o = 0; o < n; o++) dst[(size_t)o * s] += src[o];
}

/* The adjoint of gather_rows: row oy of src (ow values) added into dst + oy * s * wp at
 * stride s. */
static void scatter_add_rows(const float *src, float *dst, int wp, int oh, int ow, int s)
{
#if defined(__AVX512F__)
    if (ow <= 8 && (s == 1 || s == 2)) { /* a row and its stride-2 spread fit one vector */
        const __mmask16 m = (__mmask16)((1u << ow) - 1u);
        const size_t step = (size_t)s * wp;
        const __m512i spread = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
        for (int oy = 0; oy < oh; oy++, src += ow, dst += step) {
            __m512 v = _mm512_maskz_loadu_ps(m, src);
            if (s == 2) v = _mm512_maskz_permutexvar_ps(0x5555, spread, v);
            _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_loadu_ps(dst), v));
        }
        return;
    }
#elif defined(__AVX2__)
    if ((s == 1 || s == 2) && ow >= 4) {
        /* The lanes past a row's end add +0 into buf, which leaves every value as it is (buf
         * starts at +0, and a sum from +0 never becomes -0). They are read from the next
         * values of src and zeroed, or with a masked load where they would run past the
         * block's end. buf's SLACK columns take the stores. */
        const size_t step = (size_t)s * wp;
        const int total = oh * ow;
        for (int oy = 0; oy < oh; oy++, src += ow, dst += step) {
            const int room = total - oy * ow;
            for (int o = 0; o < ow; o += 8) {
                const int w = ow - o < 8 ? ow - o : 8;
                __m256 v;
                if (w == 8) v = _mm256_loadu_ps(src + o);
                else if (o + 8 <= room) v = _mm256_and_ps(_mm256_loadu_ps(src + o), _mm256_castsi256_ps(lanes8(w)));
                else v = _mm256_maskload_ps(src + o, lanes8(w));
                add8(dst + (size_t)o * s, v, s, w <= 4);
            }
        }
        return;
    }
#endif
    for (int oy = 0; oy < oh; oy++) scatter_add_row(src + (size_t)oy * ow, dst + (size_t)oy * s * wp, ow, s);
}

void ganc_im2col(const ganc_conv_geom *g, const float *x, float *col, size_t ld, float *buf)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow, hp = plane_rows(g), wp = plane_cols(g);
    for (int ci = 0; ci < g->c; ci++) {
        const float *xc = x + (size_t)ci * g->h * g->w;
        memset(buf, 0, sizeof(float) * (size_t)hp * wp);
        for (int yy = 0; yy < hp; yy++) {
            int lo, hi;
            const int iy = plane_span(g, yy, &lo, &hi);
            if (iy >= 0) memcpy(buf + (size_t)yy * wp + lo, xc + (size_t)iy * g->w + (lo - g->pad_l), sizeof(float) * (size_t)(hi - lo));
        }
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                gather_rows(buf + (size_t)ky * wp + kx, wp, col + ((size_t)(ci * k + ky) * k + kx) * ld, oh, ow, s);
            }
    }
}

/* col2im's sums into x: added (assign = 0), or stored (assign = 1: every value of x is reached,
 * plane_covers). */
static void col2im(const ganc_conv_geom *g, const float *col, float *x, size_t ld, float *buf, int assign)
{
    const int k = g->k, s = g->stride, oh = g->oh, ow = g->ow, hp = plane_rows(g), wp = plane_cols(g);
    for (int ci = 0; ci < g->c; ci++) {
        float *xc = x + (size_t)ci * g->h * g->w;
        memset(buf, 0, sizeof(float) * (size_t)hp * wp);
        /* kx outermost: successive sums then go to different rows of buf. With kx innermost
         * each one re-read, one float over, the vectors the previous one had just stored,
         * and waited for them (a failed store-to-load forward per vector). */
        for (int kx = 0; kx < k; kx++)
            for (int ky = 0; ky < k; ky++) {
                scatter_add_rows(col + ((size_t)(ci * k + ky) * k + kx) * ld, buf + (size_t)ky * wp + kx, wp, oh, ow, s);
            }
        for (int yy = 0; yy < hp; yy++) {
            int lo, hi;
            const int iy = plane_span(g, yy, &lo, &hi);
            if (iy < 0) continue;
            float *dst = xc + (size_t)iy * g->w + (lo - g->pad_l);
            const float *src = buf + (size_t)yy * wp + lo;
            if (assign) memcpy(dst, src, sizeof(float) * (size_t)(hi - lo));
            else
                for (int j = 0; j < hi - lo; j++) dst[j] += src[j];
        }
    }
}

/* Whether the plane's rows and columns reach every value of x (the DCGAN layers: k 4, stride
 * 2, pad 1 on even sides), so that col2im can store its sums instead of adding them to zeros. */
static int plane_covers(const ganc_conv_geom *g)
{
    const int hp = plane_rows(g), reach = (g->ow - 1) * g->stride + g->k;
    return g->pad_t >= 0 && hp - g->pad_t >= g->h && g->pad_l >= 0 && g->pad_l + g->w <= reach;
}

void ganc_col2im(const ganc_conv_geom *g, const float *col, float *x, size_t ld, float *buf)
{
    col2im(g, col, x, ld, buf, 0);
}

void ganc_col2im_set(const ganc_conv_geom *g, const float *col, float *x, size_t ld, float *buf)
{
    if (plane_covers(g)) {
        col2im(g, col, x, ld, buf, 1);
        return;
    }
    memset(x, 0, sizeof(float) * (size_t)g->c * g->h * g->w);
    col2im(g, col, x, ld, buf, 0);
}

void ganc_nchw_to_cnp(const float *x, float *out, int n, int c, size_t p)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * c * p > 32768)
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < n; i++)
            memcpy(out + ((size_t)ch * n + i) * p, x + ((size_t)i * c + ch) * p, sizeof(float) * p);
}

void ganc_cnp_to_nchw(const float *in, float *x, int n, int c, size_t p)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)n * c * p > 32768)
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            memcpy(x + ((size_t)i * c + ch) * p, in + ((size_t)ch * n + i) * p, sizeof(float) * p);
}

int ganc_conv_chunk(size_t rows, size_t plane)
{
    const size_t target = (size_t)1 << 18, per_sample = rows * plane;
    const size_t chunk = per_sample ? target / per_sample : target;
    return chunk < 1 ? 1 : chunk > 65536 ? 65536 : (int)chunk;
}

int ganc_conv_grad_chunk(size_t rows, size_t plane)
{
    const int chunk = ganc_conv_chunk(rows, plane);
    if (!plane || (size_t)chunk * plane >= GANC_GRAD_MIN_COLUMNS) return chunk;
    const size_t want = (GANC_GRAD_MIN_COLUMNS + plane - 1) / plane;
    return want > 65536 ? 65536 : (int)want;
}
