#include <cblas.h>
int main(void) { openblas_set_num_threads(1); return 0; }
