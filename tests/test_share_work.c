/* Networks sharing one scratch block (ganc_net_share_work, as a game's G and D do): the
 * layers' per-thread blocks, the block their threads share (Winograd's packed U) and the
 * backward's gradient buffers. The reference is a twin of the network with a block of its
 * own: run with another network's forward and backward between its forward and its
 * backward, the sharing network must give the twin's output, input gradient and parameter
 * gradients bit for bit. The other network is built after it and needs more scratch, so the
 * block it was built with is replaced before it runs. */
#include "check.h"
#include "nets.h"
#include "ganc.h"
#include "ganc_internal.h"

#include <stdlib.h>
#include <string.h>

/* several layers, so the backward passes gradients through both buffers; Winograd's 4x4
 * stride-2 layers with spectral norm and batch norm between */
static const char *const NET_TEXT = "conv 32 k=4 stride=2 pad=1\n"
                                    "lrelu\n"
                                    "conv 32 k=4 stride=2 pad=1 sn\n"
                                    "batchnorm\n"
                                    "deconv 16 k=4 stride=2 pad=1\n"
                                    "relu\n"
                                    "conv 8 k=3 pad=same\n";
static const char *const OTHER_TEXT = "conv 64 k=4 stride=2 pad=1\n"
                                      "relu\n"
                                      "deconv 64 k=4 stride=2 pad=1\n";
static const ganc_shape NET_IN = {16, 12, 12}, OTHER_IN = {64, 16, 16};
enum { BATCH = 9 };

typedef struct {
    float *y, *dx, *grads;
} pass_out;

/* forward, then `between` (when not NULL) forward and backward, then the backward */
static void run(ganc_net *net, ganc_net *between, const float *x, const float *dy, const float *ox, const float *ody,
                pass_out *o)
{
    const size_t out = ganc_shape_size(ganc_net_output_shape(net)) * BATCH;
    ganc_net_zero_grad(net);
    memcpy(o->y, ganc_net_forward(net, x, BATCH), sizeof(float) * out);
    if (between) {
        ganc_net_forward(between, ox, BATCH);
        ganc_net_backward(between, ody, NULL, 1);
    }
    ganc_net_backward(net, dy, o->dx, 1);
    memcpy(o->grads, ganc_net_grads(net), sizeof(float) * ganc_net_param_count(net));
}

static ganc_net *make(const char *name, ganc_shape in, const char *text, ganc_net *share_with)
{
    ganc_net *net = ganc_net_create(name, in);
    char err[GANC_ERR_LEN] = "";
    if (share_with) ganc_net_share_work(net, share_with);
    const int ok = ganc_net_add_text(net, text, name, 1, err) == 0 && ganc_net_build(net, BATCH, err) == 0;
    CHECK(ok, "network %s: %s", name, err);
    if (!ok) {
        ganc_net_free(net);
        return NULL;
    }
    ganc_rng rng;
    ganc_rng_seed(&rng, 5);
    ganc_net_init(net, GANC_INIT_TORCH, &rng);
    return net;
}

static void test_shared(int threads)
{
    ganc_set_threads(threads);
    ganc_net *a = make("a", NET_IN, NET_TEXT, NULL), *twin = make("twin", NET_IN, NET_TEXT, NULL);
    ganc_net *other = a ? make("other", OTHER_IN, OTHER_TEXT, a) : NULL;
    if (!a || !twin || !other) goto done;
    const size_t n_in = ganc_shape_size(NET_IN) * BATCH, n_out = ganc_shape_size(ganc_net_output_shape(a)) * BATCH;
    const size_t o_in = ganc_shape_size(OTHER_IN) * BATCH, o_out = ganc_shape_size(ganc_net_output_shape(other)) * BATCH;
    const size_t n_par = ganc_net_param_count(a);
    float *x = check_floats(n_in), *dy = check_floats(n_out), *ox = check_floats(o_in), *ody = check_floats(o_out);
    ganc_rng rng;
    ganc_rng_seed(&rng, 11);
    ganc_rng_normal(&rng, x, n_in, 0.0f, 1.0f);
    ganc_rng_normal(&rng, dy, n_out, 0.0f, 1.0f);
    ganc_rng_normal(&rng, ox, o_in, 0.0f, 1.0f);
    ganc_rng_normal(&rng, ody, o_out, 0.0f, 1.0f);
    pass_out ra = {check_floats(n_out), check_floats(n_in), check_floats(n_par)};
    pass_out rt = {check_floats(n_out), check_floats(n_in), check_floats(n_par)};
    for (int step = 0; step < 2; step++) { /* the second after the other network has left its values */
        run(a, other, x, dy, ox, ody, &ra);
        run(twin, NULL, x, dy, ox, ody, &rt);
        CHECK(!memcmp(ra.y, rt.y, sizeof(float) * n_out), "%d threads, step %d: the output differs from the twin's",
              threads, step);
        CHECK(!memcmp(ra.dx, rt.dx, sizeof(float) * n_in),
              "%d threads, step %d: the input gradient differs from the twin's", threads, step);
        CHECK(!memcmp(ra.grads, rt.grads, sizeof(float) * n_par),
              "%d threads, step %d: the parameter gradients differ from the twin's", threads, step);
    }
    free(x), free(dy), free(ox), free(ody);
    free(ra.y), free(ra.dx), free(ra.grads), free(rt.y), free(rt.dx), free(rt.grads);
done:
    /* the block outlives the network that made it */
    ganc_net_free(a);
    ganc_net_free(twin);
    if (other) {
        float *ox = check_floats(ganc_shape_size(OTHER_IN) * BATCH);
        ganc_net_forward(other, ox, BATCH);
        free(ox);
    }
    ganc_net_free(other);
}

int main(void)
{
    ganc_conv_winograd(2); /* every 4x4 stride-2 layer, however narrow */
    test_shared(1);
    test_shared(2);
    return check_finish("share_work");
}
