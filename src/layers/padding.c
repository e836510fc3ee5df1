/* Output size and padding of one spatial dimension for convolutions and transposed
 * convolutions, with TensorFlow's "same"/"valid" rules and PyTorch's explicit padding.
 *
 * conv:   out = (in + before + after - k) / s + 1
 * deconv: the full output (in - 1) * s + k is cropped by `before` at the start and `after`
 *         at the end; a negative `after` appends positions that only receive the bias. */
#include "ganc_internal.h"

#include <string.h>

/* pad=same, pad=valid or pad=P (conv and deconv lines). */
int ganc_parse_pad(ganc_layer_spec *sp, const char *value, char err[GANC_ERR_LEN])
{
    if (!strcmp(value, "same")) sp->pad_mode = GANC_PAD_SAME;
    else if (!strcmp(value, "valid")) sp->pad_mode = GANC_PAD_VALID;
    else {
        sp->pad_mode = GANC_PAD_EXPLICIT;
        return ganc_parse_int(value, 0, GANC_MAX_KERNEL, "pad (an integer, same or valid)", &sp->pad, err);
    }
    return 0;
}

/* Far above the model-file limit (GANC_MAX_KERNEL), and low enough that k * k and a side padded
 * on both ends fit an int. */
#define MAX_WINDOW_ARG 32768

int ganc_window_sizes_fit(const ganc_layer *L, char err[GANC_ERR_LEN])
{
    const ganc_layer_spec *sp = &L->spec;
    if (sp->k > MAX_WINDOW_ARG || sp->stride > MAX_WINDOW_ARG || sp->pad > MAX_WINDOW_ARG ||
        sp->outpad > MAX_WINDOW_ARG)
        return ganc_fail(err, "%s layer is too large (k, stride, pad and outpad are at most %d)", L->def->name,
                         MAX_WINDOW_ARG);
    return 0;
}

int ganc_resolve_padding(const ganc_layer_spec *sp, int transposed, int in, int *out, int *before, int *after)
{
    const int k = sp->k, s = sp->stride;
    if (!transposed) {
        int total;
        switch (sp->pad_mode) {
        case GANC_PAD_SAME:
            *out = (in + s - 1) / s;
            total = (*out - 1) * s + k - in;
            if (total < 0) total = 0;
            *before = total / 2;
            *after = total - *before;
            return 0;
        case GANC_PAD_VALID:
            if (in < k) return -1;
            *out = (in - k) / s + 1;
            *before = *after = 0;
            return 0;
        default:
            if (in + 2 * sp->pad < k) return -1;
            *out = (in + 2 * sp->pad - k) / s + 1;
            *before = *after = sp->pad;
            return 0;
        }
    }
    const int full = (in - 1) * s + k;
    switch (sp->pad_mode) {
    case GANC_PAD_SAME:
        *out = in * s;
        *before = full > *out ? (full - *out) / 2 : 0;
        break;
    case GANC_PAD_VALID:
        *out = in * s + (k > s ? k - s : 0);
        *before = 0;
        break;
    default:
        *out = full - 2 * sp->pad + sp->outpad;
        *before = sp->pad;
        break;
    }
    *after = full - *out - *before;
    return *out > 0 ? 0 : -1;
}
