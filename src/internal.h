/*
 * internal.h — what the engine's files share and callers never see: the
 * error channel, checked allocation and the tensor-descriptor checks.
 */
#ifndef SW_INTERNAL_H
#define SW_INTERNAL_H

#include "sentence_wasm.h"

#include <stddef.h>
#include <stdint.h>

/* Allocation goes through these so a build can swap the allocator
 * (sdsalloc.h, STBI_MALLOC). */
#ifndef SW_MALLOC
#include <stdlib.h>
#define SW_MALLOC(n)     malloc(n)
#define SW_CALLOC(n, s)  calloc((n), (s))
#define SW_REALLOC(p, n) realloc((p), (n))
#define SW_FREE(p)       free(p)
#endif

/* Largest tensor or activation buffer the engine allocates (wasm32 has 4 GiB
 * in all; one buffer above 2 GiB is a config error, not a model). */
#define SW_MAX_BUFFER_BYTES ((int64_t)1 << 31)

/* Records a printf-style message for sw_last_error() and returns `status`,
 * so a failing path reads `return sw_fail(SW_ERR_..., "...", ...);`. */
int sw_fail(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clears the last error (at the start of every public call that can fail). */
void sw_clear_error(void);

/* Checks a tensor descriptor against what the model expects and copies it
 * into a new f32 buffer (*dst, owned by the caller from then on):
 * dtype known, ndim == exp_ndim, shape == exp_shape, nbytes == elements *
 * dtype size, data != NULL. `what` names the tensor in error messages. */
int sw_tensor_to_f32(const char *what, int32_t dtype, int32_t ndim,
                     const int64_t *shape, const void *data, size_t nbytes,
                     int32_t exp_ndim, const int64_t *exp_shape, float **dst);

/* f16 / bf16 -> f32 of n values (src has any alignment). */
void sw_f16_to_f32(const void *src, size_t n, float *dst);
void sw_bf16_to_f32(const void *src, size_t n, float *dst);

/* Grows *buf to hold at least n floats (keeps *cap in floats). */
int sw_reserve(float **buf, size_t *cap, size_t n);

#endif /* SW_INTERNAL_H */
