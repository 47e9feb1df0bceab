// The command line (bin/sentence-wasm.mjs) with the fixture models: encode,
// search, rerank and sparse against the sentence-transformers references,
// --help for each, and one-line errors with a non-zero exit on bad input.
// Also: the package works from an ESM script and through import() from
// CommonJS, resolved by its name 'sentence-wasm'.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { fixtureDir, readReference, assertAllClose, assertClose, ABS_TOL } from './helpers/fixtures.js';
import { serveFolder } from './helpers/serve.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'bin', 'sentence-wasm.mjs');

/** Runs the CLI with `input` on stdin; resolves { code, stdout, stderr, lines (parsed JSON) }. */
function cli(args, input = '', { cwd = REPO } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      let lines = null;
      try { lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)); } catch { /* not JSON */ }
      resolve({ code, stdout, stderr, lines });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading stdin
    child.stdin.end(input);
  });
}

function assertOneLineError(r, exitCode, pattern) {
  assert.equal(r.code, exitCode, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^sentence-wasm: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  if (pattern) assert.match(r.stderr, pattern);
}

const stRef = readReference('st-mean');

test('encode: one JSON line per input line, in order, equal to the reference', async () => {
  const texts = stRef.inputs.slice(3, 12);
  const r = await cli(['encode', fixtureDir('st-mean')], `${texts.join('\n')}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.map((l) => l.text), texts);
  assertAllClose(r.lines.map((l) => l.embedding), stRef.encode_default.slice(3, 12), 'cli encode');

  // Options map to encode(): --query uses the query prompt, --batch-size changes nothing.
  const q = await cli(['encode', fixtureDir('st-mean'), '--query', '--batch-size', '1'], `${texts.slice(0, 3).join('\r\n')}\r\n`);
  assert.equal(q.code, 0, q.stderr);
  assertAllClose(q.lines.map((l) => l.embedding), stRef.encode_query.slice(3, 6), 'cli encode --query');

  // Blank lines are skipped; no input gives no output.
  const blanks = await cli(['encode', fixtureDir('st-mean')], '\n\nHello world\n   \n');
  assert.deepEqual(blanks.lines.map((l) => l.text), ['Hello world']);
  const none = await cli(['encode', fixtureDir('st-mean')], '');
  assert.equal(none.code, 0);
  assert.equal(none.stdout, '');
});

test('encode: more lines than one chunk keep their order', async () => {
  const texts = Array.from({ length: 300 }, (_, i) => `${stRef.inputs[3 + (i % 5)]} #${i}`);
  const r = await cli(['encode', fixtureDir('st-mean'), '--batch-size', '8'], texts.join('\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.map((l) => l.text), texts);
});

test('search: top-k per query with scores, best first (query and document prompts applied)', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const ids = Array.from({ length: 17 }, (_, i) => 3 + i);
  const corpus = ids.map((i) => stRef.inputs[i]);
  const file = path.join(dir, 'corpus.txt');
  fs.writeFileSync(file, `${corpus.join('\n')}\n`);
  const queryIds = [7, 13];
  const r = await cli(['search', fixtureDir('st-mean'), '--corpus', file, '--top-k', '3', ...queryIds.map((i) => stRef.inputs[i])]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines.length, 2);
  // Expected: cosine of the reference encode_query against the reference encode_document.
  const cos = (a, b) => {
    let d = 0, na = 0, nb = 0;
    for (let k = 0; k < a.length; k++) { d += a[k] * b[k]; na += a[k] * a[k]; nb += b[k] * b[k]; }
    return d / Math.sqrt(na * nb);
  };
  r.lines.forEach((line, qi) => {
    const q = queryIds[qi];
    assert.equal(line.query, stRef.inputs[q]);
    const expected = ids.map((id, corpusId) => ({ corpusId, score: cos(stRef.encode_query[q], stRef.encode_document[id]) }))
      .sort((x, y) => y.score - x.score).slice(0, 3);
    assert.deepEqual(line.results.map((h) => h.corpusId), expected.map((h) => h.corpusId));
    line.results.forEach((h, k) => {
      assert.ok(Math.abs(h.score - expected[k].score) <= ABS_TOL, `${h.score} vs ${expected[k].score}`);
      assert.equal(h.text, corpus[h.corpusId]);
    });
  });
});

test('rerank: every document with its CrossEncoder score, best first (reference rank())', async () => {
  const ref = readReference('cross-1label');
  // Blank lines are skipped, so the reference's empty document (if any) is left out and ids shift.
  const keep = ref.rank_documents.map((d, i) => i).filter((i) => ref.rank_documents[i].trim() !== '');
  const expected = ref.rank.filter((x) => keep.includes(x.corpus_id)).map((x) => ({ id: keep.indexOf(x.corpus_id), score: x.score }));
  const docs = keep.map((i) => ref.rank_documents[i]);
  const r = await cli(['rerank', fixtureDir('cross-1label'), ref.rank_query], `${ref.rank_documents.join('\n')}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.lines.length, expected.length);
  r.lines.forEach((line, i) => {
    assert.equal(line.corpusId, expected[i].id);
    assert.ok(Math.abs(line.score - expected[i].score) <= ABS_TOL, `${line.score} vs ${expected[i].score}`);
    assert.equal(line.text, docs[line.corpusId]);
  });
  const top = await cli(['rerank', fixtureDir('cross-1label'), ref.rank_query, '--top-k', '2'], docs.join('\n'));
  assert.deepEqual(top.lines.map((l) => l.corpusId), expected.slice(0, 2).map((x) => x.id));
});

test('sparse: indices and values equal the reference, with decoded top tokens', async () => {
  const ref = readReference('sparse-splade-max');
  const texts = ref.inputs.slice(3, 9);
  const r = await cli(['sparse', fixtureDir('sparse-splade-max'), '--tokens', '5'], texts.join('\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.lines.map((l) => l.text), texts);
  r.lines.forEach((line, i) => {
    const e = ref.encode_default[3 + i];
    assert.deepEqual(line.indices, e.indices, `indices of ${i}`);
    assertClose(line.values, e.values, `values of ${i}`);
    assert.ok(line.dim > Math.max(...line.indices));
    assert.equal(line.tokens.length, Math.min(5, e.indices.length));
    const weights = line.tokens.map(([, w]) => w);
    assert.deepEqual(weights, [...weights].sort((a, b) => b - a));
  });
  const noTokens = await cli(['sparse', fixtureDir('sparse-splade-max'), '--tokens', '0'], texts[0]);
  assert.equal(noTokens.lines[0].tokens, undefined);
});

test('a model by URL with --cache: the second run makes no request', async (t) => {
  const server = await serveFolder(fixtureDir('st-mean'));
  t.after(() => server.close());
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-cli-cache-'));
  t.after(() => fs.rmSync(cache, { recursive: true, force: true }));
  const a = await cli(['encode', server.url, '--cache', cache], 'Hello world\n');
  assert.equal(a.code, 0, a.stderr);
  const n = server.requests.length;
  assert.ok(n > 0);
  const b = await cli(['encode', server.url, '--cache', cache], 'Hello world\n');
  assert.equal(server.requests.length, n);
  assert.deepEqual(b.lines, a.lines);
});

test('--help for the program and each command', async () => {
  const main = await cli(['--help']);
  assert.equal(main.code, 0);
  for (const c of ['encode', 'search', 'rerank', 'sparse']) assert.match(main.stdout, new RegExp(`^  ${c} `, 'm'));
  for (const c of ['encode', 'search', 'rerank', 'sparse']) {
    const r = await cli([c, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^usage: sentence-wasm ${c} MODEL`));
    assert.match(r.stdout, /--cache DIR/);
    const r2 = await cli(['help', c]);
    assert.equal(r2.stdout, r.stdout);
  }
});

test('bad input: one line on stderr and a non-zero exit', async (t) => {
  const st = fixtureDir('st-mean');
  assertOneLineError(await cli([]), 2, /a command is required/);
  assertOneLineError(await cli(['embed', st]), 2, /unknown command "embed"/);
  assertOneLineError(await cli(['encode']), 2, /MODEL is required/);
  assertOneLineError(await cli(['encode', st, 'extra']), 2, /expected MODEL, got 2 arguments/);
  assertOneLineError(await cli(['encode', st, '--bogus']), 2, /Unknown option '--bogus'/);
  assertOneLineError(await cli(['encode', st, '--batch-size', '0']), 2, /--batch-size must be a positive integer/);
  assertOneLineError(await cli(['encode', st, '--query', '--document']), 2, /exclude each other/);
  assertOneLineError(await cli(['search', st, 'q']), 2, /needs --corpus/);
  assertOneLineError(await cli(['search', st, '--corpus', 'x.txt']), 2, /at least one QUERY/);
  assertOneLineError(await cli(['search', st, '--corpus', '/no/such/file.txt', 'q']), 1, /cannot read \/no\/such\/file\.txt: no such file/);
  assertOneLineError(await cli(['search', st, '--corpus', CLI, '--top-k', 'many', 'q']), 2, /--top-k must be a positive integer/);
  assertOneLineError(await cli(['rerank', fixtureDir('cross-1label')]), 2, /expected MODEL QUERY/);
  assertOneLineError(await cli(['sparse', st, '--tokens', '-1']), 2, /Option '--tokens' argument is ambiguous|--tokens must be/);
  // Library errors keep their code.
  assertOneLineError(await cli(['encode', '/no/such/model'], 'x\n'), 1, /MODEL_NOT_FOUND: /);
  assertOneLineError(await cli(['encode', st, '--prompt-name', 'nope'], 'x\n'), 1, /INVALID_INPUT: promptName "nope"/);
  assertOneLineError(await cli(['encode', st, '--cache', ''], 'x\n'), 1, /INVALID_INPUT: load: cache must be/);
  assertOneLineError(await cli(['rerank', st, 'q'], 'doc\n'), 1, /^sentence-wasm: [A-Z_]+: /);
  t.diagnostic('all errors are one line with exit 1 (failure) or 2 (usage)');
});

test('Node: the package by name from an ESM script and through import() from CommonJS', async (t) => {
  // Inside the repository, 'sentence-wasm' resolves to this package by its
  // name and "exports" (package self-reference), as it would from node_modules.
  fs.mkdirSync(path.join(REPO, 'test-output'), { recursive: true });
  const dir = fs.mkdtempSync(path.join(REPO, 'test-output', 'node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const use = `
    const model = await SentenceTransformer.load(${JSON.stringify(fixtureDir('st-mean'))});
    console.log(JSON.stringify(Array.from(await model.encode('Hello world'))));
    await model.dispose();`;
  fs.writeFileSync(path.join(dir, 'esm.mjs'), `import { SentenceTransformer } from 'sentence-wasm';\n${use}\n`);
  fs.writeFileSync(path.join(dir, 'app.cjs'), `'use strict';
(async () => {
  const { SentenceTransformer } = await import('sentence-wasm');
  ${use}
})().catch((e) => { console.error(e); process.exit(1); });
`);
  const expected = stRef.encode_default[stRef.inputs.indexOf('Hello world')];
  for (const f of ['esm.mjs', 'app.cjs']) {
    const out = await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(dir, f)], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(out.code, 0, `${f}: ${out.stderr}`);
    assertClose(JSON.parse(out.stdout), expected, f);
  }
});
