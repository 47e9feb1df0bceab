// Engine addresses above 2 GiB. The engine's memory may grow to 4 GiB; its
// pointers are i32 results, which JS reads as negative numbers past 2 GiB.
// The binding must treat them as unsigned (>>> 0, and >>> 2 for indices into
// typed-array views), or a large model or batch reads and writes the wrong
// memory. Here the heap is first pushed past 2 GiB, then a model is loaded
// and run in this thread, and its embeddings must still match the library's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadEngine } from '../js/wasm.js';
import { openSource, readSentenceTransformer } from '../js/model_files.js';
import { DensePipeline } from '../js/pipelines/dense.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';

const TWO_GIB = 2 ** 31;
const ctl = { isCancelled: () => false, yield: async () => {} };

test('a model whose memory lies above 2 GiB gives the same embeddings', async () => {
  const engine = await loadEngine({ build: 'plain', threads: 1 });
  // Blocks of 256 MiB until one starts past 2 GiB: what is allocated next
  // comes from above it (the blocks are never freed, and pages never
  // written are not backed by RAM).
  let top = 0;
  for (let i = 0; i < 12 && top < TWO_GIB; i++) top = engine.alloc(256 * 2 ** 20);
  assert.ok(top >= TWO_GIB, `heap reached ${top}`);

  engine.withScope((s) => {
    const q = s.i32s([7, -8, 9]);
    assert.ok(q > TWO_GIB, `scratch at ${q}`);
    assert.deepEqual([...engine.i32.subarray(q >>> 2, (q >>> 2) + 3)], [7, -8, 9]);
  });

  const name = 'st-mean';
  const ref = readReference(name);
  const { spec } = await readSentenceTransformer(await openSource(fixtureDir(name)));
  spec.dtype = 'fp32';
  const pipeline = new DensePipeline(engine, spec);
  try {
    const out = await pipeline.encode(ref.inputs, {}, ctl);
    assert.ok(pipeline.encoder.hiddenPtr() > TWO_GIB, `hidden states at ${pipeline.encoder.hiddenPtr()}`);
    assertAllClose(out, ref.encode_default, 'encode_default above 2 GiB');
  } finally {
    pipeline.dispose();
    await engine.close();
  }
});
