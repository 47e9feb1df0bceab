// Threads (issue 4): the thread pool of src/threads.c on its own, then the
// three model types with 1, 2 and 3 threads on shared memory, which must give
// exactly the one-thread numbers (and the golden ones), and helpers that never
// keep a process alive.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SentenceTransformer, CrossEncoder, SparseEncoder } from '../js/index.js';
import { loadEngine } from '../js/wasm.js';
import { WorkerClient } from '../js/worker_client.js';
import { WorkerPool } from '../js/worker_pool.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const POOL_WASM = path.join(root, 'build', 'test_threads.wasm');
const MAX_THREADS = 64; // SW_MAX_THREADS
/** V8's wasm flags of this process (make test-js-relaxed), for child processes. */
const WASM_FLAGS = process.execArgv.filter((a) => a.startsWith('--experimental-wasm'));

/**
 * check_pool() of tests/c/test_threads.c with `threads` threads: returns
 * the failures and how many tasks each thread ran.
 */
async function checkPool(threads, jobs, nTasks, gap = 0) {
  assert.ok(fs.existsSync(POOL_WASM), `${POOL_WASM} is missing: run make build/test_threads.wasm`);
  const engine = await loadEngine({ build: 'plain', urls: { plain: pathToFileURL(POOL_WASM), 'plain-mt': pathToFileURL(POOL_WASM) }, threads });
  try {
    const ints = nTasks + 2 * MAX_THREADS;
    const ws = engine.alloc(ints * 4);
    const failures = engine.exports.check_pool(ws, jobs, nTasks, gap);
    const perThread = [...new Int32Array(engine.memory.buffer, ws + (nTasks + MAX_THREADS) * 4, MAX_THREADS)];
    return { failures, perThread, count: engine.exports.sw_threads_count() };
  } finally {
    await engine.close();
  }
}

for (const threads of [1, 2, 3]) {
  test(`thread pool with ${threads} thread(s): every task once, thread indices distinct`, async () => {
    for (const nTasks of [1, 2, 7, 64, 300]) {
      const { failures, perThread, count } = await checkPool(threads, 60, nTasks);
      assert.equal(count, threads);
      assert.equal(failures, 0, `${nTasks} tasks: ${failures} failures`);
      assert.equal(perThread.reduce((a, b) => a + b, 0), 60 * nTasks);
      assert.ok(perThread.slice(threads).every((n) => n === 0), 'no task ran under an index past the threads');
    }
  });
}

for (const threads of [2, 3]) {
  test(`thread pool with ${threads} threads, helpers asleep when jobs start: late ones skip a finished job`, async () => {
    for (const nTasks of [2, 5, 40]) {
      const { failures, perThread } = await checkPool(threads, 200, nTasks, 300000);
      assert.equal(failures, 0, `${nTasks} tasks: ${failures} failures`);
      assert.equal(perThread.reduce((a, b) => a + b, 0), 200 * nTasks);
      assert.ok(perThread.slice(threads).every((n) => n === 0), 'no task ran under an index past the threads');
    }
  });
}

for (const threads of [2, 3]) {
  test(`a helper that traps (${threads} threads): the job's call fails once, later ones run on thread 0`, async () => {
    const engine = await loadEngine({ build: 'plain', urls: { 'plain-mt': pathToFileURL(POOL_WASM) }, threads });
    try {
      assert.equal(engine.exports.sw_threads_count(), threads);
      const rc = engine.exports.check_trap(64);
      assert.notEqual(rc, 0, 'the failure is reported');
      assert.match(engine.lastError(), /a helper thread failed/);
      assert.equal(engine.exports.sw_threads_count(), 1, 'the other helpers were stopped');
      const ws = engine.alloc((300 + 2 * MAX_THREADS) * 4);
      assert.equal(engine.exports.check_pool(ws, 20, 300, 0), 0, 'the pool still works, on one thread');
    } finally {
      await engine.close();
    }
  });
}

test('thread pool under V8\'s baseline compiler only (--liftoff-only), where a wait once lost a thread index', () => {
  // A child process: V8 flags are per process. It prints check_pool's results.
  const script = `
    import { loadEngine } from ${JSON.stringify(pathToFileURL(path.join(root, 'js', 'wasm.js')).href)};
    const e = await loadEngine({ build: 'plain', urls: { 'plain-mt': new URL(${JSON.stringify(pathToFileURL(POOL_WASM).href)}) }, threads: 3 });
    const ws = e.alloc((300 + 128) * 4);
    const failures = e.exports.check_pool(ws, 100, 300, 0);
    const per = [...new Int32Array(e.memory.buffer, ws + (300 + 64) * 4, 3)];
    await e.close();
    console.log(JSON.stringify({ failures, per }));`;
  const out = execFileSync(process.execPath, [...WASM_FLAGS, '--liftoff-only', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
  const { failures, per } = JSON.parse(out.trim().split('\n').pop());
  assert.equal(failures, 0);
  assert.equal(per.reduce((a, b) => a + b, 0), 100 * 300);
});

/** Enough texts that the products are split too, not only heads and rows. */
function manyTexts(inputs, n = 48) {
  return Array.from({ length: n }, (_, i) => inputs[i % inputs.length]);
}

test('SentenceTransformer: 2 and 3 threads give exactly the 1-thread embeddings, one copy of the weights', async () => {
  const ref = readReference('st-mean');
  const texts = manyTexts(ref.inputs);
  const results = [];
  for (const threads of [1, 2, 3]) {
    const model = await SentenceTransformer.load(fixtureDir('st-mean'), { threads });
    try {
      assert.equal(model.threads, threads);
      assert.equal(model.sharedMemory, threads > 1, 'Node shares memory between threads');
      const out = await model.encode(texts, { batchSize: 64 });
      assertAllClose(out.slice(0, ref.inputs.length), ref.encode_default, `threads ${threads}`);
      results.push({ out, weightBytes: model.weightBytes, one: await model.encode(ref.inputs[3]) });
    } finally {
      await model.dispose();
    }
  }
  for (const r of results.slice(1)) {
    r.out.forEach((v, i) => assert.deepEqual([...v], [...results[0].out[i]], `text ${i}`));
    assert.deepEqual([...r.one], [...results[0].one], 'a single text');
    assert.equal(r.weightBytes, results[0].weightBytes, 'weights held once, whatever the thread count');
  }
});

test('dtype int8: 2 and 3 threads give exactly the 1-thread embeddings', async () => {
  const ref = readReference('st-mean');
  const texts = manyTexts(ref.inputs);
  const results = [];
  for (const threads of [1, 2, 3]) {
    const model = await SentenceTransformer.load(fixtureDir('st-mean'), { threads, dtype: 'int8' });
    try {
      assert.equal(model.threads, threads);
      results.push([...await model.encode(texts, { batchSize: 64 }), await model.encode(ref.inputs[3])]);
    } finally {
      await model.dispose();
    }
  }
  for (const r of results.slice(1)) r.forEach((v, i) => assert.deepEqual([...v], [...results[0][i]], `text ${i}`));
});

test('CrossEncoder and SparseEncoder: 3 threads give exactly the 1-thread scores and vectors', async () => {
  const cref = readReference('cross-1label');
  const pairs = manyTexts(cref.pairs);
  const sref = readReference('sparse-splade-max');
  const texts = manyTexts(sref.inputs, 24);
  const scores = [], sparse = [];
  for (const threads of [1, 3]) {
    const ce = await CrossEncoder.load(fixtureDir('cross-1label'), { threads });
    const se = await SparseEncoder.load(fixtureDir('sparse-splade-max'), { threads });
    try {
      assert.equal(ce.threads, threads);
      assert.equal(se.threads, threads);
      scores.push([...await ce.predict(pairs, { batchSize: 64 })]);
      sparse.push(await se.encode(texts, { batchSize: 32 }));
    } finally {
      await Promise.all([ce.dispose(), se.dispose()]);
    }
  }
  assert.deepEqual(scores[1], scores[0]);
  sparse[1].forEach((v, i) => {
    assert.deepEqual([...v.indices], [...sparse[0][i].indices], `indices ${i}`);
    assert.deepEqual([...v.values], [...sparse[0][i].values], `values ${i}`);
  });
});

test('the default in Node: the cores, at most 4, sharing memory', async () => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  try {
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    const expected = Math.max(1, Math.min(4, cores));
    assert.equal(model.threads, expected);
    assert.equal(model.sharedMemory, expected > 1);
  } finally {
    await model.dispose();
  }
});

test('helper threads never keep the process alive, disposed or not', () => {
  const index = JSON.stringify(pathToFileURL(path.join(root, 'js', 'index.js')).href);
  const dir = JSON.stringify(fixtureDir('st-mean'));
  for (const dispose of [true, false]) {
    const script = `
      import { SentenceTransformer } from ${index};
      const m = await SentenceTransformer.load(${dir}, { threads: 3 });
      const v = await m.encode(Array(40).fill('a few words to embed'));
      ${dispose ? 'await m.dispose();' : ''}
      console.log(m.threads, v.length);`;
    const out = execFileSync(process.execPath, [...WASM_FLAGS, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30000 });
    assert.equal(out.trim(), '3 40', `dispose: ${dispose}`);
  }
});

test('model.threads follows the engine: each reply carries its thread count, so a failed helper shows', async () => {
  // A stand-in for a worker's port: replies as the worker does, with `threads`.
  const fakePort = (replies) => {
    let deliver;
    return {
      onMessage: (fn) => { deliver = fn; },
      onFailure: () => {},
      ref: () => {},
      unref: () => {},
      terminate: async () => {},
      post: (msg) => {
        const r = replies.shift();
        queueMicrotask(() => deliver({ id: msg.id, ...r }));
      },
    };
  };
  const client = new WorkerClient(fakePort([
    { ok: true, result: 'loaded', threads: 3 },
    { ok: false, error: { name: 'SentenceWasmError', code: 'ENGINE_ERROR', message: 'a helper thread failed' }, threads: 1 },
    { ok: true, result: 'fine' }, // an old worker without the field: the count stays
  ]));
  assert.equal(client.threads, undefined);
  assert.equal(await client.call('load', {}), 'loaded');
  const pool = new WorkerPool([client], 3);
  assert.equal(client.threads, 3);
  assert.equal(pool.threads, 3);
  await assert.rejects(client.call('encode', {}), /a helper thread failed/);
  assert.equal(pool.threads, 1, 'counted out after the failing call');
  assert.equal(await client.call('encode', {}), 'fine');
  assert.equal(pool.threads, 1);

  // Single-threaded workers (browsers without isolation) count one each.
  const a = new WorkerClient(fakePort([{ ok: true, result: 0, threads: 1 }]));
  const b = new WorkerClient(fakePort([{ ok: true, result: 0, threads: 1 }]));
  await Promise.all([a.call('load', {}), b.call('load', {})]);
  assert.equal(new WorkerPool([a, b]).threads, 2);

  // A real model: the count comes back with every reply, still the loaded one.
  const model = await SentenceTransformer.load(fixtureDir('st-mean'), { threads: 2 });
  try {
    assert.equal(model.threads, 2);
    await model.encode(['one', 'two']);
    assert.equal(model.threads, 2);
  } finally {
    await model.dispose();
  }
});
