/**
 * @file CrossEncoder: the public class for rerankers and pair classifiers
 * (BertForSequenceClassification checkpoints). Names and defaults follow
 * sentence-transformers' CrossEncoder in camelCase. All compute runs in a
 * worker; this class checks arguments and shapes the results.
 *
 * Behaviour copied from the library (sentence-transformers 5.1):
 *  - a single pair [q, p] (not nested) gives a single result: a number for a
 *    1-label model (the library returns a numpy scalar), a Float32Array of
 *    scores for an n-label model;
 *  - predict([]) gives an empty result and rank(query, []) gives [];
 *  - rank() on an n-label model rejects (the library raises ValueError);
 *  - applySoftmax applies softmax over the labels after the activation, for
 *    any number of labels (so a 1-label model scores 1.0).
 * One deliberate difference: a per-call `activationFn` applies to that call
 * only (the library's predict(activation_fn=...) silently keeps it as the
 * model's activation for later calls).
 */
import { SentenceWasmError } from './errors.js';
import { WorkerPool, concatFloat32 } from './worker_pool.js';
import { openSource, readCrossEncoder } from './model_files.js';
import { crossActivationName, CROSS_ACTIVATIONS } from './model_config.js';
import { checkLoadOptions, wasmBuildOf, checkPositiveInt, checkOptions, describe, weightDtype } from './options.js';

const PREDICT_OPTIONS = ['batchSize', 'applySoftmax', 'activationFn', 'signal', 'showProgressBar'];
const RANK_OPTIONS = [...PREDICT_OPTIONS, 'topK', 'returnDocuments'];

export class CrossEncoder {
  #client;
  #disposed = false;

  /** @private use CrossEncoder.load() */
  constructor(client, spec, info) {
    this.#client = client;
    /** Scores per pair: 1 for rerankers, n for pair classifiers. */
    this.numLabels = info.numLabels;
    /** Label names from config.json id2label, by index. */
    this.labels = Object.freeze([...spec.labels]);
    /** Tokens per pair after truncation ([CLS] q [SEP] p [SEP]). */
    this.maxLength = info.maxLength;
    /** Activation applied to the logits: 'Identity' | 'Sigmoid' | 'Tanh' | 'ReLU'. */
    this.activationFn = spec.activationFn;
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
   * Loads a CrossEncoder model folder.
   * @param {string | URL} source local folder (Node), URL of a folder, or Hub id 'org/name'
   * @param {import('./index.js').LoadOptions & { maxLength?: number, activationFn?: string }} [options]
   *   maxLength: tokens per pair (the library's max_length; default: tokenizer_config.json
   *   model_max_length capped by max_position_embeddings); activationFn: overrides the model's.
   */
  static async load(source, options = {}) {
    if (options === null || typeof options !== 'object') throw new SentenceWasmError('INVALID_INPUT', 'load: options must be an object');
    const { maxLength, activationFn, ...common } = options;
    checkLoadOptions(common);
    if (common.truncateDim !== undefined) throw new SentenceWasmError('INVALID_INPUT', 'load: truncateDim does not apply to a CrossEncoder');
    if (maxLength !== undefined && maxLength !== null) checkPositiveInt(maxLength, 'maxLength');
    const act = activationFn === undefined || activationFn === null ? null : checkActivation(activationFn);
    const src = await openSource(source, common);
    const { spec, transfer } = await readCrossEncoder(src, { maxLength: maxLength ?? undefined });
    if (act) spec.activationFn = act;
    spec.dtype = weightDtype(common.dtype);
    const client = await WorkerPool.start(common.threads);
    try {
      const info = await client.load({ spec, wasmBuild: wasmBuildOf(common) }, { transfer, signal: common.signal, onProgress: common.onProgress });
      return new CrossEncoder(client, spec, info);
    } catch (err) {
      await client.terminate();
      throw err;
    }
  }

  /**
   * Scores (text, text) pairs.
   * @param {[string, string][] | [string, string]} pairs an array of pairs, or one pair
   * @param {{ batchSize?: number, applySoftmax?: boolean, activationFn?: string, signal?: AbortSignal }} [options]
   * @returns {Promise<Float32Array | Float32Array[] | number>} 1 label: Float32Array of scores
   *   (one pair: a number); n labels: a Float32Array [n] per pair (one pair: that Float32Array)
   */
  async predict(pairs, options = {}) {
    this.#alive();
    // As the library: a list whose first item is a string is one pair.
    const single = Array.isArray(pairs) && pairs.length > 0 && typeof pairs[0] === 'string';
    const list = single ? [pairs] : pairs;
    checkPairList(list, single);
    checkOptions(options, PREDICT_OPTIONS, 'predict');
    const scores = await this.#scores(list, options);
    const L = this.numLabels;
    if (L === 1) return single ? scores[0] : scores;
    const rows = [];
    for (let i = 0; i < list.length; i++) rows.push(scores.slice(i * L, (i + 1) * L));
    return single ? rows[0] : rows;
  }

  /**
   * Scores every document against the query and sorts them, best first (ties
   * keep document order). Only for 1-label models.
   * @param {string} query
   * @param {string[]} documents
   * @param {{ topK?: number, returnDocuments?: boolean, batchSize?: number, applySoftmax?: boolean,
   *   activationFn?: string, signal?: AbortSignal }} [options]
   * @returns {Promise<{ corpusId: number, score: number, text?: string }[]>}
   */
  async rank(query, documents, options = {}) {
    this.#alive();
    if (this.numLabels !== 1) {
      throw new SentenceWasmError('INVALID_INPUT',
        `rank() only works for models with numLabels = 1 (this model has ${this.numLabels}); use predict() with [query, document] pairs instead`);
    }
    if (typeof query !== 'string') throw new SentenceWasmError('INVALID_INPUT', `rank: query must be a string, got ${describe(query)}`);
    if (!Array.isArray(documents)) throw new SentenceWasmError('INVALID_INPUT', `rank: documents must be an array of strings, got ${describe(documents)}`);
    documents.forEach((d, i) => {
      if (typeof d !== 'string') throw new SentenceWasmError('INVALID_INPUT', `rank: document ${i} is ${describe(d)}, expected a string`);
    });
    checkOptions(options, RANK_OPTIONS, 'rank');
    const { topK, returnDocuments = false, ...predictOptions } = options;
    if (topK !== undefined && topK !== null) checkPositiveInt(topK, 'topK');
    const scores = await this.#scores(documents.map((d) => [query, d]), predictOptions);
    const results = Array.from(scores, (score, corpusId) => (returnDocuments
      ? { corpusId, score, text: documents[corpusId] } : { corpusId, score }));
    results.sort((a, b) => b.score - a.score || a.corpusId - b.corpusId);
    return topK ? results.slice(0, topK) : results;
  }

  /** Pair tokenization as predict() does it: { inputIds, tokenTypeIds } of Int32Array per pair. */
  async tokenize(pairs) {
    this.#alive();
    const single = Array.isArray(pairs) && pairs.length > 0 && typeof pairs[0] === 'string';
    const list = single ? [pairs] : pairs;
    checkPairList(list, single);
    return this.#client.call('tokenize', { args: [list] });
  }

  /** Ends the worker and frees the weights; later calls reject with DISPOSED. */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#client.terminate();
  }

  async [Symbol.asyncDispose]() { await this.dispose(); }

  /** Flat Float32Array [pairs x numLabels] with the activation (and softmax) applied. */
  async #scores(list, options) {
    const { batchSize = 32, applySoftmax = false, signal } = options;
    checkPositiveInt(batchSize, 'batchSize');
    const activationFn = options.activationFn === undefined || options.activationFn === null
      ? this.activationFn : checkActivation(options.activationFn);
    if (list.length === 0) return new Float32Array(0);
    return this.#client.callSplit('predict', list, [{ batchSize, activationFn, applySoftmax: !!applySoftmax }],
      { weight: ([q, p]) => q.length + p.length + 16, signal, merge: concatFloat32 });
  }

  #alive() {
    if (this.#disposed) throw new SentenceWasmError('DISPOSED', 'this CrossEncoder was disposed');
  }
}

function checkActivation(value) {
  const name = crossActivationName(value);
  if (!name) {
    throw new SentenceWasmError('INVALID_INPUT',
      `activationFn ${JSON.stringify(value)} is not supported (${CROSS_ACTIVATIONS.join(', ')}, or their torch.nn paths)`);
  }
  return name;
}

function checkPairList(list, single) {
  if (!Array.isArray(list)) {
    throw new SentenceWasmError('INVALID_INPUT', `expected a [text, text] pair or an array of pairs, got ${describe(list)}`);
  }
  list.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || typeof p[1] !== 'string') {
      const what = Array.isArray(p) ? `an array of ${p.length} (${p.map(describe).join(', ')})` : describe(p);
      throw new SentenceWasmError('INVALID_INPUT',
        `${single ? 'the pair' : `pair ${i}`} must be two strings [text, text], got ${what}`);
    }
  });
}

