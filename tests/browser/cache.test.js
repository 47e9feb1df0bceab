// The Cache API store in a real browser: after one load() of a model URL, a
// second load() of the same source (also from a new page of the same origin)
// makes no request for any model file at the server (web/serve.mjs counts
// them, and answers with Cache-Control: no-store so the HTTP cache cannot
// stand in). cache: false downloads again; cache: 'name' uses that cache.
import assert from 'node:assert/strict';

import { startServer } from '../../web/serve.mjs';
import { readReference, assertClose } from '../helpers/fixtures.js';
import { browserTest, launch, newPage } from './helpers.js';

const ref = readReference('st-mean');

/** In the page: loads `kind` from `path` with `options`, runs one call, disposes. */
async function loadOnce({ kind, path, options }) {
  const sw = await import('/js/index.js');
  const events = [];
  const model = await sw[kind].load(new URL(path, location.href).href, {
    ...options, onProgress: (e) => events.push(`${e.status}:${e.file}`),
  });
  let out;
  if (kind === 'CrossEncoder') out = Array.from(await model.predict([['a question', 'an answer']]));
  else out = Array.from(await model.encode('Hello world'));
  await model.dispose();
  return { out, events, caches: await caches.keys() };
}

browserTest('Cache API: a second load of the same model URL makes no network request', async (t) => {
  const context = await launch(t);
  const server = await startServer({ port: 0 });
  t.after(() => server.close());
  const modelRequests = (prefix) => server.requests.filter((r) => r.startsWith(prefix)).length;

  const page = await newPage(context);
  await page.goto(`${server.url}tests/browser/harness.html`);

  await t.test('SentenceTransformer, default options', async () => {
    const prefix = '/tests/fixtures/st-mean/';
    const first = await page.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: {} });
    const downloaded = modelRequests(prefix);
    assert.ok(downloaded >= 5, `first load downloads (${downloaded} requests)`);
    assert.ok(first.caches.includes('sentence-wasm'), `cache names: ${first.caches}`);
    assertClose(first.out, ref.encode_default[3], 'first load');

    const second = await page.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: {} });
    assert.equal(modelRequests(prefix), downloaded, `no model request on the second load: ${server.requests.slice(-8).join(' ')}`);
    assert.deepEqual(second.out, first.out);
    assert.ok(second.events.includes('done:model.safetensors'), 'progress is reported for cached files');

    // A new page of the same origin (a reload) finds the files too.
    const other = await newPage(context);
    await other.goto(`${server.url}tests/browser/harness.html`);
    const third = await other.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: {} });
    await other.close();
    assert.equal(modelRequests(prefix), downloaded, 'no model request from a new page');
    assert.deepEqual(third.out, first.out);

    // cache: false goes to the network.
    await page.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: { cache: false } });
    assert.equal(modelRequests(prefix), 2 * downloaded, 'cache: false downloads every file');
  });

  await t.test('CrossEncoder: optional files the server lacks (404) are remembered too', async () => {
    const prefix = '/tests/fixtures/cross-1label/';
    const first = await page.evaluate(loadOnce, { kind: 'CrossEncoder', path: prefix, options: {} });
    const downloaded = modelRequests(prefix);
    const second = await page.evaluate(loadOnce, { kind: 'CrossEncoder', path: prefix, options: {} });
    assert.equal(modelRequests(prefix), downloaded, 'no request, not even for the missing optional files');
    assert.deepEqual(second.out, first.out);
  });

  await t.test("cache: 'name' uses a Cache API cache of that name", async () => {
    const prefix = '/tests/fixtures/st-max/';
    const first = await page.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: { cache: 'my-models' } });
    assert.ok(first.caches.includes('my-models'), `cache names: ${first.caches}`);
    const downloaded = modelRequests(prefix);
    await page.evaluate(loadOnce, { kind: 'SentenceTransformer', path: prefix, options: { cache: 'my-models' } });
    assert.equal(modelRequests(prefix), downloaded);
  });
});
