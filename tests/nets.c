#include "nets.h"
#include "check.h"

#include <stdio.h>

ganc_net *test_make_net(const char *name, ganc_shape in, const char *text, int max_batch)
{
    char err[GANC_ERR_LEN] = "";
    ganc_net *net = ganc_net_create(name, in);
    if (!CHECK(ganc_net_add_text(net, text, name, 1, err) == 0, "%s: add_text failed: %s", name, err) ||
        !CHECK(ganc_net_build(net, max_batch, err) == 0, "%s: build failed: %s", name, err)) {
        ganc_net_free(net);
        return NULL;
    }
    return net;
}

ganc_net *test_dense_net(const char *name, int in, int out, int max_batch)
{
    char text[32];
    snprintf(text, sizeof text, "dense %d\n", out);
    return test_make_net(name, (ganc_shape){in, 1, 1}, text, max_batch);
}
