#!/usr/bin/python3
"""Write a trained matrix as a sentence-transformers StaticEmbedding model folder.

  OUT/modules.json                          StaticEmbedding -> Normalize
  OUT/config_sentence_transformers.json     cosine, no prompts
  OUT/0_StaticEmbedding/model.safetensors   one F16 tensor "embedding.weight" [vocab, dim]
  OUT/0_StaticEmbedding/tokenizer.json      bert-base-uncased WordPiece (same ids as the rows),
                                            compact JSON, no truncation, no padding
(The Normalize module has no files; sentence-transformers does not need a 1_Normalize folder.)

The safetensors file is written by hand: 8-byte little-endian header length, the JSON header
(padded with spaces to a multiple of 8 bytes), then the raw little-endian F16 data.
"""

import argparse
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, ndarray); arrays are written in their own dtype (F16/F32)."""
    names = {np.dtype("<f2"): "F16", np.dtype("<f4"): "F32"}
    header = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    off = 0
    blobs = []
    for name, arr in sorted(tensors, key=lambda t: t[0]):
        arr = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        b = arr.tobytes()
        header[name] = {"dtype": names[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def static_tokenizer_json(src_path):
    """bert-base-uncased tokenizer.json re-serialised for StaticEmbedding: same normalizer,
    pre-tokenizer, WordPiece model and vocabulary ids, no truncation/padding state."""
    with open(src_path, encoding="utf-8") as f:
        tj = json.load(f)
    model = tj["model"]
    vocab = model["vocab"]
    out = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": tj["added_tokens"],
        "normalizer": tj["normalizer"],
        "pre_tokenizer": tj["pre_tokenizer"],
        "post_processor": tj["post_processor"],
        "decoder": tj["decoder"],
        "model": {
            "type": "WordPiece",
            "unk_token": model.get("unk_token", "[UNK]"),
            "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
            "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
        },
    }
    ids = sorted(vocab.values())
    assert ids == list(range(len(ids))), "vocabulary ids must be 0..n-1"
    return out, len(ids)


def wordnet_licence(wndir):
    """The WordNet 3.0 licence, verbatim from the header of the database files themselves."""
    lines = []
    with open(os.path.join(wndir, "data.noun"), encoding="latin-1") as f:
        for line in f:
            if not line.startswith("  "):
                break
            lines.append(line.strip().split(" ", 1)[1].rstrip() if " " in line.strip() else "")
    return "\n".join(lines).strip() + "\n"


def write_licence(out, wndir):
    text = ("This model's token-embedding matrix was trained only on text from WordNet 3.0\n"
            "(Debian package wordnet-base, /usr/share/wordnet). WordNet's licence requires the\n"
            "following notice to appear on all copies, including modifications:\n\n"
            "----------------------------------------------------------------------------\n"
            + wordnet_licence(wndir) +
            "----------------------------------------------------------------------------\n\n"
            "Citation: Princeton University \"About WordNet.\" WordNet. Princeton University. 2010.\n"
            "George A. Miller (1995). WordNet: A Lexical Database for English.\n"
            "Communications of the ACM Vol. 38, No. 11: 39-41.\n\n"
            "The tokenizer (0_StaticEmbedding/tokenizer.json) is the bert-base-uncased WordPiece\n"
            "vocabulary, Copyright 2018 Google AI Language, Apache License 2.0.\n")
    with open(os.path.join(out, "LICENSE-WordNet.txt"), "w") as f:
        f.write(text)


def folder_bytes(out):
    total = 0
    for root, _, files in os.walk(out):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    return total


def write_card(out, info):
    """models/static-en/README.md from the build's numbers (info: dict, see build.sh)."""
    dev, test = info["dev"], info["test"]
    card = CARD.format(**info, dev_s="%.4f" % dev, test_s="%.4f" % test)
    path = os.path.join(out, "README.md")
    with open(path, "w") as f:
        f.write(card)
    # the card states the folder size; rewrite once with the final figure
    for _ in range(3):
        size = folder_bytes(out)
        card2 = card.replace("@@SIZE@@", "{:,}".format(size))
        with open(path, "w") as f:
            f.write(card2)
        if folder_bytes(out) == size:
            break


CARD = """---
language: en
license: apache-2.0
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- static-embeddings
- sentence-wasm
---

# static-en: an offline static sentence-embedding model

A [sentence-transformers](https://www.sbert.net) `StaticEmbedding` model built by this
repository (`tools/train-static/`), so that sentence-wasm has a default model that needs no
download. It is the same kind of model as `sentence-transformers/static-retrieval-mrl-en-v1`
and the model2vec models: a token-embedding matrix over a WordPiece tokenizer. A text's
embedding is the mean of the rows of its tokens, L2-normalised:

    modules.json: 0_StaticEmbedding (StaticEmbedding) -> 1_Normalize (Normalize)

| | |
|---|---|
| tokenizer | bert-base-uncased WordPiece, {vocab} entries, no special tokens added |
| dimensions | {dim} |
| weights | `0_StaticEmbedding/model.safetensors`, one F16 tensor `embedding.weight` [{vocab}, {dim}] |
| folder size | @@SIZE@@ bytes |
| similarity | cosine |
| max sequence length | none (every token counts) |

## Scores (STS Benchmark, Spearman of cosine similarity)

| split | Spearman |
|---|---|
| dev (used for every choice) | {dev_s} |
| test (reported once) | {test_s} |

Computed on the F16 weights as shipped. For comparison: averaged GloVe vectors score 0.58 on
STS-B test (Reimers & Gurevych 2019, Sentence-BERT, Table 2). A static model is much weaker
than a transformer on anything that needs word order or negation; it is meant as a small,
fast, offline default.

## Use

```js
import {{ SentenceTransformer }} from 'sentence-wasm';
const model = await SentenceTransformer.load('models/static-en');
const [a, b] = await model.encode(['A man is playing a guitar.', 'Someone plays the guitar.']);
```

```python
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("models/static-en")
```

## Training data

Only WordNet 3.0 (Princeton University; Debian package `wordnet-base`), whose licence allows
use, modification and distribution with its notice (see `LICENSE-WordNet.txt`). No STS
Benchmark data, no web text, no other dictionary was used for training. {npairs:,} positive
pairs were mined from the database: lemma <-> definition, definition <-> example sentence,
example <-> example, example <-> the same example with the lemma replaced by a synonym, verb
frame sentences with synonymous verbs, synonyms, hypernyms, derivational / similar-to /
pertainym relations and inflected forms.

## Training

1. Initialisation: truncated SVD ({train_dim} dims) of the positive PMI matrix of token
   co-occurrences (window 5) over all glosses, examples and synonym lists.
2. Contrastive training of the mean-pooled embeddings with a symmetric InfoNCE
   (MultipleNegativesRanking) loss, in-batch negatives, batch {batch}, temperature {temp},
   {epochs} epochs, SparseAdam lr {lr}.
3. SIF weighting: during training the mean is weighted by a/(a+p(token)) with a = {train_sif}
   (p from WordNet token frequencies); after training these weights, and a second SIF
   scaling with a = {sif}, are multiplied into the rows (a weighted mean of rows is a plain
   mean of weighted rows, up to a scale that the normalisation removes). Then PCA to {dim}
   dimensions. Tokens never seen in WordNet have zero rows, so they do not change a text's
   direction. Stored as F16.

Rebuild: `sh tools/train-static/setup.sh && sh tools/train-static/build.sh` (deterministic,
seed {seed}; {train_minutes} min on 2 cores for the whole build).

## Licence

The model (weights and configuration) is released under the Apache License 2.0, like
sentence-wasm, with the WordNet 3.0 notice in `LICENSE-WordNet.txt`, which must accompany
all copies. WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved.
The tokenizer vocabulary is bert-base-uncased's (Google, Apache 2.0).
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--matrix", help="float32 .npy [vocab, dim]")
    ap.add_argument("--tokenizer", help="bert-base-uncased tokenizer.json (required unless --card)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    ap.add_argument("--card", help="JSON with the numbers for README.md; writes only the model card")
    args = ap.parse_args()
    if args.card:
        with open(args.card) as f:
            write_card(args.out, json.load(f))
        print(json.dumps({"card": os.path.join(args.out, "README.md"), "total_bytes": folder_bytes(args.out)}))
        return

    E = np.load(args.matrix).astype(np.float32)
    tj, nvocab = static_tokenizer_json(args.tokenizer)
    assert E.shape[0] == nvocab, (E.shape, nvocab)
    E16 = E.astype(np.float16)
    assert np.isfinite(E16).all()

    sdir = os.path.join(args.out, "0_StaticEmbedding")
    os.makedirs(sdir, exist_ok=True)
    write_safetensors(os.path.join(sdir, "model.safetensors"), [("embedding.weight", E16)])
    write_licence(args.out, args.wordnet)
    with open(os.path.join(sdir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tj, f, ensure_ascii=False, separators=(",", ":"))
    modules = [
        {"idx": 0, "name": "0", "path": "0_StaticEmbedding", "type": "sentence_transformers.models.StaticEmbedding"},
        {"idx": 1, "name": "1", "path": "1_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    with open(os.path.join(args.out, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
        f.write("\n")
    cfg = {
        "prompts": {},
        "default_prompt_name": None,
        "model_type": "SentenceTransformer",
        "similarity_fn_name": "cosine",
    }
    with open(os.path.join(args.out, "config_sentence_transformers.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    sizes = {}
    for root, _, files in os.walk(args.out):
        for fn in files:
            p = os.path.join(root, fn)
            sizes[os.path.relpath(p, args.out)] = os.path.getsize(p)
    print(json.dumps({"shape": list(E.shape), "dtype": "F16", "total_bytes": sum(sizes.values()), "files": sizes}))


if __name__ == "__main__":
    main()
