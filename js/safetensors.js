/**
 * @file safetensors header parsing and validation.
 *
 * A safetensors file is: u64 little-endian header length N, N bytes of UTF-8
 * JSON, then the raw tensor data. Everything in the header comes from the
 * model file and is untrusted, so this module checks every field before any
 * tensor byte is touched: dtype, shape, offsets, that each byte range matches
 * its shape, lies inside the file and overlaps no other range, and that no
 * tensor name appears twice. Failures throw SentenceWasmError('BAD_SAFETENSORS')
 * with a message naming the file and the tensor at fault.
 *
 * Pure functions over bytes: no I/O, no Node builtins, runs in browsers.
 */

import { fail } from './errors.js';

/** Bytes per element of every dtype the format defines that we accept. */
export const DTYPE_SIZES = Object.freeze({
  F64: 8, F32: 4, F16: 2, BF16: 2,
  I64: 8, I32: 4, I16: 2, I8: 1,
  U64: 8, U32: 4, U16: 2, U8: 1,
  BOOL: 1, F8_E4M3: 1, F8_E5M2: 1,
});

/**
 * Largest header we accept. Same limit as the reference Rust implementation
 * (100 MB); a larger claim is a corrupt or hostile file, and honouring it
 * would make us allocate that much before finding out.
 */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

/**
 * JSON text of a header value for a message, cut short so a hostile file with
 * a megabyte-long name or shape cannot produce a megabyte-long error.
 */
function show(v) {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

function bad(fileName, what) {
  fail('BAD_SAFETENSORS', `${fileName}: ${what}`);
}

function badTensor(fileName, name, what) {
  bad(fileName, `tensor ${show(name)}: ${what}`);
}

/**
 * Reads and checks the u64 header length from the first 8 bytes.
 *
 * @param {Uint8Array} first8Bytes  at least the first 8 bytes of the file
 * @param {number} fileSize         total file size in bytes
 * @param {string} [fileName]       used in error messages
 * @returns {number} N, the JSON header length; the data section starts at 8 + N
 */
export function readHeaderLength(first8Bytes, fileSize, fileName = 'model.safetensors') {
  if (!Number.isSafeInteger(fileSize) || fileSize < 8 || !first8Bytes || first8Bytes.length < 8) {
    bad(fileName, `file is ${fileSize} bytes, too short to hold the 8-byte header length`);
  }
  // BigInt because the field is a full u64: reading it as two 32-bit halves
  // into a double would silently round values above 2^53.
  const view = new DataView(first8Bytes.buffer, first8Bytes.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n < 2n) {
    bad(fileName, `header length ${n} is too small (the smallest header, "{}", is 2 bytes)`);
  }
  if (n > BigInt(MAX_HEADER_BYTES)) {
    bad(fileName, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (8n + n > BigInt(fileSize)) {
    bad(fileName, `header length ${n} runs past the end of the file (${fileSize} bytes)`);
  }
  return Number(n);
}

// ---------------------------------------------------------------------------
// Duplicate-name detection. JSON.parse keeps only the last of two equal keys,
// so a file naming a tensor twice would load silently with one of them lost.
// This scanner walks only the top level of text JSON.parse has already
// accepted, so it need not diagnose syntax; it is iterative so deep nesting
// in a hostile header cannot overflow the stack.

/** JSON insignificant whitespace: space, tab, LF, CR. */
function skipWs(text, i) {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

/** `i` is at an opening quote; returns the index just past the closing one. */
function stringEnd(text, i) {
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1; // "
    j += c === 0x5c ? 2 : 1; // a backslash escapes the next char (\" included)
  }
}

/** `i` is at the first char of a value; returns the index just past it. */
function valueEnd(text, i) {
  const c = text.charCodeAt(i);
  if (c === 0x22) return stringEnd(text, i);
  if (c === 0x7b || c === 0x5b) { // { or [
    let depth = 0;
    let j = i;
    for (;;) {
      const d = text.charCodeAt(j);
      if (d === 0x22) { j = stringEnd(text, j); continue; }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) { depth--; if (depth === 0) return j + 1; }
      j++;
    }
  }
  // number, true, false, null: runs up to a delimiter or whitespace
  let j = i;
  for (;;) {
    const d = text.charCodeAt(j);
    if (Number.isNaN(d) || d === 0x2c || d === 0x7d || d === 0x5d ||
        d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) return j;
    j++;
  }
}

/**
 * Top-level keys of a JSON object text, in file order, duplicates kept.
 * Keys are decoded, so "a" and "\u0061" count as the same name.
 */
function topLevelKeys(text) {
  const keys = [];
  let i = skipWs(text, 0) + 1; // past '{'
  i = skipWs(text, i);
  if (text.charCodeAt(i) === 0x7d) return keys; // {}
  for (;;) {
    i = skipWs(text, i);
    const end = stringEnd(text, i);
    keys.push(JSON.parse(text.slice(i, end)));
    i = skipWs(text, end) + 1; // past ':'
    i = valueEnd(text, skipWs(text, i));
    i = skipWs(text, i);
    if (text.charCodeAt(i) !== 0x2c) return keys; // '}' ends the object
    i++;
  }
}

// ---------------------------------------------------------------------------

function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Element count, refusing any shape whose product leaves the exact-integer range. */
function checkShape(fileName, name, shape) {
  if (!Array.isArray(shape)) badTensor(fileName, name, `"shape" must be an array, got ${describe(shape)}`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      badTensor(fileName, name, `shape ${show(shape)} has ${show(d)}, not a non-negative integer`);
    }
  }
  // A zero dimension makes the tensor empty whatever the others are.
  if (shape.includes(0)) return 0;
  let numel = 1;
  for (const d of shape) {
    if (numel > Number.MAX_SAFE_INTEGER / d) {
      badTensor(fileName, name, `shape ${show(shape)} has too many elements`);
    }
    numel *= d;
  }
  return numel;
}

/**
 * Parses and validates the JSON header.
 *
 * @param {Uint8Array} headerBytes  exactly the N header bytes that follow the length
 * @param {number} fileSize         total file size in bytes
 * @param {string} [fileName]       used in error messages
 * @returns {{ dataStart: number, metadata: Record<string,string>|null,
 *   tensors: Array<{ name: string, dtype: string, shape: number[],
 *                    begin: number, end: number, nbytes: number }> }}
 *   tensors in header order; begin/end are absolute file offsets
 */
export function parseSafetensorsHeader(headerBytes, fileSize, fileName = 'model.safetensors') {
  const dataStart = 8 + headerBytes.length;
  if (!Number.isSafeInteger(fileSize) || dataStart > fileSize) {
    bad(fileName, `header of ${headerBytes.length} bytes runs past the end of the file (${fileSize} bytes)`);
  }

  let text;
  try {
    // fatal: reject invalid UTF-8 instead of papering over it with U+FFFD;
    // ignoreBOM: keep a BOM so JSON.parse rejects it, as the format forbids one.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    bad(fileName, 'header is not valid UTF-8');
  }

  let header;
  try {
    header = JSON.parse(text);
  } catch (e) {
    bad(fileName, `header is not valid JSON (${e.message})`);
  }
  if (!isPlainObject(header)) bad(fileName, `header must be a JSON object, got ${describe(header)}`);

  const names = topLevelKeys(text);
  const seen = new Set();
  for (const name of names) {
    if (seen.has(name)) {
      if (name === METADATA_KEY) bad(fileName, `"${METADATA_KEY}" appears more than once`);
      badTensor(fileName, name, 'appears more than once in the header (duplicate tensor name)');
    }
    seen.add(name);
  }

  let metadata = null;
  if (seen.has(METADATA_KEY)) {
    metadata = header[METADATA_KEY];
    if (!isPlainObject(metadata)) bad(fileName, `"${METADATA_KEY}" must be an object, got ${describe(metadata)}`);
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        bad(fileName, `"${METADATA_KEY}" entry ${show(k)} must be a string, got ${describe(v)}`);
      }
    }
  }

  const dataSize = fileSize - dataStart;
  const tensors = [];
  for (const name of names) {
    if (name === METADATA_KEY) continue;
    const info = header[name];
    if (!isPlainObject(info)) badTensor(fileName, name, `entry must be an object, got ${describe(info)}`);

    const { dtype, shape, data_offsets: offsets } = info;
    // hasOwn, so "toString" and friends are not mistaken for dtypes
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_SIZES, dtype)) {
      badTensor(fileName, name, `unknown dtype ${show(dtype)} (known: ${Object.keys(DTYPE_SIZES).join(', ')})`);
    }
    const numel = checkShape(fileName, name, shape);
    if (numel > Number.MAX_SAFE_INTEGER / DTYPE_SIZES[dtype]) {
      badTensor(fileName, name, `shape ${show(shape)} is too large in bytes`);
    }
    const nbytes = numel * DTYPE_SIZES[dtype];

    if (!Array.isArray(offsets) || offsets.length !== 2) {
      badTensor(fileName, name, `"data_offsets" must be [begin, end], got ${show(offsets)}`);
    }
    const [begin, end] = offsets;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < 0) {
      badTensor(fileName, name, `data_offsets ${show(offsets)} must be non-negative integers`);
    }
    if (begin > end) badTensor(fileName, name, `data_offsets ${show(offsets)} has begin > end`);
    if (end - begin !== nbytes) {
      badTensor(fileName, name, `data_offsets ${show(offsets)} span ${end - begin} bytes, ` +
        `but shape ${show(shape)} of ${dtype} needs ${nbytes}`);
    }
    if (end > dataSize) {
      badTensor(fileName, name, `data_offsets ${show(offsets)} run past the end of the data ` +
        `section (${dataSize} bytes)`);
    }
    tensors.push({ name, dtype, shape: shape.slice(), begin: dataStart + begin, end: dataStart + end, nbytes });
  }

  // Overlapping ranges would let one tensor's writes or reinterpretation alias
  // another's. Empty tensors own no bytes, so they cannot overlap anything.
  const ranges = tensors.filter((t) => t.nbytes > 0).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1];
    const cur = ranges[i];
    if (cur.begin < prev.end) {
      badTensor(fileName, cur.name, `data range [${cur.begin - dataStart}, ${cur.end - dataStart}] overlaps ` +
        `tensor ${show(prev.name)} [${prev.begin - dataStart}, ${prev.end - dataStart}]`);
    }
  }

  return { dataStart, metadata, tensors };
}

/**
 * Index of a parsed header's tensors by name (names are unique once parsed).
 * @param {{ tensors: Array<{ name: string }> }} parsed
 * @returns {Map<string, object>}
 */
export function tensorsByName(parsed) {
  return new Map(parsed.tensors.map((t) => [t.name, t]));
}
