// Property/fuzz tests of the JS readers of untrusted model files: the
// safetensors header parser, the tokenizer.json reader and the config
// readers. Each takes a real file from tests/fixtures, applies random
// mutations (byte-level and structural, seeded PRNG, bounded count) and
// requires that the reader either accepts the input -- and then its result
// is consistent -- or throws a SentenceWasmError with one of the codes that
// reader owns. Never a TypeError, RangeError or a hang.
//
// Reproduce a run: SW_FUZZ_SEED=<seed> node --test tests/fuzz_js.test.js
// Longer run:      SW_FUZZ_RUNS=20 node --test tests/fuzz_js.test.js  (x20 iterations)
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SentenceWasmError, ErrorCode } from '../js/errors.js';
import { readHeaderLength, parseSafetensorsHeader, DTYPE_SIZES, MAX_HEADER_BYTES } from '../js/safetensors.js';
import { readWeights, resolveMaxLength } from '../js/model_files.js';
import { loadTokenizer } from '../js/tokenizers/index.js';
import {
  parseModules, parseBertConfig, parsePoolingConfig, parseDenseConfig, parseSentenceBertConfig,
  parseSTConfig, parseSpladePoolingConfig, resolveCrossActivation,
} from '../js/model_config.js';
import { ACT } from '../js/binding.js';
import { FIXTURES, fixtureDir } from './helpers/fixtures.js';

const SEED = Number(process.env.SW_FUZZ_SEED ?? 20240611) >>> 0;
const RUNS = Math.max(1, Number(process.env.SW_FUZZ_RUNS ?? 1));
/** One call of a reader taking longer than this counts as a hang. */
const SLOW_MS = 3000;

// ---- seeded PRNG (mulberry32) ----

function makeRand(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    chance: (p) => next() < p,
  };
}

/**
 * Runs fn; an exception must be a SentenceWasmError with a code in `codes`
 * and a non-empty message. Returns { ok, value } or { ok: false, err }.
 */
function expectKnown(label, codes, fn) {
  const t0 = performance.now();
  let out;
  try {
    out = { ok: true, value: fn() };
  } catch (err) {
    if (!(err instanceof SentenceWasmError)) {
      assert.fail(`${label}: threw ${err && err.constructor && err.constructor.name}: ${err && err.message}\n${err && err.stack}`);
    }
    assert.ok(err.code in ErrorCode, `${label}: unknown code ${err.code}`);
    assert.ok(codes.includes(err.code), `${label}: code ${err.code} (allowed: ${codes.join(', ')}): ${err.message}`);
    assert.ok(typeof err.message === 'string' && err.message.length > 0, `${label}: no message`);
    out = { ok: false, err };
  }
  const ms = performance.now() - t0;
  assert.ok(ms < SLOW_MS, `${label}: took ${ms.toFixed(0)} ms`);
  return out;
}

// ---- JSON-tree mutations ----

/** Strings that have tripped parsers: prototype names, escapes, lone surrogates, long runs. */
const STRINGS = ['', ' ', 'x', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype',
  '[UNK]', '[CLS]', '[SEP]', '##', '\u0000', '\ud800', '\udfff', 'a\u0301', '\u200f', 'F32', 'F16', 'BF16', 'I32', 'F64',
  'bert', 'roberta', 'BertModel', 'WordPiece', 'BPE', 'Sequence', 'BertNormalizer', 'BertPreTokenizer',
  'TemplateProcessing', 'BertProcessing', 'torch.nn.modules.activation.Tanh', 'sentence_transformers.models.Pooling',
  '../x', '/etc/passwd', 'https://evil.example/x', '..\\x', 'mean', 'cls', 'lasttoken', 'gelu', 'relu', 'x'.repeat(5000)];
const NUMBERS = [0, -0, 1, -1, 2, 0.5, 1.5, -1.5, 3, 7, 32, 100, 511, 512, 513, 30522, 65536, 2 ** 31 - 1, 2 ** 31,
  2 ** 32, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e9, 1e21, 1e308, -1e308, 5e-324, 1e-12];

/**
 * Keys that make an object's conversion to a string throw when their value
 * (from JSON) is not a function: `${obj}` and `key in obj` then raise a
 * TypeError. Used only where the reader under test is known to survive them.
 */
const TO_PRIMITIVE_KEYS = ['toString', 'valueOf'];
let objectKeys = STRINGS;

function randomValue(rand, depth = 0) {
  switch (rand.int(depth > 2 ? 4 : 7)) {
    case 0: return null;
    case 1: return rand.chance(0.5);
    case 2: return rand.pick(NUMBERS);
    case 3: return rand.pick(STRINGS);
    case 4: return Array.from({ length: rand.int(4) }, () => randomValue(rand, depth + 1));
    case 5: {
      const o = {};
      for (let i = rand.int(4); i > 0; i--) setOwn(o, rand.pick(objectKeys), randomValue(rand, depth + 1));
      return o;
    }
    default: { // deep nesting
      let v = [];
      for (let i = 0; i < 200; i++) v = [v];
      return rand.chance(0.5) ? v : { a: v };
    }
  }
}

/** obj[key] = value as JSON.parse would create it (an own "__proto__" too). */
function setOwn(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isContainer(v) { return v !== null && typeof v === 'object'; }

/** Every (parent, key) slot of a tree, not descending into `skip` objects. */
function slots(root, skip) {
  const out = [];
  const walk = (v, depth) => {
    if (!isContainer(v) || skip.has(v) || depth > 12) return;
    for (const k of Object.keys(v)) {
      out.push({ parent: v, key: Array.isArray(v) ? Number(k) : k });
      walk(v[k], depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

function tweak(rand, v) {
  if (typeof v === 'number') return rand.pick([v + 1, v - 1, -v, v * 1e6, v / 3, v + 0.5, 2 ** 31, 2 ** 53 + 2, 0]);
  if (typeof v === 'string') {
    const i = rand.int(v.length + 1);
    return rand.pick([
      '', v + v, v.slice(1), v.slice(0, -1), v.toUpperCase(), v + ' ', `${v}\u0000`,
      v.slice(0, i) + rand.pick(['\ud800', '\u0000', ' ', '#', '.', '/', '"', '\\', '\u00e9', '\u4e2d']) + v.slice(i),
    ]);
  }
  if (typeof v === 'boolean') return !v;
  if (Array.isArray(v)) {
    const c = v.slice();
    switch (rand.int(4)) {
      case 0: if (c.length) c.push(c[rand.int(c.length)]); break;
      case 1: c.reverse(); break;
      case 2: c.length = Math.min(c.length, rand.int(2)); break;
      default: c.splice(rand.int(c.length + 1), 0, randomValue(rand, 1));
    }
    return c;
  }
  if (isContainer(v)) {
    const c = { ...v };
    setOwn(c, rand.pick(objectKeys), randomValue(rand, 1));
    return c;
  }
  return randomValue(rand);
}

/**
 * Applies 1-3 random edits to a JSON tree in place (a fresh copy): delete a
 * key or element, replace a value (random, or another slot's value: type
 * confusion), tweak it (number +/- 1, string edits, array and object
 * growth). Returns the root (which may itself be replaced).
 */
function mutateJson(root, rand, skip = new Set()) {
  let r = root;
  for (let n = 1 + rand.int(3); n > 0; n--) {
    const all = slots(r, skip);
    if (all.length === 0 || rand.chance(0.03)) { r = rand.chance(0.5) ? randomValue(rand) : tweak(rand, r); continue; }
    const { parent, key } = rand.pick(all);
    const op = rand.int(10);
    if (op < 2) {
      if (Array.isArray(parent)) parent.splice(key, 1);
      else delete parent[key];
    } else if (op < 5) {
      setOwn(parent, key, randomValue(rand));
    } else if (op < 6) {
      const other = rand.pick(all);
      const v = other.parent[other.key];
      if (!skip.has(v)) setOwn(parent, key, JSON.parse(JSON.stringify(v) ?? 'null'));
    } else {
      setOwn(parent, key, tweak(rand, parent[key]));
    }
  }
  return r;
}

/** A JSON round trip: what a reader gets from JSON.parse of the mutated file. */
function asParsed(v) {
  const s = JSON.stringify(v);
  return s === undefined ? undefined : JSON.parse(s);
}

// ---- safetensors ----

const ST_FILE = path.join(fixtureDir('st-mean'), 'model.safetensors');

function splitSafetensors(bytes) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  // copies: a Buffer's slice() is a view, and the mutations write into it
  return { header: new Uint8Array(bytes.subarray(8, 8 + n)), dataSize: bytes.length - 8 - n };
}

const enc = new TextEncoder();
const TOKENS = ['"', '\\', '{', '}', '[', ']', ',', ':', '-', '0', '1e400', '9007199254740993', '-1', '1.5', 'null',
  'true', '"__metadata__"', '"dtype":"F16"', '"dtype":"toString"', '"shape":[-1]', '"shape":[1e20,1e20]',
  '"data_offsets":[0,0]', '"data_offsets":[4,2]', '\\ud800', '\\u0000', '\u00e9', '\ufeff', '    '];

function withLength(headerBytes, n) {
  const out = new Uint8Array(8 + headerBytes.length);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
  out.set(headerBytes, 8);
  return out;
}

/** One mutated "file": the 8-byte length + header bytes, and the data section size. */
function mutateSafetensors(rand, header, dataSize) {
  let h = new Uint8Array(header);
  let lengthField = h.length;
  let fixLength = true;
  let ds = dataSize;
  for (let n = 1 + rand.int(3); n > 0; n--) {
    const op = rand.int(9);
    if (op === 0) { // the length field itself
      fixLength = false;
      lengthField = rand.pick([0, 1, 2, h.length - 1, h.length + 1, h.length + ds, h.length + ds + 1,
        2n ** 64n - 1n, 2n ** 63n, MAX_HEADER_BYTES, MAX_HEADER_BYTES + 1, rand.int(2 ** 32), 2 ** 53 + 1]);
    } else if (op === 1 && h.length) { // flip one bit
      const i = rand.int(h.length);
      h[i] ^= 1 << rand.int(8);
    } else if (op === 2 && h.length) { // overwrite one byte
      h[rand.int(h.length)] = rand.pick([0x00, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x80, 0xff, 0xc0, 0x30, 0x2d, 0x65]);
    } else if (op === 3) { // insert a JSON-ish token
      const i = rand.int(h.length + 1);
      const t = enc.encode(rand.pick(TOKENS));
      const c = new Uint8Array(h.length + t.length);
      c.set(h.subarray(0, i)); c.set(t, i); c.set(h.subarray(i), i + t.length);
      h = c;
    } else if (op === 4 && h.length) { // delete a range
      const i = rand.int(h.length);
      const len = 1 + rand.int(Math.min(64, h.length - i));
      const c = new Uint8Array(h.length - len);
      c.set(h.subarray(0, i)); c.set(h.subarray(i + len), i);
      h = c;
    } else if (op <= 6) { // structural: edit the parsed header, maybe duplicate a key
      let obj;
      try { obj = JSON.parse(new TextDecoder().decode(h)); } catch { continue; }
      obj = mutateJson(obj, rand);
      let text = JSON.stringify(obj) ?? 'null';
      if (rand.chance(0.2) && isContainer(obj) && !Array.isArray(obj)) {
        const keys = Object.keys(obj);
        if (keys.length) {
          const k = rand.pick(keys);
          text = `{${JSON.stringify(k)}:${JSON.stringify(obj[k])},${text.slice(1)}`;
        }
      }
      h = enc.encode(text);
    } else if (op === 7) { // the data section shrinks or grows
      ds = rand.pick([0, 1, Math.max(0, ds - 1), Math.floor(ds / 2), ds + 1, ds + 4096]);
    } else { // padding the format allows, or a BOM it does not
      h = rand.chance(0.5) ? enc.encode(`${new TextDecoder().decode(h)}        `) : new Uint8Array([0xef, 0xbb, 0xbf, ...h]);
    }
  }
  return { prefix: withLength(h, fixLength ? h.length : lengthField), dataSize: ds };
}

/** What a header the parser accepted must satisfy. */
function checkAccepted(parsed, headerLen, fileSize, label) {
  assert.equal(parsed.dataStart, 8 + headerLen, `${label}: dataStart`);
  const names = new Set();
  for (const t of parsed.tensors) {
    assert.ok(typeof t.name === 'string' && t.name !== '__metadata__' && !names.has(t.name), `${label}: name ${t.name}`);
    names.add(t.name);
    assert.ok(Object.hasOwn(DTYPE_SIZES, t.dtype), `${label}: dtype ${t.dtype}`);
    assert.ok(Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0), `${label}: shape`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    assert.equal(t.nbytes, numel * DTYPE_SIZES[t.dtype], `${label}: nbytes of ${t.name}`);
    assert.ok(Number.isSafeInteger(t.begin) && t.begin >= parsed.dataStart && t.end <= fileSize, `${label}: range of ${t.name}`);
    assert.equal(t.end - t.begin, t.nbytes, `${label}: span of ${t.name}`);
  }
  const ranges = parsed.tensors.filter((t) => t.nbytes > 0).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i].begin >= ranges[i - 1].end, `${label}: overlap`);
  if (parsed.metadata !== null) {
    assert.ok(isContainer(parsed.metadata) && Object.values(parsed.metadata).every((v) => typeof v === 'string'), `${label}: metadata`);
  }
}

test('safetensors header: mutated headers are accepted consistently or refused with BAD_SAFETENSORS', () => {
  const { header, dataSize } = splitSafetensors(fs.readFileSync(ST_FILE));
  const rand = makeRand(SEED);
  const n = 1500 * RUNS;
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    const { prefix, dataSize: ds } = mutateSafetensors(rand, header, dataSize);
    const fileSize = rand.chance(0.05) ? rand.pick([0, 7, 8, -1, 0.5, NaN, 2 ** 53, prefix.length]) : prefix.length + ds;
    const label = `seed ${SEED} iteration ${i}`;
    const r = expectKnown(label, ['BAD_SAFETENSORS'], () => {
      const len = readHeaderLength(prefix.subarray(0, 8), fileSize);
      // A length past our header reads into the data section, as it would in the real file.
      let headerBytes = prefix.subarray(8, 8 + len);
      if (headerBytes.length < len) {
        headerBytes = new Uint8Array(len);
        headerBytes.set(prefix.subarray(8));
      }
      const parsed = parseSafetensorsHeader(headerBytes, fileSize);
      return { len, parsed };
    });
    if (r.ok) {
      accepted++;
      checkAccepted(r.value.parsed, r.value.len, fileSize, label);
    }
  }
  assert.ok(accepted > 0 && accepted < n, `accepted ${accepted} of ${n}: the mutations should mix good and bad`);
});

test('readWeights: whole mutated files through the loader refuse with BAD_SAFETENSORS only', async () => {
  const bytes = fs.readFileSync(ST_FILE);
  const { header, dataSize } = splitSafetensors(bytes);
  const data = bytes.subarray(8 + header.length);
  const rand = makeRand(SEED ^ 0x5afe);
  for (let i = 0; i < 150 * RUNS; i++) {
    const { prefix, dataSize: ds } = mutateSafetensors(rand, header, dataSize);
    const file = new Uint8Array(prefix.length + ds);
    file.set(prefix);
    file.set(data.subarray(0, Math.min(ds, data.length)), prefix.length);
    const source = { readBytes: async () => file };
    const t0 = performance.now();
    try {
      const w = await readWeights(source, 'model.safetensors');
      assert.equal(w.buffer.byteLength, file.length, 'the whole file is handed on');
      for (const t of w.tensors) assert.ok(t.begin >= 8 && t.end <= file.length, `tensor ${t.name} inside the file`);
    } catch (err) {
      assert.ok(err instanceof SentenceWasmError && err.code === 'BAD_SAFETENSORS', `iteration ${i}: ${err && err.stack}`);
      assert.match(err.message, /model\.safetensors/, 'the message names the file');
    }
    assert.ok(performance.now() - t0 < SLOW_MS, `iteration ${i} too slow`);
  }
});

// ---- tokenizer.json ----

const TOKENIZER_TEXTS = ['hello world', '', 'Caf\u00e9 \ufb01nancial \u5317\u4eac [MASK] x', 'x'.repeat(300),
  '\ud800 a\u0000b \u200f\u05e9\u05dc\u05d5\u05dd', 'don\'t   stop\tnow 3.14'];

function exerciseTokenizer(tok, label) {
  const inVocab = (ids) => ids.every((id) => Number.isInteger(id) && id >= 0 && id < tok.vocabSize);
  for (const text of TOKENIZER_TEXTS) {
    for (const maxLength of [undefined, 16, 3]) {
      const r = expectKnown(`${label} encode`, ['INVALID_INPUT'], () => tok.encode(text, { maxLength }));
      if (r.ok) {
        assert.ok(inVocab(r.value.ids), `${label}: an id outside the vocabulary`);
        assert.equal(r.value.typeIds.length, r.value.ids.length);
        if (maxLength !== undefined) assert.ok(r.value.ids.length <= maxLength, `${label}: ${r.value.ids.length} > ${maxLength}`);
      }
    }
    const p = expectKnown(`${label} encodePair`, ['INVALID_INPUT'], () => tok.encodePair(text, 'second part', { maxLength: 12 }));
    if (p.ok) assert.ok(inVocab(p.value.ids) && p.value.ids.length <= 12, `${label}: pair`);
    expectKnown(`${label} tokenize`, [], () => tok.tokenize(text));
  }
  // A long text takes the early-stop path: its ids must equal tokenizing it whole.
  const long = 'hello world. \u5317\u4eac [MASK] caf\u00e9, don\'t\t'.repeat(300);
  const early = expectKnown(`${label} long text`, ['INVALID_INPUT'], () => tok.encode(long, { maxLength: 40 }));
  const cut = tok._cut;
  tok._cut = null;
  try {
    const whole = expectKnown(`${label} long text, whole`, ['INVALID_INPUT'], () => tok.encode(long, { maxLength: 40 }));
    assert.deepEqual(early.ok && Array.from(early.value.ids), whole.ok && Array.from(whole.value.ids), `${label}: early stop differs`);
  } finally {
    tok._cut = cut;
  }
}

test('tokenizer.json: mutated files load or refuse with BAD_TOKENIZER; loaded ones encode within the vocabulary', () => {
  const original = JSON.parse(fs.readFileSync(path.join(fixtureDir('st-mean'), 'tokenizer.json'), 'utf8'));
  const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(fixtureDir('st-mean'), 'tokenizer_config.json'), 'utf8'));
  const vocab = Object.freeze(original.model.vocab);
  const vocabKeys = Object.keys(vocab);
  const VOCAB = '\u0000vocab placeholder';
  const skeleton = JSON.stringify({ ...original, model: { ...original.model, vocab: VOCAB } });
  const rand = makeRand(SEED ^ 0x70c);
  let loaded = 0;
  const n = 250 * RUNS;
  for (let i = 0; i < n; i++) {
    const label = `seed ${SEED} tokenizer iteration ${i}`;
    let tj = mutateJson(JSON.parse(skeleton), rand);
    let v = vocab;
    if (rand.chance(0.25)) { // mutate the vocabulary itself
      v = { ...vocab };
      const key = rand.chance(0.3) ? '[UNK]' : rand.pick(vocabKeys);
      switch (rand.int(5)) {
        case 0: setOwn(v, key, rand.pick([-1, 1.5, '5', null, 2 ** 31, 2 ** 53, 1e9])); break;
        case 1: delete v[key]; break;
        case 2: setOwn(v, rand.pick(STRINGS), rand.pick([0, 5, 30522, 40000, 2 ** 31 - 1])); break;
        case 3: v = rand.chance(0.5) ? {} : []; break;
        default: setOwn(v, '', 7);
      }
    }
    tj = asParsed(tj);
    if (isContainer(tj) && isContainer(tj.model) && tj.model.vocab === VOCAB) tj.model.vocab = v;
    const cfg = rand.chance(0.3) ? asParsed(mutateJson(structuredClone(tokenizerConfig), rand)) : tokenizerConfig;
    const r = expectKnown(label, ['BAD_TOKENIZER'], () => loadTokenizer(tj, { tokenizerConfig: cfg }));
    if (r.ok) {
      loaded++;
      exerciseTokenizer(r.value, label);
    }
  }
  assert.ok(loaded > 0 && loaded < n, `loaded ${loaded} of ${n}`);
});

// ---- config readers ----

function fixtureJson(rel) {
  const f = path.join(FIXTURES, rel);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : undefined;
}

/** Every fixture file of a given name, e.g. all config.json of BERT fixtures. */
function fixtureFiles(rel) {
  const out = [];
  for (const dir of [...fs.readdirSync(FIXTURES), ...fs.readdirSync(path.join(FIXTURES, 'models')).map((d) => `models/${d}`)]) {
    const j = fixtureJson(path.join(dir, rel));
    if (j !== undefined) out.push({ file: `${dir}/${rel}`, json: j });
  }
  return out;
}

const CONFIG_CODES = ['BAD_CONFIG', 'UNSUPPORTED_ARCHITECTURE'];
const ACT_VALUES = new Set(Object.values(ACT));

/** reader name -> [fixture file name, call, check of an accepted result] */
const READERS = {
  parseModules: ['modules.json', (j) => parseModules(j), (mods) => {
    assert.ok(Array.isArray(mods) && mods.length > 0);
    for (const m of mods) assert.ok(typeof m.path === 'string' && Number.isFinite(m.idx), 'module path and idx');
  }],
  parseBertConfig: ['config.json', (j, rand) => parseBertConfig(j, 'config.json', { head: rand.pick(['none', 'mlm', 'classifier']) }), (c) => {
    for (const k of ['vocabSize', 'hiddenSize', 'numLayers', 'numHeads', 'intermediateSize', 'maxPosition']) {
      assert.ok(Number.isInteger(c[k]) && c[k] >= 1, `${k} = ${c[k]}`);
    }
    assert.equal(c.hiddenSize % c.numHeads, 0);
    assert.ok(c.layerNormEps >= 0 && c.layerNormEps < 1);
  }],
  parsePoolingConfig: ['1_Pooling/config.json', (j) => parsePoolingConfig(j), (p) => {
    assert.ok(Number.isInteger(p.modes) && p.modes >= 1 && p.modes <= 63 && p.count >= 1);
  }],
  parseDenseConfig: ['2_Dense/config.json', (j) => parseDenseConfig(j, '2_Dense/config.json'), (d) => {
    assert.ok(Number.isInteger(d.inFeatures) && d.inFeatures >= 1 && Number.isInteger(d.outFeatures) && d.outFeatures >= 1);
  }],
  parseSentenceBertConfig: ['sentence_bert_config.json', (j) => parseSentenceBertConfig(j), (s) => {
    assert.ok(s.maxSeqLength === undefined || (Number.isInteger(s.maxSeqLength) && s.maxSeqLength >= 1));
  }],
  parseSTConfig: ['config_sentence_transformers.json', (j) => parseSTConfig(j), (s) => {
    assert.ok(Object.values(s.prompts).every((p) => typeof p === 'string'));
    assert.ok(['cosine', 'dot', 'euclidean', 'manhattan'].includes(s.similarityFnName));
  }],
  parseSpladePoolingConfig: ['1_SpladePooling/config.json', (j) => parseSpladePoolingConfig(j), (p) => {
    assert.ok(['max', 'sum'].includes(p.strategy) && ['relu', 'log1p_relu'].includes(p.activation));
  }],
  resolveCrossActivation: ['config.json', (j, rand) => resolveCrossActivation(j, rand.chance(0.5) ? j : null, rand.pick([1, 3])), (a) => {
    assert.ok(['Identity', 'Sigmoid', 'Tanh', 'ReLU'].includes(a.name));
  }],
  resolveMaxLength: ['tokenizer_config.json', (j, rand) => resolveMaxLength({ maxSeqLength: rand.chance(0.5) ? undefined : 64 }, j,
    { maxPosition: 512 }), (m) => {
    assert.ok(Number.isInteger(m) && m <= 512, `max length ${m}`);
  }],
};

function fuzzConfigReaders(seed, keys) {
  const rand = makeRand(seed);
  objectKeys = keys;
  try {
    for (const [name, [file, call]] of Object.entries(READERS)) {
      const originals = fixtureFiles(file);
      assert.ok(originals.length > 0, `no fixture ${file}`);
      for (let i = 0; i < 250 * RUNS; i++) {
        const { file: from, json } = rand.pick(originals);
        const mutated = asParsed(mutateJson(structuredClone(json), rand));
        expectKnown(`${name} on mutated ${from} (seed ${SEED}, iteration ${i}): ${JSON.stringify(mutated)?.slice(0, 300)}`,
          CONFIG_CODES, () => call(mutated, rand));
      }
    }
  } finally {
    objectKeys = STRINGS;
  }
}

test('config readers: mutated fixture files are accepted or refused with BAD_CONFIG / UNSUPPORTED_ARCHITECTURE', () => {
  fuzzConfigReaders(SEED ^ 0xc0f, STRINGS.filter((k) => !TO_PRIMITIVE_KEYS.includes(k)));
});

test('config readers: objects with a "toString" or "valueOf" key are refused, not a TypeError', () => {
    fuzzConfigReaders(SEED ^ 0x7057, STRINGS);
  });

test('config readers: what they accept is well-formed (prototype names are not valid values)', () => {
  const rand = makeRand(SEED ^ 0xacc);
  const bad = [];
  for (const [name, [file, call, check]] of Object.entries(READERS)) {
    const originals = fixtureFiles(file);
    for (let i = 0; i < 250 * RUNS; i++) {
      const { file: from, json } = rand.pick(originals);
      const mutated = asParsed(mutateJson(structuredClone(json), rand));
      let value;
      try { value = call(mutated, rand); } catch { continue; }
      try { check(value); } catch (err) {
        bad.push(`${name} accepted mutated ${from}: ${err.message}: ${JSON.stringify(mutated)?.slice(0, 200)}`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

test('config readers: names that are Object.prototype members are refused, not resolved', () => {
  const base = fixtureJson('st-mean/config.json');
  const cases = [
    () => parseBertConfig({ ...base, hidden_act: 'constructor' }),
    () => parseBertConfig({ ...base, architectures: ['toString'] }),
    () => parseModules([{ idx: 0, path: '', type: 'sentence_transformers.models.constructor' }]),
    () => parseDenseConfig({ in_features: 4, out_features: 4, activation_function: 'torch.nn.toString' }, '2_Dense/config.json'),
  ];
  for (const [i, call] of cases.entries()) {
    const r = expectKnown(`case ${i}`, CONFIG_CODES, call);
    assert.ok(!r.ok, `case ${i} accepted: ${JSON.stringify(r.value, (k, v) => (typeof v === 'function' ? `[function ${v.name}]` : v))}`);
  }
  for (const act of ['constructor', '__proto__', 'hasOwnProperty']) {
    const r = expectKnown(act, CONFIG_CODES, () => parseBertConfig({ ...base, hidden_act: act }));
    if (r.ok) assert.ok(ACT_VALUES.has(r.value.hiddenAct), `hidden_act ${act} -> ${r.value.hiddenAct}`);
  }
});
