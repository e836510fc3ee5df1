/* Image folders as data sets: every picture found under a folder (recursively, recognised by
 * its content), decoded once, fitted to one shape and kept in a packed cache file that later
 * runs map instead of decoding again.
 *
 * - Formats: whatever stb_image decodes (PNG, JPEG, BMP, GIF's first frame, TGA, PPM/PGM, PSD,
 *   HDR, PIC); a file it does not recognise is ignored, unless its name ends in an image
 *   extension, when it is reported as broken. Names starting with '.' are skipped.
 * - Labels: the first level of sub-folders are the classes, in byte order of their names (as
 *   torchvision's ImageFolder); a picture deeper down belongs to its first-level folder. When
 *   some pictures sit directly in the folder, or there are more than 255 classes, the set is
 *   unlabelled (a note says why).
 * - Shape: the size asked for, else the pictures' own when they all agree (else an error asking
 *   for --size); 3 channels when any picture has colour, else 1, unless asked; transparency is
 *   composited onto the background (src/data/resize.h has the filters).
 * - Broken pictures (unreadable, truncated, undecodable, or declaring more than
 *   GANC_MAX_IMAGE_PIXELS in their header, refused before decoding) are skipped and listed in the
 *   report, or with strict stop the load.
 * - The cache: one file per folder and options under the cache directory, named by a hash of
 *   the options and of every picture's path, size and modification time; any change there
 *   makes a new one. It keeps the report too, so a load from it names the same broken
 *   pictures as the load that made it. */
#ifndef GANC_FOLDER_H
#define GANC_FOLDER_H

#include "data/data.h"
#include "data/resize.h"

/* The largest picture decoded, in pixels (width x height): 64 Mpx, e.g. 8192 x 8192, above
 * the photos of nearly every camera. It bounds the memory of one decode (about 0.5 GB with its
 * planes) before anything is allocated. */
#define GANC_MAX_IMAGE_PIXELS (64ll * 1024 * 1024)

typedef struct {
    int height, width;         /* 0, 0: the pictures' own size */
    ganc_fit_mode fit;         /* aspect ratios that differ from the size's: crop or pad */
    int channels;              /* 1 or 3; 0: 3 when any picture has colour */
    uint8_t background[3];     /* under transparency, and the padding */
    int strict;                /* a broken picture stops the load */
    const char *cache_dir;     /* NULL: ganc_folder_cache_dir() */
    /* Called now and then while decoding (done of total pictures); may be NULL. */
    void (*progress)(void *ctx, int done, int total);
    void *progress_ctx;
} ganc_folder_options;

typedef struct {
    int images;                /* pictures in the set */
    int ignored;               /* files that are not pictures */
    int broken;                /* pictures skipped */
    char **broken_names;       /* "PATH: why", broken of them */
    int from_cache;            /* 1 when the cache file was reused */
    char cache_path[1024];     /* "" when none could be written (then the set is in memory) */
    char note[512];            /* why the set is unlabelled, or "" */
} ganc_folder_report;

void ganc_folder_options_default(ganc_folder_options *o);
/* $GANC_CACHE_DIR, else $XDG_CACHE_HOME/ganc, else $HOME/.cache/ganc, else .ganc-cache. */
void ganc_folder_cache_dir(char *out, size_t cap);

/* Loads DIR as a data set (pixels mapped from the cache file when there is one). */
int ganc_dataset_load_folder(const char *dir, const ganc_folder_options *o, ganc_dataset *ds,
                             ganc_folder_report *report, char err[GANC_ERR_LEN]);
void ganc_folder_report_free(ganc_folder_report *r);

/* The cache file (src/data/image_cache.c): the set's bytes, and the report of the load that
 * decoded them (its broken pictures with why, files ignored, note; r may be NULL: none), behind
 * a header that is checked against the file's size before anything is trusted. key is the hash
 * the file is named by. */
int ganc_image_cache_write(const char *path, uint64_t key, const ganc_dataset *ds, const ganc_folder_report *r,
                           char err[GANC_ERR_LEN]);
/* Maps the file; fails (without a message worth showing) when it is not a cache of key. When r
 * is not NULL, its broken, broken_names, ignored and note become the file's (the rest of r is
 * left alone; free it with ganc_folder_report_free). */
int ganc_image_cache_read(const char *path, uint64_t key, ganc_dataset *ds, ganc_folder_report *r,
                          char err[GANC_ERR_LEN]);

#endif
