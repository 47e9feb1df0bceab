"""Pure-Python BERT tokenizer (uncased), equivalent to the `tokenizers` pipeline in
bert-base-uncased's tokenizer.json when called with add_special_tokens=False:

  added tokens ([PAD] [UNK] [CLS] [SEP] [MASK], normalized=false) are split out of the raw text
  first and map straight to their ids; the rest goes through
  BertNormalizer(clean_text, handle_chinese_chars, strip_accents=None->follows lowercase, lowercase)
  BertPreTokenizer (split on whitespace, every punctuation char is its own word)
  WordPiece (greedy longest-match-first, '##' continuation, words longer than
             max_input_chars_per_word chars or with an unmatchable piece become [UNK]).

No dependency beyond the standard library, so the training pipeline can run on Debian's
python3 without the `tokenizers` package.
"""

import json
import re
import unicodedata

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def normalize(text):
    """BertNormalizer with clean_text, handle_chinese_chars, strip_accents, lowercase."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    text = "".join(out)
    # strip accents (NFD, drop combining marks) then lowercase, as tokenizers does
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.lower()


def pre_tokenize(text):
    """BertPreTokenizer: whitespace split, punctuation chars isolated."""
    words = []
    for chunk in text.split():
        cur = []
        for ch in chunk:
            if _is_punctuation(ch):
                if cur:
                    words.append("".join(cur))
                    cur = []
                words.append(ch)
            else:
                cur.append(ch)
        if cur:
            words.append("".join(cur))
    return words


class WordPiece:
    def __init__(self, vocab, unk="[UNK]", prefix="##", max_chars=100):
        # vocab: dict token -> id
        self.vocab = vocab
        self.unk = unk
        self.unk_id = vocab[unk]
        self.prefix = prefix
        self.max_chars = max_chars
        self.cache = {}
        specials = [s for s in SPECIALS if s in vocab]
        self.special_re = re.compile("(" + "|".join(re.escape(s) for s in specials) + ")") if specials else None

    @classmethod
    def from_tokenizer_json(cls, path):
        with open(path, encoding="utf-8") as f:
            tj = json.load(f)
        m = tj["model"]
        return cls(m["vocab"], m.get("unk_token", "[UNK]"), m.get("continuing_subword_prefix", "##"),
                   m.get("max_input_chars_per_word", 100))

    def word_ids(self, word):
        r = self.cache.get(word)
        if r is not None:
            return r
        if len(word) > self.max_chars:
            r = [self.unk_id]
        else:
            r = []
            start, n = 0, len(word)
            while start < n:
                end = n
                found = None
                while start < end:
                    sub = word[start:end]
                    if start > 0:
                        sub = self.prefix + sub
                    i = self.vocab.get(sub)
                    if i is not None:
                        found = i
                        break
                    end -= 1
                if found is None:
                    r = [self.unk_id]
                    break
                r.append(found)
                start = end
        if len(self.cache) < 2_000_000:
            self.cache[word] = r
        return r

    def encode(self, text):
        """Token ids of text, without special tokens (StaticEmbedding's add_special_tokens=False)."""
        ids = []
        parts = self.special_re.split(text) if self.special_re else [text]
        for k, part in enumerate(parts):
            if k % 2 == 1:
                ids.append(self.vocab[part])
                continue
            if not part:
                continue
            for w in pre_tokenize(normalize(part)):
                ids.extend(self.word_ids(w))
        return ids

    def tokens(self, text):
        inv = {v: k for k, v in self.vocab.items()}
        return [inv[i] for i in self.encode(text)]
