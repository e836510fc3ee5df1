/* Mode-collapse metrics for generated 2-D points against a ring or grid mixture (docs/design.md §5):
 * modes captured, percentage of high-quality samples, reverse KL of the mode histogram.
 * The definitions, and where they come from, are spelled out in toy2d_metrics.c. */
#ifndef GANC_TOY2D_METRICS_H
#define GANC_TOY2D_METRICS_H

#include "data/toy2d.h"
#include "ganc.h"

#include <stdio.h>

typedef struct {
    int n;               /* points evaluated (the protocol uses 2,500) */
    int modes;           /* modes captured: at least one high-quality point nearest to it */
    int modes_total;     /* modes in the set (8 or 25) */
    int hq_count;        /* high-quality points */
    double high_quality; /* 100 * hq_count / n: a percentage, as the paper reports it */
    double reverse_kl;   /* KL(generated mode histogram || uniform), nats; NaN when hq_count = 0 */
    int hist[GANC_TOY2D_MAX_MODES]; /* high-quality points per mode (modes_total entries used) */
} ganc_toy2d_metrics;

/* Points x[0 .. 2n) row-major (x0, y0, x1, y1, ...). Non-finite points count in n but are
 * never high quality. Fails (-1, err) for n < 1 or missing arguments. */
int ganc_toy2d_evaluate(const ganc_toy2d *set, const float *x, int n, ganc_toy2d_metrics *m,
                        char err[GANC_ERR_LEN]);

/* The metrics as one JSON object, in the style of log.jsonl:
 * {"modes": 6, "modes_total": 8, "high_quality": 98.2, "reverse_kl": 0.45, "n": 2500}
 * (reverse_kl is null when undefined). Like snprintf: writes at most cap bytes including the
 * NUL and returns the length the whole text needs. */
int ganc_toy2d_metrics_json(const ganc_toy2d_metrics *m, char *buf, size_t cap);
/* The same object followed by a newline, to f. Returns 0, or -1 when the write fails. */
int ganc_toy2d_metrics_print(FILE *f, const ganc_toy2d_metrics *m);

#endif
