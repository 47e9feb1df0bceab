// sentence-wasm inside a bundled app. tests/browser/bundler-app/ is a user's
// app that does `import { SentenceTransformer } from 'sentence-wasm'`; the
// package is "installed" into it with exactly the files `npm pack` would
// publish, and a model folder is put in public/model/.
//
// Vite (build, no config file, no options): the worker and the .wasm are
// found through `new Worker(new URL('./worker.js', import.meta.url))` and
// `new URL('../dist/sentence-wasm.wasm', import.meta.url)` with no user
// configuration. The build is served and run in Chromium: same numbers as the
// reference, the worker is a real same-origin file (no blob: or data: URL),
// and every request goes to the app's own origin (no remote code).
//
// The Vite dev server needs one setting, optimizeDeps.exclude: ['sentence-wasm'].
//
// esbuild does not follow `new URL(..., import.meta.url)`: the documented
// recipe (the worker as a second entry point, the four .wasm files copied to
// dist/) is built and run the same way.
//
// Chromium accepts relaxed SIMD, and serve.mjs makes pages cross-origin
// isolated, so every app must end up running the relaxed-SIMD shared-memory
// build (dist/sentence-wasm-relaxed-mt.wasm, found like the plain one).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startServer } from '../../web/serve.mjs';
import { fixtureDir, readReference, assertAllClose } from '../helpers/fixtures.js';
import { browserTest, launch, newPage, REPO } from './helpers.js';

const ref = readReference('st-mean');
const APP_SRC = path.join(REPO, 'tests', 'browser', 'bundler-app');
const EXPECTED = [ref.encode_default[ref.inputs.indexOf('Hello world')], ref.encode_default[ref.inputs.indexOf('A man is eating food.')]];

/** The files `npm pack` publishes, copied to <app>/node_modules/sentence-wasm (what `npm install` gives a user). */
function installPackage(appDir) {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  const files = JSON.parse(json)[0].files.map((f) => f.path);
  assert.ok(files.includes('dist/sentence-wasm.wasm'), 'the package publishes the engine');
  assert.ok(files.includes('dist/sentence-wasm-relaxed.wasm'), 'the package publishes the relaxed-SIMD engine');
  const dest = path.join(appDir, 'node_modules', 'sentence-wasm');
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dest, f));
  }
  return dest;
}

/**
 * A fresh copy of the app outside this repository (inside it, bundlers would
 * resolve 'sentence-wasm' to the repository itself by package self-reference).
 */
function makeApp(t, name) {
  const appDir = fs.mkdtempSync(path.join(os.tmpdir(), `sw-${name}-`));
  t.after(() => fs.rmSync(appDir, { recursive: true, force: true }));
  for (const f of ['index.html', 'main.js']) fs.copyFileSync(path.join(APP_SRC, f), path.join(appDir, f));
  installPackage(appDir);
  return appDir;
}

function copyModel(dest) {
  fs.cpSync(fixtureDir('st-mean'), dest, { recursive: true, filter: (src) => !/reference\.json$|README\.md$/.test(src) });
}

/** Opens `url` in Chromium; returns the app's result and what the page loaded. */
async function openApp(context, url) {
  const page = await newPage(context);
  const workers = [];
  const requests = [];
  page.on('worker', (w) => workers.push(w.url()));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url);
  await page.waitForFunction(() => window.result !== undefined, null, { timeout: 30_000 });
  const result = await page.evaluate(() => window.result);
  await page.close();
  return { result, workers, requests, origin: url };
}

/** Serves the built site `root` with web/serve.mjs and runs it. */
async function runApp(context, root) {
  const server = await startServer({ root, port: 0 });
  try {
    const run = await openApp(context, server.url);
    assert.ok(server.requests.some((r) => r.endsWith('.wasm')), 'the .wasm was fetched from the app\'s server');
    return run;
  } finally {
    await server.close();
  }
}

function checkRun(run, label) {
  assert.equal(run.result.error, undefined, `${label}: ${run.result.error}`);
  assertAllClose(run.result.embeddings, EXPECTED, label);
  // the bundler found the other .wasm files too, and Chromium runs the relaxed one
  assert.equal(run.result.wasmBuild, 'relaxed', `${label}: the relaxed-SIMD build runs`);
  // The model's worker, plus its helper threads on a cross-origin isolated
  // page (serve.mjs sends COOP/COEP): copies of the same worker script.
  assert.ok(run.workers.length >= 1, `${label}: a worker`);
  assert.equal(new Set(run.workers).size, 1, `${label}: helpers run the worker's own script (${run.workers})`);
  assert.ok(run.workers[0].startsWith(run.origin) && new URL(run.workers[0]).pathname.endsWith('.js'),
    `${label}: the worker is a same-origin script file, not a blob: or data: URL (${run.workers[0]})`);
  for (const r of run.requests) assert.ok(r.startsWith(run.origin), `${label}: request to another origin: ${r}`);
}

browserTest('bundled app: Vite build with no configuration, Vite dev, and the esbuild recipe', async (t) => {
  const context = await launch(t);

  await t.test('vite build (no config file, no options)', async (st) => {
    const appDir = makeApp(st, 'vite');
    copyModel(path.join(appDir, 'public', 'model'));
    const { build } = await import('vite');
    const warnings = [];
    const logger = {
      info() {}, clearScreen() {}, hasErrorLogged: () => false, hasWarned: false,
      warn(msg) { warnings.push(msg); }, warnOnce(msg) { warnings.push(msg); }, error(msg) { warnings.push(msg); },
    };
    await build({ root: appDir, configFile: false, logLevel: 'warn', customLogger: logger });
    assert.deepEqual(warnings, [], 'the build has no warnings');

    const out = path.join(appDir, 'dist');
    const assets = fs.readdirSync(path.join(out, 'assets'));
    assert.ok(assets.some((f) => /^sentence-wasm-.*\.wasm$/.test(f)), `the .wasm is an asset: ${assets}`);
    assert.ok(assets.some((f) => /^worker-.*\.js$/.test(f)), `the worker is its own chunk: ${assets}`);
    for (const f of assets.filter((a) => a.endsWith('.js'))) {
      const code = fs.readFileSync(path.join(out, 'assets', f), 'utf8');
      assert.ok(!code.includes('createObjectURL'), `${f}: no blob: URL workers`);
      assert.ok(!/data:text\/javascript/.test(code), `${f}: no inlined data: worker`);
    }
    checkRun(await runApp(context, out), 'vite');
  });

  await t.test("vite dev server: needs only optimizeDeps.exclude: ['sentence-wasm']", async (st) => {
    // The dev server pre-bundles dependencies into .vite/deps/, where the
    // worker's relative URL no longer points at a file; excluding the package
    // from that step is the one setting dev mode needs (vite build needs none).
    const appDir = makeApp(st, 'vite-dev');
    copyModel(path.join(appDir, 'public', 'model'));
    const { createServer } = await import('vite');
    const server = await createServer({
      root: appDir, configFile: false, logLevel: 'silent',
      optimizeDeps: { exclude: ['sentence-wasm'] },
      server: { host: '127.0.0.1', port: 0, strictPort: false },
    });
    await server.listen();
    try {
      checkRun(await openApp(context, server.resolvedUrls.local[0]), 'vite dev');
    } finally {
      await server.close();
    }
  });

  await t.test('esbuild recipe: worker as a second entry point, .wasm copied to dist/', async (st) => {
    const appDir = makeApp(st, 'esbuild');
    const site = path.join(appDir, 'site');
    fs.mkdirSync(path.join(site, 'dist'), { recursive: true });
    const esbuild = await import('esbuild');
    // = esbuild main.js node_modules/sentence-wasm/js/worker.js --bundle --format=esm
    //     --entry-names=[name] --outdir=site/assets
    const res = await esbuild.build({
      absWorkingDir: appDir,
      entryPoints: ['main.js', 'node_modules/sentence-wasm/js/worker.js'],
      bundle: true,
      format: 'esm',
      entryNames: '[name]',
      outdir: 'site/assets',
      logLevel: 'silent',
    });
    assert.deepEqual(res.warnings, [], 'no warnings');
    for (const f of ['sentence-wasm.wasm', 'sentence-wasm-relaxed.wasm', 'sentence-wasm-mt.wasm', 'sentence-wasm-relaxed-mt.wasm']) {
      fs.copyFileSync(path.join(appDir, 'node_modules', 'sentence-wasm', 'dist', f), path.join(site, 'dist', f));
    }
    fs.writeFileSync(path.join(site, 'index.html'),
      fs.readFileSync(path.join(appDir, 'index.html'), 'utf8').replace('./main.js', './assets/main.js'));
    copyModel(path.join(site, 'model'));
    checkRun(await runApp(context, site), 'esbuild');
  });
});
