// Tests for js/source.js: reading model files from a local folder, a URL and a
// Hub id (the last two against tests/helpers/serve.js on 127.0.0.1), with the
// error codes a user sees for missing files, HTTP errors, truncated downloads
// and paths that try to leave the model folder. Also checks that progress is
// reported, a user-supplied fetch is the one used, and only the files asked
// for are requested.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { openSource, validateModelPath } from '../js/source.js';
import { serveFolder } from './helpers/serve.js';
import { rejectsWith } from './helpers/errors.js';

const MODEL_DIR = fileURLToPath(new URL('./fixtures/st-cls-dense/', import.meta.url)).replace(/\/$/, '');
const fileBytes = (rel) => new Uint8Array(readFileSync(join(MODEL_DIR, rel)));


const BAD_PATHS = ['../config.json', '1_Pooling/../../x', '/etc/passwd', 'a\\b', 'a//b', './config.json',
  'http://evil.example/x', 'file:///etc/passwd', 'C:/x', '', '1_Pooling/', 'a\u0000b'];

/** Every Source must refuse paths that escape its base, naming the path. */
async function checkPathRules(src) {
  for (const p of BAD_PATHS) {
    await rejectsWith(src.readBytes(p), 'BAD_CONFIG', new RegExp(`model file path ${escapeRe(JSON.stringify(p))}`));
    await rejectsWith(src.readJson(p, { optional: true }), 'BAD_CONFIG');
    await rejectsWith(src.readSafetensorsHeader(p), 'BAD_CONFIG');
    await rejectsWith(src.readTensorBytes(p, 0, 1), 'BAD_CONFIG');
  }
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// --- path rule itself ----------------------------------------------------------

test('validateModelPath accepts model-relative paths and refuses escapes', () => {
  assert.deepEqual(validateModelPath('1_Pooling/config.json'), ['1_Pooling', 'config.json']);
  assert.deepEqual(validateModelPath('model.safetensors'), ['model.safetensors']);
  assert.deepEqual(validateModelPath('%2e%2e'), ['%2e%2e']); // a literal name; encoded again for URLs
  for (const p of BAD_PATHS) assert.throws(() => validateModelPath(p), { code: 'BAD_CONFIG' });
  assert.throws(() => validateModelPath(7), { code: 'BAD_CONFIG' });
});

// --- folder --------------------------------------------------------------------

test('folder: absolute, relative and file:// URL forms read the same files', async () => {
  for (const form of [MODEL_DIR, relative(process.cwd(), MODEL_DIR) || '.', pathToFileURL(MODEL_DIR).href]) {
    const src = await openSource(form);
    assert.equal(src.kind, 'folder');
    assert.equal(src.base, MODEL_DIR);
    assert.match(src.description, /folder .*st-cls-dense/);
    assert.deepEqual(await src.readJson('1_Pooling/config.json'), JSON.parse(readFileSync(join(MODEL_DIR, '1_Pooling/config.json'), 'utf8')));
    assert.equal(await src.readText('modules.json'), readFileSync(join(MODEL_DIR, 'modules.json'), 'utf8'));
    assert.deepEqual(await src.readBytes('2_Dense/model.safetensors'), fileBytes('2_Dense/model.safetensors'));
  }
});

test('folder: safetensors header and tensor bytes', async () => {
  const src = await openSource(MODEL_DIR);
  const whole = fileBytes('model.safetensors');
  const parsed = await src.readSafetensorsHeader('model.safetensors');
  assert.equal(parsed.tensors.length, 39);
  assert.deepEqual(parsed.metadata, { format: 'pt' });
  const t = parsed.tensors.find((x) => x.name.endsWith('word_embeddings.weight')) ?? parsed.tensors[0];
  assert.deepEqual(await src.readTensorBytes('model.safetensors', t.begin, t.end), whole.subarray(t.begin, t.end));
  await rejectsWith(src.readTensorBytes('model.safetensors', 0, whole.length + 1), 'BAD_SAFETENSORS', /outside the file/);
  await rejectsWith(src.readSafetensorsHeader('config.json'), 'BAD_SAFETENSORS', /^config\.json: /);
});

test('folder: missing folder, missing file, optional file', async () => {
  await rejectsWith(openSource(join(MODEL_DIR, 'no-such-model')), 'MODEL_NOT_FOUND', /no-such-model/);
  await rejectsWith(openSource('./no/such/model/here'), 'MODEL_NOT_FOUND', /no folder at .*no\/such\/model\/here/);
  await rejectsWith(openSource(pathToFileURL(join(MODEL_DIR, 'nope')).href), 'MODEL_NOT_FOUND', /model folder not found: .*nope/);
  await rejectsWith(openSource(join(MODEL_DIR, 'config.json')), 'MODEL_NOT_FOUND', /is a file, not a model folder/);
  await rejectsWith(openSource('not a model!'), 'MODEL_NOT_FOUND', /local folder path.*http\(s\) URL.*Hub id/);
  await rejectsWith(openSource(42), 'INVALID_INPUT');

  const src = await openSource(MODEL_DIR);
  await rejectsWith(src.readBytes('3_Normalize/config.json'), 'MODEL_NOT_FOUND', /3_Normalize\/config\.json: file not found/);
  await rejectsWith(src.readSafetensorsHeader('pytorch_model.safetensors'), 'MODEL_NOT_FOUND', /pytorch_model\.safetensors/);
  assert.equal(await src.readJson('sentence_xlnet_config.json', { optional: true }), null);
  assert.equal(await src.readText('1_Pooling', { optional: true }), null); // a folder is not a file
});

test('folder: path rules', async () => {
  await checkPathRules(await openSource(MODEL_DIR));
});

test('folder: invalid JSON and invalid UTF-8 are BAD_CONFIG naming the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sentence-wasm-source-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), '{"hidden_size": 32,');
  writeFileSync(join(dir, 'bad.txt'), Buffer.from([0x61, 0xff, 0x62]));
  writeFileSync(join(dir, 'bom.json'), '\uFEFF{"a": 1}');
  const src = await openSource(dir);
  await rejectsWith(src.readJson('config.json'), 'BAD_CONFIG', /config\.json .*invalid JSON/);
  await rejectsWith(src.readText('bad.txt'), 'BAD_CONFIG', /bad\.txt .*not valid UTF-8/);
  assert.deepEqual(await src.readJson('bom.json'), { a: 1 }); // Windows editors write a BOM
});

test('folder: progress and abort', async () => {
  const events = [];
  const src = await openSource(MODEL_DIR, { onProgress: (e) => events.push(e) });
  const size = fileBytes('model.safetensors').length;
  await src.readBytes('model.safetensors');
  assert.deepEqual(events[0], { status: 'initiate', file: 'model.safetensors', loaded: 0, total: size });
  assert.deepEqual(events.at(-1), { status: 'done', file: 'model.safetensors', loaded: size, total: size });

  // A throwing progress callback does not break the read.
  const src2 = await openSource(MODEL_DIR, { onProgress: () => { throw new Error('ui bug'); } });
  assert.equal((await src2.readBytes('config.json')).length, fileBytes('config.json').length);

  const ac = new AbortController();
  const src3 = await openSource(MODEL_DIR, { signal: ac.signal });
  ac.abort();
  await rejectsWith(src3.readBytes('config.json'), 'ABORTED');
  await rejectsWith(openSource(MODEL_DIR, { signal: ac.signal }), 'ABORTED');
});

// --- URL and Hub against the local server --------------------------------------

let server;
before(async () => {
  server = await serveFolder(MODEL_DIR, { hubPrefix: 'hub' });
});
after(() => server.close());

function resetServer() {
  server.requests.length = 0;
  server.fail.clear();
}

test('url: reads files, with or without trailing slash, requesting only those files', async () => {
  resetServer();
  for (const form of [server.url, server.url.replace(/\/$/, '') + '/']) {
    const src = await openSource(form);
    assert.equal(src.kind, 'url');
    assert.equal(src.base, server.url);
    assert.deepEqual(await src.readJson('config.json'), JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')));
  }
  // A sub-folder URL without the trailing slash is still a folder base.
  const sub = await openSource(`${server.url}2_Dense`);
  assert.equal(sub.base, `${server.url}2_Dense/`);
  assert.deepEqual(await sub.readBytes('model.safetensors'), fileBytes('2_Dense/model.safetensors'));
  assert.deepEqual(server.requests, ['/config.json', '/config.json', '/2_Dense/model.safetensors']);
});

test('url: safetensors header and tensor bytes download the file once', async () => {
  resetServer();
  const src = await openSource(server.url);
  const whole = fileBytes('model.safetensors');
  const parsed = await src.readSafetensorsHeader('model.safetensors');
  assert.equal(parsed.tensors.length, 39);
  for (const t of parsed.tensors.slice(0, 5)) {
    assert.deepEqual(await src.readTensorBytes('model.safetensors', t.begin, t.end), whole.subarray(t.begin, t.end));
  }
  assert.deepEqual(server.requests, ['/model.safetensors']);

  // Another file replaces the cached one; asking again re-downloads.
  const dense = await src.readSafetensorsHeader('2_Dense/model.safetensors');
  assert.equal(dense.tensors.length, 2);
  await src.readTensorBytes('model.safetensors', parsed.tensors[0].begin, parsed.tensors[0].end);
  assert.deepEqual(server.requests, ['/model.safetensors', '/2_Dense/model.safetensors', '/model.safetensors']);
  await rejectsWith(src.readTensorBytes('model.safetensors', 0, whole.length + 1), 'BAD_SAFETENSORS', /outside the file/);
  src.close();
});

test('url: path rules and encoding never leave the base', async () => {
  resetServer();
  const src = await openSource(`${server.url}2_Dense/`);
  await checkPathRules(src);
  assert.deepEqual(server.requests, [], 'refused paths make no request');
  // '%2e%2e' is a literal file name: encoded again, it cannot act as '..'.
  assert.equal(await src.readBytes('%2e%2e/config.json', { optional: true }), null);
  assert.equal(await src.readBytes('a?b#c', { optional: true }), null);
  assert.deepEqual(server.requests, ['/2_Dense/%252e%252e/config.json', '/2_Dense/a%3Fb%23c']);
});

test('hub: id resolves under hubUrl/org/name/resolve/<revision>/', async () => {
  resetServer();
  const src = await openSource('sentence-transformers/tiny-test', { hubUrl: server.hubUrl });
  assert.equal(src.kind, 'hub');
  assert.equal(src.base, `${server.url}hub/sentence-transformers/tiny-test/resolve/main/`);
  assert.match(src.description, /sentence-transformers\/tiny-test/);
  assert.deepEqual(await src.readJson('modules.json'), JSON.parse(readFileSync(join(MODEL_DIR, 'modules.json'), 'utf8')));
  assert.equal((await src.readSafetensorsHeader('2_Dense/model.safetensors')).tensors.length, 2);

  const pinned = await openSource('org/name', { hubUrl: `${server.hubUrl}/`, revision: 'refs/pr/1' });
  await pinned.readText('config.json');
  assert.deepEqual(server.requests, [
    '/hub/sentence-transformers/tiny-test/resolve/main/modules.json',
    '/hub/sentence-transformers/tiny-test/resolve/main/2_Dense/model.safetensors',
    '/hub/org/name/resolve/refs%2Fpr%2F1/config.json',
  ]);
  await checkPathRules(src);
  await rejectsWith(openSource('org/name', { hubUrl: server.hubUrl, revision: '' }), 'INVALID_INPUT');
});

test('hub: ids that are not ids are not sent anywhere', async () => {
  resetServer();
  for (const bad of ['org', 'a/b/c', '../etc/nope', 'org/.hidden', '.org/name', 'org/na me', 'org/name?x']) {
    await rejectsWith(openSource(bad, { hubUrl: server.hubUrl }), 'MODEL_NOT_FOUND', /Hub id "org\/name"/);
  }
  assert.deepEqual(server.requests, []);
});

test('http errors: 404 -> MODEL_NOT_FOUND (optional -> null), 500/401 -> FETCH_FAILED', async () => {
  resetServer();
  const src = await openSource(server.url);
  await rejectsWith(src.readJson('missing.json'), 'MODEL_NOT_FOUND', new RegExp(`missing\\.json: not found at ${escapeRe(server.url)}missing\\.json \\(HTTP 404\\)`));
  assert.equal(await src.readJson('missing.json', { optional: true }), null);

  server.fail.set('config.json', { status: 500 });
  await rejectsWith(src.readJson('config.json'), 'FETCH_FAILED', /config\.json: HTTP 500/);
  await rejectsWith(src.readJson('config.json', { optional: true }), 'FETCH_FAILED', /HTTP 500/);

  const hub = await openSource('org/private', { hubUrl: server.hubUrl });
  server.fail.set('config.json', { status: 401 });
  await rejectsWith(hub.readJson('config.json'), 'FETCH_FAILED', /HTTP 401.*private, gated or non-existent/);
  server.fail.set('config.json', { status: 404 });
  await rejectsWith(hub.readJson('config.json'), 'MODEL_NOT_FOUND', /HTTP 404/);

  // Invalid JSON over HTTP names the file too.
  await rejectsWith(src.readJson('vocab.txt'), 'BAD_CONFIG', /vocab\.txt .*invalid JSON/);
});

test('truncated download -> FETCH_FAILED with byte counts', async () => {
  resetServer();
  const src = await openSource(server.url);
  const size = fileBytes('model.safetensors').length;
  server.fail.set('model.safetensors', { truncate: 100000 });
  await rejectsWith(src.readBytes('model.safetensors'), 'FETCH_FAILED',
    new RegExp(`model\\.safetensors: truncated download: got \\d+ of ${size} bytes`));
  // A failed download is not cached: after the fault clears, the header loads.
  await rejectsWith(src.readSafetensorsHeader('model.safetensors'), 'FETCH_FAILED', /truncated download/);
  server.fail.clear();
  assert.equal((await src.readSafetensorsHeader('model.safetensors')).tensors.length, 39);
});

test('network error and bad content-length from a user fetch -> FETCH_FAILED', async () => {
  const closed = await serveFolder(MODEL_DIR);
  const deadUrl = closed.url;
  await closed.close();
  const src = await openSource(deadUrl);
  await rejectsWith(src.readBytes('config.json'), 'FETCH_FAILED', /config\.json: network error fetching/);

  const throwing = await openSource('https://models.invalid/m/', { fetch: async () => { throw new TypeError('offline'); } });
  await rejectsWith(throwing.readBytes('config.json'), 'FETCH_FAILED', /offline/);

  // Body shorter / longer than content-length, delivered by a well-behaved stream.
  const lying = (declared, body) => async () => new Response(body, { headers: { 'content-length': String(declared) } });
  const short = await openSource('https://models.invalid/m/', { fetch: lying(10, 'abc') });
  await rejectsWith(short.readBytes('x'), 'FETCH_FAILED', /truncated download: got 3 of 10 bytes/);
  const long = await openSource('https://models.invalid/m/', { fetch: lying(2, 'abc') });
  await rejectsWith(long.readBytes('x'), 'FETCH_FAILED', /more than the 2 bytes/);
});

test('progress events: initiate, progress, done with content-length totals', async () => {
  resetServer();
  const events = [];
  const src = await openSource(server.url, { onProgress: (e) => events.push(e) });
  const size = fileBytes('model.safetensors').length;
  await src.readBytes('model.safetensors');
  assert.deepEqual(events[0], { status: 'initiate', file: 'model.safetensors', loaded: 0, total: size });
  assert.deepEqual(events.at(-1), { status: 'done', file: 'model.safetensors', loaded: size, total: size });
  const progress = events.filter((e) => e.status === 'progress');
  assert.ok(progress.length >= 1);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded > progress[i - 1].loaded);
  assert.equal(progress.at(-1).loaded, size);
  assert.ok(progress.every((e) => e.total === size && e.file === 'model.safetensors'));
});

test('no content-length: total undefined, bytes still complete', async () => {
  resetServer();
  server.fail.set('config.json', { chunked: true });
  const events = [];
  const src = await openSource(server.url, { onProgress: (e) => events.push(e) });
  assert.deepEqual(await src.readBytes('config.json'), fileBytes('config.json'));
  assert.equal(events[0].total, undefined);
  assert.equal(events.at(-1).status, 'done');
  assert.equal(events.at(-1).loaded, fileBytes('config.json').length);
});

test('user-supplied fetch is the one used, once per file', async () => {
  resetServer();
  const calls = [];
  const myFetch = (url, init) => { calls.push(url); return fetch(url, init); };
  const src = await openSource('org/name', { hubUrl: server.hubUrl, fetch: myFetch });
  await src.readJson('config.json');
  await src.readSafetensorsHeader('model.safetensors');
  await src.readTensorBytes('model.safetensors', 100, 200);
  assert.deepEqual(calls, [
    `${server.url}hub/org/name/resolve/main/config.json`,
    `${server.url}hub/org/name/resolve/main/model.safetensors`,
  ]);
  assert.deepEqual(server.requests, ['/hub/org/name/resolve/main/config.json', '/hub/org/name/resolve/main/model.safetensors']);
});

test('abort: before the request and in the middle of a download -> ABORTED', async () => {
  resetServer();
  const before = new AbortController();
  const src = await openSource(server.url, { signal: before.signal });
  before.abort();
  await rejectsWith(src.readBytes('config.json'), 'ABORTED');
  assert.deepEqual(server.requests, []);

  // Abort once the first chunk has arrived.
  const mid = new AbortController();
  const src2 = await openSource(server.url, {
    signal: mid.signal,
    onProgress: (e) => { if (e.status === 'progress') mid.abort(); },
  });
  await rejectsWith(src2.readBytes('model.safetensors'), 'ABORTED', /model\.safetensors: aborted/);

  // A user fetch that ignores the signal is still stopped between chunks.
  const deaf = new AbortController();
  let sent = 0;
  const stream = new ReadableStream({
    pull(controller) {
      sent += 1;
      if (sent === 2) deaf.abort();
      controller.enqueue(new Uint8Array(10));
      if (sent === 5) controller.close();
    },
  });
  const src3 = await openSource('https://models.invalid/m/', { signal: deaf.signal, fetch: async () => new Response(stream) });
  await rejectsWith(src3.readBytes('x'), 'ABORTED');
});

test('modules load in a browser: no static Node builtin imports', () => {
  for (const f of ['../js/source.js', '../js/safetensors.js']) {
    const text = readFileSync(new URL(f, import.meta.url), 'utf8');
    assert.doesNotMatch(text, /^\s*import\s[^;]*from\s*['"](node:|fs|path|url)/m, f);
  }
});
