/* Optimizers over a network's contiguous parameter buffer: one loop each, no allocation
 * after init. Both follow torch.optim exactly (1.13), including where rounding happens. */
#include "ganc_internal.h"

#include <math.h>
#include <string.h>

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
#pragma omp parallel for schedule(static) if (n > 65536)
        for (size_t i = 0; i < n; i++) {
            const float g = grads[i] + wd * params[i];
            m[i] = b1 * m[i] + (1.0f - b1) * g;
            v[i] = b2 * v[i] + (1.0f - b2) * g * g;
            params[i] -= step_size * m[i] / (sqrtf(v[i]) * inv_sqrt_bc2 + eps);
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
