/**
 * @file SentenceTransformer: the public class for dense embedding models.
 * Names and defaults follow sentence-transformers (camelCase). All compute
 * runs in a worker; this class checks arguments and resolves prompts.
 */
import { SentenceWasmError } from './errors.js';
import { WorkerPool } from './worker_pool.js';
import { openSource, readSentenceTransformer } from './model_files.js';
import { similarityMatrix, similarityPairwise } from './similarity.js';
import { PRECISIONS, quantizeEmbeddings } from './quantize.js';
import { checkLoadOptions, wasmBuildOf, checkPositiveInt, checkOptions, describe, weightDtype } from './options.js';
import { resolvePrompt, withTaskPrompt } from './prompts.js';
import { checkTexts } from './pipelines/text_input.js';

/** The model the package ships (models/static-en), loaded when no source is given. */
export const DEFAULT_MODEL = 'sentence-wasm/static-en';
// Resolved from this module's own URL: where the package is served as it is
// (Node, a static server). Spelled so bundlers do not treat the folder as an
// asset to copy; a bundled app serves models/static-en itself and passes its URL.
const moduleUrl = import.meta.url;
const defaultModelUrl = () => new URL('../models/static-en/', moduleUrl).href;

const ENCODE_OPTIONS = ['batchSize', 'normalizeEmbeddings', 'promptName', 'prompt', 'truncateDim', 'precision',
  'outputValue', 'signal', 'convertToTensor', 'showProgressBar'];
const OUTPUT_VALUES = ['sentence_embedding', 'token_embeddings'];

export class SentenceTransformer {
  #client;
  #disposed = false;

  /** @private use SentenceTransformer.load() */
  constructor(client, spec, info, options) {
    this.#client = client;
    /** Output dimension of encode() (before truncateDim). */
    this.dimension = options.truncateDim ?? info.dimension;
    /** Tokens per text after truncation (null: no limit, StaticEmbedding). */
    this.maxSeqLength = info.maxSeqLength;
    /** Named prompts from config_sentence_transformers.json. */
    this.prompts = Object.freeze({ ...spec.prompts });
    this.defaultPromptName = spec.defaultPromptName;
    /** 'cosine' | 'dot' | 'euclidean' | 'manhattan' */
    this.similarityFnName = spec.similarityFnName;
    /** Default truncate_dim for encode(). */
    this.truncateDim = options.truncateDim ?? null;
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
   * Loads a sentence-transformers model folder.
   * @param {string | URL} [source] local folder (Node), URL of a folder, or Hub id 'org/name';
   *   none (or 'sentence-wasm/static-en') loads the small English model shipped with the package
   * @param {import('./index.js').LoadOptions} [options]
   */
  static async load(source = DEFAULT_MODEL, options = {}) {
    checkLoadOptions(options);
    // The shipped model is found next to this file, in Node and in browsers
    // (bundlers see new URL(..., import.meta.url)); it never goes to the Hub.
    if (source === DEFAULT_MODEL) source = defaultModelUrl();
    const src = await openSource(source, options);
    const { spec, transfer } = await readSentenceTransformer(src);
    if (options.truncateDim !== undefined) checkPositiveInt(options.truncateDim, 'truncateDim');
    spec.dtype = weightDtype(options.dtype);
    // A StaticEmbedding model has no matrix products to quantize: saying so
    // beats silently running the float model the caller did not ask for.
    if (spec.dtype === 'int8' && spec.modules[0].kind !== 'transformer') {
      throw new SentenceWasmError('INVALID_INPUT', `load: dtype "${options.dtype}" quantizes a Transformer's Linear layers; `
        + 'this StaticEmbedding model has none (load it without dtype)');
    }
    const client = await WorkerPool.start(options.threads);
    try {
      const info = await client.load({ spec, wasmBuild: wasmBuildOf(options) }, { transfer, signal: options.signal, onProgress: options.onProgress });
      return new SentenceTransformer(client, spec, info, options);
    } catch (err) {
      await client.terminate();
      throw err;
    }
  }

  /**
   * Embeds one text (-> Float32Array) or an array of texts (-> Float32Array[]).
   * @param {string | string[]} sentences
   * @param {import('./index.js').EncodeOptions} [options]
   */
  async encode(sentences, options = {}) {
    this.#alive();
    const single = typeof sentences === 'string';
    const texts = single ? [sentences] : sentences;
    if (!Array.isArray(texts)) {
      throw new SentenceWasmError('INVALID_INPUT', `encode: expected a string or an array of strings, got ${describe(sentences)}`);
    }
    checkTexts(texts); // here, not only in the worker: a Symbol cannot even be posted
    checkOptions(options, ENCODE_OPTIONS, 'encode');
    const { batchSize = 32, normalizeEmbeddings = false, precision = 'float32', outputValue = 'sentence_embedding',
      signal } = options;
    checkPositiveInt(batchSize, 'batchSize');
    if (!PRECISIONS.includes(precision)) {
      throw new SentenceWasmError('INVALID_INPUT', `precision "${precision}" is not one of ${PRECISIONS.join(', ')}`);
    }
    if (!OUTPUT_VALUES.includes(outputValue)) {
      throw new SentenceWasmError('INVALID_INPUT', `outputValue "${outputValue}" is not one of ${OUTPUT_VALUES.join(', ')}`);
    }
    const truncateDim = options.truncateDim ?? this.truncateDim ?? undefined;
    if (truncateDim !== undefined) checkPositiveInt(truncateDim, 'truncateDim');
    const prompt = resolvePrompt(this.prompts, this.defaultPromptName, options.prompt, options.promptName);
    if (texts.length === 0) return [];
    // Workers return float32; int8/uint8 ranges span the whole call, so the
    // quantization runs here, over every worker's part.
    const floats = await this.#client.callSplit('encode', texts,
      [{ batchSize, prompt, normalizeEmbeddings: !!normalizeEmbeddings, truncateDim, precision: 'float32', outputValue }],
      { weight: (t) => t.length + 16, signal });
    const result = outputValue === 'token_embeddings' ? floats : quantizeEmbeddings(floats, precision);
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

  /** Every embedding of a against every one of b, with this model's similarity function -> number[][]. */
  similarity(a, b) {
    return similarityMatrix(this.similarityFnName, a, b);
  }

  /** Row i of a against row i of b -> number[]. */
  similarityPairwise(a, b) {
    return similarityPairwise(this.similarityFnName, a, b);
  }

  /** Ends the worker and frees the weights; later calls reject with DISPOSED. */
  async dispose() {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#client.terminate();
  }

  async [Symbol.asyncDispose]() { await this.dispose(); }

  #alive() {
    if (this.#disposed) throw new SentenceWasmError('DISPOSED', 'this SentenceTransformer was disposed');
  }


}

