/* Minimal test harness: every check counts, failures print where and why, and the binary's
 * exit status is non-zero when anything failed. */
#ifndef GANC_TEST_CHECK_H
#define GANC_TEST_CHECK_H

#include <stddef.h>

#define CHECK(cond, ...) check_true((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

int check_true(int ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Max-norm relative error: max|got - want| / max(max|want|, floor). */
double check_rel_err(const float *got, const float *want, size_t n, double floor);
/* Passes when check_rel_err(got, want) <= tol; prints the error either way when verbose. */
int check_close(const char *what, const float *got, const float *want, size_t n, double tol);
/* A private directory for a test's files, made (mkdtemp under /tmp) on the first call and
 * removed with everything in it when the process exits; the same path on every call. Exits
 * with status 2 when it cannot be made. */
const char *check_tmpdir(void);
/* How many temp files ganc_io_write_atomic may have left beside path: entries of its directory
 * named "<file>.tmp" or "<file>.tmp.*" (it writes PATH.tmp.PID.N); -1 when the directory
 * cannot be read. */
int check_temp_files(const char *path);
/* n zeroed floats (at least one), or exit status 2 with a message when memory runs out. */
float *check_floats(size_t n);
/* Prints "<suite>: N passed, N failed" and returns the process exit status. */
int check_finish(const char *suite);
extern int check_verbose;

#endif
