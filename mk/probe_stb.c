#include <stb/stb_image_write.h>
int main(void) { unsigned char p[3] = {0}; return !stbi_write_png_to_func(0, 0, 1, 1, 3, p, 3); }
