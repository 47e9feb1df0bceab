// Loading a model folder from disk, a URL and a Hub id (served by a local
// server on 127.0.0.1), with progress; and every load failure of the issue,
// each a SentenceWasmError with its code and a message naming the culprit.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';
import { serveFolder } from './helpers/serve.js';
import { copyFixture, editJson, editSafetensorsHeader, readSafetensors, writeSafetensors } from './helpers/model_copies.js';
import { rejectsWith } from './helpers/errors.js';

const ref = readReference('st-mean');
const sample = ref.inputs.slice(3, 8);
const expected = ref.encode_default.slice(3, 8);


test('loads by URL from a static server, with progress, fetching only the needed files', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const events = [];
  const model = await SentenceTransformer.load(server.url, { onProgress: (p) => events.push(p) });
  t.after(() => model.dispose());
  assertAllClose(await model.encode(sample), expected, 'url');
  const files = new Set(server.requests.map((r) => r.replace(/^\//, '')));
  assert.ok(files.has('model.safetensors') && files.has('tokenizer.json') && files.has('modules.json'));
  for (const f of files) assert.ok(!/README|vocab\.txt|reference\.json/.test(f), `fetched ${f} it does not need`);
  const st = events.filter((e) => e.file === 'model.safetensors');
  assert.ok(st.some((e) => e.status === 'progress' || e.status === 'done'), 'progress for the weights');
  const done = st.find((e) => e.status === 'done');
  assert.equal(done.loaded, fs.statSync(path.join(fixtureDir('st-mean'), 'model.safetensors')).size);
});

test('loads a Hub id through hubUrl and a user-supplied fetch', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'), { hubPrefix: 'hub' });
  t.after(() => server.close());
  let calls = 0;
  const myFetch = (...args) => { calls++; return fetch(...args); };
  const model = await SentenceTransformer.load('sentence-wasm/st-mean', { hubUrl: server.hubUrl, fetch: myFetch, revision: 'v1' });
  t.after(() => model.dispose());
  assertAllClose(await model.encode(sample), expected, 'hub');
  assert.ok(calls >= 5, `user fetch used for every file (${calls})`);
  assert.ok(server.requests.every((r) => r.startsWith('/hub/sentence-wasm/st-mean/resolve/v1/')), server.requests.join(' '));
});

test('missing folder -> MODEL_NOT_FOUND', async () => {
  await rejectsWith(SentenceTransformer.load('/nonexistent/model/folder'), 'MODEL_NOT_FOUND');
});

test('missing file -> MODEL_NOT_FOUND naming it', async () => {
  const dir = copyFixture('st-mean');
  fs.rmSync(path.join(dir, 'tokenizer.json'));
  await rejectsWith(SentenceTransformer.load(dir), 'MODEL_NOT_FOUND', /tokenizer\.json/);
});

test('HTTP 404 on the weights -> MODEL_NOT_FOUND naming the file', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  server.fail.set('model.safetensors', { status: 404 });
  await rejectsWith(SentenceTransformer.load(server.url), 'MODEL_NOT_FOUND', /model\.safetensors/);
});

test('truncated download -> FETCH_FAILED', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  server.fail.set('model.safetensors', { truncate: 1000 });
  await rejectsWith(SentenceTransformer.load(server.url), 'FETCH_FAILED', /truncated|model\.safetensors/);
});

test('truncated safetensors file on disk -> BAD_SAFETENSORS', async () => {
  const dir = copyFixture('st-mean');
  const f = path.join(dir, 'model.safetensors');
  fs.truncateSync(f, fs.statSync(f).size - 100);
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /model\.safetensors/);
});

test('offsets past the end -> BAD_SAFETENSORS naming the tensor', async () => {
  const dir = copyFixture('st-mean');
  editSafetensorsHeader(path.join(dir, 'model.safetensors'), (h) => {
    const t = h['embeddings.LayerNorm.bias'];
    t.data_offsets = [t.data_offsets[0] + 10_000_000, t.data_offsets[1] + 10_000_000];
  });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /embeddings\.LayerNorm\.bias/);
});

test('unknown dtype -> BAD_SAFETENSORS', async () => {
  const dir = copyFixture('st-mean');
  editSafetensorsHeader(path.join(dir, 'model.safetensors'), (h) => { h['embeddings.LayerNorm.bias'].dtype = 'F12'; });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /F12/);
});

test('a dtype the engine cannot use (I32 weights) -> BAD_SAFETENSORS', async () => {
  const dir = copyFixture('st-mean');
  editSafetensorsHeader(path.join(dir, 'model.safetensors'), (h) => { h['embeddings.LayerNorm.bias'].dtype = 'I32'; });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /embeddings\.LayerNorm\.bias.*I32/);
});

test('missing tensor -> BAD_SAFETENSORS naming it', async () => {
  const dir = copyFixture('st-mean');
  editSafetensorsHeader(path.join(dir, 'model.safetensors'), (h) => { delete h['encoder.layer.1.output.dense.weight']; });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /encoder\.layer\.1\.output\.dense\.weight.*missing/);
});

test('a tensor of the wrong shape -> BAD_SAFETENSORS naming it and both shapes', async () => {
  const dir = copyFixture('st-mean');
  const f = path.join(dir, 'model.safetensors');
  const { header, data } = readSafetensors(f);
  const t = header['encoder.layer.0.intermediate.dense.weight']; // [64, 32]
  t.shape = [32, 64];
  writeSafetensors(f, header, data);
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_SAFETENSORS', /intermediate\.dense\.weight.*\[32, 64\].*\[64, 32\]/);
});

test('F16 and BF16 weights load and give nearly the same vectors', async () => {
  for (const dtype of ['F16', 'BF16']) {
    const dir = copyFixture('st-mean');
    const f = path.join(dir, 'model.safetensors');
    const { header, data } = readSafetensors(f);
    const chunks = [];
    let off = 0;
    for (const [name, t] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const src = new Float32Array(data.buffer.slice(data.byteOffset + t.data_offsets[0], data.byteOffset + t.data_offsets[1]));
      const out = Buffer.alloc(src.length * 2);
      const u32 = new Uint32Array(src.buffer);
      for (let i = 0; i < src.length; i++) {
        let bits;
        if (dtype === 'BF16') bits = u32[i] >>> 16;
        else bits = f32ToF16Bits(src[i]);
        out.writeUInt16LE(bits, i * 2);
      }
      t.dtype = dtype;
      t.data_offsets = [off, off + out.length];
      off += out.length;
      chunks.push(out);
    }
    writeSafetensors(f, header, Buffer.concat(chunks));
    const model = await SentenceTransformer.load(dir);
    const embs = await model.encode(sample);
    await model.dispose();
    embs.forEach((e, i) => {
      let d = 0, na = 0, nb = 0;
      e.forEach((v, j) => { d += v * expected[i][j]; na += v * v; nb += expected[i][j] ** 2; });
      assert.ok(d / Math.sqrt(na * nb) > 0.99, `${dtype} input ${i}: cosine ${d / Math.sqrt(na * nb)}`);
    });
  }
});

test('unsupported architecture -> UNSUPPORTED_ARCHITECTURE naming it', async () => {
  const dir = copyFixture('st-mean');
  editJson(path.join(dir, 'config.json'), (c) => { c.model_type = 'roberta'; c.architectures = ['RobertaModel']; });
  await rejectsWith(SentenceTransformer.load(dir), 'UNSUPPORTED_ARCHITECTURE', /roberta/);
});

test('hidden_size not divisible by heads -> BAD_CONFIG', async () => {
  const dir = copyFixture('st-mean');
  editJson(path.join(dir, 'config.json'), (c) => { c.num_attention_heads = 5; });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_CONFIG', /divisible/);
});

test('modules.json pointing outside the folder -> BAD_CONFIG', async () => {
  const dir = copyFixture('st-mean');
  editJson(path.join(dir, 'modules.json'), (m) => { m[1].path = '../1_Pooling'; });
  await rejectsWith(SentenceTransformer.load(dir), 'BAD_CONFIG', /\.\./);
});

test('bad calls reject with INVALID_INPUT and the model still answers', async (t) => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  t.after(() => model.dispose());
  const bad = [
    () => model.encode(42),
    () => model.encode(['ok', 7]),
    () => model.encode([null]),
    () => model.encode(['a'], { promptName: 'nope' }),
    () => model.encode(['a'], { batchSize: 0 }),
    () => model.encode(['a'], { precision: 'int4' }),
    () => model.encode(['a'], { truncateDim: -1 }),
    () => model.encode(['a'], { outputValue: 'logits' }),
    () => model.encode(['a'], { batchsize: 4 }),
  ];
  for (const call of bad) {
    await rejectsWith(call(), 'INVALID_INPUT');
    assertAllClose(await model.encode(sample), expected, 'after error');
  }
  assert.deepEqual(await model.encode([]), []);
});

test('dispose: later calls reject with DISPOSED', async () => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  await model.dispose();
  await rejectsWith(model.encode('x'), 'DISPOSED');
  await model.dispose(); // twice is fine
});

/** float32 -> IEEE half bits, round to nearest even (test-side converter). */
function f32ToF16Bits(v) {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let man = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    man |= 0x800000;
    const shift = 14 - exp;
    let h = man >>> shift;
    if ((man >>> (shift - 1)) & 1 && ((man & ((1 << (shift - 1)) - 1)) || (h & 1))) h++;
    return sign | h;
  }
  if (exp >= 31) return sign | 0x7c00;
  let h = sign | (exp << 10) | (man >>> 13);
  if ((man & 0x1000) && ((man & 0x2fff) !== 0)) h++;
  return h;
}
