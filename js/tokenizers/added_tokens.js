/**
 * @file tokenizer.json `added_tokens`: finds them in the input text and cuts
 * the text around them, as the Rust `tokenizers` AddedVocabulary does.
 *
 * Order, as in Rust `extract_and_normalize`:
 *  1. tokens with `normalized: false` (e.g. "[SEP]", "[MASK]", "<s>") are
 *     matched in the RAW text, leftmost-longest;
 *  2. every remaining piece is normalized, then tokens with
 *     `normalized: true` are matched in the normalized piece (their pattern is
 *     their content passed through the same normalizer).
 * Flags: `single_word` keeps a match only if no word char (Rust regex `\w`)
 * touches it on either side; `lstrip` / `rstrip` let the token swallow the
 * whitespace before / after it. A rejected single_word match still consumes
 * its span (Aho-Corasick iterates non-overlapping matches), as in Rust.
 * Matched text becomes that token's id; pieces in between go on to the
 * pre-tokenizer and WordPiece.
 */

import { SentenceWasmError } from '../errors.js';
import { RUST_WORD, RUST_WS } from './unicode.js';

const WORD_AT_END_RE = new RegExp(`[${RUST_WORD}]$`, 'u');
const WORD_AT_START_RE = new RegExp(`^[${RUST_WORD}]`, 'u');
const WS_AT_END_RE = new RegExp(`[${RUST_WS}]+$`);
const WS_AT_START_RE = new RegExp(`^[${RUST_WS}]+`);

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function bad(fileName, path, what) {
  return new SentenceWasmError('BAD_TOKENIZER', `${fileName}: ${path} ${what}`);
}

/**
 * One set of patterns searched together. A regex alternation with the
 * patterns sorted longest first gives leftmost-longest matches: at the
 * leftmost position where anything matches, alternatives are tried in order.
 */
class PatternSet {
  /** @param {{pattern: string, tok: object}[]} entries */
  constructor(entries) {
    const byPattern = new Map();
    for (const e of entries) if (e.pattern && !byPattern.has(e.pattern)) byPattern.set(e.pattern, e.tok);
    this.byPattern = byPattern;
    const patterns = [...byPattern.keys()].sort((a, b) => b.length - a.length);
    this.re = patterns.length ? new RegExp(patterns.map(escapeRegExp).join('|'), 'g') : null;
  }

  /**
   * Cuts `s` into pieces; `onText(piece)` for plain text, `onToken(id)` for a match.
   * @param {string} s
   * @param {(t: string) => void} onText
   * @param {(id: number) => void} onToken
   */
  split(s, onText, onToken) {
    const re = this.re;
    if (re === null || s.length === 0) { onText(s); return; }
    re.lastIndex = 0;
    let done = 0; // end of the last accepted match
    let m;
    while ((m = re.exec(s)) !== null) {
      let start = m.index;
      let stop = start + m[0].length;
      const tok = this.byPattern.get(m[0]);
      if (tok.single_word) {
        // Rust looks at the char just before/after the match in the whole
        // piece (even if it belongs to the previous token); 2 UTF-16 units
        // always hold that whole code point.
        const leftOk = start === 0 || !WORD_AT_END_RE.test(s.slice(Math.max(0, start - 2), start));
        const rightOk = stop === s.length || !WORD_AT_START_RE.test(s.slice(stop, stop + 2));
        if (!leftOk || !rightOk) continue; // the span stays consumed (re.lastIndex)
      }
      if (tok.lstrip) {
        const ws = WS_AT_END_RE.exec(s.slice(done, start));
        if (ws) start -= ws[0].length; // never before `done`: we sliced from there
      }
      if (tok.rstrip) {
        const ws = WS_AT_START_RE.exec(s.slice(stop));
        if (ws) stop += ws[0].length;
        re.lastIndex = stop;
      }
      if (done < start) onText(s.slice(done, start));
      onToken(tok.id);
      done = stop;
    }
    if (done < s.length) onText(s.slice(done));
  }
}

export class AddedTokens {
  /**
   * @param {unknown} list  tokenizer.json `added_tokens`
   * @param {((s: string) => string) | null} normalize
   * @param {string} fileName
   */
  constructor(list, normalize, fileName) {
    if (list === undefined || list === null) list = [];
    if (!Array.isArray(list)) throw bad(fileName, 'added_tokens', 'must be an array');
    /** @type {Map<string, number>} content -> id */
    this.byContent = new Map();
    /** @type {Map<number, string>} id -> content */
    this.byId = new Map();
    this.maxId = -1;
    const raw = [];
    const norm = [];
    list.forEach((t, i) => {
      const path = `added_tokens[${i}]`;
      if (!t || typeof t !== 'object') throw bad(fileName, path, 'must be an object');
      if (!Number.isInteger(t.id) || t.id < 0 || t.id > 0x7fffffff) throw bad(fileName, `${path}.id`, `must be a non-negative integer (got ${JSON.stringify(t.id)})`);
      if (typeof t.content !== 'string') throw bad(fileName, `${path}.content`, 'must be a string');
      if (t.content === '') return; // Rust ignores empty added tokens
      const tok = {
        id: t.id,
        single_word: t.single_word === true,
        lstrip: t.lstrip === true,
        rstrip: t.rstrip === true,
      };
      this.byContent.set(t.content, t.id);
      this.byId.set(t.id, t.content);
      if (t.id > this.maxId) this.maxId = t.id;
      // Rust's default for `normalized` is !special; tokenizer.json always states it.
      const normalized = typeof t.normalized === 'boolean' ? t.normalized : t.special !== true;
      if (normalized) norm.push({ pattern: normalize ? normalize(t.content) : t.content, tok });
      else raw.push({ pattern: t.content, tok });
    });
    this.raw = new PatternSet(raw);
    this.norm = new PatternSet(norm);
    this.normalize = normalize;
  }

  /**
   * Walks `text`: `onText(normalizedPiece)` for text between added tokens,
   * `onToken(id)` for each added token, in order.
   * @param {string} text  raw input text
   * @param {(t: string) => void} onText
   * @param {(id: number) => void} onToken
   */
  forEach(text, onText, onToken) {
    const normalize = this.normalize;
    const norm = this.norm;
    const onRawText = (piece) => {
      const n = normalize ? normalize(piece) : piece;
      norm.split(n, onText, onToken);
    };
    this.raw.split(text, onRawText, onToken);
  }
}
