/*
 * common.c — the error channel and the memory helpers every engine file uses.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

/* One message per thread: each worker thread runs its own ctx, and an error
 * on one must not overwrite another's. In WebAssembly a plain static: every
 * model has its own instance, and the shared-memory build's helper threads
 * (threads.c) never report errors, so no thread-local storage (which that
 * build would have to set up per thread) is needed. */
#if defined(__wasm__)
#define SW_THREAD_LOCAL
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SW_THREAD_LOCAL _Thread_local
#elif defined(__GNUC__)
#define SW_THREAD_LOCAL __thread
#else
#define SW_THREAD_LOCAL
#endif

static SW_THREAD_LOCAL char last_error[512];

const char *sw_last_error(void) { return last_error; }

void sw_clear_error(void) { last_error[0] = '\0'; }

int sw_fail(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

int sw_reserve(float **buf, size_t *cap, size_t n) {
    if (n <= *cap && *buf) return SW_OK;
    if ((int64_t)n > SW_MAX_BUFFER_BYTES / (int64_t)sizeof(float))
        return sw_fail(SW_ERR_NO_MEMORY, "activation buffer of %zu floats is too large", n);
    float *p = (float *)SW_REALLOC(*buf, (n ? n : 1) * sizeof(float));
    if (!p) return sw_fail(SW_ERR_NO_MEMORY, "out of memory for %zu floats of activations", n);
    *buf = p;
    *cap = n;
    return SW_OK;
}

/* JS cannot call malloc by name across builds; these are the exported pair. */
void *sw_malloc(size_t n) { return SW_MALLOC(n ? n : 1); }
void  sw_free(void *p) { SW_FREE(p); }
