/* Internal interfaces shared by the library's modules (not installed). */
#ifndef GANC_INTERNAL_H
#define GANC_INTERNAL_H

#include "ganc.h"

#include <stdarg.h>
#include <string.h>

/* ---- core ---------------------------------------------------------------------------- */

typedef struct {
    uint32_t v[4];
} philox_block;
philox_block ganc_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2]);

/* a * b and a + b, or SIZE_MAX when the result does not fit a size_t: a size built from them
 * saturates instead of wrapping round to a small number, so one limit check at the end refuses
 * it. */
static inline size_t ganc_size_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t ganc_size_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

/* Whether s ends in suffix (file kinds by name: ".npy", ".png"). */
static inline int ganc_ends_with(const char *s, const char *suffix)
{
    const size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* snprintf into an error buffer; always returns -1 so callers can `return ganc_fail(...)`. */
int ganc_fail(char err[GANC_ERR_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- kernels --------------------------------------------------------------------------- */

/* Row-major C = alpha * op(A) * op(B) + beta * C, op(A) M x K, op(B) K x N. */
void ganc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                const float *b, int ldb, float beta, float *c, int ldc);
/* The same product on the calling thread only. ganc_sgemm splits a large product over threads
 * when no parallel region is active, and a region that OpenMP ran with one thread is not active:
 * the parts of a layer's batch call this one (through ganc_sgemm_fn), so that a part is computed
 * the same way whether it got a thread of its own or shares one. */
void ganc_sgemm_serial(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc);
typedef void ganc_sgemm_fn(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c, int ldc);
/* Keeps OpenBLAS, when linked, to one thread (ours split the work: see kernels/gemm.c). Safe to
 * call from any thread at any time; the first call does it. Call before any call into OpenBLAS. */
void ganc_blas_single_thread(void);
/* Whether ganc_sgemm uses our own kernels (AVX-512 or AVX2); use = 1 or 0 switches them on or
 * off (where the build has them), -1 only asks. Benchmarks use it to time both paths in one
 * process. ganc_sgemm_own_name: "AVX-512", "AVX2", or NULL for a build without them. */
int ganc_sgemm_own_kernels(int use);
const char *ganc_sgemm_own_name(void);
#if defined(__AVX512F__)
/* The same product with kernels/gemm_avx512.c, single-threaded; -1 when its packing buffers
 * could not be allocated (nothing written). */
int ganc_sgemm_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc);
#elif defined(__AVX2__) && defined(__FMA__)
/* The same with kernels/gemm_avx2.c (AVX2 + FMA targets without AVX-512), and its pieces for
 * an op(A) packed once and used for many products (ganc_sgemm_pack_a below). */
int ganc_sgemm_avx2(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                    const float *b, int ldb, float beta, float *c, int ldc);
size_t ganc_sgemm_avx2_packed_floats(int m, int k);
void ganc_sgemm_avx2_pack_a(int trans_a, int m, int k, const float *a, int lda, float *dst);
int ganc_sgemm_avx2_packed(const float *packed, int trans_b, int m, int n, int k, float alpha, const float *b, int ldb,
                           float beta, float *c, int ldc);
#endif

/* A weight used as op(A) by every chunk of a layer's batch, packed once per pass instead of
 * once per product (kernels/gemm.c; the convolutions). ganc_sgemm_packed_floats: the floats
 * a packed m x k op(A) takes in the build's own kernels, 0 where it has none (callers then
 * keep calling ganc_sgemm). ganc_sgemm_packing: whether the own kernels are in use now (they
 * may be switched off at run time). ganc_sgemm_packed is ganc_sgemm_serial with op(A) also
 * given packed (packed == NULL, or no scratch for the kernels: the plain product of a), the
 * same bits either way. */
size_t ganc_sgemm_packed_floats(int m, int k);
int ganc_sgemm_packing(void);
void ganc_sgemm_pack_a(int trans_a, int m, int k, const float *a, int lda, float *dst);
void ganc_sgemm_packed(const float *packed, int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                       int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* This thread's scratch for kernels that keep packed operands between calls (kernels/scratch.c):
 * GANC_KERNEL_SCRATCH_FLOATS floats, 64-byte aligned, the same block on every call until
 * ganc_shutdown frees them all (a later call allocates again); NULL when it cannot be allocated.
 * A thread that exits hands its block to the next thread that asks. */
/* the larger of the AVX-512 GEMM's packed A and B (96 x 256 + 256 x 1536) and the AVX2 one's */
#define GANC_KERNEL_SCRATCH_FLOATS ((size_t)120 * 256 + (size_t)256 * 2048)
float *ganc_kernel_scratch(void);
void ganc_kernel_scratch_free(void);     /* every thread's block (ganc_shutdown; both pools) */
size_t ganc_kernel_scratch_blocks(void); /* blocks allocated now (tests) */
/* The same from a second pool, for the bf16 GEMM's rounded blocks of op(A) and op(B) (it calls
 * the fp32 kernels, which use the first, while its own is in use): GANC_BF16_MC x KC and
 * KC x GANC_BF16_NC floats (kernels/bf16.c). */
#define GANC_BF16_KC 256
#define GANC_BF16_MC 1024
#define GANC_BF16_NC 2048
#define GANC_BF16_SCRATCH_FLOATS ((size_t)GANC_BF16_KC * (GANC_BF16_MC + GANC_BF16_NC))
float *ganc_bf16_scratch(void);

/* ---- bf16 (kernels/bf16.c) ----
 * bfloat16: the top 16 bits of a float (sign, 8 exponent bits, 7 fraction bits). Values are
 * kept in floats whose low 16 bits are zero, so that the rest of the code reads them as floats;
 * a product of two such values has at most 16 significant bits and is exact in fp32. */
/* x rounded to the nearest bfloat16, ties to even (as PyTorch's and the hardware's conversion):
 * finite values beyond the largest bfloat16 become infinities, infinities stay, a NaN stays a
 * NaN (quiet, its sign kept). */
static inline float ganc_bf16_round1(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    /* a NaN's payload may carry into the exponent or vanish: keep it a NaN */
    u = (u & 0x7fffffffu) > 0x7f800000u ? (u | 0x00400000u) & 0xffff0000u : rounded;
    memcpy(&x, &u, sizeof x);
    return x;
}
/* dst[i] = ganc_bf16_round1(src[i]); dst may be src. */
void ganc_bf16_round(const float *src, float *dst, size_t n);
/* Whether this CPU and its operating system let the AVX512-BF16 (with AVX512F, VL, BW) or the
 * AMX-BF16 kernels run; AMX also asks Linux for the tile state (kernels/cpu_features.c). */
int ganc_cpu_avx512bf16(void);
int ganc_cpu_amx_bf16(void);
/* The hardware kernels, built where the compiler can target them (x86-64, GCC or Clang) through
 * target attributes, so that the build needs no -march for them; run only where the CPU has
 * them (ganc_bf16_available). Each is ganc_sgemm_bf16_serial on its path; -1 when it could not
 * run (no scratch, the tiles refused): nothing written. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GANC_BF16_KERNELS 1
int ganc_sgemm_bf16_avx512(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                           const float *b, int ldb, float beta, float *c, int ldc);
int ganc_sgemm_bf16_amx(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc);
/* Their packing, one for both (kernels/bf16.c), as vdpbf16ps and tdpbf16ps read their inputs:
 * two values of op(X) next along K, rounded as ganc_bf16_round1 rounds them, in one 32-bit lane
 * (the even one in the low half), zero past the K block's depth kb. A: `rows` rows of `pairs`
 * lanes from op(A)[i0.., p0..], the rows past `valid` zero. B: `pairs` rows of ld lanes, lane j
 * of row q pair q of op(B)[p0.., j0 + j], the lanes past `valid` zero. */
void ganc_bf16_pack_a(const float *a, int lda, int trans_a, int i0, int valid, int rows, int p0, int kb, int pairs,
                      uint32_t *dst);
void ganc_bf16_pack_b(const float *b, int ldb, int trans_b, int j0, int valid, int ld, int p0, int kb, int pairs,
                      uint32_t *dst);
#endif
/* Which kernels the bf16 products use. */
typedef enum { GANC_BF16_EMULATED, GANC_BF16_AVX512, GANC_BF16_AMX, GANC_BF16_PATHS } ganc_bf16_path;
/* The path in use: the best this CPU has (kernels/cpu_features.c) unless ganc_bf16_use chose. */
ganc_bf16_path ganc_bf16_current(void);
/* Uses `path` from now on (tests, benchmarks); -1 (nothing changed) when the CPU or the build
 * lacks it. */
int ganc_bf16_use(ganc_bf16_path path);
int ganc_bf16_available(ganc_bf16_path path);
const char *ganc_bf16_path_name(ganc_bf16_path path); /* "emulated", "AVX512-BF16", "AMX-BF16" */
/* ganc_sgemm and ganc_sgemm_serial with op(A) and op(B) rounded to bfloat16 and the products
 * summed in fp32: alpha, beta and C stay fp32. The same bits whatever the number of threads. */
void ganc_sgemm_bf16(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                     const float *b, int ldb, float beta, float *c, int ldc);
void ganc_sgemm_bf16_serial(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a, int lda,
                            const float *b, int ldb, float beta, float *c, int ldc);
/* ganc_sgemm's split of a large product over the threads, each part made by `serial`. */
void ganc_sgemm_split(ganc_sgemm_fn *serial, int trans_a, int trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* What the layers' products use in a pass: the bf16 ones when p->bf16. */
#define GANC_PASS_GEMM(p) ((p)->bf16 ? ganc_sgemm_bf16 : ganc_sgemm)
#define GANC_PASS_GEMM_SERIAL(p) ((p)->bf16 ? ganc_sgemm_bf16_serial : ganc_sgemm_serial)

/* Geometry of a 2-D convolution window: input (c, h, w), kernel k, stride s, padding before
 * (top/left) and after (bottom/right), output (oh, ow). Padding after may be negative for a
 * transposed convolution's output padding (positions no input reaches). */
typedef struct {
    int c, h, w;
    int k, stride;
    int pad_t, pad_l;
    int oh, ow;
} ganc_conv_geom;

/* col has (c*k*k) rows of oh*ow values, rows ld floats apart (ld >= oh*ow):
 * col[((ci*k + ky)*k + kx)*ld + oy*ow + ox] = x[ci][oy*s+ky-pt][ox*s+kx-pl] (0 outside x).
 * buf: scratch of ganc_conv_plane_floats(g) floats. */
void ganc_im2col(const ganc_conv_geom *g, const float *x, float *col, size_t ld, float *buf);
/* Adjoint of im2col: x += scatter(col). ganc_col2im_set: x = scatter(col) (zero where nothing
 * lands), the same bits as zeroing x and adding, without the pass that zeroes it where the
 * windows reach all of x. */
void ganc_col2im(const ganc_conv_geom *g, const float *col, float *x, size_t ld, float *buf);
void ganc_col2im_set(const ganc_conv_geom *g, const float *col, float *x, size_t ld, float *buf);
/* Scratch floats im2col and col2im need: one input plane with the borders the windows reach. */
size_t ganc_conv_plane_floats(const ganc_conv_geom *g);

/* Samples per GEMM for a convolution whose im2col matrix has `rows` rows of `plane` values
 * per sample: as many as keep that matrix near 256K floats (1 MB: one core's L2, as each
 * thread works on its own chunks), at least 1. */
int ganc_conv_chunk(size_t rows, size_t plane);
/* The chunk for a backward pass that accumulates weight gradients: dW (the whole weight, 8 MB
 * for dcgan64's last conv) is read and written once per chunk with a depth of only
 * chunk * plane, so chunks there hold at least GANC_GRAD_MIN_COLUMNS columns (dcgan64's
 * 512x4x4 conv: 4 samples, 64 columns, a fifth of its backward spent streaming dW). */
#define GANC_GRAD_MIN_COLUMNS 512
int ganc_conv_grad_chunk(size_t rows, size_t plane);

/* Winograd F(2x2, 2x2) for k=4, stride-2, padding-1 convolutions (kernels/winograd.c, where
 * the layouts are described): 9/16 of im2col's multiplications. ganc_conv_winograd: mode 0 off
 * (GANC_CONV=im2col), 1 on for layers of 16 channels or more each side, 2 on for every layer
 * of the geometry (tests); -1 asks. ganc_wino_fits: whether a layer of geometry g and cout
 * outputs uses it now; ganc_wino_geometry: whether it could (its work is sized for it). */
int ganc_conv_winograd(int mode);
int ganc_wino_geometry(const ganc_conv_geom *g);
int ganc_wino_fits(const ganc_conv_geom *g, int cout);
size_t ganc_wino_tiles(const ganc_conv_geom *g);
size_t ganc_wino_scratch_floats(const ganc_conv_geom *g, int cout, int n);
size_t ganc_wino_u_floats(const ganc_conv_geom *g, int cout);
void ganc_wino_input(const ganc_conv_geom *g, const float *x, int n, float *v, size_t ld, float *scratch);
void ganc_wino_input_adjoint(const ganc_conv_geom *g, const float *dv, int n, float *dx, size_t ld, float *scratch);
void ganc_wino_output(const ganc_conv_geom *g, int cout, const float *m, int n, float *y, size_t ld, float *scratch);
void ganc_wino_output_adjoint(const ganc_conv_geom *g, int cout, const float *dy, int n, float *dm, size_t ld,
                              float *scratch);
void ganc_wino_weights(const ganc_conv_geom *g, int cout, const float *w, int pt0, int pts, float *u);
void ganc_wino_weight_grad(const ganc_conv_geom *g, int cout, const float *du, float *dw);

/* A convolution (geometry g, weight (cout, c, 4, 4)) computed with those transforms, for the
 * layers (layers/conv_wino.c). A thread's block of ganc_wino_work_floats holds V, M, dU and
 * the transforms' scratch; the pass's shared block of ganc_wino_shared_floats (ganc_pass.shared)
 * holds U (the transformed weight, packed or not), which every thread reads;
 * ganc_wino_chunk: samples per chunk (grads: a backward that accumulates dU, whose chunks are
 * longer). */
typedef struct {
    ganc_conv_geom g;
    int cout;
    float *u;        /* U where the products read it unpacked (else NULL) */
    float *v, *m, *du, *scratch;
    float *pk;       /* the pass's shared block: U packed, or U (then u) */
    size_t pk_pt;    /* floats of one point's packed U */
    int packed_as;   /* -1: U unpacked; 0: pk holds every U[pt] packed as op(A), 1: as U[pt]^T */
} ganc_wino;
int ganc_wino_chunk(const ganc_conv_geom *g, int grads);
size_t ganc_wino_work_floats(const ganc_conv_geom *g, int cout);
size_t ganc_wino_shared_floats(const ganc_conv_geom *g, int cout);
ganc_wino ganc_wino_at(const ganc_conv_geom *g, int cout, float *work, float *shared);
/* U = the transformed weight w in the shared block, packed once for the pass when pack_as >= 0
 * (the caller checks that the GEMM kernels pack): 0 for the forward's products, 1 for the
 * input gradient's, the one way the pass then uses it (-1: unpacked, either way). Called by
 * every thread of the pass's parallel region, which share the points between them, and ends
 * in a barrier. no_scratch: shared by the team, 0 before it starts (a thread without the
 * kernels' scratch sets it, and then every thread falls back to U unpacked). */
void ganc_wino_prepare(ganc_wino *wk, const float *w, int pack_as, _Atomic int *no_scratch);
/* y (n, cout, oh, ow) = conv(x); dx (n, c, h, w) = conv^T(dy) (written, not added); and with
 * dx NULL or not, wk->du += the weight gradient of the chunk's transforms (dU, turned into dW
 * by ganc_wino_weight_grad once the part's chunks are done), leaving V = in(x) when dx is NULL.
 * ganc_wino_forward with x NULL starts from that V (a transposed convolution's backward).
 * wk->u must hold ganc_wino_weights(w) for the products with the weight. */
void ganc_wino_forward(const ganc_wino *wk, const float *x, float *y, int n, ganc_sgemm_fn *gemm);
void ganc_wino_input_grad(const ganc_wino *wk, const float *dy, float *dx, int n, ganc_sgemm_fn *gemm);
void ganc_wino_backward(const ganc_wino *wk, const float *x, const float *dy, float *dx, int n, ganc_sgemm_fn *gemm);

/* Batch layout changes for batched GEMMs: NCHW (n, c, p) <-> channel-major (c, n*p). */
void ganc_nchw_to_cnp(const float *x, float *out, int n, int c, size_t p);
void ganc_cnp_to_nchw(const float *in, float *x, int n, int c, size_t p);

/* ---- layers ---------------------------------------------------------------------------- */

typedef struct ganc_layer ganc_layer;

/* Spectral normalisation reads a layer's weight as the matrix M (rows x blocks*kk) with
 * M[o][b*kk + r] = weight[(b*rows + o)*kk + r]: blocks = 1 is PyTorch's dim=0 (Linear, Conv2d:
 * one row per output), blocks = cin its dim=1 (ConvTranspose2d: one row per output channel). */
typedef struct {
    int rows, blocks, kk;
    size_t work_at; /* offset of dL/dW_sn in the pass's work buffer */
} ganc_sn_matrix;

/* What the network hands a layer for one pass. */
typedef struct {
    int training;
    ganc_rng *rng;   /* dropout */
    float *work;     /* scratch: `slots` consecutive blocks of the layer's n_work floats, one per thread */
    float *shared;   /* scratch of the layer's n_shared floats, for all the threads of a pass */
    int slots;       /* threads a layer may run with its own block of work each (>= 1) */
    /* the class of each sample of the pass (ganc_net_set_labels), for the conditional layers
     * (spec.classes > 0); NULL when the network was given none */
    const int32_t *labels;
    /* sampling only (ganc_net_set_class_mix): mix_to >= 0 blends every sample's class vectors
     * with class mix_to's, (1 - mix_t) own + mix_t mix_to's; -1 off */
    int mix_to;
    float mix_t;
    /* data-parallel training (ganc_net_set_sum): adds v (n doubles) over every process of the
     * run, in place, the same on all and from run to run (sync batch norm's statistics); NULL
     * in one process. Every process must make the same calls in the same order. */
    void (*sum)(void *ctx, double *v, int n);
    void *sum_ctx;
    /* data-parallel training (ganc_net_set_shard): the pass's n samples are samples
     * [shard_first, shard_first + n) of a global batch of shard_total, whose random draws
     * (dropout's masks) are the global batch's, of which this pass keeps its part;
     * shard_total 0: the pass is the whole batch */
    int shard_first, shard_total;
    /* ganc_net_set_precision: the GEMMs of conv, deconv, dense and maxout round their inputs
     * to bfloat16 (ganc_sgemm_bf16); everything else stays fp32 */
    int bf16;
} ganc_pass;

/* Draws n values of a draw of `total` (uniform, normal, Bernoulli as ganc_rng_uniform, ...),
 * starting at value `first`: out gets exactly the values [first, first + n) that the whole
 * draw would give, and r advances past the whole draw, as one process drawing all of it. */
void ganc_rng_uniform_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float lo, float hi);
void ganc_rng_normal_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float mean, float std);
void ganc_rng_bernoulli_part(ganc_rng *r, float *out, size_t first, size_t n, size_t total, float p);

/* Before net is built: its layers' scratch (ganc_pass.work and .shared) and its backward's
 * gradient buffers will be with's, grown when net needs more, instead of a block of its own.
 * Only for networks that never run at the same time, as a game's G and D (each pass of one
 * runs to its end before the other's starts): dcgan64's two blocks were 139 MB each. */
void ganc_net_share_work(ganc_net *net, ganc_net *with);

/* The network's passes in training hand `sum` (ctx) to their layers (ganc_pass.sum), so that
 * batch norm adds its per-channel sums over the processes of a data-parallel run; NULL: off. */
void ganc_net_set_sum(ganc_net *net, void (*sum)(void *ctx, double *v, int n), void *ctx);
/* The network's passes run samples [first, first + n) of a global batch of `total`
 * (ganc_pass.shard_first/shard_total): a data-parallel process's share; total 0: off. */
void ganc_net_set_shard(ganc_net *net, int first, int total);

/* Parts for a layer that splits n samples, one contiguous range per part, each part with its
 * own block of p->work (p->work + t * L->n_work). The layer asks OpenMP for one thread per
 * part, but OpenMP may grant fewer (OMP_DYNAMIC, OMP_THREAD_LIMIT, a region nested in another),
 * so a thread runs parts ganc_thread_num(), + ganc_team_size(), ... until all are done: the
 * parts, and so every sum, are the same whatever the team (see conv.c). */
static inline int ganc_pass_threads(const ganc_pass *p, int n) { return n < p->slots ? (n < 1 ? 1 : n) : p->slots; }
/* Part t's samples [*lo, *hi) of n split into `threads` parts. */
static inline void ganc_split(int n, int threads, int t, int *lo, int *hi)
{
    *lo = (int)((long long)n * t / threads);
    *hi = (int)((long long)n * (t + 1) / threads);
}
int ganc_thread_num(void); /* omp_get_thread_num(), 0 without OpenMP */
int ganc_team_size(void);  /* omp_get_num_threads(): the threads running this region; 1 without OpenMP */

/* Part t's share of n samples cut into `parts` near-equal chunks of at most max_chunk:
 * chunk q is [ganc_chunk_start(&c, q), ganc_chunk_start(&c, q + 1)). */
typedef struct {
    int lo, count, parts;
} ganc_chunks;
static inline ganc_chunks ganc_thread_chunks(int n, int threads, int t, int max_chunk)
{
    int lo, hi;
    ganc_split(n, threads, t, &lo, &hi);
    return (ganc_chunks){lo, hi - lo, (hi - lo + max_chunk - 1) / max_chunk};
}
static inline int ganc_chunk_start(const ganc_chunks *c, int q)
{
    return c->lo + (int)((long long)c->count * q / (c->parts ? c->parts : 1));
}
/* The whole batch in near-equal chunks of at most max_chunk, for the passes whose values do
 * not depend on who computes a chunk (a convolution's output, an input gradient without
 * weight gradients): the threads then take chunks as they finish (schedule(dynamic)), so that
 * a core slowed by other work does not keep the other waiting at the layer's end. */
static inline ganc_chunks ganc_batch_chunks(int n, int max_chunk) { return ganc_thread_chunks(n, 1, 0, max_chunk); }

/* ---- what a layer type is (each type's file defines one; layers/registry.c lists them) ---- */

/* How a model-file value is read into a ganc_layer_spec field. */
typedef enum {
    GANC_OPTION_INT,   /* an integer in [lo, hi] into an int field */
    GANC_OPTION_FLOAT, /* a finite number in [lo, hi] into a float field */
    GANC_OPTION_OWN,   /* the option's own parse function (pad=same|valid|P, keep=K) */
} ganc_option_kind;

/* One option (key=value) or positional size of a layer line. */
typedef struct {
    const char *key;      /* before '='; for a size, what errors call it ("the size") */
    ganc_option_kind kind;
    double lo, hi;        /* INT, FLOAT: the accepted range */
    size_t at;            /* INT, FLOAT: offset of the field in ganc_layer_spec */
    double fallback;      /* INT, FLOAT: the field's value when the line does not give it */
    const char *required; /* non-NULL: a line without it fails with "TYPE needs <required>"
                           * (options only, among a type's first 64) */
    int (*parse)(ganc_layer_spec *sp, const char *value, char err[GANC_ERR_LEN]); /* OWN */
} ganc_layer_option;

/* Offsets of ganc_layer_spec fields that fail to compile unless the field has the type the
 * option kind writes. */
#define GANC_SPEC_INT_FIELD(f) _Generic(((ganc_layer_spec *)0)->f, int: offsetof(ganc_layer_spec, f))
#define GANC_SPEC_FLOAT_FIELD(f) _Generic(((ganc_layer_spec *)0)->f, float: offsetof(ganc_layer_spec, f))
#define GANC_INT_OPTION(key, field, lo, hi, fallback)                                                         \
    {key, GANC_OPTION_INT, lo, hi, GANC_SPEC_INT_FIELD(field), fallback, NULL, NULL}
#define GANC_FLOAT_OPTION(key, field, lo, hi, fallback)                                                       \
    {key, GANC_OPTION_FLOAT, lo, hi, GANC_SPEC_FLOAT_FIELD(field), fallback, NULL, NULL}
#define GANC_REQUIRED_INT_OPTION(key, field, lo, hi, required)                                                \
    {key, GANC_OPTION_INT, lo, hi, GANC_SPEC_INT_FIELD(field), 0, required, NULL}
#define GANC_OWN_OPTION(key, parse) {key, GANC_OPTION_OWN, 0, 0, 0, 0, NULL, parse}
/* The entry that ends a list of options or sizes (designated, so no compiler asks for the
 * other fields). */
#define GANC_OPTIONS_END {.key = NULL}

enum { GANC_MAX_SIZE = 1 << 20, GANC_MAX_KERNEL = 64 }; /* model-file limits on sizes and windows */
enum { GANC_MAX_CLASSES = 1 << 16 }; /* the conditional layers' classes=K */
/* The most floats a layer's input, output, weight or scratch may hold (1 GB): far above any
 * real GAN layer, and low enough that, with the checks before setup (ganc_net_add's and the
 * type's sizes_fit), no product of sizes a layer's setup or a batch makes can overflow. */
#define GANC_MAX_LAYER_FLOATS ((size_t)1 << 28)

/* Readers for OWN options: "what" names the value in errors. */
int ganc_parse_int(const char *s, int lo, int hi, const char *what, int *out, char err[GANC_ERR_LEN]);
int ganc_parse_float(const char *s, double lo, double hi, const char *what, float *out, char err[GANC_ERR_LEN]);

typedef struct {
    /* the model-file line */
    const char *name;                  /* as model files write it */
    const ganc_layer_option *sizes;    /* positional sizes in order, ended by GANC_OPTIONS_END; NULL: none */
    const char *needs;                 /* what a line without all its sizes lacks ("TYPE needs ...") */
    const ganc_layer_option *options;  /* key=value options, ended by GANC_OPTIONS_END; NULL: none */
    int weighted;                      /* has a weight matrix: also takes bias=, bias_init= and sn */
    /* the layer in a network */
    /* Before setup, which computes with the spec's sizes partly in int: refuses the sizes of
     * this type that could overflow there (ganc_net_add takes a spec from any caller, not only
     * the parser, whose limits are far smaller). ganc_net_add itself checks what every type
     * has: the input, and a weighted layer's units (at most GANC_MAX_LAYER_FLOATS). NULL:
     * nothing more to check. */
    int (*sizes_fit)(const ganc_layer *L, char err[GANC_ERR_LEN]);
    /* Resolves output shape, parameter/state/saved/workspace sizes from L->spec and L->in. */
    int (*setup)(ganc_layer *L, char err[GANC_ERR_LEN]);
    void (*init)(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng); /* NULL: no parameters */
    void (*reset_state)(ganc_layer *L);                                   /* NULL: no state */
    void (*forward)(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p);
    /* dx may be NULL (input gradient not wanted). */
    void (*backward)(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                     int param_grads, const ganc_pass *p);
    /* Multiply-adds x 2 of one forward for n samples (ganc_net_layer_flops); NULL: none counted. */
    double (*flops)(const ganc_layer *L, int n);
    /* Bytes of the layer's own state that only its file knows (L->own, zeroed when the layer
     * joins a network); 0: none. */
    size_t own_size;
} ganc_layer_def;

/* The sizes of the layers whose one size is their number of outputs (dense N, conv N ...). */
extern const ganc_layer_option ganc_units_size[];
/* Options shared by conv and deconv: k= (required), stride=, pad=same|valid|P (padding.c). */
int ganc_parse_pad(ganc_layer_spec *sp, const char *value, char err[GANC_ERR_LEN]);
/* conv's and deconv's sizes_fit: k, stride, pad and outpad small enough that k * k and the
 * padded sides fit an int (padding.c). */
int ganc_window_sizes_fit(const ganc_layer *L, char err[GANC_ERR_LEN]);
#define GANC_WINDOW_OPTIONS                                                                                    \
    GANC_REQUIRED_INT_OPTION("k", k, 1, GANC_MAX_KERNEL, "a kernel size k="),                                 \
        GANC_INT_OPTION("stride", stride, 1, GANC_MAX_KERNEL, 1), GANC_OWN_OPTION("pad", ganc_parse_pad)

/* The class of sample i of a conditional layer's pass (p->labels[i]); aborts, naming the
 * layer, on a class outside [0, spec.classes) (layers/embed.c). */
int ganc_layer_label(const ganc_layer *L, const ganc_pass *p, int i);
/* Entry j of class y's row of a conditional layer's table (rows `width` apart), blended with
 * the mixing class's row when the pass mixes classes (ganc_pass.mix_to): t = 0 and t = 1 give
 * the two rows exactly. */
static inline float ganc_class_entry(const ganc_pass *p, const float *table, int y, size_t width, size_t j)
{
    const float own = table[(size_t)y * width + j];
    if (p->mix_to < 0) return own;
    return (1.0f - p->mix_t) * own + p->mix_t * table[(size_t)p->mix_to * width + j];
}

/* Layer i of a network, for a layer file's own network-wide switches (mbstd's gate). */
ganc_layer *ganc_net_layer(ganc_net *net, int i);

/* The registry (layers/registry.c), in GANC_LAYER_LIST's order. */
extern const ganc_layer_def *const ganc_layers[GANC_LAYER_COUNT];
const ganc_layer_def *ganc_layer_def_of(ganc_layer_type t); /* NULL outside the list */
/* "dense, conv, ..." (last_sep before the last: ", " or " and "), the weighted ones only when
 * weighted_only; cut short to fit len. */
void ganc_layer_names(char *buf, size_t len, int weighted_only, const char *last_sep);

struct ganc_layer {
    ganc_layer_spec spec;
    const ganc_layer_def *def;
    ganc_shape in, out;
    int pad_t, pad_b, pad_l, pad_r; /* conv: padding; deconv: crop before/after (after may be < 0) */
    /* sizes requested by setup (floats) */
    size_t n_weight, n_bias;     /* parameters: weight then bias, contiguous */
    size_t n_state;              /* non-trainable state (batch-norm running mean, var) */
    size_t n_saved_per_sample;   /* kept from forward for backward, per sample (dropout mask) */
    size_t n_saved_fixed;        /* kept from forward, independent of batch (batch-norm stats) */
    size_t n_work;               /* scratch for one pass, independent of batch (layers chunk), per thread */
    size_t n_shared;             /* scratch for one pass that its threads share (ganc_pass.shared) */
    int weight_dims[4], weight_ndim;
    /* a third parameter after weight and bias, for the layers that have one (project's class
     * embedding): n_extra floats in a view named extra_name, extra_dims[0] x extra_dims[1] */
    size_t n_extra;
    const char *extra_name;
    int extra_dims[2];
    /* view names: the weight's ("weight" when NULL) and up to two views that split the state
     * in order (batch norm: running_mean, running_var; spectral norm: weight_u, weight_v) */
    const char *weight_name;
    const char *state_names[2];
    size_t state_counts[2];
    ganc_sn_matrix sn;           /* spectral norm (spec.sn): how the weight is read as a matrix */
    void *own;                   /* def->own_size bytes of the type's own state (mbstd's gate) */
    /* views assigned by the network at build time */
    float *weight, *bias, *dweight, *dbias, *state, *saved;
    float *extra, *dextra; /* n_extra parameters and their gradient */
    float *out_buf;
};

/* One spatial dimension of a (transposed) convolution: output size and padding/cropping
 * before and after (see layers/padding.c). Returns -1 when the input is too small. */
int ganc_resolve_padding(const ganc_layer_spec *sp, int transposed, int in, int *out, int *before, int *after);

/* Spectral normalisation as torch.nn.utils.spectral_norm (one power iteration per training
 * forward, eps 1e-12), used by the weighted layers when spec.sn is set (layers/spectral_norm.c).
 * Every function is the identity on layers without sn, so a layer calls them unconditionally:
 *   setup:    ganc_sn_setup(L, rows, blocks, kk) after its own sizes (adds state, saved, work)
 *   init:     ganc_sn_init(L, rng) after drawing its weight and bias (u and v, as torch does)
 *   forward:  w = ganc_sn_forward_weight(L, p)  (W / sigma; the power iteration when training)
 *   backward: w = ganc_sn_weight(L) for the input gradient; dw = ganc_sn_grad_begin(L, p),
 *             accumulate dL/dw into dw, then ganc_sn_grad_end(L, p) adds dL/dW to L->dweight. */
void ganc_sn_setup(ganc_layer *L, int rows, int blocks, int kk);
void ganc_sn_reset_state(ganc_layer *L); /* the ops' reset_state: u, v = constant unit vectors */
void ganc_sn_init(ganc_layer *L, ganc_rng *rng);
const float *ganc_sn_forward_weight(ganc_layer *L, const ganc_pass *p);
const float *ganc_sn_weight(const ganc_layer *L);
float *ganc_sn_grad_begin(ganc_layer *L, const ganc_pass *p);
void ganc_sn_grad_end(ganc_layer *L, const ganc_pass *p);

/* The initialiser shared by the layers. fan_in as PyTorch computes it for the layer. */
/* A weighted layer's weight and bias as PyTorch's nn.Linear and nn.Conv2d do (uniform within
 * 1/sqrt(fan_in)) or N(0, 0.02) and 0 (dcgan), then its spectral-norm vectors when it has
 * them. The weight and bias are drawn in that order, from rng. */
void ganc_init_weighted(ganc_layer *L, ganc_init_scheme scheme, int fan_in, ganc_rng *rng);
/* Called by every thread of a layer's parallel region once all its `threads` parts are done
 * (whatever the team): adds the weight and bias gradients that parts 1.. accumulated in their
 * work blocks (at `offset` floats into each), in part order, to dw and L->dbias. */
void ganc_sum_thread_grads(ganc_layer *L, const ganc_pass *p, size_t offset, int threads, float *dw);
/* Where part t accumulates its weight and bias gradients (*dw, *db): part 0 into dw_all and
 * L->dbias themselves, a later part into its own work block at `offset` floats (zeroed here),
 * which ganc_sum_thread_grads adds in at the end. Both NULL when dw_all is (none wanted). */
void ganc_part_grads(ganc_layer *L, const ganc_pass *p, size_t offset, int t, float *dw_all, float **dw, float **db);

/* A layer's passes through Winograd's convolution (ganc_wino above; layers/conv_wino.c), for conv.c (transposed 0: the layer is
 * the convolution of geometry g with cout outputs) and deconv.c (transposed 1: the layer is its
 * adjoint). ganc_wino_layer_pass: out = conv(in) or conv^T(in) with weight w over the batch,
 * plus the layer's bias when add_layer_bias (the layer's forward). ganc_wino_layer_grads: the
 * layer's weight and bias gradients from its input x and output gradient dy, and its input
 * gradient dx when not NULL. */
void ganc_wino_layer_pass(ganc_layer *L, const ganc_pass *p, const ganc_conv_geom *g, int cout, const float *w,
                          int transposed, const float *in, float *out, int n_all, int add_layer_bias);
void ganc_wino_layer_grads(ganc_layer *L, const ganc_pass *p, const ganc_conv_geom *g, int cout, int transposed,
                           const float *x_all, const float *dy_all, float *dx_all, int n_all);

/* A dense layer's products (layers/dense.c): y (n x units) = x (n x in) . W^T + bias, W being
 * (units x in) with its spectral norm, and the backward of it (dW, dbias accumulate). Also
 * the convolutions whose one output position sees the whole unpadded input (conv.c), where
 * im2col would only copy the input: D's last layer on a 4x4 map, for instance. */
void ganc_rows_forward(ganc_layer *L, int in, const float *x, float *y, int n, const ganc_pass *p);
void ganc_rows_backward(ganc_layer *L, int in, const float *x, const float *dy, float *dx, int n, int param_grads,
                        const ganc_pass *p);

#endif
