// The malformed-model corpus (tests/malformed/make_corpus.js): broken copies
// of the st-mean fixture, generated into a temporary folder at test time.
// Each must be refused by SentenceTransformer.load with its specific
// SentenceWasmError code and a message naming the problem -- never a crash,
// a hang or a runaway allocation -- and after each refusal a good model
// still loads and gives the reference vectors.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { CASES, buildCase } from './malformed/make_corpus.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';
import { copyFixture, editJson } from './helpers/model_copies.js';

const GOOD = fixtureDir('st-mean');
const ref = readReference('st-mean');
const SAMPLE = ref.inputs.slice(3, 5);
const EXPECTED = ref.encode_default.slice(3, 5);
/** A load that takes longer than this has hung. */
const LOAD_TIMEOUT_MS = 20_000;
/** Growth of the process's memory over the whole corpus that would mean a runaway allocation. */
const MAX_RSS_GROWTH = 512 * 1024 * 1024;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

test('corpus: at least 30 distinct defects, each with a code and a message pattern', () => {
  assert.ok(CASES.length >= 30, `${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.name)).size, CASES.length, 'case names are unique');
  for (const c of CASES) {
    assert.match(c.code, /^[A-Z_]+$/, c.name);
    assert.ok(c.message instanceof RegExp, c.name);
  }
});

test('every malformed folder is refused with its code and a message naming the problem; a good model loads after each', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-malformed-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const failures = [];
  for (const c of CASES) {
    const dir = buildCase(c, root);
    let err = null;
    try {
      const model = await withTimeout(SentenceTransformer.load(dir), LOAD_TIMEOUT_MS, c.name);
      await model.dispose();
    } catch (e) {
      err = e;
    }
    if (err === null) failures.push(`${c.name}: loaded without an error`);
    else if (!(err instanceof SentenceWasmError)) failures.push(`${c.name}: threw ${err.constructor.name}: ${err.message}`);
    else if (err.code !== c.code) failures.push(`${c.name}: code ${err.code}, expected ${c.code}: ${err.message}`);
    else if (!c.message.test(err.message)) failures.push(`${c.name}: message "${err.message}" does not match ${c.message}`);
    fs.rmSync(dir, { recursive: true, force: true });

    // The refusal left nothing broken behind: a good model loads and is right.
    const good = await withTimeout(SentenceTransformer.load(GOOD), LOAD_TIMEOUT_MS, `good model after ${c.name}`);
    try {
      assertAllClose(await good.encode(SAMPLE), EXPECTED, `good model after ${c.name}`);
    } finally {
      await good.dispose();
    }
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  assert.deepEqual(failures, []);
  assert.ok(peak - rss0 < MAX_RSS_GROWTH, `memory grew by ${((peak - rss0) / 2 ** 20).toFixed(0)} MB over the corpus`);
});

test('the corpus script writes every folder and a manifest from the command line', async () => {
  const { execFileSync } = await import('node:child_process');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-malformed-cli-'));
  try {
    const script = new URL('./malformed/make_corpus.js', import.meta.url);
    execFileSync(process.execPath, [script.pathname, out], { stdio: 'pipe' });
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.length, CASES.length);
    for (const m of manifest) assert.ok(fs.existsSync(path.join(m.dir, 'model.safetensors')), m.name);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

// Known gaps, found by tests/fuzz_js.test.js: config values that are
// Object.prototype names or objects with a "toString"/"valueOf" key are
// looked up with `in` / interpolated raw in js/model_config.js, giving a
// TypeError, a DataCloneError or a silently wrong model instead of BAD_CONFIG.
test('config values that are prototype names or toString objects are refused with BAD_CONFIG', async () => {
    const gaps = {
      'hidden_act "constructor"': ['config.json', (c) => { c.hidden_act = 'constructor'; }],
      'hidden_act {"toString": 1}': ['config.json', (c) => { c.hidden_act = { toString: 1 }; }],
      'model_type {"toString": 1}': ['config.json', (c) => { c.model_type = { toString: 1 }; }],
      'architectures ["hasOwnProperty"]': ['config.json', (c) => { c.architectures = ['hasOwnProperty']; }],
      'similarity_fn_name {"toString": 1}': ['config_sentence_transformers.json', (c) => { c.similarity_fn_name = { toString: 1 }; }],
    };
    const wrong = [];
    for (const [name, [file, edit]] of Object.entries(gaps)) {
      const dir = copyFixture('st-mean');
      editJson(path.join(dir, file), edit);
      try {
        const m = await SentenceTransformer.load(dir);
        await m.dispose();
        wrong.push(`${name}: loaded`);
      } catch (e) {
        if (!(e instanceof SentenceWasmError) || !['BAD_CONFIG', 'UNSUPPORTED_ARCHITECTURE'].includes(e.code)) {
          wrong.push(`${name}: ${e.constructor.name} ${e.code ?? ''} ${e.message}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(wrong, []);
  });
