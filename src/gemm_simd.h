/*
 * gemm_simd.h — the parts of the SIMD128 Linear product (linear_simd.c)
 * that its other driver, the paired product of linear_paired.c, builds on:
 * the tile sizes, the packed layout's K blocks, the micro-kernel and the
 * task plan; and attention_simd.c, whose tile is a GEMM_TILE_FN too.
 * Internal to those files; include after <wasm_simd128.h>.
 */
#ifndef SW_GEMM_SIMD_H
#define SW_GEMM_SIMD_H

#include "kernels.h"

#include <stdint.h>
#include <wasm_simd128.h>

#include "simd_math.h" /* madd, in GEMM_TILE_FN */

/* The micro-tile: MR rows x NV f32x4 vectors. The plain build's 4 x 8 runs
 * at its mul + add peak; the relaxed build's multiply-adds are fused, with
 * 4 cycles of latency and 2 issued per cycle, so 8 accumulators leave it
 * waiting, and 6 x 8 (12 accumulators) runs ~15% faster (linear_simd.c
 * gives the measurements). -DSW_GEMM_MR / -DSW_GEMM_NV override, for
 * trying others with make bench-gemm; MR is 1..6. */
#ifndef SW_GEMM_MR
#ifdef SW_RELAXED_SIMD
#define SW_GEMM_MR 6
#else
#define SW_GEMM_MR 4
#endif
#endif
#ifndef SW_GEMM_NV
#define SW_GEMM_NV 2
#endif
#if SW_GEMM_MR < 1 || SW_GEMM_MR > 6
#error "SW_GEMM_MR: linear_simd.c has tiles of 1 to 6 rows"
#endif
#define MR SW_GEMM_MR         /* rows of x (and y) per micro-tile            */
#define NV SW_GEMM_NV         /* f32x4 column vectors per micro-tile         */
#define NR (4 * NV)           /* output columns per packed panel             */
#define KC 256                /* max K depth of one block                    */
#define W_BLOCK_BYTES (256 * 1024) /* target L2 footprint of one W block     */
#define GROUPS 4              /* row groups of MR per super-block (linear_task) */

/* The depth of the K blocks of a layer with `in` inputs: ceil(in / KC)
 * blocks of equal depth (the last one may be shorter), at most KC. The
 * packed layout (sw_linear_pack) is laid out by these blocks. */
int32_t sw_gemm_k_block_depth(int32_t in);

/* y[rows x NR] (row stride ldy) = (accumulate ? y : 0) + a^T w (+ bias),
 * rows = 1..MR. a: packed x block [kc x MR]; w: panel block [kc x NR];
 * bias: NR floats or NULL. */
void sw_gemm_tile(const float *a, const float *w, int32_t kc, float *y, size_t ldy,
                  int32_t rows, const float *bias, int accumulate);

/* How a product of m rows is cut into tasks: rows by row blocks, columns
 * by blocks of panels. */
typedef struct linear_job {
    const sw_linear *l;
    const float *x;
    float *y;
    int32_t m, kc_max;
    int32_t pb, ncb;        /* panels per column block, column blocks */
    int32_t rows_per;       /* rows per row block (a multiple of MR)  */
} linear_job;

/* Plans y = x W^T + b for the packed layer l and m > 0 rows; returns the
 * number of tasks (column block = task % ncb, row block = task / ncb). */
int32_t sw_gemm_plan(linear_job *j, const sw_linear *l, const float *x, int32_t m, float *y);

/* Cuts the n rows from s0 into ng <= GROUPS groups of near-equal size
 * (9 rows are 3 + 3 + 3, not 4 + 4 + 1: a short tile costs as much per
 * row as a full one); group q is rows [g0[q], g0[q] + gr[q]). n <= GROUPS * MR. */
static inline int32_t sw_gemm_groups(int32_t s0, int32_t n, int32_t g0[GROUPS], int32_t gr[GROUPS]) {
    const int32_t ng = (n + MR - 1) / MR, base = n / ng, extra = n % ng;
    for (int32_t q = 0; q < ng; q++) {
        g0[q] = s0 + q * base + (q < extra ? q : extra);
        gr[q] = base + (q < extra);
    }
    return ng;
}

/* The columns of the 4 x 4 block whose rows are r0..r3: c[j] = (r0[j],
 * r1[j], r2[j], r3[j]). */
static inline void sw_transpose4(v128_t r0, v128_t r1, v128_t r2, v128_t r3, v128_t c[4]) {
    const v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5);
    const v128_t t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
    const v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
    const v128_t t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
    c[0] = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
    c[1] = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
    c[2] = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
    c[3] = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

/* Writes the 4 columns of MR rows, v[r] = row r's 4 floats, in the packed
 * x layout: a[j * MR + r] = lane j of v[r]. For MR a multiple of 2 (the
 * callers use it only then; other MR pack one float at a time). */
static inline void sw_pack_cols4(float *a, const v128_t v[MR]) {
    v128_t c[4];
    int32_t r0 = 0;
    for (; r0 + 4 <= MR; r0 += 4) {
        sw_transpose4(v[r0], v[r0 + 1], v[r0 + 2], v[r0 + 3], c);
        for (int j = 0; j < 4; j++) wasm_v128_store(a + j * MR + r0, c[j]);
    }
    if (r0 + 2 == MR) { /* the last two rows: 2 floats per column */
        const v128_t z = wasm_f32x4_splat(0.0f);
        sw_transpose4(v[r0], v[r0 + 1], z, z, c);
        for (int j = 0; j < 4; j++) wasm_v128_store64_lane(a + j * MR + r0, c[j], 0);
    }
}

/* y[R x NR] (row stride ldy) = (accumulate ? y : 0) + a^T w (+ bias), for
 * R = 1..MR rows. a: packed x block [kc x MR] (rows past R unread); w: panel
 * block [kc x NR]; bias: NR floats or NULL. The loops over r and c have
 * constant bounds: clang unrolls them and keeps every accumulator in its
 * own local (register). Tiles of fewer rows are there for the rows left
 * over (a short text of 9 tokens runs as 3 + 3 + 3 rows in the plain
 * build): V8 issues mul and add separately, so R rows take about max(2R, 4)
 * cycles per k step against 8 for a full tile; each row's sums are the
 * same whatever R. GEMM_TILE_FN makes one such tile: R rows, NVV column
 * vectors, a packed with ASTEP floats per k (the product's MR; attention's
 * tiles are instances too). */
#define GEMM_TILE_FN(NAME, R, ASTEP, NVV)                                      \
    static void NAME(const float *a, const float *w, int32_t kc,              \
                     float *y, size_t ldy, const float *bias, int accumulate) { \
        v128_t acc[R][NVV];                                                    \
        for (int r = 0; r < R; r++)                                            \
            for (int c = 0; c < NVV; c++)                                      \
                acc[r][c] = accumulate ? wasm_v128_load(y + r * ldy + 4 * c)   \
                                       : wasm_f32x4_splat(0.0f);               \
        for (int32_t k = 0; k < kc; k++) {                                     \
            v128_t wv[NVV];                                                    \
            for (int c = 0; c < NVV; c++) wv[c] = wasm_v128_load(w + 4 * c);   \
            for (int r = 0; r < R; r++) {                                      \
                const v128_t b = wasm_v128_load32_splat(a + r);                \
                for (int c = 0; c < NVV; c++)                                  \
                    acc[r][c] = madd(b, wv[c], acc[r][c]);                     \
            }                                                                  \
            a += ASTEP;                                                        \
            w += 4 * NVV;                                                      \
        }                                                                      \
        if (bias)                                                              \
            for (int c = 0; c < NVV; c++) {                                    \
                const v128_t bv = wasm_v128_load(bias + 4 * c);                \
                for (int r = 0; r < R; r++) acc[r][c] = wasm_f32x4_add(acc[r][c], bv); \
            }                                                                  \
        for (int r = 0; r < R; r++)                                            \
            for (int c = 0; c < NVV; c++)                                      \
                wasm_v128_store(y + r * ldy + 4 * c, acc[r][c]);               \
    }

#endif /* SW_GEMM_SIMD_H */
