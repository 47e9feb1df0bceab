// Hard inputs through the public API on the st-mean fixture: a 10 MB text,
// 100,000 texts in one call, empty arrays, non-string items, lone
// surrogates, NUL and other control characters, right-to-left text. Each
// gives a correct result or a clear INVALID_INPUT error. Plus the property
// behind the 10 MB case: the tokenizer's early stop for long texts gives
// exactly the ids of tokenizing the whole text, for every WordPiece
// tokenizer in the fixtures.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { loadTokenizer } from '../js/tokenizers/index.js';
import { FIXTURES, fixtureDir, readReference, assertClose, assertAllClose } from './helpers/fixtures.js';

const ref = readReference('st-mean');
const refOf = (text) => {
  const i = ref.inputs.indexOf(text);
  assert.ok(i >= 0, `no reference for ${JSON.stringify(text)}`);
  return ref.encode_default[i];
};
const TEN_MB = 10 * 1024 * 1024;

let model;
test.before(async () => { model = await SentenceTransformer.load(fixtureDir('st-mean')); });
test.after(async () => { await model?.dispose(); });

async function rejectsInvalid(promise, pattern) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SentenceWasmError, `not a SentenceWasmError: ${err && err.stack}`);
    assert.equal(err.code, 'INVALID_INPUT', err.message);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** `unit` repeated to at least `bytes` bytes of UTF-8. */
function repeatTo(unit, bytes) {
  return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
}

// ---- 10 MB ----

const LONG_TEXTS = {
  'English prose': repeatTo(`${ref.inputs.slice(3, 11).join(' ')} `, TEN_MB),
  'Chinese without spaces': repeatTo('北京是中国的首都。东京塔很高，长城很长。', TEN_MB),
  'punctuation only': repeatTo('...!?;', TEN_MB),
  'mixed scripts': repeatTo('Café naïve 北京 مرحبا بالعالم Привет, мир! 🍕 ', TEN_MB),
};

for (const [name, big] of Object.entries(LONG_TEXTS)) {
  test(`a 10 MB text (${name}) gives the ids and the vector of its beginning`, async () => {
    assert.ok(Buffer.byteLength(big) >= TEN_MB);
    const head = big.slice(0, 4000); // far more than 128 tokens of every kind above
    const rss0 = process.memoryUsage().rss;
    const { inputIds: [ids] } = await model.tokenize([big]);
    const grew = process.memoryUsage().rss - rss0;
    const { inputIds: [headIds] } = await model.tokenize([head]);
    assert.equal(ids.length, model.maxSeqLength, 'truncated to max_seq_length');
    assert.deepEqual(Array.from(ids), Array.from(headIds));
    const [eBig, eHead] = await model.encode([big, head]);
    assertClose(eBig, eHead, name);
    // The whole text is sent to the worker (a copy), but never tokenized whole:
    // before the early stop, the Chinese text alone took over 1 GB here.
    assert.ok(grew < 256 * 2 ** 20, `memory grew by ${(grew / 2 ** 20).toFixed(0)} MB`);
  });
}

test('a 10 MB word without any break is one [UNK]', async () => {
  const { inputIds: [ids] } = await model.tokenize(['x'.repeat(TEN_MB)]);
  assert.deepEqual(Array.from(ids), [101, 100, 102]);
});

test('the tokenizer reads only the beginning of a long text (work does not grow with the text)', () => {
  const tok = loadTokenizer(JSON.parse(fs.readFileSync(path.join(fixtureDir('st-mean'), 'tokenizer.json'), 'utf8')));
  for (const [name, big] of Object.entries(LONG_TEXTS)) {
    let chars = 0;
    const preTokenize = tok._preTokenize;
    tok._preTokenize = (s) => { chars += s.length; return preTokenize(s); };
    try {
      const { ids } = tok.encode(big, { maxLength: 128 });
      assert.equal(ids.length, 128, name);
    } finally {
      tok._preTokenize = preTokenize;
    }
    assert.ok(chars < 64 * 1024, `${name}: ${chars} characters pre-tokenized for 128 tokens of a ${big.length}-character text`);
  }
});

/** Every WordPiece tokenizer.json in the fixtures, with its tokenizer_config.json. */
function fixtureTokenizers() {
  const dirs = [...fs.readdirSync(FIXTURES), ...fs.readdirSync(path.join(FIXTURES, 'models')).map((d) => `models/${d}`)];
  const out = [];
  for (const d of dirs) {
    const f = path.join(FIXTURES, d, 'tokenizer.json');
    if (!fs.existsSync(f)) continue;
    const json = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (json.model?.type !== 'WordPiece') continue;
    const c = path.join(FIXTURES, d, 'tokenizer_config.json');
    out.push({ name: d, json, config: fs.existsSync(c) ? JSON.parse(fs.readFileSync(c, 'utf8')) : null });
  }
  return out;
}

test('early stop: truncated ids equal those of tokenizing the whole text, for every fixture tokenizer', () => {
  // Fragments that stress each boundary rule: added tokens, combining marks,
  // CJK next to Latin, final sigma, ligatures, lone surrogates, NUL, RTL marks.
  const FRAGMENTS = ['hello', ' ', '  ', '\t', '\n', '\r\n', 'world', '.', ',', '!!', '[MASK]', '[SEP]', '[cls]', '<mask>',
    'Caf\u00e9', 'e\u0301', '\u0301', '\u5317\u4eac', '\u4e2d', '\u6771\u4eac\u30bf\u30ef\u30fc', '\u03a3\u0391\u03a3', '\u03c3', '\u0130',
    '\ufb01', '\ud83d\ude00', '\ud800', '\u0000', '\u200f', 'don\'t', '_', 'a_b', '3.14', '##', 'un', 'believable', '-', '\u2014',
    '\u201c', '(', ')', '$', '[', ']', '\uff46\uff55\uff4c\uff4c', 'x'.repeat(120), '\u05e9\u05dc\u05d5\u05dd'];
  let seed = 12345;
  const rnd = (n) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const tokenizers = fixtureTokenizers();
  assert.ok(tokenizers.length >= 3);
  let cut = 0;
  for (const { name, json, config } of tokenizers) {
    const tok = loadTokenizer(json, { tokenizerConfig: config });
    const whole = loadTokenizer(json, { tokenizerConfig: config });
    whole._cut = null; // the reference: no early stop, truncate after tokenizing everything
    if (tok._cut) cut++;
    for (let i = 0; i < 60; i++) {
      const parts = [];
      for (let k = 200 + rnd(3000); k > 0; k--) parts.push(FRAGMENTS[rnd(FRAGMENTS.length)]);
      const text = parts.join('');
      const maxLength = 1 + rnd(300);
      assert.deepEqual(Array.from(tok.encode(text, { maxLength }).ids), Array.from(whole.encode(text, { maxLength }).ids),
        `${name}, maxLength ${maxLength}, text ${JSON.stringify(text.slice(0, 120))}...`);
    }
  }
  assert.ok(cut >= 3, 'the early stop is active for the BERT tokenizers');
});

// ---- many texts ----

test('100,000 texts in one call: one vector each, equal to single calls, memory bounded', async () => {
  const words = ref.inputs.slice(3, 11).join(' ').split(/\s+/);
  const texts = Array.from({ length: 100_000 }, (_, i) => (i % 3 === 0 ? words[i % words.length] : `${words[i % words.length]} ${i % 997}`));
  const rss0 = process.memoryUsage().rss;
  const embs = await model.encode(texts, { batchSize: 256 });
  const grew = process.memoryUsage().rss - rss0;
  assert.equal(embs.length, texts.length);
  for (const e of embs) assert.ok(e instanceof Float32Array && e.length === 32);
  for (let i = 0; i < texts.length; i += 4999) {
    let ss = 0;
    for (const v of embs[i]) ss += v * v;
    assert.ok(Math.abs(Math.sqrt(ss) - 1) < 1e-5, `text ${i} normalized`);
    assertClose(embs[i], await model.encode(texts[i]), `text ${i} vs a single call`);
  }
  assert.ok(grew < 768 * 2 ** 20, `memory grew by ${(grew / 2 ** 20).toFixed(0)} MB`);
});

// ---- empty and wrong inputs ----

test('empty inputs: [] gives [], "" gives the [CLS] [SEP] vector', async () => {
  assert.deepEqual(await model.encode([]), []);
  assert.deepEqual(await model.tokenize([]), { inputIds: [], attentionMask: [] });
  assertClose(await model.encode(''), refOf(''), 'empty string');
  assertAllClose(await model.encode(['', '   ', '\t\n  \r\n']), [refOf(''), refOf('   '), refOf('\t\n  \r\n')], 'blank strings');
});

test('non-string items reject with INVALID_INPUT naming the item, and the model still answers', async () => {
  const bad = [[42], ['ok', null], [undefined], [{}], [['nested']], [new String('boxed')], [1n], [true], [, 'hole']]; // eslint-disable-line no-sparse-arrays
  for (const items of bad) {
    await rejectsInvalid(model.encode(items), /input \d+ is/);
    await rejectsInvalid(model.tokenize(items), /input \d+ is/);
  }
  for (const notArray of [42, null, new Set(['a']), { 0: 'a', length: 1 }]) await rejectsInvalid(model.encode(notArray));
  assertClose(await model.encode('Hello world'), refOf('Hello world'), 'after the errors');
});

test('items that cannot be sent to the worker (Symbol, function) reject with INVALID_INPUT', async () => {
    await rejectsInvalid(model.encode([Symbol('s')]));
    await rejectsInvalid(model.encode([() => 'text']));
  });

// ---- unusual characters ----

test('lone surrogates become U+FFFD (which BERT\'s normalizer drops), never an error', async () => {
  const cases = [['\ud800', ''], ['a\udc00b', 'ab'], ['\udbff\udbff x', ' x'], ['x\ud83d', 'x'], ['\ude00\ud83d\ude00', '\ud83d\ude00']];
  for (const [text, same] of cases) {
    const { inputIds: [a] } = await model.tokenize([text]);
    const { inputIds: [b] } = await model.tokenize([same]);
    assert.deepEqual(Array.from(a), Array.from(b), JSON.stringify(text));
    assertClose(await model.encode(text), await model.encode(same), JSON.stringify(text));
  }
});

test('NUL and other control characters are removed as the library does', async () => {
  const withControls = 'Control\u0000chars\u0007here\u001bdone\u200b end';
  assertClose(await model.encode(withControls), refOf(withControls), 'reference input with controls');
  for (const c of ['\u0000', '\u0001', '\u0007', '\u001b', '\u007f', '\u0085', '\u200b', '\ufeff', '\ufffd']) {
    assertClose(await model.encode(`Hello${c} world`), refOf('Hello world'), `Hello${JSON.stringify(c)} world`);
  }
  const onlyControls = '\u0000\u0001\u0002\u0007\u001b';
  assertClose(await model.encode(onlyControls), refOf(''), 'only controls');
});

test('right-to-left text: as the reference, bidi marks dropped, same result alone and in a batch', async () => {
  const arabic = '\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645';
  assertClose(await model.encode(arabic), refOf(arabic), 'Arabic');
  // RLM, LRM, RLE ... PDF, RLI ... PDI are format characters (Cf): removed.
  const marked = `\u200f${arabic.slice(0, 5)}\u200e \u202b${arabic.slice(6)}\u202c\u2067\u2069`;
  assertClose(await model.encode(marked), refOf(arabic), 'Arabic with bidi marks');
  const mixed = ['\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd', `${arabic} 123 abc`, '\u202eevil.exe\u202c'];
  const batch = await model.encode(mixed);
  for (const [i, text] of mixed.entries()) {
    assert.ok(batch[i].every(Number.isFinite), JSON.stringify(text));
    assertClose(batch[i], await model.encode(text), `${JSON.stringify(text)} alone`);
  }
});
