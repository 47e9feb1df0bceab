// The model-file cache in Node (js/cache.js through js/source.js): with
// `cache: '/some/dir'` a second load() of the same URL or Hub id and revision
// makes no request at the local server (tests/helpers/serve.js counts them),
// gives the same results, and is laid out like the URLs. Without the option
// (Node's default) or with cache: false nothing is cached. Only complete
// downloads are stored; a broken cache folder never breaks a load; local
// folders are never cached. The browser's Cache API is tested in
// tests/browser/cache.test.js.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { SentenceTransformer, CrossEncoder } from '../js/index.js';
import { openSource } from '../js/source.js';
import { fixtureDir, readReference, assertAllClose } from './helpers/fixtures.js';
import { serveFolder } from './helpers/serve.js';

const ref = readReference('st-mean');
const sample = ref.inputs.slice(3, 8);
const expected = ref.encode_default.slice(3, 8);

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cache-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function loadAndEncode(source, options) {
  const model = await SentenceTransformer.load(source, options);
  try {
    return await model.encode(sample);
  } finally {
    await model.dispose();
  }
}

test('URL source: the second load with a cache folder makes no request', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const cache = tempDir(t);

  assertAllClose(await loadAndEncode(server.url, { cache }), expected, 'first load');
  const first = server.requests.length;
  assert.ok(first >= 5, `first load downloads the files (${first} requests)`);

  const events = [];
  assertAllClose(await loadAndEncode(server.url, { cache, onProgress: (e) => events.push(e) }), expected, 'cached load');
  assert.equal(server.requests.length, first, `no request on the cached load: ${server.requests.slice(first).join(' ')}`);

  // Progress is still reported, with the sizes of the cached files.
  const size = fs.statSync(path.join(fixtureDir('st-mean'), 'model.safetensors')).size;
  assert.deepEqual(events.filter((e) => e.file === 'model.safetensors').map((e) => [e.status, e.loaded, e.total]),
    [['initiate', 0, size], ['done', size, size]]);

  // Laid out like the URL: <dir>/<host_port>/<path>.
  const host = new URL(server.url).host.replace(':', '_');
  const cached = path.join(cache, host, 'model.safetensors');
  assert.deepEqual(fs.readFileSync(cached), fs.readFileSync(path.join(fixtureDir('st-mean'), 'model.safetensors')));
  assert.ok(fs.existsSync(path.join(cache, host, '1_Pooling', 'config.json')));
});

test('Hub id: cached per revision', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'), { hubPrefix: 'hub' });
  t.after(() => server.close());
  const cache = tempDir(t);
  const opts = { cache, hubUrl: server.hubUrl };

  assertAllClose(await loadAndEncode('sentence-wasm/st-mean', { ...opts, revision: 'v1' }), expected, 'v1');
  const afterV1 = server.requests.length;
  assertAllClose(await loadAndEncode('sentence-wasm/st-mean', { ...opts, revision: 'v1' }), expected, 'v1 again');
  assert.equal(server.requests.length, afterV1, 'same revision: no request');

  // Another revision is another set of files.
  assertAllClose(await loadAndEncode('sentence-wasm/st-mean', { ...opts, revision: 'v2' }), expected, 'v2');
  const v2 = server.requests.slice(afterV1);
  assert.ok(v2.length >= 5 && v2.every((r) => r.includes('/resolve/v2/')), v2.join(' '));
  assert.ok(fs.existsSync(path.join(cache, new URL(server.url).host.replace(':', '_'),
    'hub', 'sentence-wasm', 'st-mean', 'resolve', 'v1', 'model.safetensors')));
});

test('optional files the server does not have (404) are remembered: a cached CrossEncoder load makes no request', async (t) => {
  // cross-1label has no modules.json, no sentence_bert_config.json, ...: the loader asks and gets 404s.
  const server = await serveFolder(fixtureDir('cross-1label'));
  t.after(() => server.close());
  const cache = tempDir(t);
  const cref = readReference('cross-1label');
  const pairs = cref.pairs.slice(0, 3);

  const run = async () => {
    const ce = await CrossEncoder.load(server.url, { cache });
    try { return Array.from(await ce.predict(pairs)); } finally { await ce.dispose(); }
  };
  const a = await run();
  const first = server.requests.length;
  assert.ok(first > 0);
  const b = await run();
  assert.equal(server.requests.length, first, `no request: ${server.requests.slice(first).join(' ')}`);
  assert.deepEqual(b, a);
});

test('no cache option in Node (the default) or cache: false: every load downloads', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  await loadAndEncode(server.url, {});
  const one = server.requests.length;
  await loadAndEncode(server.url, {});
  assert.equal(server.requests.length, 2 * one);
  await loadAndEncode(server.url, { cache: false });
  assert.equal(server.requests.length, 3 * one);
  await loadAndEncode(server.url, { cache: true }); // true: Node has no Cache API, so nothing is kept
  assert.equal(server.requests.length, 4 * one);
});

test('a truncated download is not cached; the next load downloads it whole', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const cache = tempDir(t);
  server.fail.set('model.safetensors', { truncate: 100 });
  await assert.rejects(loadAndEncode(server.url, { cache }), { code: 'FETCH_FAILED' });
  const host = new URL(server.url).host.replace(':', '_');
  assert.ok(!fs.existsSync(path.join(cache, host, 'model.safetensors')), 'no partial file kept');
  assert.deepEqual(fs.readdirSync(path.join(cache, host)).filter((f) => f.endsWith('.tmp')), []);

  server.fail.delete('model.safetensors');
  assertAllClose(await loadAndEncode(server.url, { cache }), expected, 'after the failure');
  const n = server.requests.length;
  assertAllClose(await loadAndEncode(server.url, { cache }), expected, 'cached');
  assert.equal(server.requests.length, n);
});

test('an unusable cache folder is ignored: the load still works', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const dir = tempDir(t);
  const notADir = path.join(dir, 'file');
  fs.writeFileSync(notADir, 'x');
  assertAllClose(await loadAndEncode(server.url, { cache: notADir }), expected, 'cache path is a file');
  assertAllClose(await loadAndEncode(server.url, { cache: path.join(notADir, 'sub') }), expected, 'under a file');
});

test('local folders are never cached', async (t) => {
  const cache = path.join(tempDir(t), 'c');
  assertAllClose(await loadAndEncode(fixtureDir('st-mean'), { cache }), expected, 'folder');
  assert.ok(!fs.existsSync(cache));
});

test('a relative cache folder resolves against the working directory; a query string is part of the key', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const dir = tempDir(t);
  const rel = path.relative(process.cwd(), dir);
  const a = await openSource(`${server.url}?token=a`, { cache: rel });
  const b = await openSource(`${server.url}?token=b`, { cache: rel });
  assert.equal(await a.readText('modules.json'), await b.readText('modules.json'));
  assert.equal(server.requests.length, 2, 'different query strings are different entries');
  await a.readText('modules.json');
  assert.equal(server.requests.length, 2, 'same URL: cached');
  const files = fs.readdirSync(path.join(dir, new URL(server.url).host.replace(':', '_')));
  assert.equal(files.filter((f) => f.startsWith('modules.json@')).length, 2, files.join(' '));
});

test('bad cache option values -> INVALID_INPUT', async () => {
  for (const cache of [3, '', '  ', {}, []]) {
    await assert.rejects(SentenceTransformer.load(fixtureDir('st-mean'), { cache }),
      (e) => e.code === 'INVALID_INPUT' && /cache must be/.test(e.message), `cache: ${JSON.stringify(cache)}`);
  }
});
