/**
 * @file Similarity functions of sentence-transformers (util.cos_sim,
 * dot_score, euclidean_sim, manhattan_sim) on Float32Array vectors.
 * Sums in float64: these run on the main thread over small matrices.
 */
import { SentenceWasmError } from './errors.js';

function asMatrix(x, name) {
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return [x];
  if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'number') return [x];
  if (Array.isArray(x) && x.every((r) => (ArrayBuffer.isView(r) || Array.isArray(r)))) return x;
  throw new SentenceWasmError('INVALID_INPUT', `${name}: expected a vector or an array of vectors`);
}

function checkDims(a, b) {
  const d = a.length ? a[0].length : 0;
  for (const r of [...a, ...b]) {
    if (r.length !== d) throw new SentenceWasmError('INVALID_INPUT', `vectors of different lengths (${d} and ${r.length})`);
  }
}

function dot(x, y) { let s = 0; for (let i = 0; i < x.length; i++) s += x[i] * y[i]; return s; }
function norm(x) { return Math.sqrt(dot(x, x)); }

const PAIR_FNS = {
  cosine: (x, y, nx, ny) => dot(x, y) / (Math.max(nx, 1e-12) * Math.max(ny, 1e-12)),
  dot: (x, y) => dot(x, y),
  euclidean: (x, y) => { let s = 0; for (let i = 0; i < x.length; i++) { const d = x[i] - y[i]; s += d * d; } return -Math.sqrt(s); },
  manhattan: (x, y) => { let s = 0; for (let i = 0; i < x.length; i++) s += Math.abs(x[i] - y[i]); return -s; },
};

export const SIMILARITY_FN_NAMES = Object.keys(PAIR_FNS);

function fnFor(name) {
  const fn = PAIR_FNS[name];
  if (!fn) throw new SentenceWasmError('INVALID_INPUT', `similarity function "${name}" is not one of ${SIMILARITY_FN_NAMES.join(', ')}`);
  return fn;
}

/** Every row of a against every row of b -> number[][] [a.length x b.length]. */
export function similarityMatrix(name, a, b) {
  const fn = fnFor(name);
  const A = asMatrix(a, 'a'), B = asMatrix(b, 'b');
  checkDims(A, B);
  const nb = B.map(norm);
  return A.map((x) => { const nx = norm(x); return B.map((y, j) => fn(x, y, nx, nb[j])); });
}

/** Row i of a against row i of b -> number[]. */
export function similarityPairwise(name, a, b) {
  const fn = fnFor(name);
  const A = asMatrix(a, 'a'), B = asMatrix(b, 'b');
  if (A.length !== B.length) throw new SentenceWasmError('INVALID_INPUT', `pairwise similarity needs as many rows in a (${A.length}) as in b (${B.length})`);
  checkDims(A, B);
  return A.map((x, i) => fn(x, B[i], norm(x), norm(B[i])));
}
