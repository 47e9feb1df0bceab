/*
 * gemm_bench.c — how close sw_linear_forward comes to this machine's WASM
 * SIMD128 f32 peak, and the int8 GEMM (dtype 'int8', kernels_int8.c) next to
 * it in multiply-accumulates per second.
 *
 * The peak is measured, not looked up: loops of f32x4 mul+add over 4..12
 * independent accumulators that never leave registers, best of several runs.
 * SIMD128 has no FMA, so a "flop pair" is one f32x4.mul plus one f32x4.add
 * (8 flops). Then sw_linear_forward runs on the BERT-base/MiniLM shapes and
 * the ratio is printed.
 *
 * Built twice by make bench-gemm: plain SIMD128, and the relaxed-SIMD build
 * (-mrelaxed-simd -DSW_RELAXED_SIMD, rewritten by tools/relax_simd.mjs, run
 * with node --experimental-wasm-relaxed-simd). There the peak loops are one
 * f32x4.relaxed_madd per step (8 flops; a single FMA instruction where the
 * CPU has one) and sw_linear_forward is the engine's relaxed build, so each
 * build's GEMM is measured against its own peak.
 *
 * The int8 peak is the same kind of loop on i32x4.dot_i16x8_s + i32x4.add
 * (8 multiply-adds per pair, against 4 for f32x4 mul + add).
 *
 * Build and run: make bench-gemm (needs emcc and node). Built with
 * -std=gnu99: the CPU-time clock below is an EM_ASM call, which Emscripten
 * refuses in strict -std=c99. Natively (cc, no SIMD128) it times the
 * reference path and skips the peak.
 */
#include "kernels.h"
#ifdef SW_RELAXED_SIMD
#include "relaxed_simd.h"
#endif

#include "sentence_wasm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times are the process's CPU time, not wall time: on a shared machine the
 * wall clock also counts the time other processes held the core. */
#ifdef __EMSCRIPTEN__
#include <emscripten.h>
static double now_ms(void) {
    return EM_ASM_DOUBLE({
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
    });
}
#else
#include <time.h>
static double now_ms(void) { return 1e3 * (double)clock() / CLOCKS_PER_SEC; }
#endif

/* ==== peak: register-resident mul+add chains ==== */

#ifdef __wasm_simd128__
#include <wasm_simd128.h>

/* One step of a chain: acc * a + b, as the engine's build does it. */
#ifdef SW_RELAXED_SIMD
#define PEAK_OP "f32x4.relaxed_madd"
static inline v128_t peak_step(v128_t acc, v128_t a, v128_t b) { return sw_relaxed_madd(acc, a, b); }
#else
#define PEAK_OP "f32x4 mul+add"
static inline v128_t peak_step(v128_t acc, v128_t a, v128_t b) {
    return wasm_f32x4_add(wasm_f32x4_mul(acc, a), b);
}
#endif

/* `n` chains of acc = acc * a + b. Each step is a dependent mul then add (or
 * one relaxed_madd), so latency hides behind the other chains; with enough
 * chains the loop runs at the issue rate of the FP ports. Returns a value so
 * nothing is optimised away. Not inlined: V8 runs a function's first calls
 * in its baseline compiler (Liftoff) and switches to optimised code only on
 * a later call, so the timed loop must be its own, repeatedly called,
 * function. */
#define PEAK_FN(N)                                                            \
    __attribute__((noinline))                                                 \
    static float peak_##N(long iters, float a0, float b0) {                   \
        v128_t a = wasm_f32x4_splat(a0), b = wasm_f32x4_splat(b0), acc[N];    \
        for (int i = 0; i < N; i++) acc[i] = wasm_f32x4_splat((float)i);      \
        for (long it = 0; it < iters; it++)                                   \
            for (int i = 0; i < N; i++)                                       \
                acc[i] = peak_step(acc[i], a, b);                             \
        v128_t s = acc[0];                                                    \
        for (int i = 1; i < N; i++) s = wasm_f32x4_add(s, acc[i]);            \
        return wasm_f32x4_extract_lane(s, 0);                                 \
    }
PEAK_FN(4)
PEAK_FN(6)
PEAK_FN(8)
PEAK_FN(10)
PEAK_FN(12)

/* The same with i32x4.dot_i16x8_s + i32x4.add: acc = acc + dot(acc, a),
 * a dependent chain per accumulator like the f32 one. */
#define IPEAK_FN(N)                                                           \
    __attribute__((noinline))                                                 \
    static int ipeak_##N(long iters, int a0) {                                \
        v128_t a = wasm_i16x8_splat((int16_t)a0), acc[N];                     \
        for (int i = 0; i < N; i++) acc[i] = wasm_i32x4_splat(i);             \
        for (long it = 0; it < iters; it++)                                   \
            for (int i = 0; i < N; i++)                                       \
                acc[i] = wasm_i32x4_add(acc[i], wasm_i32x4_dot_i16x8(acc[i], a)); \
        v128_t s = acc[0];                                                    \
        for (int i = 1; i < N; i++) s = wasm_i32x4_add(s, acc[i]);            \
        return wasm_i32x4_extract_lane(s, 0);                                 \
    }
IPEAK_FN(4)
IPEAK_FN(8)
IPEAK_FN(12)

/* The timer calls do not touch the loop's registers, so the compiler may move
 * the loop across them; reading the inputs from and writing the result to
 * volatiles between the calls pins it in place. */
static volatile float sink, in_a = 0.9999f, in_b = 1e-5f;

/* GFLOP/s of the best of `reps` runs of one chain count. */
static double peak_run(int n, long iters, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        float a = in_a, b = in_b, v;
        switch (n) {
        case 4:  v = peak_4(iters, a, b); break;
        case 6:  v = peak_6(iters, a, b); break;
        case 8:  v = peak_8(iters, a, b); break;
        case 10: v = peak_10(iters, a, b); break;
        default: v = peak_12(iters, a, b); break;
        }
        sink = v;
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    return 8.0 * n * (double)iters / (best * 1e6);
}

static volatile int isink, in_i = 3;

/* GMAC/s (8 multiply-adds per dot) of the best of `reps` runs. */
static double ipeak_run(int n, long iters, int reps) {
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        int a = in_i, v;
        switch (n) {
        case 4:  v = ipeak_4(iters, a); break;
        case 8:  v = ipeak_8(iters, a); break;
        default: v = ipeak_12(iters, a); break;
        }
        isink = v;
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    return 8.0 * n * (double)iters / (best * 1e6);
}
#endif

/* ==== sw_linear_forward ==== */

static float frand(unsigned *s) {
    *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5;
    return (float)(*s >> 8) / 16777216.0f - 0.5f;
}

static double gemm_run(int m, int in, int out, int reps, int warmup, double *first) {
    unsigned seed = 12345;
    sw_linear l = {in, out, NULL, NULL, NULL, NULL, NULL, SW_ACT_IDENTITY};
    float *x = malloc(sizeof(float) * (size_t)m * in);
    float *y = malloc(sizeof(float) * (size_t)m * out);
    l.w = malloc(sizeof(float) * (size_t)in * out);
    l.b = malloc(sizeof(float) * (size_t)out);
    if (!x || !y || !l.w || !l.b) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < (size_t)m * in; i++) x[i] = frand(&seed);
    for (size_t i = 0; i < (size_t)in * out; i++) l.w[i] = frand(&seed);
    for (int i = 0; i < out; i++) l.b[i] = frand(&seed);
    if (sw_linear_pack(&l) != 0) { fprintf(stderr, "pack failed\n"); exit(1); }
    /* The first call of the run is the one V8 runs in its baseline compiler
     * (Liftoff); it tiers up to TurboFan in the background, for later calls. */
    double t0 = now_ms();
    sw_linear_forward(&l, x, m, y);
    *first = 2.0 * m * in * out / ((now_ms() - t0) * 1e6);
    for (int r = 0; r < warmup; r++) sw_linear_forward(&l, x, m, y);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t1 = now_ms();
        sw_linear_forward(&l, x, m, y);
        double t = now_ms() - t1;
        if (t < best) best = t;
    }
    sw_linear_unpack(&l);
    free(x); free(y); free(l.w); free(l.b);
    return 2.0 * m * in * out / (best * 1e6);
}

/* The same layer (same x, W, b) as float32 (packed) and as int8
 * (sw_linear_quantize), timed in alternation, best of `reps` each, in
 * GMAC/s: on a shared machine both see the same conditions, so their ratio
 * means more than either number. The int8 time includes quantizing x. */
static void gemm_q8_vs_f32(int m, int in, int out, int reps, double *q8, double *f32) {
    unsigned seed = 12345;
    sw_linear lf = {in, out, NULL, NULL, NULL, NULL, NULL, SW_ACT_IDENTITY}, lq;
    float *x = malloc(sizeof(float) * (size_t)m * in);
    float *y = malloc(sizeof(float) * (size_t)m * out);
    lf.w = malloc(sizeof(float) * (size_t)in * out);
    lf.b = malloc(sizeof(float) * (size_t)out);
    if (!x || !y || !lf.w || !lf.b) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < (size_t)m * in; i++) x[i] = frand(&seed);
    for (size_t i = 0; i < (size_t)in * out; i++) lf.w[i] = frand(&seed);
    for (int i = 0; i < out; i++) lf.b[i] = frand(&seed);
    lq = lf;
    if (sw_linear_pack(&lf) != 0 || sw_linear_quantize(&lq) != 0) { fprintf(stderr, "pack/quantize failed\n"); exit(1); }
    for (int r = 0; r < 2; r++) { sw_linear_forward(&lf, x, m, y); sw_linear_forward(&lq, x, m, y); }
    double bf = 1e30, bq = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        sw_linear_forward(&lf, x, m, y);
        double t1 = now_ms();
        sw_linear_forward(&lq, x, m, y);
        double t2 = now_ms();
        if (t1 - t0 < bf) bf = t1 - t0;
        if (t2 - t1 < bq) bq = t2 - t1;
    }
    sw_linear_unpack(&lf);
    sw_linear_unquantize(&lq);
    free(x); free(y); free(lf.w); free(lf.b);
    *f32 = (double)m * in * out / (bf * 1e6);
    *q8 = (double)m * in * out / (bq * 1e6);
}

#ifdef __wasm_simd128__
/* This thread's rate of reading memory that is not in any cache: f32x4
 * sums over 256 MB (several times the last-level cache), best of `reps`.
 * It bounds any pass that has to stream the weights of a model. */
static double read_bandwidth(int reps) {
    const size_t n = (size_t)64 << 20; /* floats */
    float *a = malloc(sizeof(float) * n);
    if (!a) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 255);
    double best = 1e30;
    v128_t s = wasm_f32x4_splat(0.0f);
    for (int r = 0; r < reps; r++) {
        v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
        double t0 = now_ms();
        for (size_t i = 0; i < n; i += 16) {
            s0 = wasm_f32x4_add(s0, wasm_v128_load(a + i));
            s1 = wasm_f32x4_add(s1, wasm_v128_load(a + i + 4));
            s2 = wasm_f32x4_add(s2, wasm_v128_load(a + i + 8));
            s3 = wasm_f32x4_add(s3, wasm_v128_load(a + i + 12));
        }
        double t = now_ms() - t0;
        if (t < best) best = t;
        s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
    }
    sink = wasm_f32x4_extract_lane(s, 0);
    free(a);
    return sizeof(float) * (double)n / (best * 1e6);
}
#endif

/* One short text through the six layers of a MiniLM-L6-shaped encoder,
 * Linear layers only: 6 x (4 of 384x384, 384->1536, 1536->384), 21.3M
 * weights (85 MB as floats, more than the last-level cache), m rows each.
 * With a few rows every weight is used m times per pass, so the pass is
 * bound by streaming the weights from memory; the printout gives the rate
 * both as GFLOP/s and as GB/s of weights read. Best of `reps` passes. */
#define CHAIN_LAYERS 36
static void chain_run(int m, int reps) {
    static const int dims[6][2] = {{384, 384}, {384, 384}, {384, 384}, {384, 384}, {384, 1536}, {1536, 384}};
    sw_linear *ls = calloc(CHAIN_LAYERS, sizeof *ls);
    float *x = malloc(sizeof(float) * (size_t)m * 1536), *y = malloc(sizeof(float) * (size_t)m * 1536);
    unsigned seed = 777;
    double flops = 0.0, bytes = 0.0;
    if (!ls || !x || !y) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < (size_t)m * 1536; i++) x[i] = frand(&seed);
    for (int i = 0; i < CHAIN_LAYERS; i++) {
        sw_linear *l = &ls[i];
        l->in = dims[i % 6][0];
        l->out = dims[i % 6][1];
        l->w = malloc(sizeof(float) * (size_t)l->in * l->out);
        l->b = malloc(sizeof(float) * (size_t)l->out);
        if (!l->w || !l->b) { fprintf(stderr, "out of memory\n"); exit(1); }
        for (size_t k = 0; k < (size_t)l->in * l->out; k++) l->w[k] = frand(&seed);
        for (int k = 0; k < l->out; k++) l->b[k] = frand(&seed);
        if (sw_linear_pack(l) != 0) { fprintf(stderr, "pack failed\n"); exit(1); }
        free(l->w); /* as the engine: only the packed copy stays */
        l->w = NULL;
        flops += 2.0 * m * l->in * l->out;
        bytes += 4.0 * l->in * l->out;
    }
    double best = 1e30;
    for (int r = 0; r < reps + 2; r++) { /* two warm-up passes */
        double t0 = now_ms();
        for (int i = 0; i < CHAIN_LAYERS; i++) sw_linear_forward(&ls[i], x, m, y);
        double t = now_ms() - t0;
        if (r >= 2 && t < best) best = t;
    }
    printf("6 layers, m=%3d rows: %6.2f ms per pass, %6.2f GFLOP/s, %5.2f GB/s of weights\n",
           m, best, flops / (best * 1e6), bytes / (best * 1e6));
    for (int i = 0; i < CHAIN_LAYERS; i++) { sw_linear_unpack(&ls[i]); free(ls[i].b); }
    free(ls); free(x); free(y);
}

/* ==== attention and GELU ==== */

/* ms per head of sw_attention_head (q8: sw_attention_head_q8, dtype int8's
 * integer attention): n tokens, head width d, inside rows of ld floats (the
 * packed Q, K, V of a layer, ld/d heads), best of `reps` runs over all
 * heads. Process CPU time, like the rest of this file. */
static void attention_head(int q8, float *o, const float *q, const float *k, const float *v, int n, int d, int ld,
                           float scale, float *s) {
    if (q8) sw_attention_head_q8(o, q, k, v, n, d, ld, scale, s);
    else sw_attention_head(o, q, k, v, n, d, ld, scale, s);
}

static double attention_run(int n, int d, int ld, int reps, int q8) {
    unsigned seed = 777;
    const size_t len = (size_t)n * ld;
    const int nh = ld / d;
    float *q = malloc(sizeof(float) * len), *k = malloc(sizeof(float) * len);
    float *v = malloc(sizeof(float) * len), *o = malloc(sizeof(float) * len);
    float *s = malloc(sizeof(float) * (q8 ? sw_attention_q8_scratch(n, d) : sw_attention_scratch(n, d)));
    if (!q || !k || !v || !o || !s) { fprintf(stderr, "out of memory\n"); exit(1); }
    /* scores of a few units, as in a trained model */
    for (size_t i = 0; i < len; i++) { q[i] = 4.0f * frand(&seed); k[i] = 4.0f * frand(&seed); v[i] = frand(&seed); }
    const float scale = 1.0f / sqrtf((float)d);
    for (int h = 0; h < nh; h++) attention_head(q8, o + h * d, q + h * d, k + h * d, v + h * d, n, d, ld, scale, s);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now_ms();
        for (int h = 0; h < nh; h++) attention_head(q8, o + h * d, q + h * d, k + h * d, v + h * d, n, d, ld, scale, s);
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    free(q); free(k); free(v); free(o); free(s);
    return best / nh;
}

/* ns per float of sw_activate(GELU) over an intermediate activation of
 * m x 1536 (values of a pre-activation: mostly in [-4, 4]). */
static double gelu_run(int m, int reps) {
    unsigned seed = 99;
    const size_t len = (size_t)m * 1536;
    float *x = malloc(sizeof(float) * len), *y = malloc(sizeof(float) * len);
    if (!x || !y) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < len; i++) x[i] = 8.0f * frand(&seed);
    double best = 1e30;
    for (int r = 0; r < reps + 2; r++) {
        memcpy(y, x, sizeof(float) * len);
        double t0 = now_ms();
        sw_activate(y, len, SW_ACT_GELU);
        double t = now_ms() - t0;
        if (r >= 2 && t < best) best = t;
    }
    free(x); free(y);
    return best * 1e6 / (double)len;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 7;
    if (argc > 2 && strcmp(argv[2], "chain") == 0) { /* only the short-text passes */
#ifdef __wasm_simd128__
        printf("memory read, one thread: %5.2f GB/s\n", read_bandwidth(3));
#endif
        for (int m = 1; m <= 16; m++) chain_run(m, reps);
        return 0;
    }
    /* a second argument "attn": only the attention and GELU timings */
    const int attn_only = argc > 2 && strcmp(argv[2], "attn") == 0;
    double peak = 0.0;
#if defined(SW_RELAXED_SIMD)
    printf("== relaxed-SIMD build (f32x4.relaxed_madd) ==\n");
#elif defined(__wasm_simd128__)
    printf("== plain SIMD128 build (f32x4.mul + f32x4.add) ==\n");
#endif
    if (attn_only) goto attention;
#ifdef __wasm_simd128__
    for (int n = 4; n <= 12; n += 2) peak_run(n, 100000, 3); /* warm-up: tier up */
    for (int n = 4; n <= 12; n += 2) {
        double g = peak_run(n, 20000000 / n, reps);
        printf("peak  %2d accumulators: %6.2f GFLOP/s\n", n, g);
        if (g > peak) peak = g;
    }
    printf("peak (best of)        : %6.2f GFLOP/s (" PEAK_OP ", one thread)\n", peak);
    double ipeak = 0.0;
    for (int n = 4; n <= 12; n += 4) ipeak_run(n, 100000, 3);
    for (int n = 4; n <= 12; n += 4) {
        double g = ipeak_run(n, 20000000 / n, reps);
        printf("int peak %2d accumulators: %6.2f GMAC/s\n", n, g);
        if (g > ipeak) ipeak = g;
    }
    printf("int peak (best of)    : %6.2f GMAC/s (i32x4.dot_i16x8_s + i32x4.add, one thread)\n", ipeak);
#else
    printf("peak: not measured (built without -msimd128)\n");
#endif
    static const int shapes[][3] = {
        {4096, 384, 384}, {4096, 384, 1536}, {4096, 1536, 384},
        {4096, 768, 768}, {512, 384, 384}, {128, 384, 1536}, {4096, 32, 32},
        {8192, 384, 1536}, {8192, 1536, 384},
    };
    /* Until the background compile lands, calls run slowly; on a busy
     * machine that takes a while, so warm up on the first shape at length. */
    double first;
    gemm_run(shapes[0][0], shapes[0][1], shapes[0][2], 1, 30, &first);
    printf("first call, baseline tier (Liftoff): %6.2f GFLOP/s (m=%d in=%d out=%d)\n",
           first, shapes[0][0], shapes[0][1], shapes[0][2]);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int m = shapes[i][0], in = shapes[i][1], out = shapes[i][2];
        double g = gemm_run(m, in, out, reps, 2, &first);
        printf("linear m=%4d in=%4d out=%4d: %6.2f GFLOP/s", m, in, out, g);
        if (peak > 0.0) printf("  (%3.0f%% of peak)", 100.0 * g / peak);
        printf("\n");
    }
    /* a short text: few rows, every weight from memory */
#ifdef __wasm_simd128__
    printf("memory read, one thread: %5.2f GB/s\n", read_bandwidth(reps < 3 ? reps : 3));
#endif
    static const int chain_rows[] = {1, 4, 9, 16};
    for (size_t i = 0; i < sizeof chain_rows / sizeof chain_rows[0]; i++) chain_run(chain_rows[i], reps);
    /* int8 next to fp32 on the encoder's three shapes, in GMAC/s */
    double q8, f32;
    gemm_q8_vs_f32(1024, 384, 384, 3, &q8, &f32); /* warm-up: tier up */
    for (size_t i = 0; i < 3; i++) {
        int m = shapes[i][0], in = shapes[i][1], out = shapes[i][2];
        gemm_q8_vs_f32(m, in, out, reps, &q8, &f32);
        printf("int8 m=%4d in=%4d out=%4d: %6.2f GMAC/s   fp32 %6.2f GMAC/s   int8/fp32 %.2fx\n",
               m, in, out, q8, f32, q8 / f32);
    }
attention:;
    /* one head of attention, d=32 inside rows of 384 (MiniLM), per head */
    static const int attn_n[] = {8, 12, 16, 32, 64, 128, 256, 512};
    attention_run(256, 32, 384, 5, 0); /* warm-up: tier up */
    attention_run(256, 32, 384, 5, 1);
    for (size_t i = 0; i < sizeof attn_n / sizeof attn_n[0]; i++) {
        int n = attn_n[i];
        double ms = attention_run(n, 32, 384, 3 * reps, 0);
        double ms8 = attention_run(n, 32, 384, 3 * reps, 1);
        printf("attention n=%3d d=32 ld=384: %8.4f ms/head  %6.2f GFLOP/s (4 n^2 d)   int8: %8.4f ms/head (%.2fx)\n",
               n, ms, 4.0 * n * n * 32 / (ms * 1e6), ms8, ms / ms8);
    }
    gelu_run(64, 3);
    printf("gelu (exact) 256 x 1536: %6.3f ns/float\n", gelu_run(256, 3 * reps));
    return 0;
}
