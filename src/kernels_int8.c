/*
 * kernels_int8.c — Linear layers on int8 weights with dynamically quantized
 * int8 activations (load option dtype: 'int8'); the scheme is described in
 * kernels.h, "int8 Linear".
 *
 * Contents:
 *   scalar        quantization of a row, the reference GEMM, and the whole
 *                 int8 path on targets without SIMD128 (weights row-major)
 *   SIMD128       weights in int16 panels; activations quantized once per
 *                 call into pair-interleaved row groups; a 4 x 8 register
 *                 tile on i32x4.dot_i16x8_s (8 multiply-adds per instruction)
 *
 * Tested by tests/c/test_kernels.c: the SIMD version against the reference,
 * bit for bit (the sums are exact integers and the float steps are the same
 * operations in the same order).
 */
#include "kernels.h"
#include "threads.h"
#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ==== scalar: quantization ==== */

/* round(v) to nearest even, clamped to [-127, 127]; NaN -> 0 (converting a
 * NaN or out-of-range float to int is undefined in C). The SIMD code
 * (q8_quantize8) rounds by adding 1.5 * 2^23, which gives the same value for
 * every v it is used on (rows that are finite, where |v| < 127.5). */
static inline int32_t q8_round(float v) {
    float r = rintf(v);
    if (r > 127.0f) r = 127.0f;
    if (r < -127.0f) r = -127.0f;
    return r == r ? (int32_t)r : 0;
}

/* max |x[k]| of a row; NaN if the row has one (a NaN is never skipped). */
static float q8_absmax(const float *x, int32_t n) {
    float mx = 0.0f;
    for (int32_t k = 0; k < n; k++) {
        float a = fabsf(x[k]);
        if (a != a || a > mx) mx = a;
        if (mx != mx) break;
    }
    return mx;
}

/* The multiplier taking a row to [-127, 127] and the scale taking it back.
 * max 0: everything quantizes to 0 and the scale is 0 (y = b). max inf or
 * NaN: multiplier 0 and scale inf/NaN, so the row's outputs are NaN. */
static inline void q8_row_factors(float mx, float *inv, float *scale) {
    *inv = (mx > 0.0f && mx <= 3.4028234663852886e38f) ? 127.0f / mx : 0.0f;
    *scale = mx / 127.0f;
}

void sw_q8_quantize_row_ref(const float *x, int32_t n, int8_t *q, float *scale) {
    float inv;
    q8_row_factors(q8_absmax(x, n), &inv, scale);
    for (int32_t k = 0; k < n; k++) q[k] = (int8_t)q8_round(x[k] * inv);
}

/* ==== scalar: reference GEMM ==== */

void sw_q8_linear_ref(const int8_t *wq, const float *ws, const float *b, int32_t in, int32_t out,
                      const float *x, int32_t m, float *y) {
    for (int32_t i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * in;
        float inv, sx;
        q8_row_factors(q8_absmax(xi, in), &inv, &sx);
        for (int32_t o = 0; o < out; o++) {
            const int8_t *wo = wq + (size_t)o * in;
            int32_t acc = 0; /* |acc| <= in * 127 * 127 < 2^31 for in <= SW_Q8_MAX_IN */
            for (int32_t k = 0; k < in; k++) acc += q8_round(xi[k] * inv) * (int32_t)wo[k];
            /* one rounding per step, in this order, as the SIMD epilogue */
            const float s = sx * ws[o];
            const float v = (float)acc * s;
            y[(size_t)i * out + o] = b ? v + b[o] : v;
        }
    }
}

/* Checks shared by both builds: sizes, K bound, finite weights. */
static int q8_check(const sw_linear *l) {
    if (l->in < 0 || l->out < 0 || l->in > SW_Q8_MAX_IN) return -3;
    const size_t n = (size_t)l->in * (size_t)l->out;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(l->w[i]) <= 3.4028234663852886e38f)) return -2; /* inf or NaN */
    return 0;
}

void sw_linear_unquantize(sw_linear *l) {
    free(l->q8);
    free(l->q8_scale);
    l->q8 = NULL;
    l->q8_scale = NULL;
}

#ifndef __wasm_simd128__

/* ==== no SIMD128: int8 weights row-major, the reference does the work ==== */

int sw_linear_quantize(sw_linear *l) {
    sw_linear_unquantize(l);
    int rc = q8_check(l);
    if (rc != 0) return rc;
    if (l->in == 0 || l->out == 0) return 0;
    int8_t *q = malloc((size_t)l->in * (size_t)l->out);
    float *s = malloc(sizeof(float) * (size_t)l->out);
    if (!q || !s) { free(q); free(s); return -1; }
    for (int32_t o = 0; o < l->out; o++)
        sw_q8_quantize_row_ref(l->w + (size_t)o * l->in, l->in, q + (size_t)o * l->in, s + o);
    l->q8 = q;
    l->q8_scale = s;
    return 0;
}

size_t sw_linear_q8_bytes(const sw_linear *l) {
    return l->q8 ? (size_t)l->in * (size_t)l->out + sizeof(float) * (size_t)l->out : 0;
}

void sw_linear_forward_q8(const sw_linear *l, const float *x, int32_t m, float *y) {
    sw_q8_linear_ref((const int8_t *)l->q8, l->q8_scale, l->b, l->in, l->out, x, m, y);
}

#else /* __wasm_simd128__ */

#include <wasm_simd128.h>

/* ==== SIMD128: layout ====
 *
 * i32x4.dot_i16x8_s(a, b) gives, per i32 lane j, a[2j] b[2j] + a[2j+1] b[2j+1]:
 * two steps of K in one lane. So K is taken in pairs (kp = k / 2, zero-padded
 * to an even length), and one lane is one output column:
 *
 *   weights, panels of QNR = 8 columns, pair-major:
 *     w16[((p * KP + kp) * QNR + c) * 2 + j] = q_w[p*QNR + c][2 kp + j]
 *   so a step reads 8 columns x 2 k = two v128 (columns 0-3, 4-7);
 *   activations, per row group of QMR = 4 rows and K block:
 *     a[(kp * QMR + r) * 2 + j] = q_x[r][2 kp + j]
 *   so a step broadcasts one i32 (the row's pair) per row, v128.load32_splat.
 *
 * The tile: acc[r][c] += dot(splat(a[kp][r]), w[kp][4c .. 4c+3]), 4 rows x 2
 * vectors = 8 i32x4 accumulators, + 2 weight vectors + 4 broadcasts = 14 of
 * the 15 xmm registers V8 allocates (the fp32 GEMM's tile, kernels_simd.c,
 * for the same reason); each dot is 8 multiply-adds where f32x4 mul+add does
 * 4, and on x86 pmaddwd + paddd issue on more ports than mulps + addps.
 *
 * The weights are held as int16 (values in [-127, 127]) rather than int8:
 * int8 would save a byte per weight but cost a widening (pmovsxbw, and two
 * instructions for the high half) per step in the inner loop, which is
 * bound by instruction issue: 22 instructions a step would become 24.
 *
 * Blocking as the fp32 GEMM: a block of panels (~256 KB of weights, kept in
 * L2) is swept by every row group; K is cut into blocks of at most QKC pairs
 * so the part of a row group's activations a tile reads (QMR x QKC pairs,
 * 4 KB) stays in L1 next to the panel's (8 KB). int32 partial sums of a row
 * group live in a stack buffer across K blocks, so the sums stay exact.
 */

#define QMR 4                       /* rows per tile                         */
#define QNV 2                       /* i32x4 column vectors per tile         */
#define QNR (4 * QNV)               /* columns per panel                     */
#define QKC 256                     /* max K pairs per block                 */
#define QPB_MAX 64                  /* max panels per block (stack buffer)   */
#define QW_BLOCK_BYTES (256 * 1024) /* target L2 footprint of a panel block  */

static inline size_t q8_kp(int32_t in) { return ((size_t)in + 1) / 2; }
static inline size_t q8_np(int32_t out) { return ((size_t)out + QNR - 1) / QNR; }

int sw_linear_quantize(sw_linear *l) {
    sw_linear_unquantize(l);
    int rc = q8_check(l);
    if (rc != 0) return rc;
    if (l->in == 0 || l->out == 0) return 0;
    const int32_t in = l->in, out = l->out;
    const size_t KP = q8_kp(in), np = q8_np(out);
    int16_t *w16 = calloc(np * KP * QNR * 2, sizeof(int16_t)); /* zero: padding columns and k */
    float *s = calloc(np * QNR, sizeof(float));                 /* zero past out: 16-byte loads */
    int8_t *row = malloc((size_t)in);
    if (!w16 || !s || !row) { free(w16); free(s); free(row); return -1; }
    for (int32_t o = 0; o < out; o++) {
        sw_q8_quantize_row_ref(l->w + (size_t)o * in, in, row, s + o);
        int16_t *dst = w16 + (size_t)(o / QNR) * KP * QNR * 2 + (size_t)(o % QNR) * 2;
        for (int32_t k = 0; k < in; k++) dst[(size_t)(k / 2) * QNR * 2 + (k & 1)] = row[k];
    }
    free(row);
    l->q8 = w16;
    l->q8_scale = s;
    return 0;
}

size_t sw_linear_q8_bytes(const sw_linear *l) {
    if (!l->q8) return 0;
    const size_t np = q8_np(l->out);
    return np * q8_kp(l->in) * QNR * 2 * sizeof(int16_t) + np * QNR * sizeof(float);
}

/* ==== SIMD128: activations ==== */

/* inv[r], sx[r] of rows 0..rows-1 of x (stride ld, n columns), as
 * q8_absmax + q8_row_factors, and whether the row is finite. The max is
 * taken on the bit patterns of |x| as int32: for non-negative floats their
 * order is the order of the values, and every NaN sorts above inf, so one
 * i32x4.max_s per vector finds max |x| and sees any inf or NaN (f32x4.max,
 * which handles NaN, is ~8 instructions in V8). */
static void q8_row_group_factors(const float *x, size_t ld, int32_t rows, int32_t n,
                                 float *inv, float *sx, int *finite) {
    const v128_t absmask = wasm_i32x4_splat(0x7fffffff);
    for (int32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * ld;
        v128_t m0 = wasm_i32x4_splat(0), m1 = m0;
        int32_t k = 0;
        for (; k + 8 <= n; k += 8) {
            m0 = wasm_i32x4_max(m0, wasm_v128_and(wasm_v128_load(xr + k), absmask));
            m1 = wasm_i32x4_max(m1, wasm_v128_and(wasm_v128_load(xr + k + 4), absmask));
        }
        for (; k < n; k++) {
            int32_t bits;
            memcpy(&bits, xr + k, sizeof bits);
            m0 = wasm_i32x4_max(m0, wasm_i32x4_splat(bits & 0x7fffffff));
        }
        m0 = wasm_i32x4_max(m0, m1);
        m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 2, 3, 0, 1));
        m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 1, 0, 3, 2));
        const int32_t bits = wasm_i32x4_extract_lane(m0, 0);
        float mx;
        memcpy(&mx, &bits, sizeof mx);
        finite[r] = bits < 0x7f800000;
        q8_row_factors(mx, &inv[r], &sx[r]);
    }
}

/* Eight floats of a finite row -> eight int16 q8 values, as q8_round(x *
 * inv). Adding 1.5 * 2^23 rounds a float below 2^22 to the nearest integer,
 * ties to even (the float's last place is then 1), and leaves that integer
 * in the low mantissa bits: an integer subtraction of the constant's bits
 * converts it. |x * inv| <= 127 (1 + 2^-24)^2 < 127.5 for a finite row
 * (|x| <= max, inv = fl(127 / max)), so no clamp is needed and the
 * narrowing never saturates; rows holding inf or NaN never come here. This
 * is 2 operations per vector where f32x4.nearest + i32x4.trunc_sat_f32x4_s
 * cost ~10 in V8. */
static inline v128_t q8_quantize8(const float *x, v128_t inv) {
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    v128_t a = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x), inv), magic);
    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + 4), inv), magic);
    return wasm_i16x8_narrow_i32x4(wasm_i32x4_sub(a, magic), wasm_i32x4_sub(b, magic));
}

/* Quantizes pairs [kp0, kp0 + kc) of rows 0..rows-1 of x (stride ld, n
 * columns) into a[(kp - kp0) * QMR + r] (pairs of int16 as one int32); rows
 * past `rows`, columns past n and rows that are not finite are 0 (what
 * q8_round gives them: their multiplier is 0 and x * 0 is 0 or NaN). */
static void q8_pack_block(int32_t *a, const float *x, size_t ld, int32_t rows, int32_t n,
                          int32_t kp0, int32_t kc, const float *inv, const int *finite) {
    int32_t kp = 0;
    if (rows == QMR && finite[0] && finite[1] && finite[2] && finite[3]) {
        /* 4 rows x 8 columns: four vectors of 4 pairs, transposed as i32 lanes */
        const v128_t i0 = wasm_f32x4_splat(inv[0]), i1 = wasm_f32x4_splat(inv[1]);
        const v128_t i2 = wasm_f32x4_splat(inv[2]), i3 = wasm_f32x4_splat(inv[3]);
        const float *x0 = x, *x1 = x + ld, *x2 = x + 2 * ld, *x3 = x + 3 * ld;
        for (; kp + 4 <= kc && 2 * (kp0 + kp) + 8 <= n; kp += 4) {
            const int32_t k = 2 * (kp0 + kp);
            v128_t r0 = q8_quantize8(x0 + k, i0), r1 = q8_quantize8(x1 + k, i1);
            v128_t r2 = q8_quantize8(x2 + k, i2), r3 = q8_quantize8(x3 + k, i3);
            v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
            v128_t t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
            v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
            v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
            wasm_v128_store(a + (kp + 0) * QMR, wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5));
            wasm_v128_store(a + (kp + 1) * QMR, wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7));
            wasm_v128_store(a + (kp + 2) * QMR, wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5));
            wasm_v128_store(a + (kp + 3) * QMR, wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7));
        }
    }
    for (; kp < kc; kp++) {
        const int32_t k = 2 * (kp0 + kp);
        for (int32_t r = 0; r < QMR; r++) {
            int16_t pair[2] = {0, 0};
            if (r < rows && finite[r]) {
                const float *xr = x + (size_t)r * ld;
                pair[0] = (int16_t)q8_round(xr[k] * inv[r]);
                if (k + 1 < n) pair[1] = (int16_t)q8_round(xr[k + 1] * inv[r]);
            }
            memcpy(a + kp * QMR + r, pair, sizeof pair);
        }
    }
}

/* ==== SIMD128: micro-kernel and epilogue ==== */

/* acc[QMR x QNR] (int32, row stride QNR) = (accumulate ? acc : 0) + the kc
 * pair steps of a (packed activations) against w (a panel from pair kp0).
 * Constant-bound loops over r and c: clang unrolls them and keeps each
 * accumulator in its own register. V8 (TurboFan, x64) makes each step 22
 * instructions, 6 loads + 8 vpmaddwd + 8 vpaddd, no spills, and unrolls
 * the loop itself (3 loop instructions per step); unrolling it here as
 * well measured ~5% slower in the GEMM. */
static void q8_tile(const int32_t *a, const int16_t *w, int32_t kc, int32_t *acc_io, int accumulate) {
    v128_t acc[QMR][QNV];
    for (int r = 0; r < QMR; r++)
        for (int c = 0; c < QNV; c++)
            acc[r][c] = accumulate ? wasm_v128_load(acc_io + r * QNR + 4 * c) : wasm_i32x4_splat(0);
    for (int32_t k = 0; k < kc; k++) {
        v128_t wv[QNV];
        for (int c = 0; c < QNV; c++) wv[c] = wasm_v128_load(w + 8 * c);
        for (int r = 0; r < QMR; r++) {
            const v128_t b = wasm_v128_load32_splat(a + r);
            for (int c = 0; c < QNV; c++) acc[r][c] = wasm_i32x4_add(acc[r][c], wasm_i32x4_dot_i16x8(b, wv[c]));
        }
        a += QMR;
        w += QNR * 2;
    }
    for (int r = 0; r < QMR; r++)
        for (int c = 0; c < QNV; c++) wasm_v128_store(acc_io + r * QNR + 4 * c, acc[r][c]);
}

/* y[r][c] = (float)acc[r][c] * (sx[r] * ws[c]) + b[c] for the valid rows x
 * cols of a tile (ws: QNR floats, zero-padded; b: cols floats or NULL). The
 * same three roundings as sw_q8_linear_ref, lane by lane or one by one. */
static void q8_epilogue(const int32_t *acc, float *y, size_t ldy, int32_t rows, int32_t cols,
                        const float *sx, const float *ws, const float *b) {
    if (cols == QNR) {
        const v128_t w0 = wasm_v128_load(ws), w1 = wasm_v128_load(ws + 4);
        const v128_t b0 = b ? wasm_v128_load(b) : wasm_f32x4_splat(0.0f);
        const v128_t b1 = b ? wasm_v128_load(b + 4) : wasm_f32x4_splat(0.0f);
        for (int32_t r = 0; r < rows; r++) {
            const v128_t s = wasm_f32x4_splat(sx[r]);
            v128_t v0 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR)), wasm_f32x4_mul(s, w0));
            v128_t v1 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR + 4)), wasm_f32x4_mul(s, w1));
            if (b) { v0 = wasm_f32x4_add(v0, b0); v1 = wasm_f32x4_add(v1, b1); }
            wasm_v128_store(y + (size_t)r * ldy, v0);
            wasm_v128_store(y + (size_t)r * ldy + 4, v1);
        }
        return;
    }
    for (int32_t r = 0; r < rows; r++)
        for (int32_t c = 0; c < cols; c++) {
            const float s = sx[r] * ws[c];
            const float v = (float)acc[r * QNR + c] * s;
            y[(size_t)r * ldy + c] = b ? v + b[c] : v;
        }
}

/* ==== SIMD128: driver ==== */

/* Most of the time, each row's activations are quantized once per call, into
 * a heap buffer for a chunk of rows (at most Q_CHUNK_BYTES), and every panel
 * block then reads them: quantizing a 4-row group again for each of the ~2-5
 * panel blocks cost 10-20% of the product time (measured). With one row
 * group (m <= QMR) there is nothing to share, and if malloc fails the same
 * work is done block by block on the stack: q8_rows_blocked. */
#define Q_CHUNK_BYTES (1 << 20)

typedef struct q8_plan {
    int32_t KP, np;       /* K pairs, panels                                 */
    int32_t kc_max;       /* pairs per K block                               */
    int32_t pb;           /* panels per panel block                          */
} q8_plan;

static q8_plan q8_make_plan(const sw_linear *l) {
    q8_plan P;
    P.KP = (int32_t)q8_kp(l->in);
    P.np = (int32_t)q8_np(l->out);
    /* K blocks of equal depth, at most QKC pairs */
    const int32_t nkb = (P.KP + QKC - 1) / QKC;
    P.kc_max = (P.KP + nkb - 1) / nkb;
    /* panel blocks near QW_BLOCK_BYTES, balanced, at most QPB_MAX panels */
    int32_t pb = (int32_t)(QW_BLOCK_BYTES / ((size_t)P.KP * QNR * 2 * sizeof(int16_t)));
    if (pb < 1) pb = 1;
    if (pb > QPB_MAX) pb = QPB_MAX;
    const int32_t ncb = (P.np + pb - 1) / pb;
    P.pb = (P.np + ncb - 1) / ncb;
    return P;
}

/* Panels [p0, p1) for one row group whose activations are packed, all K,
 * at xg (xg[kp * QMR + r]); writes the group's rows of y. */
static void q8_group_panels(const sw_linear *l, const q8_plan *P, const int32_t *xg, int32_t p0, int32_t p1,
                            int32_t rows, const float *sx, float *yg, int32_t *acc) {
    const int16_t *w16 = (const int16_t *)l->q8;
    for (int32_t k0 = 0; k0 < P->KP; k0 += P->kc_max) {
        const int32_t kc = P->KP - k0 < P->kc_max ? P->KP - k0 : P->kc_max;
        for (int32_t p = p0; p < p1; p++)
            q8_tile(xg + (size_t)k0 * QMR, w16 + ((size_t)p * P->KP + k0) * QNR * 2, kc,
                    acc + (p - p0) * QMR * QNR, k0 > 0);
    }
    for (int32_t p = p0; p < p1; p++) {
        const int32_t col = p * QNR, cols = l->out - col < QNR ? l->out - col : QNR;
        q8_epilogue(acc + (p - p0) * QMR * QNR, yg + col, (size_t)l->out, rows, cols,
                    sx, l->q8_scale + col, l->b ? l->b + col : NULL);
    }
}

/* Rows [0, m): each row group's activations quantized per panel block and K
 * block into a stack buffer. Needs no heap. */
static void q8_rows_blocked(const sw_linear *l, const q8_plan *P, const float *x, int32_t m, float *y) {
    const int32_t in = l->in;
    const int16_t *w16 = (const int16_t *)l->q8;
    int32_t a[QMR * QKC] __attribute__((aligned(16)));           /* quantized x block */
    int32_t acc[QPB_MAX * QMR * QNR] __attribute__((aligned(16))); /* int32 sums      */
    float inv[QMR], sx[QMR];
    int finite[QMR];
    for (int32_t p0 = 0; p0 < P->np; p0 += P->pb) {
        const int32_t p1 = p0 + P->pb < P->np ? p0 + P->pb : P->np;
        for (int32_t i0 = 0; i0 < m; i0 += QMR) {
            const int32_t rows = m - i0 < QMR ? m - i0 : QMR;
            const float *xi = x + (size_t)i0 * in;
            q8_row_group_factors(xi, (size_t)in, rows, in, inv, sx, finite);
            for (int32_t k0 = 0; k0 < P->KP; k0 += P->kc_max) {
                const int32_t kc = P->KP - k0 < P->kc_max ? P->KP - k0 : P->kc_max;
                q8_pack_block(a, xi, (size_t)in, rows, in, k0, kc, inv, finite);
                for (int32_t p = p0; p < p1; p++)
                    q8_tile(a, w16 + ((size_t)p * P->KP + k0) * QNR * 2, kc, acc + (p - p0) * QMR * QNR, k0 > 0);
            }
            for (int32_t p = p0; p < p1; p++) {
                const int32_t col = p * QNR, cols = l->out - col < QNR ? l->out - col : QNR;
                q8_epilogue(acc + (p - p0) * QMR * QNR, y + (size_t)i0 * l->out + col, (size_t)l->out, rows, cols,
                            sx, l->q8_scale + col, l->b ? l->b + col : NULL);
            }
        }
    }
}

/* One call's chunk of row groups, as tasks for sw_parallel_for (threads.h):
 * first every group is quantized and packed (a task per group), then the
 * products run as tasks of (panel block, run of groups). Integer sums are
 * exact and each output's epilogue is the same whatever the split, so the
 * results do not depend on the thread count. */
typedef struct q8_job {
    const sw_linear *l;
    const q8_plan *P;
    const float *x;
    float *y;
    int32_t m, g0, g1;      /* groups [g0, g1) of this chunk                 */
    int32_t *xa;            /* packed groups of the chunk, group_ints each  */
    float *sxs;             /* their row scales, QMR per group               */
    size_t group_ints;
    int32_t ncb, gpt;       /* panel blocks; groups per product task        */
} q8_job;

static void q8_pack_task(void *arg, int32_t task, int32_t thread) {
    const q8_job *j = (const q8_job *)arg;
    const int32_t g = j->g0 + task, i0 = g * QMR, rows = j->m - i0 < QMR ? j->m - i0 : QMR;
    const int32_t in = j->l->in;
    float inv[QMR];
    int finite[QMR];
    (void)thread;
    q8_row_group_factors(j->x + (size_t)i0 * in, (size_t)in, rows, in, inv, j->sxs + (size_t)task * QMR, finite);
    q8_pack_block(j->xa + (size_t)task * j->group_ints, j->x + (size_t)i0 * in, (size_t)in, rows, in, 0,
                  j->P->KP, inv, finite);
}

static void q8_product_task(void *arg, int32_t task, int32_t thread) {
    const q8_job *j = (const q8_job *)arg;
    const q8_plan *P = j->P;
    const int32_t cb = task % j->ncb, gb = task / j->ncb;
    const int32_t p0 = cb * P->pb, p1 = p0 + P->pb < P->np ? p0 + P->pb : P->np;
    const int32_t ga = j->g0 + gb * j->gpt, gz = ga + j->gpt < j->g1 ? ga + j->gpt : j->g1;
    int32_t acc[QPB_MAX * QMR * QNR] __attribute__((aligned(16)));   /* on this thread's stack */
    (void)thread;
    for (int32_t g = ga; g < gz; g++) {
        const int32_t i0 = g * QMR, rows = j->m - i0 < QMR ? j->m - i0 : QMR;
        q8_group_panels(j->l, P, j->xa + (size_t)(g - j->g0) * j->group_ints, p0, p1, rows,
                        j->sxs + (size_t)(g - j->g0) * QMR, j->y + (size_t)i0 * j->l->out, acc);
    }
}

void sw_linear_forward_q8(const sw_linear *l, const float *x, int32_t m, float *y) {
    const int32_t in = l->in, out = l->out;
    if (m <= 0 || out <= 0 || in <= 0 || !l->q8) return;
    const q8_plan P = q8_make_plan(l);
    const size_t group_ints = (size_t)P.KP * QMR;                 /* one packed row group */
    const int32_t ngroups = (m + QMR - 1) / QMR;
    int32_t chunk = (int32_t)(Q_CHUNK_BYTES / (group_ints * sizeof(int32_t)));
    if (chunk < 1) chunk = 1;
    if (chunk > ngroups) chunk = ngroups;
    const int32_t nt = sw_threads_count();
    /* Threads share the packed groups, so one group is worth the buffer too. */
    int32_t *xq = ngroups > 1 || nt > 1 ? malloc(((size_t)chunk * group_ints + 4) * sizeof(int32_t) +
                                                 (size_t)chunk * QMR * sizeof(float)) : NULL;
    if (!xq) { q8_rows_blocked(l, &P, x, m, y); return; }
    /* 16-byte alignment of the packed groups for the tile's loads: malloc
     * gives 8 in Emscripten's dlmalloc */
    q8_job j = {l, &P, x, y, m, 0, 0, (int32_t *)(((uintptr_t)xq + 15) & ~(uintptr_t)15), NULL, group_ints,
                (P.np + P.pb - 1) / P.pb, 0};
    j.sxs = (float *)(j.xa + (size_t)chunk * group_ints);
    for (int32_t g0 = 0; g0 < ngroups; g0 += chunk) {
        j.g0 = g0;
        j.g1 = g0 + chunk < ngroups ? g0 + chunk : ngroups;
        const int32_t groups = j.g1 - g0;
        sw_parallel_for(groups, q8_pack_task, &j);
        /* one task per panel block and run of groups: about 4 per thread
         * (taken dynamically), all groups in one run when single-threaded */
        int32_t runs = nt > 1 ? (4 * nt + j.ncb - 1) / j.ncb : 1;
        if (runs > groups) runs = groups;
        j.gpt = (groups + runs - 1) / runs;
        runs = (groups + j.gpt - 1) / j.gpt;
        sw_parallel_for(j.ncb * runs, q8_product_task, &j);
    }
    free(xq);
}

#endif /* __wasm_simd128__ */
