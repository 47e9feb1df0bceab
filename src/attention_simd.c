/*
 * attention_simd.c — WASM SIMD128 version of sw_attention_head (kernels.h): one
 * head of one packed sequence, softmax(Q K^T * scale) V. Q K^T and P V run
 * on a 4 x 8 tile of the GEMM micro-kernel (gemm_simd.h), 8 query rows at a
 * time, scores transposed; short sequences go row by row.
 *
 * Compiled only with __wasm_simd128__ (elsewhere kernels.c gives the name to
 * the reference); tested against sw_attention_head_ref by
 * tests/c/test_kernels.c (make test-wasm-kernels).
 */
#include "kernels.h"
#include "threads.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int sw_attention_simd_unused;

#ifdef __wasm_simd128__

#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "gemm_simd.h"
#include "simd_math.h"

/* ==== attention ==== */

/* The four sums of a0..a3 in one vector: [sum a0, sum a1, sum a2, sum a3]. */
static inline v128_t hsum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
    v128_t s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5),
                                wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
    v128_t s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5),
                                wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5),
                          wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

/* o[c .. c+4*NVEC) = sum_j p[j] v[j][c ..], NVEC accumulators in registers. */
#define PV_CHUNK(NVEC)                                                         \
    static void pv_chunk##NVEC(float *o, const float *p, const float *v,       \
                               int32_t n, size_t ld) {                         \
        v128_t acc[NVEC];                                                      \
        for (int t = 0; t < NVEC; t++) acc[t] = splat(0.0f);                   \
        for (int32_t j = 0; j < n; j++) {                                      \
            const v128_t pj = wasm_v128_load32_splat(p + j);                   \
            const float *vj = v + (size_t)j * ld;                              \
            for (int t = 0; t < NVEC; t++)                                     \
                acc[t] = madd(pj, wasm_v128_load(vj + 4 * t), acc[t]);         \
        }                                                                      \
        for (int t = 0; t < NVEC; t++) wasm_v128_store(o + 4 * t, acc[t]);     \
    }
PV_CHUNK(8)
PV_CHUNK(4)
PV_CHUNK(1)

/* p[0..n) = softmax(p * scale), in place. */
static void softmax_row(float *p, int32_t n, float scale) {
    const v128_t vs = splat(scale);
    v128_t vmax = splat(-INFINITY);
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        v128_t t = wasm_f32x4_mul(wasm_v128_load(p + j), vs);
        wasm_v128_store(p + j, t);
        vmax = wasm_f32x4_pmax(vmax, t);
    }
    float mx = hmax(vmax);
    for (; j < n; j++) {
        p[j] *= scale;
        if (p[j] > mx) mx = p[j];
    }
    const v128_t vm = splat(mx);
    v128_t vsum = splat(0.0f);
    for (j = 0; j + 4 <= n; j += 4) {
        v128_t e = v_exp_nonpos(wasm_f32x4_sub(wasm_v128_load(p + j), vm));
        wasm_v128_store(p + j, e);
        vsum = wasm_f32x4_add(vsum, e);
    }
    float sum = hsum(vsum);
    for (; j < n; j++) {
        p[j] = expf(p[j] - mx);
        sum += p[j];
    }
    const float inv = 1.0f / sum;
    const v128_t vi = splat(inv);
    for (j = 0; j + 4 <= n; j += 4) wasm_v128_store(p + j, wasm_f32x4_mul(wasm_v128_load(p + j), vi));
    for (; j < n; j++) p[j] *= inv;
}

/* One query row at a time, with only the caller's n-float scratch:
 * scores four keys at a time (SIMD over d, reduced with hsum4), softmax,
 * then p.V SIMD over d in chunks of 32/16/4 columns. The path for short
 * sequences. */
static void attention_rows(float *out, const float *q, const float *k, const float *v,
                           int32_t n, int32_t d, size_t ld, float scale, float *p) {
    const int32_t d4 = d & ~3;
    for (int32_t i = 0; i < n; i++) {
        const float *qi = q + (size_t)i * ld;
        int32_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const float *k0 = k + (size_t)j * ld, *k1 = k0 + ld, *k2 = k1 + ld, *k3 = k2 + ld;
            v128_t a0 = splat(0.0f), a1 = splat(0.0f), a2 = splat(0.0f), a3 = splat(0.0f);
            for (int32_t c = 0; c < d4; c += 4) {
                v128_t qv = wasm_v128_load(qi + c);
                a0 = madd(qv, wasm_v128_load(k0 + c), a0);
                a1 = madd(qv, wasm_v128_load(k1 + c), a1);
                a2 = madd(qv, wasm_v128_load(k2 + c), a2);
                a3 = madd(qv, wasm_v128_load(k3 + c), a3);
            }
            v128_t sc = hsum4(a0, a1, a2, a3);
            if (d4 < d) {
                float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f;
                for (int32_t c = d4; c < d; c++) {
                    t0 += qi[c] * k0[c]; t1 += qi[c] * k1[c];
                    t2 += qi[c] * k2[c]; t3 += qi[c] * k3[c];
                }
                sc = wasm_f32x4_add(sc, wasm_f32x4_make(t0, t1, t2, t3));
            }
            wasm_v128_store(p + j, sc);
        }
        for (; j < n; j++) p[j] = sw_dot(qi, k + (size_t)j * ld, d);
        softmax_row(p, n, scale);
        float *oi = out + (size_t)i * ld;
        int32_t c = 0;
        for (; c + 32 <= d; c += 32) pv_chunk8(oi + c, p, v + c, n, ld);
        for (; c + 16 <= d; c += 16) pv_chunk4(oi + c, p, v + c, n, ld);
        for (; c + 4 <= d; c += 4) pv_chunk1(oi + c, p, v + c, n, ld);
        for (; c < d; c++) {
            float acc = 0.0f;
            for (j = 0; j < n; j++) acc += p[j] * v[(size_t)j * ld + c];
            oi[c] = acc;
        }
    }
}

/* Eight query rows at a time, both products on the GEMM micro-kernel
 * (att_tile: 4 x 8 in both builds), with
 * the scores kept transposed: P^T, one key per 8 floats (a lane per query).
 *   S^T[n x 8] = K Q_block^T   K packed as the "x" (4 keys per tile),
 *                              Q_block scaled and packed as the "W" panel
 *   P^T        = exp(S^T - max), the max and sum per lane, i.e. per query
 *                (v_exp_nonpos: every argument is <= 0)
 *   O^T[d x 8] = V^T P^T       V packed as the "x" (4 columns per tile),
 *                              P^T is already the layout of a "W" panel
 *   O          = O^T / sum, transposed on the way out
 * Because every query is a lane, the softmax is vertical (no horizontal max
 * or sum), P^T needs no repacking for the second product, and normalising
 * is one multiply per output vector instead of a pass over P. In the plain
 * build the two products run near the GEMM's speed (mul + add bound); the
 * exps are most of the rest. K and V are packed once per call (2 n d copies against
 * 4 n^2 d flops) into the caller's workspace `ws` of blocked_floats(n, d)
 * floats: no malloc, so heads can run on helper threads (threads.h). */
#define BLOCKED_MIN_N 16
#define QB 8   /* query rows per block: the columns of attention's tile */
#define AMR 4  /* keys (first product), V columns (second) per tile       */

/* Attention's tile: AMR rows x QB columns, whatever the Linear product's
 * tile is (gemm_simd.h), as the packing below is laid out for it. */
#if MR == AMR && NR == QB
#define att_tile(a, w, kc, y, ldy, rows) sw_gemm_tile(a, w, kc, y, ldy, rows, NULL, 0)
#else
GEMM_TILE_FN(att_tile_1, 1, AMR, QB / 4)
GEMM_TILE_FN(att_tile_2, 2, AMR, QB / 4)
GEMM_TILE_FN(att_tile_3, 3, AMR, QB / 4)
GEMM_TILE_FN(att_tile_4, 4, AMR, QB / 4)
static void att_tile(const float *a, const float *w, int32_t kc, float *y, size_t ldy, int32_t rows) {
    switch (rows) {
    case 1:  att_tile_1(a, w, kc, y, ldy, NULL, 0); break;
    case 2:  att_tile_2(a, w, kc, y, ldy, NULL, 0); break;
    case 3:  att_tile_3(a, w, kc, y, ldy, NULL, 0); break;
    default: att_tile_4(a, w, kc, y, ldy, NULL, 0); break;
    }
}
#endif

static size_t blocked_floats(int32_t n, int32_t d) {
    const size_t nk = ((size_t)n + AMR - 1) / AMR * AMR, dv = ((size_t)d + AMR - 1) / AMR * AMR;
    return nk * (size_t)d + dv * (size_t)n + (size_t)QB * d + (size_t)QB * n;
}

/* a[k*astride + r] = x[r][k] * scale for rows r < `rows`, 0 for rows up to
 * 4; k < kc (x of row stride ldx). 4x4 transposes where a whole 4 x 4 block
 * is valid. */
static void pack_rows4(float *a, size_t astride, const float *x, size_t ldx,
                       int32_t rows, int32_t kc, float scale) {
    const v128_t vs = splat(scale);
    int32_t k = 0;
    if (rows == 4) {
        const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
        for (; k + 4 <= kc; k += 4) {
            v128_t c[4];
            sw_transpose4(wasm_v128_load(x0 + k), wasm_v128_load(x1 + k),
                       wasm_v128_load(x2 + k), wasm_v128_load(x3 + k), c);
            for (int j = 0; j < 4; j++) wasm_v128_store(a + (k + j) * astride, wasm_f32x4_mul(c[j], vs));
        }
    }
    for (; k < kc; k++)
        for (int32_t r = 0; r < 4; r++)
            a[k * astride + r] = r < rows ? x[(size_t)r * ldx + k] * scale : 0.0f;
}

static void attention_blocked(float *out, const float *q, const float *k, const float *v,
                              int32_t n, int32_t d, size_t ld, float scale, float *ws) {
    const int32_t nkg = (n + AMR - 1) / AMR, ndg = (d + AMR - 1) / AMR;
    float *kp = ws, *vp = kp + (size_t)nkg * AMR * d, *qp = vp + (size_t)ndg * AMR * n, *st = qp + (size_t)QB * d;
    /* kp[(g*d + c)*4 + r] = K[4g + r][c], zero past n */
    for (int32_t g = 0; g < nkg; g++)
        pack_rows4(kp + (size_t)g * AMR * d, AMR, k + (size_t)g * AMR * ld, ld,
                   n - g * AMR < AMR ? n - g * AMR : AMR, d, 1.0f);
    /* vp[(g*n + j)*4 + cc] = V[j][4g + cc], zero past d */
    for (int32_t g = 0; g < ndg; g++) {
        const int32_t cols = d - g * AMR < AMR ? d - g * AMR : AMR;
        float *dst = vp + (size_t)g * n * AMR;
        const float *src = v + (size_t)g * AMR;
        if (cols == AMR)
            for (int32_t j = 0; j < n; j++) wasm_v128_store(dst + j * AMR, wasm_v128_load(src + (size_t)j * ld));
        else
            for (int32_t j = 0; j < n; j++)
                for (int32_t cc = 0; cc < AMR; cc++) dst[j * AMR + cc] = cc < cols ? src[(size_t)j * ld + cc] : 0.0f;
    }
    for (int32_t i0 = 0; i0 < n; i0 += QB) {
        const int32_t rows = n - i0 < QB ? n - i0 : QB;
        /* qp[c*8 + r] = Q[i0 + r][c] * scale: the scale costs d multiplies
         * per row here instead of n on the scores; rows past n are zero */
        pack_rows4(qp, QB, q + (size_t)i0 * ld, ld, rows < 4 ? rows : 4, d, scale);
        pack_rows4(qp + 4, QB, rows > 4 ? q + (size_t)(i0 + 4) * ld : q, ld, rows > 4 ? rows - 4 : 0, d, scale);
        /* st[j*8 + r] = score of query i0 + r against key j */
        for (int32_t g = 0; g < nkg; g++)
            att_tile(kp + (size_t)g * AMR * d, qp, d, st + (size_t)g * AMR * QB, QB,
                     n - g * AMR < AMR ? n - g * AMR : AMR);
        v128_t m0 = splat(-INFINITY), m1 = splat(-INFINITY);
        for (int32_t j = 0; j < n; j++) {
            m0 = wasm_f32x4_pmax(m0, wasm_v128_load(st + j * QB));
            m1 = wasm_f32x4_pmax(m1, wasm_v128_load(st + j * QB + 4));
        }
        v128_t s0 = splat(0.0f), s1 = splat(0.0f);
        for (int32_t j = 0; j < n; j++) {
            const v128_t e0 = v_exp_nonpos(wasm_f32x4_sub(wasm_v128_load(st + j * QB), m0));
            const v128_t e1 = v_exp_nonpos(wasm_f32x4_sub(wasm_v128_load(st + j * QB + 4), m1));
            wasm_v128_store(st + j * QB, e0);
            wasm_v128_store(st + j * QB + 4, e1);
            s0 = wasm_f32x4_add(s0, e0);
            s1 = wasm_f32x4_add(s1, e1);
        }
        const v128_t inv[2] = {wasm_f32x4_div(splat(1.0f), s0), wasm_f32x4_div(splat(1.0f), s1)};
        for (int32_t g = 0; g < ndg; g++) {
            /* t[cc*8 + r] = sum_j V[j][4g + cc] P[i0 + r][j] */
            float t[AMR * QB] __attribute__((aligned(16)));
            const int32_t cols = d - g * AMR < AMR ? d - g * AMR : AMR;
            att_tile(vp + (size_t)g * n * AMR, st, n, t, QB, AMR);
            for (int h = 0; h < 2; h++) {
                /* the 4 x 4 block of queries 4h..4h+3, normalised, transposed */
                v128_t o[4];
                sw_transpose4(wasm_f32x4_mul(wasm_v128_load(t + 0 * QB + 4 * h), inv[h]),
                           wasm_f32x4_mul(wasm_v128_load(t + 1 * QB + 4 * h), inv[h]),
                           wasm_f32x4_mul(wasm_v128_load(t + 2 * QB + 4 * h), inv[h]),
                           wasm_f32x4_mul(wasm_v128_load(t + 3 * QB + 4 * h), inv[h]), o);
                for (int32_t r = 0; r < 4 && 4 * h + r < rows; r++) {
                    float *dst = out + (size_t)(i0 + 4 * h + r) * ld + (size_t)g * AMR;
                    if (cols == AMR) wasm_v128_store(dst, o[r]);
                    else {
                        float tmp[4] __attribute__((aligned(16)));
                        wasm_v128_store(tmp, o[r]);
                        memcpy(dst, tmp, sizeof(float) * cols);
                    }
                }
            }
        }
    }
}

size_t sw_attention_scratch(int32_t n, int32_t d) {
    if (n <= 0 || d <= 0) return 1;
    return n >= BLOCKED_MIN_N ? blocked_floats(n, d) : (size_t)n;
}

void sw_attention_head(float *out, const float *q, const float *k,
                       const float *v, int32_t n, int32_t d, int32_t ld,
                       float scale, float *scratch) {
    /* softmax(q k^T * scale) v; no mask (packed sequences). */
    if (n <= 0 || d <= 0) return;
    if (n >= BLOCKED_MIN_N) attention_blocked(out, q, k, v, n, d, (size_t)ld, scale, scratch);
    else attention_rows(out, q, k, v, n, d, (size_t)ld, scale, scratch);
}

#endif /* __wasm_simd128__ */
