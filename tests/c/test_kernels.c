/*
 * test_kernels.c — every kernel of kernels.h against its plain-C reference.
 *
 * Built twice by the Makefile:
 *   build/test_kernels          host cc under ASan + UBSan. Without SIMD128
 *                               the unsuffixed kernels *are* the references,
 *                               so this run checks memory safety of the
 *                               harness and the references.
 *   make test-wasm-kernels      emcc -msimd128, run by node: the SIMD128
 *                               kernels of the *_simd.c files against the
 *                               references, for real; and again built with
 *                               -mrelaxed-simd -DSW_RELAXED_SIMD (rewritten
 *                               by tools/relax_simd.mjs, run by node
 *                               --experimental-wasm-relaxed-simd), where
 *                               every multiply-accumulate is relaxed_madd.
 *
 * Inputs are random (fixed-seed xorshift), shapes include odd tails. Outputs
 * are compared with an abs+rel tolerance, |fast - ref| <= atol + rtol |ref|
 * (llm.c's check_tensor, dev/cuda/common.h). Buffers carry canaries past
 * their end, and outputs start as NaN, so a kernel that reads what it has not
 * written, or writes past its rows, fails in WASM too where no ASan runs.
 *
 * No framework: each check counts once, failures print the first mismatches
 * and the max difference, the last line is "N passed, M failed", and the exit
 * status is non-zero on any failure.
 */
#include "kernels.h"
#include "sentence_wasm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== checks ==== */

static int n_pass, n_fail;
static double worst;        /* max |diff| / tolerance since the last section() */

/* Prints how close the previous section came to its tolerances. */
static void section(const char *name) {
    printf("  %-12s worst |diff| / tolerance = %.3f\n", name, worst);
    worst = 0.0;
}

/* Compares a[n] (kernel) to ref[n]. Prints the label, the first mismatches
 * and the max abs difference on failure. Returns 1 if all match. */
static int check_tensor(const char *label, const float *a, const float *ref, size_t n,
                        double atol, double rtol) {
    size_t bad = 0;
    double maxdiff = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)ref[i]);
        int ok = d <= atol + rtol * fabs((double)ref[i]);
        if (isnan(a[i]) || isnan(ref[i])) {       /* NaN only where the reference has one */
            ok = isnan(a[i]) && isnan(ref[i]);
            d = ok ? 0.0 : INFINITY;
        }
        if (d > maxdiff) maxdiff = d;
        if (d / (atol + rtol * fabs((double)ref[i])) > worst) worst = d / (atol + rtol * fabs((double)ref[i]));
        if (!ok) {
            if (bad < 5)
                fprintf(stderr, "  %s [%zu]: got %.9g, want %.9g (diff %.3g)\n",
                        label, i, a[i], ref[i], fabs((double)a[i] - (double)ref[i]));
            bad++;
        }
    }
    if (bad) {
        n_fail++;
        fprintf(stderr, "FAIL %s: %zu of %zu mismatched, max diff %.3g (atol %.3g, rtol %.3g)\n",
                label, bad, n, maxdiff, atol, rtol);
        return 0;
    }
    n_pass++;
    return 1;
}

/* A plain condition, for canaries and the like. */
#define CHECK(label, cond)                                                      \
    do {                                                                        \
        if (cond) n_pass++;                                                     \
        else { n_fail++; fprintf(stderr, "FAIL %s: %s\n", (label), #cond); }    \
    } while (0)

/* ==== helpers ==== */

static unsigned rng = 0x9e3779b9u;

static float frand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5;
    return (float)(rng >> 8) / 8388608.0f - 1.0f;
}

static float irand127(void) { /* an integer in [-127, 127], as a float */
    return (float)((int)((frand() + 1.0f) * 127.0f) - 127 + (int)((frand() + 1.0f) * 64.0f) % 2);
}

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

#define CANARY 16          /* floats past every output buffer        */
#define CANARY_VALUE 1234.5f

/* n floats plus CANARY sentinel floats after them. */
static float *alloc_out(size_t n) {
    float *p = xmalloc(sizeof(float) * (n + CANARY));
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    for (size_t i = 0; i < CANARY; i++) p[n + i] = CANARY_VALUE;
    return p;
}

static int canary_ok(const float *p, size_t n) {
    for (size_t i = 0; i < CANARY; i++)
        if (p[n + i] != CANARY_VALUE) return 0;
    return 1;
}

static float *alloc_rand(size_t n, float scale, float offset) {
    float *p = xmalloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++) p[i] = offset + scale * frand();
    return p;
}

/* ==== Linear ==== */

/* One shape, packed and unpacked, with and without bias. */
static void test_linear_shape(int32_t m, int32_t in, int32_t out) {
    char label[96];
    float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f);
    float *w = alloc_rand((size_t)out * in, 1.0f, 0.0f);
    float *b = alloc_rand((size_t)out, 1.0f, 0.0f);
    float *ref = xmalloc(sizeof(float) * (size_t)m * out);
    float *y = alloc_out((size_t)m * out);
    /* float sums of `in` terms: error grows like sqrt(in) */
    const double tol = 2e-6 * sqrt((double)in);
    for (int bias = 0; bias < 2; bias++) {
        sw_linear l = {in, out, w, bias ? b : NULL, NULL, NULL, NULL, SW_ACT_IDENTITY};
        sw_linear_forward_ref(&l, x, m, ref);
        for (int packed = 0; packed < 2; packed++) {
            if (packed && sw_linear_pack(&l) != 0) { fprintf(stderr, "pack: out of memory\n"); exit(2); }
            for (size_t i = 0; i < (size_t)m * out; i++) y[i] = NAN;
            sw_linear_forward(&l, x, m, y);
            snprintf(label, sizeof label, "linear m=%d in=%d out=%d %s %s", m, in, out,
                     packed ? "packed" : "unpacked", bias ? "bias" : "no-bias");
            check_tensor(label, y, ref, (size_t)m * out, tol, tol);
            CHECK(label, canary_ok(y, (size_t)m * out));
            sw_linear_unpack(&l);
            CHECK(label, l.packed == NULL);
        }
    }
    free(x); free(w); free(b); free(ref); free(y);
}

static void test_linear(void) {
    static const int32_t ms[] = {1, 2, 3, 5, 7, 9, 13, 16, 17, 22, 64, 130};
    static const int32_t dims[] = {1, 3, 4, 5, 8, 17, 32, 33, 64, 100, 384};
    const size_t nm = sizeof ms / sizeof ms[0], nd = sizeof dims / sizeof dims[0];
    for (size_t a = 0; a < nm; a++)
        for (size_t i = 0; i < nd; i++)
            for (size_t o = 0; o < nd; o++)
                test_linear_shape(ms[a], dims[i], dims[o]);
    /* deep K (several K blocks, one not a multiple of 4), wide outputs
     * (several column blocks), BERT-like feed-forward shapes */
    test_linear_shape(64, 1536, 384);
    test_linear_shape(37, 384, 1536);
    test_linear_shape(5, 768, 1000);
    test_linear_shape(4, 601, 30);
    test_linear_shape(9, 1027, 13);
    test_linear_shape(130, 384, 1536);

    /* Packing twice replaces the first packing (no leak under ASan), and a
     * layer with in == 0 gives the bias. */
    {
        float w[6] = {1, 2, 3, 4, 5, 6}, b[2] = {0.5f, -0.5f}, x[3] = {1, 1, 1}, y[2];
        sw_linear l = {3, 2, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("linear repack", sw_linear_pack(&l) == 0 && sw_linear_pack(&l) == 0);
        sw_linear_forward(&l, x, 1, y);
        CHECK("linear repack", y[0] == 6.5f && y[1] == 14.5f);
        sw_linear_unpack(&l);
        sw_linear_unpack(&l);
        CHECK("linear unpack twice", l.packed == NULL);
        sw_linear z = {0, 2, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("linear in=0 pack", sw_linear_pack(&z) == 0);
        y[0] = y[1] = NAN;
        sw_linear_forward(&z, x, 1, y);
        CHECK("linear in=0", y[0] == 0.5f && y[1] == -0.5f);
        sw_linear_unpack(&z);
    }
}

/* sw_linear_forward_many: the same bits as one call per layer, canaries
 * intact, for layers of different widths (one unpacked, so the whole set
 * falls back to single calls) and for n past SW_LINEAR_MANY_MAX. */
static void test_linear_many(void) {
    static const int32_t outs[SW_LINEAR_MANY_MAX + 1] = {384, 40, 1536, 7};
    const int32_t m = 21, in = 384;
    float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f);
    sw_linear ls[SW_LINEAR_MANY_MAX + 1];
    const sw_linear *lp[SW_LINEAR_MANY_MAX + 1];
    float *ys[SW_LINEAR_MANY_MAX + 1], *one[SW_LINEAR_MANY_MAX + 1];
    for (int i = 0; i <= SW_LINEAR_MANY_MAX; i++) {
        ls[i] = (sw_linear){in, outs[i], alloc_rand((size_t)outs[i] * in, 1.0f, 0.0f),
                            alloc_rand((size_t)outs[i], 1.0f, 0.0f), NULL, NULL, NULL, SW_ACT_IDENTITY};
        lp[i] = &ls[i];
        ys[i] = alloc_out((size_t)m * outs[i]);
        one[i] = xmalloc(sizeof(float) * (size_t)m * outs[i]);
    }
    for (int unpacked = -1; unpacked <= 0; unpacked++)
        for (int32_t n = 1; n <= SW_LINEAR_MANY_MAX + 1; n++) {
            char label[64];
            snprintf(label, sizeof label, "linear many n=%d%s", n, unpacked ? " one unpacked" : "");
            for (int i = 0; i < n; i++) {
                if (i != 1 || !unpacked) { if (sw_linear_pack(&ls[i]) != 0) exit(2); }
                else sw_linear_unpack(&ls[i]);
                sw_linear_forward(&ls[i], x, m, one[i]);
            }
            sw_linear_forward_many(lp, n, x, m, ys);
            for (int i = 0; i < n; i++) {
                CHECK(label, memcmp(ys[i], one[i], sizeof(float) * (size_t)m * outs[i]) == 0);
                CHECK(label, canary_ok(ys[i], (size_t)m * outs[i]));
            }
        }
    for (int i = 0; i <= SW_LINEAR_MANY_MAX; i++) {
        sw_linear_unpack(&ls[i]);
        free(ls[i].w); free(ls[i].b); free(ys[i]); free(one[i]);
    }
    free(x);
}

/* sw_linear_forward_seqs. In the SIMD build, sequences of 128 rows or more
 * run the paired product (linear_paired.c, one level of Strassen's scheme),
 * whose sums of quarters can double what each half-size product sums: it
 * must stay within 4x the plain product's tolerance of the reference, for
 * layers that can be halved and those that cannot (odd `in`, `out` not a
 * multiple of 16), several K blocks that do not line up with the halves
 * (in = 600), bias or none, GELU or none, odd and even lengths. A sequence
 * gives the same bits alone as in the batch (its rows never meet another
 * sequence's), and nothing is written past y. */
static void test_linear_seqs(void) {
    static const int32_t shapes[][2] = {{64, 48}, {384, 384}, {600, 64}, {33, 32}, {32, 40}, {66, 16}};
    static const int32_t lens[] = {128, 3, 129, 200, 256, 1, 131, 127, 259, 5, 301};
    const int32_t n_seq = (int32_t)(sizeof lens / sizeof lens[0]);
    int32_t m = 0;
    for (int32_t s = 0; s < n_seq; s++) m += lens[s];
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++) {
        const int32_t in = shapes[sh][0], out = shapes[sh][1];
        const size_t n = (size_t)m * out;
        const double tol = 4 * 2e-6 * sqrt((double)in);
        float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f);
        float *w = alloc_rand((size_t)out * in, 1.0f, 0.0f);
        float *b = alloc_rand((size_t)out, 1.0f, 0.0f);
        float *ref = xmalloc(sizeof(float) * n), *one = alloc_out(n), *y = alloc_out(n);
        for (int variant = 0; variant < 3; variant++) { /* bias; no bias; bias and GELU */
            char label[112];
            sw_linear l = {in, out, w, variant == 1 ? NULL : b, NULL, NULL, NULL,
                           variant == 2 ? SW_ACT_GELU : SW_ACT_IDENTITY};
            const sw_linear *lp = &l;
            sw_linear_forward_ref(&l, x, m, ref);
            if (sw_linear_pack(&l) != 0) { fprintf(stderr, "pack: out of memory\n"); exit(2); }
            for (size_t i = 0; i < n; i++) y[i] = NAN;
            sw_linear_forward_seqs(&lp, 1, x, n_seq, lens, &y);
            snprintf(label, sizeof label, "linear seqs in=%d out=%d variant=%d", in, out, variant);
            check_tensor(label, y, ref, n, tol, tol);
            CHECK(label, canary_ok(y, n));
            for (int32_t s = 0, off = 0; s < n_seq; off += lens[s], s++) {
                const size_t rows = (size_t)lens[s] * out;
                float *ys = one + (size_t)off * out;
                sw_linear_forward_seqs(&lp, 1, x + (size_t)off * in, 1, &lens[s], &ys);
                snprintf(label, sizeof label, "linear seqs in=%d out=%d variant=%d: sequence %d alone",
                         in, out, variant, (int)s);
                CHECK(label, memcmp(ys, y + (size_t)off * out, sizeof(float) * rows) == 0);
            }
            CHECK(label, canary_ok(one, n));
            sw_linear_unpack(&l);
        }
        free(x); free(w); free(b); free(ref); free(one); free(y);
    }
}

/* ==== int8 Linear ==== */

/* Bit-for-bit equality (NaN matches any NaN): the int8 path's sums are
 * exact integers and its float steps the reference's, so any difference
 * is a bug. Prints the first mismatches. */
static int check_exact(const char *label, const float *a, const float *ref, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        int same = (isnan(a[i]) && isnan(ref[i])) || memcmp(&a[i], &ref[i], sizeof(float)) == 0;
        if (!same) {
            if (bad < 5) fprintf(stderr, "  %s [%zu]: got %.9g, want %.9g\n", label, i, a[i], ref[i]);
            bad++;
        }
    }
    if (bad) {
        n_fail++;
        fprintf(stderr, "FAIL %s: %zu of %zu differ\n", label, bad, n);
        return 0;
    }
    n_pass++;
    return 1;
}

/* sw_linear.act: the activation the GEMM applies to each finished part of
 * y gives the same bits as the product without it followed by sw_activate
 * over all of y, for the float layer (unpacked and packed: every way the
 * driver cuts rows and columns) and the int8 one; the reference applies it
 * as sw_activate_ref does. */
static void test_linear_act(void) {
    static const int32_t shapes[][3] = {{1, 384, 1536}, {3, 33, 100}, {9, 384, 1536}, {17, 5, 17},
                                        {37, 384, 1536}, {130, 1536, 384}, {6, 100, 9}};
    static const int32_t acts[] = {SW_ACT_GELU, SW_ACT_GELU_TANH, SW_ACT_RELU, SW_ACT_TANH, SW_ACT_SIGMOID};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int32_t m = shapes[s][0], in = shapes[s][1], out = shapes[s][2];
        const size_t n = (size_t)m * out;
        float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f);
        float *w = alloc_rand((size_t)out * in, 0.1f, 0.0f);
        float *b = alloc_rand((size_t)out, 1.0f, 0.0f);
        float *ref = xmalloc(sizeof(float) * n);
        float *y = alloc_out(n);
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
            for (int form = 0; form < 3; form++) { /* unpacked, packed, int8 */
                char label[112];
                sw_linear l = {in, out, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
                if (form == 1 && sw_linear_pack(&l) != 0) { fprintf(stderr, "pack: out of memory\n"); exit(2); }
                if (form == 2 && sw_linear_quantize(&l) != 0) { fprintf(stderr, "quantize: out of memory\n"); exit(2); }
                sw_linear_forward(&l, x, m, ref);
                sw_activate(ref, n, acts[a]);
                l.act = acts[a];
                for (size_t i = 0; i < n; i++) y[i] = NAN;
                sw_linear_forward(&l, x, m, y);
                snprintf(label, sizeof label, "linear act=%d m=%d in=%d out=%d %s", (int)acts[a], m, in, out,
                         form == 0 ? "unpacked" : form == 1 ? "packed" : "int8");
                check_exact(label, y, ref, n);
                CHECK(label, canary_ok(y, n));
                sw_linear_unpack(&l);
                sw_linear_unquantize(&l);
            }
        for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
            char label[112];
            sw_linear l = {in, out, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
            sw_linear_forward_ref(&l, x, m, ref);
            sw_activate_ref(ref, n, acts[a]);
            l.act = acts[a];
            sw_linear_forward_ref(&l, x, m, y);
            snprintf(label, sizeof label, "linear act=%d m=%d in=%d out=%d reference", (int)acts[a], m, in, out);
            check_exact(label, y, ref, n);
        }
        free(x); free(w); free(b); free(ref); free(y);
    }
}

/* The quantization of one row, on values whose answer is known. */
static void test_q8_quantize_row(void) {
    /* max 127: the multiplier is 1, so q = rint(x), ties to even */
    const float x[8] = {127.0f, 2.5f, 3.5f, -2.5f, -0.5f, 0.49f, -126.6f, 0.0f};
    const int8_t want[8] = {127, 2, 4, -2, 0, 0, -127, 0};
    int8_t q[8];
    float s = -1.0f;
    sw_q8_quantize_row_ref(x, 8, q, &s);
    CHECK("q8 row: scale = max / 127", s == 1.0f);
    CHECK("q8 row: values, ties to even", memcmp(q, want, sizeof want) == 0);
    /* the largest |x| maps to -127 when negative; others by x * (127 / max) */
    const float y[3] = {0.5f, -2.0f, 1.0f};
    sw_q8_quantize_row_ref(y, 3, q, &s);
    CHECK("q8 row: negative max", q[1] == -127 && q[0] == 32 && q[2] == 64 && s == 2.0f / 127.0f);
    /* a zero row: all 0, scale 0 (the output is then the bias) */
    const float z[4] = {0.0f, -0.0f, 0.0f, 0.0f};
    sw_q8_quantize_row_ref(z, 4, q, &s);
    CHECK("q8 row: zeros", q[0] == 0 && q[1] == 0 && q[2] == 0 && q[3] == 0 && s == 0.0f);
    /* inf / NaN in a row: q all 0 and a non-finite scale (no UB under UBSan) */
    const float bad[3] = {1.0f, INFINITY, -2.0f}, nan3[3] = {1.0f, NAN, -2.0f};
    sw_q8_quantize_row_ref(bad, 3, q, &s);
    CHECK("q8 row: inf", q[0] == 0 && q[1] == 0 && q[2] == 0 && isinf(s));
    sw_q8_quantize_row_ref(nan3, 3, q, &s);
    CHECK("q8 row: NaN", q[0] == 0 && q[1] == 0 && q[2] == 0 && isnan(s));
    /* random rows: |x - q s| <= s / 2, |q| <= 127, and the max hits 127 */
    for (int t = 0; t < 50; t++) {
        float r[37];
        int8_t qr[37];
        for (int i = 0; i < 37; i++) r[i] = 3.0f * frand();
        sw_q8_quantize_row_ref(r, 37, qr, &s);
        int ok = 1, hit = 0;
        for (int i = 0; i < 37; i++) {
            ok &= qr[i] >= -127 && fabs((double)r[i] - (double)qr[i] * s) <= 0.5000001 * s;
            hit |= qr[i] == 127 || qr[i] == -127;
        }
        CHECK("q8 row: random rows within half a step", ok && hit);
    }
}

/* sw_linear_quantize + sw_linear_forward (SIMD128 in WASM) against the
 * reference on the same quantized weights, bit for bit; and both against
 * the float product within the quantization error bound. */
static void test_q8_linear_shape(int32_t m, int32_t in, int32_t out) {
    char label[112];
    float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f);
    float *w = alloc_rand((size_t)out * in, 0.1f, 0.0f);
    float *b = alloc_rand((size_t)out, 1.0f, 0.0f);
    int8_t *wq = xmalloc((size_t)out * in);
    float *ws = xmalloc(sizeof(float) * (size_t)out);
    int8_t *xq = xmalloc((size_t)in);
    float *ref = xmalloc(sizeof(float) * (size_t)m * out);
    float *y = alloc_out((size_t)m * out);
    for (int32_t o = 0; o < out; o++) sw_q8_quantize_row_ref(w + (size_t)o * in, in, wq + (size_t)o * in, ws + o);
    for (int bias = 0; bias < 2; bias++) {
        sw_linear l = {in, out, w, bias ? b : NULL, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 quantize", sw_linear_quantize(&l) == 0 && l.q8 != NULL && sw_linear_q8_bytes(&l) > 0);
        sw_q8_linear_ref(wq, ws, l.b, in, out, x, m, ref);
        for (size_t i = 0; i < (size_t)m * out; i++) y[i] = NAN;
        l.w = NULL; /* the int8 path must not read the float weights */
        sw_linear_forward(&l, x, m, y);
        snprintf(label, sizeof label, "q8 linear m=%d in=%d out=%d %s", m, in, out, bias ? "bias" : "no-bias");
        check_exact(label, y, ref, (size_t)m * out);
        CHECK(label, canary_ok(y, (size_t)m * out));
        sw_linear_unquantize(&l);
        CHECK(label, l.q8 == NULL && l.q8_scale == NULL && sw_linear_q8_bytes(&l) == 0);
    }
    /* The quantized product against the float one: with q = x / s + e,
     * |e| <= 1/2, each term's error is at most |x| s_w/2 + |w| s_x/2 +
     * s_x s_w/4; summed, plus float rounding of the sum. */
    int ok = 1;
    for (int32_t i = 0; i < m; i++) {
        float sx;
        sw_q8_quantize_row_ref(x + (size_t)i * in, in, xq, &sx);
        for (int32_t o = 0; o < out; o++) {
            double exact = 0.0, bound = 0.0;
            for (int32_t k = 0; k < in; k++) {
                const double xv = x[(size_t)i * in + k], wv = w[(size_t)o * in + k];
                exact += xv * wv;
                bound += fabs(xv) * ws[o] / 2 + fabs(wv) * sx / 2 + (double)sx * ws[o] / 4;
            }
            const double d = fabs((double)ref[(size_t)i * out + o] - b[o] - exact);
            const double tol = bound + 1e-6 * (1.0 + fabs(exact));
            if (d > tol) ok = 0;
            if (d / tol > worst) worst = d / tol; /* printed by section() */
        }
    }
    snprintf(label, sizeof label, "q8 linear m=%d in=%d out=%d within the quantization bound", m, in, out);
    CHECK(label, ok);
    free(x); free(w); free(b); free(wq); free(ws); free(xq); free(ref); free(y);
}

/* Integer-valued inputs whose rows reach +-127: both scales are 1, so the
 * output is the integer dot product + bias, computed here in int64. Tests
 * the integer GEMM without the reference, and the int32 bound at a depth
 * where |sum| is near 2^31 / 6. */
static void test_q8_integers(int32_t m, int32_t in, int32_t out, int extreme) {
    char label[96];
    float *x = xmalloc(sizeof(float) * (size_t)m * in), *w = xmalloc(sizeof(float) * (size_t)out * in);
    float *b = alloc_rand((size_t)out, 4.0f, 0.0f), *y = alloc_out((size_t)m * out);
    for (size_t i = 0; i < (size_t)m * in; i++)
        x[i] = extreme ? (i % 3 ? 127.0f : -127.0f) : irand127();
    for (size_t i = 0; i < (size_t)out * in; i++) w[i] = extreme ? 127.0f : irand127();
    for (int32_t i = 0; i < m; i++) x[(size_t)i * in] = 127.0f;   /* every row reaches 127 */
    for (int32_t o = 0; o < out; o++) w[(size_t)o * in] = -127.0f;
    sw_linear l = {in, out, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
    CHECK("q8 integers: quantize", sw_linear_quantize(&l) == 0);
    sw_linear_forward(&l, x, m, y);
    int ok = 1;
    for (int32_t i = 0; i < m && ok; i++)
        for (int32_t o = 0; o < out; o++) {
            int64_t acc = 0;
            for (int32_t k = 0; k < in; k++) acc += (int64_t)x[(size_t)i * in + k] * (int64_t)w[(size_t)o * in + k];
            const float want = (float)acc + b[o]; /* scales 1: (float)acc * 1 + b */
            if (y[(size_t)i * out + o] != want) {
                fprintf(stderr, "  q8 integers [%d][%d]: got %.9g, want %.9g\n", (int)i, (int)o, y[(size_t)i * out + o], want);
                ok = 0;
                break;
            }
        }
    snprintf(label, sizeof label, "q8 integers m=%d in=%d out=%d%s", m, in, out, extreme ? " extreme" : "");
    CHECK(label, ok && canary_ok(y, (size_t)m * out));
    sw_linear_unquantize(&l);
    free(x); free(w); free(b); free(y);
}

static void test_q8_linear(void) {
    static const int32_t ms[] = {1, 2, 3, 4, 5, 7, 13, 64};
    static const int32_t dims[] = {1, 2, 3, 7, 8, 9, 16, 17, 33, 100};
    const size_t nm = sizeof ms / sizeof ms[0], nd = sizeof dims / sizeof dims[0];
    for (size_t a = 0; a < nm; a++)
        for (size_t i = 0; i < nd; i++)
            for (size_t o = 0; o < nd; o++)
                test_q8_linear_shape(ms[a], dims[i], dims[o]);
    /* several K blocks (one odd), several panel blocks, BERT-like shapes */
    test_q8_linear_shape(37, 384, 1536);
    test_q8_linear_shape(64, 1536, 384);
    test_q8_linear_shape(9, 1027, 13);
    test_q8_linear_shape(5, 513, 700);
    test_q8_linear_shape(6, 2049, 70);
    test_q8_linear_shape(130, 384, 384);
    /* more rows than one 1 MB buffer of quantized activations holds (340
     * rows at in = 1536): two chunks, the second partial */
    test_q8_linear_shape(401, 1536, 20);
    test_q8_integers(7, 33, 19, 0);
    test_q8_integers(6, 1030, 17, 0);
    /* |sum| = 127 * 127 * 20000 = 322,580,000: far inside int32, and would
     * show any lane that wrapped at 16 bits or lost a block */
    test_q8_integers(5, 20000, 9, 1);

    /* Rows holding inf or NaN give NaN in all their outputs, the other rows
     * of the same 4-row group are unaffected; SIMD and reference agree. m = 6
     * takes the buffered path (activations quantized once per call), m = 4
     * the blocked one (a single row group, quantized on the stack). */
    for (int32_t m = 4; m <= 6; m += 2) {
        const int32_t in = 19, out = 11;
        float *x = alloc_rand((size_t)m * in, 1.0f, 0.0f), *w = alloc_rand((size_t)out * in, 1.0f, 0.0f);
        float *b = alloc_rand((size_t)out, 1.0f, 0.0f), *y = alloc_out((size_t)m * out), *ref = xmalloc(sizeof(float) * m * out);
        float *clean = xmalloc(sizeof(float) * m * out);
        sw_linear l = {in, out, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 non-finite rows: quantize", sw_linear_quantize(&l) == 0);
        sw_linear_forward(&l, x, m, clean);
        x[1 * in + 5] = INFINITY;
        x[2 * in + 18] = NAN;
        x[(m - 1) * in + 0] = -INFINITY;
        sw_linear_forward(&l, x, m, y);
        int ok = 1;
        for (int32_t i = 0; i < m; i++)
            for (int32_t o = 0; o < out; o++) {
                const float v = y[(size_t)i * out + o];
                ok &= (i == 1 || i == 2 || i == m - 1) ? isnan(v) : v == clean[(size_t)i * out + o];
            }
        CHECK("q8 non-finite rows: NaN rows, others unchanged", ok && canary_ok(y, (size_t)m * out));
        int8_t *wq = xmalloc((size_t)out * in);
        float *ws = xmalloc(sizeof(float) * out);
        for (int32_t o = 0; o < out; o++) sw_q8_quantize_row_ref(w + (size_t)o * in, in, wq + (size_t)o * in, ws + o);
        sw_q8_linear_ref(wq, ws, b, in, out, x, m, ref);
        check_exact("q8 non-finite rows vs reference", y, ref, (size_t)m * out);
        sw_linear_unquantize(&l);
        free(x); free(w); free(b); free(y); free(ref); free(clean); free(wq); free(ws);
    }
    /* Refusals: non-finite weights, a depth that could overflow int32,
     * negative sizes; nothing is allocated. Empty layers stay unquantized. */
    {
        float w[6] = {1, 2, 3, 4, NAN, 6}, b[2] = {0.5f, -0.5f};
        sw_linear l = {3, 2, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 refuses NaN weights", sw_linear_quantize(&l) == -2 && l.q8 == NULL);
        w[4] = -INFINITY;
        CHECK("q8 refuses inf weights", sw_linear_quantize(&l) == -2 && l.q8 == NULL);
        w[4] = 5;
        CHECK("q8 quantize twice", sw_linear_quantize(&l) == 0 && sw_linear_quantize(&l) == 0 && l.q8 != NULL);
        float x[3] = {1, 1, 1}, y[2];
        sw_linear_forward(&l, x, 1, y);
        /* rows [1 2 3] and [4 5 6] at scales 3/127 and 6/127, x at 1/127 */
        CHECK("q8 small layer", fabsf(y[0] - 6.5f) < 0.05f && fabsf(y[1] - 14.5f) < 0.1f);
        sw_linear_unquantize(&l);
        sw_linear_unquantize(&l);
        CHECK("q8 unquantize twice", l.q8 == NULL && l.q8_scale == NULL);
        sw_linear z = {0, 2, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 in=0 stays float", sw_linear_quantize(&z) == 0 && z.q8 == NULL);
        sw_linear neg = {-1, 2, w, b, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 refuses in < 0", sw_linear_quantize(&neg) == -3 && neg.q8 == NULL);
        float *big = calloc((size_t)SW_Q8_MAX_IN + 1, sizeof(float));
        if (!big) { fprintf(stderr, "out of memory\n"); exit(2); }
        sw_linear wide = {SW_Q8_MAX_IN + 1, 1, big, NULL, NULL, NULL, NULL, SW_ACT_IDENTITY};
        CHECK("q8 refuses in > SW_Q8_MAX_IN", sw_linear_quantize(&wide) == -3 && wide.q8 == NULL);
        wide.in = SW_Q8_MAX_IN;
        CHECK("q8 accepts in = SW_Q8_MAX_IN", sw_linear_quantize(&wide) == 0 && wide.q8 != NULL);
        /* all 127 at the bound: |sum| = 2,147,472,087 < 2^31 */
        for (int32_t k = 0; k < SW_Q8_MAX_IN; k++) big[k] = 127.0f;
        CHECK("q8 quantize at the bound", sw_linear_quantize(&wide) == 0);
        float yb = 0.0f;
        sw_linear_forward(&wide, big, 1, &yb);
        CHECK("q8 sum at the bound does not wrap", yb == (float)((int64_t)SW_Q8_MAX_IN * 127 * 127));
        sw_linear_unquantize(&wide);
        free(big);
    }
}

/* ==== LayerNorm ==== */

static void test_layernorm(void) {
    static const int32_t ns[] = {1, 3, 4, 5, 8, 17, 32, 33, 64, 100, 384, 768};
    static const int32_t rows_[] = {1, 3, 7};
    char label[96];
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t c = 0; c < sizeof rows_ / sizeof rows_[0]; c++) {
            const int32_t n = ns[a], rows = rows_[c];
            const size_t len = (size_t)rows * n;
            /* an offset mean, so the variance pass must subtract it */
            float *x = alloc_rand(len, 2.0f, 3.0f);
            float *r = alloc_rand(len, 1.0f, -1.0f);
            float *g = alloc_rand((size_t)n, 0.5f, 1.0f);
            float *b = alloc_rand((size_t)n, 0.5f, 0.0f);
            float *ref = xmalloc(sizeof(float) * len);
            float *y = alloc_out(len);
            float *inplace = alloc_out(len);
            for (int variant = 0; variant < 4; variant++) {
                const float *rr = (variant & 1) ? r : NULL;
                float eps = (variant & 2) ? 1e-5f : 1e-12f;
                sw_add_layernorm_ref(ref, x, rr, g, b, rows, n, eps);
                sw_add_layernorm(y, x, rr, g, b, rows, n, eps);
                snprintf(label, sizeof label, "layernorm rows=%d n=%d %s eps=%g", rows, n,
                         rr ? "residual" : "plain", (double)eps);
                check_tensor(label, y, ref, len, 2e-5, 2e-5);
                CHECK(label, canary_ok(y, len));
                /* y == x */
                memcpy(inplace, x, sizeof(float) * len);
                sw_add_layernorm(inplace, inplace, rr, g, b, rows, n, eps);
                snprintf(label, sizeof label, "layernorm in-place rows=%d n=%d %s eps=%g", rows, n,
                         rr ? "residual" : "plain", (double)eps);
                check_tensor(label, inplace, ref, len, 2e-5, 2e-5);
                CHECK(label, canary_ok(inplace, len));
            }
            free(x); free(r); free(g); free(b); free(ref); free(y); free(inplace);
        }
    }
    /* A constant row: variance 0, the output is the bias. */
    {
        float x[5] = {2, 2, 2, 2, 2}, g[5] = {1, 1, 1, 1, 1}, b[5] = {0, 1, 2, 3, 4}, y[5], ref[5];
        sw_add_layernorm_ref(ref, x, NULL, g, b, 1, 5, 1e-12f);
        sw_add_layernorm(y, x, NULL, g, b, 1, 5, 1e-12f);
        check_tensor("layernorm constant row", y, ref, 5, 1e-6, 0.0);
    }
}

/* ==== activations ==== */

static const char *act_name(int32_t act) {
    switch (act) {
    case SW_ACT_IDENTITY:  return "identity";
    case SW_ACT_GELU:      return "gelu";
    case SW_ACT_GELU_TANH: return "gelu_tanh";
    case SW_ACT_RELU:      return "relu";
    case SW_ACT_TANH:      return "tanh";
    case SW_ACT_SIGMOID:   return "sigmoid";
    default:               return "unknown";
    }
}

static void test_activations(void) {
    /* [-10, 10] in steps of 1/1024, the extremes, and random points */
    static const float extremes[] = {0.0f, -0.0f, 100.0f, -100.0f, 1e-30f, -1e-30f, 1e-7f, -1e-7f,
                                     88.0f, -88.0f, 89.0f, -89.0f, 0.625f, -0.625f, 0.6519f,
                                     5.57f, -5.57f, 1e4f, -1e4f, 3.0e38f, -3.0e38f};
    const size_t n_grid = 20 * 1024 + 1, n_ext = sizeof extremes / sizeof extremes[0];
    const size_t n = n_grid + n_ext + 1000;
    float *x = xmalloc(sizeof(float) * n);
    for (size_t i = 0; i < n_grid; i++) x[i] = -10.0f + (float)i / 1024.0f;
    memcpy(x + n_grid, extremes, sizeof extremes);
    for (size_t i = n_grid + n_ext; i < n; i++) x[i] = 6.0f * frand();
    float *ref = xmalloc(sizeof(float) * n);
    float *y = alloc_out(n);
    char label[96];
    for (int32_t act = SW_ACT_IDENTITY; act <= SW_ACT_SIGMOID + 1; act++) {
        /* Tolerances: the functions are within ~1e-7 of exact; so is the
         * reference, except where 1 + erf/tanh cancels (x < 0), which adds
         * ~0.5 |x| ulp(1). Hence an absolute term. The exact GELU is a
         * rational function evaluated in float, within 1.1e-6 of exact
         * (elementwise_simd.c, v_gelu). */
        double atol = act == SW_ACT_GELU ? 1e-6 : act == SW_ACT_GELU_TANH ? 4e-7 : 2e-7;
        double rtol = 4e-7;
        memcpy(ref, x, sizeof(float) * n);
        sw_activate_ref(ref, n, act);
        memcpy(y, x, sizeof(float) * n);
        sw_activate(y, n, act);
        snprintf(label, sizeof label, "activate %s (%d) n=%zu", act_name(act), act, n);
        check_tensor(label, y, ref, n, atol, rtol);
        CHECK(label, canary_ok(y, n));
        /* every tail length, from an unaligned start; and longer lengths,
         * whole vectors and a tail */
        static const size_t lens[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 60, 63, 64, 65, 68, 71, 124, 131, 312};
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            const size_t len = lens[li];
            memcpy(ref, x + 3 + 1024 * li, sizeof(float) * len);
            sw_activate_ref(ref, len, act);
            float *t = alloc_out(len + 1);
            memcpy(t + 1, x + 3 + 1024 * li, sizeof(float) * len);
            sw_activate(t + 1, len, act);
            snprintf(label, sizeof label, "activate %s n=%zu (tail)", act_name(act), len);
            check_tensor(label, t + 1, ref, len, atol, rtol);
            CHECK(label, canary_ok(t, len + 1));
            free(t);
        }
    }
    free(x); free(ref); free(y);
}

/* ==== attention ==== */

static void test_attention(void) {
    /* short sequences (row by row) and the blocked path: blocks of 8 queries
     * and groups of 4 keys both full and cut short, n = 16 its first size */
    static const int32_t ns[] = {1, 2, 7, 15, 16, 17, 19, 22, 24, 29, 64, 200, 257};
    static const int32_t ds[] = {1, 3, 8, 13, 32, 64};
    char label[96];
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t c = 0; c < sizeof ds / sizeof ds[0]; c++) {
            const int32_t n = ns[a], d = ds[c];
            /* the head's columns sit inside wider rows, as in packed Q|K|V */
            const int32_t ld = 3 * d + 5;
            const size_t len = (size_t)n * ld;
            /* scale 2: scores up to a few units, softmax neither flat nor one-hot */
            float *q = alloc_rand(len, 2.0f, 0.0f);
            float *k = alloc_rand(len, 2.0f, 0.0f);
            float *v = alloc_rand(len, 1.0f, 0.0f);
            float *ref = alloc_out(len), *out = alloc_out(len);
            const size_t n_scratch = sw_attention_scratch(n, d); /* the fast path's workspace */
            float *s_ref = alloc_out((size_t)n), *s = alloc_out(n_scratch);
            for (size_t i = 0; i < len; i++) ref[i] = out[i] = -7.0f; /* outside the head: untouched */
            const float scale = 1.0f / sqrtf((float)d);
            /* A score's rounding (the two kernels sum in different orders)
             * is a few ulps of the sum of its terms' magnitudes, not of the
             * score, which can cancel to near 0 (n = 2, d = 64 once failed on
             * that); the weights move by as much, so the tolerance scales
             * with the largest such sum. */
            double smax = 0.0;
            for (int32_t i = 0; i < n; i++)
                for (int32_t j = 0; j < n; j++) {
                    double t = 0.0;
                    for (int32_t e = 0; e < d; e++) t += fabs((double)q[(size_t)i * ld + e] * k[(size_t)j * ld + e]);
                    t *= scale;
                    if (t > smax) smax = t;
                }
            for (int peaked = 0; peaked < 2; peaked++) {
                /* scale x8: most weight on few keys */
                const float sc = peaked ? 8.0f * scale : scale;
                const double tol = 2e-7 * (1.0 + (peaked ? 8.0 : 1.0) * smax);
                sw_attention_head_ref(ref, q, k, v, n, d, ld, sc, s_ref);
                sw_attention_head(out, q, k, v, n, d, ld, sc, s);
                snprintf(label, sizeof label, "attention n=%d d=%d ld=%d%s", n, d, ld, peaked ? " peaked" : "");
                check_tensor(label, out, ref, len, tol, tol);
                CHECK(label, canary_ok(out, len) && canary_ok(s, n_scratch));
            }
            free(q); free(k); free(v); free(ref); free(out); free(s_ref); free(s);
        }
    }
}

/* ==== int8 attention ==== */

/* One head through sw_attention_head_q8 and its reference (bit for bit),
 * and near the float reference: the quantization steps are ~1/4096 of
 * max |q|, |k|, |v| and 1/32767 for P, so the output moves by a small
 * multiple of max |v| / 1000. `fallback`: inputs the integer path refuses,
 * where the result must be the float kernel's exactly. */
static void q8_attention_case(const char *what, const float *q, const float *k, const float *v, int32_t n,
                              int32_t d, int32_t ld, float scale, int fallback) {
    char label[128];
    const size_t len = (size_t)n * ld, ns = sw_attention_q8_scratch(n, d);
    float *ref = alloc_out(len), *out = alloc_out(len), *f32 = alloc_out(len);
    float *s_ref = alloc_out(ns), *s = alloc_out(ns), *s32 = alloc_out(sw_attention_scratch(n, d));
    CHECK("int8 attention scratch covers the float kernel's", ns >= sw_attention_scratch(n, d));
    for (size_t i = 0; i < len; i++) ref[i] = out[i] = f32[i] = -7.0f; /* outside the head: untouched */
    sw_attention_head_q8_ref(ref, q, k, v, n, d, ld, scale, s_ref);
    sw_attention_head_q8(out, q, k, v, n, d, ld, scale, s);
    snprintf(label, sizeof label, "int8 attention %s n=%d d=%d ld=%d", what, n, d, ld);
    CHECK(label, canary_ok(out, len) && canary_ok(ref, len) && canary_ok(s, ns) && canary_ok(s_ref, ns));
    if (fallback) { /* each runs its float counterpart */
        sw_attention_head(f32, q, k, v, n, d, ld, scale, s32);
        snprintf(label, sizeof label, "int8 attention %s n=%d d=%d: falls back to the float kernel", what, n, d);
        check_exact(label, out, f32, len);
        sw_attention_head_ref(f32, q, k, v, n, d, ld, scale, s32);
        snprintf(label, sizeof label, "int8 attention %s n=%d d=%d: reference falls back to the float one", what, n, d);
        check_exact(label, ref, f32, len);
    } else {
        snprintf(label, sizeof label, "int8 attention %s n=%d d=%d ld=%d: SIMD = reference", what, n, d, ld);
        check_exact(label, out, ref, len);
        sw_attention_head_ref(f32, q, k, v, n, d, ld, scale, s32);
        float vmax = 0.0f;
        for (int32_t j = 0; j < n; j++)
            for (int32_t c = 0; c < d; c++) vmax = fmaxf(vmax, fabsf(v[(size_t)j * ld + c]));
        snprintf(label, sizeof label, "int8 attention %s n=%d d=%d: near the float reference", what, n, d);
        check_tensor(label, out, f32, len, 1e-2 * vmax, 0.0);
    }
    free(ref); free(out); free(f32); free(s_ref); free(s); free(s32);
}

static void test_q8_attention(void) {
    static const int32_t ns[] = {1, 2, 3, 5, 8, 9, 16, 17, 64, 200, 257};
    static const int32_t ds[] = {1, 3, 8, 12, 32, 33, 64};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        for (size_t c = 0; c < sizeof ds / sizeof ds[0]; c++) {
            const int32_t n = ns[a], d = ds[c], ld = 3 * d + 5;
            const size_t len = (size_t)n * ld;
            float *q = alloc_rand(len, 2.0f, 0.0f), *k = alloc_rand(len, 2.0f, 0.0f), *v = alloc_rand(len, 1.0f, 0.0f);
            const float scale = 1.0f / sqrtf((float)d);
            q8_attention_case("random", q, k, v, n, d, ld, scale, 0);
            q8_attention_case("peaked", q, k, v, n, d, ld, 8.0f * scale, 0);
            /* a zero query row, key row and value column: scale 0 paths */
            for (int32_t t = 0; t < d; t++) q[t] = k[(size_t)(n - 1) * ld + t] = 0.0f;
            for (int32_t j = 0; j < n; j++) v[(size_t)j * ld + d - 1] = 0.0f;
            q8_attention_case("zeros", q, k, v, n, d, ld, scale, 0);
            free(q); free(k); free(v);
        }
    }
    /* the widest head the int32 sums allow, every |q_q| = |k_q| = 2047 */
    {
        const int32_t n = 9, d = SW_QA_MAX_D, ld = d;
        float *q = alloc_rand((size_t)n * ld, 1.0f, 0.0f), *k = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        float *v = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        for (size_t i = 0; i < (size_t)n * ld; i++) { q[i] = 0.05f; k[i] = (i / ld) % 2 ? 0.05f : -0.05f; }
        q8_attention_case("extreme", q, k, v, n, d, ld, 1.0f / sqrtf((float)d), 0);
        free(q); free(k); free(v);
    }
    /* what the integer path refuses: a wider head, inf or NaN, huge scores */
    {
        const int32_t n = 5, d = SW_QA_MAX_D + 1, ld = d;
        float *q = alloc_rand((size_t)n * ld, 1.0f, 0.0f), *k = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        float *v = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        q8_attention_case("d > SW_QA_MAX_D", q, k, v, n, d, ld, 1.0f / sqrtf((float)d), 1);
        free(q); free(k); free(v);
    }
    for (int bad = 0; bad < 4; bad++) {
        const int32_t n = 19, d = 32, ld = 2 * d;
        float *q = alloc_rand((size_t)n * ld, 1.0f, 0.0f), *k = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        float *v = alloc_rand((size_t)n * ld, 1.0f, 0.0f);
        static const char *what[] = {"inf in q", "NaN in k", "NaN in v", "huge q and k"};
        if (bad == 0) q[3 * ld + 5] = INFINITY;
        if (bad == 1) k[7 * ld + 31] = NAN;
        if (bad == 2) v[18 * ld + 0] = NAN;
        if (bad == 3) q[2 * ld + 1] = k[4 * ld + 2] = 1e18f;
        q8_attention_case(what[bad], q, k, v, n, d, ld, 1.0f / sqrtf((float)d), 1);
        free(q); free(k); free(v);
    }
}

/* ==== dot ==== */

static void test_dot(void) {
    static const int32_t ns[] = {0, 1, 3, 4, 5, 15, 16, 17, 33, 64, 100, 384, 1000, 1536};
    char label[64];
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        const int32_t n = ns[a];
        float *x = alloc_rand((size_t)n + 1, 1.0f, 0.0f), *y = alloc_rand((size_t)n + 1, 1.0f, 0.0f);
        for (int off = 0; off < 2; off++) {  /* aligned and unaligned starts */
            float got = sw_dot(x + off, y + off, n), want = sw_dot_ref(x + off, y + off, n);
            snprintf(label, sizeof label, "dot n=%d offset=%d", n, off);
            double tol = 2e-6 * sqrt((double)n + 1.0);
            check_tensor(label, &got, &want, 1, tol, tol);
        }
        free(x); free(y);
    }
}

#ifdef SW_RELAXED_SIMD
#include "relaxed_simd.h"

/* The toolchain contract of src/relaxed_simd.h: after tools/relax_simd.mjs,
 * sw_relaxed_madd(a, b, c) is a*b + c. Once with operands only known at run
 * time, once with constants: an optimizer that reads the prototype opcode
 * (binaryen 108: a + b*c) would fold the constant call to the wrong value,
 * which is why the relaxed build is linked without wasm-opt. */
static volatile float in2 = 2.0f, in3 = 3.0f, in5 = 5.0f;

static void test_relaxed_madd(void) {
    float v[4];
    wasm_v128_store(v, sw_relaxed_madd(wasm_f32x4_splat(in2), wasm_f32x4_splat(in3), wasm_f32x4_splat(in5)));
    CHECK("relaxed_madd(2, 3, 5) = 11 (run-time operands)", v[0] == 11.0f && v[3] == 11.0f);
    wasm_v128_store(v, sw_relaxed_madd(wasm_f32x4_splat(2.0f), wasm_f32x4_splat(3.0f), wasm_f32x4_splat(5.0f)));
    CHECK("relaxed_madd(2, 3, 5) = 11 (constant operands)", v[0] == 11.0f && v[3] == 11.0f);
    wasm_v128_store(v, sw_relaxed_madd(wasm_f32x4_make(1.5f, -2.0f, 0.0f, 1e30f), wasm_f32x4_splat(in2),
                                       wasm_f32x4_make(0.25f, 0.5f, -1.0f, -2e30f)));
    CHECK("relaxed_madd lanes", v[0] == 3.25f && v[1] == -3.5f && v[2] == -1.0f && v[3] == 0.0f);
}
#endif

int main(void) {
#if defined(SW_RELAXED_SIMD)
    printf("test_kernels: WASM relaxed-SIMD kernels (f32x4.relaxed_madd) vs references\n");
#elif defined(__wasm_simd128__)
    printf("test_kernels: WASM SIMD128 kernels vs references\n");
#else
    printf("test_kernels: no SIMD128, fallbacks vs references (memory safety)\n");
#endif
    test_linear();     section("linear");
    test_linear_many(); section("linear many");
    test_linear_act(); section("linear activation");
    test_linear_seqs(); section("linear seqs");
    test_q8_quantize_row();
    test_q8_linear();  section("int8 linear");
    test_layernorm();  section("layernorm");
    test_activations(); section("activations");
    test_attention();  section("attention");
    test_q8_attention(); section("int8 attention");
    test_dot();        section("dot");
#ifdef SW_RELAXED_SIMD
    test_relaxed_madd();
#endif
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
