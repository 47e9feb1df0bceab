/*
 * linear_simd.c — WASM SIMD128 Linear layers (sw_linear_* of kernels.h), and
 * the two builds every *_simd.c file is compiled in.
 *
 * Compiled only when __wasm_simd128__ is defined (emcc -msimd128); elsewhere
 * the *_simd.c files are empty and kernels.c gives the unsuffixed names to
 * the references. Every function of those files is tested against its
 * `_ref` twin by tests/c/test_kernels.c (make test-wasm-kernels).
 *
 * Two builds of those files:
 *   plain SIMD128 (dist/sentence-wasm.wasm): no FMA, every multiply-accumulate
 *     is an f32x4.mul and an f32x4.add, so results differ from the references
 *     only by summation order and by the accuracy of the vector exp and
 *     GELU (~1e-7 relative; GELU 1.1e-6 absolute, elementwise_simd.c).
 *   relaxed SIMD (-mrelaxed-simd -DSW_RELAXED_SIMD, dist/sentence-wasm-relaxed.wasm):
 *     every multiply-accumulate, madd() of simd_math.h, is one f32x4.relaxed_madd,
 *     which the engine may fuse (one rounding instead of two). Used in the
 *     GEMM micro-kernel (so in every Linear layer and both attention
 *     products), the dot products, LayerNorm's variance and the exp/GELU/tanh
 *     polynomials. See relaxed_simd.h for how that opcode gets into the
 *     binary with clang 14 (a post-link rewrite: read it first).
 *
 * The SIMD128 kernels, a file each:
 *   linear_simd.c      Linear: packed-panel GEMM, register-blocked
 *                      micro-kernel (sizes and shared pieces in gemm_simd.h)
 *   linear_paired.c    the paired product of long sequences, built on them
 *   attention_simd.c   one attention head, on the GEMM's micro-kernel
 *   elementwise_simd.c activations, residual add + LayerNorm, dot
 *   kernels_int8.c     the int8 Linear layers and attention
 *   simd_math.h        madd, e^x, horizontal sums, shared by them
 */
#include "kernels.h"
#include "threads.h"

/* ISO C wants at least one declaration in a translation unit; kernels.h
 * provides some, and this keeps the file meaningful on its own. */
typedef int sw_linear_simd_unused;

#ifdef __wasm_simd128__

#include "sentence_wasm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#include "gemm_simd.h"
#include "simd_math.h"

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

/* The tiles of 1..MR rows (GEMM_TILE_FN: gemm_simd.h). */
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

#endif /* __wasm_simd128__ */
