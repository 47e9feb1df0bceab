/**
 * @file Character classes shared by the tokenizer stages, written to match the
 * Rust `tokenizers` crate (what sentence-transformers runs through
 * transformers' fast tokenizers), plus Python's `str.strip()`.
 *
 * Why explicit sets instead of JS `\s`: JS `\s` contains U+FEFF and lacks
 * U+0085, so it matches neither Rust's `char::is_whitespace` (Unicode
 * White_Space) nor Python's `str.isspace()`. Everything here is a regex source
 * fragment (for use inside `[...]` with the `u` flag) or a small function.
 *
 * Unicode version: JS property escapes use the engine's Unicode version (Node
 * 20: 15+), the Rust crate partly uses older tables (unicode_categories, ~9.0).
 * The two only disagree on characters assigned after Unicode 9 that are Cf,
 * Co, Mn or P* -- a handful of rare code points.
 */

/** Rust `char::is_whitespace` = Unicode White_Space property. */
export const RUST_WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Python `str.isspace()`: White_Space plus U+001C..U+001F (bidi class B/S). */
export const PY_WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/**
 * BertPreTokenizer / Punctuation pre-tokenizer punctuation:
 * `char::is_ascii_punctuation() || is_punctuation()` -- ASCII symbols such as
 * `$ + < = > ^ ` | ~` are not Unicode P* but still split.
 */
export const BERT_PUNCT = '!-\\/:-@\\[-`{-~\\p{P}';

/** Rust regex `\w` (Unicode word characters), used by `Whitespace` and single_word. */
export const RUST_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';

/**
 * BERT's CJK ideograph ranges as in the Rust BertNormalizer. Note: Rust has
 * 0x2B920..0x2CEAF where Python's BertTokenizer has 0x2B820..0x2CEAF; we follow
 * Rust because sentence-transformers uses the fast tokenizer.
 */
export const CJK = '\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{2a6df}'
  + '\\u{2a700}-\\u{2b73f}\\u{2b740}-\\u{2b81f}\\u{2b920}-\\u{2ceaf}\\u{2f800}-\\u{2fa1f}';

const PY_STRIP_RE = new RegExp(`^[${PY_WS}]+|[${PY_WS}]+$`, 'g');
const PY_WS_ONE = new RegExp(`[${PY_WS}]`);

/**
 * Python `str.strip()` with no argument. sentence-transformers strips every
 * input text this way before tokenizing. U+200B is NOT whitespace in Python.
 * @param {string} text
 * @returns {string}
 */
export function pyStrip(text) {
  if (typeof text !== 'string' || text.length === 0) return text;
  // Fast path: most texts start and end with a visible character.
  if (!PY_WS_ONE.test(text[0]) && !PY_WS_ONE.test(text[text.length - 1])) return text;
  return text.replace(PY_STRIP_RE, '');
}

const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Replaces lone surrogates by U+FFFD. Rust strings cannot hold them (Python's
 * tokenizers binding refuses such text), so we do what any UTF-8 conversion
 * (TextEncoder) does. With BertNormalizer(clean_text) U+FFFD is then deleted,
 * so a lone surrogate simply vanishes; without clean_text it becomes [UNK].
 * @param {string} text
 */
export function toWellFormed(text) {
  if (typeof text.isWellFormed === 'function') {
    return text.isWellFormed() ? text : text.toWellFormed();
  }
  return text.replace(LONE_SURROGATE_RE, '\ufffd');
}
