// The worker protocol under use: concurrent calls, two models at once,
// AbortSignal, and the process not kept alive by an idle worker.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { fixtureDir, readReference } from './helpers/fixtures.js';

const ref = readReference('st-mean');

test('200 concurrent encode() calls resolve with the sequential results', async (t) => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  t.after(() => model.dispose());
  const texts = ref.inputs;
  const sequential = [];
  for (const x of texts) sequential.push(await model.encode(x));
  const calls = Array.from({ length: 200 }, (_, i) => model.encode(texts[i % texts.length]));
  const results = await Promise.all(calls);
  results.forEach((r, i) => assert.deepEqual([...r], [...sequential[i % texts.length]], `call ${i}`));
});

test('two models in one process, interleaved, keep their own results', async (t) => {
  const a = await SentenceTransformer.load(fixtureDir('st-mean'));
  const b = await SentenceTransformer.load(fixtureDir('st-max'));
  t.after(() => Promise.all([a.dispose(), b.dispose()]));
  const text = ref.inputs[4];
  const [ea1, eb1] = [await a.encode(text), await b.encode(text)];
  const mixed = await Promise.all([a.encode(text), b.encode(text), a.encode(text), b.encode(text)]);
  assert.deepEqual([...mixed[0]], [...ea1]);
  assert.deepEqual([...mixed[1]], [...eb1]);
  assert.deepEqual([...mixed[2]], [...ea1]);
  assert.deepEqual([...mixed[3]], [...eb1]);
});

test('AbortSignal: an aborted call rejects with ABORTED, the next call works', async (t) => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  t.after(() => model.dispose());
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(model.encode('x', { signal: pre.signal }), (e) => e instanceof SentenceWasmError && e.code === 'ABORTED');
  const ctl = new AbortController();
  const many = Array.from({ length: 3000 }, (_, i) => `sentence number ${i} about nothing much`);
  const pending = model.encode(many, { batchSize: 1, signal: ctl.signal });
  setTimeout(() => ctl.abort(), 5);
  await assert.rejects(pending, (e) => e instanceof SentenceWasmError && e.code === 'ABORTED');
  const after = await model.encode(ref.inputs[3]);
  assert.equal(after.length, 32);
});

test('dispose() during work rejects pending calls with DISPOSED', async () => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  const many = Array.from({ length: 2000 }, (_, i) => `text ${i}`);
  const rejected = assert.rejects(model.encode(many, { batchSize: 1 }),
    (e) => e instanceof SentenceWasmError && e.code === 'DISPOSED');
  await model.dispose();
  await rejected;
});

test('an idle model does not keep Node from exiting', () => {
  const script = `
    import { SentenceTransformer } from ${JSON.stringify(new URL('../js/index.js', import.meta.url).href)};
    const m = await SentenceTransformer.load(${JSON.stringify(fixtureDir('st-mean'))});
    await m.encode('hello');
    console.log('done');`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 30000 }).toString();
  assert.match(out, /done/);
});

test('threads: 3 workers split a call and give the one-worker results, quantized over the whole call', async (t) => {
  const one = await SentenceTransformer.load(fixtureDir('st-mean'));
  const three = await SentenceTransformer.load(fixtureDir('st-mean'), { threads: 3 });
  t.after(() => Promise.all([one.dispose(), three.dispose()]));
  const texts = [...ref.inputs, ...ref.inputs];
  let b0;
  for (const precision of ['float32', 'int8', 'ubinary']) {
    const a = await one.encode(texts, { precision });
    const b = await three.encode(texts, { precision });
    if (precision === 'int8') b0 = b;
    assert.equal(b.length, texts.length);
    b.forEach((v, i) => assert.deepEqual([...v], [...a[i]], `${precision} text ${i}`));
  }
  // ranges span the whole call: a slice alone would quantize differently
  const sliceAlone = await one.encode(texts.slice(0, 10), { precision: 'int8' });
  assert.ok(sliceAlone.some((v, i) => v.some((x, j) => x !== b0[i][j])), 'the test can tell whole-call from per-slice ranges');
});

test('threads: CrossEncoder and SparseEncoder split calls and give the one-worker results', async (t) => {
  const { CrossEncoder, SparseEncoder } = await import('../js/index.js');
  const cref = readReference('cross-1label');
  const pairs = [...cref.pairs, ...cref.pairs];
  const c1 = await CrossEncoder.load(fixtureDir('cross-1label'));
  const c2 = await CrossEncoder.load(fixtureDir('cross-1label'), { threads: 2 });
  const sref = readReference('sparse-splade-max');
  const s1 = await SparseEncoder.load(fixtureDir('sparse-splade-max'));
  const s2 = await SparseEncoder.load(fixtureDir('sparse-splade-max'), { threads: 2 });
  t.after(() => Promise.all([c1.dispose(), c2.dispose(), s1.dispose(), s2.dispose()]));
  assert.deepEqual([...await c2.predict(pairs)], [...await c1.predict(pairs)]);
  const a = await s1.encode(sref.inputs);
  const b = await s2.encode(sref.inputs);
  b.forEach((v, i) => {
    assert.deepEqual([...v.indices], [...a[i].indices], `indices ${i}`);
    assert.deepEqual([...v.values], [...a[i].values], `values ${i}`);
  });
});
