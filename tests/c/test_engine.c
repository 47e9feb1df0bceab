/*
 * test_engine.c — the engine through its public C API, natively under ASan +
 * UBSan: config and tensor-descriptor checks, the BERT forward pass against a
 * separate naive implementation (double precision, padded batch with an
 * attention mask, the way transformers' modeling_bert computes it), the
 * heads (Pooling, Dense, Normalize, StaticEmbedding, classifier, SPLADE) and
 * the error paths.
 *
 * Weights are random from a fixed-seed xorshift, configs tiny, so the whole
 * file runs in well under a second. No framework: CHECK counts, the last line
 * is "N passed, M failed" and the exit status is non-zero on any failure.
 */
#include "sentence_wasm.h"
#include "internal.h" /* sw_f16_to_f32 / sw_bf16_to_f32: bit-exact checks */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== checks ==== */

static int n_pass, n_fail;

static int check_(int ok, const char *expr, const char *file, int line) {
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        fprintf(stderr, "%s:%d: CHECK failed: %s  [sw_last_error: \"%s\"]\n", file, line, expr, sw_last_error());
    }
    return ok;
}
#define CHECK(expr) check_((expr) ? 1 : 0, #expr, __FILE__, __LINE__)

/* A call returns `code` and, when `substr` is not NULL, sw_last_error()
 * contains it (the field or tensor at fault). */
static int check_err_(int rc, int code, const char *substr, const char *expr, const char *file, int line) {
    const char *msg = sw_last_error();
    int ok = rc == code && (!substr || strstr(msg, substr) != NULL);
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        fprintf(stderr, "%s:%d: CHECK failed: %s returned %d (want %d), message \"%s\" (want it to name \"%s\")\n",
                file, line, expr, rc, code, msg, substr ? substr : "");
    }
    return ok;
}
#define CHECK_ERR(call, code, substr) check_err_((call), (code), (substr), #call, __FILE__, __LINE__)

/* A constructor returns NULL and sw_last_error() names `substr`. */
static int check_null_(const void *p, const char *substr, const char *expr, const char *file, int line);
/* The same for sw_model_create, freeing a model it should not have made. */
static int check_model_null_(sw_model *m, const char *substr, const char *expr, const char *file, int line) {
    int ok = check_null_(m, substr, expr, file, line);
    sw_model_free(m);
    return ok;
}
#define CHECK_MODEL_NULL(call, substr) check_model_null_((call), (substr), #call, __FILE__, __LINE__)
static int check_null_(const void *p, const char *substr, const char *expr, const char *file, int line) {
    const char *msg = sw_last_error();
    int ok = p == NULL && msg[0] != '\0' && (!substr || strstr(msg, substr) != NULL);
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        fprintf(stderr, "%s:%d: CHECK failed: %s gave %p (want NULL), message \"%s\" (want it to name \"%s\")\n",
                file, line, expr, p, msg, substr ? substr : "");
    }
    return ok;
}
#define CHECK_NULL(call, substr) check_null_((const void *)(call), (substr), #call, __FILE__, __LINE__)

/* max |got - want| <= tol * (1 + |want|) over n values; prints the worst. */
static int check_close_(const float *got, const double *want, size_t n, double tol, const char *what,
                        const char *file, int line) {
    double worst = 0.0;
    size_t at = 0;
    int nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i]) || isnan(want[i])) { nan = 1; at = i; break; }
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (e > worst) { worst = e; at = i; }
    }
    int ok = !nan && worst <= tol;
    if (ok) {
        n_pass++;
    } else {
        n_fail++;
        fprintf(stderr, "%s:%d: CHECK failed: %s: error %.3g at %zu (got %.9g, want %.9g), tolerance %.3g\n",
                file, line, what, worst, at, n ? (double)got[at] : 0.0, n ? want[at] : 0.0, tol);
    }
    return ok;
}
#define CHECK_CLOSE(got, want, n, tol) check_close_((got), (want), (n), (tol), #got " vs " #want, __FILE__, __LINE__)

/* ==== fixed-seed random numbers (xorshift64) ==== */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void) {
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}
static double rng_unit(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); }
static float rng_sym(double a) { return (float)((2.0 * rng_unit() - 1.0) * a); }
static int32_t rng_int(int32_t n) { return (int32_t)(rng_next() % (uint64_t)n); }

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) { fprintf(stderr, "test: out of memory\n"); exit(2); }
    return p;
}

/* ==== a reference model: named random tensors, kept on the test's side ==== */

#define MAX_TENSORS 128

typedef struct tensor {
    char name[96];
    int32_t ndim;
    int64_t shape[2];
    size_t n;
    float *data;
} tensor;

typedef struct refmodel {
    sw_config cfg;
    tensor t[MAX_TENSORS];
    int nt;
} refmodel;

enum { INIT_UNIFORM, INIT_GAIN };

static void rm_add(refmodel *r, const char *name, int32_t ndim, int64_t d0, int64_t d1, int init, double scale) {
    if (r->nt >= MAX_TENSORS) { fprintf(stderr, "test: too many tensors\n"); exit(2); }
    tensor *t = &r->t[r->nt++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = ndim == 2 ? d1 : 0;
    t->n = (size_t)d0 * (size_t)(ndim == 2 ? d1 : 1);
    t->data = (float *)xcalloc(t->n, sizeof(float));
    for (size_t i = 0; i < t->n; i++)
        t->data[i] = init == INIT_GAIN ? 1.0f + rng_sym(0.2) : rng_sym(scale);
}

static void rm_linear(refmodel *r, const char *prefix, int64_t out, int64_t in) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    rm_add(r, name, 2, out, in, INIT_UNIFORM, 1.7 / sqrt((double)in));
    snprintf(name, sizeof name, "%s.bias", prefix);
    rm_add(r, name, 1, out, 0, INIT_UNIFORM, 0.2);
}

static void rm_ln(refmodel *r, const char *prefix, int64_t n) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    rm_add(r, name, 1, n, 0, INIT_GAIN, 0.0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    rm_add(r, name, 1, n, 0, INIT_UNIFORM, 0.2);
}

/* Every tensor of a checkpoint for cfg, named as in modeling_bert (no
 * "bert." prefix: rm_load adds it on request). */
static void rm_build(refmodel *r, const sw_config *cfg) {
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    const int64_t V = cfg->vocab_size, H = cfg->hidden_size, I = cfg->intermediate_size;
    rm_add(r, "embeddings.word_embeddings.weight", 2, V, H, INIT_UNIFORM, 1.0);
    rm_add(r, "embeddings.position_embeddings.weight", 2, cfg->max_position, H, INIT_UNIFORM, 1.0);
    if (cfg->type_vocab_size > 0)
        rm_add(r, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab_size, H, INIT_UNIFORM, 1.0);
    rm_ln(r, "embeddings.LayerNorm", H);
    for (int l = 0; l < cfg->num_layers; l++) {
        char p[96];
#define LP(s) (snprintf(p, sizeof p, "encoder.layer.%d.%s", l, s), p)
        rm_linear(r, LP("attention.self.query"), H, H);
        rm_linear(r, LP("attention.self.key"), H, H);
        rm_linear(r, LP("attention.self.value"), H, H);
        rm_linear(r, LP("attention.output.dense"), H, H);
        rm_ln(r, LP("attention.output.LayerNorm"), H);
        rm_linear(r, LP("intermediate.dense"), I, H);
        rm_linear(r, LP("output.dense"), H, I);
        rm_ln(r, LP("output.LayerNorm"), H);
#undef LP
    }
    if (cfg->heads & SW_HEAD_CLASSIFIER) {
        rm_linear(r, "pooler.dense", H, H);
        rm_linear(r, "classifier", cfg->num_labels, H);
    }
    if (cfg->heads & SW_HEAD_MLM) {
        rm_linear(r, "cls.predictions.transform.dense", H, H);
        rm_ln(r, "cls.predictions.transform.LayerNorm", H);
        rm_add(r, "cls.predictions.bias", 1, V, 0, INIT_UNIFORM, 1.0);
    }
}

static void rm_free(refmodel *r) {
    for (int i = 0; i < r->nt; i++) free(r->t[i].data);
    r->nt = 0;
}

static tensor *rm_find(refmodel *r, const char *name) {
    for (int i = 0; i < r->nt; i++)
        if (strcmp(r->t[i].name, name) == 0) return &r->t[i];
    return NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static const float *rm_get(const refmodel *r, const char *fmt, ...) {
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    for (int i = 0; i < r->nt; i++)
        if (strcmp(r->t[i].name, name) == 0) return r->t[i].data;
    fprintf(stderr, "test: no tensor %s in the reference model\n", name);
    exit(2);
}

static int is_head_tensor(const char *name) {
    return strncmp(name, "cls.", 4) == 0 || strncmp(name, "classifier", 10) == 0;
}

/* A finalized engine model holding r's tensors (as F32), "bert." before the
 * encoder's names if bert_prefix, as BertFor* checkpoints name them. */
static sw_model *rm_load(const refmodel *r, int bert_prefix) {
    sw_model *m = sw_model_create(&r->cfg);
    if (!CHECK(m != NULL)) return NULL;
    for (int i = 0; i < r->nt; i++) {
        const tensor *t = &r->t[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", bert_prefix && !is_head_tensor(t->name) ? "bert." : "", t->name);
        CHECK_ERR(sw_model_add_tensor(m, name, SW_DTYPE_F32, t->ndim, t->shape, t->data, t->n * sizeof(float)),
                  SW_OK, NULL);
    }
    if (!CHECK_ERR(sw_model_finalize(m), SW_OK, NULL)) { sw_model_free(m); return NULL; }
    return m;
}

/* ==== f16 / bf16 on the test's side (frexp/ldexp, not bit tricks) ==== */

static double f16_value(uint16_t h) {
    int E = (h >> 10) & 31, k = h & 1023;
    double v = E == 0 ? ldexp((double)k, -24) : E == 31 ? (k ? NAN : INFINITY) : ldexp(1024.0 + k, E - 25);
    return (h & 0x8000) ? -v : v;
}

static double bf16_value(uint16_t b) {
    int E = (b >> 7) & 255, k = b & 127;
    double v = E == 0 ? ldexp((double)k, -133) : E == 255 ? (k ? NAN : INFINITY) : ldexp(128.0 + k, E - 134);
    return (b & 0x8000) ? -v : v;
}

/* Nearest f16 / bf16 (ties to even) of a finite float inside their range. */
static uint16_t to_f16(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a == 0.0) return sign;
    int e;
    frexp(a, &e); /* a = m 2^e, m in [0.5, 1) */
    if (e - 1 < -14) return (uint16_t)(sign | (uint16_t)nearbyint(ldexp(a, 24))); /* 1024 rounds up to 0x400 */
    double k = nearbyint((ldexp(a, -(e - 1)) - 1.0) * 1024.0);
    int E = e - 1 + 15;
    if (k == 1024.0) { k = 0.0; E++; }
    return (uint16_t)(sign | (uint16_t)(E << 10) | (uint16_t)k);
}

static uint16_t to_bf16(float f) {
    uint16_t sign = signbit(f) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (a == 0.0) return sign;
    int e;
    frexp(a, &e);
    double k = nearbyint((ldexp(a, -(e - 1)) - 1.0) * 128.0);
    int E = e - 1 + 127;
    if (k == 128.0) { k = 0.0; E++; }
    return (uint16_t)(sign | (uint16_t)(E << 7) | (uint16_t)k);
}

static int same_float(float a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return (double)a == b && !signbit(a) == !signbit(b);
}

/* ==== the naive BERT (double precision, padded batch + attention mask) ==== */

static double naive_act(double v, int32_t act) {
    switch (act) {
    case SW_ACT_GELU:      return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    case SW_ACT_GELU_TANH: return 0.5 * v * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
    case SW_ACT_RELU:      return v > 0.0 ? v : 0.0;
    case SW_ACT_TANH:      return tanh(v);
    case SW_ACT_SIGMOID:   return 1.0 / (1.0 + exp(-v));
    default:               return v;
    }
}

/* y[rows x out] = x[rows x in] W^T + b, torch.nn.Linear. */
static void naive_linear(const double *x, int rows, int in, const float *w, const float *b, int out, double *y) {
    for (int i = 0; i < rows; i++)
        for (int o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (int k = 0; k < in; k++) acc += x[(size_t)i * in + k] * (double)w[(size_t)o * in + k];
            y[(size_t)i * out + o] = acc;
        }
}

/* x = LayerNorm(x + delta) row-wise (delta may be NULL), biased variance. */
static void naive_add_ln(double *x, const double *delta, int rows, int n, const float *g, const float *b, double eps) {
    for (int i = 0; i < rows; i++) {
        double *xi = x + (size_t)i * n, mean = 0.0, var = 0.0;
        for (int j = 0; j < n; j++) {
            if (delta) xi[j] += delta[(size_t)i * n + j];
            mean += xi[j];
        }
        mean /= n;
        for (int j = 0; j < n; j++) var += (xi[j] - mean) * (xi[j] - mean);
        var /= n;
        for (int j = 0; j < n; j++) xi[j] = (xi[j] - mean) / sqrt(var + eps) * g[j] + b[j];
    }
}

/* BertModel on n_seq sequences padded to the longest (pad id 0, type 0,
 * attention mask 0 there); the real positions' last hidden states go to
 * out[sum(lens) x H], packed. types may be NULL (all 0). */
static void naive_forward(const refmodel *r, int n_seq, const int32_t *lens, const int32_t *ids,
                          const int32_t *types, double *out) {
    const sw_config *c = &r->cfg;
    const int H = c->hidden_size, nh = c->num_heads, d = H / nh, I = c->intermediate_size;
    const double eps = c->layer_norm_eps;
    int Lm = 0;
    for (int b = 0; b < n_seq; b++) if (lens[b] > Lm) Lm = lens[b];
    const int R = n_seq * Lm;
    double *x = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *q = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *k = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *v = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *ctx = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *tmp = (double *)xcalloc((size_t)R * H, sizeof(double));
    double *inter = (double *)xcalloc((size_t)R * I, sizeof(double));
    double *score = (double *)xcalloc((size_t)Lm, sizeof(double));
    int *mask = (int *)xcalloc((size_t)R, sizeof(int));

    /* BertEmbeddings */
    const float *we = rm_get(r, "embeddings.word_embeddings.weight");
    const float *pe = rm_get(r, "embeddings.position_embeddings.weight");
    const float *te = c->type_vocab_size > 0 ? rm_get(r, "embeddings.token_type_embeddings.weight") : NULL;
    int off = 0;
    for (int b = 0; b < n_seq; b++) {
        for (int p = 0; p < Lm; p++) {
            const int row = b * Lm + p, real = p < lens[b];
            const int id = real ? ids[off + p] : 0, ty = real && types ? types[off + p] : 0;
            mask[row] = real;
            for (int j = 0; j < H; j++)
                x[(size_t)row * H + j] = (double)we[(size_t)id * H + j] + pe[(size_t)p * H + j] +
                                         (te ? te[(size_t)ty * H + j] : 0.0);
        }
        off += lens[b];
    }
    naive_add_ln(x, NULL, R, H, rm_get(r, "embeddings.LayerNorm.weight"), rm_get(r, "embeddings.LayerNorm.bias"), eps);

    for (int l = 0; l < c->num_layers; l++) {
#define LW(s) rm_get(r, "encoder.layer.%d." s, l)
        naive_linear(x, R, H, LW("attention.self.query.weight"), LW("attention.self.query.bias"), H, q);
        naive_linear(x, R, H, LW("attention.self.key.weight"), LW("attention.self.key.bias"), H, k);
        naive_linear(x, R, H, LW("attention.self.value.weight"), LW("attention.self.value.bias"), H, v);
        for (int b = 0; b < n_seq; b++)
            for (int h = 0; h < nh; h++)
                for (int i = 0; i < Lm; i++) {
                    const double *qi = q + (size_t)(b * Lm + i) * H + h * d;
                    double mx = -INFINITY, sum = 0.0;
                    for (int j = 0; j < Lm; j++) {
                        const double *kj = k + (size_t)(b * Lm + j) * H + h * d;
                        double s = 0.0;
                        for (int e = 0; e < d; e++) s += qi[e] * kj[e];
                        score[j] = s / sqrt((double)d) + (mask[b * Lm + j] ? 0.0 : -INFINITY);
                        if (score[j] > mx) mx = score[j];
                    }
                    for (int j = 0; j < Lm; j++) { score[j] = exp(score[j] - mx); sum += score[j]; }
                    double *ci = ctx + (size_t)(b * Lm + i) * H + h * d;
                    for (int e = 0; e < d; e++) {
                        double acc = 0.0;
                        for (int j = 0; j < Lm; j++) acc += score[j] / sum * v[(size_t)(b * Lm + j) * H + h * d + e];
                        ci[e] = acc;
                    }
                }
        naive_linear(ctx, R, H, LW("attention.output.dense.weight"), LW("attention.output.dense.bias"), H, tmp);
        naive_add_ln(x, tmp, R, H, LW("attention.output.LayerNorm.weight"), LW("attention.output.LayerNorm.bias"), eps);
        naive_linear(x, R, H, LW("intermediate.dense.weight"), LW("intermediate.dense.bias"), I, inter);
        for (size_t i = 0; i < (size_t)R * I; i++) inter[i] = naive_act(inter[i], c->hidden_act);
        naive_linear(inter, R, I, LW("output.dense.weight"), LW("output.dense.bias"), H, tmp);
        naive_add_ln(x, tmp, R, H, LW("output.LayerNorm.weight"), LW("output.LayerNorm.bias"), eps);
#undef LW
    }

    off = 0;
    for (int b = 0; b < n_seq; b++) {
        memcpy(out + (size_t)off * H, x + (size_t)b * Lm * H, (size_t)lens[b] * H * sizeof(double));
        off += lens[b];
    }
    free(x); free(q); free(k); free(v); free(ctx); free(tmp); free(inter); free(score); free(mask);
}

/* ==== shared fixtures ==== */

static sw_config tiny_config(void) {
    sw_config c = sw_config_default();
    c.vocab_size = 50;
    c.hidden_size = 8;
    c.num_heads = 2;
    c.num_layers = 2;
    c.intermediate_size = 16;
    c.max_position = 16;
    return c;
}

static const int32_t LENS[4] = {1, 3, 7, 16};
#define N_LENS 4
#define TOTAL_LENS 27

static void random_tokens(int32_t *ids, int32_t *types, int n, int32_t vocab, int32_t type_vocab) {
    for (int i = 0; i < n; i++) {
        ids[i] = rng_int(vocab);
        if (types) types[i] = type_vocab > 0 ? rng_int(type_vocab) : 0;
    }
}

static float *copy_floats(const float *p, size_t n) {
    float *q = (float *)xcalloc(n, sizeof(float));
    if (p) memcpy(q, p, n * sizeof(float));
    return q;
}

/* ==== 1. config ==== */

static void test_config(void) {
    sw_config d = sw_config_default();
    CHECK(d.max_position == 512 && d.type_vocab_size == 2 && d.hidden_act == SW_ACT_GELU);
    CHECK(d.layer_norm_eps == 1e-12f && d.heads == SW_HEAD_NONE);
    CHECK(d.vocab_size == 0 && d.hidden_size == 0 && d.num_layers == 0 && d.num_heads == 0 && d.intermediate_size == 0);
    CHECK_MODEL_NULL(sw_model_create(&d), "vocab_size"); /* the default's sizes must be filled in */
    CHECK_MODEL_NULL(sw_model_create(NULL), "NULL");

    const sw_config base = tiny_config();
    sw_model *m = sw_model_create(&base);
    CHECK(m != NULL);
    CHECK(sw_last_error()[0] == '\0');
    sw_model_free(m);

    sw_config c;
#define BAD(field, value, named)           \
    do {                                   \
        c = base;                          \
        c.field = value;                   \
        CHECK_MODEL_NULL(sw_model_create(&c), named); \
    } while (0)
    BAD(hidden_size, 9, "num_attention_heads"); /* 9 % 2 != 0 */
    BAD(num_heads, 3, "hidden_size");           /* 8 % 3 != 0 */
    BAD(vocab_size, 0, "vocab_size");
    BAD(vocab_size, -50, "vocab_size");
    BAD(vocab_size, 1000000000, "vocab_size");
    BAD(hidden_size, 0, "hidden_size");
    BAD(hidden_size, -8, "hidden_size");
    BAD(num_layers, 0, "num_hidden_layers");
    BAD(num_layers, -1, "num_hidden_layers");
    BAD(num_heads, 0, "num_attention_heads");
    BAD(num_heads, -2, "num_attention_heads");
    BAD(intermediate_size, 0, "intermediate_size");
    BAD(intermediate_size, -16, "intermediate_size");
    BAD(max_position, 0, "max_position_embeddings");
    BAD(max_position, -1, "max_position_embeddings");
    BAD(type_vocab_size, -1, "type_vocab_size");
    BAD(hidden_act, 6, "hidden_act");
    BAD(hidden_act, -1, "hidden_act");
    BAD(heads, 4, "head");
    BAD(layer_norm_eps, -1e-5f, "layer_norm_eps");
    BAD(layer_norm_eps, NAN, "layer_norm_eps");
    BAD(layer_norm_eps, 1.0f, "layer_norm_eps");
#undef BAD
    c = base;
    c.heads = SW_HEAD_CLASSIFIER;
    c.num_labels = 0;
    CHECK_MODEL_NULL(sw_model_create(&c), "num_labels");
    c.num_labels = -3;
    CHECK_MODEL_NULL(sw_model_create(&c), "num_labels");

    /* Each size within its own range, but one tensor above 2 GiB. */
    c = base;
    c.vocab_size = 1 << 22;
    c.hidden_size = 1 << 14;
    CHECK_MODEL_NULL(sw_model_create(&c), "vocab_size");
    c = base;
    c.hidden_size = 1 << 14;
    c.intermediate_size = 1 << 16;
    CHECK_MODEL_NULL(sw_model_create(&c), "intermediate_size");
    c = base;
    c.hidden_size = 1 << 14;
    c.max_position = 1 << 16; /* position_embeddings [65536 x 16384] = 4 GiB */
    CHECK_MODEL_NULL(sw_model_create(&c), "max_position_embeddings");
    c = base;
    c.hidden_size = 1 << 14;
    c.heads = SW_HEAD_CLASSIFIER;
    c.num_labels = 1 << 16; /* classifier.weight [65536 x 16384] = 4 GiB */
    CHECK_MODEL_NULL(sw_model_create(&c), "num_labels");

    /* Accepted edge values: no token types, one head, other activations. */
    c = base;
    c.type_vocab_size = 0;
    c.num_heads = 1;
    c.hidden_act = SW_ACT_SIGMOID;
    m = sw_model_create(&c);
    CHECK(m != NULL);
    sw_model_free(m);
}

/* ==== 2. tensor descriptors and dtype conversion ==== */

static void test_dtype_conversion(void) {
    /* Known values, from a misaligned little-endian buffer. */
    static const struct { uint16_t bits; double value; int neg_zero; } f16[] = {
        {0x0000, 0.0, 0}, {0x8000, 0.0, 1}, {0x3c00, 1.0, 0}, {0xc000, -2.0, 0},
        {0x7bff, 65504.0, 0}, {0xfbff, -65504.0, 0}, {0x0001, 5.9604644775390625e-08, 0} /* 2^-24 */,
        {0x8001, -5.9604644775390625e-08, 0}, {0x03ff, 6.0975551605224609375e-05, 0} /* 1023 * 2^-24 */,
        {0x0400, 6.103515625e-05, 0} /* 2^-14 */, {0x3555, 0.333251953125, 0}, {0x3bff, 0.99951171875, 0},
        {0x7c00, INFINITY, 0}, {0xfc00, -INFINITY, 0},
    };
    const size_t nf = sizeof f16 / sizeof f16[0];
    unsigned char buf[1 + 2 * 32];
    float out[32];
    for (size_t i = 0; i < nf; i++) {
        buf[1 + 2 * i] = (unsigned char)(f16[i].bits & 0xff);
        buf[2 + 2 * i] = (unsigned char)(f16[i].bits >> 8);
    }
    sw_f16_to_f32(buf + 1, nf, out);
    for (size_t i = 0; i < nf; i++) {
        if (!CHECK(out[i] == (float)f16[i].value && !signbit(out[i]) == !(f16[i].neg_zero || f16[i].value < 0)))
            fprintf(stderr, "  f16 0x%04x -> %.10g, want %.10g\n", f16[i].bits, (double)out[i], f16[i].value);
    }
    const uint16_t nans16[] = {0x7e00, 0x7c01, 0xfe00, 0x7fff};
    for (size_t i = 0; i < 4; i++) {
        buf[1 + 2 * i] = (unsigned char)(nans16[i] & 0xff);
        buf[2 + 2 * i] = (unsigned char)(nans16[i] >> 8);
    }
    sw_f16_to_f32(buf + 1, 4, out);
    for (size_t i = 0; i < 4; i++) CHECK(isnan(out[i]));

    static const struct { uint16_t bits; double value; } bf[] = {
        {0x0000, 0.0}, {0x3f80, 1.0}, {0xc000, -2.0}, {0x3fc0, 1.5}, {0xc050, -3.25},
        {0x7f7f, 3.3895313892515355e+38}, {0x0080, 1.1754943508222875e-38} /* 2^-126 */,
        {0x0001, 9.1835496157991212e-41} /* 2^-133 */, {0x7f80, INFINITY}, {0xff80, -INFINITY},
    };
    const size_t nb = sizeof bf / sizeof bf[0];
    for (size_t i = 0; i < nb; i++) {
        buf[1 + 2 * i] = (unsigned char)(bf[i].bits & 0xff);
        buf[2 + 2 * i] = (unsigned char)(bf[i].bits >> 8);
    }
    sw_bf16_to_f32(buf + 1, nb, out);
    for (size_t i = 0; i < nb; i++) {
        if (!CHECK(out[i] == (float)bf[i].value))
            fprintf(stderr, "  bf16 0x%04x -> %.10g, want %.10g\n", bf[i].bits, (double)out[i], bf[i].value);
    }
    buf[1] = 0x00; buf[2] = 0x80; /* -0 */
    buf[3] = 0xc0; buf[4] = 0x7f; /* nan */
    sw_bf16_to_f32(buf + 1, 2, out);
    CHECK(out[0] == 0.0f && signbit(out[0]));
    CHECK(isnan(out[1]));

    /* Every one of the 65536 patterns, against ldexp on the test's side. */
    unsigned char *all = (unsigned char *)xcalloc(2 * 65536 + 1, 1);
    float *conv = (float *)xcalloc(65536, sizeof(float));
    for (uint32_t h = 0; h < 65536; h++) {
        all[1 + 2 * h] = (unsigned char)(h & 0xff);
        all[2 + 2 * h] = (unsigned char)(h >> 8);
    }
    int bad16 = 0, badb = 0;
    sw_f16_to_f32(all + 1, 65536, conv);
    for (uint32_t h = 0; h < 65536; h++) bad16 += !same_float(conv[h], f16_value((uint16_t)h));
    sw_bf16_to_f32(all + 1, 65536, conv);
    for (uint32_t h = 0; h < 65536; h++) badb += !same_float(conv[h], bf16_value((uint16_t)h));
    CHECK(bad16 == 0);
    CHECK(badb == 0);
    free(all);
    free(conv);
}

static void test_tensors(void) {
    const sw_config cfg = tiny_config();
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *m = sw_model_create(&cfg);
    if (!CHECK(m != NULL)) { rm_free(&r); return; }
    const char *WE = "embeddings.word_embeddings.weight";
    const tensor *w = rm_find(&r, WE);
    const size_t nb = w->n * sizeof(float);

    CHECK(sw_model_tensor_known(m, WE) == 1);
    CHECK(sw_model_tensor_known(m, "bert.embeddings.word_embeddings.weight") == 1);
    CHECK(sw_model_tensor_known(m, "encoder.layer.1.output.LayerNorm.bias") == 1);
    CHECK(sw_model_tensor_known(m, "encoder.layer.2.output.LayerNorm.bias") == 0); /* only 2 layers */
    CHECK(sw_model_tensor_known(m, "embeddings.position_ids") == 0);
    CHECK(sw_model_tensor_known(m, "pooler.dense.weight") == 0); /* no classifier head */
    CHECK(sw_model_tensor_known(m, "cls.predictions.bias") == 0); /* no MLM head */
    CHECK(sw_model_tensor_known(m, NULL) == 0);
    CHECK(sw_model_tensor_known(NULL, WE) == 0);

    const int64_t wrong0[2] = {cfg.vocab_size + 1, cfg.hidden_size};
    const int64_t wrong1[2] = {cfg.vocab_size, cfg.hidden_size - 1};
    const int64_t transposed[2] = {cfg.hidden_size, cfg.vocab_size};
    const int64_t shape3[3] = {cfg.vocab_size, cfg.hidden_size, 1};
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, wrong0, w->data, nb), SW_ERR_BAD_TENSOR, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, wrong1, w->data, nb), SW_ERR_BAD_TENSOR, "shape");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, transposed, w->data, nb), SW_ERR_BAD_TENSOR, "shape");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 1, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 3, shape3, w->data, nb), SW_ERR_BAD_TENSOR, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 0, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, -1, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, w->data, nb - 1), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, w->data, nb + 1), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, w->data, 2 * nb), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, w->data, 0), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F16, 2, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_BF16, 2, w->shape, w->data, nb / 2 + 1), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_model_add_tensor(m, WE, 7, 2, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, "dtype");
    CHECK_ERR(sw_model_add_tensor(m, WE, -1, 2, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, "dtype");
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, NULL, nb), SW_ERR_INVALID_ARG, WE);
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, NULL, w->data, nb), SW_ERR_INVALID_ARG, WE);
    CHECK_ERR(sw_model_add_tensor(m, NULL, SW_DTYPE_F32, 2, w->shape, w->data, nb), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_model_add_tensor(NULL, WE, SW_DTYPE_F32, 2, w->shape, w->data, nb), SW_ERR_INVALID_ARG, NULL);

    /* Unknown names are ignored, whatever their descriptor. */
    const int64_t pos_ids[2] = {1, cfg.max_position};
    int64_t pos_ids_data[16] = {0};
    CHECK_ERR(sw_model_add_tensor(m, "embeddings.position_ids", SW_DTYPE_F32, 2, pos_ids, pos_ids_data,
                                  sizeof pos_ids_data), SW_OK, NULL);
    CHECK_ERR(sw_model_add_tensor(m, "pooler.dense.weight", 7, 2, pos_ids, NULL, 3), SW_OK, NULL);
    CHECK_ERR(sw_model_add_tensor(m, "cls.predictions.decoder.weight", SW_DTYPE_F32, 2, w->shape, w->data, nb),
              SW_OK, NULL);

    /* Failed adds left the slot empty; the "bert." name fills it; the bare
     * name is then the same tensor a second time. */
    CHECK_ERR(sw_model_add_tensor(m, "bert.embeddings.word_embeddings.weight", SW_DTYPE_F32, 2, w->shape, w->data, nb),
              SW_OK, NULL);
    CHECK(sw_last_error()[0] == '\0');
    CHECK_ERR(sw_model_add_tensor(m, WE, SW_DTYPE_F32, 2, w->shape, w->data, nb), SW_ERR_BAD_TENSOR, "twice");
    CHECK_ERR(sw_model_add_tensor(m, "bert.embeddings.word_embeddings.weight", SW_DTYPE_F32, 2, w->shape, w->data, nb),
              SW_ERR_BAD_TENSOR, "twice");

    /* Everything but one tensor: finalize names it, then accepts it. */
    const char *LAST = "encoder.layer.1.output.LayerNorm.bias";
    for (int i = 0; i < r.nt; i++) {
        const tensor *t = &r.t[i];
        if (strcmp(t->name, WE) == 0 || strcmp(t->name, LAST) == 0) continue;
        CHECK_ERR(sw_model_add_tensor(m, t->name, SW_DTYPE_F32, t->ndim, t->shape, t->data, t->n * sizeof(float)),
                  SW_OK, NULL);
    }
    CHECK_ERR(sw_model_finalize(m), SW_ERR_MISSING_TENSOR, LAST);
    CHECK_NULL(sw_ctx_create(m), "finalized");
    const tensor *lt = rm_find(&r, LAST);
    CHECK_ERR(sw_model_add_tensor(m, LAST, SW_DTYPE_F32, lt->ndim, lt->shape, lt->data, lt->n * sizeof(float)), SW_OK, NULL);
    CHECK_ERR(sw_model_finalize(m), SW_OK, NULL);
    CHECK_ERR(sw_model_finalize(m), SW_OK, NULL); /* twice is harmless */
    CHECK_ERR(sw_model_finalize(NULL), SW_ERR_INVALID_ARG, NULL);
    size_t floats = 0;
    for (int i = 0; i < r.nt; i++) floats += r.t[i].n;
    CHECK(sw_model_weight_bytes(m) >= floats * sizeof(float));
    CHECK(sw_model_weight_bytes(NULL) == 0);

    /* After finalize the model is read-only. */
    CHECK_ERR(sw_model_add_tensor(m, LAST, SW_DTYPE_F32, lt->ndim, lt->shape, lt->data, lt->n * sizeof(float)),
              SW_ERR_STATE, "finalized");
    CHECK_ERR(sw_model_add_tensor(m, "embeddings.position_ids", SW_DTYPE_F32, 2, pos_ids, pos_ids_data,
                                  sizeof pos_ids_data), SW_ERR_STATE, NULL);
    sw_model_free(m);

    /* A classifier model: the missing head tensors are named too. */
    sw_config cc = cfg;
    cc.heads = SW_HEAD_CLASSIFIER;
    cc.num_labels = 3;
    refmodel rc;
    rm_build(&rc, &cc);
    m = sw_model_create(&cc);
    CHECK(sw_model_tensor_known(m, "bert.pooler.dense.weight") == 1);
    CHECK(sw_model_tensor_known(m, "classifier.weight") == 1);
    for (int i = 0; i < rc.nt; i++) {
        const tensor *t = &rc.t[i];
        if (strcmp(t->name, "classifier.bias") == 0) continue;
        CHECK_ERR(sw_model_add_tensor(m, t->name, SW_DTYPE_F32, t->ndim, t->shape, t->data, t->n * sizeof(float)),
                  SW_OK, NULL);
    }
    CHECK_ERR(sw_model_finalize(m), SW_ERR_MISSING_TENSOR, "classifier.bias");
    const int64_t wrong_labels[1] = {4};
    const tensor *cb = rm_find(&rc, "classifier.bias");
    CHECK_ERR(sw_model_add_tensor(m, "classifier.bias", SW_DTYPE_F32, 1, wrong_labels, cb->data, 4 * sizeof(float)),
              SW_ERR_BAD_TENSOR, "classifier.bias");
    sw_model_free(m); /* unfinalized, partly filled: no leak */
    rm_free(&rc);
    rm_free(&r);
}

/* The same weights as F16 / BF16 bytes (misaligned) and as the F32 values
 * they stand for give bit-identical forward passes. */
static void test_half_weights(int32_t dtype) {
    const sw_config cfg = tiny_config();
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *mh = sw_model_create(&cfg);
    if (!CHECK(mh != NULL)) { rm_free(&r); return; }
    for (int i = 0; i < r.nt; i++) {
        tensor *t = &r.t[i];
        unsigned char *bytes = (unsigned char *)xcalloc(2 * t->n + 1, 1);
        for (size_t j = 0; j < t->n; j++) {
            uint16_t h = dtype == SW_DTYPE_F16 ? to_f16(t->data[j]) : to_bf16(t->data[j]);
            t->data[j] = (float)(dtype == SW_DTYPE_F16 ? f16_value(h) : bf16_value(h)); /* the value it stands for */
            bytes[1 + 2 * j] = (unsigned char)(h & 0xff);
            bytes[2 + 2 * j] = (unsigned char)(h >> 8);
        }
        CHECK_ERR(sw_model_add_tensor(mh, t->name, dtype, t->ndim, t->shape, bytes + 1, 2 * t->n + 1),
                  SW_ERR_BAD_TENSOR, "bytes");
        CHECK_ERR(sw_model_add_tensor(mh, t->name, dtype, t->ndim, t->shape, bytes + 1, 2 * t->n), SW_OK, NULL);
        free(bytes);
    }
    CHECK_ERR(sw_model_finalize(mh), SW_OK, NULL);
    sw_model *mf = rm_load(&r, 0);
    sw_ctx *ch = sw_ctx_create(mh), *cf = mf ? sw_ctx_create(mf) : NULL;
    if (CHECK(ch && cf)) {
        int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
        random_tokens(ids, types, TOTAL_LENS, cfg.vocab_size, cfg.type_vocab_size);
        CHECK_ERR(sw_ctx_forward(ch, N_LENS, LENS, ids, types), SW_OK, NULL);
        CHECK_ERR(sw_ctx_forward(cf, N_LENS, LENS, ids, types), SW_OK, NULL);
        CHECK(memcmp(sw_ctx_hidden(ch), sw_ctx_hidden(cf), (size_t)TOTAL_LENS * cfg.hidden_size * sizeof(float)) == 0);
        double *want = (double *)xcalloc((size_t)TOTAL_LENS * cfg.hidden_size, sizeof(double));
        naive_forward(&r, N_LENS, LENS, ids, types, want);
        CHECK_CLOSE(sw_ctx_hidden(ch), want, (size_t)TOTAL_LENS * cfg.hidden_size, 1e-5);
        free(want);
    }
    sw_ctx_free(ch);
    sw_ctx_free(cf);
    sw_model_free(mh);
    sw_model_free(mf);
    rm_free(&r);
}

/* ==== 3. and 4. the forward pass ==== */

/* The engine's packed forward against the naive padded one. */
static void test_forward_vs_naive(const sw_config *cfg, int with_types, int bert_prefix) {
    refmodel r;
    rm_build(&r, cfg);
    sw_model *m = rm_load(&r, bert_prefix);
    sw_ctx *c = m ? sw_ctx_create(m) : NULL;
    if (CHECK(c != NULL)) {
        const size_t n = (size_t)TOTAL_LENS * cfg->hidden_size;
        int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
        random_tokens(ids, types, TOTAL_LENS, cfg->vocab_size, cfg->type_vocab_size);
        ids[0] = 0;
        ids[TOTAL_LENS - 1] = cfg->vocab_size - 1;
        if (with_types && cfg->type_vocab_size > 0) types[TOTAL_LENS - 1] = cfg->type_vocab_size - 1;
        double *want = (double *)xcalloc(n, sizeof(double));
        naive_forward(&r, N_LENS, LENS, ids, with_types ? types : NULL, want);
        CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, with_types ? types : NULL), SW_OK, NULL);
        CHECK(sw_ctx_n_tokens(c) == TOTAL_LENS);
        CHECK_CLOSE(sw_ctx_hidden(c), want, n, 1e-5);
        free(want);
    }
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);
}

static void test_forward(void) {
    sw_config cfg = tiny_config();
    test_forward_vs_naive(&cfg, 1, 0);
    test_forward_vs_naive(&cfg, 0, 1);
    sw_config cg = cfg; /* gelu_new, no token types, 4 heads of 2, eps 1e-5 */
    cg.hidden_act = SW_ACT_GELU_TANH;
    cg.type_vocab_size = 0;
    cg.num_heads = 4;
    cg.layer_norm_eps = 1e-5f;
    test_forward_vs_naive(&cg, 1, 0);
    sw_config c3 = cfg; /* relu, one head, three layers, wider */
    c3.hidden_act = SW_ACT_RELU;
    c3.num_heads = 1;
    c3.num_layers = 3;
    c3.hidden_size = 12;
    c3.intermediate_size = 20;
    test_forward_vs_naive(&c3, 1, 0);

    /* Errors, packing invariance, state after errors, on one ctx. */
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *m = rm_load(&r, 0);
    sw_ctx *c = m ? sw_ctx_create(m) : NULL;
    if (!CHECK(c != NULL)) { sw_model_free(m); rm_free(&r); return; }
    const int H = cfg.hidden_size;
    const size_t n = (size_t)TOTAL_LENS * H;
    int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
    random_tokens(ids, types, TOTAL_LENS, cfg.vocab_size, cfg.type_vocab_size);
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, types), SW_OK, NULL);
    float *first = copy_floats(sw_ctx_hidden(c), n);

    /* Each sequence alone gives bit-identical states; so do other packings. */
    int off = 0;
    for (int s = 0; s < N_LENS; s++) {
        CHECK_ERR(sw_ctx_forward(c, 1, &LENS[s], ids + off, types + off), SW_OK, NULL);
        CHECK(sw_ctx_n_tokens(c) == LENS[s]);
        CHECK(memcmp(sw_ctx_hidden(c), first + (size_t)off * H, (size_t)LENS[s] * H * sizeof(float)) == 0);
        off += LENS[s];
    }
    {
        /* reversed order: 16, 7, 3, 1 */
        int32_t rlens[N_LENS], rids[TOTAL_LENS], rtypes[TOTAL_LENS];
        int offs[N_LENS], o = 0, ro = 0;
        for (int s = 0; s < N_LENS; s++) { offs[s] = o; o += LENS[s]; }
        for (int s = N_LENS - 1; s >= 0; s--) {
            rlens[N_LENS - 1 - s] = LENS[s];
            memcpy(rids + ro, ids + offs[s], (size_t)LENS[s] * sizeof(int32_t));
            memcpy(rtypes + ro, types + offs[s], (size_t)LENS[s] * sizeof(int32_t));
            ro += LENS[s];
        }
        CHECK_ERR(sw_ctx_forward(c, N_LENS, rlens, rids, rtypes), SW_OK, NULL);
        const float *h = sw_ctx_hidden(c);
        ro = 0;
        for (int s = N_LENS - 1; s >= 0; s--) {
            CHECK(memcmp(h + (size_t)ro * H, first + (size_t)offs[s] * H, (size_t)LENS[s] * H * sizeof(float)) == 0);
            ro += LENS[s];
        }
        /* the 7-token sequence five times over */
        int32_t five[5] = {7, 7, 7, 7, 7}, fids[35], ftypes[35];
        for (int k = 0; k < 5; k++) {
            memcpy(fids + 7 * k, ids + offs[2], 7 * sizeof(int32_t));
            memcpy(ftypes + 7 * k, types + offs[2], 7 * sizeof(int32_t));
        }
        CHECK_ERR(sw_ctx_forward(c, 5, five, fids, ftypes), SW_OK, NULL);
        for (int k = 0; k < 5; k++)
            CHECK(memcmp(sw_ctx_hidden(c) + (size_t)7 * k * H, first + (size_t)offs[2] * H, 7 * H * sizeof(float)) == 0);
    }

    /* Bad inputs: an error code and a message, never a crash. */
    int32_t bad[TOTAL_LENS];
    memcpy(bad, ids, sizeof bad);
    bad[5] = -1;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, bad, types), SW_ERR_INVALID_ARG, "token id -1");
    CHECK(sw_ctx_n_tokens(c) == 0);
    bad[5] = cfg.vocab_size;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, bad, types), SW_ERR_INVALID_ARG, "token id 50");
    bad[5] = ids[5];
    bad[TOTAL_LENS - 1] = cfg.vocab_size + 1000;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, bad, types), SW_ERR_INVALID_ARG, "vocabulary");
    memcpy(bad, types, sizeof bad);
    bad[0] = cfg.type_vocab_size;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, bad), SW_ERR_INVALID_ARG, "token type");
    bad[0] = -1;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, bad), SW_ERR_INVALID_ARG, "token type");
    int32_t lens_bad[N_LENS];
    memcpy(lens_bad, LENS, sizeof lens_bad);
    lens_bad[1] = 0;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, lens_bad, ids, types), SW_ERR_INVALID_ARG, "sequence 1");
    lens_bad[1] = -3;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, lens_bad, ids, types), SW_ERR_INVALID_ARG, "sequence 1");
    lens_bad[1] = 3;
    lens_bad[3] = cfg.max_position + 1;
    {
        int32_t ids17[TOTAL_LENS + 1] = {0};
        CHECK_ERR(sw_ctx_forward(c, N_LENS, lens_bad, ids17, NULL), SW_ERR_INVALID_ARG, "sequence 3");
    }
    {
        /* More tokens than one activation block may hold (2 GiB: five rows
         * of H and one of max(I, H) floats a token): refused from the
         * lengths alone, before an id is read or a byte allocated. */
        const int64_t per_token = 5 * cfg.hidden_size + cfg.intermediate_size;
        const int32_t n_big = (int32_t)(((int64_t)1 << 31) / (per_token * 4) / cfg.max_position + 1);
        int32_t *big = (int32_t *)xcalloc((size_t)n_big, sizeof(int32_t));
        for (int32_t s = 0; s < n_big; s++) big[s] = cfg.max_position;
        CHECK_ERR(sw_ctx_forward(c, n_big, big, ids, types), SW_ERR_INVALID_ARG, "too many");
        free(big);
    }
    CHECK_ERR(sw_ctx_forward(c, 0, LENS, ids, types), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_forward(c, -1, LENS, ids, types), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_forward(c, N_LENS, NULL, ids, types), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, NULL, types), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_forward(NULL, N_LENS, LENS, ids, types), SW_ERR_INVALID_ARG, NULL);
    CHECK(sw_ctx_hidden(NULL) == NULL);
    CHECK(sw_ctx_n_tokens(NULL) == 0);
    CHECK(sw_ctx_n_tokens(c) == 0);

    /* The ctx is not corrupted: the same forward, the same bits. */
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, types), SW_OK, NULL);
    CHECK(sw_last_error()[0] == '\0');
    CHECK(sw_ctx_n_tokens(c) == TOTAL_LENS);
    CHECK(memcmp(sw_ctx_hidden(c), first, n * sizeof(float)) == 0);

    /* A second ctx on the shared model agrees; NULL type_ids = all zero. */
    sw_ctx *c2 = sw_ctx_create(m);
    if (CHECK(c2 != NULL)) {
        CHECK_ERR(sw_ctx_forward(c2, N_LENS, LENS, ids, types), SW_OK, NULL);
        CHECK(memcmp(sw_ctx_hidden(c2), first, n * sizeof(float)) == 0);
        int32_t zeros[TOTAL_LENS] = {0};
        CHECK_ERR(sw_ctx_forward(c2, N_LENS, LENS, ids, NULL), SW_OK, NULL);
        float *nulltypes = copy_floats(sw_ctx_hidden(c2), n);
        CHECK_ERR(sw_ctx_forward(c2, N_LENS, LENS, ids, zeros), SW_OK, NULL);
        CHECK(memcmp(sw_ctx_hidden(c2), nulltypes, n * sizeof(float)) == 0);
        CHECK(memcmp(nulltypes, first, n * sizeof(float)) != 0); /* the types did matter */
        free(nulltypes);
    }
    sw_ctx_free(c2);
    free(first);
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);

    /* No token types: type_ids may still be given, all 0. */
    sw_config c4 = cfg;
    c4.type_vocab_size = 0;
    rm_build(&r, &c4);
    m = rm_load(&r, 0);
    c = m ? sw_ctx_create(m) : NULL;
    if (CHECK(c != NULL)) {
        int32_t t0[3] = {0, 0, 0}, t1[3] = {0, 1, 0}, i3[3] = {1, 2, 3}, l3 = 3;
        CHECK_ERR(sw_ctx_forward(c, 1, &l3, i3, t0), SW_OK, NULL);
        CHECK_ERR(sw_ctx_forward(c, 1, &l3, i3, t1), SW_ERR_INVALID_ARG, "token type");
    }
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);
}

/* ==== 5. heads: Pooling, Normalize, Dense, StaticEmbedding ==== */

/* sentence_transformers.models.Pooling on one sequence whose positions
 * < skip are out of the attention mask. */
static void naive_pool(const float *h, int n, int dim, int modes, int skip, double *out) {
    double *o = out;
    int in_mask[64];
    double count = 0.0, wsum = 0.0;
    for (int t = 0; t < n; t++) {
        in_mask[t] = t >= skip;
        count += in_mask[t];
        wsum += in_mask[t] * (t + 1.0);
    }
    if (modes & SW_POOL_CLS) { for (int j = 0; j < dim; j++) o[j] = h[j]; o += dim; }
    if (modes & SW_POOL_MAX) { /* token_embeddings[mask == 0] = -1e9; max over time */
        for (int j = 0; j < dim; j++) {
            double mx = -INFINITY;
            for (int t = 0; t < n; t++) {
                double v = in_mask[t] ? (double)h[t * dim + j] : (double)-1e9f;
                if (v > mx) mx = v;
            }
            o[j] = mx;
        }
        o += dim;
    }
    double sums[64];
    for (int j = 0; j < dim; j++) {
        sums[j] = 0.0;
        for (int t = 0; t < n; t++) sums[j] += in_mask[t] * (double)h[t * dim + j];
    }
    const double clamped = count > 1e-9 ? count : 1e-9;
    if (modes & SW_POOL_MEAN) { for (int j = 0; j < dim; j++) o[j] = sums[j] / clamped; o += dim; }
    if (modes & SW_POOL_MEAN_SQRT) { for (int j = 0; j < dim; j++) o[j] = sums[j] / sqrt(clamped); o += dim; }
    if (modes & SW_POOL_WEIGHTEDMEAN) { /* weights arange(1, n + 1) */
        const double wc = wsum > 1e-9 ? wsum : 1e-9;
        for (int j = 0; j < dim; j++) {
            double s = 0.0;
            for (int t = 0; t < n; t++) s += in_mask[t] * (t + 1.0) * h[t * dim + j];
            o[j] = s / wc;
        }
        o += dim;
    }
    if (modes & SW_POOL_LASTTOKEN) { for (int j = 0; j < dim; j++) o[j] = h[(n - 1) * dim + j]; }
}

static int popcount6(int x) {
    int c = 0;
    for (int i = 0; i < 6; i++) c += (x >> i) & 1;
    return c;
}

static void test_pool(void) {
    enum { N = 7, D = 5 };
    float h[N * D];
    for (int i = 0; i < N * D; i++) h[i] = rng_sym(3.0);
    float out[6 * D + 1];
    double want[6 * D];
    int bad_modes = 0;
    for (int n = 1; n <= N; n++) {
        for (int skip = 0; skip <= n; skip++) {
            for (int modes = 1; modes < 64; modes++) {
                const int k = popcount6(modes);
                out[k * D] = 12345.0f; /* guard after the output */
                naive_pool(h, n, D, modes, skip, want);
                if (sw_pool(h, n, D, modes, skip, out) != SW_OK || out[k * D] != 12345.0f) { bad_modes++; continue; }
                for (int i = 0; i < k * D; i++)
                    if (fabs((double)out[i] - want[i]) > 1e-6 * (1.0 + fabs(want[i]))) {
                        if (bad_modes < 5)
                            fprintf(stderr, "  pool n=%d skip=%d modes=%d [%d]: got %.9g want %.9g\n",
                                    n, skip, modes, i, (double)out[i], want[i]);
                        bad_modes++;
                        break;
                    }
            }
        }
    }
    CHECK(bad_modes == 0);

    /* Concatenation order is cls, max, mean, mean_sqrt, weightedmean, lasttoken. */
    float all[6 * D], one[D];
    CHECK_ERR(sw_pool(h, N, D, 63, 2, all), SW_OK, NULL);
    const int order[6] = {SW_POOL_CLS, SW_POOL_MAX, SW_POOL_MEAN, SW_POOL_MEAN_SQRT, SW_POOL_WEIGHTEDMEAN, SW_POOL_LASTTOKEN};
    for (int i = 0; i < 6; i++) {
        CHECK_ERR(sw_pool(h, N, D, order[i], 2, one), SW_OK, NULL);
        CHECK(memcmp(all + i * D, one, sizeof one) == 0);
    }
    /* CLS ignores the mask; lasttoken is the last position; max is exact. */
    CHECK_ERR(sw_pool(h, N, D, SW_POOL_CLS | SW_POOL_LASTTOKEN, N, all), SW_OK, NULL);
    CHECK(memcmp(all, h, D * sizeof(float)) == 0 && memcmp(all + D, h + (N - 1) * D, D * sizeof(float)) == 0);
    CHECK_ERR(sw_pool(h, N, D, SW_POOL_MAX | SW_POOL_MEAN, N, all), SW_OK, NULL); /* all masked */
    CHECK(all[0] == -1e9f && all[D] == 0.0f);
    {   /* masked positions are -1e9 in the max, even above real values below -1e9 */
        float low[3 * 2] = {5.0f, -4e9f, -3e9f, -2e9f, -5e9f, -1e8f};
        CHECK_ERR(sw_pool(low, 3, 2, SW_POOL_MAX, 0, all), SW_OK, NULL);
        CHECK(all[0] == 5.0f && all[1] == -1e8f);
        CHECK_ERR(sw_pool(low, 3, 2, SW_POOL_MAX, 1, all), SW_OK, NULL);
        CHECK(all[0] == -1e9f && all[1] == -1e8f);
        CHECK_ERR(sw_pool(low, 2, 2, SW_POOL_MAX, 1, all), SW_OK, NULL);
        CHECK(all[0] == -1e9f && all[1] == -1e9f);
    }
    CHECK_ERR(sw_pool(h, N, D, SW_POOL_MEAN, N + 5, all), SW_OK, NULL); /* skip beyond n: all masked */
    CHECK(all[0] == 0.0f);
    CHECK_ERR(sw_pool(h, 1, D, SW_POOL_MEAN | SW_POOL_WEIGHTEDMEAN, 0, all), SW_OK, NULL);
    CHECK(memcmp(all, h, D * sizeof(float)) == 0 && memcmp(all + D, h, D * sizeof(float)) == 0);

    CHECK_ERR(sw_pool(h, N, D, 0, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(h, N, D, 64, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(h, N, D, -1, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(h, 0, D, SW_POOL_MEAN, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(h, N, 0, SW_POOL_MEAN, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(NULL, N, D, SW_POOL_MEAN, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_pool(h, N, D, SW_POOL_MEAN, 0, NULL), SW_ERR_INVALID_ARG, NULL);
}

static void test_l2_normalize(void) {
    enum { D = 6 };
    float x[4 * D], orig[4 * D];
    for (int j = 0; j < D; j++) {
        x[j] = 0.0f;                        /* zero row */
        x[D + j] = rng_sym(5.0);            /* ordinary row */
        x[2 * D + j] = 1e-20f * (j + 1);    /* norm below eps */
        x[3 * D + j] = j == 2 ? -3.0f : 0.0f;
    }
    memcpy(orig, x, sizeof x);
    CHECK_ERR(sw_l2_normalize(x, 4, D), SW_OK, NULL);
    int zero = 1;
    for (int j = 0; j < D; j++) zero &= x[j] == 0.0f && !signbit(x[j]);
    CHECK(zero);
    double ss = 0.0, norm = 0.0, norm2 = 0.0;
    for (int j = 0; j < D; j++) { ss += (double)x[D + j] * x[D + j]; norm += (double)orig[D + j] * orig[D + j]; }
    norm = sqrt(norm);
    CHECK(fabs(sqrt(ss) - 1.0) < 1e-6);
    double dir[D], tiny[D];
    for (int j = 0; j < D; j++) { dir[j] = orig[D + j] / norm; tiny[j] = orig[2 * D + j] / 1e-12; norm2 += orig[2 * D + j]; }
    CHECK_CLOSE(x + D, dir, D, 1e-6);
    CHECK_CLOSE(x + 2 * D, tiny, D, 1e-6); /* x / max(||x||, 1e-12), as F.normalize */
    CHECK(norm2 > 0.0);
    CHECK(x[3 * D + 2] == -1.0f && x[3 * D] == 0.0f);
    CHECK_ERR(sw_l2_normalize(x, 0, D), SW_OK, NULL);
    CHECK_ERR(sw_l2_normalize(NULL, 1, D), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_l2_normalize(x, -1, D), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_l2_normalize(x, 1, 0), SW_ERR_INVALID_ARG, NULL);
}

static void test_dense(void) {
    enum { IN = 6, OUT = 4, N = 3 };
    float w[OUT * IN], b[OUT], x[N * IN], y[N * OUT];
    double want[N * OUT];
    for (int i = 0; i < OUT * IN; i++) w[i] = rng_sym(1.0);
    for (int i = 0; i < OUT; i++) b[i] = rng_sym(1.0);
    for (int i = 0; i < N * IN; i++) x[i] = rng_sym(2.0);
    const int64_t ws[2] = {OUT, IN}, wt[2] = {IN, OUT}, bs[1] = {OUT}, bwrong[1] = {IN};

    CHECK_NULL(sw_dense_create(0, OUT, 1, SW_ACT_TANH), "in_features");
    CHECK_NULL(sw_dense_create(IN, 0, 1, SW_ACT_TANH), "out_features");
    CHECK_NULL(sw_dense_create(-1, OUT, 1, SW_ACT_TANH), NULL);
    CHECK_NULL(sw_dense_create(IN, OUT, 1, 6), "activation");
    CHECK_NULL(sw_dense_create(IN, OUT, 1, -1), "activation");

    sw_dense *d = sw_dense_create(IN, OUT, 1, SW_ACT_TANH);
    if (!CHECK(d != NULL)) return;
    CHECK_ERR(sw_dense_forward(d, x, N, y), SW_ERR_MISSING_TENSOR, "linear.weight");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 2, wt, w, sizeof w), SW_ERR_BAD_TENSOR, "shape");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 1, ws, w, sizeof w), SW_ERR_BAD_TENSOR, "linear.weight");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 2, ws, w, sizeof w - 1), SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", 7, 2, ws, w, sizeof w), SW_ERR_BAD_TENSOR, "dtype");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 2, ws, NULL, sizeof w), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_add_tensor(d, "something.else", SW_DTYPE_F32, 2, ws, w, sizeof w), SW_OK, NULL);
    CHECK_ERR(sw_dense_add_tensor(d, NULL, SW_DTYPE_F32, 2, ws, w, sizeof w), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_add_tensor(NULL, "linear.weight", SW_DTYPE_F32, 2, ws, w, sizeof w), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 2, ws, w, sizeof w), SW_OK, NULL);
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_F32, 2, ws, w, sizeof w), SW_ERR_BAD_TENSOR, "twice");
    CHECK_ERR(sw_dense_forward(d, x, N, y), SW_ERR_MISSING_TENSOR, "linear.bias"); /* bias missing */
    CHECK_ERR(sw_dense_add_tensor(d, "linear.bias", SW_DTYPE_F32, 1, bwrong, b, sizeof b), SW_ERR_BAD_TENSOR, "shape");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.bias", SW_DTYPE_F32, 2, ws, b, sizeof b), SW_ERR_BAD_TENSOR, "linear.bias");
    CHECK_ERR(sw_dense_add_tensor(d, "linear.bias", SW_DTYPE_F32, 1, bs, b, sizeof b), SW_OK, NULL);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double acc = b[o];
            for (int k = 0; k < IN; k++) acc += (double)x[i * IN + k] * w[o * IN + k];
            want[i * OUT + o] = tanh(acc);
        }
    CHECK_ERR(sw_dense_forward(d, x, N, y), SW_OK, NULL);
    CHECK_CLOSE(y, want, N * OUT, 1e-6);
    CHECK_ERR(sw_dense_forward(d, x, 0, y), SW_OK, NULL);
    CHECK_ERR(sw_dense_forward(d, NULL, N, y), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_forward(d, x, N, NULL), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_forward(d, x, -1, y), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_dense_forward(NULL, x, N, y), SW_ERR_INVALID_ARG, NULL);
    sw_dense_free(d);

    /* No bias, identity, weights as BF16. */
    d = sw_dense_create(IN, OUT, 0, SW_ACT_IDENTITY);
    if (!CHECK(d != NULL)) return;
    CHECK_ERR(sw_dense_add_tensor(d, "linear.bias", SW_DTYPE_F32, 1, bs, b, sizeof b), SW_ERR_BAD_TENSOR, "bias");
    uint16_t wb[OUT * IN];
    for (int i = 0; i < OUT * IN; i++) wb[i] = to_bf16(w[i]);
    unsigned char wbytes[sizeof wb];
    for (int i = 0; i < OUT * IN; i++) { wbytes[2 * i] = (unsigned char)(wb[i] & 0xff); wbytes[2 * i + 1] = (unsigned char)(wb[i] >> 8); }
    CHECK_ERR(sw_dense_add_tensor(d, "linear.weight", SW_DTYPE_BF16, 2, ws, wbytes, sizeof wbytes), SW_OK, NULL);
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OUT; o++) {
            double acc = 0.0;
            for (int k = 0; k < IN; k++) acc += (double)x[i * IN + k] * bf16_value(wb[o * IN + k]);
            want[i * OUT + o] = acc;
        }
    CHECK_ERR(sw_dense_forward(d, x, N, y), SW_OK, NULL);
    CHECK_CLOSE(y, want, N * OUT, 1e-6);
    sw_dense_free(d);
}

static void test_static(void) {
    enum { V = 20, D = 5 };
    float table[V * D];
    for (int i = 0; i < V * D; i++) table[i] = rng_sym(1.0);
    const int64_t shape[2] = {V, D}, wrong[2] = {V, D + 1};

    CHECK_NULL(sw_static_create(0, D), "StaticEmbedding");
    CHECK_NULL(sw_static_create(V, 0), "StaticEmbedding");
    CHECK_NULL(sw_static_create(-V, D), "StaticEmbedding");
    sw_static *s = sw_static_create(V, D);
    if (!CHECK(s != NULL)) return;
    int32_t lens[4] = {0, 3, 1, 2}, ids[6] = {4, 19, 4, 0, 7, 7};
    float out[4 * D];
    double want[4 * D];
    CHECK_ERR(sw_static_forward(s, 4, lens, ids, out), SW_ERR_MISSING_TENSOR, "embedding.weight");
    CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", SW_DTYPE_F32, 2, wrong, table, sizeof table),
              SW_ERR_BAD_TENSOR, "shape");
    CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", SW_DTYPE_F32, 2, shape, table, sizeof table + 4),
              SW_ERR_BAD_TENSOR, "bytes");
    CHECK_ERR(sw_static_add_tensor(s, "other", SW_DTYPE_F32, 2, shape, table, sizeof table), SW_OK, NULL);
    CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", SW_DTYPE_F32, 2, shape, table, sizeof table), SW_OK, NULL);
    CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", SW_DTYPE_F32, 2, shape, table, sizeof table),
              SW_ERR_BAD_TENSOR, "twice");
    int off = 0;
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < D; j++) {
            double acc = 0.0;
            for (int t = 0; t < lens[i]; t++) acc += table[ids[off + t] * D + j];
            want[i * D + j] = lens[i] ? acc / lens[i] : 0.0;
        }
        off += lens[i];
    }
    for (int i = 0; i < 4 * D; i++) out[i] = NAN;
    CHECK_ERR(sw_static_forward(s, 4, lens, ids, out), SW_OK, NULL);
    CHECK_CLOSE(out, want, 4 * D, 1e-6);
    CHECK(out[0] == 0.0f && out[D - 1] == 0.0f); /* the empty bag */
    CHECK(memcmp(out + 2 * D, table + 0 * D, D * sizeof(float)) == 0); /* one row: the row itself */
    CHECK(memcmp(out + 3 * D, table + 7 * D, D * sizeof(float)) == 0); /* mean of a row twice: the row */

    int32_t zl[2] = {0, 0};
    CHECK_ERR(sw_static_forward(s, 2, zl, NULL, out), SW_OK, NULL); /* no tokens, no ids needed */
    CHECK(out[0] == 0.0f && out[2 * D - 1] == 0.0f);
    CHECK_ERR(sw_static_forward(s, 0, lens, ids, out), SW_OK, NULL);
    int32_t badids[6] = {4, 19, 4, 20, 7, 7};
    CHECK_ERR(sw_static_forward(s, 4, lens, badids, out), SW_ERR_INVALID_ARG, "token id 20");
    badids[3] = -1;
    CHECK_ERR(sw_static_forward(s, 4, lens, badids, out), SW_ERR_INVALID_ARG, "token id -1");
    int32_t neg[2] = {1, -1};
    CHECK_ERR(sw_static_forward(s, 2, neg, ids, out), SW_ERR_INVALID_ARG, "negative");
    CHECK_ERR(sw_static_forward(s, 1, lens + 1, NULL, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_static_forward(s, 4, NULL, ids, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_static_forward(s, 4, lens, ids, NULL), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_static_forward(s, -1, lens, ids, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_static_forward(NULL, 4, lens, ids, out), SW_ERR_INVALID_ARG, NULL);
    sw_static_free(s);

    /* F16 / BF16 tables through the public API: known values, exactly
     * (a one-token bag is its row; -0 comes back as a zero). */
    static const uint16_t h16[16] = {0x0000, 0x8000, 0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400,
                                     0x7c00, 0xfc00, 0x7e00, 0x3555, 0xfbff, 0x8001, 0x3800, 0x3bff};
    static const uint16_t b16[16] = {0x0000, 0x8000, 0x3f80, 0xc000, 0x3fc0, 0xc050, 0x0001, 0x0080,
                                     0x7f80, 0xff80, 0x7fc0, 0x7f7f, 0x3eab, 0x8001, 0x3f00, 0x4049};
    for (int pass = 0; pass < 2; pass++) {
        const uint16_t *bits = pass == 0 ? h16 : b16;
        unsigned char bytes[1 + 32];
        for (int i = 0; i < 16; i++) {
            bytes[1 + 2 * i] = (unsigned char)(bits[i] & 0xff);
            bytes[2 + 2 * i] = (unsigned char)(bits[i] >> 8);
        }
        const int64_t sh[2] = {2, 8};
        s = sw_static_create(2, 8);
        if (!CHECK(s != NULL)) return;
        const int32_t dt = pass == 0 ? SW_DTYPE_F16 : SW_DTYPE_BF16;
        CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", dt, 2, sh, bytes + 1, 64), SW_ERR_BAD_TENSOR, "bytes");
        CHECK_ERR(sw_static_add_tensor(s, "embedding.weight", dt, 2, sh, bytes + 1, 32), SW_OK, NULL);
        int32_t l2[2] = {1, 1}, i2[2] = {0, 1};
        float o[16];
        CHECK_ERR(sw_static_forward(s, 2, l2, i2, o), SW_OK, NULL);
        int bad = 0;
        for (int i = 0; i < 16; i++) {
            double v = pass == 0 ? f16_value(bits[i]) : bf16_value(bits[i]);
            if (isnan(v) ? !isnan(o[i]) : (double)o[i] != v) {
                bad++;
                fprintf(stderr, "  %s 0x%04x -> %.10g, want %.10g\n", pass ? "bf16" : "f16", bits[i], (double)o[i], v);
            }
        }
        CHECK(bad == 0);
        CHECK(o[2] == 1.0f && o[3] == -2.0f);
        CHECK(pass == 0 ? (o[4] == 65504.0f && o[5] == 0x1p-24f) : (o[4] == 1.5f && o[5] == -3.25f));
        CHECK(isinf(o[8]) && o[8] > 0 && isinf(o[9]) && o[9] < 0 && isnan(o[10]));
        sw_static_free(s);
    }
}

/* ==== 6. classifier and SPLADE heads ==== */

static void test_classifier(void) {
    sw_config cfg = tiny_config();
    cfg.heads = SW_HEAD_CLASSIFIER;
    cfg.num_labels = 3;
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *m = rm_load(&r, 1); /* bert.embeddings..., bert.pooler..., classifier.* */
    sw_ctx *c = m ? sw_ctx_create(m) : NULL;
    if (!CHECK(c != NULL)) { sw_model_free(m); rm_free(&r); return; }
    const int H = cfg.hidden_size;
    float logits[N_LENS * 3];
    CHECK_ERR(sw_ctx_classify(c, logits), SW_ERR_STATE, "forward");
    int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
    random_tokens(ids, types, TOTAL_LENS, cfg.vocab_size, cfg.type_vocab_size);
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, types), SW_OK, NULL);
    float *hidden = copy_floats(sw_ctx_hidden(c), (size_t)TOTAL_LENS * H);
    CHECK_ERR(sw_ctx_classify(c, NULL), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_classify(NULL, logits), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_splade(c, 0, 0, logits), SW_ERR_STATE, "MLM");
    CHECK_ERR(sw_ctx_classify(c, logits), SW_OK, NULL);

    double *h = (double *)xcalloc((size_t)TOTAL_LENS * H, sizeof(double));
    naive_forward(&r, N_LENS, LENS, ids, types, h);
    double first[N_LENS * 64], pooled[N_LENS * 64], want[N_LENS * 3];
    int off = 0;
    for (int s = 0; s < N_LENS; s++) {
        memcpy(first + s * H, h + (size_t)off * H, (size_t)H * sizeof(double));
        off += LENS[s];
    }
    naive_linear(first, N_LENS, H, rm_get(&r, "pooler.dense.weight"), rm_get(&r, "pooler.dense.bias"), H, pooled);
    for (int i = 0; i < N_LENS * H; i++) pooled[i] = tanh(pooled[i]);
    naive_linear(pooled, N_LENS, H, rm_get(&r, "classifier.weight"), rm_get(&r, "classifier.bias"), 3, want);
    CHECK_CLOSE(logits, want, N_LENS * 3, 1e-5);

    /* The head leaves the token states alone and gives the same twice;
     * a sequence alone gets the same logits. */
    CHECK(memcmp(sw_ctx_hidden(c), hidden, (size_t)TOTAL_LENS * H * sizeof(float)) == 0);
    float again[N_LENS * 3], alone[3];
    CHECK_ERR(sw_ctx_classify(c, again), SW_OK, NULL);
    CHECK(memcmp(again, logits, sizeof logits) == 0);
    CHECK_ERR(sw_ctx_forward(c, 1, &LENS[2], ids + LENS[0] + LENS[1], types + LENS[0] + LENS[1]), SW_OK, NULL);
    CHECK_ERR(sw_ctx_classify(c, alone), SW_OK, NULL);
    CHECK(memcmp(alone, logits + 2 * 3, sizeof alone) == 0);

    /* A failed forward leaves nothing to classify. */
    int32_t zero_len = 0;
    CHECK_ERR(sw_ctx_forward(c, 1, &zero_len, ids, NULL), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_classify(c, logits), SW_ERR_STATE, NULL);

    free(h);
    free(hidden);
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);

    /* A BertModel without the head cannot classify. */
    sw_config plain = tiny_config();
    rm_build(&r, &plain);
    m = rm_load(&r, 0);
    c = m ? sw_ctx_create(m) : NULL;
    if (CHECK(c != NULL)) {
        int32_t one = 2, tok[2] = {1, 2};
        CHECK_ERR(sw_ctx_forward(c, 1, &one, tok, NULL), SW_OK, NULL);
        CHECK_ERR(sw_ctx_classify(c, logits), SW_ERR_STATE, "classifier");
        CHECK_ERR(sw_ctx_splade(c, 1, 0, logits), SW_ERR_STATE, "MLM");
    }
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);
}

static void test_splade(void) {
    sw_config cfg = tiny_config();
    cfg.vocab_size = 2100; /* two full 1024-word chunks and a tail of 52 */
    cfg.heads = SW_HEAD_MLM;
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *m = sw_model_create(&cfg);
    if (!CHECK(m != NULL)) { rm_free(&r); return; }
    CHECK(sw_model_tensor_known(m, "cls.predictions.bias") == 1);
    CHECK(sw_model_tensor_known(m, "cls.predictions.decoder.weight") == 0); /* tied to word_embeddings */
    for (int i = 0; i < r.nt; i++) {
        const tensor *t = &r.t[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", is_head_tensor(t->name) ? "" : "bert.", t->name);
        CHECK_ERR(sw_model_add_tensor(m, name, SW_DTYPE_F32, t->ndim, t->shape, t->data, t->n * sizeof(float)), SW_OK, NULL);
    }
    /* BertForMaskedLM also saves the tied decoder; it is ignored. */
    const tensor *we = rm_find(&r, "embeddings.word_embeddings.weight");
    CHECK_ERR(sw_model_add_tensor(m, "cls.predictions.decoder.weight", SW_DTYPE_F32, 2, we->shape, we->data,
                                  we->n * sizeof(float)), SW_OK, NULL);
    CHECK_ERR(sw_model_finalize(m), SW_OK, NULL);
    sw_ctx *c = sw_ctx_create(m);
    if (!CHECK(c != NULL)) { sw_model_free(m); rm_free(&r); return; }

    const int V = cfg.vocab_size, H = cfg.hidden_size;
    float *out = (float *)xcalloc((size_t)N_LENS * V, sizeof(float));
    CHECK_ERR(sw_ctx_splade(c, 0, 0, out), SW_ERR_STATE, "forward");
    int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
    random_tokens(ids, types, TOTAL_LENS, V, cfg.type_vocab_size);
    ids[3] = V - 1;
    ids[4] = 1024;
    CHECK_ERR(sw_ctx_forward(c, N_LENS, LENS, ids, types), SW_OK, NULL);
    float *hidden = copy_floats(sw_ctx_hidden(c), (size_t)TOTAL_LENS * H);
    CHECK_ERR(sw_ctx_splade(c, 0, 0, NULL), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_splade(NULL, 0, 0, out), SW_ERR_INVALID_ARG, NULL);
    CHECK_ERR(sw_ctx_classify(c, out), SW_ERR_STATE, "classifier");

    /* Naive: the full [tokens x vocab] logits, then the pooling. */
    double *h = (double *)xcalloc((size_t)TOTAL_LENS * H, sizeof(double));
    double *tr = (double *)xcalloc((size_t)TOTAL_LENS * H, sizeof(double));
    double *logits = (double *)xcalloc((size_t)TOTAL_LENS * V, sizeof(double));
    double *want = (double *)xcalloc((size_t)N_LENS * V, sizeof(double));
    naive_forward(&r, N_LENS, LENS, ids, types, h);
    naive_linear(h, TOTAL_LENS, H, rm_get(&r, "cls.predictions.transform.dense.weight"),
                 rm_get(&r, "cls.predictions.transform.dense.bias"), H, tr);
    for (int i = 0; i < TOTAL_LENS * H; i++) tr[i] = naive_act(tr[i], cfg.hidden_act);
    naive_add_ln(tr, NULL, TOTAL_LENS, H, rm_get(&r, "cls.predictions.transform.LayerNorm.weight"),
                 rm_get(&r, "cls.predictions.transform.LayerNorm.bias"), cfg.layer_norm_eps);
    naive_linear(tr, TOTAL_LENS, H, we->data, rm_get(&r, "cls.predictions.bias"), V, logits);

    for (int sum = 0; sum <= 1; sum++) {
        for (int twice = 0; twice <= 1; twice++) {
            int off = 0, nonzero_tail = 0, nonzero_chunk1 = 0;
            for (int s = 0; s < N_LENS; s++) {
                for (int v = 0; v < V; v++) {
                    double acc = 0.0;
                    for (int t = 0; t < LENS[s]; t++) {
                        double z = logits[(size_t)(off + t) * V + v];
                        double a = log1p(z > 0.0 ? z : 0.0);
                        if (twice) a = log1p(a);
                        acc = sum ? acc + a : (a > acc ? a : acc);
                    }
                    want[(size_t)s * V + v] = acc;
                    nonzero_tail += v >= 2048 && acc > 0.0;
                    nonzero_chunk1 += v >= 1024 && v < 2048 && acc > 0.0;
                }
                off += LENS[s];
            }
            CHECK(nonzero_tail > 0 && nonzero_chunk1 > 0); /* the test exercises every chunk */
            for (size_t i = 0; i < (size_t)N_LENS * V; i++) out[i] = NAN;
            CHECK_ERR(sw_ctx_splade(c, sum, twice, out), SW_OK, NULL);
            if (!CHECK_CLOSE(out, want, (size_t)N_LENS * V, 1e-5))
                fprintf(stderr, "  (splade sum=%d log1p_twice=%d)\n", sum, twice);
        }
    }
    /* The head leaves the token states alone; a sequence alone agrees. */
    CHECK(memcmp(sw_ctx_hidden(c), hidden, (size_t)TOTAL_LENS * H * sizeof(float)) == 0);
    float *packed = copy_floats(out, (size_t)N_LENS * V); /* sum, twice */
    const int off3 = LENS[0] + LENS[1] + LENS[2];
    CHECK_ERR(sw_ctx_forward(c, 1, &LENS[3], ids + off3, types + off3), SW_OK, NULL);
    CHECK_ERR(sw_ctx_splade(c, 1, 1, out), SW_OK, NULL);
    CHECK(memcmp(out, packed + (size_t)3 * V, (size_t)V * sizeof(float)) == 0);
    {
        /* 80 copies of the 3-token sequence: [T x I] is then large enough to
         * hold [3 x SW_VOCAB_CHUNK] logits, which go there instead of into
         * a buffer of their own (as above); each copy gives the same bits. */
        enum { COPIES = 80 };
        int32_t lens80[COPIES], ids80[COPIES * 3], types80[COPIES * 3];
        for (int k = 0; k < COPIES; k++) {
            lens80[k] = 3;
            memcpy(ids80 + 3 * k, ids + LENS[0], 3 * sizeof(int32_t));
            memcpy(types80 + 3 * k, types + LENS[0], 3 * sizeof(int32_t));
        }
        CHECK((size_t)COPIES * 3 * cfg.intermediate_size >= (size_t)3 * 1024);
        float *out80 = (float *)xcalloc((size_t)COPIES * V, sizeof(float));
        CHECK_ERR(sw_ctx_forward(c, COPIES, lens80, ids80, types80), SW_OK, NULL);
        CHECK_ERR(sw_ctx_splade(c, 1, 1, out80), SW_OK, NULL);
        for (int k = 0; k < COPIES; k++)
            CHECK(memcmp(out80 + (size_t)k * V, packed + (size_t)1 * V, (size_t)V * sizeof(float)) == 0);
        free(out80);
    }

    free(packed);
    free(h); free(tr); free(logits); free(want); free(out); free(hidden);
    sw_ctx_free(c);
    sw_model_free(m);
    rm_free(&r);
}

/* ==== 6b. dtype int8 (sw_config.quantize) ==== */

static double cosine_f(const float *a, const float *b, size_t n) {
    double d = 0.0, na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na == 0.0 && nb == 0.0 ? 1.0 : d / sqrt(na * nb);
}

/* The same checkpoint as float32 and as int8: the int8 outputs stay close
 * (cosine >= 0.99 per token, as the JS tests ask of the embeddings), differ
 * (the weights really were quantized), are independent of how sequences
 * are packed (each token's activations are quantized on their own and the
 * integer sums are exact), and the heads follow. */
static void test_int8(void) {
    sw_config bad = tiny_config();
    bad.quantize = 2;
    CHECK_MODEL_NULL(sw_model_create(&bad), "quantize");
    bad.quantize = -1;
    CHECK_MODEL_NULL(sw_model_create(&bad), "quantize");
    CHECK(sw_config_default().quantize == SW_QUANT_NONE);

    /* wider than tiny_config, so that the noise is like a real model's:
     * 64 wide, 4 heads, both heads, a 1100-word vocabulary (two chunks) */
    sw_config cfg = tiny_config();
    cfg.hidden_size = 64;
    cfg.num_heads = 4;
    cfg.intermediate_size = 128;
    cfg.vocab_size = 1100;
    cfg.heads = SW_HEAD_CLASSIFIER | SW_HEAD_MLM;
    cfg.num_labels = 3;
    refmodel r;
    rm_build(&r, &cfg);
    sw_model *mf = rm_load(&r, 1);
    r.cfg.quantize = SW_QUANT_INT8;
    sw_model *mq = rm_load(&r, 1);
    sw_ctx *cf = mf ? sw_ctx_create(mf) : NULL, *cq = mq ? sw_ctx_create(mq) : NULL;
    if (CHECK(cf != NULL && cq != NULL)) {
        const int H = cfg.hidden_size, V = cfg.vocab_size;
        const size_t n = (size_t)TOTAL_LENS * H;
        /* int8 holds 1 byte per encoder weight (+ a scale per row) where
         * float32 holds 4; the int8 MLM decoder is a copy beside word_emb */
        const size_t layer_weights = (size_t)cfg.num_layers * (4 * H * H + 2 * H * cfg.intermediate_size);
        CHECK(sw_model_weight_bytes(mq) + 2 * layer_weights < sw_model_weight_bytes(mf) + (size_t)V * H + 4 * (size_t)V);
        int32_t ids[TOTAL_LENS], types[TOTAL_LENS];
        random_tokens(ids, types, TOTAL_LENS, V, cfg.type_vocab_size);
        CHECK_ERR(sw_ctx_forward(cf, N_LENS, LENS, ids, types), SW_OK, NULL);
        CHECK_ERR(sw_ctx_forward(cq, N_LENS, LENS, ids, types), SW_OK, NULL);
        const float *hf = sw_ctx_hidden(cf), *hq = sw_ctx_hidden(cq);
        double min_cos = 1.0, max_diff = 0.0;
        for (int t = 0; t < TOTAL_LENS; t++) {
            double cs = cosine_f(hq + (size_t)t * H, hf + (size_t)t * H, (size_t)H);
            if (cs < min_cos) min_cos = cs;
        }
        for (size_t i = 0; i < n; i++) {
            double d = fabs((double)hq[i] - hf[i]);
            if (d > max_diff) max_diff = d;
        }
        printf("  int8 forward: min cosine per token %.6f, max |diff| %.4f (states ~N(0, 1))\n", min_cos, max_diff);
        /* measured 0.99986 and 0.068: a margin of ~7x and ~4x */
        CHECK(min_cos >= 0.999);
        CHECK(max_diff > 0.0 && max_diff < 0.25);
        float *first = copy_floats(hq, n);

        /* each sequence alone: the same bits */
        int off = 0;
        for (int s = 0; s < N_LENS; s++) {
            CHECK_ERR(sw_ctx_forward(cq, 1, &LENS[s], ids + off, types + off), SW_OK, NULL);
            CHECK(memcmp(sw_ctx_hidden(cq), first + (size_t)off * H, (size_t)LENS[s] * H * sizeof(float)) == 0);
            off += LENS[s];
        }
        CHECK_ERR(sw_ctx_forward(cq, N_LENS, LENS, ids, types), SW_OK, NULL);
        CHECK(memcmp(sw_ctx_hidden(cq), first, n * sizeof(float)) == 0);

        /* classifier (float32 on int8 states): logits within 0.03 (1 + |logit|),
         * measured 0.008 */
        float lf[N_LENS * 3], lq[N_LENS * 3];
        CHECK_ERR(sw_ctx_classify(cf, lf), SW_OK, NULL);
        CHECK_ERR(sw_ctx_classify(cq, lq), SW_OK, NULL);
        double worst = 0.0;
        for (int i = 0; i < N_LENS * 3; i++) {
            double e = fabs((double)lq[i] - lf[i]) / (1.0 + fabs(lf[i]));
            if (e > worst) worst = e;
        }
        printf("  int8 classifier: max |diff| / (1 + |logit|) %.4f\n", worst);
        CHECK(worst < 0.03);

        /* SPLADE (int8 MLM head): each sequence's vector, cosine >= 0.999
         * (measured 0.99977) */
        float *sf = (float *)xcalloc((size_t)N_LENS * V, sizeof(float));
        float *sq = (float *)xcalloc((size_t)N_LENS * V, sizeof(float));
        for (int sum = 0; sum <= 1; sum++) {
            CHECK_ERR(sw_ctx_splade(cf, sum, 0, sf), SW_OK, NULL);
            CHECK_ERR(sw_ctx_splade(cq, sum, 0, sq), SW_OK, NULL);
            double mc = 1.0;
            for (int s = 0; s < N_LENS; s++) {
                double cs = cosine_f(sq + (size_t)s * V, sf + (size_t)s * V, (size_t)V);
                if (cs < mc) mc = cs;
            }
            printf("  int8 SPLADE (%s): min cosine %.6f\n", sum ? "sum" : "max", mc);
            CHECK(mc >= 0.999);
        }
        free(sf); free(sq); free(first);
    }
    sw_ctx_free(cf); sw_ctx_free(cq);
    sw_model_free(mf); sw_model_free(mq);

    /* A NaN weight: float32 takes it (NaN out, as torch), int8 refuses at
     * finalize and names the tensor; the model can then only be freed. */
    tensor *t = rm_find(&r, "encoder.layer.1.intermediate.dense.weight");
    t->data[7] = NAN;
    sw_model *m = sw_model_create(&r.cfg);
    if (CHECK(m != NULL)) {
        for (int i = 0; i < r.nt; i++) {
            const tensor *u = &r.t[i];
            CHECK_ERR(sw_model_add_tensor(m, u->name, SW_DTYPE_F32, u->ndim, u->shape, u->data, u->n * sizeof(float)), SW_OK, NULL);
        }
        CHECK_ERR(sw_model_finalize(m), SW_ERR_BAD_TENSOR, "encoder.layer.1.intermediate.dense.weight");
        CHECK(sw_ctx_create(m) == NULL);
    }
    sw_model_free(m);
    r.cfg.quantize = SW_QUANT_NONE;
    m = sw_model_create(&r.cfg);
    if (CHECK(m != NULL)) {
        for (int i = 0; i < r.nt; i++) {
            const tensor *u = &r.t[i];
            CHECK_ERR(sw_model_add_tensor(m, u->name, SW_DTYPE_F32, u->ndim, u->shape, u->data, u->n * sizeof(float)), SW_OK, NULL);
        }
        CHECK_ERR(sw_model_finalize(m), SW_OK, NULL);
    }
    sw_model_free(m);
    rm_free(&r);
}

/* ==== 7. lifecycle ==== */

static void test_lifecycle(void) {
    const sw_config cfg = tiny_config();
    sw_model *m = sw_model_create(&cfg);
    CHECK(m != NULL);
    sw_ctx *c = sw_ctx_create(m);
    CHECK(c == NULL);
    CHECK(strstr(sw_last_error(), "not finalized") != NULL);
    CHECK_NULL(sw_ctx_create(NULL), "NULL");
    sw_model_free(m);

    /* Freeing NULL is a no-op everywhere. */
    sw_model_free(NULL);
    sw_ctx_free(NULL);
    sw_dense_free(NULL);
    sw_static_free(NULL);
    sw_free(NULL);
    void *p = sw_malloc(0);
    CHECK(p != NULL);
    sw_free(p);
    p = sw_malloc(100);
    CHECK(p != NULL);
    if (p) memset(p, 0xab, 100);
    sw_free(p);
}

int main(void) {
    test_config();
    test_dtype_conversion();
    test_tensors();
    test_half_weights(SW_DTYPE_F16);
    test_half_weights(SW_DTYPE_BF16);
    test_forward();
    test_pool();
    test_l2_normalize();
    test_dense();
    test_static();
    test_classifier();
    test_splade();
    test_int8();
    test_lifecycle();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    fflush(stdout);
    return n_fail == 0 ? 0 : 1;
}
