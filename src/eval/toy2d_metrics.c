/* Mode-collapse metrics on 2-D points (see toy2d_metrics.h).
 *
 * Definitions: those of the PacGAN paper's code (github.com/fjxmlzn/PacGAN), so that our numbers
 * can be set beside the paper's Table 1 (docs/design.md §6):
 *
 * - Each point is assigned to its nearest mean. The reference code measures the distance as
 *   sqrt(sum(d² / diag(variance))), i.e. Euclidean distance in units of σ; every mode of a set
 *   has the same σ, so the nearest mode is the Euclidean-nearest one. On a tie the lower mode
 *   index wins (the reference keeps the first mode with a strictly smaller distance).
 * - A point is high quality when that distance / σ is at most 3 (the protocol, docs/design.md §5, says "within 3σ"; the
 *   reference's `min_dis < dis_thre` is strict, a difference only on a set of measure zero).
 * - The mode histogram counts HIGH-QUALITY POINTS ONLY: the reference's MetricLogger
 *   (synthetic_data_experiments/PacGAN/pacgan/extensions.py) increments
 *   detail_of_coverage[nearest] only when min_dis < 3, and every coverage statistic
 *   (modes = non-zero bins, entropy, divergence to uniform) is computed from
 *   detail_of_coverage / sum(detail_of_coverage). Points far from every mode therefore lower
 *   high_quality but do not enter the histogram.
 * - Reverse KL = KL(P_gen || P_true) = sum_k p_k log(p_k / q_k), with p the normalised histogram
 *   and q = 1/K uniform: the direction of the repository's KLD(p, q) helper as its stacked-MNIST
 *   code calls it (KLD(p, [1/1000]*1000), model.py). Empty bins are handled as that helper
 *   does, by skipping terms with p_k = 0 (the limit 0·log 0 = 0); no epsilon is needed because
 *   q_k = 1/K is never 0. A generator on one mode gets log K (log 8 for the ring).
 * - With no high-quality point the histogram is 0/0, which the reference turns into NaN; we
 *   report NaN too (null in JSON) rather than invent a value.
 * Sums are accumulated in double; KL is clamped at 0 because rounding can make an exactly
 * uniform histogram come out at -1e-17. */
#include "eval/toy2d_metrics.h"
#include "ganc_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define HQ_RADIUS 3.0 /* in units of σ */

int ganc_toy2d_evaluate(const ganc_toy2d *set, const float *x, int n, ganc_toy2d_metrics *m,
                        char err[GANC_ERR_LEN])
{
    if (!set || !m) return ganc_fail(err, "2-D metrics: no data set or no output");
    if (n < 1 || !x) return ganc_fail(err, "2-D metrics: no points to evaluate (n = %d)", n);
    memset(m, 0, sizeof *m);
    const int k = set->n_modes;
    const double sigma = set->sigma;
    m->n = n;
    m->modes_total = k;
    for (int i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1];
        int best = -1;
        double best_d2 = INFINITY;
        for (int j = 0; j < k; j++) {
            const double dx = px - set->means[j][0], dy = py - set->means[j][1];
            const double d2 = dx * dx + dy * dy;
            if (d2 < best_d2) { /* NaN never compares smaller: a NaN point stays unassigned */
                best_d2 = d2;
                best = j;
            }
        }
        if (best >= 0 && sqrt(best_d2) / sigma <= HQ_RADIUS) {
            m->hist[best]++;
            m->hq_count++;
        }
    }
    m->high_quality = 100.0 * m->hq_count / n;
    if (m->hq_count == 0) {
        m->reverse_kl = NAN;
        return 0;
    }
    double kl = 0.0;
    const double q = 1.0 / k;
    for (int j = 0; j < k; j++) {
        if (m->hist[j] == 0) continue; /* 0 · log 0 = 0: an empty bin adds nothing */
        m->modes++;
        const double p = (double)m->hist[j] / m->hq_count;
        kl += p * log(p / q);
    }
    m->reverse_kl = kl > 0.0 ? kl : 0.0;
    return 0;
}

int ganc_toy2d_metrics_json(const ganc_toy2d_metrics *m, char *buf, size_t cap)
{
    char kl[32];
    if (isfinite(m->reverse_kl))
        snprintf(kl, sizeof kl, "%.6g", m->reverse_kl + 0.0); /* + 0.0 turns -0 into 0 */
    else
        snprintf(kl, sizeof kl, "null"); /* JSON has no NaN */
    return snprintf(buf, cap, "{\"modes\": %d, \"modes_total\": %d, \"high_quality\": %.6g, \"reverse_kl\": %s, \"n\": %d}",
                    m->modes, m->modes_total, m->high_quality, kl, m->n);
}

int ganc_toy2d_metrics_print(FILE *f, const ganc_toy2d_metrics *m)
{
    char buf[256];
    ganc_toy2d_metrics_json(m, buf, sizeof buf);
    return fprintf(f, "%s\n", buf) < 0 ? -1 : 0;
}
