/*
 * fuzz_tensors.c — libFuzzer target: tensor descriptors from outside.
 *
 * Drives the three add_tensor entry points (sw_model_add_tensor,
 * sw_dense_add_tensor, sw_static_add_tensor) with fuzzed dtype, ndim, shape,
 * nbytes, data pointer and name, on configs that are mostly small and valid
 * and sometimes hostile (sw_model_create / sw_dense_create /
 * sw_static_create with out-of-range fields). The harness knows the tensor
 * list a config implies, so it checks outcomes, not only memory safety:
 *  - a correct descriptor is accepted, every corrupted one is refused with
 *    an error message, an unknown name is ignored;
 *  - finalize succeeds exactly when every required tensor was given;
 *  - data is read only within nbytes (each tensor is an exact-size heap
 *    block, so ASan flags byte nbytes);
 *  - F16/BF16 -> F32 conversion is bit-exact: the StaticEmbedding and Dense
 *    outputs are recomputed here with an independent converter.
 * Build and run: `make fuzz` (see tests/fuzz/README.md).
 */
#include "fuzz_util.h"

/* ==== independent dtype conversion (the oracle) ==== */

static float ref_f16(uint16_t h) {
    const int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0) v = ldexpf((float)m, -24);                 /* zero and subnormals */
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexpf((float)(m + 1024), e - 25);            /* 1.m x 2^(e-15) */
    return sign ? -v : v;
}

static float ref_bf16(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static float ref_value(const uint8_t *p, int32_t dtype, size_t i) {
    if (dtype == SW_DTYPE_F32) {
        float f;
        memcpy(&f, p + 4 * i, 4);
        return f;
    }
    uint16_t h = (uint16_t)(p[2 * i] | (p[2 * i + 1] << 8));
    return dtype == SW_DTYPE_F16 ? ref_f16(h) : ref_bf16(h);
}

static int same_float(float a, float b) { return (isnan(a) && isnan(b)) || a == b; }

static size_t dtype_size(int32_t dtype) { return dtype == SW_DTYPE_F32 ? 4 : 2; }

/* ==== descriptors ==== */

typedef struct want {
    char name[96];
    int32_t ndim;
    int64_t shape[2];
} want;

typedef int (*add_fn)(void *obj, const char *name, int32_t dtype, int32_t ndim,
                      const int64_t *shape, const void *data, size_t nbytes);

static int add_model(void *o, const char *n, int32_t dt, int32_t nd, const int64_t *s, const void *d, size_t nb) {
    return sw_model_add_tensor((sw_model *)o, n, dt, nd, s, d, nb);
}
static int add_dense(void *o, const char *n, int32_t dt, int32_t nd, const int64_t *s, const void *d, size_t nb) {
    return sw_dense_add_tensor((sw_dense *)o, n, dt, nd, s, d, nb);
}
static int add_static(void *o, const char *n, int32_t dt, int32_t nd, const int64_t *s, const void *d, size_t nb) {
    return sw_static_add_tensor((sw_static *)o, n, dt, nd, s, d, nb);
}

static int64_t numel(const want *w) { return w->shape[0] * (w->ndim == 2 ? w->shape[1] : 1); }

/* The corruptions a descriptor can get (op bytes 0xe4..0xff pick one). */
enum {
    BAD_DTYPE, BAD_NDIM, SHAPE_OFF_BY_ONE, SHAPE_NEGATIVE, SHAPE_HUGE, NBYTES_OFF, NBYTES_HUGE,
    DATA_NULL, SHAPE_NULL, GIVEN_TWICE, UNKNOWN_NAME, SHAPE_SWAPPED, N_CORRUPTIONS
};

/* What happened to one tensor: its bytes (if accepted) for the oracle. */
typedef struct given {
    int ok;            /* the tensor is now held by the object */
    int32_t dtype;
    uint8_t *bytes;    /* the data handed over (kept until the oracle ran) */
} given;

/* Hands tensor `w` to `obj` once (or twice, or not at all), maybe corrupted,
 * and checks the status against what the descriptor deserves. `data_from_input`:
 * take the bytes from the fuzzer input (else from a stream seeded by it).
 * `hostile_sizes`: the object's config may be huge, so never build real data. */
static given feed(fz_in *in, void *obj, add_fn add, const want *w, int allow_prefix,
                  int data_from_input, int hostile_sizes) {
    given g = {0, 0, NULL};
    const uint8_t op = fz_u8(in);
    int32_t dtype = (int32_t)(fz_u8(in) % 3);
    const uint8_t prefix_byte = fz_u8(in);
    const int prefix = allow_prefix && (prefix_byte & 1);
    char name[128];
    snprintf(name, sizeof name, "%s%s", prefix ? "bert." : "", w->name);

    if (op >= 0xe0 && op < 0xe4) return g; /* not given at all */
    const int corrupt = op >= 0xe4 ? (op - 0xe4) % N_CORRUPTIONS : -1;

    int32_t ndim = w->ndim;
    int64_t shape[64] = {w->shape[0], w->shape[1]};
    int64_t count = numel(w);
    size_t nbytes = (size_t)count * dtype_size(dtype);
    const int64_t *shape_arg = shape;
    int expect_ok = 1;
    int expect_held = 1; /* an accepted unknown name is ignored, not held */

    switch (corrupt) {
    case BAD_DTYPE: {
        static const int32_t bad[] = {3, 4, -1, 255, INT32_MIN, INT32_MAX};
        dtype = bad[fz_u8(in) % 6];
        expect_ok = 0;
        break;
    }
    case BAD_NDIM: {
        static const int32_t nd[] = {0, 1, 2, 3, -1, 64};
        ndim = nd[fz_u8(in) % 6];
        if (ndim == w->ndim) ndim = w->ndim + 1;
        for (int i = 0; i < 64; i++) shape[i] = i < 2 ? shape[i] : 1;
        expect_ok = 0;
        break;
    }
    case SHAPE_OFF_BY_ONE: {
        const int i = fz_u8(in) % ndim;
        shape[i] += (fz_u8(in) & 1) ? 1 : -1;
        expect_ok = 0;
        break;
    }
    case SHAPE_NEGATIVE:
        shape[fz_u8(in) % ndim] = -(int64_t)(fz_u8(in) + 1);
        expect_ok = 0;
        break;
    case SHAPE_HUGE: {
        static const int64_t huge[] = {INT64_MAX, INT64_MIN, (int64_t)1 << 62, (int64_t)1 << 40, (int64_t)1 << 31};
        shape[fz_u8(in) % ndim] = huge[fz_u8(in) % 5];
        expect_ok = 0;
        break;
    }
    case NBYTES_OFF: {
        static const int64_t d[] = {-1, 1, -2, 2, -4, 4};
        int64_t delta = d[fz_u8(in) % 6];
        if ((int64_t)nbytes + delta < 0) delta = 1;
        nbytes = (size_t)((int64_t)nbytes + delta);
        expect_ok = 0;
        break;
    }
    case NBYTES_HUGE: {
        static const size_t huge[] = {SIZE_MAX, SIZE_MAX / 2, SIZE_MAX / 4 + 1, (size_t)1 << 40, (size_t)1 << 33};
        nbytes = huge[fz_u8(in) % 5];
        expect_ok = 0;
        break;
    }
    case DATA_NULL:
    case SHAPE_NULL:
        expect_ok = 0;
        break;
    case UNKNOWN_NAME: {
        const size_t len = strlen(name);
        const uint8_t c = fz_u8(in);
        if (len + 2 < sizeof name) { name[len] = (char)(c ? c : 'x'); name[len + 1] = '\0'; }
        expect_held = 0;
        break;
    }
    case SHAPE_SWAPPED:
        if (ndim == 2) { shape[0] = w->shape[1]; shape[1] = w->shape[0]; }
        if (shape[0] != w->shape[0]) expect_ok = 0;
        break;
    default:
        break;
    }

    /* Data: a real exact-size block only when the claim is small and the
     * call could read it; otherwise NULL (the engine must refuse before
     * reading, and NULL data with a right size is itself refused). */
    const int can_hold = !hostile_sizes && nbytes <= ((size_t)1 << 22);
    uint8_t *data = NULL;
    if (corrupt != DATA_NULL && can_hold) {
        data = data_from_input ? fz_bytes(in, nbytes, 0x9e3779b97f4a7c15ull ^ nbytes)
                               : fz_bytes(&(fz_in){NULL, 0}, nbytes, ((uint64_t)fz_u8(in) << 8) | op);
    }
    /* hostile config: sizes too big to back with data, so NULL is refused */
    if (!data && nbytes > 0 && corrupt != UNKNOWN_NAME) expect_ok = 0;
    if (corrupt == SHAPE_NULL) shape_arg = NULL;

    int rc = add(obj, name, dtype, ndim, shape_arg, data, nbytes);
    if (expect_ok) {
        FZ_REQUIRE(rc == SW_OK, "tensor \"%s\" (corruption %d) refused with %d", name, corrupt, rc);
    } else {
        FZ_REQUIRE(rc != SW_OK, "tensor \"%s\" with corruption %d accepted", name, corrupt);
        FZ_REQUIRE(sw_last_error()[0] != '\0', "tensor \"%s\": refused without a message", name);
    }
    g.ok = rc == SW_OK && expect_held;
    g.dtype = dtype;
    if (g.ok) g.bytes = data;
    else free(data);

    if (g.ok && corrupt == GIVEN_TWICE) {
        rc = add(obj, name, SW_DTYPE_BF16, w->ndim, w->shape, g.bytes, (size_t)count * 2);
        FZ_REQUIRE(rc != SW_OK, "tensor \"%s\" accepted twice", name);
    }
    return g;
}

/* ==== BERT model ==== */

#define MAX_WANT (16 * 2 + 16)

static int build_wants(const sw_config *c, want *w, int cap) {
    int n = 0;
#define W(nm, nd, d0, d1)                                                               \
    do {                                                                              \
        if (n < cap) {                                                                \
            snprintf(w[n].name, sizeof w[n].name, "%s", nm);                          \
            w[n].ndim = nd; w[n].shape[0] = d0; w[n].shape[1] = (nd) == 2 ? (d1) : 0; \
        }                                                                             \
        n++;                                                                          \
    } while (0)
    char p[96];
    const int64_t V = c->vocab_size, H = c->hidden_size, I = c->intermediate_size;
    W("embeddings.word_embeddings.weight", 2, V, H);
    W("embeddings.position_embeddings.weight", 2, c->max_position, H);
    if (c->type_vocab_size > 0) W("embeddings.token_type_embeddings.weight", 2, c->type_vocab_size, H);
    W("embeddings.LayerNorm.weight", 1, H, 0);
    W("embeddings.LayerNorm.bias", 1, H, 0);
    for (int l = 0; l < c->num_layers && n < cap; l++) {
        static const char *lin[][2] = {
            {"attention.self.query", "HH"}, {"attention.self.key", "HH"}, {"attention.self.value", "HH"},
            {"attention.output.dense", "HH"}, {"intermediate.dense", "IH"}, {"output.dense", "HI"},
        };
        for (int k = 0; k < 6; k++) {
            const int64_t out = lin[k][1][0] == 'I' ? I : H, inn = lin[k][1][1] == 'I' ? I : H;
            snprintf(p, sizeof p, "encoder.layer.%d.%s.weight", l, lin[k][0]);
            W(p, 2, out, inn);
            snprintf(p, sizeof p, "encoder.layer.%d.%s.bias", l, lin[k][0]);
            W(p, 1, out, 0);
        }
        static const char *lns[] = {"attention.output.LayerNorm", "output.LayerNorm"};
        for (int k = 0; k < 2; k++) {
            snprintf(p, sizeof p, "encoder.layer.%d.%s.weight", l, lns[k]);
            W(p, 1, H, 0);
            snprintf(p, sizeof p, "encoder.layer.%d.%s.bias", l, lns[k]);
            W(p, 1, H, 0);
        }
    }
    if (c->heads & SW_HEAD_CLASSIFIER) {
        W("pooler.dense.weight", 2, H, H);
        W("pooler.dense.bias", 1, H, 0);
        W("classifier.weight", 2, c->num_labels, H);
        W("classifier.bias", 1, c->num_labels, 0);
    }
    if (c->heads & SW_HEAD_MLM) {
        W("cls.predictions.transform.dense.weight", 2, H, H);
        W("cls.predictions.transform.dense.bias", 1, H, 0);
        W("cls.predictions.transform.LayerNorm.weight", 1, H, 0);
        W("cls.predictions.transform.LayerNorm.bias", 1, H, 0);
        W("cls.predictions.bias", 1, V, 0);
    }
#undef W
    return n;
}

/* What sw_model_create promises about any config it accepts. */
static void check_accepted_config(const sw_config *c) {
    FZ_REQUIRE(c->vocab_size >= 1 && c->hidden_size >= 1 && c->num_layers >= 1 && c->num_heads >= 1 &&
               c->intermediate_size >= 1 && c->max_position >= 1 && c->type_vocab_size >= 0,
               "config with a non-positive size accepted");
    FZ_REQUIRE(c->hidden_size % c->num_heads == 0, "hidden %d not divisible by heads %d accepted",
               (int)c->hidden_size, (int)c->num_heads);
    const int64_t lim = (int64_t)1 << 31, H = c->hidden_size;
    FZ_REQUIRE((int64_t)c->vocab_size * H * 4 <= lim && (int64_t)c->intermediate_size * H * 4 <= lim &&
               (int64_t)c->max_position * H * 4 <= lim && (int64_t)c->type_vocab_size * H * 4 <= lim,
               "config with a tensor above 2 GiB accepted");
    FZ_REQUIRE(c->hidden_act >= SW_ACT_IDENTITY && c->hidden_act <= SW_ACT_SIGMOID, "bad hidden_act accepted");
    FZ_REQUIRE(!(c->heads & SW_HEAD_CLASSIFIER) || (c->num_labels >= 1 && (int64_t)c->num_labels * H * 4 <= lim),
               "bad num_labels accepted");
    FZ_REQUIRE(c->layer_norm_eps >= 0.0f && c->layer_norm_eps < 1.0f, "bad layer_norm_eps accepted");
}

static void fuzz_model(fz_in *in) {
    sw_config c = sw_config_default();
    const int hostile = fz_u8(in) >= 0xf0;
    if (!hostile) {
        c.vocab_size = 1 + fz_u8(in) % 40;
        c.num_heads = 1 + fz_u8(in) % 4;
        c.hidden_size = c.num_heads * (1 + fz_u8(in) % 4);
        c.intermediate_size = 1 + fz_u8(in) % 24;
        c.num_layers = 1 + fz_u8(in) % 2;
        c.max_position = 1 + fz_u8(in) % 12;
        c.type_vocab_size = fz_u8(in) % 3;
        c.hidden_act = fz_u8(in) % 6;
        c.heads = fz_u8(in) % 4;
        c.num_labels = 1 + fz_u8(in) % 4;
        static const float eps[] = {1e-12f, 1e-5f, 0.0f};
        c.layer_norm_eps = eps[fz_u8(in) % 3];
    } else {
        int v;
        c.vocab_size = fz_i32(in, 1, 1 << 22, &v);
        c.hidden_size = fz_i32(in, 1, 1 << 14, &v);
        c.num_layers = fz_i32(in, 1, 256, &v);
        c.num_heads = fz_i32(in, 1, 1024, &v);
        c.intermediate_size = fz_i32(in, 1, 1 << 16, &v);
        c.max_position = fz_i32(in, 1, 1 << 16, &v);
        c.type_vocab_size = fz_i32(in, 0, 1 << 10, &v);
        c.hidden_act = fz_i32(in, 0, 5, &v);
        c.heads = fz_i32(in, 0, 3, &v);
        c.num_labels = fz_i32(in, 1, 1 << 16, &v);
        uint32_t bits = fz_u32(in);
        memcpy(&c.layer_norm_eps, &bits, 4);
    }
    sw_model *m = sw_model_create(&c);
    if (!m) {
        FZ_REQUIRE(sw_last_error()[0] != '\0', "sw_model_create returned NULL without a message");
        FZ_REQUIRE(hostile, "a small valid config was refused");
        return;
    }
    check_accepted_config(&c);

    want w[MAX_WANT];
    const int total = build_wants(&c, w, MAX_WANT);
    const int n = total < MAX_WANT ? total : MAX_WANT;
    given g[MAX_WANT];
    int all_given = total <= MAX_WANT;
    int64_t floats = 0;
    for (int i = 0; i < n; i++) {
        FZ_REQUIRE(sw_model_tensor_known(m, w[i].name), "\"%s\" not known", w[i].name);
        g[i] = feed(in, m, add_model, &w[i], 1, 0, hostile);
        all_given &= g[i].ok;
        floats += numel(&w[i]);
        free(g[i].bytes);
    }
    FZ_REQUIRE(!sw_model_tensor_known(m, "embeddings.position_ids"), "position_ids is known");

    int rc = sw_model_finalize(m);
    if (all_given) {
        FZ_REQUIRE(rc == SW_OK, "finalize failed with every tensor given: %d", rc);
        FZ_REQUIRE(sw_model_weight_bytes(m) >= (size_t)floats * 4, "weight_bytes %zu < %lld",
                   sw_model_weight_bytes(m), (long long)floats * 4);
        /* A finalized model is read-only. */
        float one = 0.0f;
        int64_t s1 = 1;
        FZ_REQUIRE(sw_model_add_tensor(m, "embeddings.LayerNorm.bias", 0, 1, &s1, &one, 4) == SW_ERR_STATE,
                   "tensor added after finalize");
        sw_ctx *ctx = sw_ctx_create(m);
        FZ_REQUIRE(ctx != NULL, "sw_ctx_create failed");
        int32_t len = c.max_position < 3 ? c.max_position : 3, ids[3];
        for (int i = 0; i < len; i++) ids[i] = i % c.vocab_size;
        FZ_REQUIRE(sw_ctx_forward(ctx, 1, &len, ids, NULL) == SW_OK, "forward on loaded weights failed");
        FZ_REQUIRE(sw_ctx_n_tokens(ctx) == len, "n_tokens");
        if (c.heads & SW_HEAD_CLASSIFIER) {
            float *out = (float *)malloc(sizeof(float) * (size_t)c.num_labels);
            FZ_REQUIRE(sw_ctx_classify(ctx, out) == SW_OK, "classify failed");
            free(out);
        }
        if (c.heads & SW_HEAD_MLM) {
            float *out = (float *)malloc(sizeof(float) * (size_t)c.vocab_size);
            FZ_REQUIRE(sw_ctx_splade(ctx, fz_u8(in) & 1, fz_u8(in) & 1, out) == SW_OK, "splade failed");
            free(out);
        }
        sw_ctx_free(ctx);
    } else {
        FZ_REQUIRE(rc == SW_ERR_MISSING_TENSOR, "finalize with a tensor missing returned %d", rc);
        FZ_REQUIRE(strstr(sw_last_error(), "missing") != NULL, "missing-tensor message does not say so");
        FZ_REQUIRE(sw_ctx_create(m) == NULL, "ctx created on an unfinalized model");
    }
    sw_model_free(m);
}

/* ==== Dense ==== */

static void fuzz_dense(fz_in *in) {
    int v_in, v_out, v_act;
    const int hostile = fz_u8(in) >= 0xf0;
    int32_t nin, nout, act;
    if (!hostile) {
        nin = 1 + fz_u8(in) % 16; nout = 1 + fz_u8(in) % 16; act = fz_u8(in) % 6;
        v_in = v_out = v_act = 1;
    } else {
        nin = fz_i32(in, 1, 1 << 16, &v_in);
        nout = fz_i32(in, 1, 1 << 20, &v_out);
        act = fz_i32(in, 0, 5, &v_act);
    }
    const int32_t has_bias = fz_u8(in) & 1;
    sw_dense *d = sw_dense_create(nin, nout, has_bias, act);
    if (!d) {
        FZ_REQUIRE(sw_last_error()[0] != '\0' && hostile, "Dense [%d -> %d] refused", (int)nin, (int)nout);
        return;
    }
    FZ_REQUIRE(nin >= 1 && nout >= 1 && act >= 0 && act <= 5 && (int64_t)nin * nout * 4 <= ((int64_t)1 << 31),
               "Dense [%d -> %d] act %d accepted", (int)nin, (int)nout, (int)act);

    want ww = {"linear.weight", 2, {nout, nin}}, wb = {"linear.bias", 1, {nout, 0}};
    given gw = feed(in, d, add_dense, &ww, 0, 1, hostile);
    given gb = {0, 0, NULL};
    if (has_bias) {
        gb = feed(in, d, add_dense, &wb, 0, 1, hostile);
    } else if ((fz_u8(in) & 1) && !hostile) {
        int64_t s = nout;
        float *bb = (float *)calloc((size_t)nout, sizeof(float));
        FZ_REQUIRE(sw_dense_add_tensor(d, "linear.bias", SW_DTYPE_F32, 1, &s, bb, (size_t)nout * 4) == SW_ERR_BAD_TENSOR,
                   "bias accepted by a Dense without bias");
        free(bb);
    }

    const int32_t n = (int32_t)(fz_u8(in) % 4);
    if (!hostile) {
        float *x = (float *)malloc(sizeof(float) * (size_t)(n ? n : 1) * nin);
        float *y = (float *)malloc(sizeof(float) * (size_t)(n ? n : 1) * nout);
        fz_rng r = {0x1234567ull + (uint64_t)fz_u8(in)};
        for (int64_t i = 0; i < (int64_t)n * nin; i++) x[i] = fz_rng_sym(&r, 2.0f);
        int rc = sw_dense_forward(d, x, n, y);
        if (!gw.ok || (has_bias && !gb.ok)) {
            FZ_REQUIRE(rc == SW_ERR_MISSING_TENSOR, "Dense forward without its tensors returned %d", rc);
        } else {
            FZ_REQUIRE(rc == SW_OK, "Dense forward failed: %d", rc);
            if (act == SW_ACT_IDENTITY) {
                /* y = x W^T + b in the reference order, W and b converted here. */
                for (int32_t i = 0; i < n; i++) {
                    for (int32_t o = 0; o < nout; o++) {
                        float acc = 0.0f;
                        for (int32_t k = 0; k < nin; k++)
                            acc += x[(size_t)i * nin + k] * ref_value(gw.bytes, gw.dtype, (size_t)o * nin + k);
                        const float want_y = acc + (has_bias ? ref_value(gb.bytes, gb.dtype, (size_t)o) : 0.0f);
                        FZ_REQUIRE(same_float(y[(size_t)i * nout + o], want_y), "Dense y[%d][%d] = %.9g, want %.9g (dtypes %d/%d)",
                                   (int)i, (int)o, (double)y[(size_t)i * nout + o], (double)want_y, (int)gw.dtype, (int)gb.dtype);
                    }
                }
            }
        }
        FZ_REQUIRE(sw_dense_forward(d, x, -1, y) == SW_ERR_INVALID_ARG, "negative row count accepted");
        free(x);
        free(y);
    }
    free(gw.bytes);
    free(gb.bytes);
    sw_dense_free(d);
}

/* ==== StaticEmbedding ==== */

static void fuzz_static(fz_in *in) {
    int v;
    const int hostile = fz_u8(in) >= 0xf0;
    int32_t vocab, dim;
    if (!hostile) {
        vocab = 1 + fz_u8(in) % 32;
        dim = 1 + fz_u8(in) % 16;
    } else {
        vocab = fz_i32(in, 1, 1 << 24, &v);
        dim = fz_i32(in, 1, 1 << 16, &v);
    }
    sw_static *s = sw_static_create(vocab, dim);
    if (!s) {
        FZ_REQUIRE(sw_last_error()[0] != '\0' && hostile, "StaticEmbedding [%d x %d] refused", (int)vocab, (int)dim);
        return;
    }
    FZ_REQUIRE(vocab >= 1 && dim >= 1 && (int64_t)vocab * dim * 4 <= ((int64_t)1 << 31),
               "StaticEmbedding [%d x %d] accepted", (int)vocab, (int)dim);
    if (fz_u8(in) & 1) FZ_REQUIRE(sw_static_add_tensor(s, "other.weight", 0, 0, NULL, NULL, 0) == SW_OK, "unknown name not ignored");

    want w = {"embedding.weight", 2, {vocab, dim}};
    given g = feed(in, s, add_static, &w, 0, 1, hostile);

    /* Forward with fuzzed sequences: lengths may be 0 (an empty bag), ids
     * and lengths may be out of range. */
    int v_n;
    const int32_t n_seq = fz_i32(in, 0, 8, &v_n);
    if (n_seq <= 64 && !hostile) {
        const int32_t nalloc = n_seq > 0 ? n_seq : 1;
        int32_t *lens = (int32_t *)calloc((size_t)nalloc, sizeof *lens);
        int ok = n_seq >= 0, total = 0;
        for (int32_t i = 0; i < n_seq; i++) {
            int vl;
            lens[i] = fz_i32(in, 0, 4, &vl);
            if (lens[i] < 0) ok = 0;
            total += lens[i] > 0 ? (lens[i] < 8 ? lens[i] : 8) : 0;
            if (lens[i] > 8) lens[i] = 8; /* keep the ids array small: 8 is still valid */
        }
        int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)(total ? total : 1));
        for (int i = 0; i < total; i++) {
            int vi;
            ids[i] = fz_i32(in, 0, vocab - 1, &vi);
        }
        /* The engine stops at the first bad length or id it meets, so the
         * expected outcome is "every length >= 0 and every id in range". */
        int ids_ok = 1;
        for (int i = 0; i < total; i++) if (ids[i] < 0 || ids[i] >= vocab) ids_ok = 0;
        float *out = (float *)malloc(sizeof(float) * (size_t)nalloc * dim);
        const int rc = sw_static_forward(s, n_seq, lens, ids, out);
        if (!g.ok) {
            FZ_REQUIRE(rc != SW_OK, "StaticEmbedding forward without its table succeeded");
        } else if (!ok || !ids_ok) {
            FZ_REQUIRE(rc == SW_ERR_INVALID_ARG, "bad lengths/ids accepted (rc %d)", rc);
        } else {
            FZ_REQUIRE(rc == SW_OK, "StaticEmbedding forward failed: %d", rc);
            /* mean of the rows, in the engine's order, from the independent conversion */
            int off = 0;
            for (int32_t i = 0; i < n_seq; i++) {
                for (int32_t j = 0; j < dim; j++) {
                    float acc = 0.0f;
                    for (int32_t t = 0; t < lens[i]; t++) acc += ref_value(g.bytes, g.dtype, (size_t)ids[off + t] * dim + j);
                    if (lens[i] > 0) acc *= 1.0f / (float)lens[i];
                    FZ_REQUIRE(same_float(out[(size_t)i * dim + j], acc), "static out[%d][%d] = %.9g, want %.9g (dtype %d)",
                               (int)i, (int)j, (double)out[(size_t)i * dim + j], (double)acc, (int)g.dtype);
                }
                off += lens[i];
            }
        }
        free(lens);
        free(ids);
        free(out);
    }
    free(g.bytes);
    sw_static_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    switch (fz_u8(&in) % 3) {
    case 0: fuzz_model(&in); break;
    case 1: fuzz_dense(&in); break;
    default: fuzz_static(&in); break;
    }
    return 0;
}

/* ==== seeds: one valid object of each kind per dtype, and a few corruptions ==== */

static void fz_write_seeds(const char *dir) {
    int k = 0;
    for (int dt = 0; dt < 3; dt++) {
        fz_out o = {{0}, 0};
        /* model: 5 tokens, 2 heads of 2, I 6, 2 layers, P 8, 2 types, gelu, both heads, 3 labels */
        const uint8_t cfg[] = {0, 0, 4, 1, 1, 5, 1, 7, 2, 1, 3, 2, 0};
        for (size_t i = 0; i < sizeof cfg; i++) fz_put(&o, cfg[i]);
        for (int t = 0; t < 48; t++) { fz_put(&o, 0); fz_put(&o, (uint8_t)dt); fz_put(&o, (uint8_t)t); fz_put(&o, (uint8_t)t); }
        fz_put(&o, 1); fz_put(&o, 0);
        fz_write_seed(dir, k++, o.buf, o.n);

        /* dense 5 -> 3 with bias, identity, 2 rows */
        o.n = 0;
        const uint8_t dcfg[] = {1, 0, 4, 2, 0, 1};
        for (size_t i = 0; i < sizeof dcfg; i++) fz_put(&o, dcfg[i]);
        const int esize = dt == 0 ? 4 : 2;
        fz_put(&o, 0); fz_put(&o, (uint8_t)dt); fz_put(&o, 0);
        for (int i = 0; i < 15 * esize; i++) fz_put(&o, (uint8_t)(i * 37 + dt));
        fz_put(&o, 0); fz_put(&o, (uint8_t)dt); fz_put(&o, 0);
        for (int i = 0; i < 3 * esize; i++) fz_put(&o, (uint8_t)(i * 91));
        fz_put(&o, 2); fz_put(&o, 7);
        fz_write_seed(dir, k++, o.buf, o.n);

        /* static 8 x 4, table of every special bit pattern, 3 sequences */
        o.n = 0;
        fz_put(&o, 2); fz_put(&o, 0); fz_put(&o, 7); fz_put(&o, 3); fz_put(&o, 0);
        fz_put(&o, 0); fz_put(&o, (uint8_t)dt); fz_put(&o, 0);
        static const uint16_t special[] = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0x7bff, 0x7c00,
                                           0xfc00, 0x7e00, 0x7c01, 0xffff, 0x3555, 0xc000, 0x8001, 0x7f80};
        for (int i = 0; i < 32 * esize / 2; i++) {
            uint16_t h = special[i % 16];
            fz_put(&o, (uint8_t)h); fz_put(&o, (uint8_t)(h >> 8));
        }
        fz_put_i32(&o, 0, 8, 3);
        fz_put_i32(&o, 0, 4, 2); fz_put_i32(&o, 0, 4, 0); fz_put_i32(&o, 0, 4, 3);
        for (int i = 0; i < 5; i++) fz_put_i32(&o, 0, 7, i);
        fz_write_seed(dir, k++, o.buf, o.n);
    }
    /* every corruption once, on a small dense and a small model */
    for (int c = 0; c < N_CORRUPTIONS; c++) {
        fz_out o = {{0}, 0};
        const uint8_t dcfg[] = {1, 0, 3, 3, 0, 1};
        for (size_t i = 0; i < sizeof dcfg; i++) fz_put(&o, dcfg[i]);
        fz_put(&o, (uint8_t)(0xe4 + c)); fz_put(&o, 1); fz_put(&o, 0); fz_put(&o, 1); fz_put(&o, 0);
        for (int i = 0; i < 64; i++) fz_put(&o, (uint8_t)i);
        fz_write_seed(dir, k++, o.buf, o.n);
        o.n = 0;
        const uint8_t mcfg[] = {0, 0, 2, 0, 1, 2, 0, 3, 1, 1, 0, 0, 0};
        for (size_t i = 0; i < sizeof mcfg; i++) fz_put(&o, mcfg[i]);
        for (int t = 0; t < 20; t++) { fz_put(&o, t == 3 ? (uint8_t)(0xe4 + c) : 0); fz_put(&o, 0); fz_put(&o, 0); fz_put(&o, 1); fz_put(&o, 0); }
        fz_write_seed(dir, k++, o.buf, o.n);
    }
    /* hostile configs */
    for (int kind = 0; kind < 3; kind++) {
        fz_out o = {{0}, 0};
        fz_put(&o, (uint8_t)kind); fz_put(&o, 0xff);
        for (int i = 0; i < 64; i++) fz_put(&o, (uint8_t)(0xe0 + (i * 5) % 32));
        fz_write_seed(dir, k++, o.buf, o.n);
    }
}
