// Worker death and heavy concurrency, through the public API. The test
// reaches the worker without any API change: node:worker_threads' Worker is
// replaced (for this file only) by a subclass that records every worker the
// library starts and can add options or kill it, and syncBuiltinESMExports()
// makes the library's dynamic import see the subclass. Killing a worker from
// outside (terminate(), or a heap limit it runs into) stands for any crash.
// Must hold: every pending call rejects with WORKER_FAILED, later calls on the
// dead model too, dispose() still works, and a fresh load() works.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { fixtureDir, readReference, assertAllClose, assertClose } from './helpers/fixtures.js';

const MODEL = fixtureDir('st-mean');
const ref = readReference('st-mean');
const SAMPLE = ref.inputs.slice(3, 8);
const EXPECTED = ref.encode_default.slice(3, 8);

// ---- the Worker hook ----

const threads = createRequire(import.meta.url)('node:worker_threads');
const RealWorker = threads.Worker;
const spawned = [];
const hook = { options: null, onSpawn: null };

class TrackedWorker extends RealWorker {
  constructor(url, options) {
    super(url, { ...options, ...(hook.options ?? {}) });
    spawned.push(this);
    hook.onSpawn?.(this);
  }
}

test.before(() => {
  threads.Worker = TrackedWorker;
  syncBuiltinESMExports();
});
test.after(() => {
  threads.Worker = RealWorker;
  syncBuiltinESMExports();
});

async function loadTracked(opts) {
  const before = spawned.length;
  const model = await SentenceTransformer.load(MODEL, opts);
  assert.equal(spawned.length, before + 1, 'the hook saw the model\'s worker');
  return { model, worker: spawned.at(-1) };
}

function assertWorkerFailed(err, label) {
  assert.ok(err instanceof SentenceWasmError, `${label}: ${err && err.stack}`);
  assert.equal(err.code, 'WORKER_FAILED', `${label}: ${err.message}`);
  assert.match(err.message, /worker/);
}

/** A fresh model answers correctly: nothing of the dead worker lingers. */
async function freshLoadWorks() {
  const model = await SentenceTransformer.load(MODEL);
  try {
    assertAllClose(await model.encode(SAMPLE), EXPECTED, 'fresh model');
  } finally {
    await model.dispose();
  }
}

const manyTexts = (n, tag = '') => Array.from({ length: n }, (_, i) => `${SAMPLE[i % SAMPLE.length]} ${tag}${i}`);

// ---- death ----

test('a worker killed mid-call rejects every pending call with WORKER_FAILED; a fresh load() works', async () => {
  const { model, worker } = await loadTracked();
  assertAllClose(await model.encode(SAMPLE), EXPECTED, 'before');
  const pending = Array.from({ length: 12 }, (_, k) => model.encode(manyTexts(3000, `c${k}-`)));
  pending.push(model.tokenize(manyTexts(50)));
  await new Promise((r) => setTimeout(r, 100)); // the worker is busy with the first call
  await worker.terminate(); // from outside: the library did not ask for it
  const settled = await Promise.allSettled(pending);
  for (const [i, s] of settled.entries()) {
    assert.equal(s.status, 'rejected', `call ${i} resolved after the worker died`);
    assertWorkerFailed(s.reason, `call ${i}`);
  }
  await assert.rejects(model.encode('after'), (e) => { assertWorkerFailed(e, 'later call'); return true; });
  await model.dispose(); // fine on a dead worker
  await assert.rejects(model.encode('after dispose'), (e) => e instanceof SentenceWasmError && e.code === 'DISPOSED');
  await freshLoadWorks();
});

test('a worker killed while idle: the next call rejects with WORKER_FAILED, other models are unaffected', async () => {
  const a = await loadTracked();
  const b = await loadTracked();
  await a.worker.terminate();
  await new Promise((r) => setImmediate(r));
  await assert.rejects(a.model.encode(SAMPLE), (e) => { assertWorkerFailed(e, 'idle-killed model'); return true; });
  assertAllClose(await b.model.encode(SAMPLE), EXPECTED, 'the other model');
  await a.model.dispose();
  await b.model.dispose();
});

test('a worker that dies while loading: load() rejects with WORKER_FAILED; the next load() works', async () => {
  hook.onSpawn = (w) => { hook.onSpawn = null; setImmediate(() => w.terminate()); };
  try {
    await assert.rejects(SentenceTransformer.load(MODEL), (e) => { assertWorkerFailed(e, 'load'); return true; });
  } finally {
    hook.onSpawn = null;
  }
  await freshLoadWorks();
});

test('a worker that runs out of heap fails its calls with WORKER_FAILED instead of hanging', async () => {
  // A small V8 heap for this worker only: the model loads (weights live in
  // WebAssembly memory, outside the heap), a huge call does not fit.
  hook.options = { resourceLimits: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 } };
  let loaded;
  try {
    loaded = await loadTracked();
  } finally {
    hook.options = null;
  }
  const { model } = loaded;
  assertAllClose(await model.encode(SAMPLE), EXPECTED, 'small heap, small call');
  const huge = Array.from({ length: 400_000 }, (_, i) => `${SAMPLE[i % 5]} ${i} ${'word '.repeat(i % 20)}`);
  await assert.rejects(model.tokenize(huge), (e) => { assertWorkerFailed(e, 'out of heap'); return true; });
  await assert.rejects(model.encode('next'), (e) => { assertWorkerFailed(e, 'after the crash'); return true; });
  await model.dispose();
  await freshLoadWorks();
});

// ---- load ----

test('1,000 concurrent encode() calls on one model all resolve, each equal to the batched result', async () => {
  const { model } = await loadTracked();
  try {
    const texts = manyTexts(1000, 'concurrent ');
    const batched = await model.encode(texts);
    const singles = await Promise.all(texts.map((t) => model.encode(t)));
    assert.equal(singles.length, 1000);
    singles.forEach((e, i) => assertClose(e, batched[i], `call ${i}`));
  } finally {
    await model.dispose();
  }
});

test('1,000 concurrent calls mixing good and bad inputs: errors stay with their own call', async () => {
  const { model } = await loadTracked();
  try {
    const texts = manyTexts(1000, 'mixed ');
    const batched = await model.encode(texts);
    const calls = texts.map((t, i) => {
      if (i % 10 === 3) return model.encode([t, null]); // INVALID_INPUT in the worker
      if (i % 10 === 7) return model.encode(t, { promptName: 'no such prompt' }); // INVALID_INPUT on this thread
      if (i % 10 === 9) return model.tokenize(t);
      return model.encode(t);
    });
    const settled = await Promise.allSettled(calls);
    settled.forEach((s, i) => {
      if (i % 10 === 3 || i % 10 === 7) {
        assert.equal(s.status, 'rejected', `call ${i}`);
        assert.ok(s.reason instanceof SentenceWasmError && s.reason.code === 'INVALID_INPUT', `call ${i}: ${s.reason}`);
      } else if (i % 10 === 9) {
        assert.equal(s.status, 'fulfilled', `call ${i}: ${s.reason}`);
        assert.ok(s.value.inputIds[0].length > 2);
      } else {
        assert.equal(s.status, 'fulfilled', `call ${i}: ${s.reason}`);
        assertClose(s.value, batched[i], `call ${i}`);
      }
    });
  } finally {
    await model.dispose();
  }
});
