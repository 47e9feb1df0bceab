/*
 * heads.c — the sentence-transformers modules that follow the encoder:
 * Pooling, Dense and Normalize (the files of sentence_transformers/models/).
 * Each works on one sequence's token states at a time: sequences are packed,
 * so there is no padding and no mask beyond the prompt positions to skip.
 */
#include "internal.h"
#include "kernels.h"
#include "threads.h"

#include <math.h>
#include <string.h>

/* ==== Pooling ==== */

int sw_pool(const float *h, int32_t n, int32_t dim, int32_t modes, int32_t skip, float *out) {
    sw_clear_error();
    if (!h || !out || n < 1 || dim < 1) return sw_fail(SW_ERR_INVALID_ARG, "pool: empty input");
    if (modes <= 0 || modes > 63) return sw_fail(SW_ERR_INVALID_ARG, "pool: no pooling mode selected");
    if (skip < 0) skip = 0;
    if (skip > n) skip = n;
    /* Positions skip..n-1 are "in the mask" (include_prompt=False zeroes the
     * prompt's positions in the pooling mask only). */
    const int32_t lo = skip;
    const float count = (float)(n - lo);
    float *o = out;

    if (modes & SW_POOL_CLS) { /* token_embeddings[:, 0], mask or not */
        memcpy(o, h, (size_t)dim * sizeof(float));
        o += dim;
    }
    if (modes & SW_POOL_MAX) { /* masked positions become -1e9, as the library does */
        for (int32_t j = 0; j < dim; j++) {
            float mx = lo < n ? -INFINITY : -1e9f;
            for (int32_t t = lo; t < n; t++) if (h[(size_t)t * dim + j] > mx) mx = h[(size_t)t * dim + j];
            if (lo > 0 && mx < -1e9f) mx = -1e9f;
            o[j] = mx;
        }
        o += dim;
    }
    if (modes & (SW_POOL_MEAN | SW_POOL_MEAN_SQRT)) {
        /* sum / clamp(count, 1e-9) and sum / sqrt(clamp(count, 1e-9)) */
        const float denom = count > 1e-9f ? count : 1e-9f;
        for (int pass = 0; pass < 2; pass++) {
            int32_t bit = pass == 0 ? SW_POOL_MEAN : SW_POOL_MEAN_SQRT;
            if (!(modes & bit)) continue;
            const float div = pass == 0 ? denom : sqrtf(denom);
            for (int32_t j = 0; j < dim; j++) {
                float s = 0.0f;
                for (int32_t t = lo; t < n; t++) s += h[(size_t)t * dim + j];
                o[j] = s / div;
            }
            o += dim;
        }
    }
    if (modes & SW_POOL_WEIGHTEDMEAN) { /* weight of position t (0-based) is t + 1 */
        float wsum = 0.0f;
        for (int32_t t = lo; t < n; t++) wsum += (float)(t + 1);
        if (wsum < 1e-9f) wsum = 1e-9f;
        for (int32_t j = 0; j < dim; j++) {
            float s = 0.0f;
            for (int32_t t = lo; t < n; t++) s += h[(size_t)t * dim + j] * (float)(t + 1);
            o[j] = s / wsum;
        }
        o += dim;
    }
    if (modes & SW_POOL_LASTTOKEN) { /* last position still in the mask; the last one if none is */
        memcpy(o, h + (size_t)(n - 1) * dim, (size_t)dim * sizeof(float));
        o += dim;
    }
    return SW_OK;
}

/* ==== Dense ==== */

struct sw_dense {
    sw_linear lin; /* linear.weight [out x in], linear.bias [out]; the activation: lin.act */
    int32_t has_bias;
};

sw_dense *sw_dense_create(int32_t in_features, int32_t out_features, int32_t has_bias, int32_t act) {
    sw_clear_error();
    if (in_features < 1 || out_features < 1 || in_features > (1 << 16) || out_features > (1 << 20) ||
        (int64_t)in_features * out_features * 4 > SW_MAX_BUFFER_BYTES) {
        sw_fail(SW_ERR_BAD_CONFIG, "Dense: in_features %d / out_features %d out of range", (int)in_features, (int)out_features);
        return NULL;
    }
    if (act < SW_ACT_IDENTITY || act > SW_ACT_SIGMOID) {
        sw_fail(SW_ERR_BAD_CONFIG, "Dense: activation %d is not supported", (int)act);
        return NULL;
    }
    sw_dense *d = (sw_dense *)SW_CALLOC(1, sizeof *d);
    if (!d) { sw_fail(SW_ERR_NO_MEMORY, "out of memory"); return NULL; }
    d->lin.in = in_features;
    d->lin.out = out_features;
    d->has_bias = has_bias ? 1 : 0;
    d->lin.act = act;
    return d;
}

int sw_dense_add_tensor(sw_dense *d, const char *name, int32_t dtype, int32_t ndim,
                        const int64_t *shape, const void *data, size_t nbytes) {
    sw_clear_error();
    if (!d || !name) return sw_fail(SW_ERR_INVALID_ARG, "Dense: NULL argument");
    float **dst;
    int32_t exp_ndim;
    int64_t exp_shape[2] = {d->lin.out, d->lin.in};
    if (strcmp(name, "linear.weight") == 0) {
        dst = &d->lin.w;
        exp_ndim = 2;
    } else if (strcmp(name, "linear.bias") == 0) {
        if (!d->has_bias) return sw_fail(SW_ERR_BAD_TENSOR, "Dense: tensor \"linear.bias\" given but config says bias=false");
        dst = &d->lin.b;
        exp_ndim = 1;
    } else {
        return SW_OK; /* not ours */
    }
    if (*dst || (dst == &d->lin.w && d->lin.packed))
        return sw_fail(SW_ERR_BAD_TENSOR, "Dense: tensor \"%s\" is given twice", name);
    int rc = sw_tensor_to_f32(name, dtype, ndim, shape, data, nbytes, exp_ndim, exp_shape, dst);
    if (rc != SW_OK || dst != &d->lin.w) return rc;
    /* Pack for the fast GEMM now; the packed copy replaces w (see encoder.c). */
    if (sw_linear_pack(&d->lin) != 0) return sw_fail(SW_ERR_NO_MEMORY, "Dense: out of memory packing weights");
    if (d->lin.packed) {
        SW_FREE(d->lin.w);
        d->lin.w = NULL;
    }
    return SW_OK;
}

int sw_dense_forward(const sw_dense *d, const float *x, int32_t n, float *y) {
    sw_clear_error();
    if (!d || !x || !y || n < 0) return sw_fail(SW_ERR_INVALID_ARG, "Dense: bad arguments");
    if (!d->lin.w && !d->lin.packed) return sw_fail(SW_ERR_MISSING_TENSOR, "Dense: tensor \"linear.weight\" is missing");
    if (d->has_bias && !d->lin.b) return sw_fail(SW_ERR_MISSING_TENSOR, "Dense: tensor \"linear.bias\" is missing");
    sw_linear_forward(&d->lin, x, n, y);
    return sw_threads_check();
}

void sw_dense_free(sw_dense *d) {
    if (!d) return;
    sw_linear_unpack(&d->lin);
    SW_FREE(d->lin.w);
    SW_FREE(d->lin.b);
    SW_FREE(d);
}

/* ==== Normalize ==== */

int sw_l2_normalize(float *x, int32_t n, int32_t dim) {
    sw_clear_error();
    if (!x || n < 0 || dim < 1) return sw_fail(SW_ERR_INVALID_ARG, "normalize: bad arguments");
    for (int32_t i = 0; i < n; i++) {
        float *r = x + (size_t)i * dim;
        double ss = 0.0;
        for (int32_t j = 0; j < dim; j++) ss += (double)r[j] * r[j];
        /* torch.nn.functional.normalize: x / max(||x||, eps), eps = 1e-12 */
        float norm = (float)sqrt(ss);
        float inv = 1.0f / (norm > 1e-12f ? norm : 1e-12f);
        for (int32_t j = 0; j < dim; j++) r[j] *= inv;
    }
    return SW_OK;
}
