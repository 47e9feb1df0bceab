/**
 * @file Texts to token ids as sentence-transformers prepares them for a
 * Transformer module: prompt prepended to the raw text, Python str.strip(),
 * optional lowercasing, truncation at max_seq_length keeping the last [SEP].
 */
import { SentenceWasmError } from '../errors.js';
import { pyStrip } from '../tokenizers/index.js';

/** Checks an encode() input: an array of strings. */
export function checkTexts(texts) {
  if (!Array.isArray(texts)) throw new SentenceWasmError('INVALID_INPUT', 'expected a string or an array of strings');
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') {
      throw new SentenceWasmError('INVALID_INPUT', `input ${i} is ${texts[i] === null ? 'null' : typeof texts[i]}, expected a string`);
    }
  }
}

/** The ids of the special tokens a tokenizer.json declares. */
export function specialIds(tokenizerJson) {
  const ids = new Set();
  for (const t of tokenizerJson.added_tokens || []) if (t && t.special && Number.isInteger(t.id)) ids.add(t.id);
  return ids;
}

export class TextEncoderForModel {
  /**
   * @param {import('../tokenizers/index.js').Tokenizer} tokenizer
   * @param {{ maxSeqLength?: number, doLowerCase?: boolean, addSpecialTokens?: boolean, special?: Set<number> }} opts
   */
  constructor(tokenizer, { maxSeqLength, doLowerCase = false, addSpecialTokens = true, special = new Set() }) {
    this.tokenizer = tokenizer;
    this.maxLength = maxSeqLength ?? Infinity;
    this.doLowerCase = doLowerCase;
    this.addSpecialTokens = addSpecialTokens;
    this.special = special;
  }

  /** Token ids of one text (with the prompt already prepended). */
  encode(text) {
    let s = pyStrip(text);
    if (this.doLowerCase) s = s.toLowerCase();
    return this.tokenizer.encode(s, { maxLength: this.maxLength, addSpecialTokens: this.addSpecialTokens });
  }

  /** model.tokenize(): ids as encode() computes them (no prompt), all attended. */
  tokenize(texts) {
    checkTexts(texts);
    const inputIds = texts.map((t) => this.encode(t).ids);
    return { inputIds, attentionMask: inputIds.map((ids) => new Int32Array(ids.length).fill(1)) };
  }

  /**
   * Tokens a prompt occupies at the start of every text: its ids minus the
   * closing special token, as the library computes prompt_length.
   */
  promptLength(prompt) {
    if (!prompt) return 0;
    const { ids } = this.encode(prompt);
    return ids.length > 0 && this.special.has(ids[ids.length - 1]) ? ids.length - 1 : ids.length;
  }
}
