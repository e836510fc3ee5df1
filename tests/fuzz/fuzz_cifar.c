/* The CIFAR readers on any file: the input is a folder's test file, for CIFAR-10 and for
 * CIFAR-100 (their records differ in length). A set that loads is whole; a refusal names the
 * folder. */
#include "data/data.h"
#include "fuzz_common.h"

#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ganc_fuzz_cifar_%d", (int)getpid());
        mkdir(dir, 0700);
    }
    static const char *const files[2] = {"test_batch.bin", "test.bin"}, *const kinds[2] = {"cifar10", "cifar100"};
    for (int k = 0; k < 2; k++) {
        char path[400], spec[400], err[GANC_ERR_LEN];
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        FILE *f = fopen(path, "wb");
        if (!f) abort();
        if (size && fwrite(data, 1, size, f) != size) abort();
        fclose(f);
        snprintf(spec, sizeof spec, "%s:%s", kinds[k], dir);
        ganc_dataset ds;
        if (ganc_dataset_load_cifar(spec, 1, &ds, err) == 0) {
            for (int i = 0; i < ds.n; i++)
                if (ds.labels[i] >= ds.n_classes) abort();
            ganc_dataset_free(&ds);
        } else if (!strstr(err, dir)) {
            abort();
        }
    }
    return 0;
}
