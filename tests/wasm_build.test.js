// Which engine build runs (js/wasm.js): 'auto' takes dist/sentence-wasm-relaxed.wasm
// exactly where WebAssembly.validate accepts relaxed SIMD, the wasmBuild option and
// SENTENCE_WASM_BUILD force one, model.wasmBuild reports it, a missing relaxed
// file falls back to the plain one under 'auto' only. Runs here (Node 20: no
// relaxed SIMD) and in child processes started with --experimental-wasm-relaxed-simd.
// The full fixture suites under the relaxed build are `make test-js-relaxed`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SentenceTransformer, CrossEncoder, SparseEncoder } from '../js/index.js';
import { relaxedSimdSupported } from '../js/wasm.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';
import { rejectsWith } from './helpers/errors.js';

const RELAXED_HERE = relaxedSimdSupported();
const FLAG = '--experimental-wasm-relaxed-simd';
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs ESM `code` in `node FLAG` (cwd: the repository) with env; returns its JSON output. */
function child(code, env = {}) {
  const r = spawnSync(process.execPath, [FLAG, '--input-type=module', '-e', code],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SENTENCE_WASM_BUILD: '', ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const lib = pathToFileURL(`${ROOT}js/index.js`).href;
const wasmJs = pathToFileURL(`${ROOT}js/wasm.js`).href;

test('auto: the relaxed build exactly where relaxed SIMD validates', async (t) => {
  const model = await SentenceTransformer.load(fixtureDir('st-mean'));
  t.after(() => model.dispose());
  assert.equal(model.wasmBuild, RELAXED_HERE ? 'relaxed' : 'plain');
});

test('wasmBuild forces a build; "relaxed" fails clearly where it cannot run', async (t) => {
  const ref = readReference('st-mean');
  const plain = await SentenceTransformer.load(fixtureDir('st-mean'), { wasmBuild: 'plain' });
  t.after(() => plain.dispose());
  assert.equal(plain.wasmBuild, 'plain');
  assertAllClose(await plain.encode(ref.inputs), ref.encode_default, 'plain');
  if (RELAXED_HERE) {
    const relaxed = await SentenceTransformer.load(fixtureDir('st-mean'), { wasmBuild: 'relaxed' });
    assert.equal(relaxed.wasmBuild, 'relaxed');
    await relaxed.dispose();
  } else {
    await rejectsWith(SentenceTransformer.load(fixtureDir('st-mean'), { wasmBuild: 'relaxed' }),
      'WORKER_FAILED', /does not accept relaxed SIMD.*--experimental-wasm-relaxed-simd/);
    await rejectsWith(CrossEncoder.load(fixtureDir('cross-1label'), { wasmBuild: 'relaxed' }), 'WORKER_FAILED', /relaxed SIMD/);
  }
});

test('wasmBuild and SENTENCE_WASM_BUILD are checked', async () => {
  await rejectsWith(SentenceTransformer.load(fixtureDir('st-mean'), { wasmBuild: 'fast' }), 'INVALID_INPUT', /wasmBuild "fast" is not one of auto, plain, relaxed/);
  await rejectsWith(SparseEncoder.load(fixtureDir('sparse-splade-max'), { wasmBuild: 1 }), 'INVALID_INPUT', /wasmBuild 1/);
  const saved = process.env.SENTENCE_WASM_BUILD;
  process.env.SENTENCE_WASM_BUILD = 'simd';
  try {
    await rejectsWith(SentenceTransformer.load(fixtureDir('st-mean')), 'INVALID_INPUT', /"simd" \(from SENTENCE_WASM_BUILD\)/);
    // the option wins over the variable
    const m = await SentenceTransformer.load(fixtureDir('st-mean'), { wasmBuild: 'plain' });
    assert.equal(m.wasmBuild, 'plain');
    await m.dispose();
  } finally {
    if (saved === undefined) delete process.env.SENTENCE_WASM_BUILD;
    else process.env.SENTENCE_WASM_BUILD = saved;
  }
});

test(`under ${FLAG}: auto picks relaxed for all three model types, and both builds match the references`, (t) => {
  const out = child(`
    import { SentenceTransformer, CrossEncoder, SparseEncoder } from ${JSON.stringify(lib)};
    const dir = (n) => ${JSON.stringify(`${ROOT}tests/fixtures/`)} + n;
    const ref = JSON.parse((await import('node:fs')).readFileSync(dir('st-mean/reference.json'), 'utf8'));
    const r = {};
    for (const build of ['auto', 'plain', 'relaxed']) {
      const st = await SentenceTransformer.load(dir('st-mean'), build === 'auto' ? {} : { wasmBuild: build });
      r[build] = { wasmBuild: st.wasmBuild, dense: (await st.encode(ref.inputs)).map((v) => Array.from(v)) };
      await st.dispose();
    }
    const ce = await CrossEncoder.load(dir('cross-1label'));
    const se = await SparseEncoder.load(dir('sparse-splade-max'), { threads: 2 });
    r.others = [ce.wasmBuild, se.wasmBuild];
    await ce.dispose(); await se.dispose();
    process.stdout.write(JSON.stringify(r));`);
  assert.equal(out.auto.wasmBuild, 'relaxed');
  assert.equal(out.plain.wasmBuild, 'plain');
  assert.equal(out.relaxed.wasmBuild, 'relaxed');
  assert.deepEqual(out.others, ['relaxed', 'relaxed']);
  const ref = readReference('st-mean');
  for (const b of ['plain', 'relaxed']) assertAllClose(out[b].dense, ref.encode_default, `st-mean ${b}`);
  let maxDiff = 0;
  out.plain.dense.forEach((v, i) => v.forEach((x, k) => { maxDiff = Math.max(maxDiff, Math.abs(x - out.relaxed.dense[i][k])); }));
  t.diagnostic(`max |plain - relaxed| on st-mean: ${maxDiff}`);
});

test(`under ${FLAG}: SENTENCE_WASM_BUILD=plain opts out; a missing relaxed file falls back under auto only`, () => {
  const env = child(`
    import { SentenceTransformer } from ${JSON.stringify(lib)};
    const st = await SentenceTransformer.load(${JSON.stringify(fixtureDir('st-mean'))});
    process.stdout.write(JSON.stringify(st.wasmBuild)); await st.dispose();`, { SENTENCE_WASM_BUILD: 'plain' });
  assert.equal(env, 'plain');

  const out = child(`
    import { loadEngine } from ${JSON.stringify(wasmJs)};
    const urls = { plain: new URL('../dist/sentence-wasm.wasm', ${JSON.stringify(wasmJs)}),
                   relaxed: new URL('file:///nonexistent/sentence-wasm-relaxed.wasm') };
    const auto = await loadEngine({ urls });
    let forced;
    try { await loadEngine({ build: 'relaxed', urls }); forced = 'loaded'; } catch (e) { forced = e.code + ': ' + e.message; }
    const real = await loadEngine();
    process.stdout.write(JSON.stringify({ auto: auto.build, forced, real: real.build }));`);
  assert.equal(out.auto, 'plain');
  assert.match(out.forced, /^WORKER_FAILED: cannot read the engine \/nonexistent\/sentence-wasm-relaxed\.wasm/);
  assert.equal(out.real, 'relaxed');
});
