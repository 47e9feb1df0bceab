// Tests for js/safetensors.js: every fixture header parses and matches what
// the Python side recorded, and every kind of malformed header is refused with
// BAD_SAFETENSORS and a message naming the problem. Malformed files are built
// in memory from a real fixture header so each case differs in one thing only.

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';

import {
  DTYPE_SIZES, MAX_HEADER_BYTES, readHeaderLength, parseSafetensorsHeader, tensorsByName,
} from '../js/safetensors.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** Full parse of a file held in memory, the way a loader does it. */
function parseFile(bytes, name = 'model.safetensors') {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, name);
  return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, name);
}

/** A file made of a header object (or raw header text) and `dataBytes` zero bytes. */
function buildFile(header, dataBytes, { lengthField } = {}) {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const hb = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + hb.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(hb.length), true);
  out.set(hb, 8);
  return out;
}

function assertBad(fn, pattern) {
  assert.throws(fn, (e) => {
    assert.equal(e.name, 'SentenceWasmError');
    assert.equal(e.code, 'BAD_SAFETENSORS');
    assert.match(e.message, /^model\.safetensors: /, 'message names the file');
    assert.match(e.message, pattern);
    return true;
  });
}

// --- every fixture -----------------------------------------------------------

const fixtureFiles = [];
for (const dir of readdirSync(FIXTURES, { withFileTypes: true })) {
  if (!dir.isDirectory()) continue;
  for (const rel of ['model.safetensors', '2_Dense/model.safetensors']) {
    const url = new URL(`${dir.name}/${rel}`, FIXTURES);
    if (existsSync(url)) fixtureFiles.push({ dir: dir.name, rel, url });
  }
}

test('fixtures exist', () => {
  assert.ok(fixtureFiles.length >= 9, `found ${fixtureFiles.length} safetensors fixtures`);
});

for (const { dir, rel, url } of fixtureFiles) {
  test(`parses ${dir}/${rel}`, () => {
    const bytes = new Uint8Array(readFileSync(url));
    const parsed = parseFile(bytes, rel);
    assert.ok(parsed.tensors.length > 0);

    const refUrl = new URL(`${dir}/reference.json`, FIXTURES);
    const check = existsSync(refUrl) ? JSON.parse(readFileSync(refUrl, 'utf8')).safetensors_check?.[rel] : undefined;
    if (check) {
      assert.equal(parsed.tensors.length, check.tensors);
      assert.deepEqual(parsed.metadata, check.metadata);
      assert.equal(parsed.dataStart, 8 + check.header_bytes);
      assert.equal(bytes.length - parsed.dataStart, check.data_bytes);
    }

    // Offsets are absolute, inside the file, and consistent with shape x dtype.
    for (const t of parsed.tensors) {
      assert.ok(t.begin >= parsed.dataStart && t.end <= bytes.length, t.name);
      assert.equal(t.end - t.begin, t.nbytes);
      assert.equal(t.nbytes, t.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZES[t.dtype]);
    }
    const byName = tensorsByName(parsed);
    assert.equal(byName.size, parsed.tensors.length);
    for (const t of parsed.tensors) assert.equal(byName.get(t.name), t);
  });
}

test('Dense fixture: exact tensors, header order and absolute offsets', () => {
  const bytes = new Uint8Array(readFileSync(new URL('st-cls-dense/2_Dense/model.safetensors', FIXTURES)));
  const parsed = parseFile(bytes);
  assert.equal(parsed.metadata, null);
  assert.deepEqual(parsed.tensors, [
    { name: 'linear.bias', dtype: 'F32', shape: [16], begin: 152, end: 216, nbytes: 64 },
    { name: 'linear.weight', dtype: 'F32', shape: [16, 32], begin: 216, end: 2264, nbytes: 2048 },
  ]);
});

// --- well-formed edge cases that must be accepted ----------------------------

test('accepts {}, padding, metadata, scalars, empty tensors and every known dtype', () => {
  assert.deepEqual(parseFile(buildFile('{}', 0)), { dataStart: 10, metadata: null, tensors: [] });
  // The format pads headers with trailing spaces for alignment.
  assert.equal(parseFile(buildFile('{}      ', 0)).dataStart, 16);

  const header = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [dtype, size] of Object.entries(DTYPE_SIZES)) {
    header[`t.${dtype}`] = { dtype, shape: [3], data_offsets: [off, off + 3 * size] };
    off += 3 * size;
  }
  header.scalar = { dtype: 'F32', shape: [], data_offsets: [off, off + 4] };
  header.empty = { dtype: 'F32', shape: [0, 7], data_offsets: [off, off] }; // owns no bytes: no overlap
  const parsed = parseFile(buildFile(header, off + 4));
  assert.deepEqual(parsed.metadata, { format: 'pt' });
  assert.equal(parsed.tensors.length, Object.keys(DTYPE_SIZES).length + 2);
  assert.equal(tensorsByName(parsed).get('empty').nbytes, 0);
});

test('tensors keep header order even for integer-like names', () => {
  // A JS object would list "10" before "2"; file order is what we report.
  const parsed = parseFile(buildFile('{"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},' +
    '"10":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"2":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', 3));
  assert.deepEqual(parsed.tensors.map((t) => t.name), ['b', '10', '2']);
});

// --- malformed files ---------------------------------------------------------

// Base for the variants: the real Dense header (two F32 tensors, 2112 data bytes).
const realBytes = new Uint8Array(readFileSync(new URL('st-cls-dense/2_Dense/model.safetensors', FIXTURES)));
const realHeader = () => JSON.parse(new TextDecoder().decode(
  realBytes.subarray(8, 8 + Number(new DataView(realBytes.buffer, realBytes.byteOffset).getBigUint64(0, true))),
));
const DATA = 2112;

/** Real header with one change applied to a fresh copy. */
function variant(change, dataBytes = DATA) {
  const h = realHeader();
  change(h);
  return buildFile(h, dataBytes);
}

test('file shorter than the 8-byte length field', () => {
  assertBad(() => parseFile(realBytes.subarray(0, 5)), /5 bytes, too short/);
  assertBad(() => parseFile(new Uint8Array(0)), /0 bytes, too short/);
});

test('truncated file: header runs past the end', () => {
  assertBad(() => parseFile(realBytes.subarray(0, 100)), /header length 144 runs past the end of the file \(100 bytes\)/);
});

test('truncated file: data section cut short', () => {
  assertBad(() => parseFile(realBytes.subarray(0, realBytes.length - 1)),
    /tensor "linear\.weight": .*run past the end of the data section \(2111 bytes\)/);
});

test('header length field: 0, 1, larger than the file, 2^64-1, 100 MB claim', () => {
  assertBad(() => parseFile(buildFile('{}', 0, { lengthField: 0n })), /header length 0 is too small/);
  assertBad(() => parseFile(buildFile('{}', 0, { lengthField: 1n })), /header length 1 is too small/);
  assertBad(() => parseFile(buildFile('{}', 10, { lengthField: 13n })), /header length 13 runs past the end of the file \(20 bytes\)/);
  assertBad(() => parseFile(buildFile('{}', 0, { lengthField: 2n ** 64n - 1n })),
    /header length 18446744073709551615 exceeds the 100000000-byte limit/);
  // A claim just over the cap is refused even when the file is big enough.
  const first8 = new Uint8Array(8);
  new DataView(first8.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
  assertBad(() => readHeaderLength(first8, 2 ** 40), /exceeds the 100000000-byte limit/);
  new DataView(first8.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES), true);
  assert.equal(readHeaderLength(first8, 2 ** 40), MAX_HEADER_BYTES);
  // Little-endian: 2^32 + 2 must not be read as 2 by a 32-bit shortcut.
  new DataView(first8.buffer).setBigUint64(0, 2n ** 32n + 2n, true);
  assertBad(() => readHeaderLength(first8, 100), /header length 4294967298 exceeds/);
});

test('header is not UTF-8 / not JSON / not an object', () => {
  const invalidUtf8 = buildFile('{"a":1}', 0);
  invalidUtf8[10] = 0xff;
  assertBad(() => parseFile(invalidUtf8), /not valid UTF-8/);
  assertBad(() => parseFile(buildFile('{"linear.bias": {', 0)), /not valid JSON/);
  assertBad(() => parseFile(buildFile('\uFEFF{}', 0)), /not valid JSON/); // BOM is not allowed
  assertBad(() => parseFile(buildFile('[1, 2]', 0)), /must be a JSON object, got an array/);
  assertBad(() => parseFile(buildFile('null', 0)), /must be a JSON object, got null/);
  assertBad(() => parseFile(buildFile('"str"', 0)), /must be a JSON object, got a string/);
});

test('__metadata__ must be an object of strings', () => {
  assertBad(() => parseFile(variant((h) => { h.__metadata__ = ['pt']; })), /"__metadata__" must be an object, got an array/);
  assertBad(() => parseFile(variant((h) => { h.__metadata__ = { format: 1 }; })), /"__metadata__" entry "format" must be a string/);
});

test('tensor entry must be an object', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'] = [0, 64]; })), /tensor "linear\.bias": entry must be an object, got an array/);
});

test('unknown or missing dtype', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].dtype = 'F128'; })), /tensor "linear\.bias": unknown dtype "F128"/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].dtype = 'toString'; })), /unknown dtype "toString"/);
  assertBad(() => parseFile(variant((h) => { delete h['linear.bias'].dtype; })), /unknown dtype undefined/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].dtype = 'f32'; })), /unknown dtype "f32"/);
});

test('bad shapes: negative, non-integer, not an array, huge', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [-16]; })), /tensor "linear\.bias": shape \[-16\] has -16, not a non-negative integer/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [16.5]; })), /has 16\.5, not a non-negative integer/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = ['16']; })), /has "16", not a non-negative integer/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = 16; })), /"shape" must be an array, got a number/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [2 ** 60]; })), /not a non-negative integer/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [2 ** 30, 2 ** 30]; })), /too many elements/);
  // Fits in elements, not in bytes.
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [2 ** 26, 2 ** 26]; })), /too large in bytes/);
});

test('shape x dtype size differs from the byte range', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].shape = [17]; })),
    /tensor "linear\.bias": data_offsets \[0,64\] span 64 bytes, but shape \[17\] of F32 needs 68/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].dtype = 'F16'; })), /needs 32/);
});

test('bad data_offsets: wrong form, negative, reversed, past the end', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [0]; })), /"data_offsets" must be \[begin, end\]/);
  assertBad(() => parseFile(variant((h) => { delete h['linear.bias'].data_offsets; })), /"data_offsets" must be \[begin, end\]/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [-64, 0]; })), /must be non-negative integers/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [0.5, 64.5]; })), /must be non-negative integers/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [64, 0]; })), /has begin > end/);
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [2112, 2176]; })),
    /tensor "linear\.bias": data_offsets \[2112,2176\] run past the end of the data section \(2112 bytes\)/);
});

test('overlapping ranges', () => {
  assertBad(() => parseFile(variant((h) => { h['linear.bias'].data_offsets = [2048, 2112]; })),
    /tensor "linear\.bias": data range \[2048, 2112\] overlaps tensor "linear\.weight" \[64, 2112\]/);
  assertBad(() => parseFile(variant((h) => { h.copy = { dtype: 'F32', shape: [16], data_offsets: [0, 64] }; })), /overlaps/);
});

test('duplicate tensor names (JSON.parse would keep only the last)', () => {
  const dup = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},' +
    '"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}';
  assertBad(() => parseFile(buildFile(dup, 3)), /tensor "a": appears more than once/);
  // Same name spelled with an escape is still the same name.
  const escaped = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"\\u0061":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}';
  assertBad(() => parseFile(buildFile(escaped, 2)), /tensor "a": appears more than once/);
  assertBad(() => parseFile(buildFile('{"__metadata__":{},"__metadata__":{}}', 0)), /"__metadata__" appears more than once/);
  // Nested duplicate-looking keys and tricky strings are not top-level names.
  const nested = '{ "x\\"y" : {"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"a":"}","a":[{"b":"]"}]}},' +
    '"z" :{"dtype":"U8","shape":[1],"data_offsets":[1,2]} }';
  assert.deepEqual(parseFile(buildFile(nested, 2)).tensors.map((t) => t.name), ['x"y', 'z']);
});

test('messages stay short for hostile long names', () => {
  const name = 'n'.repeat(100000);
  const err = (() => { try { parseFile(buildFile({ [name]: { dtype: 'X', shape: [], data_offsets: [0, 0] } }, 0)); } catch (e) { return e; } })();
  assert.equal(err.code, 'BAD_SAFETENSORS');
  assert.ok(err.message.length < 600, `message length ${err.message.length}`);
});
