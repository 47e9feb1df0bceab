// A WebAssembly memory never shrinks, so what the engine's heap grows to
// while encoding is what the process keeps. Batches that grow one after
// another (as a stream of passages does) must grow it by at most the largest
// batch's activations, not by the sum of every size it passed through: the
// activations were once six buffers each grown by realloc, which left holes
// no later size fitted and took the heap to ~2x what they held.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadEngine } from '../js/wasm.js';
import { openSource, readSentenceTransformer } from '../js/model_files.js';
import { DensePipeline } from '../js/pipelines/dense.js';
import { fixtureDir } from './helpers/fixtures.js';

test('encoding ever larger batches grows the heap by the largest batch, not their sum', async () => {
  const engine = await loadEngine({ build: 'plain', threads: 1 });
  const { spec } = await readSentenceTransformer(await openSource(fixtureDir('st-mean')));
  spec.dtype = 'fp32';
  const pipeline = new DensePipeline(engine, spec);
  try {
    const { hiddenSize: H, intermediateSize: I } = pipeline.encoder.cfg;
    const before = engine.memory.buffer.byteLength;
    let tokens = 0;
    // forward() on token ids: batches of 8, 16, ..., 96 sequences of 256
    // tokens, whose activations (~22 MiB at the end) dwarf the free space
    // that loading left in the heap
    for (let n = 8; n <= 96; n += 8) {
      const ids = Array.from({ length: n }, (_, i) => Int32Array.from({ length: 256 }, (_, t) => 1000 + ((i * 7 + t) % 900)));
      tokens = pipeline.encoder.forward(ids, null);
    }
    // The last batch's activations: five [T x H] buffers and one [T x I].
    const activations = tokens * (5 * H + I) * 4;
    const grown = engine.memory.buffer.byteLength - before;
    assert.equal(tokens, 96 * 256, 'tokens of the last batch');
    assert.ok(grown <= activations + 2 ** 20,
      `heap grew ${(grown / 2 ** 20).toFixed(1)} MiB for ${(activations / 2 ** 20).toFixed(1)} MiB of activations`);
  } finally {
    pipeline.dispose();
    await engine.close();
  }
});
