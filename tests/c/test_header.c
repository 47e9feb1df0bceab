/* The public header compiles as plain C99 on its own (-std=c99 -pedantic). */
#include "sentence_wasm.h"
int main(void) { return 0; }
