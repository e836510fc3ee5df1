/* Draws N samples from a trained generator and writes them as a PNG grid: the picture that
 * `ganc sample RUN --seed SEED -n N -o OUT.png [--class CLASS]` makes from the same run.
 *   usage: generate GEN.safetensors OUT.png [SEED [N [CLASS]]]
 *   build: cc generate.c $(pkg-config --cflags --libs ganc) -o generate */
#include <ganc.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) return fprintf(stderr, "usage: %s GEN.safetensors OUT.png [SEED [N [CLASS]]]\n", argv[0]), 2;
    const int n = argc > 4 ? atoi(argv[4]) : 16;
    char err[GANC_ERR_LEN];
    ganc_generator *gen = ganc_generator_open(argv[1], n > 0 ? n : 1, err);
    if (!gen) return fprintf(stderr, "%s\n", err), 1;
    ganc_sample_opts opts = ganc_generator_defaults(gen); /* the run's seed, truncation; classes drawn */
    if (argc > 3) opts.seed = strtoull(argv[3], NULL, 10);
    if (argc > 5) opts.class_id = ganc_generator_find_class(gen, argv[5]); /* a name or a number */
    const ganc_shape shape = ganc_generator_shape(gen);
    const size_t floats = (size_t)(n > 0 ? n : 0) * ganc_shape_size(shape);
    float lo, hi, *x = malloc(sizeof(float) * (floats ? floats : 1));
    ganc_generator_range(gen, &lo, &hi);
    int rc = 0;
    if (argc > 5 && opts.class_id < 0) rc = fprintf(stderr, "%s: no class %s\n", argv[1], argv[5]) > 0;
    else if (!x || ganc_generator_sample(gen, &opts, n, x, floats, NULL, err) ||
             ganc_png_grid(argv[2], x, n, shape, lo, hi, 0, err))
        rc = fprintf(stderr, "%s\n", x ? err : "out of memory") > 0;
    free(x);
    ganc_generator_close(gen);
    ganc_shutdown(); /* the library's per-thread scratch, so that leak checkers see nothing left */
    return rc;
}
