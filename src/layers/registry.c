/* The registry of layer types: one definition per type, each in its own layer file, listed in
 * GANC_LAYER_LIST's order (include/ganc.h), so that ganc_layers[GANC_LAYER_X] is the
 * definition of GANC_LAYER_X by construction. The parser, the network and the error messages
 * that name the types all read this array; nothing else lists the layer types. */
#include "ganc_internal.h"

#include <stdio.h>
#include <string.h>

#define DECLARE_DEF(constant, name) extern const ganc_layer_def ganc_##name##_def;
GANC_LAYER_LIST(DECLARE_DEF)
#undef DECLARE_DEF

#define DEF_ENTRY(constant, name) &ganc_##name##_def,
const ganc_layer_def *const ganc_layers[GANC_LAYER_COUNT] = {GANC_LAYER_LIST(DEF_ENTRY)};
#undef DEF_ENTRY

const ganc_layer_def *ganc_layer_def_of(ganc_layer_type t)
{
    return (t >= 0 && t < GANC_LAYER_COUNT) ? ganc_layers[t] : NULL;
}

const char *ganc_layer_type_name(ganc_layer_type t)
{
    const ganc_layer_def *def = ganc_layer_def_of(t);
    return def ? def->name : "?";
}

void ganc_layer_names(char *buf, size_t len, int weighted_only, const char *last_sep)
{
    int count = 0, listed = 0;
    for (int t = 0; t < GANC_LAYER_COUNT; t++) count += !weighted_only || ganc_layers[t]->weighted;
    size_t used = 0;
    buf[0] = 0;
    for (int t = 0; t < GANC_LAYER_COUNT && used < len; t++) {
        if (weighted_only && !ganc_layers[t]->weighted) continue;
        const char *sep = listed == 0 ? "" : listed == count - 1 ? last_sep : ", ";
        const int wrote = snprintf(buf + used, len - used, "%s%s", sep, ganc_layers[t]->name);
        used += wrote > 0 ? (size_t)wrote : 0;
        listed++;
    }
}
