#!/usr/bin/python3
"""Build deterministic, randomly initialised MiniLM-L6-shaped BERT test models.

Writes two Hugging Face style model folders under OUT (default /tmp/peer-model):

  OUT/embed/   BertModel with the exact all-MiniLM-L6-v2 shape (bi-encoder)
  OUT/rerank/  BertForSequenceClassification, 1 label (cross-encoder)

Each folder holds model.safetensors (HF tensor names, F32), config.json,
onnx/model.onnx (fp32), onnx/model_quantized.onnx (dynamic int8 MatMuls),
the bert-base-uncased tokenizer files and reference.json (inputs and outputs
of the plain-torch module, used by check_numerics.mjs).

Needs only Debian's python3-torch, python3-numpy and python3-onnx.
Usage: /usr/bin/python3 make_model.py [OUT] [--tokenizer-dir DIR]

Provenance: copy of shared/bench/peer/make_model.py (md5 0fab7af22bee4c510ba92c9875d5181a), the
script that builds the models the transformers.js peer benchmark runs, so that sentence-wasm's
bench/ needs nothing from ../shared at run time. Only the two tokenizer paths differ (they point at
this repository's tests/fixtures); the weights, files and checks are the same, and with the same
tokenizer source the output is the same as the peer's.
"""
import argparse
import hashlib
import json
import math
import os
import shutil
import struct
import sys
import unicodedata

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
# sentence-wasm copy: the tokenizer files in this repository (the peer used shared/models/...)
DEFAULT_TOK_DIR = os.path.join(HERE, "..", "tests", "fixtures", "models", "sentence-transformers__all-MiniLM-L6-v2")
FALLBACK_VOCAB = os.path.join(HERE, "..", "tests", "fixtures", "st-mean", "vocab.txt")  # peer: vocab.txt beside the script
VOCAB_MD5 = "64800d5d8528ce344256daf115d4965e"  # bert-base-uncased vocab.txt

CFG = dict(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
           intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
           layer_norm_eps=1e-12, pad_token_id=0)

EMBED_CONFIG = {
    "_name_or_path": "nreimers/MiniLM-L6-H384-uncased",
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 384,
    "initializer_range": 0.02,
    "intermediate_size": 1536,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 6,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "transformers_version": "4.8.2",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 30522,
}
RERANK_CONFIG = dict(EMBED_CONFIG, **{
    "_name_or_path": "cross-encoder/ms-marco-MiniLM-L-6-v2",
    "architectures": ["BertForSequenceClassification"],
    "id2label": {"0": "LABEL_0"},
    "label2id": {"LABEL_0": 0},
    "sbert_ce_default_activation_function": "torch.nn.modules.linear.Identity",
})
RERANK_CONFIG = {k: RERANK_CONFIG[k] for k in sorted(RERANK_CONFIG)}

TOKENIZER_CONFIG = {
    "do_lower_case": True, "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
    "cls_token": "[CLS]", "mask_token": "[MASK]", "tokenize_chinese_chars": True,
    "strip_accents": None, "model_max_length": 512, "do_basic_tokenize": True,
    "never_split": None, "tokenizer_class": "BertTokenizer",
}
SPECIAL_TOKENS_MAP = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
                      "cls_token": "[CLS]", "mask_token": "[MASK]"}

SANITY_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map sentences to vectors; similar meaning gives nearby vectors!",
    "Unbelievably, tokenization splits rare words into word-pieces.",
]
SANITY_PAIRS = [
    ["how do vaccines work", "Vaccines train the immune system to recognise a pathogen without causing disease."],
    ["how do vaccines work", "The Eiffel Tower was completed in 1889 for the World's Fair."],
]


# ----------------------------------------------------------------- weights
def hf_tensor_shapes(prefix=""):
    H, I, V = CFG["hidden_size"], CFG["intermediate_size"], CFG["vocab_size"]
    shapes = [
        ("embeddings.word_embeddings.weight", (V, H)),
        ("embeddings.position_embeddings.weight", (CFG["max_position_embeddings"], H)),
        ("embeddings.token_type_embeddings.weight", (CFG["type_vocab_size"], H)),
        ("embeddings.LayerNorm.weight", (H,)),
        ("embeddings.LayerNorm.bias", (H,)),
    ]
    for n in range(CFG["num_hidden_layers"]):
        p = f"encoder.layer.{n}."
        for lin, (o, i) in [("attention.self.query", (H, H)), ("attention.self.key", (H, H)),
                            ("attention.self.value", (H, H)), ("attention.output.dense", (H, H)),
                            ("intermediate.dense", (I, H)), ("output.dense", (H, I))]:
            shapes += [(p + lin + ".weight", (o, i)), (p + lin + ".bias", (o,))]
            if lin == "attention.output.dense":
                shapes += [(p + "attention.output.LayerNorm.weight", (H,)),
                           (p + "attention.output.LayerNorm.bias", (H,))]
        shapes += [(p + "output.LayerNorm.weight", (H,)), (p + "output.LayerNorm.bias", (H,))]
    shapes += [("pooler.dense.weight", (H, H)), ("pooler.dense.bias", (H,))]
    return [(prefix + k, s) for k, s in shapes]


def make_weights(seed, classifier):
    """HF-style init (normal std 0.02, padding row zeroed) with perturbed LayerNorms and
    small non-zero Linear biases, so that a missing scale/shift/bias changes the output."""
    rs = np.random.RandomState(seed)
    prefix = "bert." if classifier else ""
    shapes = hf_tensor_shapes(prefix)
    if classifier:
        shapes += [("classifier.weight", (1, CFG["hidden_size"])), ("classifier.bias", (1,))]
    out = {}
    for name, shape in shapes:
        if "LayerNorm.weight" in name:
            w = 1.0 + 0.05 * rs.standard_normal(shape)
        elif "LayerNorm.bias" in name:
            w = 0.02 * rs.standard_normal(shape)
        elif name.endswith(".bias"):
            w = 0.02 * rs.standard_normal(shape)
        else:
            w = 0.02 * rs.standard_normal(shape)
            if name.endswith("word_embeddings.weight"):
                w[CFG["pad_token_id"]] = 0.0
        out[name] = w.astype(np.float32)
    return out


def write_safetensors(path, tensors):
    """Minimal safetensors writer: u64 LE header length, JSON header, raw LE data."""
    header, offset, names = {}, 0, sorted(tensors)
    for n in names:
        nbytes = tensors[n].nbytes
        header[n] = {"dtype": "F32", "shape": list(tensors[n].shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for n in names:
            f.write(np.ascontiguousarray(tensors[n], dtype="<f4").tobytes())


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4").reshape(v["shape"])
            for k, v in header.items()}


# ----------------------------------------------------------------- plain torch BERT
class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        H = CFG["hidden_size"]
        self.word_embeddings = nn.Embedding(CFG["vocab_size"], H)
        self.position_embeddings = nn.Embedding(CFG["max_position_embeddings"], H)
        self.token_type_embeddings = nn.Embedding(CFG["type_vocab_size"], H)
        self.LayerNorm = nn.LayerNorm(H, eps=CFG["layer_norm_eps"])

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        pos = self.position_embeddings.weight[:seq].unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids) + pos
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        H = CFG["hidden_size"]
        self.query, self.key, self.value = nn.Linear(H, H), nn.Linear(H, H), nn.Linear(H, H)

    def forward(self, x, mask_bias):
        B, S, H = x.shape
        nh = CFG["num_attention_heads"]
        hd = CFG["hidden_size"] // nh

        def heads(t):
            return t.view(B, S, nh, hd).permute(0, 2, 1, 3)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd) + mask_bias
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v)
        return ctx.permute(0, 2, 1, 3).reshape(B, S, H)


class DenseLN(nn.Module):  # "attention.output" and "output": dense, residual, post-LN
    def __init__(self, din):
        super().__init__()
        H = CFG["hidden_size"]
        self.dense = nn.Linear(din, H)
        self.LayerNorm = nn.LayerNorm(H, eps=CFG["layer_norm_eps"])

    def forward(self, h, residual):
        return self.LayerNorm(self.dense(h) + residual)


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.self = SelfAttention()
        self.output = DenseLN(CFG["hidden_size"])

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(CFG["hidden_size"], CFG["intermediate_size"])

    def forward(self, x):
        return nn.functional.gelu(self.dense(x))  # exact (erf) GELU


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attention = Attention()
        self.intermediate = Intermediate()
        self.output = DenseLN(CFG["intermediate_size"])

    def forward(self, x, mask_bias):
        a = self.attention(x, mask_bias)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.ModuleList([Layer() for _ in range(CFG["num_hidden_layers"])])

    def forward(self, x, mask_bias):
        for layer in self.layer:
            x = layer(x, mask_bias)
        return x


class Pooler(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense = nn.Linear(CFG["hidden_size"], CFG["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings, self.encoder, self.pooler = Embeddings(), Encoder(), Pooler()

    def forward(self, input_ids, attention_mask, token_type_ids):
        m = attention_mask[:, None, None, :].to(torch.float32)
        mask_bias = (1.0 - m) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(input_ids, token_type_ids), mask_bias)


class BertForSequenceClassification(nn.Module):
    def __init__(self):
        super().__init__()
        self.bert = BertModel()
        self.classifier = nn.Linear(CFG["hidden_size"], 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        h = self.bert(input_ids, attention_mask, token_type_ids)
        return self.classifier(self.bert.pooler(h))


# ----------------------------------------------------------------- numpy cross-check
def np_forward(W, ids, mask, tt, prefix=""):
    g = lambda n: W[prefix + n].astype(np.float64)
    H, nh = CFG["hidden_size"], CFG["num_attention_heads"]
    hd = H // nh
    eps = CFG["layer_norm_eps"]

    def ln(x, n):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * g(n + ".weight") + g(n + ".bias")

    def lin(x, n):
        return x @ g(n + ".weight").T + g(n + ".bias")

    erf = np.vectorize(math.erf)
    S = len(ids)
    x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[:S] \
        + g("embeddings.token_type_embeddings.weight")[tt]
    x = ln(x, "embeddings.LayerNorm")
    bias = np.where(np.asarray(mask) > 0, 0.0, -1e30)
    for n in range(CFG["num_hidden_layers"]):
        p = f"encoder.layer.{n}."
        q, k, v = (lin(x, p + "attention.self." + t).reshape(S, nh, hd).transpose(1, 0, 2)
                   for t in ("query", "key", "value"))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(S, H)
        a = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(a, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + erf(h / math.sqrt(2.0)))
        x = ln(lin(h, p + "output.dense") + a, p + "output.LayerNorm")
    return x


# ----------------------------------------------------------------- tokenizer (bert-base-uncased)
def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        toks = f.read().split("\n")
    if toks and toks[-1] == "":
        toks.pop()
    return toks


def basic_tokenize(text):
    text = "".join(" " if unicodedata.category(c) in ("Zs",) or c in "\t\n\r" else c for c in text
                   if not (ord(c) == 0 or ord(c) == 0xFFFD or (unicodedata.category(c).startswith("C") and c not in "\t\n\r")))
    text = unicodedata.normalize("NFD", text.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    out = []
    for word in text.split():
        cur = ""
        for c in word:
            cp = ord(c)
            punct = (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126) \
                or unicodedata.category(c).startswith("P")
            if punct:
                if cur:
                    out.append(cur)
                out.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            out.append(cur)
    return out


def wordpiece(words, vocab):
    ids = []
    for w in words:
        if len(w) > 100:
            ids.append(vocab["[UNK]"])
            continue
        start, pieces = 0, []
        while start < len(w):
            end, found = len(w), None
            while start < end:
                sub = ("##" if start > 0 else "") + w[start:end]
                if sub in vocab:
                    found = vocab[sub]
                    break
                end -= 1
            if found is None:
                pieces = [vocab["[UNK]"]]
                break
            pieces.append(found)
            start = end
        ids += pieces
    return ids


def encode(text, vocab, pair=None):
    a = [101] + wordpiece(basic_tokenize(text), vocab) + [102]
    if pair is None:
        return a, [0] * len(a)
    b = wordpiece(basic_tokenize(pair), vocab) + [102]
    return a + b, [0] * len(a) + [1] * len(b)


def tokenizer_json(tokens):
    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in special.items()],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(tokens)}},
    }


def find_tokenizer_source(tok_dir):
    """Return (dir_with_real_tokenizer_files or None, vocab_path)."""
    for d in [tok_dir] if tok_dir else [DEFAULT_TOK_DIR]:
        if os.path.isfile(os.path.join(d, "vocab.txt")):
            return (d if os.path.isfile(os.path.join(d, "tokenizer.json")) else None), os.path.join(d, "vocab.txt")
    return None, FALLBACK_VOCAB


def write_tokenizer(dst, tok_src, vocab_path):
    with open(vocab_path, "rb") as f:
        md5 = hashlib.md5(f.read()).hexdigest()
    if md5 != VOCAB_MD5:
        sys.exit(f"{vocab_path}: md5 {md5} is not bert-base-uncased's vocab.txt ({VOCAB_MD5})")
    shutil.copy(vocab_path, os.path.join(dst, "vocab.txt"))
    if tok_src:
        with open(os.path.join(tok_src, "tokenizer.json"), encoding="utf-8") as f:
            real = json.load(f)
        if real["model"]["vocab"] != {t: i for i, t in enumerate(load_vocab(vocab_path))}:
            sys.exit(f"{tok_src}/tokenizer.json: vocab differs from vocab.txt")
        shutil.copy(os.path.join(tok_src, "tokenizer.json"), os.path.join(dst, "tokenizer.json"))
        src = "copied from " + tok_src
    else:
        with open(os.path.join(dst, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_json(load_vocab(vocab_path)), f, ensure_ascii=False)
        src = "generated from " + vocab_path
    for name, obj in [("tokenizer_config.json", TOKENIZER_CONFIG), ("special_tokens_map.json", SPECIAL_TOKENS_MAP)]:
        if tok_src and os.path.isfile(os.path.join(tok_src, name)):
            shutil.copy(os.path.join(tok_src, name), os.path.join(dst, name))
        else:
            dump(os.path.join(dst, name), obj)
    return src


def dump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


# ----------------------------------------------------------------- int8 dynamic quantization
def quantize_dynamic_matmuls(src, dst):
    """Weight MatMuls -> DynamicQuantizeLinear + MatMulInteger (u8 x s8, per-tensor symmetric
    weights) + Cast + Mul, the pattern onnxruntime's quantize_dynamic emits. Activation x
    activation MatMuls (attention) and the embedding tables stay fp32."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    m = onnx.load(src)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    new_nodes, used_as_w, n_q = [], set(), 0
    for node in g.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        scale = max(float(np.abs(w).max()), 1e-12) / 127.0
        wq = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        base = f"q{n_q}"
        n_q += 1
        used_as_w.add(node.input[1])
        g.initializer.extend([
            numpy_helper.from_array(wq, base + "_W_quantized"),
            numpy_helper.from_array(np.array(scale, np.float32), base + "_W_scale"),
            numpy_helper.from_array(np.array(0, np.int8), base + "_W_zero_point"),
        ])
        x = node.input[0]
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [base + "_x_q", base + "_x_scale", base + "_x_zp"]),
            helper.make_node("MatMulInteger", [base + "_x_q", base + "_W_quantized", base + "_x_zp", base + "_W_zero_point"],
                             [base + "_i32"]),
            helper.make_node("Cast", [base + "_i32"], [base + "_f32"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [base + "_x_scale", base + "_W_scale"], [base + "_scale"]),
            helper.make_node("Mul", [base + "_f32", base + "_scale"], [node.output[0]]),
        ]
    keep = [i for i in g.initializer if i.name not in used_as_w]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(new_nodes)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    return n_q


# ----------------------------------------------------------------- main
def build(kind, out_dir, seed, tok_src, vocab_path, vocab):
    classifier = kind == "rerank"
    d = os.path.join(out_dir, kind)
    os.makedirs(os.path.join(d, "onnx"), exist_ok=True)
    W = make_weights(seed, classifier)
    write_safetensors(os.path.join(d, "model.safetensors"), W)
    W2 = read_safetensors(os.path.join(d, "model.safetensors"))
    assert set(W2) == set(W) and all(np.array_equal(W[k], W2[k]) for k in W), "safetensors round trip"

    model = BertForSequenceClassification() if classifier else BertModel()
    sd = model.state_dict()
    assert set(sd) == set(W2), f"name mismatch: {set(sd) ^ set(W2)}"
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in W2.items()}, strict=True)
    model.eval()
    dump(os.path.join(d, "config.json"), RERANK_CONFIG if classifier else EMBED_CONFIG)
    tsrc = write_tokenizer(d, tok_src, vocab_path)
    if not classifier:
        dump(os.path.join(d, "modules.json"), [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])
        dump(os.path.join(d, "sentence_bert_config.json"), {"max_seq_length": 256, "do_lower_case": False})
        os.makedirs(os.path.join(d, "1_Pooling"), exist_ok=True)
        dump(os.path.join(d, "1_Pooling", "config.json"), {
            "word_embedding_dimension": 384, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False})

    # export
    onnx_path = os.path.join(d, "onnx", "model.onnx")
    ex = (torch.tensor([[101, 7592, 2088, 102]]), torch.ones(1, 4, dtype=torch.int64), torch.zeros(1, 4, dtype=torch.int64))
    out_name = "logits" if classifier else "last_hidden_state"
    dyn = {"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"},
           "token_type_ids": {0: "batch_size", 1: "sequence_length"},
           out_name: {0: "batch_size"} if classifier else {0: "batch_size", 1: "sequence_length"}}
    with torch.no_grad():
        torch.onnx.export(model, ex, onnx_path, input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=[out_name], dynamic_axes=dyn, opset_version=14, do_constant_folding=True)
    n_q = quantize_dynamic_matmuls(onnx_path, os.path.join(d, "onnx", "model_quantized.onnx"))

    # reference inputs/outputs (padded batch, so masking is exercised)
    if classifier:
        encs = [encode(q, vocab, p) for q, p in SANITY_PAIRS]
        texts = SANITY_PAIRS
    else:
        encs = [encode(s, vocab) for s in SANITY_SENTENCES] + [([101, 102], [0, 0])]
        texts = SANITY_SENTENCES + [""]
    S = max(len(e[0]) for e in encs)
    ids = torch.tensor([e[0] + [0] * (S - len(e[0])) for e in encs])
    tt = torch.tensor([e[1] + [0] * (S - len(e[1])) for e in encs])
    mask = torch.tensor([[1] * len(e[0]) + [0] * (S - len(e[0])) for e in encs])
    with torch.no_grad():
        y = model(ids, mask, tt)
        hidden = model.bert(ids, mask, tt) if classifier else y
    # cross-check torch module with an independent float64 numpy forward (first row, unpadded)
    prefix = "bert." if classifier else ""
    n0 = len(encs[0][0])
    ref = np_forward(W2, encs[0][0], [1] * n0, encs[0][1], prefix)
    np_diff = float(np.abs(hidden[0, :n0].numpy() - ref).max())
    assert np_diff < 1e-4, f"torch vs numpy max abs diff {np_diff}"
    reference = {"texts": texts, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                 "token_type_ids": tt.tolist(), "output_name": out_name}
    if classifier:
        reference["logits"] = y[:, 0].tolist()
    else:
        m = mask[..., None].float()
        pooled = (y * m).sum(1) / m.sum(1)
        reference["last_hidden_state"] = y.tolist()
        reference["sentence_embedding"] = nn.functional.normalize(pooled, dim=-1).tolist()
    with open(os.path.join(d, "reference.json"), "w") as f:
        json.dump(reference, f)
    print(f"{kind}: {d}  tensors={len(W2)}  torch-vs-numpy max|diff|={np_diff:.2e}  "
          f"int8 MatMuls={n_q}  tokenizer {tsrc}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default="/tmp/peer-model")
    ap.add_argument("--tokenizer-dir", default=None,
                    help="folder with bert-base-uncased vocab.txt (and tokenizer.json), default: the repository's "
                         "all-MiniLM-L6-v2 folder; without vocab.txt there, tokenizer.json is generated from "
                         "tests/fixtures/st-mean/vocab.txt")
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    tok_src, vocab_path = find_tokenizer_source(a.tokenizer_dir)
    vocab = {t: i for i, t in enumerate(load_vocab(vocab_path))}
    build("embed", a.out, a.seed, tok_src, vocab_path, vocab)
    build("rerank", a.out, a.seed + 1, tok_src, vocab_path, vocab)


if __name__ == "__main__":
    main()
