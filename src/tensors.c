/*
 * tensors.c — tensor descriptors from outside: checked, then converted.
 *
 * JS parses the safetensors header and hands each tensor over as (dtype,
 * shape, bytes). Nothing of that is trusted here: the shape must be the one
 * the config implies, the byte count must match it exactly, and only then
 * are the bytes read and converted to f32 in memory the engine owns.
 */
#include "internal.h"

#include <string.h>

/* ==== dtype conversion ==== */

static float f16_bits_to_f32(uint16_t h) {
    /* IEEE 754 binary16 -> binary32, subnormals and inf/nan included. */
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: renormalise */
            int e = -1;
            do { e++; man <<= 1; } while ((man & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void sw_f16_to_f32(const void *src, size_t n, float *dst) {
    const unsigned char *p = (const unsigned char *)src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)); /* little-endian, any alignment */
        dst[i] = f16_bits_to_f32(h);
    }
}

void sw_bf16_to_f32(const void *src, size_t n, float *dst) {
    const unsigned char *p = (const unsigned char *)src;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits = ((uint32_t)p[2 * i] | ((uint32_t)p[2 * i + 1] << 8)) << 16;
        memcpy(&dst[i], &bits, sizeof bits);
    }
}

/* ==== descriptor checks ==== */

static const char *dtype_name(int32_t dtype) {
    switch (dtype) {
    case SW_DTYPE_F32: return "F32";
    case SW_DTYPE_F16: return "F16";
    case SW_DTYPE_BF16: return "BF16";
    default: return "unknown";
    }
}

int sw_tensor_to_f32(const char *what, int32_t dtype, int32_t ndim,
                     const int64_t *shape, const void *data, size_t nbytes,
                     int32_t exp_ndim, const int64_t *exp_shape, float **dst) {
    size_t esize;
    switch (dtype) {
    case SW_DTYPE_F32: esize = 4; break;
    case SW_DTYPE_F16:
    case SW_DTYPE_BF16: esize = 2; break;
    default:
        return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": dtype %d is not F32, F16 or BF16", what, (int)dtype);
    }
    if (!shape && ndim > 0) return sw_fail(SW_ERR_INVALID_ARG, "tensor \"%s\": no shape given", what);
    if (ndim != exp_ndim) {
        return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": has %d dimensions, expected %d", what, (int)ndim, (int)exp_ndim);
    }
    int64_t count = 1;
    for (int32_t i = 0; i < ndim; i++) {
        if (shape[i] != exp_shape[i]) {
            if (ndim == 1)
                return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": shape [%lld], expected [%lld] from the config",
                               what, (long long)shape[0], (long long)exp_shape[0]);
            return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": shape [%lld, %lld], expected [%lld, %lld] from the config",
                           what, (long long)shape[0], (long long)shape[1], (long long)exp_shape[0], (long long)exp_shape[1]);
        }
        /* exp_shape comes from a checked config, so this cannot overflow,
         * but the guard keeps that true if a caller changes. */
        if (shape[i] < 0 || (shape[i] > 0 && count > SW_MAX_BUFFER_BYTES / shape[i]))
            return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": shape too large", what);
        count *= shape[i];
    }
    if ((int64_t)count * 4 > SW_MAX_BUFFER_BYTES)
        return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": %lld elements is too large", what, (long long)count);
    if ((uint64_t)nbytes != (uint64_t)count * esize) {
        return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\": %zu bytes given, %s shape needs %lld",
                       what, nbytes, dtype_name(dtype), (long long)(count * (int64_t)esize));
    }
    if (!data && nbytes) return sw_fail(SW_ERR_INVALID_ARG, "tensor \"%s\": no data", what);
    float *out = (float *)SW_MALLOC((size_t)(count ? count : 1) * sizeof(float));
    if (!out) return sw_fail(SW_ERR_NO_MEMORY, "tensor \"%s\": out of memory for %lld floats", what, (long long)count);
    if (dtype == SW_DTYPE_F32) memcpy(out, data, nbytes);
    else if (dtype == SW_DTYPE_F16) sw_f16_to_f32(data, (size_t)count, out);
    else sw_bf16_to_f32(data, (size_t)count, out);
    *dst = out;
    return SW_OK;
}
