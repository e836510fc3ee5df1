/* ganc sample --interp and --walk: frames along paths through G's noise space (gan/interp.h),
 * written as a PNG strip and an animated GIF. sample.c parses the flags into a cli_latent;
 * this part judges their combination and draws the frames. */
#ifndef GANC_CLI_SAMPLE_INTERP_H
#define GANC_CLI_SAMPLE_INTERP_H

#include "gan/session.h"

/* Keypoints of a walk: few enough that each gets many frames, enough that the loop is not a
 * back-and-forth (sample's --help and the README say 4). */
enum { CLI_WALK_KEYS = 4 };
/* A walk's frame: 16 samples unless -n says otherwise, and at most a 32 x 32 grid (every
 * frame's grid is held in the GIF being built, in memory). */
enum { CLI_WALK_SAMPLES = 16, CLI_WALK_MAX_SAMPLES = 1024 };

typedef struct {
    /* the flags as parsed (sample.c) */
    const char *interp;      /* --interp "A,B", or NULL */
    const char *interp_class; /* --interp-class "A,B" (class numbers or names), or NULL */
    int walk;                /* --walk's frame count; 0: no walk */
    int steps, have_steps;   /* --steps */
    int n, have_n;           /* -n */
    int have_seed, by_code;  /* --seed given, --by-code */
    double reject;           /* --reject as given; < 0: not given */
    const char *out, *gif;   /* -o, --gif */
    /* resolved by cli_latent_check */
    int on;                  /* --interp, --interp-class or --walk asked for */
    uint64_t seed_a, seed_b; /* --interp's seeds */
    const char *png_path, *gif_path; /* what to write; NULL: not that */
} cli_latent;

/* Judges the flags above: with neither --interp nor --walk, refuses --steps and --gif (and
 * sets on = 0: plain sampling goes on); otherwise parses --interp's seeds, refuses flags that
 * do not fit (-n and --seed with --interp, --by-code, a positive --reject, --steps with
 * --walk), picks the outputs from -o and --gif, and refuses a GIF in a build without giflib.
 * 0, or -1 with one line "sample: ..." in err. Reads no file. */
int cli_latent_check(cli_latent *l, char err[GANC_ERR_LEN]);

/* The class a conditional run's --class (flag) text names: a number or one of its class names;
 * 0, or -1 with one line "sample: FLAG TEXT: ..." in err. */
int cli_parse_class(const ganc_session *s, const char *flag, const char *text, int *out, char err[GANC_ERR_LEN]);

/* Draws the frames from s's generator and writes them. seed: --walk's keypoints (the run's
 * seed when --seed is not given, as for plain sampling). The session's rejection sampling is
 * not used (the caller turns it off). Prints one line to stderr on success. --interp-class
 * holds the noise of `ganc sample --seed S -n 1` and blends G's class vectors from A's to B's
 * (the first frame is `ganc sample --class A --seed S -n 1`, the last --class B's). */
int cli_latent_run(ganc_session *s, const cli_latent *l, uint64_t seed, char err[GANC_ERR_LEN]);

#endif
