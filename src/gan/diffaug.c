/* Differentiable augmentation: the draws, the transforms and their adjoints (diffaug.h). */
#include "gan/diffaug.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} kinds_table[] = {{"color", GANC_AUG_COLOR}, {"translation", GANC_AUG_TRANSLATION}, {"cutout", GANC_AUG_CUTOUT}};
#define N_KINDS (sizeof kinds_table / sizeof kinds_table[0])

int ganc_diffaug_parse(const char *list, unsigned *kinds, char err[GANC_ERR_LEN])
{
    *kinds = 0;
    if (!*list || !strcmp(list, "none")) return 0;
    const char *p = list;
    for (;;) {
        const size_t len = strcspn(p, ",");
        size_t k = 0;
        while (k < N_KINDS && !(strlen(kinds_table[k].name) == len && !strncmp(p, kinds_table[k].name, len))) k++;
        if (k == N_KINDS)
            return ganc_fail(err, "--diffaug: unknown transform '%.*s' (color, translation, cutout, comma-separated; "
                                  "or none)",
                             (int)len, p);
        *kinds |= kinds_table[k].bit;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

void ganc_diffaug_format(unsigned kinds, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t k = 0; k < N_KINDS; k++)
        if (kinds & kinds_table[k].bit && used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s", used ? "," : "", kinds_table[k].name);
    if (!used) snprintf(buf, cap, "none");
}

int ganc_diffaug_init(ganc_diffaug *a, unsigned kinds, ganc_shape shape, int max_n, char err[GANC_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    if (max_n < 1 || shape.c < 1 || shape.h < 1 || shape.w < 1)
        return ganc_fail(err, "--diffaug: needs a batch and a picture (got %d samples of %dx%dx%d)", max_n, shape.c,
                         shape.h, shape.w);
    a->kinds = kinds;
    a->shape = shape;
    a->max_n = max_n;
    /* DiffAugment's sizes: shifts of an eighth, a cutout of half the side, each rounded. */
    a->shift_h = (shape.h + 4) / 8;
    a->shift_w = (shape.w + 4) / 8;
    a->cut_h = (shape.h + 1) / 2;
    a->cut_w = (shape.w + 1) / 2;
    const size_t n = (size_t)max_n;
    a->brightness = ganc_alloc(sizeof(float) * n);
    a->saturation = ganc_alloc(sizeof(float) * n);
    a->contrast = ganc_alloc(sizeof(float) * n);
    a->dy = ganc_alloc(sizeof(int) * n);
    a->dx = ganc_alloc(sizeof(int) * n);
    a->cy = ganc_alloc(sizeof(int) * n);
    a->cx = ganc_alloc(sizeof(int) * n);
    a->plane = ganc_alloc(sizeof(float) * (size_t)shape.h * (size_t)shape.w);
    if (!a->brightness || !a->saturation || !a->contrast || !a->dy || !a->dx || !a->cy || !a->cx || !a->plane) {
        ganc_diffaug_free(a);
        return ganc_fail(err, "--diffaug: out of memory");
    }
    return 0;
}

void ganc_diffaug_free(ganc_diffaug *a)
{
    ganc_free(a->brightness);
    ganc_free(a->saturation);
    ganc_free(a->contrast);
    ganc_free(a->dy);
    ganc_free(a->dx);
    ganc_free(a->cy);
    ganc_free(a->cx);
    ganc_free(a->plane);
    memset(a, 0, sizeof *a);
}

/* An integer uniform over [lo, hi]. */
static int uniform_int(ganc_rng *rng, int lo, int hi)
{
    const int v = lo + (int)(ganc_rng_double(rng) * (double)(hi - lo + 1));
    return v > hi ? hi : v;
}

void ganc_diffaug_draw(ganc_diffaug *a, int n, ganc_rng *rng)
{
    a->n = n;
    /* Every kind draws in a fixed order, so the draws of one kind do not depend on the others
     * being on; the values of kinds that are off are drawn all the same and ignored. */
    for (int i = 0; i < n; i++) {
        a->brightness[i] = (float)(ganc_rng_double(rng) - 0.5);
        a->saturation[i] = (float)(ganc_rng_double(rng) * 2.0);
        a->contrast[i] = (float)(ganc_rng_double(rng) + 0.5);
        a->dy[i] = uniform_int(rng, -a->shift_h, a->shift_h);
        a->dx[i] = uniform_int(rng, -a->shift_w, a->shift_w);
        /* the centre ranges over [0, side] for an even square, [0, side - 1] for an odd one */
        a->cy[i] = uniform_int(rng, 0, a->shape.h - (a->cut_h % 2));
        a->cx[i] = uniform_int(rng, 0, a->shape.w - (a->cut_w % 2));
    }
}

void ganc_diffaug_keep(ganc_diffaug *a, int first, int n)
{
    a->n = n;
    if (!first) return;
    memmove(a->brightness, a->brightness + first, sizeof(float) * (size_t)n);
    memmove(a->saturation, a->saturation + first, sizeof(float) * (size_t)n);
    memmove(a->contrast, a->contrast + first, sizeof(float) * (size_t)n);
    memmove(a->dy, a->dy + first, sizeof(int) * (size_t)n);
    memmove(a->dx, a->dx + first, sizeof(int) * (size_t)n);
    memmove(a->cy, a->cy + first, sizeof(int) * (size_t)n);
    memmove(a->cx, a->cx + first, sizeof(int) * (size_t)n);
}

/* x <- s x + (1 - s) mean(x) over `count` values `stride` apart: saturation and contrast in
 * one form (the map is symmetric, so it is its own adjoint). */
static void toward_mean(float *x, size_t count, size_t stride, float s)
{
    double sum = 0.0;
    for (size_t k = 0; k < count; k++) sum += x[k * stride];
    const float shift = (float)((1.0 - s) * (sum / (double)count));
    for (size_t k = 0; k < count; k++) x[k * stride] = s * x[k * stride] + shift;
}

static void colour(const ganc_diffaug *a, float *x, int i, int adjoint)
{
    const size_t plane = (size_t)a->shape.h * (size_t)a->shape.w, size = plane * (size_t)a->shape.c;
    /* forward: brightness, saturation, contrast; the adjoint runs them in reverse */
    for (int step = 0; step < 3; step++) {
        const int op = adjoint ? 2 - step : step;
        if (op == 0 && !adjoint)
            for (size_t k = 0; k < size; k++) x[k] += a->brightness[i]; /* its adjoint is the identity */
        if (op == 1)
            for (size_t p = 0; p < plane; p++) toward_mean(x + p, (size_t)a->shape.c, plane, a->saturation[i]);
        if (op == 2) toward_mean(x, size, 1, a->contrast[i]);
    }
}

/* Shifts each plane of sample x by (dy, dx) (by (-dy, -dx) for the adjoint), 0 coming in. */
static void translate(const ganc_diffaug *a, float *x, int i, int adjoint)
{
    const int h = a->shape.h, w = a->shape.w;
    const int dy = adjoint ? -a->dy[i] : a->dy[i], dx = adjoint ? -a->dx[i] : a->dx[i];
    for (int c = 0; c < a->shape.c; c++) {
        float *p = x + (size_t)c * (size_t)h * (size_t)w;
        memcpy(a->plane, p, sizeof(float) * (size_t)h * (size_t)w);
        for (int r = 0; r < h; r++)
            for (int q = 0; q < w; q++) {
                const int sr = r - dy, sq = q - dx;
                p[r * w + q] = sr >= 0 && sr < h && sq >= 0 && sq < w ? a->plane[sr * w + sq] : 0.0f;
            }
    }
}

static void cutout(const ganc_diffaug *a, float *x, int i)
{
    const int h = a->shape.h, w = a->shape.w;
    int r0 = a->cy[i] - a->cut_h / 2, q0 = a->cx[i] - a->cut_w / 2;
    int r1 = r0 + a->cut_h, q1 = q0 + a->cut_w;
    if (r0 < 0) r0 = 0;
    if (q0 < 0) q0 = 0;
    if (r1 > h) r1 = h;
    if (q1 > w) q1 = w;
    for (int c = 0; c < a->shape.c; c++)
        for (int r = r0; r < r1; r++)
            for (int q = q0; q < q1; q++) x[((size_t)c * (size_t)h + (size_t)r) * (size_t)w + (size_t)q] = 0.0f;
}

static void apply(const ganc_diffaug *a, const float *in, float *out, int adjoint)
{
    const size_t size = (size_t)a->shape.c * (size_t)a->shape.h * (size_t)a->shape.w;
    if (out != in) memcpy(out, in, sizeof(float) * size * (size_t)a->n);
    for (int i = 0; i < a->n; i++) {
        float *x = out + (size_t)i * size;
        if (!adjoint) {
            if (a->kinds & GANC_AUG_COLOR) colour(a, x, i, 0);
            if (a->kinds & GANC_AUG_TRANSLATION) translate(a, x, i, 0);
            if (a->kinds & GANC_AUG_CUTOUT) cutout(a, x, i);
        } else {
            if (a->kinds & GANC_AUG_CUTOUT) cutout(a, x, i);
            if (a->kinds & GANC_AUG_TRANSLATION) translate(a, x, i, 1);
            if (a->kinds & GANC_AUG_COLOR) colour(a, x, i, 1);
        }
    }
}

void ganc_diffaug_forward(const ganc_diffaug *a, const float *x, float *y) { apply(a, x, y, 0); }
void ganc_diffaug_backward(const ganc_diffaug *a, const float *dy, float *dx) { apply(a, dy, dx, 1); }
