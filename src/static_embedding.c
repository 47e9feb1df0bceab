/*
 * static_embedding.c — sentence-transformers' StaticEmbedding module: an
 * embedding table whose rows are averaged per text (EmbeddingBag "mean").
 * No matrix products: this is the whole model for static/model2vec folders.
 */
#include "internal.h"

#include <string.h>

struct sw_static {
    int32_t vocab, dim;
    float *table; /* embedding.weight [vocab x dim] */
};

sw_static *sw_static_create(int32_t vocab_size, int32_t dim) {
    sw_clear_error();
    if (vocab_size < 1 || dim < 1 || vocab_size > (1 << 24) || dim > (1 << 16) ||
        (int64_t)vocab_size * dim * 4 > SW_MAX_BUFFER_BYTES) {
        sw_fail(SW_ERR_BAD_CONFIG, "StaticEmbedding: table [%d x %d] is out of range", (int)vocab_size, (int)dim);
        return NULL;
    }
    sw_static *s = (sw_static *)SW_CALLOC(1, sizeof *s);
    if (!s) { sw_fail(SW_ERR_NO_MEMORY, "out of memory"); return NULL; }
    s->vocab = vocab_size;
    s->dim = dim;
    return s;
}

int sw_static_add_tensor(sw_static *s, const char *name, int32_t dtype, int32_t ndim,
                         const int64_t *shape, const void *data, size_t nbytes) {
    sw_clear_error();
    if (!s || !name) return sw_fail(SW_ERR_INVALID_ARG, "StaticEmbedding: NULL argument");
    if (strcmp(name, "embedding.weight") != 0) return SW_OK;
    if (s->table) return sw_fail(SW_ERR_BAD_TENSOR, "tensor \"embedding.weight\" is given twice");
    int64_t exp[2] = {s->vocab, s->dim};
    return sw_tensor_to_f32(name, dtype, ndim, shape, data, nbytes, 2, exp, &s->table);
}

int sw_static_forward(const sw_static *s, int32_t n_seq, const int32_t *seq_lens,
                      const int32_t *ids, float *out) {
    sw_clear_error();
    if (!s || !seq_lens || !out || n_seq < 0) return sw_fail(SW_ERR_INVALID_ARG, "StaticEmbedding: bad arguments");
    if (!s->table) return sw_fail(SW_ERR_MISSING_TENSOR, "tensor \"embedding.weight\" is missing");
    const int32_t d = s->dim;
    int64_t off = 0;
    for (int32_t i = 0; i < n_seq; i++) {
        if (seq_lens[i] < 0) return sw_fail(SW_ERR_INVALID_ARG, "StaticEmbedding: sequence %d has a negative length", (int)i);
        if (seq_lens[i] > 0 && !ids) return sw_fail(SW_ERR_INVALID_ARG, "StaticEmbedding: no ids given");
        for (int32_t t = 0; t < seq_lens[i]; t++) {
            int32_t id = ids[off + t];
            if (id < 0 || id >= s->vocab)
                return sw_fail(SW_ERR_INVALID_ARG, "StaticEmbedding: token id %d is outside the table (%d rows)", (int)id, (int)s->vocab);
        }
        float *o = out + (size_t)i * d;
        memset(o, 0, (size_t)d * sizeof(float));
        for (int32_t t = 0; t < seq_lens[i]; t++) {
            const float *row = s->table + (size_t)ids[off + t] * d;
            for (int32_t j = 0; j < d; j++) o[j] += row[j];
        }
        if (seq_lens[i] > 0) {
            const float inv = 1.0f / (float)seq_lens[i];
            for (int32_t j = 0; j < d; j++) o[j] *= inv;
        }
        off += seq_lens[i];
    }
    return SW_OK;
}

void sw_static_free(sw_static *s) {
    if (!s) return;
    SW_FREE(s->table);
    SW_FREE(s);
}
