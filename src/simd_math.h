/*
 * simd_math.h — the f32x4 pieces the SIMD128 kernels share: madd (the
 * multiply-accumulate, fused in the relaxed-SIMD build), splat and lin, e^x
 * (v_exp, v_exp_nonpos), and horizontal sum and max. Header-only (static
 * inline), internal to the *_simd.c files and compiled only with
 * __wasm_simd128__; include after <wasm_simd128.h>.
 */
#ifndef SW_SIMD_MATH_H
#define SW_SIMD_MATH_H

#include <wasm_simd128.h>

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

/* ==== vector math: exp on f32x4 (tanh, GELU: elementwise_simd.c) ====
 *
 * Polynomial coefficients were fitted (Chebyshev, mpmath.chebyfit) for these
 * kernels and checked against double precision over every float of the
 * ranges, evaluated exactly as below (mul then add, no FMA):
 *   v_exp         max rel error 1.2e-7 (1.9 ulp) on [-87.3, 88.7]
 *   v_exp_nonpos  max rel error 1.2e-7 on [-86, 0]
 *   v_gelu        a rational function; see there, elementwise_simd.c
 * The relaxed-SIMD build evaluates the same expressions with madd() fused
 * (where the CPU has FMA), which only removes roundings; the same sweep of
 * every float through that build (node 20, x86-64 with FMA3) gave
 *   v_exp         max rel error 1.2e-7,   v_exp_nonpos  max rel error 9.1e-8.
 * v_exp and v_tanh use Estrin's scheme rather than Horner's, for a shorter
 * dependency chain (~0.1 ulp more error). The newer functions use Horner
 * (fewer operations) and are run where many independent vectors are in
 * flight: the softmax loop (attention_simd.c).
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

/* ==== horizontal sum and max of one vector ==== */

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

#endif /* SW_SIMD_MATH_H */
