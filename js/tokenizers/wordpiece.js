/**
 * @file The WordPiece model: one pre-tokenized word -> vocabulary ids.
 *
 * Greedy longest-match-first, as in the Rust `tokenizers` WordPiece: from the
 * current start take the longest vocabulary entry (with the
 * continuing_subword_prefix after the first piece); if some position has no
 * match, the WHOLE word becomes one unk token. A word longer than
 * max_input_chars_per_word code points is one unk token as well.
 *
 * Speed: words repeat a lot in real text, so word -> ids is cached in a
 * bounded Map (oldest entry evicted first: Map keeps insertion order).
 */

import { SentenceWasmError } from '../errors.js';

const CACHE_LIMIT = 50000;

function bad(fileName, path, what) {
  return new SentenceWasmError('BAD_TOKENIZER', `${fileName}: ${path} ${what}`);
}

/** Number of code points of `s` (s.length counts UTF-16 units). */
function codePointCount(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export class WordPiece {
  /**
   * @param {object} model     tokenizer.json `model` (type WordPiece)
   * @param {string} fileName  for error messages
   */
  constructor(model, fileName) {
    const vocab = model.vocab;
    if (vocab === undefined || vocab === null) throw bad(fileName, 'model.vocab', 'is missing');
    if (typeof vocab !== 'object' || Array.isArray(vocab)) throw bad(fileName, 'model.vocab', 'must be an object {token: id}');
    /** @type {Map<string, number>} */
    this.vocab = new Map();
    /** @type {string[]} id -> token (sparse if ids have gaps) */
    this.idToToken = [];
    let maxId = -1;
    for (const token of Object.keys(vocab)) {
      const id = vocab[token];
      if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
        throw bad(fileName, `model.vocab[${JSON.stringify(token)}]`, `must be a non-negative integer id (got ${JSON.stringify(id)})`);
      }
      this.vocab.set(token, id);
      if (this.idToToken[id] === undefined) this.idToToken[id] = token;
      if (id > maxId) maxId = id;
    }
    if (this.vocab.size === 0) throw bad(fileName, 'model.vocab', 'is empty');
    this.maxId = maxId;

    const unk = model.unk_token ?? '[UNK]';
    if (typeof unk !== 'string') throw bad(fileName, 'model.unk_token', 'must be a string');
    if (!this.vocab.has(unk)) throw bad(fileName, 'model.unk_token', `${JSON.stringify(unk)} is not in model.vocab`);
    this.unkId = this.vocab.get(unk);

    const prefix = model.continuing_subword_prefix ?? '##';
    if (typeof prefix !== 'string') throw bad(fileName, 'model.continuing_subword_prefix', 'must be a string');
    this.prefix = prefix;

    const maxChars = model.max_input_chars_per_word ?? 100;
    const MAX_CHARS_CAP = 1000;
    if (!Number.isInteger(maxChars) || maxChars < 0) {
      throw bad(fileName, 'model.max_input_chars_per_word', `must be a non-negative integer (got ${JSON.stringify(maxChars)})`);
    }
    // Greedy longest-match is quadratic in the word length: a hostile
    // tokenizer.json with a huge limit would make one long word take minutes.
    // Real models use 100; words past MAX_CHARS_CAP become [UNK] as usual.
    this.maxChars = Math.min(maxChars, MAX_CHARS_CAP);

    /** @type {Map<string, number[]>} */
    this.cache = new Map();
  }

  /**
   * Appends the ids of one word to `out`.
   * @param {string} word  non-empty, well-formed UTF-16
   * @param {number[]} out
   */
  encodeWord(word, out) {
    let ids = this.cache.get(word);
    if (ids === undefined) {
      ids = this._split(word);
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value);
      this.cache.set(word, ids);
    }
    for (let i = 0; i < ids.length; i++) out.push(ids[i]);
  }

  /** @param {string} word @returns {number[]} */
  _split(word) {
    // UTF-16 length is an upper bound of the code point count: count only if needed.
    if (word.length > this.maxChars && codePointCount(word) > this.maxChars) return [this.unkId];
    const vocab = this.vocab;
    const ids = [];
    const n = word.length;
    let start = 0;
    while (start < n) {
      let end = n;
      let found = -1;
      while (end > start) {
        const piece = start === 0 ? word.slice(0, end) : this.prefix + word.slice(start, end);
        const id = vocab.get(piece);
        if (id !== undefined) { found = id; break; }
        // Step back one code point, never splitting a surrogate pair.
        const c = word.charCodeAt(end - 1);
        end -= (c >= 0xdc00 && c <= 0xdfff && end - 2 >= start
          && (word.charCodeAt(end - 2) & 0xfc00) === 0xd800) ? 2 : 1;
      }
      if (found < 0) return [this.unkId];
      ids.push(found);
      start = end;
    }
    return ids;
  }
}
