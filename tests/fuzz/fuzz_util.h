/*
 * fuzz_util.h — what the libFuzzer targets in tests/fuzz/ share: a reader
 * that turns the fuzzer's bytes into values (mostly valid ones, sometimes the
 * hostile edge of each range), exact-size heap copies so ASan sees any read
 * past what the engine was told, an oracle-failure macro, and the seed-corpus
 * writer each target runs when SW_FUZZ_SEEDS names a folder.
 *
 * Header-only on purpose: each target is one .c file plus the engine.
 */
#ifndef SW_FUZZ_UTIL_H
#define SW_FUZZ_UTIL_H

#include "sentence_wasm.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== oracle failures ==== */

/* A broken property is a crash for libFuzzer: print why, then abort() so
 * the input is saved as a crash artifact. */
#define FZ_REQUIRE(cond, ...)                                                        \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: property failed: %s\n  ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                            \
            fprintf(stderr, "\n  sw_last_error: \"%s\"\n", sw_last_error());        \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* ==== reading fuzzer bytes ==== */

typedef struct fz_in {
    const uint8_t *p;
    size_t n;
} fz_in;

static inline uint8_t fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fz_in *in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)fz_u8(in) << (8 * i);
    return v;
}

static inline uint64_t fz_u64(fz_in *in) {
    uint64_t lo = fz_u32(in);
    return lo | ((uint64_t)fz_u32(in) << 32);
}

/* A value in [lo, hi] (hi - lo < 2^32). */
static inline int64_t fz_range(fz_in *in, int64_t lo, int64_t hi) {
    uint64_t span = (uint64_t)(hi - lo) + 1;
    uint64_t r = span <= 256 ? fz_u8(in) : fz_u32(in);
    return lo + (int64_t)(r % span);
}

/* Mostly a value in [lo, hi]; when the selector byte is >= 0xe0 (1 in 8),
 * one of the values just outside it or at the ends of int32. *valid says
 * which it was. */
static inline int32_t fz_i32(fz_in *in, int32_t lo, int32_t hi, int *valid) {
    uint8_t sel = fz_u8(in);
    if (sel < 0xe0) {
        *valid = 1;
        return (int32_t)fz_range(in, lo, hi);
    }
    *valid = 0;
    switch (sel & 7) {
    case 0: return lo > INT32_MIN ? lo - 1 : INT32_MIN;
    case 1: return hi < INT32_MAX ? hi + 1 : INT32_MAX;
    case 2: return INT32_MIN;
    case 3: return INT32_MAX;
    case 4: return -1;
    case 5: return 0;
    case 6: return hi < INT32_MAX / 2 ? hi * 2 + 1 : INT32_MAX;
    default: return (int32_t)fz_u32(in);
    }
}

/* The value range check for fz_i32 results that may have landed inside by chance. */
static inline int fz_in_range(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

/* n bytes copied into a fresh heap block of exactly n bytes (ASan flags a
 * read of byte n). Bytes past the fuzzer input come from a xorshift stream
 * seeded by `seed`, so big tensors do not need big inputs. */
static inline uint8_t *fz_bytes(fz_in *in, size_t n, uint64_t seed) {
    uint8_t *b = (uint8_t *)malloc(n ? n : 1);
    if (!b) abort();
    size_t take = in->n < n ? in->n : n;
    if (take) {
        memcpy(b, in->p, take);
        in->p += take;
        in->n -= take;
    }
    uint64_t x = seed | 1;
    for (size_t i = take; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        b[i] = (uint8_t)(x >> 32);
    }
    return b;
}

/* Small well-behaved floats in [-a, a] from a xorshift stream (weights the
 * forward pass can run on without overflowing). */
typedef struct fz_rng { uint64_t s; } fz_rng;

static inline float fz_rng_sym(fz_rng *r, float a) {
    uint64_t x = r->s;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    r->s = x;
    return ((float)(x >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * a;
}

static inline int fz_all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return 1;
}

/* ==== seed corpus ==== */

/* Writes one seed file <dir>/seed-<i> (the folder must exist). */
static inline void fz_write_seed(const char *dir, int i, const uint8_t *data, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03d", dir, i);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(2); }
    if (n && fwrite(data, 1, n, f) != n) { perror(path); exit(2); }
    fclose(f);
}

/* A growable byte buffer for building seeds in the order the target reads. */
typedef struct fz_out {
    uint8_t buf[1 << 16];
    size_t n;
} fz_out;

static inline void fz_put(fz_out *o, uint8_t b) { if (o->n < sizeof o->buf) o->buf[o->n++] = b; }
static inline void fz_put32(fz_out *o, uint32_t v) { for (int i = 0; i < 4; i++) fz_put(o, (uint8_t)(v >> (8 * i))); }
/* What fz_range(lo, hi) reads back as v. */
static inline void fz_put_range(fz_out *o, int64_t lo, int64_t hi, int64_t v) {
    uint64_t span = (uint64_t)(hi - lo) + 1;
    if (span <= 256) fz_put(o, (uint8_t)(v - lo));
    else fz_put32(o, (uint32_t)(v - lo));
}
/* What fz_i32(lo, hi) reads back as the valid value v. */
static inline void fz_put_i32(fz_out *o, int32_t lo, int32_t hi, int32_t v) {
    fz_put(o, 0);
    fz_put_range(o, lo, hi, v);
}

/* libFuzzer calls this once before fuzzing. With SW_FUZZ_SEEDS=<dir> in the
 * environment the target writes its seed corpus there and exits instead:
 * seeds are generated, never committed. */
static void fz_write_seeds(const char *dir);

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *dir = getenv("SW_FUZZ_SEEDS");
    if (dir && *dir) {
        fz_write_seeds(dir);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* SW_FUZZ_UTIL_H */
