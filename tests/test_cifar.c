/* The CIFAR readers (src/data/cifar.c) on small files written here in the published format:
 * every pixel and label lands where the format puts it (red plane first, rows from the top),
 * the five training batches are read in order, CIFAR-100 takes the fine label, class names come
 * from the names file (numbers without it), and each damaged input is refused with its name. */
#include "check.h"
#include "data/data.h"
#include "ganc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { PIXELS = 3072 };

/* Pixel p of record r in file f: a value that tells all three apart. */
static uint8_t pixel(int f, int r, int p) { return (uint8_t)(f * 53 + r * 7 + p * 13 + p / 1024); }

static void write_file(const char *dir, const char *name, int f, int records, int label_bytes, int bad_label)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "wb");
    for (int r = 0; r < records; r++) {
        uint8_t label[2] = {(uint8_t)((f + r) % 20), (uint8_t)((f * 3 + r) % (label_bytes == 1 ? 10 : 100))};
        if (bad_label && r == records - 1) label[1] = label_bytes == 1 ? 10 : 100; /* the byte ganc reads */
        fwrite(label_bytes == 1 ? label + 1 : label, 1, (size_t)label_bytes, out);
        for (int p = 0; p < PIXELS; p++) fputc(pixel(f, r, p), out);
    }
    fclose(out);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *out = fopen(path, "w");
    fputs(text, out);
    fclose(out);
}

static const char *names10 = "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

static void test_cifar10(const char *dir)
{
    char batch[32], spec[600], err[GANC_ERR_LEN];
    for (int f = 1; f <= 5; f++) {
        snprintf(batch, sizeof batch, "data_batch_%d.bin", f);
        write_file(dir, batch, f, f == 3 ? 2 : 3, 1, 0);
    }
    write_file(dir, "test_batch.bin", 0, 4, 1, 0);
    write_text(dir, "batches.meta.txt", names10);
    snprintf(spec, sizeof spec, "cifar10:%s", dir);
    ganc_dataset ds;
    int rc = ganc_dataset_load_cifar(spec, 0, &ds, err);
    if (!CHECK(rc == 0, "cifar10 train: %s", err)) return;
    CHECK(ds.n == 14 && ds.shape.c == 3 && ds.shape.h == 32 && ds.shape.w == 32 && ds.n_classes == 10,
          "cifar10: %d images of %dx%dx%d, %d classes (want 14 of 3x32x32, 10)", ds.n, ds.shape.c, ds.shape.h,
          ds.shape.w, ds.n_classes);
    int ok = 1, i = 0;
    for (int f = 1; f <= 5; f++)
        for (int r = 0; r < (f == 3 ? 2 : 3); r++, i++) {
            ok &= ds.labels[i] == (f * 3 + r) % 10;
            for (int p = 0; p < PIXELS; p++) ok &= ds.pixels[(size_t)i * PIXELS + (size_t)p] == pixel(f, r, p);
        }
    CHECK(ok, "cifar10: the five batches in order, every pixel and label where the format puts it");
    CHECK(ds.class_names && !strcmp(ds.class_names[0], "airplane") && !strcmp(ds.class_names[9], "truck"),
          "cifar10 class names from batches.meta.txt");
    ganc_dataset_free(&ds);

    rc = ganc_dataset_load_cifar(spec, 1, &ds, err);
    CHECK(rc == 0 && ds.n == 4 && ds.labels[3] == 3 && ds.pixels[3 * PIXELS + 1024] == pixel(0, 3, 1024),
          "cifar10 test batch: %s", err);
    ganc_dataset_free(&ds);

    /* without the names file: numbers */
    char path[600];
    snprintf(path, sizeof path, "%s/batches.meta.txt", dir);
    remove(path);
    rc = ganc_dataset_load_cifar(spec, 1, &ds, err);
    CHECK(rc == 0 && ds.class_names && !strcmp(ds.class_names[7], "7"), "cifar10 without names: numbers");
    ganc_dataset_free(&ds);

    /* damaged inputs, each named */
    write_text(dir, "batches.meta.txt", "a\nb\n");
    rc = ganc_dataset_load_cifar(spec, 1, &ds, err);
    CHECK(rc == -1 && strstr(err, "batches.meta.txt") && strstr(err, "2 class names"), "too few names: %s", err);
    write_text(dir, "batches.meta.txt", names10);
    write_file(dir, "test_batch.bin", 0, 3, 1, 1);
    rc = ganc_dataset_load_cifar(spec, 1, &ds, err);
    CHECK(rc == -1 && strstr(err, "test_batch.bin") && strstr(err, "label 10"), "a label out of range: %s", err);
    write_text(dir, "test_batch.bin", "short");
    rc = ganc_dataset_load_cifar(spec, 1, &ds, err);
    CHECK(rc == -1 && strstr(err, "test_batch.bin") && strstr(err, "whole number"), "a truncated file: %s", err);
    snprintf(path, sizeof path, "%s/data_batch_4.bin", dir);
    remove(path);
    rc = ganc_dataset_load_cifar(spec, 0, &ds, err);
    CHECK(rc == -1 && strstr(err, "data_batch_4.bin"), "a missing batch is named: %s", err);
    rc = ganc_dataset_load_cifar("cifar10:", 0, &ds, err);
    CHECK(rc == -1 && strstr(err, "which folder"), "no folder: %s", err);
    rc = ganc_dataset_load_cifar("cifar11:x", 0, &ds, err);
    CHECK(rc == -1 && strstr(err, "cifar100:DIR"), "not a cifar spec: %s", err);
}

static void test_cifar100(const char *dir)
{
    char spec[600], err[GANC_ERR_LEN], names[100 * 8] = "";
    mkdir(dir, 0700);
    write_file(dir, "train.bin", 2, 5, 2, 0);
    write_file(dir, "test.bin", 3, 2, 2, 0);
    for (int k = 0; k < 100; k++) snprintf(names + strlen(names), sizeof names - strlen(names), "c%d\n", k);
    write_text(dir, "fine_label_names.txt", names);
    snprintf(spec, sizeof spec, "cifar100:%s", dir);
    ganc_dataset ds;
    int rc = ganc_dataset_load_cifar(spec, 0, &ds, err);
    if (!CHECK(rc == 0, "cifar100: %s", err)) return;
    int ok = ds.n == 5 && ds.n_classes == 100;
    for (int r = 0; r < 5 && ok; r++) {
        ok &= ds.labels[r] == (2 * 3 + r) % 100; /* the fine label, not the coarse */
        ok &= ds.pixels[(size_t)r * PIXELS + 2047] == pixel(2, r, 2047);
    }
    CHECK(ok && !strcmp(ds.class_names[42], "c42"), "cifar100: fine labels, pixels after two label bytes, names");
    ganc_dataset_free(&ds);
}

int main(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s", check_tmpdir());
    test_cifar10(dir);
    strcat(dir, "/c100");
    test_cifar100(dir);
    return check_finish("cifar");
}
