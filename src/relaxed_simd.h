/*
 * relaxed_simd.h — f32x4.relaxed_madd for the relaxed-SIMD build
 * (dist/sentence-wasm-relaxed.wasm), with a toolchain that cannot emit it.
 *
 * Included only by WASM code compiled with -mrelaxed-simd -DSW_RELAXED_SIMD
 * (make wasm, make test-wasm-kernels, make bench-gemm). Internal.
 *
 * =====================================================================
 *  READ THIS BEFORE USING OR CHANGING sw_relaxed_madd.
 *
 *  sw_relaxed_madd(a, b, c) computes a * b + c in the SHIPPED binary,
 *  although the builtin it calls is documented as a + b * c.
 * =====================================================================
 *
 * Debian's clang 14 knows only the pre-standard relaxed-SIMD prototype:
 * __builtin_wasm_fma_f32x4(a, b, c) emits the prototype opcode
 * "f32x4.fma" = 0xfd 0xaf 0x01 with semantics a + b * c. No shipping engine
 * accepts that opcode (Node 20 and Chromium reject the module). The standard
 * instruction is f32x4.relaxed_madd = 0xfd + LEB128(0x105) = 0xfd 0x85 0x02,
 * the same length, with semantics  relaxed_madd(a, b, c) = a * b + c  for the
 * same three operands in the same stack order.
 *
 * tools/relax_simd.mjs rewrites every 0xfd 0xaf 0x01 of the linked module
 * into 0xfd 0x85 0x02 (decoding every instruction, so bytes inside constants
 * are never touched). The operands stay where they are on the stack, so after
 * the rewrite  __builtin_wasm_fma_f32x4(a, b, c)  computes  a * b + c.
 *
 * Consequences:
 *  - Call sw_relaxed_madd only: it names the post-rewrite meaning. Calling the
 *    builtin directly, or a module that skipped the rewrite, would be read
 *    with the wrong semantics (and the latter does not even load).
 *  - The toolchain believes the prototype semantics. clang 14 treats the
 *    intrinsic as opaque: it neither folds nor reorders its operands.
 *    binaryen 108 (wasm-opt, run by emcc when LINKING at -O2 and above) does
 *    not: it constant-folds a call whose three operands are constants as
 *    a + b * c (checked: (2, 3, 5) became 17, where relaxed_madd gives 11).
 *    So every module using this is linked at -O1, which skips wasm-opt (the
 *    objects are still compiled at -O3); see RELAXED_LINK in the Makefile.
 *    test_kernels.c checks a constant-operand call, and the kernel and
 *    fixture tests (make test-wasm-kernels, make test-js-relaxed) fail by
 *    orders of magnitude if the operands were ever read the other way:
 *    a + b * c and a * b + c differ completely for the accumulations this
 *    engine does.
 *  - "Relaxed": the engine may fuse (one rounding, x86 FMA3 / ARM FMLA) or
 *    not (mul then add, two roundings). Either result is within the
 *    tolerances of the tests; results may differ in the last bits between
 *    machines, which the plain build never does.
 *  - A clang that knows the standard instruction (LLVM 16+:
 *    __builtin_wasm_relaxed_madd_f32x4, wasm_f32x4_relaxed_madd) would make
 *    the rewrite unnecessary; then this function should call that instead
 *    and tools/relax_simd.mjs would find nothing to rewrite (it fails then,
 *    on purpose, so the build gets looked at).
 */
#ifndef SW_RELAXED_SIMD_H
#define SW_RELAXED_SIMD_H

#if !defined(__wasm_simd128__) || !defined(__wasm_relaxed_simd__)
#error "relaxed_simd.h needs -msimd128 -mrelaxed-simd (the relaxed-SIMD build)"
#endif

#include <wasm_simd128.h>

/* a * b + c per lane, fused or not (f32x4.relaxed_madd after
 * tools/relax_simd.mjs; see above). */
static inline v128_t sw_relaxed_madd(v128_t a, v128_t b, v128_t c) {
    return __builtin_wasm_fma_f32x4(a, b, c);
}

#endif /* SW_RELAXED_SIMD_H */
