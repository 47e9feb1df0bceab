// Every recorded call of every st-* golden fixture (made by the real
// sentence-transformers 5.1.2), through the public API: worker, WASM engine.
import test from 'node:test';
import assert from 'node:assert/strict';
import { SentenceTransformer, util } from '../js/index.js';
import { fixtureDir, fixtureNames, readReference, assertAllClose, assertClose } from './helpers/fixtures.js';

const names = fixtureNames('st-');

test('there are SentenceTransformer fixtures to check', () => {
  assert.ok(names.length >= 5, `found ${names.length}`);
});

for (const name of names) {
  test(`fixture ${name}`, async (t) => {
    const ref = readReference(name);
    const model = await SentenceTransformer.load(fixtureDir(name));
    t.after(() => model.dispose());
    const inputs = ref.inputs;

    await t.test('model properties', () => {
      assert.equal(model.dimension, ref.embedding_dim);
      assert.equal(model.maxSeqLength, ref.max_seq_length);
      assert.equal(model.similarityFnName, ref.similarity_fn_name);
      assert.deepEqual({ ...model.prompts }, ref.prompts);
    });

    await t.test('tokenize equals the library token ids', async () => {
      const { inputIds, attentionMask } = await model.tokenize(inputs);
      inputIds.forEach((ids, i) => assert.deepEqual([...ids], ref.tokenization[i].input_ids, `input ${i}`));
      attentionMask.forEach((m, i) => assert.equal(m.length, inputIds[i].length));
    });

    let defaults;
    await t.test('encode_default', async () => {
      defaults = await model.encode(inputs);
      assertAllClose(defaults, ref.encode_default, 'encode_default');
    });
    await t.test('encode_batch_size_1', async () => {
      assertAllClose(await model.encode(inputs, { batchSize: 1 }), ref.encode_batch_size_1, 'bs1');
    });
    await t.test('encode_batch_size_8', async () => {
      assertAllClose(await model.encode(inputs, { batchSize: 8 }), ref.encode_batch_size_8, 'bs8');
    });
    await t.test('a text gives the same vector alone, in any batch', async () => {
      for (const i of [0, 4, 41]) {
        const alone = await model.encode(inputs[i]);
        assert.ok(alone instanceof Float32Array);
        assert.deepEqual([...alone], [...defaults[i]], `input ${i}`);
      }
    });
    await t.test('encode_normalize_embeddings', async () => {
      assertAllClose(await model.encode(inputs, { normalizeEmbeddings: true }), ref.encode_normalize_embeddings, 'normalize');
    });
    for (const pname of Object.keys(ref.prompts)) {
      await t.test(`encode_prompt_name_${pname}`, async () => {
        assertAllClose(await model.encode(inputs, { promptName: pname }), ref[`encode_prompt_name_${pname}`], pname);
      });
    }
    await t.test('encode_custom_prompt', async () => {
      const { prompt, embeddings } = ref.encode_custom_prompt;
      assertAllClose(await model.encode(inputs, { prompt }), embeddings, 'custom prompt');
    });
    await t.test('encode_query / encode_document', async () => {
      assertAllClose(await model.encodeQuery(inputs), ref.encode_query, 'query');
      assertAllClose(await model.encodeDocument(inputs), ref.encode_document, 'document');
    });
    await t.test('encode_truncate_dim (plain and normalized)', async () => {
      const td = ref.truncate_dim;
      const plain = await model.encode(inputs, { truncateDim: td });
      assert.equal(plain[0].length, td);
      assertAllClose(plain, ref.encode_truncate_dim, 'truncate');
      assertAllClose(await model.encode(inputs, { truncateDim: td, normalizeEmbeddings: true }),
        ref.encode_truncate_dim_normalized, 'truncate+normalize');
    });
    await t.test('quantize_embeddings is exact on the library\'s own vectors', () => {
      // int8/uint8 truncate (x - min) / step: a 1e-7 difference in a vector
      // can move a value across an integer, so bit-exactness is checked on
      // the library's float32 vectors, where the algorithm alone decides.
      const q = ref.quantized;
      const refEmbs = ref.encode_default.map((v) => Float32Array.from(v));
      for (const precision of ['int8', 'uint8', 'binary', 'ubinary']) {
        const out = util.quantizeEmbeddings(refEmbs, precision);
        out.forEach((v, i) => assert.deepEqual([...v], q[precision][i], `${precision} input ${i}`));
      }
      const calibrated = util.quantizeEmbeddings(refEmbs, 'int8', { calibrationEmbeddings: refEmbs.slice(0, 10) });
      calibrated.forEach((v, i) => assert.deepEqual([...v], q.int8_with_calibration_first10[i], `calibrated ${i}`));
    });
    await t.test('encode(precision) gives the library\'s quantized vectors (int8/uint8 within one step)', async () => {
      const q = ref.quantized;
      let exact = 0, total = 0;
      for (const precision of ['int8', 'uint8', 'binary', 'ubinary']) {
        const out = await model.encode(inputs, { precision });
        const Type = precision === 'int8' || precision === 'binary' ? Int8Array : Uint8Array;
        out.forEach((v, i) => {
          assert.ok(v instanceof Type, `${precision} type`);
          assert.equal(v.length, q[precision][i].length);
          v.forEach((x, j) => {
            const want = q[precision][i][j];
            total++;
            if (x === want) { exact++; return; }
            // only a truncation boundary may differ, and only for the scaled precisions
            assert.ok((precision === 'int8' || precision === 'uint8') && Math.abs(x - want) === 1,
              `${precision} input ${i} dim ${j}: ${x} vs ${want}`);
          });
        });
      }
      assert.ok(exact / total > 0.99, `${exact} of ${total} exact`);
    });
    await t.test('similarity and similarityPairwise', () => {
      const sim = model.similarity(defaults, defaults);
      if (model.similarityFnName === 'euclidean') {
        // torch.cdist (the library's euclidean_sim) takes its matrix-product
        // path above 25 rows: d = sqrt(|x|^2 + |y|^2 - 2xy) in float32, whose
        // cancellation noise (~1e-6 in d^2) sqrt amplifies near d = 0 (the
        // diagonal reads -0.003, not 0). Compare d^2, where that noise lives.
        sim.forEach((row, i) => row.forEach((v, j) => {
          const diff = Math.abs(v * v - ref.similarity[i][j] ** 2);
          assert.ok(diff <= 1e-4 * Math.max(1, v * v), `similarity[${i}][${j}]: ${v} vs ${ref.similarity[i][j]}`);
        }));
      } else {
        assertAllClose(sim, ref.similarity, 'similarity');
      }
      const pw = model.similarityPairwise(defaults.slice(0, -1), defaults.slice(1));
      assertClose(pw, ref.similarity_pairwise_consecutive, 'pairwise');
    });
    await t.test('token_embeddings', async () => {
      const idx = ref.token_embeddings.map((x) => x.input_index);
      const out = await model.encode(idx.map((i) => inputs[i]), { outputValue: 'token_embeddings' });
      ref.token_embeddings.forEach((x, k) => {
        const hidden = x.values[0].length;
        assert.equal(out[k].length, x.values.length * hidden, `${x.text}: token count`);
        x.values.forEach((row, tkn) => assertClose(out[k].subarray(tkn * hidden, (tkn + 1) * hidden), row, `text ${k} token ${tkn}`));
      });
    });
  });
}
