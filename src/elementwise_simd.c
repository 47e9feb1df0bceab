/*
 * elementwise_simd.c — WASM SIMD128 versions of the row-wise kernels of kernels.h:
 * the activations, residual add + LayerNorm, and the dot product.
 *
 * Compiled only with __wasm_simd128__ (elsewhere kernels.c gives these names
 * to the references); each is tested against its `_ref` twin by
 * tests/c/test_kernels.c (make test-wasm-kernels). The two builds (plain,
 * relaxed SIMD) and their rounding: linear_simd.c, at the top.
 *
 * Contents:
 *   activations   GELU (erfc), GELU (tanh), ReLU, tanh, sigmoid
 *   LayerNorm     residual add + LayerNorm
 *   dot
 */
#include "kernels.h"
#include "threads.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int sw_elementwise_simd_unused;

#ifdef __wasm_simd128__

#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "simd_math.h"

/* ==== vector math: tanh, sigmoid on f32x4 (v_exp: simd_math.h) ==== */

/* tanh(x): x + x^3 P(x^2) for |x| < 0.625 (P of degree 4), else
 * 1 - 2 / (e^(2|x|) + 1) with the sign restored. */
static inline v128_t v_tanh(v128_t x) {
    const v128_t sign = wasm_v128_and(x, splat(-0.0f));
    const v128_t ax = wasm_f32x4_abs(x);
    const v128_t s = wasm_f32x4_mul(x, x);
    const v128_t s2 = wasm_f32x4_mul(s, s);
    const v128_t s2c = wasm_f32x4_pmax(s2, splat(1e-18f));
    const v128_t s4 = wasm_f32x4_mul(s2c, s2c);   /* never subnormal */
    v128_t p = madd(s2, lin(-0.05385090957851358f, 0.020997178999074752f, s),
                    lin(-0.33333328944134255f, 0.13332769736976327f, s));
    p = madd(s4, splat(-0.006096714165908197f), p);
    v128_t small = madd(wasm_f32x4_mul(x, s), p, x);
    v128_t e = v_exp(wasm_f32x4_add(ax, ax));
    v128_t large = wasm_f32x4_sub(splat(1.0f), wasm_f32x4_div(splat(2.0f), wasm_f32x4_add(e, splat(1.0f))));
    large = wasm_v128_or(large, sign);
    return wasm_v128_bitselect(small, large, wasm_f32x4_lt(ax, splat(0.625f)));
}

/* 1 / (1 + e^-x) */
static inline v128_t v_sigmoid(v128_t x) {
    return wasm_f32x4_div(splat(1.0f), wasm_f32x4_add(splat(1.0f), v_exp(wasm_f32x4_neg(x))));
}

/* ==== activations ==== */

/* Exact GELU, as the reference: 0.5 x (1 + erf(x / sqrt 2)), computed as
 * x Phi(x), Phi(x) = 1 - h for x >= 0 and h for x < 0, h = erfc(a) / 2,
 * a = |x| / sqrt 2: one approximation for every lane (erf in two ranges
 * cost both branches per vector), and no cancellation in 1 + erf for x < 0.
 *     erfc(a) = t e^(P(u) - a^2),   t = 1 / (1 + 0.4 a),   u = 1 - t = 0.4 a t,
 * P(u) = u Q(u), Q of degree 8 fitted for this file (mpmath.chebyfit of
 * P(u) / u on u in [0, 1 - 1/3.4], i.e. a <= 6; max error in P 3.3e-8;
 * in u rather than t, so that P has no cancellation near a = 0). Past a = 6
 * (x < -8.48, |GELU| < 1e-16) u is held at 1 - 1/3.4, which keeps erfc
 * within a factor 1.4 of exact while e^(-a^2) takes it to 0. The exp
 * argument is <= 0 (to P's error at u = 0) and held >= -80, so v_exp_nonpos
 * serves; e below 1e-30 is flushed to 0 so that no product goes subnormal
 * (x86 assists). Checked against double-precision GELU over every float of
 * [-8.48, 8.48], evaluated as below:
 *   max abs error 3.8e-7 (0.8 ulp of GELU(4.89)), max rel error 2.5e-7 for
 *   x >= 0; for x < 0 the rel error grows with the rounding of a^2 to
 *   7.9e-6 at x = -8.47, where GELU = -1e-16.
 * (The erf version this replaced: max abs error 4.5e-7, rel 1.3e-7 for x >= 0,
 * and 0 instead of GELU for x < -5.5, as the reference's float 1 + erff.)
 * Relaxed-SIMD build, fused (node 20, x86-64 with FMA3): the same maxima
 * (3.8e-7, 2.5e-7; 7.8e-6 at x = -8.47). +-inf, NaN, -0 and +-3e38 give
 * what the reference gives.
 * The two halves around the exp, gelu_arg (returns the exp argument and
 * sets *t) and gelu_finish (takes e = e^argument), are also act_gelu's
 * passes. */
static inline v128_t gelu_arg(v128_t x, v128_t *t) {
    const v128_t a = wasm_f32x4_mul(wasm_f32x4_abs(x), splat(0.70710678118654752f));
    const v128_t b = wasm_f32x4_mul(a, splat(0.4f));
    *t = wasm_f32x4_div(splat(1.0f), wasm_f32x4_add(b, splat(1.0f)));
    /* u = 1 - t, formed without cancellation */
    const v128_t u = wasm_f32x4_pmin(wasm_f32x4_mul(b, *t), splat(0.70588235294117647f));
    v128_t q = madd(splat(-0.20001304074011799f), u, splat(0.4496907940920212f));
    q = madd(q, u, splat(-0.16462679035697359f));
    q = madd(q, u, splat(-0.15883684476198673f));
    q = madd(q, u, splat(-0.16679240900715452f));
    q = madd(q, u, splat(0.17236419127920478f));
    q = madd(q, u, splat(0.44882309217469912f));
    q = madd(q, u, splat(-0.049821959243387651f));
    q = madd(q, u, splat(-1.8209479154701681f));
    /* P(u) - a^2, P(u) = u Q(u) */
    return wasm_f32x4_pmax(madd(q, u, wasm_f32x4_neg(wasm_f32x4_mul(a, a))), splat(-80.0f));
}

static inline v128_t gelu_finish(v128_t x, v128_t t, v128_t e) {
    e = wasm_v128_and(e, wasm_f32x4_ge(e, splat(1e-30f)));
    const v128_t h = wasm_f32x4_mul(wasm_f32x4_mul(t, e), splat(0.5f));
    const v128_t phi = wasm_v128_bitselect(h, wasm_f32x4_sub(splat(1.0f), h), wasm_f32x4_lt(x, splat(0.0f)));
    return wasm_f32x4_mul(x, phi);
}

static inline v128_t v_gelu(v128_t x) {
    v128_t t;
    const v128_t arg = gelu_arg(x, &t);
    return gelu_finish(x, t, v_exp_nonpos(arg));
}

/* Tanh GELU, 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), in the
 * equivalent form x / (1 + e^(-2u)), which has no cancellation for x < 0. */
static inline v128_t v_gelu_tanh(v128_t x) {
    v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(x, x), x);
    v128_t u = wasm_f32x4_mul(splat(0.79788456080286536f), madd(splat(0.044715f), x3, x));
    v128_t e = v_exp(wasm_f32x4_mul(u, splat(-2.0f)));
    return wasm_f32x4_div(x, wasm_f32x4_add(splat(1.0f), e));
}

static inline v128_t v_relu(v128_t x) { return wasm_f32x4_pmax(splat(0.0f), x); } /* 0 < x ? x : 0 */

/* One loop per function, so the choice is made once per call and the
 * function's constants stay in registers; the tail runs the same vector
 * code on a zero-padded copy. */
#define ACT_LOOP(NAME, F)                                                      \
    static void NAME(float *x, size_t n) {                                     \
        size_t i = 0;                                                          \
        for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, F(wasm_v128_load(x + i))); \
        if (i < n) {                                                           \
            float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};                             \
            memcpy(t, x + i, sizeof(float) * (n - i));                         \
            wasm_v128_store(t, F(wasm_v128_load(t)));                          \
            memcpy(x + i, t, sizeof(float) * (n - i));                         \
        }                                                                      \
    }
ACT_LOOP(act_gelu_tail, v_gelu)

/* GELU in three passes over blocks of GELU_BLOCK floats (on the stack):
 * the exp argument, the exp, the rest. One v_gelu is a single dependency
 * chain of ~200 cycles (a division, two Horner polynomials) in ~90
 * instructions; looping over it, the CPU's reorder window holds barely two
 * at once and the loop runs near the chain's latency (measured: 7.7 ns per
 * float, against 5.0 in passes). Each pass alone is short enough for
 * several vectors to be in flight. */
#define GELU_BLOCK 64

/* The three passes over xb[0, len), len a multiple of 4, <= GELU_BLOCK. */
static inline void gelu_passes(float *xb, int len) {
    float ea[GELU_BLOCK] __attribute__((aligned(16)));
    float ta[GELU_BLOCK] __attribute__((aligned(16)));
    for (int j = 0; j < len; j += 4) {
        v128_t t;
        wasm_v128_store(ea + j, gelu_arg(wasm_v128_load(xb + j), &t));
        wasm_v128_store(ta + j, t);
    }
    for (int j = 0; j < len; j += 4) wasm_v128_store(ea + j, v_exp_nonpos(wasm_v128_load(ea + j)));
    for (int j = 0; j < len; j += 4)
        wasm_v128_store(xb + j, gelu_finish(wasm_v128_load(xb + j), wasm_v128_load(ta + j),
                                            wasm_v128_load(ea + j)));
}

/* Whole blocks, then the rest's whole vectors in passes too (a Linear
 * layer's column block is seldom a multiple of GELU_BLOCK wide: 312 floats
 * would leave 56 to the slow chain), then the last 1..3 floats. Every
 * float gets the same operations either way (v_gelu is the passes fused). */
static void act_gelu(float *x, size_t n) {
    size_t i = 0;
    for (; i + GELU_BLOCK <= n; i += GELU_BLOCK) gelu_passes(x + i, GELU_BLOCK);
    const int rest = (int)((n - i) & ~(size_t)3);
    if (rest > 0) gelu_passes(x + i, rest);
    act_gelu_tail(x + i + rest, n - i - rest);
}
ACT_LOOP(act_gelu_tanh, v_gelu_tanh)
ACT_LOOP(act_relu, v_relu)
ACT_LOOP(act_tanh, v_tanh)
ACT_LOOP(act_sigmoid, v_sigmoid)

void sw_activate(float *x, size_t n, int32_t act) {
    switch (act) {
    case SW_ACT_GELU:      act_gelu(x, n); break;
    case SW_ACT_GELU_TANH: act_gelu_tanh(x, n); break;
    case SW_ACT_RELU:      act_relu(x, n); break;
    case SW_ACT_TANH:      act_tanh(x, n); break;
    case SW_ACT_SIGMOID:   act_sigmoid(x, n); break;
    default:               break;   /* identity, as the reference */
    }
}

/* ==== LayerNorm ==== */

void sw_add_layernorm(float *y, const float *x, const float *r,
                      const float *g, const float *b,
                      int32_t rows, int32_t n, float eps) {
    /* reference: https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
     * Three passes over the row (sum, squared deviations, normalise), sums in
     * two f32x4 accumulators each; y may alias x (same index read, then
     * written). */
    const int32_t n4 = n & ~3;
    for (int32_t i = 0; i < rows; i++) {
        const float *xi = x + (size_t)i * n;
        const float *ri = r ? r + (size_t)i * n : NULL;
        float *yi = y + (size_t)i * n;
        v128_t s0 = splat(0.0f), s1 = splat(0.0f);
        int32_t j = 0;
        if (ri) {
            for (; j + 8 <= n; j += 8) {
                v128_t v0 = wasm_f32x4_add(wasm_v128_load(xi + j), wasm_v128_load(ri + j));
                v128_t v1 = wasm_f32x4_add(wasm_v128_load(xi + j + 4), wasm_v128_load(ri + j + 4));
                wasm_v128_store(yi + j, v0); wasm_v128_store(yi + j + 4, v1);
                s0 = wasm_f32x4_add(s0, v0); s1 = wasm_f32x4_add(s1, v1);
            }
            for (; j < n4; j += 4) {
                v128_t v0 = wasm_f32x4_add(wasm_v128_load(xi + j), wasm_v128_load(ri + j));
                wasm_v128_store(yi + j, v0);
                s0 = wasm_f32x4_add(s0, v0);
            }
        } else {
            for (; j + 8 <= n; j += 8) {
                v128_t v0 = wasm_v128_load(xi + j), v1 = wasm_v128_load(xi + j + 4);
                wasm_v128_store(yi + j, v0); wasm_v128_store(yi + j + 4, v1);
                s0 = wasm_f32x4_add(s0, v0); s1 = wasm_f32x4_add(s1, v1);
            }
            for (; j < n4; j += 4) {
                v128_t v0 = wasm_v128_load(xi + j);
                wasm_v128_store(yi + j, v0);
                s0 = wasm_f32x4_add(s0, v0);
            }
        }
        float sum = hsum(wasm_f32x4_add(s0, s1));
        for (; j < n; j++) {
            float v = xi[j] + (ri ? ri[j] : 0.0f);
            yi[j] = v;
            sum += v;
        }
        const float mean = sum / (float)n;
        const v128_t vm = splat(mean);
        s0 = s1 = splat(0.0f);
        for (j = 0; j + 8 <= n; j += 8) {
            v128_t d0 = wasm_f32x4_sub(wasm_v128_load(yi + j), vm);
            v128_t d1 = wasm_f32x4_sub(wasm_v128_load(yi + j + 4), vm);
            s0 = madd(d0, d0, s0); s1 = madd(d1, d1, s1);
        }
        for (; j < n4; j += 4) {
            v128_t d0 = wasm_f32x4_sub(wasm_v128_load(yi + j), vm);
            s0 = madd(d0, d0, s0);
        }
        float var = hsum(wasm_f32x4_add(s0, s1));
        for (; j < n; j++) var += (yi[j] - mean) * (yi[j] - mean);
        var /= (float)n;
        const float inv = 1.0f / sqrtf(var + eps);
        const v128_t vi = splat(inv);
        for (j = 0; j < n4; j += 4) {
            v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(yi + j), vm), vi);
            wasm_v128_store(yi + j, madd(v, wasm_v128_load(g + j), wasm_v128_load(b + j)));
        }
        for (; j < n; j++) yi[j] = (yi[j] - mean) * inv * g[j] + b[j];
    }
}

/* ==== dot ==== */

float sw_dot(const float *a, const float *b, int32_t n) {
    v128_t s0 = splat(0.0f), s1 = splat(0.0f), s2 = splat(0.0f), s3 = splat(0.0f);
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = madd(wasm_v128_load(a + i), wasm_v128_load(b + i), s0);
        s1 = madd(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4), s1);
        s2 = madd(wasm_v128_load(a + i + 8), wasm_v128_load(b + i + 8), s2);
        s3 = madd(wasm_v128_load(a + i + 12), wasm_v128_load(b + i + 12), s3);
    }
    for (; i + 4 <= n; i += 4) s0 = madd(wasm_v128_load(a + i), wasm_v128_load(b + i), s0);
    float acc = hsum(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    for (; i < n; i++) acc += a[i] * b[i];
    return acc;
}

#endif /* __wasm_simd128__ */
