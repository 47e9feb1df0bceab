/*
 * kernels_simd.c — WASM SIMD128 versions of the kernels in kernels.h.
 *
 * Compiled only when __wasm_simd128__ is defined (emcc -msimd128); elsewhere
 * this file is empty and kernels.c gives the unsuffixed names to the
 * references. Every function here is tested against its `_ref` twin by
 * tests/c/test_kernels.c (make test-wasm-kernels).
 *
 * Two builds of this file:
 *   plain SIMD128 (dist/sentence-wasm.wasm): no FMA, every multiply-accumulate
 *     is an f32x4.mul and an f32x4.add, so results differ from the references
 *     only by summation order and by the accuracy of the vector exp/erfc
 *     below (~1e-7 relative; GELU 2.5e-7).
 *   relaxed SIMD (-mrelaxed-simd -DSW_RELAXED_SIMD, dist/sentence-wasm-relaxed.wasm):
 *     every multiply-accumulate, madd() below, is one f32x4.relaxed_madd,
 *     which the engine may fuse (one rounding instead of two). Used in the
 *     GEMM micro-kernel (so in every Linear layer and both attention
 *     products), the dot products, LayerNorm's variance and the exp/erfc/tanh
 *     polynomials. See relaxed_simd.h for how that opcode gets into the
 *     binary with clang 14 (a post-link rewrite: read it first).
 *
 * Contents:
 *   Linear        packed-panel GEMM, register-blocked micro-kernel (sizes and
 *                 shared pieces in gemm_simd.h; the paired product of long
 *                 sequences, built on them, in linear_paired.c)
 *   vector math   exp, tanh on f32x4
 *   activations   GELU (erfc), GELU (tanh), ReLU, tanh, sigmoid
 *   LayerNorm     residual add + LayerNorm
 *   attention     one head: Q K^T and P V on a 4 x 8 tile of the GEMM micro-kernel, 8 query
 *                 rows at a time, scores transposed (row-by-row for short
 *                 sequences)
 *   dot
 */
#include "kernels.h"
#include "threads.h"

/* ISO C wants at least one declaration in a translation unit; kernels.h
 * provides some, and this keeps the file meaningful on its own. */
typedef int sw_kernels_simd_unused;

#ifdef __wasm_simd128__

#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "gemm_simd.h"

#ifdef SW_RELAXED_SIMD
#include "relaxed_simd.h"
#endif

/* a * b + c per lane: the multiply-accumulate of every kernel below. One
 * f32x4.relaxed_madd in the relaxed-SIMD build (fused where the CPU has FMA:
 * half the instructions of mul + add, and one rounding), else mul then add. */
static inline v128_t madd(v128_t a, v128_t b, v128_t c) {
#ifdef SW_RELAXED_SIMD
    return sw_relaxed_madd(a, b, c);
#else
    return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#endif
}

/* ==== Linear: packed layout ====
 *
 * y[m x out] = x[m x in] W^T + b. The micro-kernel computes an MR x NR tile
 * of y as MR*NV f32x4 accumulators (NR = 4*NV columns) that live in
 * registers for the whole K loop. Each step k loads NV vectors of W (one row
 * of a panel), broadcasts MR values of x, and does MR*NV mul+add pairs:
 *
 *     acc[r][c] += splat(a[k][r]) * wpanel[k][4c .. 4c+3]
 *
 * (one relaxed_madd in the relaxed-SIMD build; see madd() above).
 *
 * W is packed once (sw_linear_pack) into panels of NR output columns, each
 * K-major, K block by K block (see sw_linear_pack for the offsets), zero
 * past `out`. So a step of the micro-kernel reads NR consecutive floats,
 * and one K block of all panels is one contiguous stream.
 *
 * x is repacked per call, MR rows at a time, into a[k][r] (k-major), so the
 * broadcasts are loads at fixed offsets from a single pointer.
 *
 * Why 4 x 8 (8 accumulators) in the plain build: on x86-64, V8 maps f32x4
 * to the 16 xmm registers and keeps xmm15 as its scratch, and TurboFan
 * issues all MR broadcasts of a step up front. 8 accumulators + 2 W vectors
 * + 4 broadcasts fit; 4x12 spilled 4 accumulators to the stack every step,
 * and 5x8, 6x8, 3x16, 4x16 spilled too. Measured with bench/gemm_bench.c
 * (make bench-gemm), the 4x8 tile runs at the speed of a register-only
 * mul+add loop (4x12: ~90%, 3x12: ~95%, 5x8/6x8: ~85%).
 *
 * Why 6 x 8 (12 accumulators) in the relaxed build: one relaxed_madd per
 * step and column vector, fused on x86 with FMA3, whose 4 cycles of latency
 * at 2 per cycle need 8 independent sums in flight: 4 x 8 has exactly 8
 * and ran at 62% of the register-only relaxed_madd peak. Alternating the
 * builds' make bench-gemm runs on a quiet machine (2026-11-27, GFLOP/s at
 * 4096x384x384 / 4096x384x1536 / 4096x1536x384, fast minutes): 4x8
 * 30.3 / 30.6 / 30.2, 6x8 35.1 / 36.0 / 34.7, 3x12 35.8 / 37.0 / 34.5,
 * 5x8 33.6 / 34.5 / 33.6, 2x16 31.7 / 33.1 / 31.8, 4x12 and 3x16 spilled
 * (15-28). 6x8 also did best at 16 rows; 3x12 did as well on the big shapes
 * but its 12-column panels leave a 1024-wide layer with an edge panel and
 * unpaired. The sums, in the same order whatever the tile, give the same
 * bits as 4 x 8. Attention keeps its own 4 x 8 (att_tile).
 *
 * Cache blocking: K is cut into blocks of at most KC so that one W panel
 * block (KC x NR floats) plus the packed x block (MR x KC) stay in L1 while
 * a tile runs, and the columns are cut so that the KC x NC block of W being
 * swept for every row group stays in L2. y is partial-summed across K
 * blocks; the bias is added with the last one. A task of at most GROUPS * MR
 * rows packs all its groups first and runs each panel block for all of
 * them (see linear_task).
 *
 * A short text (a few rows) uses each weight only a few times, so its
 * products are bound by reading W from memory: the weights of the six
 * layers of a MiniLM-L6 (42 MB as floats) do not fit in the last-level
 * cache. Hence the K-block-major layout (W read in address order), one
 * pass over W for up to GROUPS * MR rows, and tiles of fewer rows for what
 * is left over (gemm_tile_1 .. gemm_tile_<MR - 1>). make bench-gemm prints this case as
 * "6 layers, m=... rows".
 *
 * The tile sizes (MR, NV, NR, KC, GROUPS) and the pieces the paired
 * product of linear_paired.c reuses are declared in gemm_simd.h.
 */

/* gemm_simd.h says what this is; packing and every forward pass must agree
 * on it. */
int32_t sw_gemm_k_block_depth(int32_t in) {
    const int32_t nkb = (in + KC - 1) / KC;
    return (in + nkb - 1) / nkb;
}

/* Packed layout, K block by K block: block kb (rows k0 .. k0+kc of W^T) is
 * np panels of kc x NR floats, panel p at (k0 * np + p * kc) * NR, columns
 * past `out` zero. A pass over one K block, panel after panel, so reads W
 * in address order: for a few rows (one short text) every weight comes
 * from memory, and a sequential stream is what the prefetcher serves best. */
int sw_linear_pack(sw_linear *l) {
    size_t in = (size_t)(l->in > 0 ? l->in : 0);
    size_t out = (size_t)(l->out > 0 ? l->out : 0);
    size_t np = (out + NR - 1) / NR;
    sw_linear_unpack(l);
    if (in == 0 || np == 0) return 0;          /* nothing to pack: unpacked path */
    float *p = malloc(sizeof(float) * np * NR * in);
    if (!p) return -1;
    const size_t kcm = (size_t)sw_gemm_k_block_depth((int32_t)in);
    for (size_t k0 = 0; k0 < in; k0 += kcm) {
        const size_t kc = in - k0 < kcm ? in - k0 : kcm;
        for (size_t pn = 0; pn < np; pn++) {
            float *panel = p + (k0 * np + pn * kc) * NR;
            for (size_t c = 0; c < NR; c++) {
                size_t o = pn * NR + c;
                const float *wo = l->w + o * in + k0;
                if (o < out) for (size_t k = 0; k < kc; k++) panel[k * NR + c] = wo[k];
                else         for (size_t k = 0; k < kc; k++) panel[k * NR + c] = 0.0f;
            }
        }
    }
    l->packed = p;
    return 0;
}

void sw_linear_unpack(sw_linear *l) {
    free(l->packed);
    l->packed = NULL;
}

/* ==== Linear: micro-kernel ==== */

/* Packs rows [0, rows) x cols [0, kc) of x (row stride ldx) into
 * a[k*MR + r]; rows past `rows` are zero (their results are discarded). */
static void pack_x(float *a, const float *x, size_t ldx, int32_t rows, int32_t kc) {
    int32_t k = 0;
    if (rows == MR && MR % 2 == 0) /* transposes, 4 columns per step */
        for (; k + 4 <= kc; k += 4) {
            v128_t v[MR];
            for (int32_t r = 0; r < MR; r++) v[r] = wasm_v128_load(x + (size_t)r * ldx + k);
            sw_pack_cols4(a + k * MR, v);
        }
    for (; k < kc; k++)
        for (int32_t r = 0; r < MR; r++)
            a[k * MR + r] = r < rows ? x[(size_t)r * ldx + k] : 0.0f;
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
GEMM_TILE_FN(gemm_tile_1, 1, MR, NV)
#if MR >= 2
GEMM_TILE_FN(gemm_tile_2, 2, MR, NV)
#endif
#if MR >= 3
GEMM_TILE_FN(gemm_tile_3, 3, MR, NV)
#endif
#if MR >= 4
GEMM_TILE_FN(gemm_tile_4, 4, MR, NV)
#endif
#if MR >= 5
GEMM_TILE_FN(gemm_tile_5, 5, MR, NV)
#endif
#if MR >= 6
GEMM_TILE_FN(gemm_tile_6, 6, MR, NV)
#endif
#if MR > 6
#error "MR > 6: add its tiles"
#endif
/* gemm_tile_<MR>, the full tile */
#define TILE_MR_(R) gemm_tile_##R
#define TILE_MR(R) TILE_MR_(R)

void sw_gemm_tile(const float *a, const float *w, int32_t kc, float *y, size_t ldy,
                           int32_t rows, const float *bias, int accumulate) {
    switch (rows) {
#if MR >= 2
    case 1:  gemm_tile_1(a, w, kc, y, ldy, bias, accumulate); break;
#endif
#if MR >= 3
    case 2:  gemm_tile_2(a, w, kc, y, ldy, bias, accumulate); break;
#endif
#if MR >= 4
    case 3:  gemm_tile_3(a, w, kc, y, ldy, bias, accumulate); break;
#endif
#if MR >= 5
    case 4:  gemm_tile_4(a, w, kc, y, ldy, bias, accumulate); break;
#endif
#if MR >= 6
    case 5:  gemm_tile_5(a, w, kc, y, ldy, bias, accumulate); break;
#endif
    default: TILE_MR(MR)(a, w, kc, y, ldy, bias, accumulate); break;
    }
}

/* The tile for which only rows x cols are valid (1 <= rows <= MR,
 * cols <= NR; the packed inputs are zero past them). Full-width tiles
 * write y directly; a narrower one runs on a copy and the valid part is
 * written back, so nothing outside the tile is read or written. */
static void gemm_tile_edge(const float *a, const float *w, int32_t kc, float *y, size_t ldy,
                           int32_t rows, int32_t cols, const float *bias, int accumulate) {
    float t[MR * NR] __attribute__((aligned(16)));
    float tb[NR] __attribute__((aligned(16)));
    if (cols == NR) {
        sw_gemm_tile(a, w, kc, y, ldy, rows, bias, accumulate);
        return;
    }
    memset(t, 0, sizeof t);
    if (accumulate)
        for (int32_t r = 0; r < rows; r++) memcpy(t + r * NR, y + (size_t)r * ldy, sizeof(float) * cols);
    if (bias) {
        memset(tb, 0, sizeof tb);
        memcpy(tb, bias, sizeof(float) * cols);
    }
    sw_gemm_tile(a, w, kc, t, NR, rows, bias ? tb : NULL, accumulate);
    for (int32_t r = 0; r < rows; r++) memcpy(y + (size_t)r * ldy, t + r * NR, sizeof(float) * cols);
}

/* ==== Linear: driver ==== */

/* The path for a layer that was never packed: one SIMD dot per output. */
static void linear_unpacked(const sw_linear *l, const float *x, int32_t m, float *y) {
    for (int32_t i = 0; i < m; i++) {
        const float *xi = x + (size_t)i * l->in;
        float *yi = y + (size_t)i * l->out;
        for (int32_t o = 0; o < l->out; o++)
            yi[o] = sw_dot(xi, l->w + (size_t)o * l->in, l->in) + (l->b ? l->b[o] : 0.0f);
        sw_activate(yi, (size_t)l->out, l->act);
    }
}

/* One task of a product: rows [r0, r1) x panels [p0, p1) of y, all of K.
 * Rows go by super-blocks: a short task's rows (up to GROUPS row groups of
 * MR, 16 KB packed) are packed once per K block and every panel block of W
 * serves all of them while it sits in L1, so W streams through once; a
 * long task goes one group at a time (the reason is at `sb` below).
 * The loop order, and so every sum, is the same whatever the split: results
 * do not depend on the thread count. */
static void linear_task(void *arg, int32_t task, int32_t thread) {
    const linear_job *j = (const linear_job *)arg;
    const sw_linear *l = j->l;
    const int32_t in = l->in, out = l->out, np = (out + NR - 1) / NR;
    const int32_t cb = task % j->ncb, rb = task / j->ncb;
    const int32_t p0 = cb * j->pb, p1 = p0 + j->pb < np ? p0 + j->pb : np;
    const int32_t r0 = rb * j->rows_per, r1 = r0 + j->rows_per < j->m ? r0 + j->rows_per : j->m;
    /* packed x super-block, on this thread's stack */
    float a[GROUPS * MR * KC] __attribute__((aligned(16)));
    /* Rows per super-block: all of a short task's rows; one group at a
     * time in a long one, where W comes from L2 anyway and four packed
     * groups (16 KB, each 4 KB apart) crowded the panel out of L1
     * (measured: 50-60% of peak against 90-100%). */
    const int32_t sb = r1 - r0 <= GROUPS * MR ? GROUPS * MR : MR;
    (void)thread;
    for (int32_t k0 = 0; k0 < in; k0 += j->kc_max) {
        const int32_t kc = in - k0 < j->kc_max ? in - k0 : j->kc_max;
        const int accumulate = k0 > 0, last = k0 + kc == in;
        const float *wb = l->packed + (size_t)k0 * np * NR;
        for (int32_t s0 = r0; s0 < r1; s0 += sb) {
            int32_t g0[GROUPS], gr[GROUPS];
            const int32_t ng = sw_gemm_groups(s0, r1 - s0 < sb ? r1 - s0 : sb, g0, gr);
            for (int32_t g = 0; g < ng; g++)
                pack_x(a + (size_t)g * MR * KC, j->x + (size_t)g0[g] * in + k0, (size_t)in, gr[g], kc);
            for (int32_t p = p0; p < p1; p++) {
                const int32_t col = p * NR;
                const int32_t cols = out - col < NR ? out - col : NR;
                const float *wp = wb + (size_t)p * kc * NR;
                const float *bias = last && l->b ? l->b + col : NULL;
                for (int32_t g = 0; g < ng; g++)
                    gemm_tile_edge(a + (size_t)g * MR * KC, wp, kc, j->y + (size_t)g0[g] * out + col,
                                   (size_t)out, gr[g], cols, bias, accumulate);
            }
            if (last) /* these rows' columns are final: the activation, while they are in cache */
                for (int32_t g = 0; g < ng; g++)
                    sw_activate_rows(j->y + (size_t)g0[g] * out, (size_t)out, gr[g], p0 * NR,
                                     p1 * NR < out ? p1 * NR : out, l->act);
        }
    }
}

/* Below this many multiply-adds a product is not worth waking helpers for. */
#define PARALLEL_MIN_MACS (1 << 17)
/* Tasks per thread, at most: taken dynamically, so a slow thread takes
 * fewer, and the wait for the last one (a job's tail) is short. */
#define TASKS_PER_THREAD 16
/* Multiply-adds per task, at least (~8 us): taking a task is one atomic
 * add, but a task also re-reads its part of x. */
#define TASK_MIN_MACS (1 << 16)
/* Column blocks per thread for a few rows, whose product is bound by
 * reading W from memory: a task reads its columns' part of every K block,
 * so the many narrow blocks of TASKS_PER_THREAD, taken in turn by the
 * threads, cut each thread's read of W into short pieces, and the
 * prefetcher starts over on each. Measured (one 9-token text, 2 threads,
 * p50 of 100 encodes, three alternations): the plan above (10 per thread
 * for 9 rows of a 384 x 384 layer, by TASK_MIN_MACS) 9.0 ms, 2 per
 * thread 7.6 ms, 1 per thread 7.5 ms with a longer tail. */
#define SMALL_M_TASKS_PER_THREAD 2

/* Splits y = x W^T + b into tasks (a packed layer, m > 0); returns how many. */
int32_t sw_gemm_plan(linear_job *j, const sw_linear *l, const float *x, int32_t m, float *y) {
    const int32_t in = l->in, out = l->out;
    *j = (linear_job){l, x, y, m, sw_gemm_k_block_depth(in), 0, 0, m};
    /* Column blocks: as many panels as keep kc_max x NC of W near W_BLOCK_BYTES,
     * balanced so the last block is not a sliver. */
    const int32_t np = (out + NR - 1) / NR;
    j->pb = (int32_t)(W_BLOCK_BYTES / ((size_t)j->kc_max * NR * sizeof(float)));
    if (j->pb < 1) j->pb = 1;
    j->ncb = (np + j->pb - 1) / j->pb;
    j->pb = (np + j->ncb - 1) / j->ncb;

    /* With helper threads: a few rows (one super-block: a short text) are
     * split by columns only, so that each weight is still read once, into
     * SMALL_M_TASKS_PER_THREAD blocks per thread; more rows are split by
     * rows first, in whole super-blocks where there are enough of them,
     * then by columns. */
    const int32_t nt = sw_threads_count();
    const int64_t macs = (int64_t)m * in * out;
    if (nt > 1 && macs >= PARALLEL_MIN_MACS) {
        const int32_t groups = (m + MR - 1) / MR;
        int32_t want = groups <= GROUPS ? SMALL_M_TASKS_PER_THREAD * nt : TASKS_PER_THREAD * nt;
        if (groups > GROUPS && macs / TASK_MIN_MACS < want) /* fewer, but a multiple of nt: 5 tasks on 2 threads idle one for a task */
            want = macs / TASK_MIN_MACS > nt ? (int32_t)(macs / TASK_MIN_MACS) / nt * nt : nt;
        if (groups <= GROUPS) {
            if (j->ncb < want) {
                j->pb = (np + want - 1) / want;
                j->ncb = (np + j->pb - 1) / j->pb;
            }
        } else if (j->ncb < want) {
            const int32_t unit = groups >= GROUPS * want / j->ncb ? GROUPS : 1; /* groups per step */
            const int32_t units = (groups + unit - 1) / unit;
            int32_t nrb = (want + j->ncb - 1) / j->ncb;
            if (nrb > units) nrb = units;
            j->rows_per = (units + nrb - 1) / nrb * unit * MR;
            nrb = (m + j->rows_per - 1) / j->rows_per;
            int32_t ncb = (want + nrb - 1) / nrb;
            if (ncb > np) ncb = np;
            if (ncb > j->ncb) {
                j->pb = (np + ncb - 1) / ncb;
                j->ncb = (np + j->pb - 1) / j->pb;
            }
        }
    }
    return j->ncb * ((m + j->rows_per - 1) / j->rows_per);
}

void sw_linear_forward(const sw_linear *l, const float *x, int32_t m, float *y) {
    if (m <= 0 || l->out <= 0) return;
    if (l->q8) { sw_linear_forward_q8(l, x, m, y); return; } /* dtype int8: kernels_int8.c */
    if (!l->packed || l->in <= 0) { linear_unpacked(l, x, m, y); return; }
    linear_job j;
    sw_parallel_for(sw_gemm_plan(&j, l, x, m, y), linear_task, &j);
}

/* Several products of the same x as one job (a layer's Q, K and V): one
 * hand-over to the helpers and one wait at the end instead of one each. */
typedef struct linear_many_job {
    linear_job jobs[SW_LINEAR_MANY_MAX];
    int32_t first[SW_LINEAR_MANY_MAX + 1]; /* task ranges, one per product */
} linear_many_job;

static void linear_many_task(void *arg, int32_t task, int32_t thread) {
    const linear_many_job *mj = (const linear_many_job *)arg;
    int32_t i = 0;
    while (task >= mj->first[i + 1]) i++;
    linear_task((void *)&mj->jobs[i], task - mj->first[i], thread);
}

void sw_linear_forward_many(const sw_linear *const *ls, int32_t n, const float *x, int32_t m, float *const *ys) {
    int fused = n >= 1 && n <= SW_LINEAR_MANY_MAX && m > 0;
    for (int32_t i = 0; fused && i < n; i++)
        fused = !ls[i]->q8 && ls[i]->packed && ls[i]->in > 0 && ls[i]->out > 0;
    if (!fused) { /* int8 or unpacked layers: one by one */
        for (int32_t i = 0; i < n; i++) sw_linear_forward(ls[i], x, m, ys[i]);
        return;
    }
    linear_many_job mj;
    mj.first[0] = 0;
    for (int32_t i = 0; i < n; i++) mj.first[i + 1] = mj.first[i] + sw_gemm_plan(&mj.jobs[i], ls[i], x, m, ys[i]);
    sw_parallel_for(mj.first[n], linear_many_task, &mj);
}

/* ==== vector math: exp, tanh on f32x4 (erfc: in v_gelu) ====
 *
 * Polynomial coefficients were fitted (Chebyshev, mpmath.chebyfit) for this
 * file and checked against double precision over every float of the
 * ranges, evaluated exactly as below (mul then add, no FMA):
 *   v_exp         max rel error 1.2e-7 (1.9 ulp) on [-87.3, 88.7]
 *   v_exp_nonpos  max rel error 1.2e-7 on [-86, 0]
 *   v_gelu        see there (its erfc is inline)
 * The relaxed-SIMD build evaluates the same expressions with madd() fused
 * (where the CPU has FMA), which only removes roundings; the same sweep of
 * every float through that build (node 20, x86-64 with FMA3) gave
 *   v_exp         max rel error 1.2e-7,   v_exp_nonpos  max rel error 9.1e-8.
 * v_exp and v_tanh use Estrin's scheme rather than Horner's, for a shorter
 * dependency chain (~0.1 ulp more error). The newer functions use Horner
 * (fewer operations) and are run where many independent vectors are in
 * flight: the softmax loop, GELU in passes (act_gelu says why).
 */

static inline v128_t splat(float v) { return wasm_f32x4_splat(v); }
/* c0 + c1 x, the building block of Estrin's scheme */
static inline v128_t lin(float c0, float c1, v128_t x) { return madd(splat(c1), x, splat(c0)); }

/* e^x. Range reduction x = n ln2 + r, |r| <= ln2/2: n is rounded by adding
 * 1.5*2^23 (its low mantissa bits are then n as an integer), ln2 is split in
 * two for Cody-Waite. e^r is a degree-6 minimax polynomial. The scale 2^n is
 * applied as two factors 2^(n/2) and 2^(n - n/2), each built in the exponent
 * bits, so n in [-150, 128] needs no special case: like expf, the result
 * overflows to +inf above ~88.72 and goes through the subnormals to 0 below
 * ~-87.3. */
static inline v128_t v_exp(v128_t x) {
    const v128_t magic = splat(12582912.0f);
    v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, splat(-104.0f)), splat(89.0f));
    v128_t t = madd(xc, splat(1.44269504088896341f), magic);
    v128_t n = wasm_f32x4_sub(t, magic);
    v128_t ni = wasm_i32x4_sub(t, magic);
    v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, splat(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, splat(-2.12194440e-4f)));
    v128_t r2 = wasm_f32x4_mul(r, r);
    v128_t r2c = wasm_f32x4_pmax(r2, splat(1e-18f));
    v128_t r4 = wasm_f32x4_mul(r2c, r2c);   /* never subnormal (x86 assists) */
    v128_t p23 = lin(0.5000000047117757f, 0.16666415514653277f, r);
    v128_t p456 = madd(r2, splat(0.0013941108433972674f), lin(0.04166635289677516f, 0.008375126398153335f, r));
    v128_t q = madd(r2, p23, wasm_f32x4_mul(splat(1.000000037716214f), r));
    v128_t p = wasm_f32x4_add(splat(1.0f), madd(r4, p456, q));
    v128_t n1 = wasm_i32x4_shr(ni, 1), n2 = wasm_i32x4_sub(ni, n1);
    v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, wasm_i32x4_splat(127)), 23);
    v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, wasm_i32x4_splat(127)), 23);
    return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

/* e^x for x <= 0, as softmax needs it (x = score - max): the same
 * reduction and degree-6 polynomial as v_exp, cheaper for that range. x is
 * clamped to >= -86, so 2^n (n >= -124) scales p in [0.7, 1.5) by an
 * integer add to its exponent bits and stays normal: e^x below e^-86
 * (~4e-38) comes out as ~e^-86, which next to the max's weight of 1 changes
 * no sum. Horner, not Estrin: softmax runs many independent exps, so
 * throughput counts, not latency; it is 22 operations (v_exp: 33). Checked
 * against double-precision exp over every float of [-86, 0], evaluated as
 * below: max rel error 1.2e-7 (plain build), 9.1e-8 (relaxed build, fused;
 * node 20, x86-64 with FMA3). NaN stays NaN. */
static inline v128_t v_exp_nonpos(v128_t x) {
    const v128_t magic = splat(12582912.0f);
    const v128_t xc = wasm_f32x4_pmax(x, splat(-86.0f));
    const v128_t t = madd(xc, splat(1.44269504088896341f), magic);
    const v128_t n = wasm_f32x4_sub(t, magic);
    v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, splat(0.693359375f)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, splat(-2.12194440e-4f)));
    v128_t p = madd(splat(0.0013941108433972674f), r, splat(0.008375126398153335f));
    p = madd(p, r, splat(0.04166635289677516f));
    p = madd(p, r, splat(0.16666415514653277f));
    p = madd(p, r, splat(0.5000000047117757f));
    p = madd(p, r, splat(1.000000037716214f));
    p = madd(p, r, splat(1.0f));
    return wasm_i32x4_add(p, wasm_i32x4_shl(t, 23));
}

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
static void act_gelu(float *x, size_t n) {
    float ea[GELU_BLOCK] __attribute__((aligned(16)));
    float ta[GELU_BLOCK] __attribute__((aligned(16)));
    size_t i = 0;
    for (; i + GELU_BLOCK <= n; i += GELU_BLOCK) {
        float *xb = x + i;
        for (int j = 0; j < GELU_BLOCK; j += 4) {
            v128_t t;
            wasm_v128_store(ea + j, gelu_arg(wasm_v128_load(xb + j), &t));
            wasm_v128_store(ta + j, t);
        }
        for (int j = 0; j < GELU_BLOCK; j += 4) wasm_v128_store(ea + j, v_exp_nonpos(wasm_v128_load(ea + j)));
        for (int j = 0; j < GELU_BLOCK; j += 4)
            wasm_v128_store(xb + j, gelu_finish(wasm_v128_load(xb + j), wasm_v128_load(ta + j),
                                                wasm_v128_load(ea + j)));
    }
    act_gelu_tail(x + i, n - i);
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

static inline float hsum(v128_t v) {
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

static inline float hmax(v128_t v) {
    v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(v, 0);
}

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
