#include <gif_lib.h>
#if GIFLIB_MAJOR < 5
#error "giflib 5 or newer is needed (EGifOpen with an error code, graphics control blocks)"
#endif
int main(void) { GraphicsControlBlock g = {0}; GifByteType b[4]; return EGifGCBToExtension(&g, b) != 4 || !GifErrorString(0); }
