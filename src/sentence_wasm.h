/*
 * sentence_wasm.h — the C engine of sentence-wasm: a BERT encoder forward
 * pass and the sentence-transformers heads (pooling, Dense, Normalize), for
 * WebAssembly SIMD128 (and plain C for native tests).
 *
 * The engine does arithmetic only. JSON, configs and tokenizers live in JS;
 * JS hands the engine a config, tensor descriptors and token ids, and the
 * engine checks every length, shape and offset it is given before it uses it.
 *
 * Basic usage (error handling shortened):
 *
 *     sw_config cfg = sw_config_default();
 *     cfg.vocab_size = 30522; cfg.hidden_size = 384; cfg.num_layers = 6;
 *     cfg.num_heads = 12; cfg.intermediate_size = 1536;
 *     sw_model *m = sw_model_create(&cfg);              // NULL on failure
 *     for (each tensor of model.safetensors)
 *         sw_model_add_tensor(m, name, SW_DTYPE_F32, ndim, shape, bytes, nbytes);
 *     if (sw_model_finalize(m) != SW_OK) puts(sw_last_error());
 *     sw_ctx *ctx = sw_ctx_create(m);
 *     int32_t lens[2] = {3, 5};                         // two texts, packed
 *     int32_t ids[8]  = {101, 7592, 102,  101, 1037, 2158, 1012, 102};
 *     sw_ctx_forward(ctx, 2, lens, ids, NULL);
 *     const float *h = sw_ctx_hidden(ctx);              // [8 x 384]
 *     float pooled[384];
 *     sw_pool(h + 3 * 384, 5, 384, SW_POOL_MEAN, 0, pooled);
 *     sw_l2_normalize(pooled, 1, 384);
 *     sw_ctx_free(ctx); sw_model_free(m);
 *
 * Conventions
 *  - Functions that can fail return `int` (SW_OK = 0, else a negative
 *    sw_status) or NULL; sw_last_error() then says why, naming the tensor or
 *    field at fault. The engine never exits or aborts on bad input.
 *  - One *_free per *_create. Pointers returned by a ctx stay valid until the
 *    next call on that ctx.
 *  - Sequences are packed: no padding. Texts of lengths l0, l1, ... are laid
 *    end to end in `ids`; their token states come back end to end as well.
 *    Padding never changes a result because there is none.
 *  - A sw_model is read-only after sw_model_finalize() and may be shared by
 *    several sw_ctx (one per thread). A sw_ctx is used by one thread at a time.
 */
#ifndef SENTENCE_WASM_H
#define SENTENCE_WASM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ==== status and errors ==== */

typedef enum sw_status {
    SW_OK                 =  0,
    SW_ERR_INVALID_ARG    = -1, /* a NULL, a negative count, ids out of range  */
    SW_ERR_NO_MEMORY      = -2, /* an allocation failed                         */
    SW_ERR_BAD_TENSOR     = -3, /* dtype, shape or byte count is wrong          */
    SW_ERR_MISSING_TENSOR = -4, /* finalize found a required tensor absent      */
    SW_ERR_BAD_CONFIG     = -5, /* the config is inconsistent or too large      */
    SW_ERR_STATE          = -6  /* call out of order (e.g. forward before finalize) */
} sw_status;

/* The message of the last failure on this thread ("" if none). Static
 * storage: copy it before the next engine call. */
const char *sw_last_error(void);

/* ==== model config ==== */

typedef enum sw_dtype {
    SW_DTYPE_F32  = 0,
    SW_DTYPE_F16  = 1,
    SW_DTYPE_BF16 = 2
} sw_dtype;

typedef enum sw_act {
    SW_ACT_IDENTITY  = 0,
    SW_ACT_GELU      = 1, /* exact: 0.5 x (1 + erf(x / sqrt 2)), HF "gelu"      */
    SW_ACT_GELU_TANH = 2, /* HF "gelu_new" / "gelu_pytorch_tanh"                */
    SW_ACT_RELU      = 3,
    SW_ACT_TANH      = 4,
    SW_ACT_SIGMOID   = 5
} sw_act;

/* Which optional heads a checkpoint carries, as a bit mask. */
enum {
    SW_HEAD_NONE       = 0,
    SW_HEAD_MLM        = 1, /* BertForMaskedLM: cls.predictions.*              */
    SW_HEAD_CLASSIFIER = 2  /* BertForSequenceClassification: pooler + classifier */
};

/* How the engine stores and multiplies the encoder's Linear weights
 * (sw_config.quantize; the load option `dtype` of the JS API). */
enum {
    SW_QUANT_NONE = 0, /* float32, as given                                 */
    SW_QUANT_INT8 = 1  /* int8: at sw_model_finalize the Linear weights of the
                        * encoder layers (query, key, value, attention output,
                        * intermediate, output) and of the MLM head (transform
                        * dense, tied decoder) are quantized symmetrically per
                        * output row, and their products run on integers with
                        * each token's activations quantized to int8 on the
                        * fly (int32 sums, exact). Embeddings, LayerNorm,
                        * attention scores, softmax, GELU, the pooler and the
                        * classifier stay float32. Outputs then differ from
                        * float32 by ~1% (cosine >= 0.99 on the tests). A
                        * weight that is inf or NaN fails finalize. */
};

/* Mirrors the fields of a BERT config.json. 0 = "not set" where noted. */
typedef struct sw_config {
    int32_t vocab_size;        /* rows of embeddings.word_embeddings          */
    int32_t hidden_size;       /* H                                           */
    int32_t num_layers;        /* num_hidden_layers                           */
    int32_t num_heads;         /* num_attention_heads; H % num_heads == 0     */
    int32_t intermediate_size; /* feed-forward width                          */
    int32_t max_position;      /* max_position_embeddings                     */
    int32_t type_vocab_size;   /* 0 = no token-type embeddings                */
    int32_t hidden_act;        /* sw_act of the feed-forward                  */
    int32_t heads;             /* SW_HEAD_* bits                              */
    int32_t num_labels;        /* classifier outputs (SW_HEAD_CLASSIFIER)     */
    float   layer_norm_eps;    /* layer_norm_eps                              */
    int32_t quantize;          /* SW_QUANT_NONE or SW_QUANT_INT8 (not from config.json) */
} sw_config;

/* A config with BERT's defaults (max_position 512, type_vocab_size 2, exact
 * GELU, eps 1e-12), float32 weights and zero sizes, which the caller must
 * fill in. */
sw_config sw_config_default(void);

/* ==== model: weights, shared and read-only after finalize ==== */

typedef struct sw_model sw_model;

/* Checks the config (positive sizes, H divisible by heads, every tensor
 * below 2 GiB) and returns an empty model, or NULL. */
sw_model *sw_model_create(const sw_config *cfg);

/* Hands one tensor to the model. `name` is the safetensors key; a leading
 * "bert." is accepted (BertForMaskedLM / ForSequenceClassification layouts).
 * `data` holds `nbytes` bytes of dtype `dtype` (any alignment); the engine
 * checks the name is known, the shape is what the config implies, nbytes ==
 * prod(shape) * sizeof(dtype), and the name was not given before; then it
 * copies (converting to f32) into memory it owns. The caller may free `data`
 * after the call. Unknown names return SW_OK and are ignored (e.g.
 * embeddings.position_ids, pooler.* of a BertModel) — check with
 * sw_model_tensor_known() first to avoid copying them at all. */
int sw_model_add_tensor(sw_model *m, const char *name, int32_t dtype,
                        int32_t ndim, const int64_t *shape,
                        const void *data, size_t nbytes);

/* 1 if sw_model_add_tensor would use the tensor `name`, else 0. */
int sw_model_tensor_known(const sw_model *m, const char *name);

/* Checks that every tensor the config needs was given and prepares the
 * weights for the kernels. SW_ERR_MISSING_TENSOR names the first absent. */
int sw_model_finalize(sw_model *m);

/* Bytes of weights the model holds (after conversion and packing). */
size_t sw_model_weight_bytes(const sw_model *m);

void sw_model_free(sw_model *m);

/* ==== ctx: activations of one forward pass at a time ==== */

typedef struct sw_ctx sw_ctx;

/* NULL if the model is not finalized or memory runs out. */
sw_ctx *sw_ctx_create(const sw_model *m);

/* Runs the encoder on n_seq packed sequences. seq_lens[i] >= 1 and
 * <= max_position; ids[] has sum(seq_lens) entries, each < vocab_size;
 * type_ids may be NULL (all 0), else each < type_vocab_size. The token
 * states, [sum(seq_lens) x H], are then at sw_ctx_hidden(). */
int sw_ctx_forward(sw_ctx *c, int32_t n_seq, const int32_t *seq_lens,
                   const int32_t *ids, const int32_t *type_ids);

/* Token states of the last forward: [n_tokens x hidden_size]. */
const float *sw_ctx_hidden(const sw_ctx *c);
int32_t      sw_ctx_n_tokens(const sw_ctx *c);

/* BertForSequenceClassification after a forward: for each sequence,
 * classifier(tanh(pooler(h[first token]))) -> out[n_seq x num_labels]. */
int sw_ctx_classify(sw_ctx *c, float *out);

/* BertForMaskedLM + SPLADE pooling after a forward, fused so the
 * [tokens x vocab] logits never exist at once: for sequence i,
 * out[i][v] = POOL_t act(logit[t][v]) with POOL = max (sum=0) or sum
 * (sum=1) and act = log1p(relu(x)), applied twice if log1p_twice.
 * out is [n_seq x vocab_size]. */
int sw_ctx_splade(sw_ctx *c, int32_t sum, int32_t log1p_twice, float *out);

void sw_ctx_free(sw_ctx *c);

/* ==== heads: sentence-transformers modules after the encoder ==== */

/* Pooling modes, as a bit mask; several are concatenated in this order
 * (the order of sentence_transformers.models.Pooling). */
enum {
    SW_POOL_CLS          = 1,
    SW_POOL_MAX          = 2,
    SW_POOL_MEAN         = 4,
    SW_POOL_MEAN_SQRT    = 8,
    SW_POOL_WEIGHTEDMEAN = 16,
    SW_POOL_LASTTOKEN    = 32
};

/* Pools one sequence's token states h[n x dim] into out[popcount(modes) x
 * dim]. The first `skip` positions are left out of the mask, as Pooling does
 * with include_prompt=False (CLS still reads position 0). */
int sw_pool(const float *h, int32_t n, int32_t dim, int32_t modes,
            int32_t skip, float *out);

/* A sentence-transformers Dense module: y = act(x W^T + b). */
typedef struct sw_dense sw_dense;

sw_dense *sw_dense_create(int32_t in_features, int32_t out_features,
                          int32_t has_bias, int32_t act);
/* Names: "linear.weight" [out x in], "linear.bias" [out]. Checked as in
 * sw_model_add_tensor. */
int  sw_dense_add_tensor(sw_dense *d, const char *name, int32_t dtype,
                         int32_t ndim, const int64_t *shape,
                         const void *data, size_t nbytes);
/* x[n x in] -> y[n x out]; fails if a tensor is missing. */
int  sw_dense_forward(const sw_dense *d, const float *x, int32_t n, float *y);
void sw_dense_free(sw_dense *d);

/* Rows of x[n x dim] divided by max(||row||_2, 1e-12), in place. */
int sw_l2_normalize(float *x, int32_t n, int32_t dim);

/* ==== StaticEmbedding: a token table and the mean of its rows ==== */

/* sentence_transformers.models.StaticEmbedding (torch EmbeddingBag, mode
 * "mean"): no encoder, a text's vector is the mean of its tokens' rows. */
typedef struct sw_static sw_static;

sw_static *sw_static_create(int32_t vocab_size, int32_t dim);
/* Name: "embedding.weight" [vocab x dim]. Checked as in sw_model_add_tensor. */
int  sw_static_add_tensor(sw_static *s, const char *name, int32_t dtype,
                          int32_t ndim, const int64_t *shape,
                          const void *data, size_t nbytes);
/* Packed sequences as in sw_ctx_forward, but a length may be 0 (an empty
 * bag gives a zero vector, as EmbeddingBag does). out is [n_seq x dim]. */
int  sw_static_forward(const sw_static *s, int32_t n_seq, const int32_t *seq_lens,
                       const int32_t *ids, float *out);
void sw_static_free(sw_static *s);

/* ==== threads: helpers that share the engine's memory ====
 *
 * Only the shared-memory build (sentence-wasm-mt.wasm) has helpers: JS
 * instantiates that module once more per helper, on the same shared
 * memory, gives each instance its own stack, and calls sw_thread_main()
 * there. The encoder's matrix products, attention heads and row-wise ops
 * are then split between thread 0 (the caller of every other function)
 * and the helpers; results do not depend on the thread count. In other
 * builds there are no helpers and these calls are no-ops or fail. */

/* The most threads one engine runs: thread 0 and up to 63 helpers. */
#define SW_MAX_THREADS 64

/* A helper's whole life: takes a thread index, runs the tasks thread 0
 * hands out, returns after sw_threads_stop(). Blocks (atomic wait). */
void sw_thread_main(void);
/* Thread 0: waits up to timeout_ms until exactly n_helpers helpers are
 * inside sw_thread_main(), then uses them for every later call. Fails
 * (SW_ERR_STATE) if they do not arrive, if helpers were already started,
 * or (for n_helpers > 0) in a build without threads. */
int sw_threads_start(int32_t n_helpers, int32_t timeout_ms);
/* A helper's JS calls this when sw_thread_main() trapped (a bug, e.g. an
 * out-of-bounds access in a task): the task it was running is lost, so
 * thread 0 stops waiting for it, makes the call that ran the job fail
 * (SW_ERR_STATE, "a helper thread failed ...") and stops the other helpers:
 * later calls run on thread 0 alone instead of hanging. */
void sw_thread_failed(void);
/* Thread 0: makes every helper return from sw_thread_main(). */
void sw_threads_stop(void);
/* Threads that compute: 1 + the helpers started. */
int32_t sw_threads_count(void);

/* ==== memory helpers for callers that cannot use malloc (JS) ==== */

void *sw_malloc(size_t n);
void  sw_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* SENTENCE_WASM_H */
