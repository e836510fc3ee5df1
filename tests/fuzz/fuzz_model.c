#include "fuzz_common.h"
#include "gan/model.h"

#include <string.h>

/* Model text: sections, [train] options, layer lines, variables, and the G/D checks. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[GANC_ERR_LEN];
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    ganc_model m;
    if (ganc_model_from_text(text, "fuzz.gan", &m, err) == 0) {
        ganc_config cfg;
        ganc_config_defaults(&cfg);
        if (ganc_model_apply_train(&m, &cfg, err) == 0 && cfg.z_dim <= 256) {
            ganc_net *g, *d;
            float lo, hi;
            /* small sizes for speed: batch 2, no packing, at most 64 codes, 3 classes */
            cfg.pack = 1;
            cfg.batch = 2;
            if (cfg.info_codes > 64) cfg.info_codes = 0;
            if (cfg.cond_dim > 64) cfg.cond_dim = 0;
            cfg.classes = 3;
            if (ganc_model_build(&m, &cfg, (ganc_shape){1, 8, 8}, 0, &g, &d, &lo, &hi, err) == 0) {
                ganc_net_free(g);
                ganc_net_free(d);
            } else if (!strstr(err, "fuzz.gan")) {
                abort();
            }
        }
        ganc_model_free(&m);
    }
    free(text);
    return 0;
}
