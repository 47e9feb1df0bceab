/*
 * encoder.c — the BERT encoder: weights (sw_model), activations (sw_ctx) and
 * the forward pass, plus the two heads that read the encoder's weights
 * (sequence classifier, and the MLM head fused with SPLADE pooling).
 *
 * Mirrors transformers' modeling_bert.py: BertEmbeddings -> N x BertLayer
 * (self-attention, output dense + LayerNorm, intermediate GELU, output dense +
 * LayerNorm), post-LayerNorm. Sequences are packed end to end with no
 * padding, so attention needs no mask and padding costs nothing.
 */
#include "internal.h"
#include "kernels.h"
#include "threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ==== model ==== */

/* One BertLayer. Names in comments are the safetensors keys below
 * "encoder.layer.<i>.". */
typedef struct sw_layer {
    sw_linear q;        /* attention.self.query   [H x H]  */
    sw_linear k;        /* attention.self.key     [H x H]  */
    sw_linear v;        /* attention.self.value   [H x H]  */
    sw_linear attn_out; /* attention.output.dense [H x H]  */
    float *ln1_g;       /* attention.output.LayerNorm.weight [H] */
    float *ln1_b;       /* attention.output.LayerNorm.bias   [H] */
    sw_linear inter;    /* intermediate.dense     [I x H]  */
    sw_linear out;      /* output.dense           [H x I]  */
    float *ln2_g;       /* output.LayerNorm.weight [H] */
    float *ln2_b;       /* output.LayerNorm.bias   [H] */
} sw_layer;

/* Where a named tensor goes and the shape it must have. */
typedef struct sw_slot {
    char name[96];
    float **dst;
    int32_t ndim;
    int64_t shape[2];
} sw_slot;

/* The MLM decoder is split into vocabulary chunks so the SPLADE head can
 * pool each chunk's logits before computing the next: only
 * [tokens x SW_VOCAB_CHUNK] logits exist at once. */
#define SW_VOCAB_CHUNK 1024

struct sw_model {
    sw_config cfg;
    float *word_emb;   /* embeddings.word_embeddings.weight       [V x H] */
    float *pos_emb;    /* embeddings.position_embeddings.weight   [P x H] */
    float *type_emb;   /* embeddings.token_type_embeddings.weight [T x H] or NULL */
    float *emb_ln_g;   /* embeddings.LayerNorm.weight [H] */
    float *emb_ln_b;   /* embeddings.LayerNorm.bias   [H] */
    sw_layer *layers;  /* [num_layers] */

    /* SW_HEAD_CLASSIFIER: BertForSequenceClassification */
    sw_linear pooler;     /* bert.pooler.dense [H x H], tanh */
    sw_linear classifier; /* classifier        [labels x H]  */

    /* SW_HEAD_MLM: BertForMaskedLM (decoder weight tied to word_emb) */
    sw_linear mlm_dense;  /* cls.predictions.transform.dense [H x H], then hidden_act */
    float *mlm_ln_g;      /* cls.predictions.transform.LayerNorm.weight [H] */
    float *mlm_ln_b;      /* cls.predictions.transform.LayerNorm.bias   [H] */
    float *mlm_bias;      /* cls.predictions.bias [V] */
    sw_linear *vocab_chunks; /* views of word_emb rows + mlm_bias, [n_vocab_chunks] */
    int32_t n_vocab_chunks;

    sw_slot *slots;
    int32_t n_slots;
    int finalized;
    size_t weight_bytes;
};

sw_config sw_config_default(void) {
    sw_config c = {
        .vocab_size = 0, .hidden_size = 0, .num_layers = 0, .num_heads = 0,
        .intermediate_size = 0, .max_position = 512, .type_vocab_size = 2,
        .hidden_act = SW_ACT_GELU, .heads = SW_HEAD_NONE, .num_labels = 0,
        .layer_norm_eps = 1e-12f, .quantize = SW_QUANT_NONE,
    };
    return c;
}

static int check_config(const sw_config *c) {
    if (!c) return sw_fail(SW_ERR_INVALID_ARG, "config is NULL");
    struct { const char *name; int32_t v; int32_t lo, hi; } f[] = {
        {"vocab_size", c->vocab_size, 1, 1 << 22},
        {"hidden_size", c->hidden_size, 1, 1 << 14},
        {"num_hidden_layers", c->num_layers, 1, 256},
        {"num_attention_heads", c->num_heads, 1, 1024},
        {"intermediate_size", c->intermediate_size, 1, 1 << 16},
        {"max_position_embeddings", c->max_position, 1, 1 << 16},
        {"type_vocab_size", c->type_vocab_size, 0, 1 << 10},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v < f[i].lo || f[i].v > f[i].hi)
            return sw_fail(SW_ERR_BAD_CONFIG, "config.json: %s = %d is outside [%d, %d]",
                           f[i].name, (int)f[i].v, (int)f[i].lo, (int)f[i].hi);
    }
    if (c->hidden_size % c->num_heads != 0)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: hidden_size %d is not divisible by num_attention_heads %d",
                       (int)c->hidden_size, (int)c->num_heads);
    if ((int64_t)c->vocab_size * c->hidden_size * 4 > SW_MAX_BUFFER_BYTES)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: vocab_size x hidden_size = %lld floats is too large",
                       (long long)c->vocab_size * c->hidden_size);
    if ((int64_t)c->intermediate_size * c->hidden_size * 4 > SW_MAX_BUFFER_BYTES)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: intermediate_size x hidden_size is too large");
    if ((int64_t)c->max_position * c->hidden_size * 4 > SW_MAX_BUFFER_BYTES)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: max_position_embeddings x hidden_size is too large");
    if (c->hidden_act < SW_ACT_IDENTITY || c->hidden_act > SW_ACT_SIGMOID)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: hidden_act %d is not supported", (int)c->hidden_act);
    if (c->heads & ~(SW_HEAD_MLM | SW_HEAD_CLASSIFIER))
        return sw_fail(SW_ERR_BAD_CONFIG, "unknown head bits %d", (int)c->heads);
    if ((c->heads & SW_HEAD_CLASSIFIER) && (c->num_labels < 1 || c->num_labels > 1 << 16))
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: num_labels = %d is outside [1, 65536]", (int)c->num_labels);
    if ((c->heads & SW_HEAD_CLASSIFIER) && (int64_t)c->num_labels * c->hidden_size * 4 > SW_MAX_BUFFER_BYTES)
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: num_labels x hidden_size is too large");
    if (!(c->layer_norm_eps >= 0.0f && c->layer_norm_eps < 1.0f))
        return sw_fail(SW_ERR_BAD_CONFIG, "config.json: layer_norm_eps must be in [0, 1)");
    if (c->quantize != SW_QUANT_NONE && c->quantize != SW_QUANT_INT8)
        return sw_fail(SW_ERR_BAD_CONFIG, "quantize = %d is not SW_QUANT_NONE (0) or SW_QUANT_INT8 (1)", (int)c->quantize);
    /* The int8 sums are exact in int32 only up to this depth (kernels.h);
     * the size limits above keep every layer far below it. */
    if (c->quantize == SW_QUANT_INT8 && (c->hidden_size > SW_Q8_MAX_IN || c->intermediate_size > SW_Q8_MAX_IN))
        return sw_fail(SW_ERR_BAD_CONFIG, "int8: a Linear layer wider than %d inputs could overflow its int32 sums", SW_Q8_MAX_IN);
    return SW_OK;
}

static void add_slot(sw_model *m, const char *name, float **dst, int32_t ndim, int64_t d0, int64_t d1) {
    sw_slot *s = &m->slots[m->n_slots++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dst = dst;
    s->ndim = ndim;
    s->shape[0] = d0;
    s->shape[1] = d1;
}

static void add_linear_slots(sw_model *m, const char *prefix, sw_linear *l, int32_t out, int32_t in, int bias) {
    char name[96];
    l->in = in;
    l->out = out;
    snprintf(name, sizeof name, "%s.weight", prefix);
    add_slot(m, name, &l->w, 2, out, in);
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        add_slot(m, name, &l->b, 1, out, 0);
    }
}

static void add_ln_slots(sw_model *m, const char *prefix, float **g, float **b, int32_t n) {
    char name[96];
    snprintf(name, sizeof name, "%s.weight", prefix);
    add_slot(m, name, g, 1, n, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    add_slot(m, name, b, 1, n, 0);
}

sw_model *sw_model_create(const sw_config *cfg) {
    sw_clear_error();
    if (check_config(cfg) != SW_OK) return NULL;
    sw_model *m = (sw_model *)SW_CALLOC(1, sizeof *m);
    if (!m) { sw_fail(SW_ERR_NO_MEMORY, "out of memory"); return NULL; }
    m->cfg = *cfg;
    const int32_t H = cfg->hidden_size, I = cfg->intermediate_size, L = cfg->num_layers;
    m->layers = (sw_layer *)SW_CALLOC((size_t)L, sizeof *m->layers);
    m->slots = (sw_slot *)SW_CALLOC((size_t)(16 * L + 32), sizeof *m->slots);
    if (!m->layers || !m->slots) { sw_model_free(m); sw_fail(SW_ERR_NO_MEMORY, "out of memory"); return NULL; }

    add_slot(m, "embeddings.word_embeddings.weight", &m->word_emb, 2, cfg->vocab_size, H);
    add_slot(m, "embeddings.position_embeddings.weight", &m->pos_emb, 2, cfg->max_position, H);
    if (cfg->type_vocab_size > 0)
        add_slot(m, "embeddings.token_type_embeddings.weight", &m->type_emb, 2, cfg->type_vocab_size, H);
    add_ln_slots(m, "embeddings.LayerNorm", &m->emb_ln_g, &m->emb_ln_b, H);
    for (int32_t i = 0; i < L; i++) {
        sw_layer *ly = &m->layers[i];
        char p[64];
#define LAYER_NAME(suffix) (snprintf(p, sizeof p, "encoder.layer.%d." suffix, (int)i), p)
        add_linear_slots(m, LAYER_NAME("attention.self.query"), &ly->q, H, H, 1);
        add_linear_slots(m, LAYER_NAME("attention.self.key"), &ly->k, H, H, 1);
        add_linear_slots(m, LAYER_NAME("attention.self.value"), &ly->v, H, H, 1);
        add_linear_slots(m, LAYER_NAME("attention.output.dense"), &ly->attn_out, H, H, 1);
        add_ln_slots(m, LAYER_NAME("attention.output.LayerNorm"), &ly->ln1_g, &ly->ln1_b, H);
        add_linear_slots(m, LAYER_NAME("intermediate.dense"), &ly->inter, I, H, 1);
        ly->inter.act = cfg->hidden_act;
        add_linear_slots(m, LAYER_NAME("output.dense"), &ly->out, H, I, 1);
        add_ln_slots(m, LAYER_NAME("output.LayerNorm"), &ly->ln2_g, &ly->ln2_b, H);
#undef LAYER_NAME
    }
    if (cfg->heads & SW_HEAD_CLASSIFIER) {
        add_linear_slots(m, "pooler.dense", &m->pooler, H, H, 1);
        m->pooler.act = SW_ACT_TANH;
        add_linear_slots(m, "classifier", &m->classifier, cfg->num_labels, H, 1);
    }
    if (cfg->heads & SW_HEAD_MLM) {
        add_linear_slots(m, "cls.predictions.transform.dense", &m->mlm_dense, H, H, 1);
        m->mlm_dense.act = cfg->hidden_act;
        add_ln_slots(m, "cls.predictions.transform.LayerNorm", &m->mlm_ln_g, &m->mlm_ln_b, H);
        add_slot(m, "cls.predictions.bias", &m->mlm_bias, 1, cfg->vocab_size, 0);
    }
    return m;
}

/* "bert.embeddings..." and "embeddings..." name the same tensor: ST's
 * BertModel saves without the prefix, the *For* heads with it. The heads'
 * own tensors (cls.*, classifier.*) never carry it. */
static const char *strip_prefix(const char *name) {
    return strncmp(name, "bert.", 5) == 0 ? name + 5 : name;
}

static sw_slot *find_slot(const sw_model *m, const char *name) {
    const char *n = strip_prefix(name);
    for (int32_t i = 0; i < m->n_slots; i++)
        if (strcmp(m->slots[i].name, n) == 0) return &m->slots[i];
    return NULL;
}

int sw_model_tensor_known(const sw_model *m, const char *name) {
    return m && name && find_slot(m, name) != NULL;
}

int sw_model_add_tensor(sw_model *m, const char *name, int32_t dtype, int32_t ndim,
                        const int64_t *shape, const void *data, size_t nbytes) {
    sw_clear_error();
    if (!m || !name) return sw_fail(SW_ERR_INVALID_ARG, "sw_model_add_tensor: NULL model or name");
    if (m->finalized) return sw_fail(SW_ERR_STATE, "tensor \"%s\": the model is already finalized", name);
    sw_slot *s = find_slot(m, name);
    if (!s) return SW_OK; /* not used by this architecture */
    if (*s->dst) return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\" is given twice", name);
    float *buf = NULL;
    int rc = sw_tensor_to_f32(name, dtype, ndim, shape, data, nbytes, s->ndim, s->shape, &buf);
    if (rc != SW_OK) return rc;
    *s->dst = buf;
    return SW_OK;
}

/* Packs a layer's weights for the fast GEMM. Once a packed copy exists the
 * kernels never read w again, so it is freed: the weights exist once. (The
 * scalar build packs nothing and keeps w.) */
static int pack_linear(sw_linear *l, int free_w) {
    if (l->packed) return SW_OK; /* a finalize retried after running out of memory */
    if (sw_linear_pack(l) != 0) return sw_fail(SW_ERR_NO_MEMORY, "out of memory packing weights");
    if (l->packed && free_w) {
        SW_FREE(l->w);
        l->w = NULL;
    }
    return SW_OK;
}

/* dtype int8: the weights are quantized instead of packed (kernels_int8.c),
 * and the float copy is freed likewise. `what` names the tensor. */
static int quantize_linear(sw_linear *l, int free_w, const char *what) {
    if (l->q8) return SW_OK; /* a finalize retried after running out of memory */
    switch (sw_linear_quantize(l)) {
    case 0: break;
    case -1: return sw_fail(SW_ERR_NO_MEMORY, "out of memory quantizing weights");
    case -2: return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"%s\" holds an inf or NaN: it cannot be quantized to int8", what);
    default: return sw_fail(SW_ERR_BAD_CONFIG, "tensor \"%s\": %d inputs is too many for int8", what, (int)l->in);
    }
    if (l->q8 && free_w) {
        SW_FREE(l->w);
        l->w = NULL;
    }
    return SW_OK;
}

/* The weights as the kernels will use them: packed floats, or int8. */
static int prepare_linear(const sw_model *m, sw_linear *l, int free_w, const char *what) {
    return m->cfg.quantize == SW_QUANT_INT8 ? quantize_linear(l, free_w, what) : pack_linear(l, free_w);
}

static void release_linear(sw_linear *l) {
    sw_linear_unpack(l);
    sw_linear_unquantize(l);
}

static size_t packed_bytes(const sw_linear *l) {
    /* Panels round the output count up; 16 columns bounds that rounding. */
    return (l->packed ? (size_t)l->in * (size_t)(l->out + 15) * sizeof(float) : 0) + sw_linear_q8_bytes(l);
}

int sw_model_finalize(sw_model *m) {
    sw_clear_error();
    if (!m) return sw_fail(SW_ERR_INVALID_ARG, "sw_model_finalize: NULL model");
    if (m->finalized) return SW_OK;
    for (int32_t i = 0; i < m->n_slots; i++) {
        const sw_slot *s = &m->slots[i];
        if (!*s->dst) {
            return sw_fail(SW_ERR_MISSING_TENSOR, "tensor \"%s%s\" is missing",
                           (m->cfg.heads && strncmp(s->name, "cls.", 4) && strncmp(s->name, "classifier", 10)) ? "bert." : "",
                           s->name);
        }
    }
    for (int32_t i = 0; i < m->cfg.num_layers; i++) {
        sw_layer *ly = &m->layers[i];
        sw_linear *ls[] = {&ly->q, &ly->k, &ly->v, &ly->attn_out, &ly->inter, &ly->out};
        static const char *names[] = {"attention.self.query", "attention.self.key", "attention.self.value",
                                      "attention.output.dense", "intermediate.dense", "output.dense"};
        for (size_t j = 0; j < sizeof ls / sizeof ls[0]; j++) {
            char what[96];
            snprintf(what, sizeof what, "encoder.layer.%d.%s.weight", (int)i, names[j]);
            int rc = prepare_linear(m, ls[j], 1, what);
            if (rc != SW_OK) return rc;
        }
    }
    /* The pooler and classifier stay float32 under int8: they run on one
     * row per sequence (no time to save), and the classifier's output is
     * the score itself. */
    if (m->cfg.heads & SW_HEAD_CLASSIFIER) {
        if (pack_linear(&m->pooler, 1) != SW_OK || pack_linear(&m->classifier, 1) != SW_OK) return SW_ERR_NO_MEMORY;
    }
    if (m->cfg.heads & SW_HEAD_MLM) {
        /* The MLM head runs on every token, and its decoder (vocab x H) costs
         * as much as the whole encoder: under int8 both are quantized. */
        int rc = prepare_linear(m, &m->mlm_dense, 1, "cls.predictions.transform.dense.weight");
        if (rc != SW_OK) return rc;
        const int32_t V = m->cfg.vocab_size, H = m->cfg.hidden_size;
        if (!m->vocab_chunks) {
            m->n_vocab_chunks = (V + SW_VOCAB_CHUNK - 1) / SW_VOCAB_CHUNK;
            m->vocab_chunks = (sw_linear *)SW_CALLOC((size_t)m->n_vocab_chunks, sizeof *m->vocab_chunks);
            if (!m->vocab_chunks) return sw_fail(SW_ERR_NO_MEMORY, "out of memory");
        }
        for (int32_t c = 0; c < m->n_vocab_chunks; c++) {
            sw_linear *l = &m->vocab_chunks[c];
            int32_t first = c * SW_VOCAB_CHUNK;
            l->in = H;
            l->out = (V - first < SW_VOCAB_CHUNK) ? V - first : SW_VOCAB_CHUNK;
            l->w = m->word_emb + (size_t)first * H; /* tied decoder: a view, not a copy */
            l->b = m->mlm_bias + first;
            /* the view stays: word_emb is also the embedding table */
            if ((rc = prepare_linear(m, l, 0, "embeddings.word_embeddings.weight (the tied MLM decoder)")) != SW_OK) return rc;
        }
    }
    /* What the model holds now: the tensors still allocated, plus packed copies. */
    size_t bytes = 0;
    for (int32_t i = 0; i < m->n_slots; i++) {
        const sw_slot *s = &m->slots[i];
        if (*s->dst) bytes += (size_t)(s->shape[0] * (s->ndim == 2 ? s->shape[1] : 1)) * sizeof(float);
    }
    for (int32_t i = 0; i < m->cfg.num_layers; i++) {
        const sw_layer *ly = &m->layers[i];
        bytes += packed_bytes(&ly->q) + packed_bytes(&ly->k) + packed_bytes(&ly->v) +
                 packed_bytes(&ly->attn_out) + packed_bytes(&ly->inter) + packed_bytes(&ly->out);
    }
    bytes += packed_bytes(&m->pooler) + packed_bytes(&m->classifier) + packed_bytes(&m->mlm_dense);
    for (int32_t c = 0; c < m->n_vocab_chunks; c++) bytes += packed_bytes(&m->vocab_chunks[c]);
    m->weight_bytes = bytes;
    m->finalized = 1;
    return SW_OK;
}

size_t sw_model_weight_bytes(const sw_model *m) { return m ? m->weight_bytes : 0; }

void sw_model_free(sw_model *m) {
    if (!m) return;
    for (int32_t i = 0; i < m->n_slots; i++) SW_FREE(*m->slots[i].dst);
    if (m->layers) {
        for (int32_t i = 0; i < m->cfg.num_layers; i++) {
            sw_layer *ly = &m->layers[i];
            release_linear(&ly->q); release_linear(&ly->k); release_linear(&ly->v);
            release_linear(&ly->attn_out); release_linear(&ly->inter); release_linear(&ly->out);
        }
    }
    release_linear(&m->pooler);
    release_linear(&m->classifier);
    release_linear(&m->mlm_dense);
    for (int32_t c = 0; c < m->n_vocab_chunks; c++) release_linear(&m->vocab_chunks[c]);
    SW_FREE(m->vocab_chunks);
    SW_FREE(m->layers);
    SW_FREE(m->slots);
    SW_FREE(m);
}

/* ==== ctx ==== */

struct sw_ctx {
    const sw_model *m;
    int32_t n_seq, n_tokens;
    int32_t *seq_lens;  /* [n_seq] of the last forward */
    size_t seq_cap;
    /* Activations: views into one block (act), carved by reserve_activations
     * for the last forward's T tokens; sizes in floats. */
    float *act; size_t act_cap;
    float *x;                    /* [T x H] hidden states (the output)   */
    float *q;                    /* [T x H] queries, then attention out   */
    float *k;                    /* [T x H] keys, then FFN out            */
    float *v;                    /* [T x H] values                        */
    float *a;                    /* [T x H] attention context             */
    float *f; size_t f_len;      /* [T x I] intermediate; head scratch    */
    float *s;                    /* attention scratch, one slice per thread */
    size_t s_stride;             /* floats per thread in s               */
    float *head; size_t head_cap; /* splade's logits when f is too small */
    int64_t *seq_off;            /* [n_seq] first token of each sequence  */
    size_t off_cap;
};

sw_ctx *sw_ctx_create(const sw_model *m) {
    sw_clear_error();
    if (!m) { sw_fail(SW_ERR_INVALID_ARG, "sw_ctx_create: NULL model"); return NULL; }
    if (!m->finalized) { sw_fail(SW_ERR_STATE, "sw_ctx_create: model is not finalized"); return NULL; }
    sw_ctx *c = (sw_ctx *)SW_CALLOC(1, sizeof *c);
    if (!c) { sw_fail(SW_ERR_NO_MEMORY, "out of memory"); return NULL; }
    c->m = m;
    return c;
}

void sw_ctx_free(sw_ctx *c) {
    if (!c) return;
    SW_FREE(c->seq_lens);
    SW_FREE(c->act); SW_FREE(c->head); SW_FREE(c->seq_off);
    SW_FREE(c);
}

/* Floats of one view, rounded up to 16 (64 bytes) so every view starts on a
 * cache line. */
static uint64_t view_floats(uint64_t n) { return (n + 15) & ~(uint64_t)15; }

/* Carves the activations of T tokens out of one block, replacing the block
 * (free, then malloc: nothing in it outlives a forward) when it is too small.
 * One block, not one per buffer: six buffers each grown by realloc, batch
 * after batch, left holes that no later size fitted, and the heap (which a
 * WebAssembly memory never gives back) grew by twice what they held: 16
 * passages a batch took it from 94 to 200 MB for 57 MB of activations. A
 * lone block freed at the top of the heap merges into it, so the next one
 * reuses its place. */
static int reserve_activations(sw_ctx *c, uint64_t T, uint64_t s_floats) {
    const sw_config *cfg = &c->m->cfg;
    const uint64_t H = (uint64_t)cfg->hidden_size, I = (uint64_t)cfg->intermediate_size;
    const uint64_t th = view_floats(T * H), tf = view_floats(T * (I > H ? I : H));
    /* in 64 bits: on wasm32 a size_t product could wrap to a small block */
    const uint64_t need = 5 * th + tf + view_floats(s_floats);
    if (need > (uint64_t)SW_MAX_BUFFER_BYTES / sizeof(float))
        return sw_fail(SW_ERR_NO_MEMORY, "activations of %llu floats are too large", (unsigned long long)need);
    if (need > c->act_cap || !c->act) {
        SW_FREE(c->act);
        c->act = c->x = c->q = c->k = c->v = c->a = c->f = c->s = NULL; /* no view left dangling */
        c->act_cap = c->f_len = 0;
        c->act = (float *)SW_MALLOC((size_t)need * sizeof(float));
        if (!c->act) return sw_fail(SW_ERR_NO_MEMORY, "out of memory for %llu floats of activations", (unsigned long long)need);
        c->act_cap = (size_t)need;
    }
    float *p = c->act;
    c->x = p; p += th;
    c->q = p; p += th;
    c->k = p; p += th;
    c->v = p; p += th;
    c->a = p; p += th;
    c->f = p; p += tf;
    c->f_len = (size_t)tf;
    c->s = p;
    return SW_OK;
}

const float *sw_ctx_hidden(const sw_ctx *c) { return c ? c->x : NULL; }
int32_t sw_ctx_n_tokens(const sw_ctx *c) { return c ? c->n_tokens : 0; }

static int check_inputs(const sw_ctx *c, int32_t n_seq, const int32_t *seq_lens,
                        const int32_t *ids, const int32_t *type_ids, int64_t *total, int32_t *max_len) {
    const sw_config *cfg = &c->m->cfg;
    if (n_seq < 1 || !seq_lens || !ids) return sw_fail(SW_ERR_INVALID_ARG, "forward: no sequences given");
    /* A token's activations (five rows of H, one of max(I, H): see
     * reserve_activations) decide how many tokens fit in one block; checked
     * as the total grows, so the sum never overflows. */
    const int64_t H = cfg->hidden_size, I = cfg->intermediate_size;
    const int64_t max_tokens = SW_MAX_BUFFER_BYTES / ((5 * H + (I > H ? I : H)) * 4);
    int64_t t = 0;
    int32_t mx = 0;
    for (int32_t i = 0; i < n_seq; i++) {
        if (seq_lens[i] < 1 || seq_lens[i] > cfg->max_position)
            return sw_fail(SW_ERR_INVALID_ARG, "forward: sequence %d has %d tokens, allowed 1..%d",
                           (int)i, (int)seq_lens[i], (int)cfg->max_position);
        t += seq_lens[i];
        if (t > max_tokens)
            return sw_fail(SW_ERR_INVALID_ARG, "forward: more than %lld tokens in one call is too many", (long long)max_tokens);
        if (seq_lens[i] > mx) mx = seq_lens[i];
    }
    for (int64_t i = 0; i < t; i++) {
        if (ids[i] < 0 || ids[i] >= cfg->vocab_size)
            return sw_fail(SW_ERR_INVALID_ARG, "forward: token id %d at %lld is outside the vocabulary (%d)",
                           (int)ids[i], (long long)i, (int)cfg->vocab_size);
        if (type_ids && (type_ids[i] < 0 || type_ids[i] >= (cfg->type_vocab_size > 0 ? cfg->type_vocab_size : 1)))
            return sw_fail(SW_ERR_INVALID_ARG, "forward: token type %d at %lld is outside [0, %d)",
                           (int)type_ids[i], (long long)i, (int)cfg->type_vocab_size);
    }
    *total = t;
    *max_len = mx;
    return SW_OK;
}

/* ==== the layer's steps as tasks (threads.h) ==== */

/* Rows per task of a LayerNorm: enough work to be worth a task. */
#define ROWS_PER_TASK 16

/* One attention head of one sequence per task. */
typedef struct heads_job {
    sw_ctx *c;
    int32_t nh, d, H;
    float scale;
} heads_job;

static void head_task(void *arg, int32_t task, int32_t thread) {
    const heads_job *j = (const heads_job *)arg;
    sw_ctx *c = j->c;
    const int32_t s = task / j->nh, h = task % j->nh;
    const size_t at = (size_t)c->seq_off[s] * j->H + (size_t)h * j->d;
    /* dtype int8: both products on integers as well (kernels.h, "int8 attention") */
    if (c->m->cfg.quantize == SW_QUANT_INT8)
        sw_attention_head_q8(c->a + at, c->q + at, c->k + at, c->v + at, c->seq_lens[s], j->d, j->H,
                             j->scale, c->s + (size_t)thread * c->s_stride);
    else
        sw_attention_head(c->a + at, c->q + at, c->k + at, c->v + at, c->seq_lens[s], j->d, j->H,
                          j->scale, c->s + (size_t)thread * c->s_stride);
}

/* Residual add + LayerNorm, rows split between tasks. */
typedef struct ln_job {
    float *y;
    const float *x, *r, *g, *b;
    int32_t rows, n;
    float eps;
} ln_job;

static void ln_task(void *arg, int32_t task, int32_t thread) {
    const ln_job *j = (const ln_job *)arg;
    const int32_t r0 = task * ROWS_PER_TASK;
    const int32_t rows = j->rows - r0 < ROWS_PER_TASK ? j->rows - r0 : ROWS_PER_TASK;
    const size_t at = (size_t)r0 * j->n;
    (void)thread;
    sw_add_layernorm(j->y + at, j->x + at, j->r ? j->r + at : NULL, j->g, j->b, rows, j->n, j->eps);
}

static void add_layernorm(float *y, const float *x, const float *r, const float *g, const float *b,
                          int32_t rows, int32_t n, float eps) {
    ln_job j = {y, x, r, g, b, rows, n, eps};
    sw_parallel_for((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, ln_task, &j);
}

/* BertEmbeddings: word + position + token type, then LayerNorm. Positions
 * restart at 0 for every packed sequence. */
static void embed(sw_ctx *c, int32_t n_seq, const int32_t *seq_lens, const int32_t *ids, const int32_t *type_ids) {
    const sw_model *m = c->m;
    const int32_t H = m->cfg.hidden_size;
    int64_t t = 0;
    for (int32_t s = 0; s < n_seq; s++) {
        for (int32_t p = 0; p < seq_lens[s]; p++, t++) {
            float *xt = c->x + (size_t)t * H;
            const float *we = m->word_emb + (size_t)ids[t] * H;
            const float *pe = m->pos_emb + (size_t)p * H;
            const float *te = m->type_emb ? m->type_emb + (size_t)(type_ids ? type_ids[t] : 0) * H : NULL;
            for (int32_t j = 0; j < H; j++) xt[j] = we[j] + pe[j] + (te ? te[j] : 0.0f);
        }
    }
    add_layernorm(c->x, c->x, NULL, m->emb_ln_g, m->emb_ln_b, (int32_t)t, H, m->cfg.layer_norm_eps);
}

/* y = l(x) on the rows of the batch's sequences (sw_linear_forward_seqs). */
static void linear_seqs(const sw_ctx *c, const sw_linear *l, const float *x, int32_t n_seq, float *y) {
    sw_linear_forward_seqs(&l, 1, x, n_seq, c->seq_lens, &y);
}

/* BertLayer on the packed states in c->x. */
static void layer_forward(sw_ctx *c, const sw_layer *ly, int32_t n_seq, int32_t T) {
    const sw_config *cfg = &c->m->cfg;
    const int32_t H = cfg->hidden_size, nh = cfg->num_heads, d = H / nh;

    /* BertSelfAttention: Q, K, V projections, softmax(QK^T/sqrt d)V per head */
    const sw_linear *qkv[3] = {&ly->q, &ly->k, &ly->v};
    float *const qkv_out[3] = {c->q, c->k, c->v};
    sw_linear_forward_seqs(qkv, 3, c->x, n_seq, c->seq_lens, qkv_out);
    heads_job hj = {c, nh, d, H, 1.0f / sqrtf((float)d)};
    sw_parallel_for(n_seq * nh, head_task, &hj);
    /* BertSelfOutput: dense, then LayerNorm(dense + input) */
    linear_seqs(c, &ly->attn_out, c->a, n_seq, c->q);
    add_layernorm(c->x, c->x, c->q, ly->ln1_g, ly->ln1_b, T, H, cfg->layer_norm_eps);
    /* BertIntermediate: dense + GELU (inter.act); BertOutput: dense, LayerNorm(dense + input) */
    linear_seqs(c, &ly->inter, c->x, n_seq, c->f);
    linear_seqs(c, &ly->out, c->f, n_seq, c->k);
    add_layernorm(c->x, c->x, c->k, ly->ln2_g, ly->ln2_b, T, H, cfg->layer_norm_eps);
}

int sw_ctx_forward(sw_ctx *c, int32_t n_seq, const int32_t *seq_lens,
                   const int32_t *ids, const int32_t *type_ids) {
    sw_clear_error();
    if (!c) return sw_fail(SW_ERR_INVALID_ARG, "forward: NULL ctx");
    c->n_tokens = 0;
    c->n_seq = 0;
    int64_t total = 0;
    int32_t max_len = 0;
    int rc = check_inputs(c, n_seq, seq_lens, ids, type_ids, &total, &max_len);
    if (rc != SW_OK) return rc;
    const sw_config *cfg = &c->m->cfg;
    const uint64_t T = (uint64_t)total;
    /* Attention scratch: one slice per thread, as heads run in parallel. */
    c->s_stride = cfg->quantize == SW_QUANT_INT8 ? sw_attention_q8_scratch(max_len, cfg->hidden_size / cfg->num_heads)
                                                  : sw_attention_scratch(max_len, cfg->hidden_size / cfg->num_heads);
    if ((rc = reserve_activations(c, T, (uint64_t)c->s_stride * (uint64_t)sw_threads_count()))) return rc;
    if ((size_t)n_seq > c->seq_cap) {
        int32_t *p = (int32_t *)SW_REALLOC(c->seq_lens, (size_t)n_seq * sizeof *p);
        if (!p) return sw_fail(SW_ERR_NO_MEMORY, "out of memory");
        c->seq_lens = p;
        int64_t *o = (int64_t *)SW_REALLOC(c->seq_off, (size_t)n_seq * sizeof *o);
        if (!o) return sw_fail(SW_ERR_NO_MEMORY, "out of memory");
        c->seq_off = o;
        c->seq_cap = (size_t)n_seq;
    }
    memcpy(c->seq_lens, seq_lens, (size_t)n_seq * sizeof *seq_lens);
    for (int32_t s = 0, off = 0; s < n_seq; off += seq_lens[s], s++) c->seq_off[s] = off;

    embed(c, n_seq, seq_lens, ids, type_ids);
    for (int32_t l = 0; l < cfg->num_layers; l++)
        layer_forward(c, &c->m->layers[l], n_seq, (int32_t)T);
    if ((rc = sw_threads_check()) != SW_OK) return rc; /* the states are incomplete */
    c->n_seq = n_seq;
    c->n_tokens = (int32_t)T;
    return SW_OK;
}

/* ==== heads on the encoder's weights ==== */

int sw_ctx_classify(sw_ctx *c, float *out) {
    sw_clear_error();
    if (!c || !out) return sw_fail(SW_ERR_INVALID_ARG, "classify: NULL argument");
    const sw_model *m = c->m;
    if (!(m->cfg.heads & SW_HEAD_CLASSIFIER)) return sw_fail(SW_ERR_STATE, "classify: the model has no classifier head");
    if (c->n_seq < 1) return sw_fail(SW_ERR_STATE, "classify: run a forward pass first");
    const int32_t H = m->cfg.hidden_size;
    /* BertPooler reads the first token ([CLS]) of every sequence. */
    float *first = c->q, *pooled = c->k; /* scratch: [n_seq x H] fits in [T x H] */
    int64_t off = 0;
    for (int32_t s = 0; s < c->n_seq; s++) {
        memcpy(first + (size_t)s * H, c->x + (size_t)off * H, (size_t)H * sizeof(float));
        off += c->seq_lens[s];
    }
    sw_linear_forward(&m->pooler, first, c->n_seq, pooled); /* tanh: pooler.act */
    sw_linear_forward(&m->classifier, pooled, c->n_seq, out);
    return sw_threads_check();
}

/* SpladePooling's activation: log1p(relu(x)), or log1p(log1p(relu(x))). */
static float splade_act(float z, int32_t log1p_twice) {
    float a = z > 0.0f ? log1pf(z) : 0.0f;
    return log1p_twice ? log1pf(a) : a;
}

int sw_ctx_splade(sw_ctx *c, int32_t sum, int32_t log1p_twice, float *out) {
    sw_clear_error();
    if (!c || !out) return sw_fail(SW_ERR_INVALID_ARG, "splade: NULL argument");
    const sw_model *m = c->m;
    if (!(m->cfg.heads & SW_HEAD_MLM)) return sw_fail(SW_ERR_STATE, "splade: the model has no MLM head");
    if (c->n_seq < 1) return sw_fail(SW_ERR_STATE, "splade: run a forward pass first");
    const int32_t H = m->cfg.hidden_size, V = m->cfg.vocab_size;
    const int32_t T = c->n_tokens;
    /* BertPredictionHeadTransform over all tokens: dense, act (mlm_dense.act), LayerNorm. */
    float *tr = c->q;
    sw_linear_forward(&m->mlm_dense, c->x, T, tr);
    add_layernorm(tr, tr, NULL, m->mlm_ln_g, m->mlm_ln_b, T, H, m->cfg.layer_norm_eps);

    /* Decoder by vocabulary chunk, pooled at once: logits for one chunk of
     * one sequence, [len x SW_VOCAB_CHUNK], are the only logits alive. */
    int32_t max_len = 0;
    for (int32_t s = 0; s < c->n_seq; s++) if (c->seq_lens[s] > max_len) max_len = c->seq_lens[s];
    /* f (the forward's intermediate, free now) holds them unless the texts are
     * short: [T x I] against [max_len x SW_VOCAB_CHUNK]. */
    float *logits = c->f;
    if ((size_t)max_len * SW_VOCAB_CHUNK > c->f_len) {
        int rc = sw_reserve(&c->head, &c->head_cap, (size_t)max_len * SW_VOCAB_CHUNK);
        if (rc != SW_OK) return rc;
        logits = c->head;
    }
    int64_t off = 0;
    for (int32_t s = 0; s < c->n_seq; s++) {
        const int32_t len = c->seq_lens[s];
        float *o = out + (size_t)s * V;
        for (int32_t ch = 0; ch < m->n_vocab_chunks; ch++) {
            const sw_linear *l = &m->vocab_chunks[ch];
            sw_linear_forward(l, tr + (size_t)off * H, len, logits);
            float *acc = o + (size_t)ch * SW_VOCAB_CHUNK;
            for (int32_t j = 0; j < l->out; j++) acc[j] = 0.0f;
            if (!sum) {
                /* log1p(relu(.)) is non-decreasing, so the max of the
                 * activations is the activation of the max logit: one
                 * log1p per word instead of one per token and word. */
                for (int32_t t = 0; t < len; t++) {
                    const float *z = logits + (size_t)t * l->out;
                    for (int32_t j = 0; j < l->out; j++) if (z[j] > acc[j]) acc[j] = z[j];
                }
                for (int32_t j = 0; j < l->out; j++) acc[j] = splade_act(acc[j], log1p_twice);
            } else {
                for (int32_t t = 0; t < len; t++) { /* rows in order: contiguous reads */
                    const float *z = logits + (size_t)t * l->out;
                    for (int32_t j = 0; j < l->out; j++) if (z[j] > 0.0f) acc[j] += splade_act(z[j], log1p_twice);
                }
            }
        }
        off += len;
    }
    return sw_threads_check();
}
