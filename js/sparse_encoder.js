/**
 * @file SparseEncoder: the public class for SPLADE models (MLMTransformer +
 * SpladePooling). Names and defaults follow sentence-transformers'
 * SparseEncoder in camelCase. Encoding runs in a worker; decode, similarity
 * and sparsity work on the returned sparse vectors on the calling thread.
 *
 * A sparse vector is { indices: Uint32Array (ascending), values: Float32Array,
 * dim } with only the non-zero entries. A string in gives one vector out; an
 * array in gives an array out.
 */
import { SentenceWasmError } from './errors.js';
import { WorkerPool } from './worker_pool.js';
import { openSource, readSparseEncoder } from './model_files.js';
import { checkLoadOptions, wasmBuildOf, checkPositiveInt, checkOptions, describe, weightDtype } from './options.js';
import { resolvePrompt, withTaskPrompt } from './prompts.js';
import { checkTexts } from './pipelines/text_input.js';

const ENCODE_OPTIONS = ['batchSize', 'promptName', 'prompt', 'maxActiveDims', 'signal', 'showProgressBar'];

export class SparseEncoder {
  #client;
  #disposed = false;
  #vocab;

  /** @private use SparseEncoder.load() */
  constructor(client, spec, info, options) {
    this.#client = client;
    this.#vocab = info.vocab;
    /** Output dimension: the vocabulary size. */
    this.dimension = info.dimension;
    /** Tokens per text after truncation. */
    this.maxSeqLength = info.maxSeqLength;
    /** Named prompts from config_sentence_transformers.json. */
    this.prompts = Object.freeze({ ...spec.prompts });
    this.defaultPromptName = spec.defaultPromptName;
    /** 'dot' (the default for sparse models) | 'cosine' | 'euclidean' | 'manhattan' */
    this.similarityFnName = spec.similarityFnName;
    /** SpladePooling: 'max' | 'sum', and 'relu' | 'log1p_relu'. */
    this.poolingStrategy = spec.pooling.strategy;
    this.activationFunction = spec.pooling.activation;
    /** Default max_active_dims of encode() (null: keep every non-zero). */
    this.maxActiveDims = options.maxActiveDims ?? null;
    /** Bytes of weights held in WebAssembly memory. */
    this.weightBytes = info.weightBytes;
    /** Whether the threads share one copy of the weights (true) or each
     * worker holds its own (false; also for one thread). */
    this.sharedMemory = info.sharedMemory;
    /** The engine build running this model: 'relaxed' (relaxed SIMD) or 'plain' (SIMD128). */
    this.wasmBuild = info.wasmBuild;
    /** How the engine holds the encoder's Linear weights: 'fp32' | 'int8'. */
    this.dtype = spec.dtype;
  }

  /** Threads computing: as loaded, or fewer once a helper thread has failed
   * (the call that hit it rejects, and the engine goes on alone). */
  get threads() {
    return this.#client.threads;
  }

  /**
   * Loads a SparseEncoder model folder.
   * @param {string | URL} source local folder (Node), URL of a folder, or Hub id 'org/name'
   * @param {import('./index.js').LoadOptions & { maxActiveDims?: number }} [options]
   */
  static async load(source, options = {}) {
    if (options === null || typeof options !== 'object') throw new SentenceWasmError('INVALID_INPUT', 'load: options must be an object');
    const { maxActiveDims, ...common } = options;
    checkLoadOptions(common);
    if (common.truncateDim !== undefined) {
      throw new SentenceWasmError('INVALID_INPUT', 'load: truncateDim does not apply to a SparseEncoder (use maxActiveDims)');
    }
    if (maxActiveDims !== undefined && maxActiveDims !== null) checkPositiveInt(maxActiveDims, 'maxActiveDims');
    const src = await openSource(source, common);
    const { spec, transfer } = await readSparseEncoder(src);
    spec.dtype = weightDtype(common.dtype);
    const client = await WorkerPool.start(common.threads);
    try {
      const info = await client.load({ spec, wasmBuild: wasmBuildOf(common) }, { transfer, signal: common.signal, onProgress: common.onProgress });
      return new SparseEncoder(client, spec, info, { maxActiveDims });
    } catch (err) {
      await client.terminate();
      throw err;
    }
  }

  /**
   * Sparse vector of one text, or one per text of an array.
   * @param {string | string[]} sentences
   * @param {{ batchSize?: number, promptName?: string, prompt?: string, maxActiveDims?: number,
   *   signal?: AbortSignal }} [options]
   * @returns {Promise<SparseVector | SparseVector[]>}
   */
  async encode(sentences, options = {}) {
    this.#alive();
    const single = typeof sentences === 'string';
    const texts = single ? [sentences] : sentences;
    if (!Array.isArray(texts)) {
      throw new SentenceWasmError('INVALID_INPUT', `encode: expected a string or an array of strings, got ${describe(sentences)}`);
    }
    checkTexts(texts);
    checkOptions(options, ENCODE_OPTIONS, 'encode');
    const { batchSize = 32, signal } = options;
    checkPositiveInt(batchSize, 'batchSize');
    const maxActiveDims = options.maxActiveDims ?? this.maxActiveDims;
    if (maxActiveDims !== null) checkPositiveInt(maxActiveDims, 'maxActiveDims');
    const prompt = resolvePrompt(this.prompts, this.defaultPromptName, options.prompt, options.promptName);
    if (texts.length === 0) return [];
    const result = await this.#client.callSplit('encode', texts, [{ batchSize, prompt, maxActiveDims }],
      { weight: (t) => t.length + 16, signal });
    return single ? result[0] : result;
  }

  /** encode() with the model's "query" prompt, when it has one. */
  async encodeQuery(sentences, options = {}) {
    return this.encode(sentences, withTaskPrompt(this.prompts, options, ['query']));
  }

  /** encode() with the model's "document" (or "passage", "corpus") prompt, when it has one. */
  async encodeDocument(sentences, options = {}) {
    return this.encode(sentences, withTaskPrompt(this.prompts, options, ['document', 'passage', 'corpus']));
  }

  /** Tokenizes as encode() would (no prompt): { inputIds, attentionMask } of Int32Array per text. */
  async tokenize(texts) {
    this.#alive();
    const list = typeof texts === 'string' ? [texts] : texts;
    if (!Array.isArray(list)) throw new SentenceWasmError('INVALID_INPUT', `tokenize: expected a string or an array of strings, got ${describe(texts)}`);
    return this.#client.call('tokenize', { args: [list] });
  }

  /**
   * The tokens of a sparse vector with their weights, largest first (ties:
   * lower token id first).
   * @param {SparseVector | SparseVector[]} embeddings
   * @param {{ topK?: number }} [options] topK: at most this many per vector (default: all)
   * @returns {[string, number][] | [string, number][][]}
   */
  decode(embeddings, { topK } = {}) {
    if (topK !== undefined && topK !== null) checkPositiveInt(topK, 'topK');
    const one = (v, name) => {
      checkSparse(v, name);
      const order = Array.from(v.indices.keys()).sort((a, b) => v.values[b] - v.values[a] || v.indices[a] - v.indices[b]);
      const keep = topK ? order.slice(0, topK) : order;
      return keep.map((k) => [this.#vocab[v.indices[k]] ?? null, v.values[k]]);
    };
    if (Array.isArray(embeddings)) return embeddings.map((v, i) => one(v, `embeddings[${i}]`));
    return one(embeddings, 'embeddings');
  }

  /** Every vector of a against every one of b, with this model's similarity function -> number[][]. */
  similarity(a, b) {
    return sparseSimilarityMatrix(this.similarityFnName, a, b);
  }

  /** Vector i of a against vector i of b -> number[]. */
  similarityPairwise(a, b) {
    return sparseSimilarityPairwise(this.similarityFnName, a, b);
  }

  /** Same as the static SparseEncoder.sparsity(). */
  sparsity(embeddings) {
    return SparseEncoder.sparsity(embeddings);
  }

  /**
   * Sparsity statistics, as the library's `sparsity`: for one vector its
   * active dimensions; for several the mean over them (float32, as torch's
   * mean), and sparsityRatio = 1 - activeDims / dim.
   * @param {SparseVector | SparseVector[]} embeddings
   * @returns {{ activeDims: number, sparsityRatio: number }}
   */
  static sparsity(embeddings) {
    const list = Array.isArray(embeddings) ? embeddings : [embeddings];
    list.forEach((v, i) => checkSparse(v, Array.isArray(embeddings) ? `embeddings[${i}]` : 'embeddings'));
    if (list.length === 0 || list[0].dim === 0) return { activeDims: 0, sparsityRatio: 1 };
    const dim = list[0].dim;
    let total = 0;
    for (const v of list) {
      if (v.dim !== dim) throw new SentenceWasmError('INVALID_INPUT', `sparse vectors of different dims (${dim} and ${v.dim})`);
      for (let i = 0; i < v.values.length; i++) if (v.values[i] !== 0) total++;
    }
    const activeDims = Array.isArray(embeddings) ? Math.fround(total / list.length) : total;
    return { activeDims, sparsityRatio: 1 - activeDims / dim };
  }

  /** Ends the worker and frees the weights; later calls reject with DISPOSED. */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#client.terminate();
  }

  async [Symbol.asyncDispose]() { await this.dispose(); }

  #alive() {
    if (this.#disposed) throw new SentenceWasmError('DISPOSED', 'this SparseEncoder was disposed');
  }


}

/**
 * @typedef {{ indices: Uint32Array, values: Float32Array, dim: number }} SparseVector
 */

function checkSparse(v, name) {
  const ok = v !== null && typeof v === 'object' && v.indices && v.values
    && typeof v.indices.length === 'number' && v.indices.length === v.values.length && Number.isInteger(v.dim);
  if (!ok) throw new SentenceWasmError('INVALID_INPUT', `${name}: expected a sparse vector { indices, values, dim }`);
  for (let i = 0; i < v.indices.length; i++) {
    const j = v.indices[i];
    if (!(j >= 0 && j < v.dim) || (i > 0 && !(j > v.indices[i - 1]))) {
      throw new SentenceWasmError('INVALID_INPUT', `${name}: indices must be ascending and below dim ${v.dim}`);
    }
  }
}

/** Walks the union of two ascending index lists: fn(valueInA, valueInB) per index. */
function merge(a, b, fn) {
  let i = 0, j = 0;
  const ai = a.indices, bi = b.indices;
  while (i < ai.length || j < bi.length) {
    if (j >= bi.length || (i < ai.length && ai[i] < bi[j])) fn(a.values[i++], 0);
    else if (i >= ai.length || bi[j] < ai[i]) fn(0, b.values[j++]);
    else fn(a.values[i++], b.values[j++]);
  }
}

function sparseDot(a, b) {
  let s = 0;
  let i = 0, j = 0;
  const ai = a.indices, bi = b.indices;
  while (i < ai.length && j < bi.length) {
    if (ai[i] < bi[j]) i++;
    else if (bi[j] < ai[i]) j++;
    else s += a.values[i++] * b.values[j++];
  }
  return s;
}

function norm(v) {
  let s = 0;
  for (let i = 0; i < v.values.length; i++) s += v.values[i] * v.values[i];
  return Math.sqrt(s);
}

/** The four similarity functions of sentence-transformers on sparse vectors (float64 sums). */
const SPARSE_FNS = {
  dot: (a, b) => sparseDot(a, b),
  cosine: (a, b, na, nb) => sparseDot(a, b) / (Math.max(na, 1e-12) * Math.max(nb, 1e-12)),
  euclidean: (a, b) => { let s = 0; merge(a, b, (x, y) => { s += (x - y) * (x - y); }); return -Math.sqrt(s); },
  manhattan: (a, b) => { let s = 0; merge(a, b, (x, y) => { s += Math.abs(x - y); }); return -s; },
};

function sparseList(x, name) {
  const list = Array.isArray(x) ? x : [x];
  list.forEach((v, i) => checkSparse(v, Array.isArray(x) ? `${name}[${i}]` : name));
  return list;
}

function fnFor(name) {
  const fn = SPARSE_FNS[name];
  if (!fn) throw new SentenceWasmError('INVALID_INPUT', `similarity function "${name}" is not one of ${Object.keys(SPARSE_FNS).join(', ')}`);
  return fn;
}

function checkDims(A, B) {
  const d = A.length ? A[0].dim : (B.length ? B[0].dim : 0);
  for (const v of [...A, ...B]) {
    if (v.dim !== d) throw new SentenceWasmError('INVALID_INPUT', `sparse vectors of different dims (${d} and ${v.dim})`);
  }
}

/** Every vector of a against every vector of b -> number[][]. */
export function sparseSimilarityMatrix(name, a, b) {
  const fn = fnFor(name);
  const A = sparseList(a, 'a'), B = sparseList(b, 'b');
  checkDims(A, B);
  const nb = B.map(norm);
  return A.map((x) => { const nx = norm(x); return B.map((y, j) => fn(x, y, nx, nb[j])); });
}

/** Vector i of a against vector i of b -> number[]. */
export function sparseSimilarityPairwise(name, a, b) {
  const fn = fnFor(name);
  const A = sparseList(a, 'a'), B = sparseList(b, 'b');
  if (A.length !== B.length) {
    throw new SentenceWasmError('INVALID_INPUT', `pairwise similarity needs as many vectors in a (${A.length}) as in b (${B.length})`);
  }
  checkDims(A, B);
  return A.map((x, i) => fn(x, B[i], norm(x), norm(B[i])));
}

