// What a browser downloads besides the model, gzipped (zlib level 9, as a
// server would send it): sentence-wasm's js/ and the one engine build a page fetches, against
// transformers.js + onnxruntime-web (the peer's node_modules, see compare.mjs
// --setup-peer). Prints a table; --json prints one JSON line.
//   node bench/download_size.mjs [--peer-dir /tmp/peer-harness] [--json]
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: args } = parseArgs({ options: { 'peer-dir': { type: 'string', default: '/tmp/peer-harness' }, json: { type: 'boolean', default: false } } });
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

function size(file) {
  const bytes = fs.readFileSync(file);
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

function total(files) {
  return files.reduce((acc, f) => { const s = size(f); return { raw: acc.raw + s.raw, gzip: acc.gzip + s.gzip }; }, { raw: 0, gzip: 0 });
}

function listJs(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return listJs(p);
    return e.name.endsWith('.js') ? [p] : [];
  });
}

const ourJs = listJs(path.join(root, 'js'));
// A page fetches one build: relaxed where the engine has relaxed SIMD
// (Chromium), plain elsewhere; the -mt twin on cross-origin isolated pages.
const BUILDS = [
  ['sentence-wasm.wasm', 'plain SIMD128'],
  ['sentence-wasm-relaxed.wasm', 'relaxed SIMD'],
  ['sentence-wasm-mt.wasm', 'plain, shared-memory threads'],
  ['sentence-wasm-relaxed-mt.wasm', 'relaxed, shared-memory threads'],
];
const rows = BUILDS.map(([file, what]) => ({
  name: `sentence-wasm: js/ (all of it) + ${file} (${what})`,
  ...total([...ourJs, path.join(root, 'dist', file)]),
}));
const peer = path.join(args['peer-dir'], 'node_modules');
const tjs = path.join(peer, '@huggingface', 'transformers', 'dist', 'transformers.web.min.js');
const ort = path.join(peer, 'onnxruntime-web', 'dist');
if (fs.existsSync(tjs)) {
  rows.push({ name: 'transformers.js 4.3.1: transformers.web.min.js + ort-wasm-simd-threaded.{mjs,wasm}',
    ...total([tjs, path.join(ort, 'ort-wasm-simd-threaded.mjs'), path.join(ort, 'ort-wasm-simd-threaded.wasm')]) });
  rows.push({ name: 'transformers.js 4.3.1: transformers.web.min.js + ort-wasm-simd-threaded.jsep.{mjs,wasm} (the WebGPU-capable build)',
    ...total([tjs, path.join(ort, 'ort-wasm-simd-threaded.jsep.mjs'), path.join(ort, 'ort-wasm-simd-threaded.jsep.wasm')]) });
} else {
  console.error(`download_size: no peer in ${peer} (node bench/compare.mjs --setup-peer); sentence-wasm only`);
}
if (args.json) {
  console.log(JSON.stringify({ sizes: rows }));
} else {
  const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
  console.log('| download | raw | gzip -9 |\n|---|---|---|');
  for (const r of rows) console.log(`| ${r.name} | ${kb(r.raw)} | ${kb(r.gzip)} |`);
}
