/* Convolutions on maps large enough that the batch is cut into several chunks, against a
 * direct double-precision loop over the definition (PyTorch's Conv2d and ConvTranspose2d).
 *
 * The small layers of test_gradcheck and the PyTorch fixtures fit one chunk. Here a backward
 * pass with weight gradients runs longer chunks than the forward (ganc_conv_grad_chunk) and
 * computes a conv's input gradient in the forward's shorter chunks inside them: the output,
 * both input gradients (with weight gradients and without: the same bits where the GEMM allows
 * it, see same_bits_any_width) and the weight and bias gradients are checked, with another
 * network sharing the scratch (ganc_net_share_work) run between the passes. */
#include "check.h"
#include "nets.h"
#include "ganc.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill(ganc_rng *r, float *p, size_t n, float scale) { ganc_rng_uniform(r, p, n, -scale, scale); }

/* One layer (k 4, stride 2, pad 1) on n samples of in: ref_* the direct sums in double. */
typedef struct {
    const char *text;
    int transposed;
    ganc_shape in;
    int cout, n;
} chunk_case;

/* dst[i] vs want[i] within rel * (largest |want|): the sums run over up to 1024 products */
static void compare(const char *what, const char *text, const float *got, const double *want, size_t count)
{
    double top = 0.0, worst = 0.0;
    for (size_t i = 0; i < count; i++) top = fmax(top, fabs(want[i]));
    for (size_t i = 0; i < count; i++) {
        const double e = fabs(got[i] - want[i]);
        if (!(e <= worst)) worst = e;
    }
    CHECK(worst <= 1e-5 * (top + 1.0), "%s of '%s': max error %.3g against the direct sum (largest %.3g)", what, text,
          worst, top);
}

/* Whether every element of a product is computed by the same operations whatever the product's
 * width and the element's column. The two backward passes cut the batch differently (without
 * weight gradients in near-equal chunks that the threads take as they finish, with them in each
 * thread's long chunks cut into short ones), so their input gradients are products of other
 * widths over the same columns: the same bits only when this holds. It does for ganc's own
 * kernels (ragged edges zero-padded into the one micro-kernel, k cut into slices that depend on
 * k alone) and for the portable loops. OpenBLAS makes no such promise and does not keep it:
 * the first conv case's col = W^T dy (1024 x 16 by 16 x 256) and the same product over its first
 * 208 columns differ in the last bits of 8 columns. Under OpenBLAS both input gradients are
 * therefore held to the direct sums, within the rounding bound of compare, instead. */
static int same_bits_any_width(void)
{
#ifdef GANC_HAVE_OPENBLAS
    return ganc_sgemm_own_kernels(-1); /* 0: GANC_GEMM=blas, or a build without our kernels */
#else
    return 1;
#endif
}

static void run_case(const chunk_case *cc)
{
    const int k = 4, s = 2, pad = 1, cin = cc->in.c, n = cc->n;
    ganc_net *net = test_make_net("chunks", cc->in, cc->text, n);
    if (!net) return;
    const ganc_shape out = ganc_net_output_shape(net);
    const size_t in_size = ganc_shape_size(cc->in), out_size = ganc_shape_size(out);
    const size_t n_par = ganc_net_param_count(net), n_w = (size_t)cin * cc->cout * k * k;
    CHECK(n_par == n_w + (size_t)cc->cout, "'%s': %zu parameters, not weight + bias", cc->text, n_par);
    ganc_rng r;
    ganc_rng_seed(&r, 20261206);
    float *par = ganc_net_params(net), *x = check_floats(in_size * n), *dy = check_floats(out_size * n);
    float *dx1 = check_floats(in_size * n), *dx0 = check_floats(in_size * n), *y = check_floats(out_size * n);
    fill(&r, par, n_par, 0.05f);
    fill(&r, x, in_size * n, 1.0f);
    fill(&r, dy, out_size * n, 1.0f);
    /* a network sharing the tested one's scratch (as a game's D shares G's), built after it
     * with more scratch, so the block the tested network was built with is replaced, and run
     * between its passes, so nothing a layer leaves there may be needed later */
    ganc_net *other = ganc_net_create("other", (ganc_shape){48, 16, 16});
    char err[GANC_ERR_LEN];
    ganc_net_share_work(other, net);
    CHECK(ganc_net_add_text(other, "conv 64 k=4 stride=2 pad=1", "other", 1, err) == 0 && ganc_net_build(other, n, err) == 0,
          "the sharing network: %s", err);
    float *ox = check_floats((size_t)48 * 16 * 16 * n), *ody = check_floats((size_t)64 * 8 * 8 * n);
    fill(&r, ox, (size_t)48 * 16 * 16 * n, 1.0f);
    fill(&r, ody, (size_t)64 * 8 * 8 * n, 1.0f);
    ganc_net_zero_grad(net);
    memcpy(y, ganc_net_forward(net, x, n), sizeof(float) * out_size * n);
    ganc_net_forward(other, ox, n);
    ganc_net_backward(other, ody, NULL, 1);
    ganc_net_backward(net, dy, dx1, 1);
    ganc_net_forward(net, x, n);
    ganc_net_backward(net, dy, dx0, 0);
    if (same_bits_any_width())
        CHECK(memcmp(dx0, dx1, sizeof(float) * in_size * n) == 0,
              "'%s': the input gradient differs with and without weight gradients", cc->text);

    /* the direct sums: one (input, output) pair per weight tap */
    double *ry = calloc(out_size * n, sizeof(double)), *rdx = calloc(in_size * n, sizeof(double));
    double *rdw = calloc(n_w, sizeof(double)), *rdb = calloc(cc->cout, sizeof(double));
    if (!ry || !rdx || !rdw || !rdb) {
        fprintf(stderr, "test_conv_chunks: out of memory\n");
        exit(2);
    }
    const float *w = par, *b = par + n_w;
    for (int i = 0; i < n; i++)
        for (int co = 0; co < cc->cout; co++)
            for (int j = 0; j < out.h * out.w; j++) {
                ry[i * out_size + (size_t)co * out.h * out.w + j] = b[co];
                rdb[co] += dy[i * out_size + (size_t)co * out.h * out.w + j];
            }
    /* conv: out (oy, ox) reads in (oy*s - pad + ky, ...); deconv: in (iy, ix) spreads to out
     * (iy*s - pad + ky, ...), the same pairs with the roles of the maps swapped */
    const ganc_shape small = cc->transposed ? cc->in : out, big = cc->transposed ? out : cc->in;
    for (int i = 0; i < n; i++)
        for (int ci = 0; ci < cin; ci++)
            for (int co = 0; co < cc->cout; co++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        const size_t wi = cc->transposed ? (((size_t)ci * cc->cout + co) * k + ky) * k + kx
                                                         : (((size_t)co * cin + ci) * k + ky) * k + kx;
                        for (int sy = 0; sy < small.h; sy++)
                            for (int sx = 0; sx < small.w; sx++) {
                                const int by = sy * s - pad + ky, bx = sx * s - pad + kx;
                                if (by < 0 || by >= big.h || bx < 0 || bx >= big.w) continue;
                                const size_t sp = (size_t)sy * small.w + sx, bp = (size_t)by * big.w + bx;
                                const size_t xi = i * in_size + (size_t)ci * cc->in.h * cc->in.w +
                                                  (cc->transposed ? sp : bp);
                                const size_t yi = i * out_size + (size_t)co * out.h * out.w + (cc->transposed ? bp : sp);
                                ry[yi] += (double)w[wi] * x[xi];
                                rdx[xi] += (double)w[wi] * dy[yi];
                                rdw[wi] += (double)x[xi] * dy[yi];
                            }
                    }
    compare("output", cc->text, y, ry, out_size * n);
    compare("input gradient", cc->text, dx1, rdx, in_size * n);
    compare("input gradient without weight gradients", cc->text, dx0, rdx, in_size * n);
    const float *g = ganc_net_grads(net);
    compare("weight gradient", cc->text, g, rdw, n_w);
    compare("bias gradient", cc->text, g + n_w, rdb, cc->cout);
    free(ry), free(rdx), free(rdw), free(rdb);
    free(x), free(dy), free(dx1), free(dx0), free(y), free(ox), free(ody);
    ganc_net_free(net);
    ganc_net_free(other);
}

int main(void)
{
    /* conv: 1024 im2col rows of 16 columns a sample, forward chunks of 16 samples, gradient
     * chunks of 32; deconv: 1024 rows of 16, the same; 40 samples: parts of 20 on two threads */
    static const chunk_case cases[] = {
        {"conv 16 k=4 stride=2 pad=1", 0, {64, 8, 8}, 16, 40},
        {"deconv 64 k=4 stride=2 pad=1", 1, {32, 4, 4}, 64, 40},
    };
    /* Winograd's layers (kernels/winograd.c), forced on for any width: odd maps whose last
     * tiles hang over the edge, a transposed convolution with an odd output (outpad), one
     * channel, and maps wide and deep enough for several forward and gradient chunks. */
    static const chunk_case wino_cases[] = {
        {"conv 16 k=4 stride=2 pad=1", 0, {64, 8, 8}, 16, 40},
        {"deconv 64 k=4 stride=2 pad=1", 1, {32, 4, 4}, 64, 40},
        {"conv 5 k=4 stride=2 pad=1", 0, {3, 7, 9}, 5, 6},
        {"conv 1 k=4 stride=2 pad=1", 0, {1, 5, 4}, 1, 3},
        {"deconv 3 k=4 stride=2 pad=1 outpad=1", 1, {6, 3, 5}, 3, 5},
        {"deconv 2 k=4 stride=2 pad=1", 1, {1, 1, 2}, 2, 2},
        {"conv 4 k=4 stride=2 pad=1", 0, {32, 32, 32}, 4, 40},
        {"deconv 32 k=4 stride=2 pad=1", 1, {4, 16, 16}, 32, 40},
        {"conv 8 k=4 stride=2 pad=1", 0, {128, 8, 8}, 8, 70},
        /* a wide weight on a small map: the threads' shares of U's packing (one packed U for
         * all, ganc_wino_prepare) take far longer than the products that read them */
        {"conv 256 k=4 stride=2 pad=1", 0, {256, 2, 2}, 256, 2},
        {"deconv 256 k=4 stride=2 pad=1", 1, {256, 1, 1}, 256, 2},
    };
    ganc_conv_winograd(0); /* im2col */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const size_t rows = cases[i].transposed ? (size_t)cases[i].cout * 16 : (size_t)cases[i].in.c * 16;
        CHECK(ganc_conv_grad_chunk(rows, 16) > ganc_conv_chunk(rows, 16),
              "'%s' would not run longer gradient chunks (%d, %d)", cases[i].text, ganc_conv_grad_chunk(rows, 16),
              ganc_conv_chunk(rows, 16));
        run_case(&cases[i]);
    }
    ganc_conv_winograd(2);
    for (size_t i = 0; i < sizeof wino_cases / sizeof wino_cases[0]; i++) run_case(&wino_cases[i]);
    /* the chunks those cases rely on: 32 channels of 32x32 (64 tiles) go in chunks of 16
     * samples both ways (40 samples: parts of 20 on two threads, two chunks each); 128 channels
     * of 8x8 (4 tiles) in forward chunks of 16 and gradient chunks of 64 (70 samples: five
     * forward chunks, one gradient chunk a part) */
    const ganc_conv_geom g32 = {32, 32, 32, 4, 2, 1, 1, 16, 16}, g128 = {128, 8, 8, 4, 2, 1, 1, 4, 4};
    CHECK(ganc_wino_chunk(&g32, 0) == 16 && ganc_wino_chunk(&g32, 1) == 16, "Winograd chunks of a 32x32x32 input: %d and %d",
          ganc_wino_chunk(&g32, 0), ganc_wino_chunk(&g32, 1));
    CHECK(ganc_wino_chunk(&g128, 0) == 16 && ganc_wino_chunk(&g128, 1) == 64,
          "Winograd chunks of a 128x8x8 input: %d and %d", ganc_wino_chunk(&g128, 0), ganc_wino_chunk(&g128, 1));
    return check_finish("conv_chunks");
}
