/*
 * kernels.h — the arithmetic the encoder is made of. Internal to the engine.
 *
 * Every kernel has a plain-C reference, `sw_<op>_ref` in kernels.c: the
 * oracle the tests compare against and the fallback on any target. The fast
 * versions live in kernels_simd.c (WASM SIMD128, behind __wasm_simd128__);
 * the unsuffixed name `sw_<op>` is what the encoder calls, and resolves to
 * the SIMD version where one exists, else to the reference.
 *
 * Layouts: row-major. A Linear layer stores W as torch does, [out x in].
 */
#ifndef SW_KERNELS_H
#define SW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* ==== Linear layer: y = x W^T + b ==== */

/* A Linear layer as the kernels see it. `w` [out x in] and `b` [out] (or
 * NULL) are the torch layout; `packed` is whatever layout the fast GEMM
 * prefers, made once by sw_linear_pack() (NULL until then, and on targets
 * that do not need it). */
typedef struct sw_linear {
    int32_t in, out;
    float  *w;       /* [out x in], owned by the model                */
    float  *b;       /* [out] or NULL                                 */
    float  *packed;  /* kernel-private layout of w, or NULL           */
} sw_linear;

/* Prepares l->packed for sw_linear_forward (allocates it with malloc).
 * Returns 0, or -1 if memory runs out. Safe to call on the reference path
 * (it may do nothing). */
int  sw_linear_pack(sw_linear *l);
/* Frees l->packed. */
void sw_linear_unpack(sw_linear *l);

/* y[m x out] = x[m x in] W^T + b. y must not alias x. */
void sw_linear_forward_ref(const sw_linear *l, const float *x, int32_t m, float *y);
void sw_linear_forward(const sw_linear *l, const float *x, int32_t m, float *y);

/* ==== row-wise ops ==== */

/* y = LayerNorm(x + r) with gain g and bias b over rows of width n:
 * y may alias x. r may be NULL (plain LayerNorm). Mean and variance are
 * computed in float, variance biased, as torch.nn.LayerNorm. */
void sw_add_layernorm_ref(float *y, const float *x, const float *r,
                          const float *g, const float *b,
                          int32_t rows, int32_t n, float eps);
void sw_add_layernorm(float *y, const float *x, const float *r,
                      const float *g, const float *b,
                      int32_t rows, int32_t n, float eps);

/* In-place activation over n floats (sw_act values of sentence_wasm.h). */
void sw_activate_ref(float *x, size_t n, int32_t act);
void sw_activate(float *x, size_t n, int32_t act);

/* ==== attention ==== */

/* One head of self-attention over one sequence of n tokens, head width d:
 * out[i] = sum_j softmax_j(q[i].k[j] * scale) v[j]. q, k, v, out are rows
 * of stride `ld` floats (the head's columns inside the packed Q, K, V
 * matrices). `scratch` holds sw_attention_scratch(n, d) floats (the fast
 * version packs K and V there; the kernel itself never allocates). */
void sw_attention_head_ref(float *out, const float *q, const float *k,
                           const float *v, int32_t n, int32_t d, int32_t ld,
                           float scale, float *scratch);
void sw_attention_head(float *out, const float *q, const float *k,
                       const float *v, int32_t n, int32_t d, int32_t ld,
                       float scale, float *scratch);
/* Floats of scratch sw_attention_head needs for n tokens of head width d
 * (at least n, the reference's need; at least 1). */
size_t sw_attention_scratch(int32_t n, int32_t d);

/* ==== small vector ops ==== */

float sw_dot_ref(const float *a, const float *b, int32_t n);
float sw_dot(const float *a, const float *b, int32_t n);

#endif /* SW_KERNELS_H */
