// Every recorded call of the sparse-* golden fixtures (made by the real
// sentence-transformers 5.1.2) through the public SparseEncoder API, then the
// error paths (bad inputs, folders without an MLM head), each followed by a
// call that must still answer correctly.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SparseEncoder, SentenceWasmError } from '../js/index.js';
import { fixtureDir, fixtureNames, readReference, assertClose, assertAllClose, ABS_TOL } from './helpers/fixtures.js';
import { rejectsWith } from './helpers/errors.js';
import { fixtureVariant as variant, editJson, removeCopies, editSafetensorsHeader } from './helpers/model_copies.js';

const names = fixtureNames('sparse-');

after(removeCopies);





/** Sparse vectors as { index: value } over the union of both index sets. */
function densify(v) {
  const m = new Map();
  for (let i = 0; i < v.indices.length; i++) m.set(Number(v.indices[i]), v.values[i]);
  return m;
}

/**
 * One sparse vector against the library's: every entry of the union within
 * the tolerance (an index present on one side only must be ~0 on the other),
 * plus the cosine check of assertClose; indices strictly ascending.
 */
function assertSparseClose(actual, expected, label) {
  assert.ok(actual.indices instanceof Uint32Array && actual.values instanceof Float32Array, `${label}: typed arrays`);
  for (let i = 1; i < actual.indices.length; i++) assert.ok(actual.indices[i] > actual.indices[i - 1], `${label}: ascending`);
  const a = densify(actual), e = densify(expected);
  const keys = [...new Set([...a.keys(), ...e.keys()])].sort((x, y) => x - y);
  assertClose(keys.map((k) => a.get(k) ?? 0), keys.map((k) => e.get(k) ?? 0), label);
}

function assertAllSparseClose(actual, expected, label) {
  assert.equal(actual.length, expected.length, `${label}: count`);
  expected.forEach((e, i) => assertSparseClose(actual[i], e, `${label}[${i}]`));
}

test('there are SparseEncoder fixtures to check', () => {
  assert.ok(names.length >= 2, `found ${names.length}`);
});

for (const name of names) {
  test(`fixture ${name}`, async (t) => {
    const ref = readReference(name);
    const model = await SparseEncoder.load(fixtureDir(name));
    t.after(() => model.dispose());
    const inputs = ref.inputs;

    await t.test('model properties', () => {
      assert.equal(model.dimension, ref.embedding_dim);
      assert.equal(model.maxSeqLength, ref.max_seq_length);
      assert.equal(model.similarityFnName, ref.similarity_fn_name);
      assert.deepEqual({ ...model.prompts }, ref.prompts);
      assert.equal(model.poolingStrategy, ref.spec.pooling_strategy);
      assert.equal(model.activationFunction, ref.spec.activation_function);
    });

    await t.test('tokenize equals the library token ids (texts stripped)', async () => {
      const { inputIds } = await model.tokenize(inputs);
      inputIds.forEach((ids, i) => assert.deepEqual([...ids], ref.tokenization[i].input_ids, `input ${i}`));
    });

    let defaults;
    await t.test('encode_default / batch_size_1 / batch_size_8', async () => {
      defaults = await model.encode(inputs);
      assertAllSparseClose(defaults, ref.encode_default, 'default');
      // Entries near zero could in principle land on either side of relu; none do here.
      defaults.forEach((v, i) => assert.deepEqual([...v.indices], ref.encode_default[i].indices, `indices of input ${i}`));
      assertAllSparseClose(await model.encode(inputs, { batchSize: 1 }), ref.encode_batch_size_1, 'bs1');
      assertAllSparseClose(await model.encode(inputs, { batchSize: 8 }), ref.encode_batch_size_8, 'bs8');
    });

    await t.test('a string gives one vector, equal to its row in a batch', async () => {
      for (const i of [0, 7, 41]) {
        const one = await model.encode(inputs[i]);
        assert.equal(one.dim, ref.embedding_dim);
        assert.deepEqual([...one.indices], [...defaults[i].indices]);
        assert.deepEqual([...one.values], [...defaults[i].values]);
      }
    });

    await t.test('decode_top10', () => {
      const decoded = model.decode(defaults, { topK: 10 });
      decoded.forEach((list, i) => {
        const exp = ref.decode_top10[i];
        assert.equal(list.length, exp.length, `input ${i}: count`);
        list.forEach(([tok, w], k) => {
          assert.ok(Math.abs(w - exp[k][1]) <= ABS_TOL, `input ${i} #${k}: weight ${w} vs ${exp[k][1]}`);
          // Tokens must agree unless two weights are too close to order reliably.
          const close = exp.some(([tt, ww]) => tt === tok && Math.abs(ww - w) <= ABS_TOL);
          assert.ok(close, `input ${i} #${k}: token ${tok} not expected near weight ${w}`);
        });
      });
      const single = model.decode(defaults[3]);
      assert.equal(single.length, defaults[3].indices.length);
      for (let k = 1; k < single.length; k++) assert.ok(single[k - 1][1] >= single[k][1]);
    });

    await t.test('encode_max_active_dims_8 (call option and load option)', async () => {
      const got = await model.encode(inputs, { maxActiveDims: 8 });
      assert.ok(got.every((v) => v.indices.length <= 8));
      assertAllSparseClose(got, ref.encode_max_active_dims_8, 'max8');
      const m8 = await SparseEncoder.load(fixtureDir(name), { maxActiveDims: 8 });
      t.after(() => m8.dispose());
      assert.equal(m8.maxActiveDims, 8);
      assertAllSparseClose(await m8.encode(inputs), ref.encode_max_active_dims_8, 'load max8');
    });

    for (const pname of Object.keys(ref.prompts)) {
      await t.test(`encode_prompt_name_${pname}`, async () => {
        assertAllSparseClose(await model.encode(inputs, { promptName: pname }), ref[`encode_prompt_name_${pname}`], pname);
      });
    }

    await t.test('encode_query / encode_document', async () => {
      assertAllSparseClose(await model.encodeQuery(inputs), ref.encode_query, 'query');
      assertAllSparseClose(await model.encodeDocument(inputs), ref.encode_document, 'document');
    });

    await t.test('similarity_first12 and similarityPairwise', () => {
      const first = defaults.slice(0, 12);
      const sim = model.similarity(first, first);
      assertAllClose(sim, ref.similarity_first12, 'similarity');
      const pw = model.similarityPairwise(first, first);
      assertClose(pw, ref.similarity_first12.map((row, i) => row[i]), 'pairwise diagonal');
    });

    await t.test('sparsity', () => {
      const s = model.sparsity(defaults);
      assert.equal(s.activeDims, ref.sparsity.active_dims);
      assert.ok(Math.abs(s.sparsityRatio - ref.sparsity.sparsity_ratio) < 1e-9);
      const one = SparseEncoder.sparsity(defaults[0]);
      assert.equal(one.activeDims, ref.encode_default[0].indices.length);
      assert.deepEqual(SparseEncoder.sparsity([]), { activeDims: 0, sparsityRatio: 1 });
    });
  });
}

test('SparseEncoder inputs, errors and state (sparse-splade-max)', async (t) => {
  const ref = readReference('sparse-splade-max');
  const model = await SparseEncoder.load(fixtureDir('sparse-splade-max'));
  t.after(() => model.dispose());
  const some = ref.inputs.slice(3, 9);
  const expectDefault = async (label) => assertAllSparseClose(await model.encode(some), ref.encode_default.slice(3, 9), label);

  await t.test('bad inputs and options reject with INVALID_INPUT; the model still answers', async () => {
    await rejectsWith(model.encode(42), 'INVALID_INPUT', /expected a string/);
    await rejectsWith(model.encode(['ok', 7]), 'INVALID_INPUT', /input 1/);
    await rejectsWith(model.encode(some, { promptName: 'nope' }), 'INVALID_INPUT', /promptName/);
    await rejectsWith(model.encode(some, { maxActiveDims: 0 }), 'INVALID_INPUT', /maxActiveDims/);
    await rejectsWith(model.encode(some, { truncateDim: 8 }), 'INVALID_INPUT', /unknown option/);
    assert.throws(() => model.decode({ indices: [3, 1], values: [1, 2], dim: 10 }), { code: 'INVALID_INPUT' });
    assert.throws(() => model.similarity([{ indices: [], values: [], dim: 5 }], [{ indices: [], values: [], dim: 6 }]), { code: 'INVALID_INPUT' });
    assert.throws(() => model.decode(new Float32Array(4)), { code: 'INVALID_INPUT' });
    await expectDefault('after bad inputs');
  });

  await t.test('an empty list gives an empty list', async () => {
    assert.deepEqual(await model.encode([]), []);
  });

  await t.test('similarity functions on hand-made vectors', () => {
    const a = { indices: Uint32Array.of(1, 4), values: Float32Array.of(2, 3), dim: 8 };
    const b = { indices: Uint32Array.of(4, 6), values: Float32Array.of(1, 5), dim: 8 };
    assert.deepEqual(model.similarity(a, b), [[3]]);
    assert.deepEqual(model.similarityPairwise([a, b], [b, a]), [3, 3]);
  });

  await t.test('after dispose, calls reject with DISPOSED', async () => {
    const m = await SparseEncoder.load(fixtureDir('sparse-splade-max'));
    await m.dispose();
    await rejectsWith(m.encode('x'), 'DISPOSED');
  });
});

test('SparseEncoder folders: defaults and load errors', async (t) => {
  const ref = readReference('sparse-splade-max');
  const some = ref.inputs.slice(3, 9);

  await t.test('no modules.json: a *ForMaskedLM checkpoint gets SpladePooling(max, relu)', async () => {
    const dir = variant('sparse-splade-max', (d) => fs.rmSync(path.join(d, 'modules.json')));
    const m = await SparseEncoder.load(dir);
    t.after(() => m.dispose());
    assert.equal(m.poolingStrategy, 'max');
    assertAllSparseClose(await m.encode(some), ref.encode_default.slice(3, 9), 'no modules.json');
  });

  await t.test('the MLM bias saved under its decoder name is still found', async () => {
    const dir = variant('sparse-splade-max', (d) => editSafetensorsHeader(path.join(d, 'model.safetensors'), (h) => {
      const key = Object.keys(h).find((k) => k.endsWith('cls.predictions.bias'));
      h['cls.predictions.decoder.bias'] = h[key];
      delete h[key];
    }));
    const m = await SparseEncoder.load(dir);
    t.after(() => m.dispose());
    assertAllSparseClose(await m.encode(some), ref.encode_default.slice(3, 9), 'decoder.bias');
  });

  await t.test('no cls.predictions.bias: BAD_SAFETENSORS naming the tensor', async () => {
    const dir = variant('sparse-splade-max', (d) => editSafetensorsHeader(path.join(d, 'model.safetensors'), (h) => {
      for (const k of Object.keys(h)) if (k.endsWith('cls.predictions.bias')) delete h[k];
    }));
    await rejectsWith(SparseEncoder.load(dir), 'BAD_SAFETENSORS', /cls\.predictions\.bias/);
  });

  await t.test('no MLM head at all (a BertModel checkpoint): UNSUPPORTED_ARCHITECTURE', async () => {
    const dir = variant('sparse-splade-max', (d) => editJson(path.join(d, 'config.json'), (c) => { c.architectures = ['BertModel']; }));
    await rejectsWith(SparseEncoder.load(dir), 'UNSUPPORTED_ARCHITECTURE', /ForMaskedLM/);
  });

  await t.test('modules other than MLMTransformer + SpladePooling: UNSUPPORTED_ARCHITECTURE', async () => {
    const dir = variant('sparse-splade-max', (d) => editJson(path.join(d, 'modules.json'), (mods) => {
      mods[1].type = 'sentence_transformers.models.Pooling';
    }));
    await rejectsWith(SparseEncoder.load(dir), 'UNSUPPORTED_ARCHITECTURE', /SpladePooling/);
    const sae = variant('sparse-splade-max', (d) => editJson(path.join(d, 'modules.json'), (mods) => {
      mods.push({ idx: 2, name: '2', path: '2_SparseAutoEncoder', type: 'sentence_transformers.sparse_encoder.models.SparseAutoEncoder' });
    }));
    await rejectsWith(SparseEncoder.load(sae), 'UNSUPPORTED_ARCHITECTURE', /SparseAutoEncoder/);
  });

  await t.test('a bad SpladePooling config: BAD_CONFIG naming the field', async () => {
    const dir = variant('sparse-splade-max', (d) => editJson(path.join(d, '1_SpladePooling', 'config.json'), (c) => {
      c.pooling_strategy = 'mean';
    }));
    await rejectsWith(SparseEncoder.load(dir), 'BAD_CONFIG', /pooling_strategy/);
  });
});
