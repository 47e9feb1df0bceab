// A model folder on the local disk: the main thread checks the safetensors
// header and hands the worker the file's path, not its bytes; the worker
// reads each tensor straight into the engine's memory. A file that changes
// between the two (another size, cut short) is refused with FETCH_FAILED,
// and the next load works.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SentenceTransformer, CrossEncoder, SparseEncoder, SentenceWasmError } from '../js/index.js';
import { openSource, readWeights } from '../js/model_files.js';
import { loadWeights } from '../js/pipelines/weights.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';
import { copyFixture } from './helpers/model_copies.js';

const ref = readReference('st-mean');

test('readWeights on a folder: the header and the path, no bytes of the weights', async () => {
  const dir = fixtureDir('st-mean');
  const file = path.join(dir, 'model.safetensors');
  const w = await readWeights(await openSource(dir), 'model.safetensors');
  assert.equal(w.buffer, undefined);
  assert.equal(w.diskPath, path.resolve(file));
  assert.equal(w.size, fs.statSync(file).size);
  assert.ok(w.tensors.length > 0 && w.tensors.every((t) => t.begin >= 8 && t.end <= w.size));

  // loadWeights reads exactly each tensor's bytes from the file.
  const bytes = fs.readFileSync(file);
  const seen = [];
  loadWeights(w, (t) => t.name.endsWith('.bias'), (t, write) => {
    const dst = new Uint8Array(t.end - t.begin);
    write(dst);
    assert.deepEqual(dst, new Uint8Array(bytes.subarray(t.begin, t.end)), t.name);
    seen.push(t.name);
  });
  assert.ok(seen.length > 0 && seen.length < w.tensors.length, 'only the wanted tensors are read');
});

test('a weights file that changes on disk after its header was read is refused', async () => {
  const dir = copyFixture('st-mean');
  const file = path.join(dir, 'model.safetensors');
  const w = await readWeights(await openSource(dir), 'model.safetensors');
  const original = fs.readFileSync(file);
  const readAll = () => loadWeights(w, () => true, (t, write) => write(new Uint8Array(t.end - t.begin)));

  fs.writeFileSync(file, original.subarray(0, original.length - 100)); // cut short
  assert.throws(readAll, (e) => e instanceof SentenceWasmError && e.code === 'FETCH_FAILED' &&
    /model\.safetensors: .* changed on disk while loading \(\d+ bytes, was \d+\)/.test(e.message));
  fs.rmSync(file);
  assert.throws(readAll, (e) => e instanceof SentenceWasmError && e.code === 'FETCH_FAILED' &&
    /model\.safetensors: cannot read /.test(e.message));

  // The same size, but the file is replaced by a shorter one between the
  // size check and the reads: the reader notices the short read.
  fs.writeFileSync(file, original);
  let cut = false;
  assert.throws(() => loadWeights(w, () => true, (t, write) => {
    if (!cut) { fs.truncateSync(file, 16); cut = true; }
    write(new Uint8Array(t.end - t.begin));
  }), (e) => e instanceof SentenceWasmError && e.code === 'FETCH_FAILED' && /ended after \d+ bytes while loading/.test(e.message));

  fs.writeFileSync(file, original);
  readAll(); // whole again: reads
});

test('a model loaded from disk gives the reference embeddings, on 1 and 2 threads', async () => {
  for (const threads of [1, 2]) {
    const model = await SentenceTransformer.load(fixtureDir('st-mean'), { threads });
    try {
      assertAllClose(await model.encode(ref.inputs), ref.encode_default, `from disk, ${threads} thread(s)`);
    } finally {
      await model.dispose();
    }
  }
});

test('loading from disk: progress of each weights file comes from its reads, then done', async () => {
  const dir = fixtureDir('st-cls-dense'); // two weights files: the encoder's and the Dense module's
  const events = [];
  const model = await SentenceTransformer.load(dir, { onProgress: (e) => events.push(e) });
  try {
    const weightFiles = ['model.safetensors', '2_Dense/model.safetensors'];
    for (const file of weightFiles) {
      const size = fs.statSync(path.join(dir, file)).size;
      const own = events.filter((e) => e.file === file);
      assert.deepEqual(own[0], { status: 'initiate', file, loaded: 0, total: size }, `${file} starts`);
      assert.deepEqual(own.at(-1), { status: 'done', file, loaded: size, total: size }, `${file} ends`);
      assert.equal(own.filter((e) => e.status === 'done').length, 1, `${file}: one done`);
      const mid = own.slice(1, -1);
      assert.ok(mid.every((e) => e.status === 'progress' && e.total === size && e.loaded > 0 && e.loaded < size),
        `${file}: ${JSON.stringify(mid)}`);
      for (let i = 1; i < mid.length; i++) assert.ok(mid[i].loaded > mid[i - 1].loaded, `${file}: loaded grows`);
      assert.ok(mid.length <= 100, `${file}: at most 100 progress events (${mid.length})`);
    }
    // The encoder's tensors are read one by one: progress in between.
    assert.ok(events.some((e) => e.file === 'model.safetensors' && e.status === 'progress'));
  } finally {
    await model.dispose();
  }

  // A progress callback that throws breaks neither the load nor the model.
  const again = await SentenceTransformer.load(dir, { onProgress: () => { throw new Error('ui bug'); } });
  try {
    assert.equal((await again.encode(['still works'])).length, 1);
  } finally {
    await again.dispose();
  }
});

test('CrossEncoder and SparseEncoder loads from disk report their weights\' reads too', async () => {
  for (const [Model, name] of [[CrossEncoder, 'cross-1label'], [SparseEncoder, 'sparse-splade-max']]) {
    const dir = fixtureDir(name);
    const size = fs.statSync(path.join(dir, 'model.safetensors')).size;
    const events = [];
    const model = await Model.load(dir, { onProgress: (e) => events.push(e) });
    try {
      const own = events.filter((e) => e.file === 'model.safetensors');
      assert.equal(own[0].status, 'initiate', name);
      assert.deepEqual(own.at(-1), { status: 'done', file: 'model.safetensors', loaded: size, total: size }, name);
      assert.ok(own.some((e) => e.status === 'progress' && e.loaded > 0 && e.loaded < size), `${name}: progress while reading`);
    } finally {
      await model.dispose();
    }
  }
});
