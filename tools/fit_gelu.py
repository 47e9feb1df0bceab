#!/usr/bin/env python3
"""Fits the exact GELU of src/elementwise_simd.c (v_gelu) and checks it.

    Phi(x) = 1/2 + c P(v) / Q(v),  c = min(x, 5.6),  v = c^2,  Q(0) = 1,

P of degree 6, Q of degree 4: the minimax absolute error of c P/Q against
Phi - 1/2 on [0, 5.6], by Loeb's linearized least squares (divide by the
last Q) with Lawson's weights, in the variable (x / 5.6)^2 for
conditioning, mpmath's ncdf as truth. Then the float32 coefficients are run
through the kernel's steps in float32 (mul then add; --fused: one rounding,
as the relaxed-SIMD build) over every `stride`-th float of [-8.5, 8.5] and
compared with double-precision GELU and with the float reference
0.5 x (1 + erff(x / sqrt 2)) (kernels.c).

Needs numpy and mpmath (Debian: python3-numpy python3-mpmath). Not run by
the build or the tests; the coefficients it prints are pasted into v_gelu.
    python3 tools/fit_gelu.py [--stride 64]
"""
import argparse
import math

import mpmath
import numpy as np

NP, NQ, XC = 6, 4, 5.6
F32 = np.float32


def fit():
    mpmath.mp.dps = 30
    xs = np.unique(np.concatenate([np.linspace(0, XC, 20000), XC * np.sin(np.linspace(0, np.pi / 2, 8000))]))
    xs = xs[xs > 0]
    f = np.array([float(mpmath.ncdf(x) - mpmath.mpf(1) / 2) for x in xs])
    s = (xs / XC) ** 2
    weights = np.ones_like(xs) / len(xs)
    q_prev = np.ones_like(xs)
    best = None
    for _ in range(400):
        a = np.hstack([xs[:, None] * s[:, None] ** np.arange(NP + 1)[None, :],
                       -f[:, None] * s[:, None] ** np.arange(1, NQ + 1)[None, :]])
        w = np.sqrt(weights) / np.abs(q_prev)
        sol, *_ = np.linalg.lstsq(a * w[:, None], f * w, rcond=None)
        p, q = sol[:NP + 1], np.concatenate([[1.0], sol[NP + 1:]])
        q_prev = np.polyval(q[::-1], s)
        err = xs * np.polyval(p[::-1], s) / q_prev - f
        if best is None or np.abs(err).max() < best[0]:
            best = (np.abs(err).max(), p.copy(), q.copy())
        weights = weights * np.abs(err) ** 0.5
        weights /= weights.sum()
    max_err, p, q = best
    # back to powers of v = x^2
    return max_err, p / XC ** (2 * np.arange(NP + 1)), q / XC ** (2 * np.arange(NQ + 1))


def gelu_f32(x, p, q, fused):
    def madd(a, b, c):
        if fused:
            return (a.astype(np.float64) * b.astype(np.float64) + np.float64(c)).astype(F32)
        return (a * b).astype(F32) + c
    c = np.minimum(x, F32(XC))
    v = c * c
    pp = np.full_like(v, p[NP])
    for k in range(NP - 1, -1, -1):
        pp = madd(pp, v, p[k])
    qq = np.full_like(v, q[NQ])
    for k in range(NQ - 1, -1, -1):
        qq = madd(qq, v, q[k])
    phi = F32(0.5) + (c * pp) / qq
    phi = np.maximum(phi, F32(0))
    phi = np.where(x >= -F32(XC), phi, F32(0))
    return x * phi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--stride', type=int, default=64, help='check every stride-th float')
    args = ap.parse_args()
    max_err, p, q = fit()
    p32, q32 = p.astype(F32), q.astype(F32)
    print(f'fit: max abs error of Phi {max_err:.3g} on [0, {XC}]')
    print('P (v^0 first):', ', '.join(f'{c:.9g}f' for c in p32))
    print('Q (v^0 first):', ', '.join(f'{c:.9g}f' for c in q32))
    top = np.float32(8.5).view(np.int32)
    pos = np.arange(0, top, args.stride, dtype=np.int32).view(F32)
    xs = np.concatenate([pos, -pos])
    x64 = xs.astype(np.float64)
    exact = x64 * 0.5 * np.vectorize(math.erfc, otypes=[np.float64])(-x64 / math.sqrt(2))
    erf = np.vectorize(math.erf, otypes=[np.float64])(x64 / math.sqrt(2)).astype(F32)
    ref = ((F32(0.5) * xs) * (F32(1) + erf)).astype(np.float64)
    neg = xs < 0
    for name, y in [('reference', ref), ('plain', gelu_f32(xs, p32, q32, False)),
                    ('relaxed', gelu_f32(xs, p32, q32, True))]:
        y = y.astype(np.float64)
        ae = np.abs(y - exact)
        rel = ae[~neg] / np.maximum(np.abs(exact[~neg]), 1e-300)
        line = (f'{name:9s} max abs error {ae.max():.3g} (x = {xs[ae.argmax()]:.4g}), '
                f'x > 0 max rel {rel.max():.3g}, x < 0 max abs {ae[neg].max():.3g}')
        if name != 'reference':
            over = np.abs(y - ref) > 1e-6 + 4e-7 * np.abs(ref)
            line += f'; outside 1e-6 + 4e-7 |ref| of the reference: {int(over.sum())} of {len(xs)}'
        print(line)


if __name__ == '__main__':
    main()
