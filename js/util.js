/**
 * @file `util`: the helpers of sentence_transformers.util, camelCased.
 */
import { SentenceWasmError } from './errors.js';
import { similarityMatrix, similarityPairwise } from './similarity.js';

export { quantizeEmbeddings } from './quantize.js';

/** Cosine similarity of every row of a with every row of b -> number[][]. */
export function cosSim(a, b) { return similarityMatrix('cosine', a, b); }

/** Dot product of every row of a with every row of b -> number[][]. */
export function dotScore(a, b) { return similarityMatrix('dot', a, b); }

/** Negative Euclidean distance, every row against every row. */
export function euclideanSim(a, b) { return similarityMatrix('euclidean', a, b); }

/** Negative Manhattan distance, every row against every row. */
export function manhattanSim(a, b) { return similarityMatrix('manhattan', a, b); }

/** Row-wise cosine: a[i] against b[i] -> number[]. */
export function pairwiseCosSim(a, b) { return similarityPairwise('cosine', a, b); }

/** Row-wise dot product: a[i] against b[i] -> number[]. */
export function pairwiseDotScore(a, b) { return similarityPairwise('dot', a, b); }

/**
 * For each query, the topK corpus entries by score, best first
 * (sentence_transformers.util.semantic_search).
 * @param {Float32Array | Float32Array[]} queryEmbeddings
 * @param {Float32Array[]} corpusEmbeddings
 * @param {{ topK?: number, scoreFunction?: (a: Float32Array[], b: Float32Array[]) => number[][] }} [options]
 * @returns {{ corpusId: number, score: number }[][]}
 */
export function semanticSearch(queryEmbeddings, corpusEmbeddings, { topK = 10, scoreFunction = cosSim } = {}) {
  if (!Number.isInteger(topK) || topK < 1) throw new SentenceWasmError('INVALID_INPUT', `topK must be a positive integer, got ${topK}`);
  const queries = ArrayBuffer.isView(queryEmbeddings) ? [queryEmbeddings] : queryEmbeddings;
  if (!Array.isArray(corpusEmbeddings) || corpusEmbeddings.length === 0) return queries.map(() => []);
  const scores = scoreFunction(queries, corpusEmbeddings);
  return scores.map((row) => row
    .map((score, corpusId) => ({ corpusId, score }))
    .sort((x, y) => y.score - x.score || x.corpusId - y.corpusId)
    .slice(0, topK));
}
