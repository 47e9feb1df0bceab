/*
 * kernels.c — plain-C reference kernels (the oracle for the *_simd.c files) and
 * the scalar fallback on targets without WASM SIMD128.
 *
 * These are written for clarity, not speed; every fast kernel is tested
 * against them on random shapes, odd tails included.
 */
#include "kernels.h"
#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>

/* ==== Linear ==== */

void sw_linear_forward_ref(const sw_linear *l, const float *x, int32_t m, float *y) {
    /* reference: https://pytorch.org/docs/stable/generated/torch.nn.Linear.html */
    for (int32_t i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * l->in;
        float *yi = y + (size_t)i * l->out;
        for (int32_t o = 0; o < l->out; o++) {
            const float *wo = l->w + (size_t)o * l->in;
            float acc = 0.0f;
            for (int32_t k = 0; k < l->in; k++) acc += xi[k] * wo[k];
            yi[o] = acc + (l->b ? l->b[o] : 0.0f);
        }
        sw_activate_ref(yi, (size_t)l->out, l->act);
    }
}

/* ==== row-wise ops ==== */

void sw_add_layernorm_ref(float *y, const float *x, const float *r,
                          const float *g, const float *b,
                          int32_t rows, int32_t n, float eps) {
    /* reference: https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
     * Sums in double: the reference should be closer to exact than any fast
     * version, so differences point at the fast one. */
    for (int32_t i = 0; i < rows; i++) {
        const float *xi = x + (size_t)i * n;
        const float *ri = r ? r + (size_t)i * n : NULL;
        float *yi = y + (size_t)i * n;
        double sum = 0.0;
        for (int32_t j = 0; j < n; j++) {
            float v = xi[j] + (ri ? ri[j] : 0.0f);
            yi[j] = v;
            sum += v;
        }
        double mean = sum / n, var = 0.0;
        for (int32_t j = 0; j < n; j++) {
            double d = yi[j] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float)(1.0 / sqrt(var + eps));
        float meanf = (float)mean;
        for (int32_t j = 0; j < n; j++) yi[j] = (yi[j] - meanf) * inv * g[j] + b[j];
    }
}

static float activate_one(float v, int32_t act) {
    switch (act) {
    case SW_ACT_GELU:      return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case SW_ACT_GELU_TANH: return 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    case SW_ACT_RELU:      return v > 0.0f ? v : 0.0f;
    case SW_ACT_TANH:      return tanhf(v);
    case SW_ACT_SIGMOID:   return 1.0f / (1.0f + expf(-v));
    default:               return v;
    }
}

void sw_activate_ref(float *x, size_t n, int32_t act) {
    if (act == SW_ACT_IDENTITY) return;
    for (size_t i = 0; i < n; i++) x[i] = activate_one(x[i], act);
}

void sw_activate_rows(float *y, size_t ldy, int32_t rows, int32_t c0, int32_t c1, int32_t act) {
    if (act == SW_ACT_IDENTITY || c1 <= c0) return;
    for (int32_t r = 0; r < rows; r++) sw_activate(y + (size_t)r * ldy + c0, (size_t)(c1 - c0), act);
}

/* ==== attention ==== */

void sw_attention_head_ref(float *out, const float *q, const float *k,
                           const float *v, int32_t n, int32_t d, int32_t ld,
                           float scale, float *scratch) {
    /* softmax(q k^T * scale) v for one head; no mask: sequences are packed,
     * so every position a token sees is a real token. */
    for (int32_t i = 0; i < n; i++) {
        const float *qi = q + (size_t)i * ld;
        float mx = -INFINITY;
        for (int32_t j = 0; j < n; j++) {
            scratch[j] = sw_dot_ref(qi, k + (size_t)j * ld, d) * scale;
            if (scratch[j] > mx) mx = scratch[j];
        }
        float sum = 0.0f;
        for (int32_t j = 0; j < n; j++) {
            scratch[j] = expf(scratch[j] - mx);
            sum += scratch[j];
        }
        float inv = 1.0f / sum;
        float *oi = out + (size_t)i * ld;
        for (int32_t c = 0; c < d; c++) oi[c] = 0.0f;
        for (int32_t j = 0; j < n; j++) {
            float p = scratch[j] * inv;
            const float *vj = v + (size_t)j * ld;
            for (int32_t c = 0; c < d; c++) oi[c] += p * vj[c];
        }
    }
}

/* ==== small vector ops ==== */

float sw_dot_ref(const float *a, const float *b, int32_t n) {
    float acc = 0.0f;
    for (int32_t i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

/* ==== fallback: the unsuffixed names are the references ====
 * (arch-fallback.h in ggml does the same: without a native version, the
 * generic one takes the public name.) */
#ifndef __wasm_simd128__
int  sw_linear_pack(sw_linear *l) { l->packed = NULL; return 0; }
void sw_linear_unpack(sw_linear *l) { free(l->packed); l->packed = NULL; }
void sw_linear_forward(const sw_linear *l, const float *x, int32_t m, float *y) {
    if (l->q8) { sw_linear_forward_q8(l, x, m, y); return; } /* dtype int8: kernels_int8.c */
    sw_linear_forward_ref(l, x, m, y);
}
void sw_linear_forward_many(const sw_linear *const *ls, int32_t n, const float *x, int32_t m, float *const *ys) {
    for (int32_t i = 0; i < n; i++) sw_linear_forward(ls[i], x, m, ys[i]);
}
void sw_linear_forward_seqs(const sw_linear *const *ls, int32_t n, const float *x, int32_t n_seq,
                            const int32_t *seq_lens, float *const *ys) {
    int32_t m = 0;
    for (int32_t s = 0; s < n_seq; s++) m += seq_lens[s];
    sw_linear_forward_many(ls, n, x, m, ys);
}
void sw_add_layernorm(float *y, const float *x, const float *r, const float *g,
                      const float *b, int32_t rows, int32_t n, float eps) {
    sw_add_layernorm_ref(y, x, r, g, b, rows, n, eps);
}
void sw_activate(float *x, size_t n, int32_t act) { sw_activate_ref(x, n, act); }
void sw_attention_head(float *out, const float *q, const float *k, const float *v,
                       int32_t n, int32_t d, int32_t ld, float scale, float *scratch) {
    sw_attention_head_ref(out, q, k, v, n, d, ld, scale, scratch);
}
float sw_dot(const float *a, const float *b, int32_t n) { return sw_dot_ref(a, b, n); }
size_t sw_attention_scratch(int32_t n, int32_t d) { (void)d; return n > 0 ? (size_t)n : 1; }
#endif
