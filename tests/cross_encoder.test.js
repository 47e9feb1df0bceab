// Every recorded call of the cross-* golden fixtures (made by the real
// sentence-transformers 5.1.2) through the public CrossEncoder API, then the
// library's conventions (single pair, empty lists, activation resolution) and
// the error paths, each followed by a call that must still answer correctly.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CrossEncoder, SentenceWasmError } from '../js/index.js';
import { fixtureDir, fixtureNames, readReference, assertClose, assertAllClose, ABS_TOL } from './helpers/fixtures.js';
import { rejectsWith } from './helpers/errors.js';
import { fixtureVariant as variant, editJson, removeCopies } from './helpers/model_copies.js';

const names = fixtureNames('cross-');

after(removeCopies);




const flat = (rows) => (Array.isArray(rows) ? Float32Array.from(rows.flatMap((r) => [...r])) : rows);

test('there are CrossEncoder fixtures to check', () => {
  assert.ok(names.length >= 2, `found ${names.length}`);
});

for (const name of names) {
  test(`fixture ${name}`, async (t) => {
    const ref = readReference(name);
    const model = await CrossEncoder.load(fixtureDir(name));
    t.after(() => model.dispose());
    const L = ref.num_labels;
    const pairs = ref.pairs;
    const check = (actual, expected, label) => {
      if (L === 1) {
        assert.ok(actual instanceof Float32Array, `${label}: a Float32Array`);
        assertClose(actual, expected, label);
      } else {
        assert.ok(Array.isArray(actual) && actual.every((r) => r instanceof Float32Array && r.length === L), `${label}: Float32Array[${L}] per pair`);
        assertAllClose(actual, expected, label);
      }
    };

    await t.test('model properties', () => {
      assert.equal(model.numLabels, L);
      assert.equal(model.maxLength, ref.effective_max_length);
      assert.equal(model.activationFn, ref.activation_fn.split('.').pop());
      assert.equal(model.labels.length, L);
    });

    await t.test('pair tokenization equals the library (ids and token type ids, no strip)', async () => {
      const { inputIds, tokenTypeIds } = await model.tokenize(pairs);
      ref.tokenization.forEach((tk, i) => {
        assert.deepEqual([...inputIds[i]], tk.input_ids, `pair ${i} ids`);
        assert.deepEqual([...tokenTypeIds[i]], tk.token_type_ids, `pair ${i} type ids`);
      });
    });

    await t.test('predict_default / batch_size_1 / batch_size_4', async () => {
      check(await model.predict(pairs), ref.predict_default, 'default');
      check(await model.predict(pairs, { batchSize: 1 }), ref.predict_batch_size_1, 'bs1');
      check(await model.predict(pairs, { batchSize: 4 }), ref.predict_batch_size_4, 'bs4');
    });

    await t.test('predict_apply_softmax', async () => {
      check(await model.predict(pairs, { applySoftmax: true }), ref.predict_apply_softmax, 'softmax');
    });

    await t.test('predict_identity_logits, and the activation does not stick', async () => {
      check(await model.predict(pairs, { activationFn: 'Identity' }), ref.predict_identity_logits, 'identity');
      check(await model.predict(pairs, { activationFn: 'torch.nn.modules.linear.Identity' }), ref.predict_identity_logits, 'identity path');
      // The library would keep Identity from here on; this API does not.
      check(await model.predict(pairs), ref.predict_default, 'default again');
    });

    await t.test('a single pair gives a single result', async () => {
      const one = await model.predict(pairs[0]);
      if (L === 1) {
        assert.equal(typeof one, 'number');
        assert.ok(Math.abs(one - ref.predict_default[0]) <= ABS_TOL);
      } else {
        assert.ok(one instanceof Float32Array && one.length === L);
        assertClose(one, ref.predict_default[0], 'single pair');
      }
    });

    if (L === 1) {
      await t.test('rank and rank_top_k_2_with_documents', async () => {
        const got = await model.rank(ref.rank_query, ref.rank_documents);
        assert.deepEqual(got.map((r) => r.corpusId), ref.rank.map((r) => r.corpus_id));
        got.forEach((r, i) => {
          assert.ok(Math.abs(r.score - ref.rank[i].score) <= ABS_TOL, `rank ${i}`);
          assert.ok(!('text' in r));
        });
        const top = await model.rank(ref.rank_query, ref.rank_documents, { topK: 2, returnDocuments: true });
        assert.equal(top.length, 2);
        top.forEach((r, i) => {
          const e = ref.rank_top_k_2_with_documents[i];
          assert.equal(r.corpusId, e.corpus_id);
          assert.equal(r.text, e.text);
          assert.ok(Math.abs(r.score - e.score) <= ABS_TOL);
        });
      });
    } else {
      await t.test('rank rejects an n-label model (the library raises ValueError), then predict still works', async () => {
        assert.match(ref.rank, /ValueError/);
        await rejectsWith(model.rank('q', ['a', 'b']), 'INVALID_INPUT', /numLabels = 1/);
        check(await model.predict(pairs.slice(0, 3)), ref.predict_default.slice(0, 3), 'after rank error');
      });
    }
  });
}

test('CrossEncoder conventions and errors (cross-1label)', async (t) => {
  const ref = readReference('cross-1label');
  const model = await CrossEncoder.load(fixtureDir('cross-1label'));
  t.after(() => model.dispose());
  const expectDefault = async (label) => assertClose(await model.predict(ref.pairs), ref.predict_default, label);

  await t.test('empty inputs follow the library: predict([]) is empty, rank(q, []) is []', async () => {
    const none = await model.predict([]);
    assert.ok(none instanceof Float32Array && none.length === 0);
    assert.deepEqual(await model.rank('query', []), []);
  });

  await t.test('bad pairs reject with INVALID_INPUT, and the model still answers', async () => {
    for (const bad of [[['only one']], [['a', 1]], [['a', 'b', 'c']], ['a', 'b', 'c'], [null], 'text', null, 42, [['a', 'b'], 'c']]) {
      await rejectsWith(model.predict(bad), 'INVALID_INPUT', /pair|expected/);
    }
    await rejectsWith(model.tokenize([['a']]), 'INVALID_INPUT');
    await expectDefault('after bad pairs');
  });

  await t.test('bad options reject with INVALID_INPUT, and the model still answers', async () => {
    await rejectsWith(model.predict(ref.pairs, { batchSize: 0 }), 'INVALID_INPUT', /batchSize/);
    await rejectsWith(model.predict(ref.pairs, { activationFn: 'Softmax2' }), 'INVALID_INPUT', /activationFn/);
    await rejectsWith(model.predict(ref.pairs, { nope: 1 }), 'INVALID_INPUT', /unknown option/);
    await rejectsWith(model.rank('q', ['a'], { topK: 0 }), 'INVALID_INPUT', /topK/);
    await rejectsWith(model.rank(5, ['a']), 'INVALID_INPUT', /query/);
    await rejectsWith(model.rank('q', 'a'), 'INVALID_INPUT', /documents/);
    await rejectsWith(model.rank('q', ['a', 7]), 'INVALID_INPUT', /document 1/);
    await expectDefault('after bad options');
  });

  await t.test('rank ties keep document order; topK larger than the list returns all', async () => {
    const got = await model.rank('same', ['x', 'x', 'x'], { topK: 10 });
    assert.deepEqual(got.map((r) => r.corpusId), [0, 1, 2]);
  });

  await t.test('after dispose, calls reject with DISPOSED', async () => {
    const m = await CrossEncoder.load(fixtureDir('cross-1label'));
    await m.dispose();
    await rejectsWith(m.predict(ref.pairs), 'DISPOSED');
  });
});

test('CrossEncoder activation and max length resolution', async (t) => {
  const ref1 = readReference('cross-1label');
  const ref3 = readReference('cross-3label');

  await t.test('pre-v4 key sbert_ce_default_activation_function', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => {
      delete c.sentence_transformers;
      c.sbert_ce_default_activation_function = 'torch.nn.modules.linear.Identity';
    }));
    const m = await CrossEncoder.load(dir);
    t.after(() => m.dispose());
    assert.equal(m.activationFn, 'Identity');
    assertClose(await m.predict(ref1.pairs), ref1.predict_identity_logits, 'old key');
  });

  await t.test('no activation key: Sigmoid for 1 label, Identity for n labels', async () => {
    const d1 = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => { delete c.sentence_transformers; }));
    const d3 = variant('cross-3label', (d) => editJson(path.join(d, 'config.json'), (c) => { delete c.sentence_transformers; }));
    const [m1, m3] = await Promise.all([CrossEncoder.load(d1), CrossEncoder.load(d3)]);
    t.after(() => Promise.all([m1.dispose(), m3.dispose()]));
    assert.equal(m1.activationFn, 'Sigmoid');
    assert.equal(m3.activationFn, 'Identity');
    assertClose(await m1.predict(ref1.pairs), ref1.predict_default, 'default 1 label');
  });

  await t.test('activation_fn in config_sentence_transformers.json', async () => {
    const dir = variant('cross-1label', (d) => {
      editJson(path.join(d, 'config.json'), (c) => { delete c.sentence_transformers; });
      fs.writeFileSync(path.join(d, 'config_sentence_transformers.json'),
        JSON.stringify({ activation_fn: 'torch.nn.modules.linear.Identity' }));
    });
    const m = await CrossEncoder.load(dir);
    t.after(() => m.dispose());
    assert.equal(m.activationFn, 'Identity');
  });

  await t.test('an untrusted (non-torch) path falls back to the default, as in the library', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => {
      c.sentence_transformers.activation_fn = 'my_package.MyActivation';
    }));
    const m = await CrossEncoder.load(dir);
    t.after(() => m.dispose());
    assert.equal(m.activationFn, 'Sigmoid');
  });

  await t.test('load option activationFn overrides the model', async () => {
    const m = await CrossEncoder.load(fixtureDir('cross-3label'), { activationFn: 'Sigmoid' });
    t.after(() => m.dispose());
    const got = await m.predict(ref3.pairs.slice(0, 2));
    got.forEach((row, i) => assertClose(row, ref3.predict_identity_logits[i].map((x) => 1 / (1 + Math.exp(-x))), `sigmoid ${i}`));
  });

  await t.test('maxLength load option truncates pairs, and cannot exceed max_position_embeddings', async () => {
    const m = await CrossEncoder.load(fixtureDir('cross-1label'), { maxLength: 12 });
    t.after(() => m.dispose());
    assert.equal(m.maxLength, 12);
    const { inputIds } = await m.tokenize(ref1.pairs);
    assert.ok(inputIds.every((ids) => ids.length <= 12));
    await rejectsWith(CrossEncoder.load(fixtureDir('cross-3label'), { maxLength: 68 }), 'INVALID_INPUT', /max_position_embeddings/);
    await rejectsWith(CrossEncoder.load(fixtureDir('cross-3label'), { truncateDim: 8 }), 'INVALID_INPUT', /truncateDim/);
  });
});

test('CrossEncoder load errors name the problem', async (t) => {
  await t.test('a BertModel checkpoint (no classifier head)', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => { c.architectures = ['BertModel']; }));
    await rejectsWith(CrossEncoder.load(dir), 'UNSUPPORTED_ARCHITECTURE', /ForSequenceClassification/);
  });
  await t.test('an unknown architecture', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => {
      c.architectures = ['XLMRobertaForSequenceClassification'];
      c.model_type = 'xlm-roberta';
    }));
    await rejectsWith(CrossEncoder.load(dir), 'UNSUPPORTED_ARCHITECTURE', /xlm-roberta|XLMRoberta/);
  });
  await t.test('an activation the engine does not have', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => {
      c.sentence_transformers.activation_fn = 'torch.nn.modules.activation.Softmin';
    }));
    await rejectsWith(CrossEncoder.load(dir), 'UNSUPPORTED_ARCHITECTURE', /Softmin/);
  });
  await t.test('a classifier with the wrong number of labels', async () => {
    const dir = variant('cross-1label', (d) => editJson(path.join(d, 'config.json'), (c) => {
      c.id2label = { 0: 'a', 1: 'b' };
      c.label2id = { a: 0, b: 1 };
    }));
    await rejectsWith(CrossEncoder.load(dir), 'BAD_SAFETENSORS', /classifier/);
  });
});
