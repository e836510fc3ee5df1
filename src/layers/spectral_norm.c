/* Spectral normalisation of a layer's weight, as torch.nn.utils.spectral_norm computes it.
 *
 * The weight W is read as a matrix M (rows x cols, see ganc_sn_matrix). The state holds u
 * (rows) and v (cols), PyTorch's weight_u and weight_v buffers. A training forward makes one
 * power iteration, v = normalize(M^T u), u = normalize(M v), and stores both; an eval forward
 * uses them as stored, so eval output depends on v too (which is why v is state, not scratch).
 * Then sigma = u . (M v) and the forward uses W_sn = W / sigma; W itself stays the parameter.
 *
 * Backward, with u and v constants (PyTorch computes them under no_grad): for the gradient
 * G = dL/dW_sn, dL/dW = G / sigma - (sum(G * W) / sigma^2) u v^T = (G - <G, W_sn> u v^T) / sigma.
 * G is collected in the pass's work buffer, then this is added to dweight.
 *
 * Saved (fixed part, first): W_sn, then t = M v (rows), then sigma. */
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

#define SN_EPS 1e-12 /* normalize(): x / max(|x|, eps), PyTorch's default eps */

static size_t sn_cols(const ganc_layer *L) { return (size_t)L->sn.blocks * (size_t)L->sn.kk; }

void ganc_sn_setup(ganc_layer *L, int rows, int blocks, int kk)
{
    if (!L->spec.sn) return;
    L->sn = (ganc_sn_matrix){rows, blocks, kk, L->n_work};
    L->n_work += L->n_weight;
    L->n_saved_fixed += L->n_weight + (size_t)rows + 1;
    L->n_state = (size_t)rows + sn_cols(L);
    L->state_names[0] = "weight_u";
    L->state_names[1] = "weight_v";
    L->state_counts[0] = (size_t)rows;
    L->state_counts[1] = sn_cols(L);
    L->weight_name = "weight_orig"; /* PyTorch's state-dict name for the raw weight */
}

/* x / max(|x|, eps) in place, as torch.nn.functional.normalize. */
static void normalize(float *x, size_t n)
{
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float norm = (float)sqrt(ss), denom = norm > (float)SN_EPS ? norm : (float)SN_EPS;
    for (size_t i = 0; i < n; i++) x[i] /= denom;
}

/* A deterministic unit vector, so that a network built but never initialised still divides
 * by a finite sigma; ganc_sn_init draws the real starting point. */
void ganc_sn_reset_state(ganc_layer *L)
{
    if (!L->spec.sn) return;
    const float a = (float)(1.0 / sqrt((double)L->state_counts[0]));
    const float b = (float)(1.0 / sqrt((double)L->state_counts[1]));
    for (size_t i = 0; i < L->state_counts[0]; i++) L->state[i] = a;
    for (size_t i = 0; i < L->state_counts[1]; i++) L->state[L->state_counts[0] + i] = b;
}

void ganc_sn_init(ganc_layer *L, ganc_rng *rng)
{
    if (!L->spec.sn) return;
    float *u = L->state, *v = L->state + L->state_counts[0];
    ganc_rng_normal(rng, u, L->state_counts[0], 0.0f, 1.0f);
    normalize(u, L->state_counts[0]);
    ganc_rng_normal(rng, v, L->state_counts[1], 0.0f, 1.0f);
    normalize(v, L->state_counts[1]);
}

/* t = M v, one row per task. */
static void mat_vec(const ganc_layer *L, const float *v, float *t)
{
    const int rows = L->sn.rows, blocks = L->sn.blocks, kk = L->sn.kk;
    const float *w = L->weight;
#pragma omp parallel for schedule(static) if ((size_t)rows * sn_cols(L) > 65536)
    for (int o = 0; o < rows; o++) {
        double s = 0.0;
        for (int b = 0; b < blocks; b++) {
            const float *row = w + ((size_t)b * rows + o) * kk, *vb = v + (size_t)b * kk;
            for (int r = 0; r < kk; r++) s += (double)row[r] * vb[r];
        }
        t[o] = (float)s;
    }
}

/* v = M^T u. Each task owns a run of columns and walks the rows over it, so the weight is
 * read along its rows rather than with a stride of kk. */
enum { COLS_PER_TASK = 256 };
static void mat_t_vec(const ganc_layer *L, const float *u, float *v)
{
    const int rows = L->sn.rows, blocks = L->sn.blocks, kk = L->sn.kk;
    const int per_block = (kk + COLS_PER_TASK - 1) / COLS_PER_TASK, tasks = blocks * per_block;
    const float *w = L->weight;
#pragma omp parallel for schedule(static) if ((size_t)rows * sn_cols(L) > 65536)
    for (int task = 0; task < tasks; task++) {
        const int b = task / per_block, r0 = (task % per_block) * COLS_PER_TASK;
        const int r1 = r0 + COLS_PER_TASK < kk ? r0 + COLS_PER_TASK : kk;
        double acc[COLS_PER_TASK] = {0};
        for (int o = 0; o < rows; o++) {
            const float *row = w + ((size_t)b * rows + o) * kk;
            const double uo = u[o];
            for (int r = r0; r < r1; r++) acc[r - r0] += row[r] * uo;
        }
        for (int r = r0; r < r1; r++) v[(size_t)b * kk + r] = (float)acc[r - r0];
    }
}

const float *ganc_sn_forward_weight(ganc_layer *L, const ganc_pass *p)
{
    if (!L->spec.sn) return L->weight;
    const size_t rows = (size_t)L->sn.rows;
    float *u = L->state, *v = L->state + rows;
    float *wsn = L->saved, *t = L->saved + L->n_weight, *sigma = t + rows;
    if (p->training) {
        mat_t_vec(L, u, v);
        normalize(v, sn_cols(L));
        mat_vec(L, v, t);
        memcpy(u, t, sizeof(float) * rows);
        normalize(u, rows);
    } else {
        mat_vec(L, v, t);
    }
    double s = 0.0;
    for (size_t i = 0; i < rows; i++) s += (double)u[i] * t[i];
    *sigma = (float)s;
    const float sg = *sigma;
#pragma omp parallel for simd schedule(static) if (L->n_weight > 65536)
    for (size_t i = 0; i < L->n_weight; i++) wsn[i] = L->weight[i] / sg;
    return wsn;
}

const float *ganc_sn_weight(const ganc_layer *L) { return L->spec.sn ? L->saved : L->weight; }

float *ganc_sn_grad_begin(ganc_layer *L, const ganc_pass *p)
{
    if (!L->spec.sn) return L->dweight;
    float *g = p->work + L->sn.work_at;
    memset(g, 0, sizeof(float) * L->n_weight);
    return g;
}

void ganc_sn_grad_end(ganc_layer *L, const ganc_pass *p)
{
    if (!L->spec.sn) return;
    const int rows = L->sn.rows, blocks = L->sn.blocks, kk = L->sn.kk;
    const float *g = p->work + L->sn.work_at, *wsn = L->saved;
    const float *u = L->state, *v = L->state + rows;
    const float sigma = L->saved[L->n_weight + (size_t)rows];
    double dot = 0.0;
    for (size_t i = 0; i < L->n_weight; i++) dot += (double)g[i] * wsn[i];
    const float c = (float)dot;
#pragma omp parallel for schedule(static) if (L->n_weight > 65536)
    for (int q = 0; q < blocks * rows; q++) {
        const int b = q / rows, o = q % rows;
        const size_t at = (size_t)q * kk; /* (b * rows + o) * kk */
        const float cu = c * u[o];
        const float *vb = v + (size_t)b * kk;
        for (int r = 0; r < kk; r++) L->dweight[at + r] += (g[at + r] - cu * vb[r]) / sigma;
    }
}
