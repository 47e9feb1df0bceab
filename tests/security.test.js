// Security properties of the JS library (issue 6):
//  - no eval, new Function, string timers or computed imports in js/;
//  - no model-supplied string is used as a path outside the model folder or
//    as a URL outside its base: modules.json paths are checked through the
//    public API, for a folder and for a URL source, and every request the
//    library makes is logged and must stay under the base;
//  - a folder source makes no network request at all;
//  - "__proto__" keys in model JSON files do not pollute Object.prototype.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SentenceTransformer, SentenceWasmError } from '../js/index.js';
import { fixtureDir } from './helpers/fixtures.js';
import { copyFixture, editJson } from './helpers/model_copies.js';
import { serveFolder } from './helpers/serve.js';
import { rejectsWith } from './helpers/errors.js';

const JS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'js');

function jsFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => path.join(dir, f));
}

/** Source without comments (strings kept), good enough to grep for calls. */
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
}

test('no eval, new Function, string timers or computed imports anywhere in js/', () => {
  const files = jsFiles(JS_DIR);
  assert.ok(files.length > 10, `found ${files.length} files`);
  const findings = [];
  for (const f of files) {
    const src = stripComments(fs.readFileSync(f, 'utf8'));
    const rel = path.relative(JS_DIR, f);
    const rules = [
      [/\beval\s*\(/, 'eval('],
      [/\bnew\s+Function\b/, 'new Function'],
      [/(^|[^.\w$])Function\s*\(/m, 'Function('],
      [/\b(setTimeout|setInterval|setImmediate)\s*\(\s*['"`]/, 'a timer with a string'],
      [/\bnew\s+Worker\s*\(\s*['"`]?(data|blob):/, 'a worker from a data:/blob: URL'],
      [/\.innerHTML\s*=|document\.write\s*\(/, 'HTML injection sink'],
    ];
    for (const [re, what] of rules) if (re.test(src)) findings.push(`${rel}: ${what}`);
    // import(...) only with a literal, or the `node:${name}` builtin helper.
    for (const m of src.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)) {
      const arg = m[1].trim();
      if (!/^(['"][^'"]+['"]|`node:\$\{\w+\}`)$/.test(arg)) findings.push(`${rel}: import(${arg})`);
    }
  }
  assert.deepEqual(findings, []);
});

// ---- model-supplied paths ----

/** modules.json "path" values a hostile model could use to read or fetch elsewhere. */
const HOSTILE_PATHS = [
  ['https://evil.example/x', /scheme or drive letter/],
  ['//evil.example/x', /absolute/],
  ['file:///etc/passwd', /scheme or drive letter/],
  ['javascript:alert(1)', /scheme or drive letter/],
  ['/etc/passwd', /absolute/],
  ['..\\x', /backslash/],
  ['C:\\Windows\\x', /backslash/],
  ['C:/Windows/x', /scheme or drive letter/],
  ['../x', /"\.\." segment/],
  ['1_Pooling/../../../../etc', /"\.\." segment/],
  ['./1_Pooling', /"\." segment/],
  ['1_Pooling//x', /empty segment/],
  ['x\u0000y', /control character/],
  ['x\ny', /control character/],
];


test('modules.json paths leaving a folder source are refused with BAD_CONFIG, and nothing is fetched', async () => {
  const dir = copyFixture('st-mean');
  try {
    let fetched = 0;
    const noFetch = async () => { fetched++; throw new Error('a folder source must not fetch'); };
    for (const [p, why] of HOSTILE_PATHS) {
      editJson(path.join(dir, 'modules.json'), (m) => { m[1].path = p; });
      await rejectsWith(SentenceTransformer.load(dir, { fetch: noFetch }), 'BAD_CONFIG', why);
    }
    assert.equal(fetched, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('modules.json paths leaving a URL source are refused, and every request stays under the base URL', async (t) => {
  const dir = copyFixture('st-mean');
  const server = await serveFolder(dir);
  t.after(async () => { await server.close(); fs.rmSync(dir, { recursive: true, force: true }); });
  const seen = [];
  const logged = (input, init) => { seen.push(String(input instanceof Request ? input.url : input)); return fetch(input, init); };
  for (const [p, why] of HOSTILE_PATHS) {
    editJson(path.join(dir, 'modules.json'), (m) => { m[1].path = p; });
    await rejectsWith(SentenceTransformer.load(server.url, { fetch: logged }), 'BAD_CONFIG', why);
  }
  // A segment that only looks like '..' once decoded stays a plain name.
  editJson(path.join(dir, 'modules.json'), (m) => { m[1].path = '%2e%2e/x'; });
  await rejectsWith(SentenceTransformer.load(server.url, { fetch: logged }), 'MODEL_NOT_FOUND', /%2e%2e/);
  assert.ok(seen.length > 0);
  for (const u of seen) {
    assert.ok(u.startsWith(server.url), `request outside the base: ${u}`);
    assert.ok(!/evil|etc|passwd|Windows/i.test(u), `request for a hostile path: ${u}`);
  }
  for (const r of server.requests) assert.ok(!r.includes('..'), `server saw ${r}`);
});

test('a folder source makes no network request; a good folder loads with fetch forbidden', async () => {
  let fetched = 0;
  const model = await SentenceTransformer.load(fixtureDir('st-mean'), { fetch: async () => { fetched++; throw new Error('no'); } });
  try {
    assert.equal((await model.encode('hello')).length, 32);
  } finally {
    await model.dispose();
  }
  assert.equal(fetched, 0);
});

test('"__proto__" keys in model JSON files do not pollute Object.prototype', async () => {
  const dir = copyFixture('st-mean');
  try {
    const poison = (o) => {
      Object.defineProperty(o, '__proto__', { value: { polluted: 'yes' }, enumerable: true, configurable: true, writable: true });
      return o;
    };
    editJson(path.join(dir, 'config.json'), (c) => poison(c));
    editJson(path.join(dir, 'config_sentence_transformers.json'), (c) => { poison(c); poison(c.prompts ?? (c.prompts = {})); });
    editJson(path.join(dir, 'modules.json'), (m) => { poison(m[1]); });
    editJson(path.join(dir, '1_Pooling', 'config.json'), (c) => poison(c));
    editJson(path.join(dir, 'tokenizer.json'), (t) => { poison(t); poison(t.model); poison(t.normalizer); });
    assert.match(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), /"__proto__"/);
    try {
      const model = await SentenceTransformer.load(dir);
      await model.encode('hello');
      await model.dispose();
    } catch (err) {
      assert.ok(err instanceof SentenceWasmError, `${err && err.stack}`);
    }
    assert.equal({}.polluted, undefined);
    assert.equal(Object.prototype.polluted, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
