/*
 * kernels.h — the arithmetic the encoder is made of. Internal to the engine.
 *
 * Every kernel has a plain-C reference, `sw_<op>_ref` in kernels.c: the
 * oracle the tests compare against and the fallback on any target. The fast
 * versions live in the *_simd.c files and kernels_int8.c (WASM SIMD128,
 * behind __wasm_simd128__; linear_simd.c lists them);
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
 * that do not need it). `q8` / `q8_scale` are the int8 form made by
 * sw_linear_quantize() (kernels_int8.c); when set, sw_linear_forward runs
 * the integer GEMM on them and never reads w or packed. `act` (an sw_act of
 * sentence_wasm.h; 0 = identity) is applied to y after the bias, by the
 * GEMM as each part of y is finished: a BertIntermediate's GELU then runs
 * on the threads of the product, on outputs still in cache. */
typedef struct sw_linear {
    int32_t in, out;
    float  *w;       /* [out x in], owned by the model                */
    float  *b;       /* [out] or NULL                                 */
    float  *packed;  /* kernel-private layout of w, or NULL           */
    void   *q8;      /* kernel-private layout of the int8 weights, or NULL */
    float  *q8_scale;/* per output row: w[o][k] ~ q[o][k] * q8_scale[o]    */
    int32_t act;     /* activation of y (SW_ACT_*), 0 for none              */
} sw_linear;

/* Prepares l->packed for sw_linear_forward (allocates it with malloc).
 * Returns 0, or -1 if memory runs out. Safe to call on the reference path
 * (it may do nothing). */
int  sw_linear_pack(sw_linear *l);
/* Frees l->packed. */
void sw_linear_unpack(sw_linear *l);

/* y[m x out] = act(x[m x in] W^T + b). y must not alias x. */
void sw_linear_forward_ref(const sw_linear *l, const float *x, int32_t m, float *y);
void sw_linear_forward(const sw_linear *l, const float *x, int32_t m, float *y);
/* ys[i] = ls[i]->act(x ls[i]->W^T + b) for i < n, with the same results as n calls of
 * sw_linear_forward; on helper threads the n products are one job (one
 * hand-over, one wait). n <= SW_LINEAR_MANY_MAX, or the calls are made one
 * by one. */
#define SW_LINEAR_MANY_MAX 3
void sw_linear_forward_many(const sw_linear *const *ls, int32_t n, const float *x, int32_t m, float *const *ys);
/* sw_linear_forward_many on the rows of n_seq sequences stored one after
 * another (seq_lens[s] rows each). The SIMD build runs long sequences with
 * one level of Strassen's scheme (linear_paired.c: 7/8 of the
 * multiply-adds; results within rounding of the plain product's). Each
 * row's result depends only on its own sequence's rows, never on the other
 * sequences or the thread count (unless its scratch, a quarter of the
 * largest layer, cannot be allocated: then every row runs the plain
 * product). */
void sw_linear_forward_seqs(const sw_linear *const *ls, int32_t n, const float *x, int32_t n_seq,
                            const int32_t *seq_lens, float *const *ys);

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
/* sw_activate on columns [c0, c1) of `rows` rows of y (row stride ldy): the
 * part of a product's output that a GEMM task has just finished. */
void sw_activate_rows(float *y, size_t ldy, int32_t rows, int32_t c0, int32_t c1, int32_t act);

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

/* ==== int8 Linear (kernels_int8.c) ====
 *
 * Weights quantized once, symmetric per output row: s_w[o] = max_k |w[o][k]| / 127,
 * q_w[o][k] = round(w[o][k] / s_w[o]) in [-127, 127]. Activations quantized per
 * call, symmetric per row (token): s_x[i] = max_k |x[i][k]| / 127, likewise.
 * Then, with acc an exact int32 sum,
 *     y[i][o] = (float)acc[i][o] * (s_x[i] * s_w[o]) + b[o],
 *     acc[i][o] = sum_k q_x[i][k] * q_w[o][k].
 * |acc| <= in * 127 * 127, so `in` <= SW_Q8_MAX_IN keeps every partial sum
 * inside int32 (sw_linear_quantize refuses a wider layer).
 * Rounding is to nearest, ties to even (rintf, f32x4.nearest), done as
 * v * (127 / max) in float, so the SIMD and scalar versions agree bit for bit.
 * A row of x holding an inf or NaN gives NaN in every output of that row.
 */
#define SW_Q8_MAX_IN 133143 /* floor((2^31 - 1) / (127 * 127)) */

/* Quantizes l->w into l->q8 / l->q8_scale (malloc; l->w is left alone).
 * Returns 0; -1 if memory runs out; -2 if a weight is inf or NaN; -3 if
 * in > SW_Q8_MAX_IN or a size is negative. A layer with in == 0 or out == 0
 * is left unquantized (returns 0 with q8 NULL). */
int    sw_linear_quantize(sw_linear *l);
/* Frees l->q8 and l->q8_scale. */
void   sw_linear_unquantize(sw_linear *l);
/* Bytes held by l->q8 and l->q8_scale (0 when not quantized). */
size_t sw_linear_q8_bytes(const sw_linear *l);
/* y[m x out] = x[m x in] W^T + b on the int8 weights; l->q8 must be set. */
void   sw_linear_forward_q8(const sw_linear *l, const float *x, int32_t m, float *y);

/* The scalar reference. One row: q[n] and *scale as described above. */
void sw_q8_quantize_row_ref(const float *x, int32_t n, int8_t *q, float *scale);
/* The whole layer from int8 weights wq [out x in] (row-major) and their
 * scales ws [out]: activations quantized row by row, int32 sums, the
 * epilogue above. Allocates nothing. */
void sw_q8_linear_ref(const int8_t *wq, const float *ws, const float *b, int32_t in, int32_t out,
                      const float *x, int32_t m, float *y);

/* ==== int8 attention (kernels_int8.c) ====
 *
 * sw_attention_head's contract (same arguments, same scratch use), for
 * models loaded with dtype int8: the two products on integers. Q and K are
 * quantized per row and V per column to 12 bits (|q| <= 2047), so a score's
 * int32 sum is exact for d <= SW_QA_MAX_D; the softmax output P, in [0, 1],
 * is quantized to 15 bits with one multiplier 32767 / sum(exp), so
 * sum_j P_q[j] stays near 32767 and P_q . v_q fits int32 for any n. Heads
 * wider than SW_QA_MAX_D, inputs holding an inf or NaN, and scores that
 * could overflow a float run sw_attention_head (the _ref: sw_attention_head_ref)
 * instead. The SIMD version matches the reference bit for bit. */
#define SW_QA_MAX_D 512 /* floor((2^31 - 1) / 2047^2) */
void sw_attention_head_q8_ref(float *out, const float *q, const float *k,
                              const float *v, int32_t n, int32_t d, int32_t ld,
                              float scale, float *scratch);
void sw_attention_head_q8(float *out, const float *q, const float *k,
                          const float *v, int32_t n, int32_t d, int32_t ld,
                          float scale, float *scratch);
/* Floats of scratch either needs (at least sw_attention_scratch(n, d)). */
size_t sw_attention_q8_scratch(int32_t n, int32_t d);

#endif /* SW_KERNELS_H */
