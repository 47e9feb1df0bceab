#!/usr/bin/python3
"""Train a static token-embedding matrix over the bert-base-uncased WordPiece vocabulary.

Stages (all deterministic for a fixed --seed, torch.set_num_threads(2)):
  1. tokenise corpus.txt and pairs.tsv (pure-Python WordPiece, wordpiece.py)
  2. initialise: truncated SVD of a PPMI token co-occurrence matrix over the WordNet corpus
     (tokens that never occur get a zero row, which mean+normalise then simply ignores)
  3. contrastive training of the mean-pooled embeddings on the mined pairs:
     symmetric InfoNCE / MultipleNegativesRanking loss with in-batch negatives
  4. post-processing baked into the rows (a mean of linearly transformed rows is the linearly
     transformed mean): optional SIF-style frequency weighting, removal of the dominant
     common direction(s), PCA down to --dim
Writes OUT/matrix.npy (float32 [30522, dim]) and OUT/train_log.json.
STS-B dev is only looked at (--eval-dev) to print progress and choose settings; it never
influences training.
"""

import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from wordpiece import WordPiece  # noqa: E402
from evaluate import STSEval  # noqa: E402


def log(*a):
    print("[%7.1fs]" % (time.time() - T0), *a, flush=True)


T0 = time.time()


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tokenize_lines(tok, lines, max_len):
    out = []
    for line in lines:
        ids = tok.encode(line)
        out.append(ids[:max_len])
    return out


def cooccurrence(seqs, vocab_size, window):
    rows, cols, vals = [], [], []
    for k in range(1, window + 1):
        a, b = [], []
        for s in seqs:
            if len(s) > k:
                a.append(s[:-k])
                b.append(s[k:])
        if not a:
            break
        a = np.concatenate([np.asarray(x, dtype=np.int64) for x in a])
        b = np.concatenate([np.asarray(x, dtype=np.int64) for x in b])
        w = np.full(len(a), 1.0 / k, dtype=np.float32)
        rows += [a, b]
        cols += [b, a]
        vals += [w, w]
    idx = torch.from_numpy(np.stack([np.concatenate(rows), np.concatenate(cols)]))
    val = torch.from_numpy(np.concatenate(vals)).double()
    return torch.sparse_coo_tensor(idx, val, (vocab_size, vocab_size)).coalesce()


def spmm(csr, X):
    """Sparse (CSR as rowptr/cols/vals) times dense via embedding_bag(sum, per_sample_weights)."""
    rowptr, cols, vals = csr
    return F.embedding_bag(cols, X, rowptr[:-1], mode="sum", per_sample_weights=vals)


def to_csr(rows, cols, vals, n):
    order = torch.argsort(rows * n + cols)
    rows, cols, vals = rows[order], cols[order], vals[order]
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.bincount(rows, minlength=n).cumsum(0)
    return rowptr, cols, vals


def randomized_svd(rows, cols, vals, n, k, niter, seed):
    """Halko et al. randomized SVD of a sparse n x n matrix (top k)."""
    A = to_csr(rows, cols, vals, n)
    At = to_csr(cols, rows, vals, n)
    g = torch.Generator().manual_seed(seed)
    p = k + 16
    Q = torch.linalg.qr(spmm(A, torch.randn(n, p, generator=g)))[0]
    for _ in range(niter):
        Q = torch.linalg.qr(spmm(At, Q))[0]
        Q = torch.linalg.qr(spmm(A, Q))[0]
    Bt = spmm(At, Q)  # = (Q^T A)^T, n x p
    Ub, S, Vh = torch.linalg.svd(Bt.t(), full_matrices=False)
    return (Q @ Ub)[:, :k], S[:k]


def ppmi_svd(seqs, vocab_size, dim, window, alpha, shift, seed):
    C = cooccurrence(seqs, vocab_size, window)
    idx, val = C.indices(), C.values()
    row = torch.sparse.sum(C, dim=1).to_dense()
    col = torch.sparse.sum(C, dim=0).to_dense()
    cola = col.pow(alpha)
    total_a = cola.sum()
    pmi = torch.log(val) - torch.log(row[idx[0]]) - torch.log(cola[idx[1]]) + torch.log(total_a) - shift
    keep = pmi > 0
    log("PPMI nnz", int(keep.sum()), "of", len(val))
    U, S = randomized_svd(idx[0, keep], idx[1, keep], pmi[keep].float(), vocab_size, dim, 2, seed)
    E = (U * S.sqrt()).numpy().astype(np.float32)
    return E


def bag(seqs, idx):
    flat, offs = [], []
    o = 0
    for i in idx:
        s = seqs[i]
        offs.append(o)
        flat.extend(s)
        o += len(s)
    return torch.tensor(flat, dtype=torch.long), torch.tensor(offs, dtype=torch.long)


def _pack(seqs):
    lens = np.array([len(x) for x in seqs], dtype=np.int64)
    flat = np.fromiter((i for x in seqs for i in x), dtype=np.int32, count=int(lens.sum()))
    return flat, lens


def _unpack(flat, lens):
    ends = np.cumsum(lens)
    starts = ends - lens
    fl = flat.tolist()
    return [fl[a:b] for a, b in zip(starts.tolist(), ends.tolist())]


def load_tokenized(data, tok, tokenizer_path, max_len):
    """Tokenise corpus.txt / pairs.tsv once; cached in DATA/tokens.npz (keyed on input sizes)."""
    cache = os.path.join(data, "tokens.npz")
    stamp = np.array([os.path.getsize(os.path.join(data, f)) for f in ("corpus.txt", "pairs.tsv")]
                     + [os.path.getsize(tokenizer_path), max_len])
    if os.path.exists(cache):
        z = np.load(cache)
        if np.array_equal(z["stamp"], stamp):
            log("tokens from cache", cache)
            kinds = [str(k) for k in z["kind_names"]]
            return (_unpack(z["c_flat"], z["c_len"]), _unpack(z["a_flat"], z["a_len"]),
                    _unpack(z["b_flat"], z["b_len"]), [kinds[i] for i in z["kind_ids"]])
    with open(os.path.join(data, "corpus.txt"), encoding="utf-8") as f:
        corpus = [l.rstrip("\n") for l in f]
    cseqs = tokenize_lines(tok, corpus, 10 ** 6)
    A, B, K = [], [], []
    with open(os.path.join(data, "pairs.tsv"), encoding="utf-8") as f:
        for line in f:
            k, a, b = line.rstrip("\n").split("\t")
            A.append(a)
            B.append(b)
            K.append(k)
    aseq = tokenize_lines(tok, A, max_len)
    bseq = tokenize_lines(tok, B, max_len)
    keep = [i for i in range(len(A)) if aseq[i] and bseq[i] and aseq[i] != bseq[i]]
    aseq = [aseq[i] for i in keep]
    bseq = [bseq[i] for i in keep]
    K = [K[i] for i in keep]
    kinds = sorted(set(K))
    kid = {k: i for i, k in enumerate(kinds)}
    c_flat, c_len = _pack(cseqs)
    a_flat, a_len = _pack(aseq)
    b_flat, b_len = _pack(bseq)
    np.savez(cache, stamp=stamp, c_flat=c_flat, c_len=c_len, a_flat=a_flat, a_len=a_len,
             b_flat=b_flat, b_len=b_len, kind_names=np.array(kinds), kind_ids=np.array([kid[k] for k in K]))
    return cseqs, aseq, bseq, K


def sif_weights(freq, a):
    p = (freq + 1.0) / (freq.sum() + len(freq))
    return torch.from_numpy((a / (a + p)).astype(np.float32))


def init_matrix(args, V, freq, seen, cseqs):
    """PPMI-SVD (or random) initial matrix; cached in DATA/init-*.npy (same inputs -> same file)."""
    cache = os.path.join(args.data, "init-%s-%d-w%d-a%g-s%g-seed%d.npy" % (
        args.init, args.train_dim, args.window, args.alpha, args.shift, args.seed))
    if os.path.exists(cache):
        log("init from cache", cache)
        return np.load(cache)
    if args.init == "ppmi":
        E = ppmi_svd(cseqs, V, args.train_dim, args.window, args.alpha, args.shift, args.seed)
        E[freq == 0] = 0.0
    else:
        g = torch.Generator().manual_seed(args.seed)
        E = (torch.randn(V, args.train_dim, generator=g) * 0.1).numpy()
        E[(freq == 0) & ~seen] = 0.0
    # scale so that the average non-zero row norm is 1
    nz = np.linalg.norm(E, axis=1) > 0
    E /= np.linalg.norm(E[nz], axis=1).mean()
    np.save(cache, E)
    return E


def train(args, V, freq, seen, cseqs, aseq, bseq, K, kinds_w, dev, history):
    # ---- init
    E = init_matrix(args, V, freq, seen, cseqs)
    if dev:
        s = dev.score(E)
        history.append({"stage": "init", "dev": s})
        log("init dev spearman %.4f" % s)

    # ---- contrastive training
    tw = sif_weights(freq, args.train_sif) if args.train_sif > 0 else None
    emb = torch.nn.EmbeddingBag(V, args.train_dim, mode="sum" if tw is not None else "mean", sparse=True)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(E))
    n = len(K)
    # sampling multipliers per kind
    base = np.arange(n)
    if kinds_w:
        rng = np.random.RandomState(args.seed)
        parts = []
        kinds_arr = np.array(K)
        for k in sorted(set(K)):
            idx = base[kinds_arr == k]
            w = kinds_w.get(k, 1.0)
            whole = int(np.floor(w))
            parts += [idx] * whole
            frac = w - whole
            if frac > 0:
                parts.append(rng.choice(idx, int(round(frac * len(idx))), replace=False))
        base = np.sort(np.concatenate(parts))
    steps_per_epoch = len(base) // args.batch
    total = int(steps_per_epoch * args.epochs)
    opt = torch.optim.SparseAdam(list(emb.parameters()), lr=args.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 100) * max(0.0, 1 - s / total))
    rng = np.random.RandomState(args.seed + 1)
    labels = torch.arange(args.batch)
    step = 0
    log("training", total, "steps of", args.batch, "pairs; pool", len(base))
    while step < total:
        perm = base[rng.permutation(len(base))]
        for j in range(steps_per_epoch):
            if step >= total:
                break
            idx = perm[j * args.batch:(j + 1) * args.batch]
            fa, oa = bag(aseq, idx)
            fb, ob = bag(bseq, idx)
            if tw is None:
                ea = F.normalize(emb(fa, oa), dim=1)
                eb = F.normalize(emb(fb, ob), dim=1)
            else:
                ea = F.normalize(emb(fa, oa, per_sample_weights=tw[fa]), dim=1)
                eb = F.normalize(emb(fb, ob, per_sample_weights=tw[fb]), dim=1)
            logits = ea @ eb.t() / args.temp
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 500 == 0 or step == total:
                msg = "step %d/%d loss %.4f" % (step, total, loss.item())
                if dev:
                    W = emb.weight.detach().numpy()
                    s = dev.score(W if tw is None else W * tw.numpy()[:, None])
                    history.append({"stage": "train", "step": step, "dev": s})
                    msg += " dev %.4f" % s
                log(msg)
    W = emb.weight.detach().numpy().astype(np.float64)
    if tw is not None:
        W = W * tw.numpy().astype(np.float64)[:, None]  # weighted mean == mean of scaled rows
    return W


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder with pairs.tsv and corpus.txt")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--train-dim", type=int, default=256)
    ap.add_argument("--dim", type=int, default=112, help="final dimension (PCA) ")
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.75)
    ap.add_argument("--shift", type=float, default=0.0)
    ap.add_argument("--init", default="ppmi", choices=["ppmi", "random"])
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--temp", type=float, default=0.05)
    ap.add_argument("--max-len", type=int, default=48)
    ap.add_argument("--kind-weights", default="", help="e.g. hyper=0.5,syn=1 (sampling multipliers)")
    ap.add_argument("--sif", type=float, default=0.0, help="SIF a for post-hoc row scaling; 0 = off")
    ap.add_argument("--train-sif", type=float, default=0.0,
                    help="SIF a used as pooling weights during training (baked into the rows after); 0 = plain mean")
    ap.add_argument("--remove-pc", type=int, default=0)
    ap.add_argument("--pca-pow", type=float, default=1.0, help="PCA row weights (freq+1)^pow over used rows")
    ap.add_argument("--center", type=int, default=0, help="PCA: 1 = subtract the frequency-weighted mean row")
    ap.add_argument("--eval-dev", action="store_true")
    ap.add_argument("--post-only", action="store_true", help="reuse OUT/trained.npy, redo post-processing")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    seed_all(args.seed)
    os.makedirs(args.out, exist_ok=True)

    tok = WordPiece.from_tokenizer_json(args.tokenizer)
    V = len(tok.vocab)
    dev = STSEval(tok, "dev") if args.eval_dev else None
    history = []

    cseqs, aseq, bseq, K = load_tokenized(args.data, tok, args.tokenizer, args.max_len)
    freq = np.bincount(np.concatenate([np.asarray(s, dtype=np.int64) for s in cseqs if s]), minlength=V).astype(np.float64)
    log("corpus", len(cseqs), "lines", int(freq.sum()), "tokens", int((freq > 0).sum()), "types")
    log("pairs", len(K))
    kinds_w = {}
    for kv in filter(None, args.kind_weights.split(",")):
        k, v = kv.split("=")
        kinds_w[k] = float(v)
    seen = np.zeros(V, dtype=bool)
    for s in aseq:
        seen[s] = True
    for s in bseq:
        seen[s] = True

    if args.post_only:
        E = np.load(os.path.join(args.out, "trained.npy")).astype(np.float64)
    else:
        E = train(args, V, freq, seen, cseqs, aseq, bseq, K, kinds_w, dev, history)
        np.save(os.path.join(args.out, "trained.npy"), E.astype(np.float32))

    # ---- post-processing, baked into the rows
    used = (freq > 0) | seen
    E[~used] = 0.0
    p = (freq + 1.0) / (freq.sum() + V)
    if args.sif > 0:
        E *= sif_weights(freq, args.sif).numpy().astype(np.float64)[:, None]
    wts = freq / freq.sum()
    if args.remove_pc > 0:
        # principal directions of the frequency-weighted token rows (what dominates a mean)
        Xw = E * np.sqrt(wts)[:, None]
        _, _, Vt = np.linalg.svd(Xw, full_matrices=False)
        for k in range(args.remove_pc):
            u = Vt[k]
            E -= np.outer(E @ u, u)
    if args.dim < E.shape[1]:
        mu = (E * wts[:, None]).sum(0) if args.center else np.zeros(E.shape[1])
        pw = np.where(used, (freq + 1.0) ** args.pca_pow, 0.0)
        Xw = (E - mu) * np.sqrt(pw / pw.sum())[:, None]
        _, _, Vt = np.linalg.svd(Xw, full_matrices=False)
        E = (E - mu) @ Vt[: args.dim].T
        E[~used] = 0.0
    E = E.astype(np.float32)
    # scale so the largest |value| is well inside float16 range and precision is uniform
    E /= np.abs(E).max() / 4.0
    if dev:
        s = dev.score(E)
        s16 = dev.score(E.astype(np.float16).astype(np.float32))
        history.append({"stage": "final", "dev": s, "dev_f16": s16})
        log("final dev spearman %.4f (f16 %.4f)" % (s, s16))
    np.save(os.path.join(args.out, "matrix.npy"), E)
    with open(os.path.join(args.out, "train_log.json"), "w") as f:
        json.dump({"args": vars(args), "seconds": time.time() - T0, "history": history}, f, indent=1)
    log("done", E.shape)


if __name__ == "__main__":
    main()
