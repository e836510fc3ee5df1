/* Paths through G's noise space: interpolation between two noise vectors and a looping walk
 * through keypoints (ganc sample --interp, --walk). Pure functions of their arguments, so the
 * frames are a function of the seeds alone and the unit tests can check them against closed
 * forms.
 *
 * Why two kinds of interpolation: in d dimensions a draw of N(0, I) lies near the sphere of
 * radius sqrt(d), where G was trained; the straight line between two such draws dips inside
 * it (its midpoint has length about sqrt(d / 2) for independent draws), so its middle frames
 * show G what it never saw. The great circle (slerp) keeps the length. A uniform z fills the
 * cube [0, 1]^d and a mixture z is a sum of a mean and a normal offset: neither is spherical
 * about the origin, and the straight line stays inside the cube or among the means. */
#ifndef GANC_INTERP_H
#define GANC_INTERP_H

#include "gan/game.h"

/* a + t (b - a), component by component (t = 0 and 1 give a and b exactly). */
void ganc_lerp(const float *a, const float *b, int n, double t, float *out);

/* Spherical interpolation of n-vectors a and b at t in [0, 1]: the direction turns along the
 * great circle from a's to b's at a constant angular speed while the length goes linearly
 * from |a| to |b|. For vectors of equal length this is Shoemake's slerp,
 * (sin((1 - t) w) a + sin(t w) b) / sin w, w the angle between them; for unit vectors every
 * frame is a unit vector, and frames at evenly spaced t are evenly spaced in angle. t = 0 and
 * t = 1 give a and b exactly. Where the great circle is not defined or not needed -- a zero
 * vector, a and b parallel or antiparallel (sin w below 1e-6) -- it is ganc_lerp. */
void ganc_slerp(const float *a, const float *b, int n, double t, float *out);

/* How one frame's noise is made from two noise vectors of a game. */
typedef struct {
    int z_dim;     /* floats per vector: the game's latent vector (noise, code, a class) */
    int noise_dim; /* the components that move: the noise, without an InfoGAN code's K or a class */
    int spherical; /* 1: slerp (a normal z), 0: lerp (uniform or mixture) */
} ganc_interp;

/* The interpolation that suits gm's noise: slerp for a normal z (truncated or not), lerp for
 * uniform and mixture; only the noise moves: an InfoGAN code and a conditional game's class
 * (the rest of the latent vector, ganc_game_latent) are held. */
ganc_interp ganc_interp_for(const ganc_game *gm);
/* The noise of the frame at t in [0, 1] between z_a and z_b (z_dim each): the noise part
 * interpolated as ip says; an InfoGAN code (the last z_dim - noise_dim components) is z_a's,
 * held, never interpolated -- a one-hot code halfway between two codes is no code G was
 * trained on. A caller that moves something else (a class label) passes z_b = z_a. */
void ganc_interp_frame(const ganc_interp *ip, const float *z_a, const float *z_b, double t, float *z);

/* A looping walk through keypoints: frame f of `frames` for each of n samples. keys holds
 * n_keys sets of n noise vectors, set j at keys + j n z_dim (sample i's keypoints are vector i
 * of each set). Frame f lies at position p = f n_keys / frames along the loop key 0 -> key 1
 * -> ... -> key n_keys - 1 -> key 0: between key floor(p) and the next at t = p - floor(p),
 * by ganc_interp_frame. Frame 0 is key set 0 exactly, and the frame after the last would be
 * frame 0 again, so the frames loop without a jump. Every frame keeps key set 0's InfoGAN
 * codes. z: n z_dim floats. */
void ganc_walk_frame(const ganc_interp *ip, const float *keys, int n_keys, int n, int f, int frames, float *z);

#endif
