// The demo page (web/) in headless Chromium, served by web/serve.mjs: it loads
// its default model with a progress bar, embeds the sample collection, ranks
// it as a query is typed, reranks with a CrossEncoder and shows the top tokens
// of a SparseEncoder when those are given, and says which mode runs. A
// screenshot after a search is saved as test-output/demo.png.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer } from '../../web/serve.mjs';
import { browserTest, launch, newPage, ensureOutputDir } from './helpers.js';

const QUERY = 'how do I repair a puncture';

async function waitReady(page) {
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 60_000 });
  const error = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
  assert.equal(error, '', 'the demo shows no error');
  assert.equal(await page.getAttribute('body', 'data-state'), 'ready');
}

async function typeQuery(page, q) {
  await page.fill('#query', ''); // fill() fires 'input', as typing does
  await page.fill('#query', q);
  await page.waitForFunction((want) => document.body.dataset.searched === want, q, { timeout: 30_000 });
}

browserTest('demo page: default model, search as you type, rerank, sparse tokens, screenshot', async (t) => {
  const context = await launch(t);
  const server = await startServer({ port: 0 });
  t.after(() => server.close());

  await t.test('default model and a search', async () => {
    const page = await newPage(context);
    await page.goto(`${server.url}web/`);
    await waitReady(page);
    const model = await page.inputValue('#model');
    const shipped = fs.existsSync(path.join(server.root, 'models', 'static-en', 'modules.json'));
    assert.equal(model, shipped ? '../models/static-en/' : '../tests/fixtures/st-mean/');
    assert.equal(await page.textContent('#progress-text'), 'all files loaded');
    assert.equal(await page.$eval('#progress', (p) => p.value), 1);
    assert.match(await page.textContent('#corpus-info'), /^40 texts embedded in /);

    const mode = await page.textContent('#mode');
    assert.match(mode, /SIMD128 yes/);
    assert.match(mode, /relaxed SIMD: yes \(the relaxed-SIMD build runs\)/, 'Chromium has relaxed SIMD');
    assert.match(mode, /threads: no/);
    assert.match(mode, /cross-origin isolated: yes/);

    await typeQuery(page, QUERY);
    const scores = await page.$$eval('#results li', (lis) => lis.map((li) => Number(li.dataset.score)));
    assert.equal(scores.length, 10);
    assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'best first');
    assert.match(await page.textContent('#timing'), /^query: [\d.]+ ms \(embed \+ search over 40 texts\)/);
    await page.close();
  });

  await t.test('with a CrossEncoder and a SparseEncoder', async () => {
    const page = await newPage(context);
    const params = new URLSearchParams({
      model: '../tests/fixtures/st-mean/', cross: '../tests/fixtures/cross-1label/', sparse: '../tests/fixtures/sparse-splade-max/',
    });
    await page.goto(`${server.url}web/?${params}`);
    await waitReady(page);
    await typeQuery(page, QUERY);
    const rerank = await page.$$eval('#results li', (lis) => lis.map((li) => Number(li.dataset.rerank)));
    assert.equal(rerank.length, 10);
    assert.ok(rerank.every(Number.isFinite), 'every result has a rerank score');
    assert.deepEqual(rerank, [...rerank].sort((a, b) => b - a), 'ordered by the reranker');
    assert.equal(await page.isVisible('#sparse-tokens'), true);
    assert.equal(await page.$$eval('#sparse-tokens .tok', (e) => e.length), 12);
    assert.match(await page.textContent('#timing'), /reranked the top 10: [\d.]+ ms · sparse: [\d.]+ ms/);

    const file = path.join(ensureOutputDir(), 'demo.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 10_000, 'screenshot written');
    t.diagnostic(`screenshot: ${file}`);
    await page.close();
  });

  await t.test('a bad model source shows an error with its code', async () => {
    const page = await newPage(context);
    await page.goto(`${server.url}web/?model=${encodeURIComponent('../tests/fixtures/no-such-model/')}`);
    await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30_000 });
    assert.match(await page.textContent('#error'), /^MODEL_NOT_FOUND: /);
    await page.close();
  });
});
