// web/serve.mjs (npm run serve) without a browser: MIME types, the COOP/COEP
// headers and --no-isolation, no-store caching, and no way out of the root.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { startServer, REPO_ROOT } from '../../web/serve.mjs';

test('serves the repository with the right MIME types and cross-origin isolation headers', async (t) => {
  const server = await startServer({ port: 0 });
  t.after(() => server.close());
  const get = (p, init) => fetch(server.url + p, { redirect: 'manual', ...init });

  const types = {
    'web/index.html': 'text/html; charset=utf-8',
    'web/demo.js': 'text/javascript; charset=utf-8',
    'web/serve.mjs': 'text/javascript; charset=utf-8',
    'web/demo.css': 'text/css; charset=utf-8',
    'tests/fixtures/st-mean/config.json': 'application/json; charset=utf-8',
    'tests/fixtures/st-mean/model.safetensors': 'application/octet-stream',
  };
  if (fs.existsSync(path.join(REPO_ROOT, 'dist', 'sentence-wasm.wasm'))) types['dist/sentence-wasm.wasm'] = 'application/wasm';
  for (const [p, type] of Object.entries(types)) {
    const res = await get(p);
    assert.equal(res.status, 200, p);
    assert.equal(res.headers.get('content-type'), type, p);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', p);
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp', p);
    assert.equal(res.headers.get('cache-control'), 'no-store', p);
    const body = new Uint8Array(await res.arrayBuffer());
    assert.equal(body.length, fs.statSync(path.join(REPO_ROOT, p)).size, `${p} whole`);
  }

  assert.equal((await get('')).headers.get('location'), '/web/');
  assert.equal((await get('web')).headers.get('location'), '/web/');
  assert.equal((await get('web/')).headers.get('content-type'), 'text/html; charset=utf-8');
  const head = await get('web/index.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  assert.equal((await get('no/such/file')).status, 404);
  assert.equal((await get('web/index.html', { method: 'POST' })).status, 405);
  for (const p of ['..%2fpackage.json', 'web/..%2f..%2fetc/passwd', '%2e%2e/x', 'web/%00']) {
    assert.equal((await get(p)).status, 404, p);
  }
  assert.ok(server.requests.includes('/web/demo.js'));
});

test('--no-isolation: the same files without COOP/COEP', async (t) => {
  const server = await startServer({ port: 0, isolation: false });
  t.after(() => server.close());
  const res = await fetch(`${server.url}web/index.html`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cross-origin-opener-policy'), null);
  assert.equal(res.headers.get('cross-origin-embedder-policy'), null);
});

test('the script: prints its URL, honours --no-isolation, rejects a bad port', async () => {
  const script = path.join(REPO_ROOT, 'web', 'serve.mjs');
  const child = spawn(process.execPath, [script, '--port', '0', '--no-isolation', '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => { out += d; if (out.includes('\n')) resolve(out); });
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
    });
    const m = /serving .* at (http:\/\/127\.0\.0\.1:\d+\/web\/) \(cross-origin isolated: no/.exec(line);
    assert.ok(m, line);
    const res = await fetch(m[1]);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cross-origin-embedder-policy'), null);
  } finally {
    child.kill();
  }
  const bad = spawn(process.execPath, [script, '--port', 'x'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  bad.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((resolve) => bad.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /--port must be a number/);
});
