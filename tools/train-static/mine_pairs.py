#!/usr/bin/python3
"""Mine positive text pairs (and a plain-text corpus) from the WordNet 3.0 database files.

Input : /usr/share/wordnet (Debian package wordnet-base), nothing else.
Output: OUT/pairs.tsv   kind<TAB>text_a<TAB>text_b   (one positive pair a line)
        OUT/corpus.txt  one text a line (all glosses, examples, synonym lists, verb frames) used
                        for the co-occurrence / PPMI initialisation and the token frequencies.

Everything is deterministic: files are read in a fixed order, the only randomness is a
random.Random(seed) used for sub-sampling.

Pair kinds
  lemma_def  a lemma (or "lemma, synonym, ...")         <-> its synset's definition
  def_ex     a definition                               <-> an example sentence of that synset
  ex_ex      two example sentences of one synset
  ex_sub     an example sentence                        <-> the same sentence with the lemma
                                                            replaced by a synonym
  frame_sub  a WordNet verb frame sentence with a verb  <-> the same with a synonymous verb
  syn        lemma <-> lemma of the same synset
  hyper      lemma <-> lemma of a hypernym synset; definition <-> hypernym lemma
  rel        lemma <-> lemma for similar-to / derivation / pertainym / also-see / participle
  infl       inflected form <-> lemma (WordNet .exc irregular forms and regular -s/-ed/-ing
             forms that are whole tokens of the BERT vocabulary)
"""

import argparse
import json
import os
import random
import re
import sys

POS_FILES = [("noun", "n"), ("verb", "v"), ("adj", "a"), ("adv", "r")]
SS_NUM = {"n": 1, "v": 2, "a": 3, "s": 5, "r": 4}
ADJ_MARK = re.compile(r"\((?:a|p|ip)\)$")


def clean_word(w):
    w = ADJ_MARK.sub("", w)
    return w.replace("_", " ")


def parse_data(wndir):
    """Yield synset dicts in file order."""
    synsets = {}
    order = []
    for fname, pos in POS_FILES:
        with open(os.path.join(wndir, "data." + fname), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue  # licence header
                data, _, gloss = line.partition(" | ")
                t = data.split()
                off, lexfile, ss_type = t[0], int(t[1]), t[2]
                wcnt = int(t[3], 16)
                words, lexids = [], []
                i = 4
                for _ in range(wcnt):
                    words.append(t[i])
                    lexids.append(int(t[i + 1], 16))
                    i += 2
                pcnt = int(t[i])
                i += 1
                ptrs = []
                for _ in range(pcnt):
                    sym, toff, tpos, st = t[i], t[i + 1], t[i + 2], t[i + 3]
                    ptrs.append((sym, toff + tpos.replace("s", "a"), int(st[:2], 16), int(st[2:], 16)))
                    i += 4
                frames = []
                if pos == "v" and i < len(t):
                    fcnt = int(t[i])
                    i += 1
                    for _ in range(fcnt):
                        frames.append((int(t[i + 1]), int(t[i + 2], 16)))
                        i += 3
                gloss = gloss.strip()
                examples = [e.strip() for e in re.findall(r'"([^"]+)"', gloss)]
                definition = gloss.split('"')[0].strip().rstrip(";").strip()
                key = off + pos
                synsets[key] = {
                    "key": key, "pos": pos, "ss_type": ss_type, "lexfile": lexfile,
                    "raw_words": words, "words": [clean_word(w) for w in words], "lexids": lexids,
                    "ptrs": ptrs, "frames": frames, "definition": definition,
                    "examples": [e for e in examples if len(e.split()) >= 2],
                }
                order.append(key)
    return synsets, order


def read_exc(wndir):
    pairs = []
    for fname, _ in POS_FILES:
        p = os.path.join(wndir, fname + ".exc")
        with open(p, encoding="latin-1") as f:
            for line in f:
                t = line.split()
                if len(t) >= 2:
                    for base in t[1:]:
                        pairs.append((t[0].replace("_", " "), base.replace("_", " ")))
    return pairs


def read_frames(wndir):
    sents = {}
    with open(os.path.join(wndir, "sents.vrb"), encoding="latin-1") as f:
        for line in f:
            n, _, s = line.strip().partition(" ")
            sents[int(n)] = s
    idx = {}
    with open(os.path.join(wndir, "sentidx.vrb"), encoding="latin-1") as f:
        for line in f:
            k, _, v = line.strip().partition(" ")
            idx[k] = [int(x) for x in v.split(",") if x]
    return sents, idx


def sense_key(word, ss_type, lexfile, lexid):
    return "%s%%%d:%02d:%02d::" % (word.lower(), SS_NUM[ss_type], lexfile, lexid)


def inflections(w, pos):
    """Regular inflections of a single-word lemma (candidates; filtered by the vocab later)."""
    out = []
    if pos == "n":
        if re.search(r"(s|x|z|ch|sh)$", w):
            out.append(w + "es")
        elif re.search(r"[^aeiou]y$", w):
            out.append(w[:-1] + "ies")
        else:
            out.append(w + "s")
    elif pos == "v":
        if re.search(r"(s|x|z|ch|sh)$", w):
            out.append(w + "es")
        elif re.search(r"[^aeiou]y$", w):
            out.append(w[:-1] + "ies")
        else:
            out.append(w + "s")
        if w.endswith("e"):
            out += [w + "d", w[:-1] + "ing"]
        elif re.search(r"[^aeiou]y$", w):
            out += [w[:-1] + "ied", w + "ing"]
        else:
            out += [w + "ed", w + "ing"]
            if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", w):
                out += [w + w[-1] + "ed", w + w[-1] + "ing"]
    elif pos == "a":
        if w.endswith("e"):
            out += [w + "r", w + "st"]
        elif re.search(r"[^aeiou]y$", w):
            out += [w[:-1] + "ier", w[:-1] + "iest"]
        else:
            out += [w + "er", w + "est"]
        out.append(w + "ly")
    return out


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["model"]["vocab"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wordnet", default="/usr/share/wordnet")
    ap.add_argument("--tokenizer", required=True, help="bert-base-uncased tokenizer.json (vocab filter for inflections)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--max-sub", type=int, default=3, help="synonym substitutions per example")
    args = ap.parse_args()

    rnd = random.Random(args.seed)
    vocab = load_vocab(args.tokenizer)
    synsets, order = parse_data(args.wordnet)
    exc = read_exc(args.wordnet)
    frame_sents, frame_idx = read_frames(args.wordnet)
    os.makedirs(args.out, exist_ok=True)

    pairs = []
    corpus = []

    def add(kind, a, b):
        a, b = a.strip(), b.strip()
        if a and b and a.lower() != b.lower():
            pairs.append((kind, a, b))

    for key in order:
        s = synsets[key]
        words = list(dict.fromkeys(s["words"]))
        d = s["definition"]
        exs = s["examples"]
        corpus.append(", ".join(words))
        if d:
            corpus.append(d)
        corpus.extend(exs)
        # lemma <-> definition (each lemma; plus the whole synonym list once)
        if d:
            for w in words[:4]:
                add("lemma_def", w, d)
            if len(words) > 1:
                add("lemma_def", ", ".join(words), d)
        for e in exs:
            if d:
                add("def_ex", d, e)
        for i in range(len(exs)):
            for j in range(i + 1, len(exs)):
                add("ex_ex", exs[i], exs[j])
        # synonyms
        for i in range(min(len(words), 6)):
            for j in range(i + 1, min(len(words), 6)):
                add("syn", words[i], words[j])
        # examples with the lemma replaced by a synonym (a sentence-level paraphrase)
        if len(words) > 1:
            for e in exs:
                el = e.lower()
                for w in words:
                    m = re.search(r"(?<![\w-])" + re.escape(w.lower()) + r"(?![\w-])", el)
                    if not m:
                        continue
                    others = [o for o in words if o != w]
                    rnd.shuffle(others)
                    for o in others[: args.max_sub]:
                        add("ex_sub", e, e[: m.start()] + o + e[m.end():])
                    break
        # relations
        for sym, tkey, src, tgt in s["ptrs"]:
            t = synsets.get(tkey)
            if t is None:
                continue
            if sym in ("@", "@i"):
                tw = t["words"][0]
                add("hyper", words[0], tw)
                if d:
                    add("hyper", d, tw)
            elif sym in ("&", "+", "\\", "^", "<", "$") and src > 0 and tgt > 0:
                if src <= len(s["words"]) and tgt <= len(t["words"]):
                    add("rel", s["words"][src - 1], t["words"][tgt - 1])
            elif sym == "&":
                add("rel", words[0], t["words"][0])
        # verb frames: the same frame sentence with synonymous verbs
        if s["pos"] == "v" and len(words) > 1:
            for wi, (w, raw) in enumerate(zip(s["words"], s["raw_words"])):
                k = sense_key(raw, s["ss_type"], s["lexfile"], s["lexids"][wi])
                for fn in frame_idx.get(k, [])[:2]:
                    tpl = frame_sents.get(fn)
                    if not tpl or "%s" not in tpl:
                        continue
                    corpus.append(tpl % w)
                    others = [o for o in words if o != w]
                    rnd.shuffle(others)
                    for o in others[:2]:
                        add("frame_sub", tpl % w, tpl % o)

    # inflections
    seen = set()
    for infl, base in exc:
        if (infl, base) not in seen:
            seen.add((infl, base))
            add("infl", infl, base)
    for key in order:
        s = synsets[key]
        for w in s["words"]:
            if " " in w or "-" in w or not w.isalpha() or not w.islower():
                continue
            for f in inflections(w, s["pos"]):
                if f in vocab and (f, w) not in seen:
                    seen.add((f, w))
                    add("infl", f, w)

    with open(os.path.join(args.out, "pairs.tsv"), "w", encoding="utf-8") as f:
        for kind, a, b in pairs:
            f.write("%s\t%s\t%s\n" % (kind, a.replace("\t", " "), b.replace("\t", " ")))
    with open(os.path.join(args.out, "corpus.txt"), "w", encoding="utf-8") as f:
        for line in corpus:
            f.write(line.replace("\n", " ") + "\n")
    counts = {}
    for kind, _, _ in pairs:
        counts[kind] = counts.get(kind, 0) + 1
    print(json.dumps({"synsets": len(order), "pairs": len(pairs), "corpus_lines": len(corpus), "by_kind": counts}))


if __name__ == "__main__":
    main()
