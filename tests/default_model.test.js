// The model the package ships (models/static-en): loads with no source, is a
// StaticEmbedding read exactly as the library reads one, and finds sensible
// neighbours. Ranking assertions, not numbers: the model may be retrained.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer, util } from '../js/index.js';

const dir = fileURLToPath(new URL('../models/static-en/', import.meta.url));

test('the default model is small and loads with no source or by its name', async (t) => {
  let bytes = 0;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const st = fs.statSync(`${dir}/${f}`);
    if (st.isFile()) bytes += st.size;
  }
  assert.ok(bytes <= 8 * 1024 * 1024, `models/static-en is ${bytes} bytes (> 8 MB)`);
  const a = await SentenceTransformer.load();
  const b = await SentenceTransformer.load('sentence-wasm/static-en');
  t.after(() => Promise.all([a.dispose(), b.dispose()]));
  assert.equal(a.similarityFnName, 'cosine');
  const [va, vb] = [await a.encode('a flat bicycle tyre'), await b.encode('a flat bicycle tyre')];
  assert.deepEqual([...va], [...vb]);
  assert.equal(va.length, a.dimension);
});

test('semantic search with the default model ranks the related sentence first', async (t) => {
  const model = await SentenceTransformer.load();
  t.after(() => model.dispose());
  const corpus = [
    'The stock market fell sharply after the earnings report.',
    'How to repair a punctured bike wheel and pump up the tire.',
    'She baked a chocolate cake for the birthday party.',
    'The parliament voted on a new tax law.',
    'A cat is sleeping on the sofa.',
  ];
  const cases = [
    ['my bicycle has a flat tyre', 1],
    ['recipe for a sweet dessert', 2],
    ['shares and investors lost money', 0],
    ['a kitten resting on the couch', 4],
    ['the government passed legislation', 3],
  ];
  const docs = await model.encode(corpus);
  for (const [query, want] of cases) {
    const [hits] = util.semanticSearch(await model.encode(query), docs, { topK: corpus.length });
    assert.equal(hits[0].corpusId, want, `${query}: ranked ${hits.map((h) => corpus[h.corpusId]).join(' | ')}`);
  }
});

test('StaticEmbedding: mean of the rows of the tokens, no special tokens, then Normalize', async (t) => {
  // Independent computation: read the safetensors F16 table and tokenizer here.
  const tok = JSON.parse(fs.readFileSync(`${dir}/0_StaticEmbedding/tokenizer.json`, 'utf8'));
  const buf = fs.readFileSync(`${dir}/0_StaticEmbedding/model.safetensors`);
  const n = Number(buf.readBigUInt64LE(0));
  const { 'embedding.weight': w } = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  assert.equal(w.dtype, 'F16');
  const [, dim] = w.shape;
  const half = (i) => {
    const h = buf.readUInt16LE(8 + n + w.data_offsets[0] + 2 * i);
    const e = (h >> 10) & 31, m = h & 1023, sign = h & 0x8000 ? -1 : 1;
    return sign * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
  };
  const model = await SentenceTransformer.load(dir);
  t.after(() => model.dispose());
  // "hello world": two whole-word vocabulary entries, so the ids are plain lookups.
  const ids = ['hello', 'world'].map((w2) => tok.model.vocab[w2]);
  const { inputIds } = await model.tokenize(['Hello world']);
  assert.deepEqual([...inputIds[0]], ids, 'no [CLS]/[SEP]: StaticEmbedding tokenizes without special tokens');
  const mean = Array.from({ length: dim }, (_, j) => (half(ids[0] * dim + j) + half(ids[1] * dim + j)) / 2);
  const norm = Math.hypot(...mean);
  const got = await model.encode('Hello world');
  mean.forEach((v, j) => assert.ok(Math.abs(got[j] - v / norm) < 1e-5, `dim ${j}: ${got[j]} vs ${v / norm}`));
  const empty = await model.encode('');
  assert.ok(empty.every((x) => x === 0), 'an empty text is an empty bag: a zero vector, as EmbeddingBag gives');
});

test('StaticEmbedding applies a truncation stored in its tokenizer.json, as the library does', async (t) => {
  const { copyFixtureFrom } = await import('./helpers/model_copies.js');
  const copy = copyFixtureFrom(dir);
  const f = `${copy}/0_StaticEmbedding/tokenizer.json`;
  const tj = JSON.parse(fs.readFileSync(f, 'utf8'));
  tj.truncation = { direction: 'Right', max_length: 3, strategy: 'LongestFirst', stride: 0 };
  fs.writeFileSync(f, JSON.stringify(tj));
  const model = await SentenceTransformer.load(copy);
  t.after(() => model.dispose());
  const { inputIds } = await model.tokenize(['one two three four five']);
  assert.equal(inputIds[0].length, 3);
  assert.equal(model.maxSeqLength, 3);
});
