/*
 * linear_paired.c — the Linear product of long sequences with 7/8 of the
 * multiply-adds (SIMD128 builds; elsewhere kernels.c runs the plain one).
 *
 * Strassen's scheme, one level. The rows of a sequence are split into a
 * top and a bottom half (a pair: row i of the top half with row i of the
 * bottom half), K and the outputs into halves. With A = x and B = W^T in
 * quarters (A_ik: row half i, K half k; B_kj: K half k, output half j), the
 * four quarters of y, C_ij = A_i1 B_1j + A_i2 B_2j, take seven half-size
 * products instead of eight:
 *     M1 = (A11 + A22)(B11 + B22)   into C11, C22
 *     M2 = (A21 + A22) B11          into C21, -C22
 *     M3 = A11 (B12 - B22)          into C12, C22
 *     M4 = A22 (B21 - B11)          into C11, C21
 *     M5 = (A11 + A12) B22          into -C11, C12
 *     M6 = (A21 - A11)(B11 + B12)   into C22
 *     M7 = (A12 - A22)(B21 + B22)   into C11
 * The sums of A quarters are formed as x is packed for the micro-kernel;
 * each sum of B quarters is built from the packed W just before its
 * product (one quarter of the layer's weights of scratch); each tile of a
 * product is added straight into its one or two quarters of y. So no
 * product is held whole, and the micro-kernel, tiles and task plan are the
 * plain product's (gemm_simd.h). One level only: the rounding stays close
 * to the plain product's (test_paired_linear in tests/c/test_kernels.c
 * bounds it against the reference).
 *
 * Why pairs inside a sequence: a row's result then depends on its own
 * sequence's rows only, never on the other texts of a batch (a text gives
 * the same vector alone and in any batch, bit for bit) nor on the thread
 * count (the task split changes no sum). Whether a sequence is paired
 * depends on its length alone: PAIRED_MIN_ROWS rows or more, where the
 * saving pays for building the B sums (the layer's weights read about three
 * times) even for a sequence alone. Shorter sequences, and layers that
 * cannot be halved (odd `in`, `out` not a multiple of 2 NR, int8,
 * unpacked), run sw_linear_forward. A sequence of odd length has a bottom
 * half one row short: that pair's bottom row reads as zeros and its results
 * are dropped.
 */
#include "kernels.h"
#include "threads.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int sw_linear_paired_unused;

#ifdef __wasm_simd128__

#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "gemm_simd.h"

/* Building the seven B sums reads the layer's weights about three times
 * per call: ~18 ms per forward pass of a MiniLM-L6 on one thread, which a
 * text encoded alone pays whatever its length. Measured on one thread
 * (fastest of 25 encodes of one text, paired from 16 rows against never):
 * 16 rows 39 against 20 ms, 96 rows 132 against 128, 128 rows 170 against
 * 173, 192 rows 263 against 267. From 128 rows on, a text alone loses
 * nothing; in a batch the B sums are shared by all its texts. (Two levels,
 * 49 products of a quarter of the size, were tried: the short K loops and
 * four destinations per tile cost more than the 1/8 of products saved.) */
#ifndef PAIRED_MIN_ROWS
#define PAIRED_MIN_ROWS 128
#endif

/* One operand of a sum, or one destination: quarter q = 2 * i + j, sign
 * +1 / -1 (0: no such term). A's quarters: i = row half, j = K half; B's:
 * i = K half, j = output half; C's: i = row half, j = output half. */
typedef struct term { int8_t q, sign; } term;
typedef struct product { term a[2], b[2], c[2]; } product;

static const product PRODUCTS[7] = {
    /*  A sum               B sum               into             */
    {{{0, 1}, {3, 1}},  {{0, 1}, {3, 1}},  {{0, 1}, {3, 1}}},  /* M1 */
    {{{2, 1}, {3, 1}},  {{0, 1}, {0, 0}},  {{2, 1}, {3, -1}}}, /* M2 */
    {{{0, 1}, {0, 0}},  {{1, 1}, {3, -1}}, {{1, 1}, {3, 1}}},  /* M3 */
    {{{3, 1}, {0, 0}},  {{2, 1}, {0, -1}}, {{0, 1}, {2, 1}}},  /* M4 */
    {{{0, 1}, {1, 1}},  {{3, 1}, {0, 0}},  {{0, -1}, {1, 1}}}, /* M5 */
    {{{2, 1}, {0, -1}}, {{0, 1}, {1, 1}},  {{3, 1}, {0, 0}}},  /* M6 */
    {{{1, 1}, {3, -1}}, {{2, 1}, {3, 1}},  {{0, 1}, {0, 0}}},  /* M7 */
};

static int pairable(const sw_linear *l) {
    return !l->q8 && l->packed && l->in >= 2 && l->in % 2 == 0 && l->out >= 2 * NR && l->out % (2 * NR) == 0;
}

/* Row k of panel p of l's packed layout (sw_linear_pack): NR floats. */
static const float *packed_row(const sw_linear *l, int32_t kcm, int32_t np, int32_t k, int32_t p) {
    const int32_t k0 = k / kcm * kcm, kc = l->in - k0 < kcm ? l->in - k0 : kcm;
    return l->packed + ((size_t)k0 * np + (size_t)p * kc + (size_t)(k - k0)) * NR;
}

/* dst = the B sum b[0] (+-) b[1] of l, packed as a layer of K2 inputs and
 * N2 outputs: one task per panel of one K block of dst, so the helper
 * threads share the build as they share the products. */
typedef struct b_sum_job {
    float *dst;
    const sw_linear *l;
    const term *b;
    int32_t K2, N2;
} b_sum_job;

static void b_sum_task(void *arg, int32_t task, int32_t thread) {
    const b_sum_job *j = (const b_sum_job *)arg;
    const sw_linear *l = j->l;
    const term *b = j->b;
    const int32_t kcm = sw_gemm_k_block_depth(l->in), np = l->out / NR;
    const int32_t kcm2 = sw_gemm_k_block_depth(j->K2), np2 = j->N2 / NR;
    const int32_t k0 = task / np2 * kcm2, p = task % np2;
    const int32_t kc = j->K2 - k0 < kcm2 ? j->K2 - k0 : kcm2;
    float *d = j->dst + ((size_t)k0 * np2 + (size_t)p * kc) * NR;
    (void)thread;
    for (int32_t k = 0; k < kc; k++, d += NR) {
        const float *s0 = packed_row(l, kcm, np, (b[0].q >> 1) * j->K2 + k0 + k, (b[0].q & 1) * np2 + p);
        for (int c = 0; c < NR; c += 4) {
            v128_t v = wasm_v128_load(s0 + c);
            if (b[1].sign) {
                const float *s1 = packed_row(l, kcm, np, (b[1].q >> 1) * j->K2 + k0 + k, (b[1].q & 1) * np2 + p);
                const v128_t u = wasm_v128_load(s1 + c);
                v = b[1].sign < 0 ? wasm_f32x4_sub(v, u) : wasm_f32x4_add(v, u);
            }
            wasm_v128_store(d + c, v);
        }
    }
}

static void build_b_sum(float *dst, const sw_linear *l, const term b[2], int32_t K2, int32_t N2) {
    b_sum_job j = {dst, l, b, K2, N2};
    const int32_t kcm2 = sw_gemm_k_block_depth(K2);
    sw_parallel_for((K2 + kcm2 - 1) / kcm2 * (N2 / NR), b_sum_task, &j);
}

typedef struct paired_job {
    linear_job g;               /* the plan: m = pairs, l = the B sum as a K2 x N2 layer */
    const product *pr;
    const float *x;             /* the layer's input  [rows x in]  */
    float *y;                   /* the layer's output [rows x out] */
    int32_t in, out, K2, N2, act;
    const int32_t *top, *bot;   /* each pair's rows; bot[p] < 0: none */
    const float *bias;          /* the layer's, or NULL */
    int8_t write[2];            /* c[d] is first written by this product: y = bias + tile */
    int8_t final[2];            /* c[d] is complete after it: the activation runs */
} paired_job;

/* The row of quarter q (A or C: q >> 1 is the row half) in pair p, or -1. */
static int32_t pair_row(const paired_job *j, int32_t q, int32_t p) {
    return q >> 1 ? j->bot[p] : j->top[p];
}

/* Packs pairs [p0, p0 + rows) x columns [k0, k0 + kc) of the product's A
 * sum into a[k * MR + r] (pack_x's layout); missing rows are zero. */
static void pack_pairs(float *a, const paired_job *j, int32_t p0, int32_t rows, int32_t k0, int32_t kc) {
    const float *s[2][MR];
    for (int t = 0; t < 2; t++)
        for (int32_t r = 0; r < MR; r++) {
            const term at = j->pr->a[t];
            const int32_t row = at.sign && r < rows ? pair_row(j, at.q, p0 + r) : -1;
            s[t][r] = row >= 0 ? j->x + (size_t)row * j->in + (at.q & 1) * j->K2 + k0 : NULL;
        }
    const int neg = j->pr->a[1].sign < 0;
    int32_t k = 0;
    for (; MR % 2 == 0 && k + 4 <= kc; k += 4) {
        v128_t v[MR];
        for (int32_t r = 0; r < MR; r++) {
            v[r] = s[0][r] ? wasm_v128_load(s[0][r] + k) : wasm_f32x4_splat(0.0f);
            if (s[1][r]) {
                const v128_t u = wasm_v128_load(s[1][r] + k);
                v[r] = neg ? wasm_f32x4_sub(v[r], u) : wasm_f32x4_add(v[r], u);
            }
        }
        sw_pack_cols4(a + k * MR, v);
    }
    for (; k < kc; k++)
        for (int32_t r = 0; r < MR; r++) {
            float v = s[0][r] ? s[0][r][k] : 0.0f;
            if (s[1][r]) v = neg ? v - s[1][r][k] : v + s[1][r][k];
            a[k * MR + r] = v;
        }
}

/* Adds the tile t [rows x NR] of pairs p0.. at column `col` of the output
 * half into the product's quarters of y (writes it, plus the bias, where
 * this is the quarter's first product and the first K block). */
static void add_tile(const paired_job *j, const float *t, int32_t p0, int32_t rows, int32_t col, int first_k) {
    for (int d = 0; d < 2; d++) {
        const term ct = j->pr->c[d];
        if (!ct.sign) continue;
        const int write = first_k && j->write[d];
        const float *bias = write && j->bias ? j->bias + (ct.q & 1) * j->N2 + col : NULL;
        for (int32_t r = 0; r < rows; r++) {
            const int32_t row = pair_row(j, ct.q, p0 + r);
            if (row < 0) continue;
            float *yr = j->y + (size_t)row * j->out + (ct.q & 1) * j->N2 + col;
            for (int c = 0; c < NR; c += 4) {
                const v128_t v = wasm_v128_load(t + r * NR + c);
                const v128_t base = !write ? wasm_v128_load(yr + c)
                                  : bias   ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
                wasm_v128_store(yr + c, ct.sign < 0 ? wasm_f32x4_sub(base, v) : wasm_f32x4_add(base, v));
            }
        }
    }
}

/* One task of one product: pairs [r0, r1) x panels [p0, p1) of the output
 * half, all of K2; the loops of linear_task (linear_simd.c). */
static void paired_task(void *arg, int32_t task, int32_t thread) {
    const paired_job *j = (const paired_job *)arg;
    const linear_job *g = &j->g;
    const int32_t np = j->N2 / NR;
    const int32_t cb = task % g->ncb, rb = task / g->ncb;
    const int32_t p0 = cb * g->pb, p1 = p0 + g->pb < np ? p0 + g->pb : np;
    const int32_t r0 = rb * g->rows_per, r1 = r0 + g->rows_per < g->m ? r0 + g->rows_per : g->m;
    float a[GROUPS * MR * KC] __attribute__((aligned(16)));
    float t[MR * NR] __attribute__((aligned(16)));
    const int32_t sb = r1 - r0 <= GROUPS * MR ? GROUPS * MR : MR;
    (void)thread;
    for (int32_t k0 = 0; k0 < j->K2; k0 += g->kc_max) {
        const int32_t kc = j->K2 - k0 < g->kc_max ? j->K2 - k0 : g->kc_max;
        const int first = k0 == 0, last = k0 + kc == j->K2;
        const float *wb = g->l->packed + (size_t)k0 * np * NR;
        for (int32_t s0 = r0; s0 < r1; s0 += sb) {
            const int32_t n = r1 - s0 < sb ? r1 - s0 : sb;
            int32_t g0[GROUPS], gr[GROUPS];
            const int32_t ng = sw_gemm_groups(s0, n, g0, gr);
            for (int32_t q = 0; q < ng; q++)
                pack_pairs(a + (size_t)q * MR * KC, j, g0[q], gr[q], k0, kc);
            for (int32_t p = p0; p < p1; p++) {
                const float *wp = wb + (size_t)p * kc * NR;
                for (int32_t q = 0; q < ng; q++) {
                    sw_gemm_tile(a + (size_t)q * MR * KC, wp, kc, t, NR, gr[q], NULL, 0);
                    add_tile(j, t, g0[q], gr[q], p * NR, first);
                }
            }
            if (last && j->act) /* finished quarters: the activation, while in cache */
                for (int d = 0; d < 2; d++) {
                    if (!j->final[d]) continue;
                    const term ct = j->pr->c[d];
                    for (int32_t p = s0; p < s0 + n; p++) {
                        const int32_t row = pair_row(j, ct.q, p);
                        if (row >= 0)
                            sw_activate(j->y + (size_t)row * j->out + (ct.q & 1) * j->N2 + p0 * NR,
                                        (size_t)(p1 - p0) * NR, j->act);
                    }
                }
        }
    }
}

/* y = act(x W^T + b) on the rows named by the pairs (top, bot), with
 * bsum: K2 x N2 floats of scratch. */
static void paired_forward(const sw_linear *l, const float *x, float *y, const int32_t *top,
                           const int32_t *bot, int32_t pairs, float *bsum) {
    const int32_t K2 = l->in / 2, N2 = l->out / 2;
    int8_t first[4], lastp[4];
    for (int q = 0; q < 4; q++) first[q] = lastp[q] = -1;
    for (int8_t i = 0; i < 7; i++)
        for (int d = 0; d < 2; d++) {
            const term ct = PRODUCTS[i].c[d];
            if (!ct.sign) continue;
            if (first[ct.q] < 0) first[ct.q] = i;
            lastp[ct.q] = i;
        }
    for (int8_t i = 0; i < 7; i++) {
        const product *pr = &PRODUCTS[i];
        build_b_sum(bsum, l, pr->b, K2, N2);
        const sw_linear half = {K2, N2, NULL, NULL, bsum, NULL, NULL, 0};
        paired_job j;
        const int32_t tasks = sw_gemm_plan(&j.g, &half, NULL, pairs, NULL);
        j.pr = pr;
        j.x = x;
        j.y = y;
        j.in = l->in;
        j.out = l->out;
        j.K2 = K2;
        j.N2 = N2;
        j.act = l->act;
        j.top = top;
        j.bot = bot;
        j.bias = l->b;
        for (int d = 0; d < 2; d++) {
            const term ct = pr->c[d];
            j.write[d] = ct.sign && first[ct.q] == i;
            j.final[d] = ct.sign && lastp[ct.q] == i;
        }
        sw_parallel_for(tasks, paired_task, &j);
    }
}

void sw_linear_forward_seqs(const sw_linear *const *ls, int32_t n, const float *x, int32_t n_seq,
                            const int32_t *seq_lens, float *const *ys) {
    int32_t total = 0, pairs = 0;
    for (int32_t s = 0; s < n_seq; s++) {
        total += seq_lens[s];
        if (seq_lens[s] >= PAIRED_MIN_ROWS) pairs += (seq_lens[s] + 1) / 2;
    }
    int ok = pairs > 0;
    size_t quarter = 0;
    for (int32_t i = 0; ok && i < n; i++) {
        ok = pairable(ls[i]);
        const size_t qi = (size_t)(ls[i]->in / 2) * (size_t)(ls[i]->out / 2);
        if (qi > quarter) quarter = qi;
    }
    float *bsum = ok ? (float *)malloc(quarter * sizeof(float)) : NULL;
    int32_t *top = ok ? (int32_t *)malloc((size_t)pairs * 2 * sizeof(int32_t)) : NULL;
    if (!bsum || !top) { /* nothing long, a layer that cannot be halved, or no memory: the plain product */
        free(bsum);
        free(top);
        sw_linear_forward_many(ls, n, x, total, ys);
        return;
    }
    int32_t *bot = top + pairs;
    for (int32_t s = 0, off = 0, p = 0; s < n_seq; off += seq_lens[s], s++) {
        const int32_t len = seq_lens[s], h = (len + 1) / 2;
        if (len < PAIRED_MIN_ROWS) continue;
        for (int32_t i = 0; i < h; i++, p++) {
            top[p] = off + i;
            bot[p] = h + i < len ? off + h + i : -1;
        }
    }
    for (int32_t i = 0; i < n; i++) {
        const sw_linear *l = ls[i];
        /* runs of short sequences: the plain product */
        int32_t off = 0, run0 = 0, run = 0;
        for (int32_t s = 0; s <= n_seq; s++) {
            const int paired = s == n_seq || seq_lens[s] >= PAIRED_MIN_ROWS;
            if (paired && run > 0) {
                sw_linear_forward(l, x + (size_t)run0 * l->in, run, ys[i] + (size_t)run0 * l->out);
                run = 0;
            }
            if (s == n_seq) break;
            if (!paired) {
                if (run == 0) run0 = off;
                run += seq_lens[s];
            }
            off += seq_lens[s];
        }
        paired_forward(l, x, ys[i], top, bot, pairs, bsum);
    }
    free(bsum);
    free(top);
}

#endif /* __wasm_simd128__ */
