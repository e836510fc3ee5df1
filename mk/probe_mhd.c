#include <microhttpd.h>
#if MHD_VERSION < 0x00097100
#error "libmicrohttpd 0.9.71 or newer is needed (enum MHD_Result)"
#endif
int main(void) { return MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_NO && !MHD_get_version(); }
