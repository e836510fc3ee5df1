/* Train and test splits of a data set (see splits.c for the rules). */
#ifndef GANC_CLI_SPLITS_H
#define GANC_CLI_SPLITS_H

#include "cli/cli.h"
#include "data/data.h"
#include "gan/config.h"

typedef struct {
    ganc_dataset train;          /* the data file; training images are [0, train_n) */
    int train_n;
    ganc_dataset own_test;       /* a separate test file, when there is one */
    const ganc_dataset *test;    /* test images are test[test_from .. test_from + test_n) */
    int test_from, test_n;
    int stacked;                 /* data was stacked-mnist:PATH: these are PATH's splits */
    char data_path[1024];        /* the resolved data file (without the stacked prefix) */
    char test_desc[1100];        /* where the test images are, for messages and metadata */
} cli_split;

/* cfg: the --data value (names resolved as ganc train does) and the options that fit its images
 * (--size, --channels, ...; --xflip is ignored: these are the images themselves); test: --test
 * PATH or NULL (read with the same options); split: --split N or 0; verbose: a folder's
 * decoding progress and report on stderr (cli_open_source's). */
int cli_split_load(const ganc_config *cfg, const char *test, int split, int verbose, cli_split *sp,
                   char err[GANC_ERR_LEN]);
void cli_split_free(cli_split *sp);

#endif
