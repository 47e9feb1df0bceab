/*
 * fuzz_forward.c — libFuzzer target: the encoder forward pass fed fuzzed
 * inputs. A tiny random BERT (config from the first bytes, weights from a
 * seeded stream) then up to four sw_ctx_forward calls on one ctx with
 * fuzzed n_seq, sequence lengths, token ids and token type ids, within and
 * beyond the declared limits. Checked each time:
 *  - a call is refused (SW_ERR_INVALID_ARG, with a message) exactly when some
 *    count, length, id or type id is out of range, and nothing is read past
 *    the arrays (each is an exact-size heap block, ASan sees byte n);
 *  - after a refused call the ctx reports no tokens and the heads refuse to
 *    run (SW_ERR_STATE), and the next valid call works;
 *  - an accepted call gives finite token states for every token, and each
 *    sequence's states, pooled vectors, classifier scores and SPLADE vector
 *    match the same sequence run alone (packing never changes a result);
 *  - sw_pool over each sequence with fuzzed modes and skip stays in bounds.
 */
#include "fuzz_util.h"

typedef struct net {
    sw_config cfg;
    sw_model *m;
} net;

static void add_random(sw_model *m, fz_rng *r, const char *name, int32_t ndim, int64_t d0, int64_t d1, float scale, int gain) {
    const int64_t shape[2] = {d0, d1};
    const size_t n = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    float *w = (float *)malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) w[i] = gain ? 1.0f + fz_rng_sym(r, 0.2f) : fz_rng_sym(r, scale);
    const int rc = sw_model_add_tensor(m, name, SW_DTYPE_F32, ndim, shape, w, n * sizeof(float));
    FZ_REQUIRE(rc == SW_OK, "random tensor %s refused", name);
    free(w);
}

static void add_linear(sw_model *m, fz_rng *r, const char *prefix, int64_t out, int64_t in) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    add_random(m, r, name, 2, out, in, 1.7f / sqrtf((float)in), 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    add_random(m, r, name, 1, out, 0, 0.2f, 0);
}

static void add_ln(sw_model *m, fz_rng *r, const char *prefix, int64_t n) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    add_random(m, r, name, 1, n, 0, 0.0f, 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    add_random(m, r, name, 1, n, 0, 0.2f, 0);
}

static net make_net(fz_in *in) {
    net t;
    sw_config *c = &t.cfg;
    *c = sw_config_default();
    c->vocab_size = 1 + fz_u8(in) % 48;
    c->num_heads = 1 + fz_u8(in) % 4;
    c->hidden_size = c->num_heads * (1 + fz_u8(in) % 4);
    c->intermediate_size = 1 + fz_u8(in) % 32;
    c->num_layers = 1 + fz_u8(in) % 2;
    c->max_position = 1 + fz_u8(in) % 16;
    c->type_vocab_size = fz_u8(in) % 3;
    c->hidden_act = fz_u8(in) % 6;
    c->heads = fz_u8(in) % 4;
    c->num_labels = 1 + fz_u8(in) % 4;
    c->layer_norm_eps = (fz_u8(in) & 1) ? 1e-6f : 1e-12f;
    c->quantize = (fz_u8(in) & 1) ? SW_QUANT_INT8 : SW_QUANT_NONE; /* dtype int8: same invariants */
    fz_rng r = {0x2545F4914F6CDD1Dull ^ ((uint64_t)fz_u8(in) << 1)};

    t.m = sw_model_create(c);
    FZ_REQUIRE(t.m != NULL, "small config refused");
    const int64_t V = c->vocab_size, H = c->hidden_size, I = c->intermediate_size;
    add_random(t.m, &r, "embeddings.word_embeddings.weight", 2, V, H, 1.0f, 0);
    add_random(t.m, &r, "embeddings.position_embeddings.weight", 2, c->max_position, H, 1.0f, 0);
    if (c->type_vocab_size > 0)
        add_random(t.m, &r, "embeddings.token_type_embeddings.weight", 2, c->type_vocab_size, H, 1.0f, 0);
    add_ln(t.m, &r, "embeddings.LayerNorm", H);
    for (int l = 0; l < c->num_layers; l++) {
        char p[96];
#define LP(s) (snprintf(p, sizeof p, "encoder.layer.%d.%s", l, s), p)
        add_linear(t.m, &r, LP("attention.self.query"), H, H);
        add_linear(t.m, &r, LP("attention.self.key"), H, H);
        add_linear(t.m, &r, LP("attention.self.value"), H, H);
        add_linear(t.m, &r, LP("attention.output.dense"), H, H);
        add_ln(t.m, &r, LP("attention.output.LayerNorm"), H);
        add_linear(t.m, &r, LP("intermediate.dense"), I, H);
        add_linear(t.m, &r, LP("output.dense"), H, I);
        add_ln(t.m, &r, LP("output.LayerNorm"), H);
#undef LP
    }
    if (c->heads & SW_HEAD_CLASSIFIER) {
        add_linear(t.m, &r, "bert.pooler.dense", H, H);
        add_linear(t.m, &r, "classifier", c->num_labels, H);
    }
    if (c->heads & SW_HEAD_MLM) {
        add_linear(t.m, &r, "cls.predictions.transform.dense", H, H);
        add_ln(t.m, &r, "cls.predictions.transform.LayerNorm", H);
        add_random(t.m, &r, "cls.predictions.bias", 1, V, 0, 1.0f, 0);
    }
    FZ_REQUIRE(sw_model_finalize(t.m) == SW_OK, "finalize of a complete model failed");
    return t;
}

static int close_to(float got, float want) {
    return fabsf(got - want) <= 1e-5f * (1.0f + fabsf(want));
}

static int popcount6(int32_t m) {
    int n = 0;
    for (int b = 0; b < 6; b++) n += (m >> b) & 1;
    return n;
}

/* One fuzzed forward call on ctx; returns 1 if it was a valid call. */
static void one_call(fz_in *in, const net *t, sw_ctx *ctx, sw_ctx *solo) {
    const sw_config *c = &t->cfg;
    const int32_t H = c->hidden_size, V = c->vocab_size, P = c->max_position;
    int v;
    const int32_t n_seq = fz_i32(in, 1, 8, &v);
    if (n_seq > 64) return; /* the caller must pass n_seq lengths: no array that big here */
    int ok = n_seq >= 1;
    const int32_t nalloc = n_seq > 0 ? n_seq : 1;
    int32_t *lens = (int32_t *)malloc(sizeof(int32_t) * (size_t)nalloc);
    lens[0] = 1;
    int64_t total = 0;
    for (int32_t i = 0; i < n_seq; i++) {
        lens[i] = fz_i32(in, 1, P, &v);
        if (lens[i] < 1 || lens[i] > P) ok = 0;
        else total += lens[i];
    }
    /* ids only for what valid lengths promise: a refused length must stop the
     * engine before it reads a single id */
    int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)(total ? total : 1));
    const int with_types = fz_u8(in) & 1;
    int32_t *types = with_types ? (int32_t *)malloc(sizeof(int32_t) * (size_t)(total ? total : 1)) : NULL;
    const int32_t T = c->type_vocab_size > 0 ? c->type_vocab_size : 1;
    for (int64_t i = 0; i < total; i++) {
        ids[i] = fz_i32(in, 0, V - 1, &v);
        if (ids[i] < 0 || ids[i] >= V) ok = 0;
        if (types) {
            types[i] = fz_i32(in, 0, T - 1, &v);
            if (types[i] < 0 || types[i] >= T) ok = 0;
        }
    }
    if (total == 0) ids[0] = 0;

    const int rc = sw_ctx_forward(ctx, n_seq, lens, ids, types);
    if (!ok) {
        FZ_REQUIRE(rc == SW_ERR_INVALID_ARG, "bad input (n_seq %d) gave %d", (int)n_seq, rc);
        FZ_REQUIRE(sw_last_error()[0] != '\0', "refused without a message");
        FZ_REQUIRE(sw_ctx_n_tokens(ctx) == 0, "tokens reported after a refused call");
        float dummy[1 << 12];
        if (c->heads & SW_HEAD_CLASSIFIER) FZ_REQUIRE(sw_ctx_classify(ctx, dummy) == SW_ERR_STATE, "classify after a refused forward");
        if (c->heads & SW_HEAD_MLM) FZ_REQUIRE(sw_ctx_splade(ctx, 0, 0, dummy) == SW_ERR_STATE, "splade after a refused forward");
        goto done;
    }
    FZ_REQUIRE(rc == SW_OK, "valid input (%d sequences, %lld tokens) refused: %d", (int)n_seq, (long long)total, rc);
    FZ_REQUIRE(sw_ctx_n_tokens(ctx) == total, "n_tokens %d != %lld", (int)sw_ctx_n_tokens(ctx), (long long)total);

    /* Copy out what the heads need before the solo runs reuse their own ctx. */
    const float *hidden = sw_ctx_hidden(ctx);
    FZ_REQUIRE(fz_all_finite(hidden, (size_t)total * H), "non-finite token state");
    float *hcopy = (float *)malloc(sizeof(float) * (size_t)total * H);
    memcpy(hcopy, hidden, sizeof(float) * (size_t)total * H);
    float *scores = NULL, *sparse = NULL;
    const int32_t L = c->num_labels;
    if (c->heads & SW_HEAD_CLASSIFIER) {
        scores = (float *)malloc(sizeof(float) * (size_t)n_seq * L);
        FZ_REQUIRE(sw_ctx_classify(ctx, scores) == SW_OK, "classify failed");
        FZ_REQUIRE(fz_all_finite(scores, (size_t)n_seq * L), "non-finite score");
    }
    const int32_t sum = fz_u8(in) & 1, twice = fz_u8(in) & 1;
    if (c->heads & SW_HEAD_MLM) {
        sparse = (float *)malloc(sizeof(float) * (size_t)n_seq * V);
        FZ_REQUIRE(sw_ctx_splade(ctx, sum, twice, sparse) == SW_OK, "splade failed");
        for (int64_t i = 0; i < (int64_t)n_seq * V; i++)
            FZ_REQUIRE(isfinite(sparse[i]) && sparse[i] >= 0.0f, "SPLADE weight %g", (double)sparse[i]);
    }

    /* Each sequence alone gives the same states and head outputs. */
    int64_t off = 0;
    const int check_solo = fz_u8(in) < 0x80;
    for (int32_t s = 0; s < n_seq; s++) {
        const float *hs = hcopy + off * H;
        int vm;
        const int32_t modes = fz_i32(in, 1, 63, &vm);
        const int32_t skip = (int32_t)fz_range(in, -2, 20);
        const int np = modes >= 1 && modes <= 63 ? popcount6(modes) : 1;
        float *pooled = (float *)malloc(sizeof(float) * (size_t)np * H);
        const int prc = sw_pool(hs, lens[s], H, modes, skip, pooled);
        if (modes >= 1 && modes <= 63) {
            FZ_REQUIRE(prc == SW_OK, "pool modes %d skip %d failed", (int)modes, (int)skip);
            for (int i = 0; i < np * H; i++)
                FZ_REQUIRE(isfinite(pooled[i]), "pooled value %g (modes %d skip %d)", (double)pooled[i], (int)modes, (int)skip);
        } else {
            FZ_REQUIRE(prc == SW_ERR_INVALID_ARG, "pool modes %d accepted", (int)modes);
        }
        free(pooled);
        if (check_solo) {
            FZ_REQUIRE(sw_ctx_forward(solo, 1, &lens[s], ids + off, types ? types + off : NULL) == SW_OK, "solo forward failed");
            const float *h1 = sw_ctx_hidden(solo);
            for (int64_t i = 0; i < (int64_t)lens[s] * H; i++)
                FZ_REQUIRE(close_to(hs[i], h1[i]), "sequence %d: packed state %g, alone %g", (int)s, (double)hs[i], (double)h1[i]);
            if (scores) {
                float one[4];
                FZ_REQUIRE(sw_ctx_classify(solo, one) == SW_OK, "solo classify");
                for (int32_t k = 0; k < L; k++)
                    FZ_REQUIRE(close_to(scores[(size_t)s * L + k], one[k]), "score %d/%d: %g vs %g", (int)s, (int)k,
                               (double)scores[(size_t)s * L + k], (double)one[k]);
            }
            if (sparse) {
                float *one = (float *)malloc(sizeof(float) * (size_t)V);
                FZ_REQUIRE(sw_ctx_splade(solo, sum, twice, one) == SW_OK, "solo splade");
                for (int32_t k = 0; k < V; k++)
                    FZ_REQUIRE(close_to(sparse[(size_t)s * V + k], one[k]), "SPLADE %d/%d: %g vs %g", (int)s, (int)k,
                               (double)sparse[(size_t)s * V + k], (double)one[k]);
                free(one);
            }
        }
        off += lens[s];
    }
    free(hcopy);
    free(scores);
    free(sparse);
done:
    free(lens);
    free(ids);
    free(types);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    net t = make_net(&in);
    sw_ctx *ctx = sw_ctx_create(t.m);
    sw_ctx *solo = sw_ctx_create(t.m);
    FZ_REQUIRE(ctx && solo, "sw_ctx_create failed");
    const int rounds = 1 + fz_u8(&in) % 4;
    for (int r = 0; r < rounds; r++) one_call(&in, &t, ctx, solo);
    FZ_REQUIRE(sw_ctx_forward(ctx, 0, NULL, NULL, NULL) == SW_ERR_INVALID_ARG, "no sequences accepted");
    sw_ctx_free(ctx);
    sw_ctx_free(solo);
    sw_model_free(t.m);
    return 0;
}

/* ==== seeds: a few nets, each with valid calls, then one bad field each ==== */

static void fz_write_seeds(const char *dir) {
    int k = 0;
    static const uint8_t cfgs[][12] = {
        /* V-1 heads-1 d-1 I-1 L-1 P-1 T act heads labels-1 eps rng */
        {29, 1, 3, 15, 1, 15, 2, 1, 0, 0, 0, 1},
        {9, 3, 0, 5, 0, 7, 0, 2, 1, 0, 1, 2},
        {47, 0, 3, 31, 1, 11, 1, 3, 2, 2, 0, 3},
        {19, 1, 1, 8, 1, 9, 2, 4, 3, 3, 1, 4},
    };
    for (int ci = 0; ci < 4; ci++) {
        for (int bad = -1; bad < 4; bad++) {
            fz_out o = {{0}, 0};
            for (int i = 0; i < 12; i++) fz_put(&o, cfgs[ci][i]);
            const int32_t V = cfgs[ci][0] + 1, P = cfgs[ci][5] + 1, T = cfgs[ci][6] ? cfgs[ci][6] : 1;
            fz_put(&o, 2); /* 3 rounds */
            for (int r = 0; r < 3; r++) {
                const int32_t n = 1 + (r + ci) % 4;
                if (bad == 0 && r == 1) { fz_put(&o, 0xe4); } /* n_seq = -1 */
                else fz_put_i32(&o, 1, 8, n);
                const int32_t nn = (bad == 0 && r == 1) ? 0 : n;
                int total = 0;
                for (int s = 0; s < nn; s++) {
                    const int32_t len = 1 + (s * 7 + r) % P;
                    if (bad == 1 && r == 1 && s == 0) { fz_put(&o, 0xe1); continue; } /* P + 1 */
                    fz_put_i32(&o, 1, P, len);
                    total += len;
                }
                fz_put(&o, (uint8_t)(r & 1)); /* types on every other round */
                for (int i = 0; i < total; i++) {
                    if (bad == 2 && r == 1 && i == total - 1) fz_put(&o, 0xe1); /* id = V */
                    else fz_put_i32(&o, 0, V - 1, (i * 13 + r) % V);
                    if (r & 1) {
                        if (bad == 3 && r == 1 && i == 0) fz_put(&o, 0xe2); /* type = INT32_MIN */
                        else fz_put_i32(&o, 0, T - 1, i % T);
                    }
                }
                fz_put(&o, (uint8_t)r); fz_put(&o, (uint8_t)(r >> 1)); fz_put(&o, 0);
                for (int s = 0; s < nn; s++) { fz_put_i32(&o, 1, 63, 1 + (s * 11 + r) % 63); fz_put(&o, (uint8_t)(s % 5)); }
            }
            fz_write_seed(dir, k++, o.buf, o.n);
        }
    }
}
