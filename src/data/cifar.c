/* CIFAR-10 and CIFAR-100 in their binary form (the "binary version" of the sets' page): each
 * record is the label byte(s) then 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, rows of
 * 32 from the top: already the (c, h, w) layout ganc keeps.
 *   cifar10:   data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin (test); records of
 *              1 + 3072 bytes (the label 0-9); class names one a line in batches.meta.txt
 *   cifar100:  train.bin, test.bin; records of 2 + 3072 bytes (the coarse label 0-19, then the
 *              fine one 0-99, which ganc uses); names in fine_label_names.txt
 * Every file's size is checked to be a whole number of records before anything is read, and
 * every label against the set's class count, so a wrong or damaged file is named, not trusted. */
#include "data/data.h"
#include "ganc_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { SIDE = 32, PIXELS = 3 * SIDE * SIDE, MAX_FILES = 5 };

typedef struct {
    const char *name;
    int label_bytes, classes;
    const char *train[MAX_FILES], *test, *names;
} cifar_layout;

static const cifar_layout layouts[] = {
    {"cifar10", 1, 10, {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                        "data_batch_5.bin"}, "test_batch.bin", "batches.meta.txt"},
    {"cifar100", 2, 100, {"train.bin"}, "test.bin", "fine_label_names.txt"},
};

/* Size of one file in records; -1 with err set when it is missing or not whole records. */
static long records_in(const char *path, int record, char err[GANC_ERR_LEN])
{
    struct stat st;
    if (stat(path, &st) != 0) return ganc_fail(err, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return ganc_fail(err, "%s: not a regular file", path);
    if (st.st_size == 0 || st.st_size % record)
        return ganc_fail(err, "%s: %lld bytes is not a whole number of %d-byte CIFAR records", path,
                         (long long)st.st_size, record);
    if (st.st_size / record > 1000000) return ganc_fail(err, "%s: more than 1,000,000 records", path);
    return (long)(st.st_size / record);
}

/* Appends a file's records: pixels to ds->pixels + at * PIXELS, fine labels to ds->labels. */
static int read_records(const char *path, const cifar_layout *L, long count, long at, ganc_dataset *ds,
                        char err[GANC_ERR_LEN])
{
    FILE *f = fopen(path, "rb");
    if (!f) return ganc_fail(err, "%s: %s", path, strerror(errno));
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        uint8_t label[2];
        if (fread(label, 1, (size_t)L->label_bytes, f) != (size_t)L->label_bytes ||
            fread(ds->pixels + (size_t)(at + i) * PIXELS, 1, PIXELS, f) != PIXELS)
            rc = ganc_fail(err, "%s: short read at record %ld", path, i);
        else if (label[L->label_bytes - 1] >= L->classes)
            rc = ganc_fail(err, "%s: record %ld has label %d; %s has %d classes", path, i, label[L->label_bytes - 1],
                           L->name, L->classes);
        else
            ds->labels[at + i] = label[L->label_bytes - 1];
    }
    fclose(f);
    return rc;
}

/* Class names from the names file, one a line (blank lines skipped); numbers when it is
 * missing. A file that is there must name exactly the set's classes. */
static int read_names(const char *dir, const cifar_layout *L, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    char path[1024], line[256];
    snprintf(path, sizeof path, "%s/%s", dir, L->names);
    FILE *f = fopen(path, "r");
    char **names = calloc((size_t)L->classes, sizeof *names);
    if (!names) {
        if (f) fclose(f);
        return ganc_fail(err, "%s: out of memory", path);
    }
    int k = 0, rc = 0;
    if (f) {
        while (rc == 0 && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0]) continue;
            if (k == L->classes)
                rc = ganc_fail(err, "%s: more than the %d class names of %s", path, L->classes, L->name);
            else if (!(names[k++] = strdup(line)))
                rc = ganc_fail(err, "%s: out of memory", path);
        }
        fclose(f);
        if (rc == 0 && k != L->classes)
            rc = ganc_fail(err, "%s: %d class names, %s has %d", path, k, L->name, L->classes);
    } else {
        for (k = 0; k < L->classes && rc == 0; k++) {
            snprintf(line, sizeof line, "%d", k);
            if (!(names[k] = strdup(line))) rc = ganc_fail(err, "%s: out of memory", path);
        }
    }
    ds->class_names = names; /* freed with the set, also on failure */
    return rc;
}

int ganc_dataset_load_cifar(const char *spec, int test, ganc_dataset *ds, char err[GANC_ERR_LEN])
{
    memset(ds, 0, sizeof *ds);
    const cifar_layout *L = NULL;
    const char *dir = NULL;
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0] && !L; i++) {
        const size_t len = strlen(layouts[i].name);
        if (!strncmp(spec, layouts[i].name, len) && spec[len] == ':') L = &layouts[i], dir = spec + len + 1;
    }
    if (!L) return ganc_fail(err, "--data %s: not cifar10:DIR or cifar100:DIR", spec);
    if (!*dir) return ganc_fail(err, "--data %s: which folder? (%s:DIR, DIR holding %s)", spec, L->name, L->test);
    if (strlen(dir) > 480) return ganc_fail(err, "--data %.100s...: path longer than 480 bytes", spec);

    const int record = L->label_bytes + PIXELS;
    const char *files[MAX_FILES];
    int nfiles = 0;
    if (test)
        files[nfiles++] = L->test;
    else
        for (int i = 0; i < MAX_FILES && L->train[i]; i++) files[nfiles++] = L->train[i];
    long counts[MAX_FILES], total = 0;
    char path[1024];
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if ((counts[i] = records_in(path, record, err)) < 0) return -1;
        total += counts[i];
    }
    ds->n = (int)total;
    ds->shape = (ganc_shape){3, SIDE, SIDE};
    ds->pixels = malloc((size_t)total * PIXELS);
    ds->labels = malloc((size_t)total);
    ds->n_classes = L->classes;
    if (!ds->pixels || !ds->labels) {
        ganc_dataset_free(ds);
        return ganc_fail(err, "%s: out of memory for %ld images", dir, total);
    }
    long at = 0;
    for (int i = 0; i < nfiles; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        if (read_records(path, L, counts[i], at, ds, err)) {
            ganc_dataset_free(ds);
            return -1;
        }
        at += counts[i];
    }
    if (read_names(dir, L, ds, err)) {
        ganc_dataset_free(ds);
        return -1;
    }
    snprintf(ds->images_path, sizeof ds->images_path, "%s:%s%s", L->name, dir, test ? " (test)" : "");
    snprintf(ds->labels_path, sizeof ds->labels_path, "%s", ds->images_path);
    return 0;
}
