/**
 * @file Public entry of the tokenizer: `loadTokenizer(tokenizerJson)` builds a
 * BERT-family WordPiece `Tokenizer` from a parsed tokenizer.json, and
 * `pyStrip` is Python's `str.strip()`.
 *
 * Pipeline per text, as in the Rust `tokenizers` crate (what
 * sentence-transformers uses through transformers' fast tokenizers):
 *   lone surrogates -> U+FFFD, added tokens cut out (raw, then normalized),
 *   normalizer, pre-tokenizer, WordPiece, truncation (longest_first, content
 *   tokens only), post-processor (special tokens, type ids).
 * tokenizer.json's own "truncation" and "padding" sections are ignored on
 * purpose: sentence-transformers overrides them on every call.
 */

import { SentenceWasmError } from '../errors.js';
import { AddedTokens } from './added_tokens.js';
import { buildNormalizer } from './normalizers.js';
import { buildPostProcessor } from './post_processors.js';
import { buildPreTokenizer } from './pre_tokenizers.js';
import { longestFirstPair } from './truncation.js';
import { pyStrip, toWellFormed, RUST_WS, CJK } from './unicode.js';
import { WordPiece } from './wordpiece.js';

export { pyStrip };

// Fast tokenizer classes whose transformers __init__ rewrites a top-level
// BertNormalizer from tokenizer_config.json (do_lower_case, strip_accents,
// tokenize_chinese_chars). transformers v5 builds the normalizer from the
// same keys, so honouring them matches both.
const BERT_LIKE_CLASS = /^(Bert|DistilBert|MPNet|Electra)Tokenizer(Fast)?$/;

/**
 * Applies tokenizer_config.json's explicit normalizer settings the way
 * transformers does: only if a stated value differs from tokenizer.json, and
 * then all three are taken from the config (transformers' defaults for the
 * keys it does not state).
 */
function normalizerWithConfig(normalizer, tokenizerConfig) {
  if (!normalizer || normalizer.type !== 'BertNormalizer') return normalizer;
  if (!tokenizerConfig || typeof tokenizerConfig !== 'object') return normalizer;
  if (!BERT_LIKE_CLASS.test(String(tokenizerConfig.tokenizer_class ?? ''))) return normalizer;
  const want = {
    lowercase: tokenizerConfig.do_lower_case,
    strip_accents: tokenizerConfig.strip_accents,
    handle_chinese_chars: tokenizerConfig.tokenize_chinese_chars,
  };
  const current = {
    lowercase: normalizer.lowercase ?? true,
    strip_accents: normalizer.strip_accents ?? null,
    handle_chinese_chars: normalizer.handle_chinese_chars ?? true,
  };
  const differs = Object.keys(want).some((k) => want[k] !== undefined && (want[k] ?? null) !== current[k]);
  if (!differs) return normalizer;
  return {
    ...normalizer,
    lowercase: typeof want.lowercase === 'boolean' ? want.lowercase : true,
    strip_accents: typeof want.strip_accents === 'boolean' ? want.strip_accents : null,
    handle_chinese_chars: typeof want.handle_chinese_chars === 'boolean' ? want.handle_chinese_chars : true,
  };
}

// ---- early stop for long texts ----
// A single text is cut to maxLength tokens, so a 10 MB text need not be
// normalized and split whole. The tokens before a cut are the same as in the
// whole text when the cut is at a character every stage treats as a hard
// boundary: ASCII whitespace (for normalizers that map characters on their
// own -- or NFx, where such a character starts a new segment -- and
// pre-tokenizers that split at whitespace), a CJK ideograph when
// BertNormalizer pads those with spaces, an ASCII punctuation mark when
// BertPreTokenizer isolates it; and no added token contains that character
// or looks at its neighbours (single_word). For such tokenizers a long text is
// tokenized by growing prefixes cut there until one yields enough tokens; for
// any other, token production stops once enough ids exist (the text is still
// normalized whole).

const LOCAL_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'NFD', 'NFC', 'NFKD', 'NFKC', 'StripAccents']);
const WS_SPLITTERS = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit']);
const LOCAL_PRE_TOKENIZERS = new Set([...WS_SPLITTERS, 'Punctuation', 'Digits']);
const ASCII_PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const HAS_WS_RE = new RegExp(`[${RUST_WS}]`);
const HAS_CJK_RE = new RegExp(`[${CJK}]`, 'u');

function localNormalizer(cfg) {
  if (cfg === null || cfg === undefined) return true;
  if (cfg.type === 'Sequence') return Array.isArray(cfg.normalizers) && cfg.normalizers.every(localNormalizer);
  return LOCAL_NORMALIZERS.has(cfg.type);
}

function splitsAtWhitespace(cfg) {
  if (!cfg) return false;
  if (cfg.type !== 'Sequence') return WS_SPLITTERS.has(cfg.type);
  const steps = Array.isArray(cfg.pretokenizers) ? cfg.pretokenizers : [];
  return steps.every((p) => p && LOCAL_PRE_TOKENIZERS.has(p.type)) && steps.some((p) => WS_SPLITTERS.has(p.type));
}

/** The characters a long text may be cut before (a global RegExp), or null: never cut. */
function cutPattern(normalizerCfg, preTokenizerCfg, added) {
  if (!localNormalizer(normalizerCfg) || !splitsAtWhitespace(preTokenizerCfg)) return null;
  const patterns = [];
  let singleWord = false;
  for (const set of [added.raw, added.norm]) {
    for (const [pattern, tok] of set.byPattern) {
      patterns.push(pattern);
      singleWord ||= tok.single_word;
    }
  }
  if (patterns.some((p) => HAS_WS_RE.test(p))) return null;
  let chars = ' \\t\\n\\r';
  if (!singleWord && normalizerCfg && normalizerCfg.type === 'BertNormalizer' && normalizerCfg.handle_chinese_chars !== false
    && !patterns.some((p) => HAS_CJK_RE.test(p))) {
    chars += CJK;
  }
  if (!singleWord && preTokenizerCfg.type === 'BertPreTokenizer') {
    for (const c of ASCII_PUNCT) if (!patterns.some((p) => p.includes(c))) chars += c.replace(/[\\\]\[^-]/, '\\$&');
  }
  return new RegExp(`[${chars}]`, 'gu');
}

function invalid(message) {
  return new SentenceWasmError('INVALID_INPUT', message);
}

function checkText(text, what) {
  if (typeof text !== 'string') {
    throw invalid(`${what} must be a string (got ${text === null ? 'null' : typeof text})`);
  }
}

function checkMaxLength(maxLength) {
  if (maxLength === undefined || maxLength === null || maxLength === Infinity) return Infinity;
  if (!Number.isInteger(maxLength) || maxLength < 0) {
    throw invalid(`maxLength must be a non-negative integer or Infinity (got ${String(maxLength)})`);
  }
  return maxLength;
}

export class Tokenizer {
  /** @private use loadTokenizer() */
  constructor({ model, normalize, preTokenize, added, post, cut = null }) {
    this._model = model;
    this._cut = cut;
    this._normalize = normalize;
    this._preTokenize = preTokenize;
    this._added = added;
    this._hasAdded = added.byContent.size > 0;
    this._post = post;
    /** Number of ids: max id (vocab, added tokens) + 1. */
    this.vocabSize = Math.max(model.maxId, added.maxId) + 1;
  }

  /**
   * Content ids of one text (no special tokens, no truncation). With a
   * `limit`, production stops once that many ids exist: the first `limit`
   * are exact, the rest are cut by the caller.
   */
  _content(text, limit = Infinity) {
    text = toWellFormed(text);
    const ids = [];
    const model = this._model;
    const preTokenize = this._preTokenize;
    const onText = (t) => {
      if (ids.length >= limit) return;
      const words = preTokenize(t);
      for (let i = 0; i < words.length && ids.length < limit; i++) model.encodeWord(words[i], ids);
    };
    if (this._hasAdded) {
      this._added.forEach(text, onText, (id) => { if (ids.length < limit) ids.push(id); });
    } else {
      onText(this._normalize ? this._normalize(text) : text);
    }
    return ids;
  }

  /** At least the first `limit` content ids of `text` (all of them if fewer), reading a long text by prefixes. */
  _contentUpTo(text, limit) {
    const cut = this._cut;
    if (limit !== Infinity && cut !== null) {
      let want = Math.max(1024, limit * 8);
      while (want < text.length) {
        cut.lastIndex = want;
        const m = cut.exec(text);
        if (m === null) break;
        const ids = this._content(text.slice(0, m.index), limit);
        if (ids.length >= limit) return ids;
        want = m.index * 4;
      }
    }
    return this._content(text, limit);
  }

  /** Special tokens the post-processor adds to a single text or a pair. */
  numSpecialTokens(pair) {
    return this._post.numSpecial(Boolean(pair));
  }

  /**
   * @param {string} text
   * @param {{ maxLength?: number, addSpecialTokens?: boolean }} [opts]
   * @returns {{ ids: Int32Array, typeIds: Int32Array }}
   */
  encode(text, { maxLength = Infinity, addSpecialTokens = true } = {}) {
    checkText(text, 'text');
    const max = checkMaxLength(maxLength);
    const nSpecial = addSpecialTokens ? this._post.numSpecial(false) : 0;
    let budget = Infinity;
    if (max !== Infinity) {
      budget = max - nSpecial;
      if (budget < 0) throw invalid(`maxLength ${max} is smaller than the ${nSpecial} special tokens`);
    }
    const ids = this._contentUpTo(text, budget);
    if (ids.length > budget) ids.length = budget;
    if (addSpecialTokens) return this._post.single(ids);
    return { ids: Int32Array.from(ids), typeIds: new Int32Array(ids.length) };
  }

  /**
   * A (first, second) pair, e.g. (query, passage) for a cross-encoder.
   * @param {string} a
   * @param {string} b
   * @param {{ maxLength?: number }} [opts]
   */
  encodePair(a, b, { maxLength = Infinity } = {}) {
    checkText(a, 'first text of the pair');
    checkText(b, 'second text of the pair');
    const max = checkMaxLength(maxLength);
    let idsA = this._content(a);
    let idsB = this._content(b);
    if (max !== Infinity) {
      const nSpecial = this._post.numSpecial(true);
      const budget = max - nSpecial;
      if (budget < 0) throw invalid(`maxLength ${max} is smaller than the ${nSpecial} special tokens`);
      const [keepA, keepB] = longestFirstPair(idsA.length, idsB.length, budget);
      idsA.length = keepA;
      idsB.length = keepB;
    }
    return this._post.pair(idsA, idsB);
  }

  /** @param {number} id @returns {string|undefined} */
  idToToken(id) {
    return this._added.byId.get(id) ?? this._model.idToToken[id];
  }

  /** @param {string} token @returns {number|undefined} */
  tokenToId(token) {
    return this._added.byContent.get(token) ?? this._model.vocab.get(token);
  }

  /**
   * Content tokens as strings (no special tokens, no truncation): for
   * debugging and tests.
   * @param {string} text
   * @returns {string[]}
   */
  tokenize(text) {
    checkText(text, 'text');
    return this._content(text).map((id) => this.idToToken(id));
  }
}

/**
 * Builds a Tokenizer from a parsed tokenizer.json (WordPiece models only).
 * @param {object} tokenizerJson
 * @param {{ tokenizerConfig?: object|null, fileName?: string }} [opts]
 * @returns {Tokenizer}
 */
export function loadTokenizer(tokenizerJson, { tokenizerConfig = null, fileName = 'tokenizer.json' } = {}) {
  const bad = (msg) => new SentenceWasmError('BAD_TOKENIZER', `${fileName}: ${msg}`);
  if (!tokenizerJson || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson)) {
    throw bad('must be a JSON object');
  }
  const modelCfg = tokenizerJson.model;
  if (!modelCfg || typeof modelCfg !== 'object') throw bad('model is missing');
  // Older files may omit model.type; a `vocab` object plus a subword prefix is WordPiece.
  const type = modelCfg.type ?? (modelCfg.continuing_subword_prefix !== undefined ? 'WordPiece' : undefined);
  if (type !== 'WordPiece') {
    throw bad(`model.type ${JSON.stringify(type)} is not supported (WordPiece only)`);
  }
  const model = new WordPiece(modelCfg, fileName);
  const normalizerCfg = normalizerWithConfig(tokenizerJson.normalizer, tokenizerConfig);
  const normalize = buildNormalizer(normalizerCfg, fileName);
  const preTokenize = buildPreTokenizer(tokenizerJson.pre_tokenizer, fileName);
  const added = new AddedTokens(tokenizerJson.added_tokens, normalize, fileName);
  const post = buildPostProcessor(tokenizerJson.post_processor, fileName);
  const tokenizer = new Tokenizer({ model, normalize, preTokenize, added, post,
    cut: cutPattern(normalizerCfg, tokenizerJson.pre_tokenizer, added) });
  for (const id of post.specialIds) {
    if (id >= tokenizer.vocabSize) {
      throw bad(`post_processor uses special token id ${id}, beyond the vocabulary (${tokenizer.vocabSize} ids)`);
    }
  }
  return tokenizer;
}
