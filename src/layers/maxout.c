/* Maxout (Goodfellow et al. 2013): a linear map to units*pieces values, then the maximum of
 * each unit's pieces. Unit u owns the CONSECUTIVE outputs u*pieces .. u*pieces+pieces-1, as
 * the usual PyTorch code does it: nn.Linear(in, units*pieces)(x).view(n, units, pieces).max(2).
 * So weight is (units*pieces, in) and bias (units*pieces), PyTorch's Linear layout.
 *
 * Backward sends each unit's gradient to the piece that won (ties: the first, as torch.max
 * does). Saved per sample, after any fixed part (spectral norm's): the linear outputs z, which
 * backward turns into dL/dz in place, then the winning piece of each unit. Keeping the winners
 * apart from z lets backward run again after one forward (gradients accumulate). */
#include "ganc_internal.h"

#include <string.h>

enum { MAX_PIECES = 256 }; /* model files' limit */

static int maxout_setup(ganc_layer *L, char err[GANC_ERR_LEN])
{
    if (L->spec.units <= 0) return ganc_fail(err, "maxout needs a positive number of units");
    if (L->spec.pieces < 2) return ganc_fail(err, "maxout needs pieces=P with P >= 2 (got %d)", L->spec.pieces);
    const int in = (int)ganc_shape_size(L->in), rows = L->spec.units * L->spec.pieces;
    L->out = (ganc_shape){L->spec.units, 1, 1};
    L->n_weight = (size_t)rows * in;
    L->n_bias = L->spec.bias ? (size_t)rows : 0;
    L->n_saved_per_sample = (size_t)rows + (size_t)L->spec.units;
    L->weight_ndim = 2;
    L->weight_dims[0] = rows;
    L->weight_dims[1] = in;
    ganc_sn_setup(L, rows, 1, in);
    return 0;
}

/* nn.Linear's initialisers: the fan-in is the input size, whatever the number of pieces. */
static void maxout_init(ganc_layer *L, ganc_init_scheme scheme, ganc_rng *rng)
{
    ganc_init_weighted(L, scheme, L->weight_dims[1], rng); /* fan-in: the inputs */
}

/* z (n x rows) and the winners (n x units) in the saved buffer, for a batch of n. */
static float *saved_z(const ganc_layer *L) { return L->saved + L->n_saved_fixed; }
static float *saved_winner(const ganc_layer *L, int n)
{
    return saved_z(L) + (size_t)n * L->spec.units * L->spec.pieces;
}

static void maxout_forward(ganc_layer *L, const float *x, float *y, int n, const ganc_pass *p)
{
    const int in = L->weight_dims[1], units = L->spec.units, pieces = L->spec.pieces, rows = units * pieces;
    float *z = saved_z(L), *winner = saved_winner(L, n);
    GANC_PASS_GEMM(p)(0, 1, n, rows, in, 1.0f, x, in, ganc_sn_forward_weight(L, p), in, 0.0f, z, rows);
#pragma omp parallel for schedule(static) if ((size_t)n * rows > 32768)
    for (int i = 0; i < n; i++) {
        float *zi = z + (size_t)i * rows;
        if (L->n_bias)
            for (int j = 0; j < rows; j++) zi[j] += L->bias[j];
        for (int u = 0; u < units; u++) {
            const float *zu = zi + (size_t)u * pieces;
            int best = 0;
            for (int k = 1; k < pieces; k++)
                if (zu[k] > zu[best]) best = k; /* strict: the first of equal maxima wins */
            y[(size_t)i * units + u] = zu[best];
            winner[(size_t)i * units + u] = (float)best; /* small integers are exact in float */
        }
    }
}

static void maxout_backward(ganc_layer *L, const float *x, const float *y, const float *dy, float *dx, int n,
                            int param_grads, const ganc_pass *p)
{
    (void)y;
    const int in = L->weight_dims[1], units = L->spec.units, pieces = L->spec.pieces, rows = units * pieces;
    float *dz = saved_z(L);
    const float *winner = saved_winner(L, n);
    memset(dz, 0, sizeof(float) * (size_t)n * rows);
    for (size_t i = 0; i < (size_t)n * units; i++) dz[i * pieces + (size_t)winner[i]] = dy[i];
    if (dx) GANC_PASS_GEMM(p)(0, 0, n, in, rows, 1.0f, dz, rows, ganc_sn_weight(L), in, 0.0f, dx, in);
    if (!param_grads) return;
    GANC_PASS_GEMM(p)(1, 0, rows, in, n, 1.0f, dz, rows, x, in, 1.0f, ganc_sn_grad_begin(L, p), in);
    ganc_sn_grad_end(L, p);
    if (L->n_bias)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < rows; j++) L->dbias[j] += dz[(size_t)i * rows + j];
}

/* each linear output: one multiply-add per weight of its row (the maxima are not counted) */
static double maxout_flops(const ganc_layer *L, int n) { return 2.0 * n * (double)L->n_weight; }

/* units * pieces linear outputs, within the float limit (ganc_net_add checks units alone). */
static int maxout_sizes_fit(const ganc_layer *L, char err[GANC_ERR_LEN])
{
    if ((long long)L->spec.units * L->spec.pieces > (long long)GANC_MAX_LAYER_FLOATS)
        return ganc_fail(err, "maxout layer is too large (%d units times its pieces)", L->spec.units);
    return 0;
}

static const ganc_layer_option maxout_options[] = {
    GANC_REQUIRED_INT_OPTION("pieces", pieces, 2, MAX_PIECES, "pieces=P (at least 2), e.g. maxout 200 pieces=5"),
    GANC_OPTIONS_END,
};

const ganc_layer_def ganc_maxout_def = {
    .name = "maxout",
    .sizes = ganc_units_size,
    .needs = "the number of units and pieces=, e.g. maxout 200 pieces=5",
    .options = maxout_options,
    .weighted = 1,
    .sizes_fit = maxout_sizes_fit,
    .setup = maxout_setup,
    .init = maxout_init,
    .reset_state = ganc_sn_reset_state,
    .forward = maxout_forward,
    .backward = maxout_backward,
    .flops = maxout_flops,
};
