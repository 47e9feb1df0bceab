// The public surface is a contract (DESIGN.md): exactly these exports, these
// methods, and a .d.ts that type-checks a user's code.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

test('the package exports exactly the public API', async () => {
  const mod = await import('sentence-wasm');
  assert.deepEqual(Object.keys(mod).sort(),
    ['CrossEncoder', 'ErrorCode', 'SentenceTransformer', 'SentenceWasmError', 'SparseEncoder', 'util']);
  assert.deepEqual(Object.keys(mod.util).sort(), ['cosSim', 'dotScore', 'euclideanSim', 'manhattanSim',
    'pairwiseCosSim', 'pairwiseDotScore', 'quantizeEmbeddings', 'semanticSearch']);
  const methods = (cls) => Object.getOwnPropertyNames(cls.prototype).filter((n) => n !== 'constructor').sort();
  for (const m of ['encode', 'encodeQuery', 'encodeDocument', 'similarity', 'similarityPairwise', 'tokenize', 'dispose']) {
    assert.ok(methods(mod.SentenceTransformer).includes(m), `SentenceTransformer.${m}`);
  }
  for (const m of ['predict', 'rank', 'dispose']) assert.ok(methods(mod.CrossEncoder).includes(m), `CrossEncoder.${m}`);
  for (const m of ['encode', 'encodeQuery', 'encodeDocument', 'decode', 'similarity', 'dispose']) {
    assert.ok(methods(mod.SparseEncoder).includes(m), `SparseEncoder.${m}`);
  }
  for (const cls of [mod.SentenceTransformer, mod.CrossEncoder, mod.SparseEncoder]) {
    assert.equal(typeof cls.load, 'function');
  }
  assert.deepEqual(Object.keys(mod.ErrorCode).sort(), ['ABORTED', 'BAD_CONFIG', 'BAD_SAFETENSORS', 'BAD_TOKENIZER',
    'DISPOSED', 'ENGINE_ERROR', 'FETCH_FAILED', 'INVALID_INPUT', 'MODEL_NOT_FOUND', 'UNSUPPORTED_ARCHITECTURE', 'WORKER_FAILED']);
});

test('index.d.ts type-checks a typed usage file (tsc --noEmit)', () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  assert.ok(fs.existsSync(tsc), 'typescript is a devDependency: run npm ci');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tests', 'types')], { stdio: 'pipe' });
});

test('package.json: exports, types and files keep tests and fixtures out of the package', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'sentence-wasm');
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].types, './js/index.d.ts');
  assert.ok(pkg.files.every((f) => !f.startsWith('tests') && !f.startsWith('bench')));
});
