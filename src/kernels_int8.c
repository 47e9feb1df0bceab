/*
 * kernels_int8.c — Linear layers on int8 weights with dynamically quantized
 * int8 activations (load option dtype: 'int8'); the scheme is described in
 * kernels.h, "int8 Linear".
 *
 * Contents:
 *   scalar        quantization of a row, the reference GEMM, and the whole
 *                 int8 path on targets without SIMD128 (weights row-major);
 *                 the reference int8 attention head
 *   SIMD128       weights in int16 panels; activations quantized once per
 *                 call into pair-interleaved row groups; a 4 x 8 register
 *                 tile on i32x4.dot_i16x8_s (8 multiply-adds per instruction);
 *                 the int8 attention head on the same tile
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
 * every v it is used on (rows that are finite, where |v| < 127.5). q_round
 * is the same with another limit (the int8 attention's 2047 and 32767). */
static inline int32_t q_round(float v, float lim) {
    float r = rintf(v);
    if (r > lim) r = lim;
    if (r < -lim) r = -lim;
    return r == r ? (int32_t)r : 0;
}

static inline int32_t q8_round(float v) { return q_round(v, 127.0f); }

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

/* ==== scalar: int8 attention, the reference ====
 *
 * One head (kernels.h, "int8 attention"): Q and K quantized per row, V per
 * column, to QA_LEVELS (12 bits); scores in log2 units S = (float)(q_q .
 * k_q) * (((s_q * scale) * log2 e) * s_k); softmax as 2^(S - max) with
 * qa_exp2_ref; P quantized to QA_P_LEVELS (15 bits)
 * with the one multiplier 32767 / sum, so sum_j P_q[j] stays near 32767
 * whatever n; out = (float)(P_q . v_q) * (s_v / 32767).
 *
 * The SIMD version does the same float operations in the same order, so
 * the two agree bit for bit; where it sums in four lanes (the softmax's
 * denominator), so does this one. */

#define QA_LEVELS 2047.0f   /* |q|, |k|, |v| <= 2047: d * 2047^2 < 2^31 for d <= 512 */
#define QA_P_LEVELS 32767.0f
#define QA_EXP2_LO (-126.0f) /* 2^-126: still normal, and rounds to P = 0 */

/* 2^x for x <= 0: the scores are kept in log2 units (their multiplier
 * carries log2 e), so the softmax is 2^(S - max) and its range reduction
 * needs no split ln 2: n = round(x) by the 1.5 * 2^23 trick, r = x - n
 * (exact), p(r) ~ 2^r the degree-5 Taylor polynomial of e^(r ln 2) (|r| <=
 * 0.5: relative error < 3e-6, far below P's step of 1/32767). Each
 * operation its own statement, so no compiler fuses a multiply-add that the
 * SIMD version does in two roundings. 2^0 is exactly 1. */
#define QA_LOG2E 1.44269504f
#define QA_MAGIC 12582912.0f
#define QA_C5 1.33335581e-3f
#define QA_C4 9.61812911e-3f
#define QA_C3 5.55041087e-2f
#define QA_C2 2.40226507e-1f
#define QA_C1 6.93147181e-1f
static float qa_exp2_ref(float x) {
    x = QA_EXP2_LO < x ? x : QA_EXP2_LO; /* f32x4.pmax(lo, x) */
    const float t = x + QA_MAGIC;
    int32_t tb, mb, ni;
    const float magic = QA_MAGIC;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&mb, &magic, sizeof mb);
    ni = tb - mb;
    const float nf = t - QA_MAGIC;
    const float r = x - nf;
    float p = QA_C5;
    p = p * r; p = p + QA_C4;
    p = p * r; p = p + QA_C3;
    p = p * r; p = p + QA_C2;
    p = p * r; p = p + QA_C1;
    p = p * r; p = p + 1.0f;
    const int32_t sb = (ni + 127) << 23; /* n >= -126: 2^n is a normal float */
    float s2;
    memcpy(&s2, &sb, sizeof s2);
    return p * s2;
}

/* Whether the integer path applies: finite inputs (`finite`: no inf or NaN
 * in q, k, v; qmax, kmax their largest |q|, |k|), a head narrow enough for the int32 sums, and scores that
 * cannot overflow (|S| <= about qmax * kmax * scale * d). Else the float
 * kernel runs. */
static int qa_usable(float qmax, float kmax, int finite, float scale, int32_t d) {
    if (d > SW_QA_MAX_D || !finite) return 0;
    float b = qmax * kmax;
    b = b * scale;
    b = b * (float)d;
    return b <= 1e30f;
}

/* 2047 / max (0 for a zero or non-finite max) and max / 2047 */
static inline float qa_inv(float mx) { return mx > 0.0f && mx <= 3.4028234663852886e38f ? QA_LEVELS / mx : 0.0f; }

void sw_attention_head_q8_ref(float *out, const float *q, const float *k, const float *v, int32_t n, int32_t d,
                              int32_t ld, float scale, float *scratch) {
    if (n <= 0 || d <= 0) return;
    if (d > SW_QA_MAX_D) { sw_attention_head_ref(out, q, k, v, n, d, ld, scale, scratch); return; }
    /* scratch: kq, vq [n x d] int16; qq [d] int16; pq [n] int32; sk, e [n]; sv [d] */
    int16_t *kq = (int16_t *)scratch, *vq = kq + (size_t)n * d, *qq = vq + (size_t)n * d;
    int32_t *pq = (int32_t *)(void *)(scratch + ((size_t)n * d + ((size_t)d + 1) / 2));
    float *sk = (float *)(pq + n), *e = sk + n, *sv = e + n;
    float qmax = 0.0f, kmax = 0.0f;
    int finite = 1;
    for (int32_t i = 0; i < n; i++) {
        const float mq = q8_absmax(q + (size_t)i * ld, d), mk = q8_absmax(k + (size_t)i * ld, d);
        finite &= mq <= 3.4028234663852886e38f && mk <= 3.4028234663852886e38f;
        if (mq > qmax) qmax = mq;
        if (mk > kmax) kmax = mk;
        sk[i] = mk;
    }
    for (int32_t c = 0; c < d; c++) {
        float mv = 0.0f;
        for (int32_t j = 0; j < n; j++) {
            const float a = fabsf(v[(size_t)j * ld + c]);
            finite &= a <= 3.4028234663852886e38f;
            if (a > mv) mv = a;
        }
        sv[c] = mv;
    }
    if (!qa_usable(qmax, kmax, finite, scale, d)) {
        sw_attention_head_ref(out, q, k, v, n, d, ld, scale, scratch);
        return;
    }
    for (int32_t j = 0; j < n; j++) {
        const float inv = qa_inv(sk[j]);
        for (int32_t c = 0; c < d; c++) kq[(size_t)j * d + c] = (int16_t)q_round(k[(size_t)j * ld + c] * inv, QA_LEVELS);
        sk[j] = sk[j] / QA_LEVELS;
    }
    for (int32_t c = 0; c < d; c++) {
        const float inv = qa_inv(sv[c]);
        for (int32_t j = 0; j < n; j++) vq[(size_t)j * d + c] = (int16_t)q_round(v[(size_t)j * ld + c] * inv, QA_LEVELS);
        sv[c] = sv[c] / QA_LEVELS;
        sv[c] = sv[c] / QA_P_LEVELS;
    }
    for (int32_t i = 0; i < n; i++) {
        const float *qi = q + (size_t)i * ld;
        const float mq = q8_absmax(qi, d), inv = qa_inv(mq);
        float sqs = mq / QA_LEVELS;
        sqs = sqs * scale;
        sqs = sqs * QA_LOG2E;
        for (int32_t c = 0; c < d; c++) qq[c] = (int16_t)q_round(qi[c] * inv, QA_LEVELS);
        float mx = -INFINITY;
        for (int32_t j = 0; j < n; j++) {
            int32_t acc = 0;
            for (int32_t c = 0; c < d; c++) acc += (int32_t)qq[c] * kq[(size_t)j * d + c];
            const float t = sqs * sk[j];
            e[j] = (float)acc * t;
            if (e[j] > mx) mx = e[j];
        }
        float lane[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int32_t j = 0; j < n; j++) {
            e[j] = qa_exp2_ref(e[j] - mx);
            lane[j & 3] += e[j];
        }
        const float sum = (lane[0] + lane[2]) + (lane[1] + lane[3]);
        const float r = QA_P_LEVELS / sum;
        for (int32_t j = 0; j < n; j++) pq[j] = q_round(e[j] * r, QA_P_LEVELS);
        for (int32_t c = 0; c < d; c++) {
            int32_t acc = 0; /* |acc| <= (32767 + n / 2) * 2047 < 2^31 */
            for (int32_t j = 0; j < n; j++) acc += pq[j] * (int32_t)vq[(size_t)j * d + c];
            out[(size_t)i * ld + c] = (float)acc * sv[c];
        }
    }
}

/* 4-byte units of scratch the reference needs */
static size_t qa_ref_scratch(int32_t n, int32_t d) {
    return (size_t)n * d + ((size_t)d + 1) / 2 + 3 * (size_t)n + (size_t)d;
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
    sw_activate_ref(y, (size_t)m * (size_t)l->out, l->act);
}

void sw_attention_head_q8(float *out, const float *q, const float *k, const float *v, int32_t n, int32_t d,
                          int32_t ld, float scale, float *scratch) {
    sw_attention_head_q8_ref(out, q, k, v, n, d, ld, scale, scratch);
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
 * the 15 xmm registers V8 allocates (the fp32 GEMM's tile, linear_simd.c,
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
 * q8_round gives them: their multiplier is 0 and x * 0 is 0 or NaN). `lim`
 * is the quantization's limit (127 for a Linear layer): the vector path
 * needs none, as the values it sees round to at most lim. */
static void q8_pack_block(int32_t *a, const float *x, size_t ld, int32_t rows, int32_t n,
                          int32_t kp0, int32_t kc, const float *inv, const int *finite, float lim) {
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
                pair[0] = (int16_t)q_round(xr[k] * inv[r], lim);
                if (k + 1 < n) pair[1] = (int16_t)q_round(xr[k + 1] * inv[r], lim);
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
    sw_activate_rows(yg, (size_t)l->out, rows, p0 * QNR, p1 * QNR < l->out ? p1 * QNR : l->out, l->act);
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
                q8_pack_block(a, xi, (size_t)in, rows, in, k0, kc, inv, finite, 127.0f);
                for (int32_t p = p0; p < p1; p++)
                    q8_tile(a, w16 + ((size_t)p * P->KP + k0) * QNR * 2, kc, acc + (p - p0) * QMR * QNR, k0 > 0);
            }
            for (int32_t p = p0; p < p1; p++) {
                const int32_t col = p * QNR, cols = l->out - col < QNR ? l->out - col : QNR;
                q8_epilogue(acc + (p - p0) * QMR * QNR, y + (size_t)i0 * l->out + col, (size_t)l->out, rows, cols,
                            sx, l->q8_scale + col, l->b ? l->b + col : NULL);
            }
            sw_activate_rows(y + (size_t)i0 * l->out, (size_t)l->out, rows, p0 * QNR,
                             p1 * QNR < l->out ? p1 * QNR : l->out, l->act);
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
                  j->P->KP, inv, finite, 127.0f);
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

/* ==== SIMD128: int8 attention ====
 *
 * sw_attention_head_q8_ref's arithmetic on the Linear layers' tile
 * (q8_tile, 4 query rows x 8 columns on i32x4.dot_i16x8_s), both products:
 *   S[4 x n] = Q_q K_q^T   K_q packed as the tile's weights: panels of 8 keys,
 *                          pairs of head columns (kp below)
 *   P_q      = softmax(S), quantized, packed as the tile's activations
 *                          (pairs of keys)
 *   O[4 x d] = P_q V_q     V_q packed as weights: panels of 8 head columns,
 *                          pairs of keys (vp below)
 * Everything lives in the caller's scratch (sw_attention_q8_scratch): no
 * malloc, as heads run on helper threads (threads.h). */

typedef struct qa_layout {
    int32_t nk, dp, np, nv; /* key panels, d pairs, key pairs, column panels */
    int32_t *kp, *vp, *qa, *pa;
    float *mq, *sk, *mv, *ov, *s;
} qa_layout;

static size_t qa_layout_make(qa_layout *L, int32_t n, int32_t d, float *base) {
    L->nk = (n + QNR - 1) / QNR;
    L->dp = (d + 1) / 2;
    L->np = (n + 1) / 2;
    L->nv = (d + QNR - 1) / QNR;
    size_t at = 0;
#define QA_TAKE(ptr, type, count) \
    do { if (base) L->ptr = (type *)(void *)(base + at); at += ((size_t)(count) + 3) & ~(size_t)3; } while (0)
    QA_TAKE(kp, int32_t, (size_t)L->nk * L->dp * QNR);
    QA_TAKE(vp, int32_t, (size_t)L->nv * L->np * QNR);
    QA_TAKE(qa, int32_t, (size_t)QMR * L->dp);
    QA_TAKE(pa, int32_t, (size_t)QMR * L->np);
    QA_TAKE(mq, float, n);
    QA_TAKE(sk, float, (size_t)L->nk * QNR);
    QA_TAKE(mv, float, d);
    QA_TAKE(ov, float, (size_t)L->nv * QNR);
    QA_TAKE(s, float, (size_t)QMR * L->nk * QNR);
#undef QA_TAKE
    return at;
}

static size_t qa_simd_scratch(int32_t n, int32_t d) {
    qa_layout L;
    return qa_layout_make(&L, n, d, NULL);
}

/* max |x[0..n)| as the bits of a float (q8_row_group_factors' trick): a
 * value >= 0x7f800000 means an inf or NaN. */
static int32_t qa_absmax_bits(const float *x, int32_t n) {
    const v128_t absmask = wasm_i32x4_splat(0x7fffffff);
    v128_t m0 = wasm_i32x4_splat(0), m1 = m0;
    int32_t k = 0;
    for (; k + 8 <= n; k += 8) {
        m0 = wasm_i32x4_max(m0, wasm_v128_and(wasm_v128_load(x + k), absmask));
        m1 = wasm_i32x4_max(m1, wasm_v128_and(wasm_v128_load(x + k + 4), absmask));
    }
    for (; k < n; k++) {
        int32_t bits;
        memcpy(&bits, x + k, sizeof bits);
        m0 = wasm_i32x4_max(m0, wasm_i32x4_splat(bits & 0x7fffffff));
    }
    m0 = wasm_i32x4_max(m0, m1);
    m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 2, 3, 0, 1));
    m0 = wasm_i32x4_max(m0, wasm_i32x4_shuffle(m0, m0, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(m0, 0);
}

static inline float qa_bits_float(int32_t bits) {
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* qa_exp2_ref on four lanes, the same operations in the same order. */
static inline v128_t qa_exp2x4(v128_t x) {
    const v128_t magic = wasm_f32x4_splat(QA_MAGIC);
    x = wasm_f32x4_pmax(wasm_f32x4_splat(QA_EXP2_LO), x);
    const v128_t t = wasm_f32x4_add(x, magic);
    const v128_t ni = wasm_i32x4_sub(t, magic);
    const v128_t r = wasm_f32x4_sub(x, wasm_f32x4_sub(t, magic));
    v128_t p = wasm_f32x4_splat(QA_C5);
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(QA_C4));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(QA_C3));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(QA_C2));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(QA_C1));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.0f));
    return wasm_f32x4_mul(p, wasm_i32x4_shl(wasm_i32x4_add(ni, wasm_i32x4_splat(127)), 23));
}

/* kp[((p * dp + cp) * QNR + jj)] = the pair (k_q[j][2cp], k_q[j][2cp + 1]) of
 * key j = p * QNR + jj; zero for keys past n and the column past d. */
static void qa_pack_k(const qa_layout *L, const float *k, int32_t n, int32_t d, size_t ld) {
    for (int32_t j = 0; j < L->nk * QNR; j++) {
        int32_t *dst = L->kp + (size_t)(j / QNR) * L->dp * QNR + j % QNR;
        if (j >= n) {
            for (int32_t cp = 0; cp < L->dp; cp++) dst[(size_t)cp * QNR] = 0;
            L->sk[j] = 0.0f;
            continue;
        }
        const float *kj = k + (size_t)j * ld;
        const float mk = L->sk[j], inv = qa_inv(mk);
        int32_t cp = 0;
        const v128_t vi = wasm_f32x4_splat(inv);
        for (; 2 * cp + 8 <= d; cp += 4) {
            const v128_t r = q8_quantize8(kj + 2 * cp, vi);
            wasm_v128_store32_lane(dst + (size_t)(cp + 0) * QNR, r, 0);
            wasm_v128_store32_lane(dst + (size_t)(cp + 1) * QNR, r, 1);
            wasm_v128_store32_lane(dst + (size_t)(cp + 2) * QNR, r, 2);
            wasm_v128_store32_lane(dst + (size_t)(cp + 3) * QNR, r, 3);
        }
        for (; cp < L->dp; cp++) {
            int16_t pair[2] = {(int16_t)q_round(kj[2 * cp] * inv, QA_LEVELS), 0};
            if (2 * cp + 1 < d) pair[1] = (int16_t)q_round(kj[2 * cp + 1] * inv, QA_LEVELS);
            memcpy(dst + (size_t)cp * QNR, pair, sizeof pair);
        }
        L->sk[j] = mk / QA_LEVELS;
    }
}

/* vp[(p * np + jp) * QNR + cc] = the pair (v_q[2jp][c], v_q[2jp + 1][c]) of
 * column c = p * QNR + cc; zero past n and d. mv[c] holds max_j |v[j][c]|
 * on entry; ov[c] = (mv / 2047) / 32767 on return. */
static void qa_pack_v(const qa_layout *L, const float *v, const float *mv, int32_t n, int32_t d, size_t ld) {
    float inv[QNR];
    for (int32_t p = 0; p < L->nv; p++) {
        const int32_t c0 = p * QNR, cols = d - c0 < QNR ? d - c0 : QNR;
        for (int32_t cc = 0; cc < QNR; cc++) {
            inv[cc] = cc < cols ? qa_inv(mv[c0 + cc]) : 0.0f;
            float s = cc < cols ? mv[c0 + cc] / QA_LEVELS : 0.0f;
            L->ov[c0 + cc] = s / QA_P_LEVELS;
        }
        int32_t *dst = L->vp + (size_t)p * L->np * QNR;
        if (cols == QNR) {
            const v128_t magic = wasm_f32x4_splat(QA_MAGIC);
            const v128_t i0 = wasm_v128_load(inv), i1 = wasm_v128_load(inv + 4);
            for (int32_t jp = 0; jp < L->np; jp++) {
                v128_t rw[2];
                for (int t = 0; t < 2; t++) {
                    const int32_t j = 2 * jp + t;
                    if (j >= n) { rw[t] = wasm_i32x4_splat(0); continue; }
                    const float *x = v + (size_t)j * ld + c0;
                    /* as q8_quantize8, with a multiplier per lane */
                    v128_t a = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x), i0), magic);
                    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(x + 4), i1), magic);
                    rw[t] = wasm_i16x8_narrow_i32x4(wasm_i32x4_sub(a, magic), wasm_i32x4_sub(b, magic));
                }
                wasm_v128_store(dst + (size_t)jp * QNR, wasm_i16x8_shuffle(rw[0], rw[1], 0, 8, 1, 9, 2, 10, 3, 11));
                wasm_v128_store(dst + (size_t)jp * QNR + 4, wasm_i16x8_shuffle(rw[0], rw[1], 4, 12, 5, 13, 6, 14, 7, 15));
            }
            continue;
        }
        for (int32_t jp = 0; jp < L->np; jp++)
            for (int32_t cc = 0; cc < QNR; cc++) {
                int16_t pair[2] = {0, 0};
                for (int t = 0; t < 2; t++) {
                    const int32_t j = 2 * jp + t;
                    if (cc < cols && j < n) pair[t] = (int16_t)q_round(v[(size_t)j * ld + c0 + cc] * inv[cc], QA_LEVELS);
                }
                memcpy(dst + (size_t)jp * QNR + cc, pair, sizeof pair);
            }
    }
}

/* Row r of S (n valid of `len` columns, len a multiple of 4) -> 2^(S -
 * max), zero past n; returns 32767 / sum. Sums in four lanes, as the
 * reference. */
static float qa_softmax_row(float *s, int32_t n, int32_t len) {
    const int32_t n4 = n & ~3;
    v128_t vm = wasm_f32x4_splat(-INFINITY);
    for (int32_t j = 0; j < n4; j += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(s + j));
    vm = wasm_f32x4_pmax(vm, wasm_i32x4_shuffle(vm, vm, 2, 3, 0, 1));
    vm = wasm_f32x4_pmax(vm, wasm_i32x4_shuffle(vm, vm, 1, 0, 3, 2));
    float mx = wasm_f32x4_extract_lane(vm, 0);
    for (int32_t j = n4; j < n; j++) if (s[j] > mx) mx = s[j];
    const v128_t m = wasm_f32x4_splat(mx), lane = wasm_i32x4_make(0, 1, 2, 3), nv = wasm_i32x4_splat(n);
    v128_t sum = wasm_f32x4_splat(0.0f);
    for (int32_t j = 0; j < len; j += 4) {
        v128_t e = qa_exp2x4(wasm_f32x4_sub(wasm_v128_load(s + j), m));
        if (j + 4 > n) e = wasm_v128_and(e, wasm_i32x4_lt(wasm_i32x4_add(lane, wasm_i32x4_splat(j)), nv));
        wasm_v128_store(s + j, e);
        sum = wasm_f32x4_add(sum, e);
    }
    sum = wasm_f32x4_add(sum, wasm_i32x4_shuffle(sum, sum, 2, 3, 0, 1)); /* (l0 + l2), (l1 + l3) */
    const float total = wasm_f32x4_extract_lane(sum, 0) + wasm_f32x4_extract_lane(sum, 1);
    return QA_P_LEVELS / total;
}

void sw_attention_head_q8(float *out, const float *q, const float *k, const float *v, int32_t n, int32_t d,
                          int32_t ld, float scale, float *scratch) {
    if (n <= 0 || d <= 0) return;
    if (d > SW_QA_MAX_D) { sw_attention_head(out, q, k, v, n, d, ld, scale, scratch); return; }
    qa_layout L;
    qa_layout_make(&L, n, d, scratch);
    /* maxima first: they decide between this path and the float one */
    int32_t qbits = 0, kbits = 0;
    for (int32_t i = 0; i < n; i++) {
        const int32_t bq = qa_absmax_bits(q + (size_t)i * ld, d), bk = qa_absmax_bits(k + (size_t)i * ld, d);
        if (bq > qbits) qbits = bq;
        if (bk > kbits) kbits = bk;
        L.mq[i] = qa_bits_float(bq);
        L.sk[i] = qa_bits_float(bk);
    }
    /* column maxima of V, as bits: those of a non-negative finite float are
     * that float, so L.mv then holds the maxima */
    int32_t *mvb = (int32_t *)(void *)L.mv;
    int32_t vbits = 0;
    {
        const v128_t absmask = wasm_i32x4_splat(0x7fffffff);
        const int32_t d4 = d & ~3;
        for (int32_t c = 0; c < d; c++) mvb[c] = 0;
        for (int32_t j = 0; j < n; j++) {
            const float *vj = v + (size_t)j * ld;
            int32_t c = 0;
            for (; c < d4; c += 4)
                wasm_v128_store(mvb + c, wasm_i32x4_max(wasm_v128_load(mvb + c),
                                                        wasm_v128_and(wasm_v128_load(vj + c), absmask)));
            for (; c < d; c++) {
                int32_t bits;
                memcpy(&bits, vj + c, sizeof bits);
                bits &= 0x7fffffff;
                if (bits > mvb[c]) mvb[c] = bits;
            }
        }
        for (int32_t c = 0; c < d; c++) if (mvb[c] > vbits) vbits = mvb[c];
    }
    const int finite = qbits < 0x7f800000 && kbits < 0x7f800000 && vbits < 0x7f800000;
    if (!qa_usable(qa_bits_float(qbits), qa_bits_float(kbits), finite, scale, d)) {
        sw_attention_head(out, q, k, v, n, d, ld, scale, scratch);
        return;
    }
    qa_pack_v(&L, v, L.mv, n, d, (size_t)ld);
    qa_pack_k(&L, k, n, d, (size_t)ld);

    const int32_t slen = L.nk * QNR;
    const int ones[QMR] = {1, 1, 1, 1};
    int32_t acc[QMR * QNR] __attribute__((aligned(16)));
    for (int32_t i0 = 0; i0 < n; i0 += QMR) {
        const int32_t rows = n - i0 < QMR ? n - i0 : QMR;
        float inv[QMR], sqs[QMR];
        for (int32_t r = 0; r < QMR; r++) {
            const float mq = r < rows ? L.mq[i0 + r] : 0.0f;
            inv[r] = qa_inv(mq);
            sqs[r] = mq / QA_LEVELS;
            sqs[r] = sqs[r] * scale;
            sqs[r] = sqs[r] * QA_LOG2E;
        }
        q8_pack_block(L.qa, q + (size_t)i0 * ld, (size_t)ld, rows, d, 0, L.dp, inv, ones, QA_LEVELS);
        /* S = (float)(Q_q K_q^T) * (sqs * sk) */
        for (int32_t p = 0; p < L.nk; p++) {
            q8_tile(L.qa, (const int16_t *)(L.kp + (size_t)p * L.dp * QNR), L.dp, acc, 0);
            const v128_t k0 = wasm_v128_load(L.sk + p * QNR), k1 = wasm_v128_load(L.sk + p * QNR + 4);
            for (int32_t r = 0; r < rows; r++) {
                const v128_t sr = wasm_f32x4_splat(sqs[r]);
                float *sp = L.s + (size_t)r * slen + p * QNR;
                wasm_v128_store(sp, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR)),
                                                   wasm_f32x4_mul(sr, k0)));
                wasm_v128_store(sp + 4, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR + 4)),
                                                       wasm_f32x4_mul(sr, k1)));
            }
        }
        float pr[QMR];
        for (int32_t r = 0; r < rows; r++) pr[r] = qa_softmax_row(L.s + (size_t)r * slen, n, slen);
        q8_pack_block(L.pa, L.s, (size_t)slen, rows, n, 0, L.np, pr, ones, QA_P_LEVELS);
        /* O = (float)(P_q V_q) * ov */
        for (int32_t p = 0; p < L.nv; p++) {
            q8_tile(L.pa, (const int16_t *)(L.vp + (size_t)p * L.np * QNR), L.np, acc, 0);
            const int32_t c0 = p * QNR, cols = d - c0 < QNR ? d - c0 : QNR;
            if (cols == QNR) {
                const v128_t o0 = wasm_v128_load(L.ov + c0), o1 = wasm_v128_load(L.ov + c0 + 4);
                for (int32_t r = 0; r < rows; r++) {
                    float *dst = out + (size_t)(i0 + r) * ld + c0;
                    wasm_v128_store(dst, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR)), o0));
                    wasm_v128_store(dst + 4, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(wasm_v128_load(acc + r * QNR + 4)), o1));
                }
            } else {
                for (int32_t r = 0; r < rows; r++)
                    for (int32_t cc = 0; cc < cols; cc++)
                        out[(size_t)(i0 + r) * ld + c0 + cc] = (float)acc[r * QNR + cc] * L.ov[c0 + cc];
            }
        }
    }
}

#endif /* __wasm_simd128__ */

/* ==== int8 attention: scratch ==== */

size_t sw_attention_q8_scratch(int32_t n, int32_t d) {
    if (n <= 0 || d <= 0) return 1;
    size_t need = sw_attention_scratch(n, d); /* the float kernel, where it falls back */
    if (qa_ref_scratch(n, d) > need) need = qa_ref_scratch(n, d);
#ifdef __wasm_simd128__
    if (qa_simd_scratch(n, d) > need) need = qa_simd_scratch(n, d);
#endif
    return need;
}

