// In a real browser (headless Chromium), over HTTP from web/serve.mjs: the
// fixture models give the same numbers as in Node and as the
// sentence-transformers reference (within 1e-4, cosine >= 0.99999), with and
// without cross-origin isolation (COOP/COEP headers on and off). Chromium has
// relaxed SIMD, so these run the relaxed-SIMD build; the plain one is forced
// once (wasmBuild: 'plain') and checked too.
import assert from 'node:assert/strict';

import { SentenceTransformer, CrossEncoder, SparseEncoder } from '../../js/index.js';
import { startServer } from '../../web/serve.mjs';
import { fixtureDir, readReference, assertAllClose, ABS_TOL } from '../helpers/fixtures.js';
import { browserTest, launch, newPage } from './helpers.js';

const stRef = readReference('st-mean');
const ceRef = readReference('cross-1label');
const seRef = readReference('sparse-splade-max');

/** Runs in the page: loads the three fixture models over HTTP and runs the reference calls. */
async function runInPage({ stInputs, pairs, seInputs }) {
  const sw = await import('/js/index.js');
  const base = new URL('/tests/fixtures/', location.href).href;
  const st = await sw.SentenceTransformer.load(`${base}st-mean/`, { cache: false });
  const dense = await st.encode(stInputs);
  const dense1 = await st.encode(stInputs, { batchSize: 1 });
  const threads = { count: st.threads, sharedMemory: st.sharedMemory };
  await st.dispose();
  // Two threads whatever the page: shared memory when isolated, two workers else.
  const st2 = await sw.SentenceTransformer.load(`${base}st-mean/`, { cache: false, threads: 2 });
  const dense2 = await st2.encode(stInputs);
  const threads2 = { count: st2.threads, sharedMemory: st2.sharedMemory };
  await st2.dispose();
  const ce = await sw.CrossEncoder.load(`${base}cross-1label/`, { cache: false });
  const scores = await ce.predict(pairs);
  await ce.dispose();
  const se = await sw.SparseEncoder.load(`${base}sparse-splade-max/`, { cache: false });
  const sparse = await se.encode(seInputs);
  await se.dispose();
  // the plain SIMD128 build, forced, on the same calls
  const stPlain = await sw.SentenceTransformer.load(`${base}st-mean/`, { cache: false, wasmBuild: 'plain' });
  const densePlain = await stPlain.encode(stInputs);
  await stPlain.dispose();
  return {
    isolated: globalThis.crossOriginIsolated,
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    builds: [st.wasmBuild, ce.wasmBuild, se.wasmBuild, stPlain.wasmBuild],
    densePlain: densePlain.map((v) => Array.from(v)),
    dense: dense.map((v) => Array.from(v)),
    dense1: dense1.map((v) => Array.from(v)),
    dense2: dense2.map((v) => Array.from(v)),
    threads,
    threads2,
    cores: navigator.hardwareConcurrency,
    scores: Array.from(scores),
    sparse: sparse.map((v) => ({ indices: Array.from(v.indices), values: Array.from(v.values) })),
  };
}

function maxAbsDiff(a, b) {
  let worst = 0;
  a.forEach((v, i) => v.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - b[i][j])); }));
  return worst;
}

function assertSparseEqual(actual, expected, label) {
  assert.equal(actual.length, expected.length, label);
  actual.forEach((v, i) => {
    assert.deepEqual(v.indices, Array.from(expected[i].indices), `${label}[${i}] indices`);
    v.values.forEach((x, j) => assert.ok(Math.abs(x - expected[i].values[j]) <= ABS_TOL,
      `${label}[${i}] value ${j}: ${x} vs ${expected[i].values[j]}`));
  });
}

browserTest('fixture models in Chromium equal Node and the reference, with and without cross-origin isolation', async (t) => {
  // Node's results, for the same calls.
  const st = await SentenceTransformer.load(fixtureDir('st-mean'));
  const nodeDense = (await st.encode(stRef.inputs)).map((v) => Array.from(v));
  await st.dispose();
  const ce = await CrossEncoder.load(fixtureDir('cross-1label'));
  const nodeScores = Array.from(await ce.predict(ceRef.pairs));
  await ce.dispose();
  const se = await SparseEncoder.load(fixtureDir('sparse-splade-max'));
  const nodeSparse = (await se.encode(seRef.inputs)).map((v) => ({ indices: Array.from(v.indices), values: Array.from(v.values) }));
  await se.dispose();

  const context = await launch(t);
  for (const isolation of [true, false]) {
    await t.test(isolation ? 'cross-origin isolated (COOP/COEP)' : 'not isolated (--no-isolation)', async () => {
      const server = await startServer({ port: 0, isolation });
      try {
        const page = await newPage(context);
        await page.goto(`${server.url}tests/browser/harness.html`);
        const out = await page.evaluate(runInPage, { stInputs: stRef.inputs, pairs: ceRef.pairs, seInputs: seRef.inputs });
        await page.close();

        assert.equal(out.isolated, isolation, 'crossOriginIsolated follows the headers');
        assert.equal(out.sharedArrayBuffer, isolation, 'SharedArrayBuffer only when isolated');
        // The default: the cores (at most 4) on shared memory when isolated, else one thread.
        const cores = Math.min(4, out.cores);
        assert.deepEqual(out.threads, isolation ? { count: cores, sharedMemory: cores > 1 } : { count: 1, sharedMemory: false });
        assert.deepEqual(out.threads2, { count: 2, sharedMemory: isolation });
        assert.deepEqual(out.dense2, out.dense, 'two threads give exactly the one-thread numbers');

        // Chromium accepts relaxed SIMD: 'auto' loads the relaxed build for every model type.
        assert.deepEqual(out.builds, ['relaxed', 'relaxed', 'relaxed', 'plain']);
        assertAllClose(out.densePlain, stRef.encode_default, 'st-mean browser, plain build, vs reference');
        assertAllClose(out.dense, stRef.encode_default, 'st-mean browser vs reference');
        assertAllClose(out.dense1, stRef.encode_batch_size_1, 'st-mean browser batchSize 1 vs reference');
        assertAllClose(out.dense, nodeDense, 'st-mean browser vs Node');
        t.diagnostic(`st-mean: max |browser - Node| = ${maxAbsDiff(out.dense, nodeDense)}, ` +
          `max |browser - reference| = ${maxAbsDiff(out.dense, stRef.encode_default)}`);

        assert.equal(out.scores.length, ceRef.predict_default.length);
        out.scores.forEach((s, i) => {
          assert.ok(Math.abs(s - ceRef.predict_default[i]) <= ABS_TOL, `cross-1label pair ${i}: ${s} vs reference ${ceRef.predict_default[i]}`);
          assert.ok(Math.abs(s - nodeScores[i]) <= ABS_TOL, `cross-1label pair ${i}: ${s} vs Node ${nodeScores[i]}`);
        });

        assertSparseEqual(out.sparse, seRef.encode_default, 'sparse-splade-max browser vs reference');
        assertSparseEqual(out.sparse, nodeSparse, 'sparse-splade-max browser vs Node');

        // Every model file came over HTTP from this server.
        for (const f of ['st-mean/model.safetensors', 'cross-1label/model.safetensors', 'sparse-splade-max/model.safetensors']) {
          assert.ok(server.requests.includes(`/tests/fixtures/${f}`), `${f} requested`);
        }
        assert.ok(server.requests.includes('/js/worker.js'));
        // Which builds ran: relaxed (auto) and plain (forced once); the
        // shared-memory twins where the page is isolated and there are cores.
        const mt = isolation && cores > 1;
        const fetched = (f) => server.requests.includes(`/dist/${f}`);
        assert.equal(fetched('sentence-wasm-relaxed-mt.wasm'), isolation, 'relaxed, shared memory (threads: 2 when isolated)');
        assert.equal(fetched('sentence-wasm-mt.wasm'), mt, 'plain, shared memory');
        assert.equal(fetched('sentence-wasm-relaxed.wasm'), !mt, 'relaxed, single-threaded');
        assert.equal(fetched('sentence-wasm.wasm'), !mt, 'plain, single-threaded');
      } finally {
        await server.close();
      }
    });
  }
});
