// The load option dtype: 'int8' (alias 'q8') on every golden fixture: the
// encoder's Linear weights are quantized at load, activations per token, so
// outputs move away from the library's float32 ones by ~1%, and these tests
// bound how far: embeddings keep cosine >= 0.99 (DESIGN.md, "Reduced
// precision"), reranker scores keep their order, SPLADE vectors keep their
// terms. Then the dtype errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SentenceTransformer, CrossEncoder, SparseEncoder } from '../js/index.js';
import { fixtureDir, fixtureNames, readReference } from './helpers/fixtures.js';
import { rejectsWith } from './helpers/errors.js';

const MIN_COSINE_INT8 = 0.99;

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na === 0 && nb === 0 ? 1 : d / Math.sqrt(na * nb);
}

function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;

/** Spearman's rank correlation (no ties in these float scores). */
function spearman(a, b) {
  const rank = (v) => {
    const r = new Array(v.length);
    v.map((x, i) => [x, i]).sort((p, q) => p[0] - q[0]).forEach(([, i], k) => { r[i] = k; });
    return r;
  };
  const ra = rank(a), rb = rank(b), n = a.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += (ra[i] - rb[i]) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

// ---------------------------------------------------------------- SentenceTransformer

for (const name of fixtureNames('st-')) {
  test(`${name}: int8 embeddings keep cosine >= ${MIN_COSINE_INT8} with the library's float32 ones`, async (t) => {
    const ref = readReference(name);
    const model = await SentenceTransformer.load(fixtureDir(name), { dtype: 'int8' });
    t.after(() => model.dispose());
    assert.equal(model.dtype, 'int8');
    const out = await model.encode(ref.inputs);
    const cos = out.map((e, i) => cosine(e, ref.encode_default[i]));
    const worst = cos.indexOf(Math.min(...cos));
    t.diagnostic(`${ref.inputs.length} inputs: min cosine ${cos[worst].toFixed(6)}, mean ${mean(cos).toFixed(6)}`);
    cos.forEach((c, i) => assert.ok(c >= MIN_COSINE_INT8, `input ${i} ${JSON.stringify(ref.inputs[i]).slice(0, 40)}: cosine ${c}`));
    // The weights really are quantized: float32 agrees with the library to
    // 1e-4 (sentence_transformer.test.js); int8 moves further somewhere.
    assert.ok(Math.max(...out.map((e, i) => maxAbsDiff(e, ref.encode_default[i]))) > 1e-3, 'int8 output equals float32');
    // Batching does not change an int8 result either: each token's
    // activations are quantized on their own and the integer sums are exact.
    const one = await model.encode(ref.inputs.slice(0, 9), { batchSize: 1 });
    one.forEach((e, i) => assert.deepEqual(e, out[i], `input ${i} alone`));
  });
}

test('int8 vs fp32 on one model: less weight memory, q8 is the same as int8, threads agree', async (t) => {
  const dir = fixtureDir('st-mean');
  const ref = readReference('st-mean');
  const f32 = await SentenceTransformer.load(dir, { dtype: 'float32' });
  const i8 = await SentenceTransformer.load(dir, { dtype: 'int8' });
  const q8 = await SentenceTransformer.load(dir, { dtype: 'q8' });
  const two = await SentenceTransformer.load(dir, { dtype: 'int8', threads: 2 });
  t.after(() => Promise.all([f32, i8, q8, two].map((m) => m.dispose())));
  assert.equal(f32.dtype, 'fp32');
  assert.equal(q8.dtype, 'int8');
  // 2 layers x (4 x 32 x 32 + 2 x 32 x 64) = 16,384 encoder weights: 4 bytes
  // each in float32, 2 (int16 panels) + a scale per row in int8; the 30522 x
  // 32 word embeddings stay float32 in both.
  assert.ok(f32.weightBytes - i8.weightBytes >= 16384, `fp32 ${f32.weightBytes} B, int8 ${i8.weightBytes} B`);
  const texts = ref.inputs;
  const [a, b, c] = await Promise.all([i8.encode(texts), q8.encode(texts), two.encode(texts)]);
  a.forEach((e, i) => {
    assert.deepEqual(b[i], e, `q8 input ${i}`);
    assert.deepEqual(c[i], e, `threads 2 input ${i}`);
  });
});

// ---------------------------------------------------------------- CrossEncoder

// The classifier runs in float32 on int8 encoder states, so each logit moves
// by a noise of its own. What a reranker needs is the order of its scores,
// and errors small next to how far scores lie apart: per label, Spearman's
// rho with the library's logits >= 0.97 over the 21 pairs (measured
// 0.987-0.999), every |logit error| <= 0.3 and the RMS error <= 0.15 of the
// logits' standard deviation (measured at most 0.20 and 0.093), and the
// 1-label fixture's rank() order unchanged.
for (const name of fixtureNames('cross-')) {
  test(`${name}: int8 logits keep their order and stay within 0.3 SD`, async (t) => {
    const ref = readReference(name);
    const model = await CrossEncoder.load(fixtureDir(name), { dtype: 'int8' });
    t.after(() => model.dispose());
    assert.equal(model.dtype, 'int8');
    const L = ref.num_labels;
    const got = await model.predict(ref.pairs, { activationFn: 'Identity' });
    for (let l = 0; l < L; l++) {
      const want = ref.predict_identity_logits.map((r) => (L === 1 ? r : r[l]));
      const have = L === 1 ? [...got] : got.map((r) => r[l]);
      const m = mean(want);
      const sd = Math.sqrt(mean(want.map((x) => (x - m) ** 2)));
      const err = have.map((x, i) => Math.abs(x - want[i]));
      const rho = spearman(have, want);
      const rms = Math.sqrt(mean(err.map((e) => e * e)));
      t.diagnostic(`label ${l}: Spearman ${rho.toFixed(4)}, max |error| ${Math.max(...err).toFixed(4)}, `
        + `RMS ${rms.toFixed(4)}, SD of logits ${sd.toFixed(4)}`);
      assert.ok(rho >= 0.97, `label ${l}: Spearman ${rho}`);
      err.forEach((e, i) => assert.ok(e <= 0.3 * sd, `label ${l} pair ${i}: logit ${have[i]}, library ${want[i]}`));
      assert.ok(rms <= 0.15 * sd, `label ${l}: RMS error ${rms}, SD ${sd}`);
    }
    if (L === 1) {
      const ranked = await model.rank(ref.rank_query, ref.rank_documents);
      assert.deepEqual(ranked.map((r) => r.corpusId), ref.rank.map((r) => r.corpus_id));
    }
  });
}

// ---------------------------------------------------------------- SparseEncoder

// SPLADE vectors: cosine >= 0.99 with the library's (over the union of
// their terms), at least 8 of its 10 heaviest terms among ours, and about
// as many active terms (within 5%; measured +1%).
for (const name of fixtureNames('sparse-')) {
  test(`${name}: int8 SPLADE vectors keep cosine >= 0.99 and their top terms`, async (t) => {
    const ref = readReference(name);
    const model = await SparseEncoder.load(fixtureDir(name), { dtype: 'int8' });
    t.after(() => model.dispose());
    assert.equal(model.dtype, 'int8');
    const out = await model.encode(ref.inputs);
    const dense = (v) => {
      const a = new Float64Array(model.dimension);
      v.indices.forEach((j, k) => { a[j] = v.values[k]; });
      return a;
    };
    const top10 = (v) => [...v.indices].map((j, k) => [j, v.values[k]]).sort((p, q) => q[1] - p[1]).slice(0, 10).map((p) => p[0]);
    const cos = [];
    out.forEach((v, i) => {
      const e = ref.encode_default[i];
      const c = cosine(dense(v), dense(e));
      cos.push(c);
      assert.ok(c >= 0.99, `input ${i}: cosine ${c}`);
      const mine = new Set(top10(v));
      const kept = top10(e).filter((j) => mine.has(j)).length;
      assert.ok(kept >= Math.min(8, e.indices.length), `input ${i}: ${kept} of the library's top 10 terms`);
    });
    const nnz = out.reduce((n, v) => n + v.indices.length, 0), want = ref.encode_default.reduce((n, v) => n + v.indices.length, 0);
    t.diagnostic(`min cosine ${Math.min(...cos).toFixed(6)}, mean ${mean(cos).toFixed(6)}; ${nnz} active terms, library ${want}`);
    assert.ok(Math.abs(nnz - want) <= 0.05 * want, `${nnz} active terms, library ${want}`);
  });
}

// ---------------------------------------------------------------- errors

test('dtype: anything but fp32/float32/int8/q8 is refused by every model type, naming the choices', async () => {
  const st = fixtureDir('st-mean');
  for (const dtype of ['fp16', 'uint8', 'q4', 'INT8', 'int4', '', 8, null]) {
    await rejectsWith(SentenceTransformer.load(st, { dtype }), 'INVALID_INPUT',
      /dtype .* is not supported \(fp32, float32, int8, q8\)/);
  }
  await rejectsWith(CrossEncoder.load(fixtureDir('cross-1label'), { dtype: 'fp16' }), 'INVALID_INPUT', /dtype "fp16"/);
  await rejectsWith(SparseEncoder.load(fixtureDir('sparse-splade-max'), { dtype: 'bnb4' }), 'INVALID_INPUT', /dtype "bnb4"/);
  // the next load still works
  const m = await SentenceTransformer.load(st, { dtype: 'fp32' });
  assert.equal(m.dtype, 'fp32');
  await m.dispose();
});

test('dtype int8 on a StaticEmbedding model is refused: it has no Linear layers to quantize', async () => {
  await rejectsWith(SentenceTransformer.load(undefined, { dtype: 'int8' }), 'INVALID_INPUT', /StaticEmbedding.*without dtype/);
  await rejectsWith(SentenceTransformer.load('sentence-wasm/static-en', { dtype: 'q8' }), 'INVALID_INPUT', /StaticEmbedding/);
  const m = await SentenceTransformer.load(undefined, { dtype: 'fp32' });
  assert.equal(m.dtype, 'fp32');
  await m.dispose();
});
