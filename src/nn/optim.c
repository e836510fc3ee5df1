/* Optimizers over a network's contiguous parameter buffer: one loop each, no allocation
 * after init. Both follow torch.optim exactly (1.13), including where rounding happens. */
#include "ganc_internal.h"

#include <math.h>
#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

ganc_optim_config ganc_optim_default(ganc_optim_type type)
{
    ganc_optim_config c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.lr = type == GANC_OPTIM_ADAM ? 1e-3f : 1e-2f;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = 1e-8f;
    return c;
}

void ganc_optim_init(ganc_optim *opt, const ganc_optim_config *cfg, size_t n)
{
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->n = n;
    opt->m = ganc_alloc(sizeof(float) * (n ? n : 1));
    opt->v = ganc_alloc(sizeof(float) * (n ? n : 1));
}

void ganc_optim_free(ganc_optim *opt)
{
    ganc_free(opt->m);
    ganc_free(opt->v);
    opt->m = opt->v = NULL;
}

/* Adam's update of n parameters, in torch's order of operations (no fused multiply-adds: the
 * build compiles C with contraction off, and the vector code keeps to the same products and
 * sums, so both give the same bits). GCC leaves the plain loop scalar (sqrtf may set errno),
 * which made Adam about a tenth of an mlp iteration; eight lanes at a time it is bound by
 * memory. */
enum { ADAM_BLOCK = 4096 }; /* (whole blocks to a thread: the vector loop's tail is per block) */

static void adam_block(float *restrict params, const float *restrict grads, float *restrict m, float *restrict v,
                       size_t n, float wd, float b1, float b2, float eps, float step_size, float inv_sqrt_bc2)
{
    size_t i = 0;
#if defined(__AVX2__)
    const __m256 vwd = _mm256_set1_ps(wd), vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2);
    const __m256 va1 = _mm256_set1_ps(1.0f - b1), va2 = _mm256_set1_ps(1.0f - b2), veps = _mm256_set1_ps(eps);
    const __m256 vstep = _mm256_set1_ps(step_size), vinv = _mm256_set1_ps(inv_sqrt_bc2);
    for (; i + 8 <= n; i += 8) {
        const __m256 p = _mm256_loadu_ps(params + i);
        const __m256 g = _mm256_add_ps(_mm256_loadu_ps(grads + i), _mm256_mul_ps(vwd, p));
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(va1, g));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(va2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), vinv), veps);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(p, _mm256_div_ps(_mm256_mul_ps(vstep, mi), den)));
    }
#endif
    for (; i < n; i++) {
        const float g = grads[i] + wd * params[i];
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
    }
}

void ganc_optim_step(ganc_optim *opt, float *params, const float *grads)
{
    const ganc_optim_config *c = &opt->cfg;
    const size_t n = opt->n;
    const float wd = c->weight_decay;
    float *m = opt->m, *v = opt->v;
    opt->step++;
    if (c->type == GANC_OPTIM_ADAM) {
        const double bc1 = 1.0 - pow(c->beta1, (double)opt->step);
        const double bc2 = 1.0 - pow(c->beta2, (double)opt->step);
        const float step_size = (float)(c->lr / bc1), inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
        const float b1 = c->beta1, b2 = c->beta2, eps = c->eps;
        const size_t blocks = (n + ADAM_BLOCK - 1) / ADAM_BLOCK;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t b = 0; b < blocks; b++) {
            const size_t lo = b * ADAM_BLOCK, hi = lo + ADAM_BLOCK < n ? lo + ADAM_BLOCK : n;
            adam_block(params + lo, grads + lo, m + lo, v + lo, hi - lo, wd, b1, b2, eps, step_size, inv_sqrt_bc2);
        }
    } else {
        const float mom = c->momentum, lr = c->lr;
        const int first = opt->step == 1;
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            float g = grads[i] + wd * params[i];
            if (mom != 0.0f) {
                m[i] = first ? g : mom * m[i] + g;
                g = c->nesterov ? g + mom * m[i] : m[i];
            }
            params[i] -= lr * g;
        }
    }
}
