/* The picture header reader on any bytes: it must stay inside them and report sizes >= 0. */
#include "data/image_header.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ganc_image_info info;
    if (ganc_image_header(data, size, &info) && (!info.format || info.width < 0 || info.height < 0)) abort();
    return 0;
}
