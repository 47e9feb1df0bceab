/*
 * fuzz_heads.c — libFuzzer target: the heads that take caller-made
 * arguments, sw_pool and sw_l2_normalize, with fuzzed counts, widths, mode
 * masks, skip values and float bit patterns (NaN, Inf, subnormals).
 * Checked:
 *  - refused (SW_ERR_INVALID_ARG) exactly when n, dim or modes are out of
 *    range, and then nothing is written;
 *  - otherwise exactly popcount(modes) x dim floats are written (the output
 *    is an exact-size heap block), CLS and last-token are exact copies, and
 *    max / mean / mean_sqrt / weightedmean match a double-precision
 *    reference of sentence-transformers' Pooling with the first `skip`
 *    positions masked;
 *  - normalised rows have unit length, zero rows stay zero.
 */
#include "fuzz_util.h"

static const int32_t ORDER[6] = {SW_POOL_CLS, SW_POOL_MAX, SW_POOL_MEAN, SW_POOL_MEAN_SQRT,
                                 SW_POOL_WEIGHTEDMEAN, SW_POOL_LASTTOKEN};

static int tame(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i]) || fabsf(x[i]) > 1e30f) return 0;
    return 1;
}

static int bits_equal(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof(float)) == 0; }

static void fuzz_pool(fz_in *in) {
    int vn, vd, vm;
    const int32_t n = fz_i32(in, 1, 64, &vn);
    const int32_t dim = fz_i32(in, 1, 32, &vd);
    const int32_t modes = fz_i32(in, 1, 63, &vm);
    const uint8_t ks = fz_u8(in);
    const int32_t skip = ks < 0xf0 ? (int32_t)(ks % 80) - 4 : (int32_t)fz_u32(in);
    if (n > 256 || dim > 256) return; /* the caller owns h[n x dim]: no arrays that big here */
    const int valid = n >= 1 && dim >= 1 && modes >= 1 && modes <= 63;
    const size_t nh = (size_t)(n > 0 ? n : 1) * (size_t)(dim > 0 ? dim : 1);
    float *h;
    if (fz_u8(in) < 0x40) {
        h = (float *)fz_bytes(in, nh * sizeof(float), 0x51ed270b27f4c9a1ull); /* raw bit patterns */
    } else {
        h = (float *)malloc(nh * sizeof(float));
        fz_rng r = {0x9e3779b97f4a7c15ull ^ fz_u8(in)};
        for (size_t i = 0; i < nh; i++) h[i] = fz_rng_sym(&r, 4.0f);
    }
    int np = 0;
    for (int b = 0; b < 6; b++) np += valid && (modes & ORDER[b]) ? 1 : 0;
    const size_t nout = valid ? (size_t)np * dim : 1;
    float *out = (float *)malloc(nout * sizeof(float));
    out[0] = 12345.0f;
    const int rc = sw_pool(h, n, dim, modes, skip, out);
    if (!valid) {
        FZ_REQUIRE(rc == SW_ERR_INVALID_ARG, "pool n %d dim %d modes %d accepted", (int)n, (int)dim, (int)modes);
        FZ_REQUIRE(out[0] == 12345.0f, "refused pool wrote its output");
        goto done;
    }
    FZ_REQUIRE(rc == SW_OK, "pool n %d dim %d modes %d skip %d failed", (int)n, (int)dim, (int)modes, (int)skip);
    const int32_t lo = skip < 0 ? 0 : skip > n ? n : skip;
    const int check_values = tame(h, nh);
    const float *o = out;
    for (int b = 0; b < 6; b++) {
        if (!(modes & ORDER[b])) continue;
        if (ORDER[b] == SW_POOL_CLS) {
            FZ_REQUIRE(bits_equal(o, h, (size_t)dim), "CLS is not row 0");
        } else if (ORDER[b] == SW_POOL_LASTTOKEN) {
            FZ_REQUIRE(bits_equal(o, h + (size_t)(n - 1) * dim, (size_t)dim), "last token is not row n-1");
        } else if (check_values) {
            for (int32_t j = 0; j < dim; j++) {
                double want, scale = 0.0;
                if (ORDER[b] == SW_POOL_MAX) {
                    /* masked positions count as -1e9 */
                    want = lo > 0 ? -1e9 : -INFINITY;
                    for (int32_t t = lo; t < n; t++) if (h[(size_t)t * dim + j] > want) want = h[(size_t)t * dim + j];
                    if (lo == n) want = -1e9;
                    FZ_REQUIRE((float)want == o[j], "max[%d] = %g, want %g (skip %d)", (int)j, (double)o[j], want, (int)skip);
                    continue;
                }
                double s = 0.0, w = 0.0;
                for (int32_t t = lo; t < n; t++) {
                    const double wt = ORDER[b] == SW_POOL_WEIGHTEDMEAN ? (double)(t + 1) : 1.0;
                    s += wt * h[(size_t)t * dim + j];
                    scale += wt * fabs(h[(size_t)t * dim + j]);
                    w += wt;
                }
                const double count = n - lo > 0 ? (double)(n - lo) : 1e-9;
                if (ORDER[b] == SW_POOL_MEAN) want = s / count;
                else if (ORDER[b] == SW_POOL_MEAN_SQRT) want = s / sqrt(count);
                else want = s / (w > 1e-9 ? w : 1e-9);
                const double denom = ORDER[b] == SW_POOL_MEAN_SQRT ? sqrt(count) : ORDER[b] == SW_POOL_MEAN ? count : (w > 1e-9 ? w : 1e-9);
                const double tol = 1e-5 * (scale / denom) + 1e-30;
                FZ_REQUIRE(fabs(o[j] - want) <= tol, "mode %d [%d] = %.9g, want %.9g (n %d skip %d)",
                           (int)ORDER[b], (int)j, (double)o[j], want, (int)n, (int)skip);
            }
        }
        o += dim;
    }
done:
    free(h);
    free(out);
}

static void fuzz_normalize(fz_in *in) {
    int vn, vd;
    const int32_t n = fz_i32(in, 0, 16, &vn);
    const int32_t dim = fz_i32(in, 1, 32, &vd);
    if (n > 256 || dim > 256) return;
    const int valid = n >= 0 && dim >= 1;
    const size_t nx = (size_t)(n > 0 ? n : 1) * (size_t)(dim > 0 ? dim : 1);
    float *x;
    const uint8_t how = fz_u8(in);
    if (how < 0x40) {
        x = (float *)fz_bytes(in, nx * sizeof(float), 0x243f6a8885a308d3ull);
    } else {
        x = (float *)malloc(nx * sizeof(float));
        fz_rng r = {0x13198a2e03707344ull ^ fz_u8(in)};
        const float scale = how < 0x80 ? 1e-20f : how < 0xc0 ? 1.0f : 1e20f;
        for (size_t i = 0; i < nx; i++) x[i] = how & 1 ? 0.0f : fz_rng_sym(&r, scale);
    }
    float *before = (float *)malloc(nx * sizeof(float));
    memcpy(before, x, nx * sizeof(float));
    const int rc = sw_l2_normalize(x, n, dim);
    if (!valid) {
        FZ_REQUIRE(rc == SW_ERR_INVALID_ARG, "normalize n %d dim %d accepted", (int)n, (int)dim);
        FZ_REQUIRE(bits_equal(x, before, nx), "refused normalize changed its input");
    } else {
        FZ_REQUIRE(rc == SW_OK, "normalize n %d dim %d failed", (int)n, (int)dim);
        for (int32_t i = 0; i < n; i++) {
            const float *r = before + (size_t)i * dim, *y = x + (size_t)i * dim;
            double ss = 0.0, yy = 0.0;
            int finite = 1;
            for (int32_t j = 0; j < dim; j++) {
                finite &= isfinite(r[j]) && fabsf(r[j]) < 1e30f;
                ss += (double)r[j] * r[j];
                yy += (double)y[j] * y[j];
            }
            if (!finite) continue;
            if (ss == 0.0) FZ_REQUIRE(yy == 0.0, "a zero row became non-zero");
            else if (sqrt(ss) > 1e-10) FZ_REQUIRE(fabs(sqrt(yy) - 1.0) < 1e-5, "row %d has norm %.9g after normalize", (int)i, sqrt(yy));
        }
    }
    free(x);
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    if (fz_u8(&in) & 1) fuzz_normalize(&in);
    else fuzz_pool(&in);
    return 0;
}

static void fz_write_seeds(const char *dir) {
    int k = 0;
    for (int32_t modes = 1; modes <= 63; modes += 6) {
        fz_out o = {{0}, 0};
        fz_put(&o, 0);
        fz_put_i32(&o, 1, 64, 1 + modes % 9);
        fz_put_i32(&o, 1, 32, 1 + modes % 5);
        fz_put_i32(&o, 1, 63, modes);
        fz_put(&o, (uint8_t)(4 + modes % 7)); /* skip 0..6 */
        fz_put(&o, modes & 8 ? 0x00 : 0x80);
        for (int i = 0; i < 64; i++) fz_put(&o, (uint8_t)(i * 29 + modes));
        fz_write_seed(dir, k++, o.buf, o.n);
    }
    for (int how = 0; how < 4; how++) {
        fz_out o = {{0}, 0};
        fz_put(&o, 1);
        fz_put_i32(&o, 0, 16, 3);
        fz_put_i32(&o, 1, 32, 7);
        fz_put(&o, (uint8_t)(how * 0x40 + (how & 1)));
        for (int i = 0; i < 84; i++) fz_put(&o, (uint8_t)(i * 53 + how));
        fz_write_seed(dir, k++, o.buf, o.n);
    }
}
