#!/usr/bin/python3
"""Python-side STS Benchmark evaluation of a static token-embedding matrix.

Computes exactly what sentence-transformers' StaticEmbedding + Normalize do: WordPiece ids
without special tokens, mean of the rows (EmbeddingBag mode='mean'), L2 normalisation, then
cosine between both sides and Spearman's rank correlation (average ranks for ties) with the
gold scores.

  evaluate.py MODEL_DIR [--split dev|test]   MODEL_DIR: an exported StaticEmbedding folder
  evaluate.py --npy matrix.npy [--split dev]   a training checkpoint (bert-base-uncased vocab)

Use dev for every modelling choice; run test once, at the end (build.sh does that).
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from wordpiece import WordPiece  # noqa: E402

STS_DIR = os.path.join(ROOT, "tests", "data", "stsbenchmark")
DEFAULT_TOKENIZER = os.path.join(ROOT, "tests", "fixtures", "st-mean", "tokenizer.json")


def load_sts(split, sts_dir=STS_DIR):
    """STS Benchmark csv: genre, file, year, id, score, sentence1, sentence2 [, extra fields]."""
    s1, s2, gold = [], [], []
    with open(os.path.join(sts_dir, "sts-%s.csv" % split), encoding="utf-8") as f:
        for line in f:
            t = line.rstrip("\n").split("\t")
            if len(t) < 7:
                continue
            gold.append(float(t[4]))
            s1.append(t[5])
            s2.append(t[6])
    return s1, s2, np.array(gold, dtype=np.float64)


def rankdata(x):
    """Ranks 1..n with ties given their average rank."""
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x), dtype=np.float64)
    i = 0
    n = len(x)
    while i < n:
        j = i
        while j + 1 < n and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra * ra).sum() * (rb * rb).sum()))


def embed(matrix, id_lists):
    """Mean of rows, then L2-normalise (F.normalize eps=1e-12). Empty text -> zero vector."""
    out = np.zeros((len(id_lists), matrix.shape[1]), dtype=np.float32)
    for i, ids in enumerate(id_lists):
        if ids:
            out[i] = matrix[ids].mean(axis=0)
    n = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(n, 1e-12)


class STSEval:
    """Tokenises a split once; scores any matrix over the same vocabulary."""

    def __init__(self, tokenizer, split="dev"):
        s1, s2, self.gold = load_sts(split)
        self.a = [tokenizer.encode(t) for t in s1]
        self.b = [tokenizer.encode(t) for t in s2]

    def score(self, matrix):
        ea, eb = embed(matrix, self.a), embed(matrix, self.b)
        return spearman((ea * eb).sum(axis=1), self.gold)


def read_safetensors(path):
    """Minimal safetensors reader (F16/F32/BF16) -> dict name -> float32 ndarray."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        s, e = info["data_offsets"]
        raw = blob[base + s:base + e]
        dt = info["dtype"]
        if dt == "F16":
            arr = np.frombuffer(raw, dtype="<f2").astype(np.float32)
        elif dt == "F32":
            arr = np.frombuffer(raw, dtype="<f4").copy()
        elif dt == "BF16":
            arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError("unsupported dtype " + dt)
        out[name] = arr.reshape(info["shape"])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", help="StaticEmbedding model folder (modules.json ...)")
    ap.add_argument("--npy", help="float32 matrix checkpoint instead of a folder")
    ap.add_argument("--tokenizer", default=DEFAULT_TOKENIZER, help="tokenizer.json for --npy")
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    args = ap.parse_args()
    if args.model:
        with open(os.path.join(args.model, "modules.json")) as f:
            modules = json.load(f)
        sdir = os.path.join(args.model, modules[0]["path"])
        tok = WordPiece.from_tokenizer_json(os.path.join(sdir, "tokenizer.json"))
        w = read_safetensors(os.path.join(sdir, "model.safetensors"))
        matrix = w["embedding.weight"] if "embedding.weight" in w else w["embeddings"]
    else:
        tok = WordPiece.from_tokenizer_json(args.tokenizer)
        matrix = np.load(args.npy).astype(np.float32)
    ev = STSEval(tok, args.split)
    print(json.dumps({"split": args.split, "spearman": round(ev.score(matrix), 5), "source": "python"}))


if __name__ == "__main__":
    main()
