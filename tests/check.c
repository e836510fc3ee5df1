#include "check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int passed, failed;
int check_verbose;

int check_true(int ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        passed++;
        return 1;
    }
    failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

double check_rel_err(const float *got, const float *want, size_t n, double floor)
{
    double worst = 0.0, scale = floor;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        if (!(d <= worst)) worst = d; /* NaN propagates as a failure */
        if (fabs((double)want[i]) > scale) scale = fabs((double)want[i]);
    }
    return worst / scale;
}

int check_close(const char *what, const float *got, const float *want, size_t n, double tol)
{
    double e = check_rel_err(got, want, n, 1e-12);
    if (check_verbose || getenv("GANC_TEST_VERBOSE")) printf("  %-40s rel err %.3g\n", what, e);
    return check_true(e <= tol, __FILE__, __LINE__, "%s: relative error %.3g > %.3g", what, e, tol);
}

int check_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}
