/**
 * @file tokenizer.json `normalizer` -> a plain `(string) => string` function.
 *
 * Supported: BertNormalizer, Lowercase, NFD, NFC, NFKD, NFKC, StripAccents,
 * Strip, Replace (String pattern only) and Sequence of those; null = identity.
 * Each step mirrors the Rust `tokenizers` normalizer of the same name. All the
 * steps are char-local, so they are done with global regex replaces, which V8
 * runs much faster than a per-code-point loop in JS.
 */

import { SentenceWasmError } from '../errors.js';
import { CJK, RUST_WS } from './unicode.js';

// clean_text removes NUL, U+FFFD and "control" chars: Rust's `is_other()` =
// Cc | Cf | Co (Cn/unassigned is NOT removed), except \t \n \r which count as
// whitespace. Then every White_Space char becomes a plain space.
const CLEAN_REMOVE_RE = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\p{Co}\ufffd]/gu;
// (the plain space itself is left out: replacing ' ' by ' ' is wasted work)
const CLEAN_SPACE_RE = new RegExp(`[${RUST_WS.replace(' ', '')}]`, 'g');
// Printable ASCII needs no cleaning, CJK padding or accent stripping.
const NOT_PRINTABLE_ASCII_RE = /[^\x20-\x7e]/;
const CJK_RE = new RegExp(`[${CJK}]`, 'gu');
const MN_RE = /\p{Mn}/gu;
const NON_ASCII_RE = /[^\x00-\x7f]/;
const CAPITAL_SIGMA_RE = /\u03a3/g;

function cleanText(s) {
  return s.replace(CLEAN_REMOVE_RE, '').replace(CLEAN_SPACE_RE, ' ');
}

function padChinese(s) {
  return s.replace(CJK_RE, ' $& ');
}

/** Drops nonspacing marks. ASCII has none, so skip the regex then. */
function dropMn(s) {
  return NON_ASCII_RE.test(s) ? s.replace(MN_RE, '') : s;
}

/** BertNormalizer's strip_accents = NFD, then drop Mn. */
function stripAccentsNfd(s) {
  return NON_ASCII_RE.test(s) ? s.normalize('NFD').replace(MN_RE, '') : s;
}

/**
 * Per-character lowercase like Rust's `char::to_lowercase`. JS toLowerCase is
 * context-sensitive for one char only: capital sigma becomes final sigma at
 * the end of a word. Rust (per char) always gives U+03C3, so pre-map it.
 */
function lowercase(s) {
  return s.replace(CAPITAL_SIGMA_RE, '\u03c3').toLowerCase();
}

function bad(fileName, path, what) {
  return new SentenceWasmError('BAD_TOKENIZER', `${fileName}: ${path} ${what}`);
}

function optBool(cfg, key, fallback, fileName, path) {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw bad(fileName, `${path}.${key}`, `must be a boolean (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * @param {object|null} cfg   the `normalizer` object of tokenizer.json
 * @param {string} fileName   for error messages
 * @param {string} [path]     JSON path of cfg, for error messages
 * @returns {((s: string) => string) | null}  null when there is nothing to do
 */
export function buildNormalizer(cfg, fileName, path = 'normalizer') {
  if (cfg === null || cfg === undefined) return null;
  if (typeof cfg !== 'object' || Array.isArray(cfg)) throw bad(fileName, path, 'must be an object or null');
  switch (cfg.type) {
    case 'BertNormalizer': {
      const clean = optBool(cfg, 'clean_text', true, fileName, path);
      const chinese = optBool(cfg, 'handle_chinese_chars', true, fileName, path);
      const lower = optBool(cfg, 'lowercase', true, fileName, path);
      // strip_accents: null means "same as lowercase" (as in Rust and BERT).
      const strip = optBool(cfg, 'strip_accents', lower, fileName, path);
      return (s) => {
        if (!NOT_PRINTABLE_ASCII_RE.test(s)) return lower ? s.toLowerCase() : s;
        if (clean) s = cleanText(s);
        if (chinese) s = padChinese(s);
        if (strip) s = stripAccentsNfd(s);
        if (lower) s = lowercase(s);
        return s;
      };
    }
    case 'Lowercase': return lowercase;
    case 'NFD': case 'NFC': case 'NFKD': case 'NFKC': {
      const form = cfg.type;
      return (s) => s.normalize(form);
    }
    // Rust StripAccents only drops Mn; the NFD must come from an earlier step.
    case 'StripAccents': return dropMn;
    case 'Strip': {
      const left = optBool(cfg, 'strip_left', true, fileName, path);
      const right = optBool(cfg, 'strip_right', true, fileName, path);
      const re = new RegExp(left && right ? `^[${RUST_WS}]+|[${RUST_WS}]+$`
        : left ? `^[${RUST_WS}]+` : right ? `[${RUST_WS}]+$` : '(?!)', 'g');
      return (s) => s.replace(re, '');
    }
    case 'Replace': {
      const pat = cfg.pattern;
      if (!pat || typeof pat !== 'object') throw bad(fileName, `${path}.pattern`, 'is missing');
      if (typeof pat.String !== 'string') {
        throw bad(fileName, `${path}.pattern`, 'is not supported (only {"String": ...} patterns, not Regex)');
      }
      if (typeof cfg.content !== 'string') throw bad(fileName, `${path}.content`, 'must be a string');
      const from = pat.String;
      const to = cfg.content;
      if (from === '') throw bad(fileName, `${path}.pattern.String`, 'must not be empty');
      return (s) => s.split(from).join(to);
    }
    case 'Sequence': {
      if (!Array.isArray(cfg.normalizers)) throw bad(fileName, `${path}.normalizers`, 'must be an array');
      const steps = cfg.normalizers
        .map((n, i) => buildNormalizer(n, fileName, `${path}.normalizers[${i}]`))
        .filter(Boolean);
      if (steps.length === 0) return null;
      if (steps.length === 1) return steps[0];
      return (s) => {
        for (const f of steps) s = f(s);
        return s;
      };
    }
    default:
      throw bad(fileName, `${path}.type`, `${JSON.stringify(cfg.type)} is not supported`
        + ' (supported: BertNormalizer, Lowercase, NFD, NFC, NFKD, NFKC, StripAccents, Strip, Replace, Sequence)');
  }
}
