/**
 * sentence-wasm: sentence-transformers models (dense, sparse, cross-encoder)
 * in WebAssembly for browsers and Node. Names follow sentence-transformers
 * in camelCase; a string in gives a single result, an array an array.
 */

export type ErrorCodeName =
  | 'MODEL_NOT_FOUND' | 'FETCH_FAILED' | 'BAD_SAFETENSORS' | 'BAD_CONFIG' | 'BAD_TOKENIZER'
  | 'UNSUPPORTED_ARCHITECTURE' | 'INVALID_INPUT' | 'DISPOSED' | 'ABORTED' | 'WORKER_FAILED' | 'ENGINE_ERROR';

export declare const ErrorCode: Readonly<{ [K in ErrorCodeName]: K }>;

/** The one error type every API call rejects with. */
export declare class SentenceWasmError extends Error {
  constructor(code: ErrorCodeName, message: string, options?: { cause?: unknown });
  readonly name: 'SentenceWasmError';
  /** Stable code; the message names the file, tensor or field at fault. */
  readonly code: ErrorCodeName;
}

/** Download / read progress of one model file. */
export interface ProgressEvent {
  status: 'initiate' | 'progress' | 'done';
  file: string;
  loaded?: number;
  total?: number;
}

/** Load option `dtype`; 'float32' = 'fp32', 'q8' = 'int8'. */
export type LoadDtype = 'fp32' | 'float32' | 'int8' | 'q8';
/** What a loaded model runs on (its `dtype`). */
export type WeightDtype = 'fp32' | 'int8';

export interface LoadOptions {
  /** Hub revision (branch, tag or commit) for 'org/name' sources. Default 'main'. */
  revision?: string;
  /**
   * Threads computing (1..64). Where memory can be shared (Node; browsers on a
   * crossOriginIsolated page) they share one copy of the weights and split every
   * call; elsewhere they are workers that each hold a copy and split large calls.
   * Default: the cores, at most 4, where memory can be shared; else 1.
   */
  threads?: number;
  /**
   * Called as each file is read or downloaded: 'initiate', some 'progress',
   * then 'done'. A weights file read from disk (Node) reports as the worker
   * reads its tensors into the engine; a callback that throws is ignored.
   */
  onProgress?: (event: ProgressEvent) => void;
  /** fetch to use for URL and Hub sources. Default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
  /** Hub host for 'org/name' sources. Default 'https://huggingface.co'. */
  hubUrl?: string;
  /**
   * How the engine holds the encoder's Linear weights. Default 'fp32'.
   * 'int8' (alias 'q8', transformers.js's name): quantized at load, symmetric per
   * output row, with each token's activations quantized to int8 on the fly and
   * integer products (matrix products ~2.2x faster, a whole forward pass ~1.9x;
   * half the Linear weight memory; outputs within ~1%: cosine >= 0.99 against
   * fp32). Attention's two products run on integers too; embeddings, softmax,
   * GELU, LayerNorm, the pooler and classifier stay float32. Not for
   * StaticEmbedding models (no Linear layers): those reject it.
   */
  dtype?: LoadDtype;
  /** Default truncateDim for encode(). */
  truncateDim?: number;
  /**
   * Cache of downloaded model files (URL and Hub sources; local folders are never cached),
   * keyed by file URL, which includes the Hub revision: a second load of the same source
   * and revision makes no network request. Optional files answered with 404 are
   * remembered as missing. A cache that cannot be read or written is skipped silently.
   * - browsers: the Cache API, on by default (`true`: the cache named 'sentence-wasm';
   *   a string: a Cache API cache of that name; `false`: off). Needs a secure context
   *   (https: or localhost), otherwise nothing is cached.
   * - Node: off by default; a string is a folder to keep the files in, laid out like the
   *   URLs (`<dir>/huggingface.co/org/name/resolve/main/config.json`); `true` caches nothing.
   * A branch revision such as 'main' is served from the cache as first downloaded: pin a
   * commit hash, or pass `false`, to pick up new commits.
   */
  cache?: boolean | string;
  /** Cancels the load. */
  signal?: AbortSignal;
  /**
   * Which engine build to run:
   * - 'auto' (default): the relaxed-SIMD build (dist/sentence-wasm-relaxed.wasm, f32x4.relaxed_madd)
   *   where WebAssembly.validate accepts relaxed SIMD (Chromium 114+; Node 20 only with
   *   `--experimental-wasm-relaxed-simd`), else the plain SIMD128 build; also the plain one if the
   *   relaxed file cannot be loaded.
   * - 'plain': always the SIMD128 build (bit-identical results on every machine).
   * - 'relaxed': the relaxed-SIMD build, or a WORKER_FAILED rejection where it cannot run.
   * In Node, the environment variable SENTENCE_WASM_BUILD sets the default.
   */
  wasmBuild?: WasmBuildOption;
}

export type WasmBuildOption = 'auto' | 'plain' | 'relaxed';
/** The engine build a loaded model runs on. */
export type WasmBuild = 'plain' | 'relaxed';

export type Precision = 'float32' | 'int8' | 'uint8' | 'binary' | 'ubinary';
export type SimilarityFnName = 'cosine' | 'dot' | 'euclidean' | 'manhattan';
export type Vector = Float32Array | number[];

export interface EncodeOptions {
  /** Texts per forward pass. Default 32. Results do not depend on it. */
  batchSize?: number;
  /** L2-normalise the outputs (after truncateDim). Default false. */
  normalizeEmbeddings?: boolean;
  /** Name of one of model.prompts, prepended to every text. */
  promptName?: string;
  /** A prompt string prepended to every text (wins over promptName). */
  prompt?: string;
  /** Keep only the first N dimensions (Matryoshka). */
  truncateDim?: number;
  /** Quantize the outputs as sentence-transformers' quantize_embeddings does over this call's batch. */
  precision?: Precision;
  /** 'token_embeddings' returns per-text [tokens x hidden] states, flattened row-major. */
  outputValue?: 'sentence_embedding' | 'token_embeddings';
  /** Cancels the call (rejects with ABORTED). */
  signal?: AbortSignal;
}

/** Float32Array, or Int8Array / Uint8Array for the quantized precisions. */
type EncodeResult<O> =
  O extends { precision: 'int8' | 'binary' } ? Int8Array
    : O extends { precision: 'uint8' | 'ubinary' } ? Uint8Array : Float32Array;

export interface TokenizeResult {
  inputIds: Int32Array[];
  attentionMask: Int32Array[];
}

export declare class SentenceTransformer {
  private constructor();
  /**
   * @param source a local folder (Node), a URL of a model folder, or a Hub id 'org/name'
   * @example
   * const model = await SentenceTransformer.load('sentence-transformers/all-MiniLM-L6-v2');
   * const v = await model.encode('hello'); // Float32Array [384]
   */
  static load(source: string | URL, options?: LoadOptions): Promise<SentenceTransformer>;
  readonly dimension: number;
  readonly maxSeqLength: number | null;
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName: string | null;
  readonly similarityFnName: SimilarityFnName;
  readonly truncateDim: number | null;
  /** Bytes of weights held in WebAssembly memory. */
  readonly weightBytes: number;
  /** Threads computing for this model: as loaded, or 1 after a helper thread failed (that call rejects). */
  readonly threads: number;
  /** True when those threads share one copy of the weights (the shared-memory build). */
  readonly sharedMemory: boolean;
  /** The engine build this model runs on: 'relaxed' (relaxed SIMD) or 'plain' (SIMD128). */
  readonly wasmBuild: WasmBuild;
  /** 'int8' when loaded with dtype 'int8' or 'q8', else 'fp32'. */
  readonly dtype: WeightDtype;

  encode<O extends EncodeOptions = {}>(sentences: string, options?: O): Promise<EncodeResult<O>>;
  encode<O extends EncodeOptions = {}>(sentences: string[], options?: O): Promise<EncodeResult<O>[]>;
  encodeQuery<O extends EncodeOptions = {}>(sentences: string, options?: O): Promise<EncodeResult<O>>;
  encodeQuery<O extends EncodeOptions = {}>(sentences: string[], options?: O): Promise<EncodeResult<O>[]>;
  encodeDocument<O extends EncodeOptions = {}>(sentences: string, options?: O): Promise<EncodeResult<O>>;
  encodeDocument<O extends EncodeOptions = {}>(sentences: string[], options?: O): Promise<EncodeResult<O>[]>;
  tokenize(texts: string | string[]): Promise<TokenizeResult>;
  /** Every row of a against every row of b with similarityFnName. */
  similarity(a: Vector | Vector[], b: Vector | Vector[]): number[][];
  /** Row i of a against row i of b. */
  similarityPairwise(a: Vector | Vector[], b: Vector | Vector[]): number[];
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export type CrossActivation = 'Identity' | 'Sigmoid' | 'Tanh' | 'ReLU' | string;

export interface CrossEncoderLoadOptions extends LoadOptions {
  /** Pair length in tokens. Default: tokenizer_config.json model_max_length capped by max_position_embeddings. */
  maxLength?: number;
  /** Activation over the logits, e.g. 'torch.nn.modules.activation.Sigmoid'. Default: as the library resolves it. */
  activationFn?: CrossActivation;
}

export interface PredictOptions {
  batchSize?: number;
  /** Softmax over the labels, after the activation (a 1-label model then gives 1). */
  applySoftmax?: boolean;
  /** Activation for this call only. */
  activationFn?: CrossActivation;
  signal?: AbortSignal;
}

export interface RankOptions extends PredictOptions {
  /** Keep the best N. Default: all. */
  topK?: number;
  /** Add each document's text to its result. */
  returnDocuments?: boolean;
}

export interface RankResult {
  corpusId: number;
  score: number;
  text?: string;
}

export declare class CrossEncoder {
  private constructor();
  static load(source: string | URL, options?: CrossEncoderLoadOptions): Promise<CrossEncoder>;
  readonly numLabels: number;
  /** id2label names, in label order. */
  readonly labels: readonly string[];
  readonly maxLength: number;
  readonly activationFn: string;
  readonly weightBytes: number;
  /** Threads computing for this model: as loaded, or 1 after a helper thread failed (that call rejects). */
  readonly threads: number;
  /** True when those threads share one copy of the weights (the shared-memory build). */
  readonly sharedMemory: boolean;
  /** The engine build this model runs on: 'relaxed' (relaxed SIMD) or 'plain' (SIMD128). */
  readonly wasmBuild: WasmBuild;
  readonly dtype: WeightDtype;
  /** One score per pair (1 label) or one Float32Array of label scores per pair. */
  predict(pairs: [string, string][], options?: PredictOptions): Promise<Float32Array | Float32Array[]>;
  /** A single pair gives a number (1 label) or a Float32Array (n labels). */
  predict(pair: [string, string], options?: PredictOptions): Promise<number | Float32Array>;
  /** Documents by score, best first (1-label models only). */
  rank(query: string, documents: string[], options?: RankOptions): Promise<RankResult[]>;
  tokenize(pairs: [string, string] | [string, string][]): Promise<{ inputIds: Int32Array[]; tokenTypeIds: Int32Array[] }>;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface SparseVector {
  /** Vocabulary ids of the active dimensions, ascending. */
  indices: Uint32Array;
  values: Float32Array;
  /** Vocabulary size. */
  dim: number;
}

export interface SparseEncoderLoadOptions extends LoadOptions {
  /** Default maxActiveDims of encode(). */
  maxActiveDims?: number;
}

export interface SparseEncodeOptions {
  batchSize?: number;
  promptName?: string;
  prompt?: string;
  /** Keep only the N largest values per text. */
  maxActiveDims?: number;
  signal?: AbortSignal;
}

export interface Sparsity {
  activeDims: number;
  sparsityRatio: number;
}

export declare class SparseEncoder {
  private constructor();
  static load(source: string | URL, options?: SparseEncoderLoadOptions): Promise<SparseEncoder>;
  /** Vocabulary size. */
  readonly dimension: number;
  readonly maxSeqLength: number;
  readonly prompts: Readonly<Record<string, string>>;
  readonly defaultPromptName: string | null;
  readonly similarityFnName: SimilarityFnName;
  readonly poolingStrategy: 'max' | 'sum';
  readonly activationFunction: 'relu' | 'log1p_relu';
  readonly maxActiveDims: number | null;
  readonly weightBytes: number;
  /** Threads computing for this model: as loaded, or 1 after a helper thread failed (that call rejects). */
  readonly threads: number;
  /** True when those threads share one copy of the weights (the shared-memory build). */
  readonly sharedMemory: boolean;
  /** The engine build this model runs on: 'relaxed' (relaxed SIMD) or 'plain' (SIMD128). */
  readonly wasmBuild: WasmBuild;
  readonly dtype: WeightDtype;
  encode(sentences: string, options?: SparseEncodeOptions): Promise<SparseVector>;
  encode(sentences: string[], options?: SparseEncodeOptions): Promise<SparseVector[]>;
  encodeQuery(sentences: string, options?: SparseEncodeOptions): Promise<SparseVector>;
  encodeQuery(sentences: string[], options?: SparseEncodeOptions): Promise<SparseVector[]>;
  encodeDocument(sentences: string, options?: SparseEncodeOptions): Promise<SparseVector>;
  encodeDocument(sentences: string[], options?: SparseEncodeOptions): Promise<SparseVector[]>;
  tokenize(texts: string | string[]): Promise<TokenizeResult>;
  /** [token, weight] pairs by weight, largest first. */
  decode(vec: SparseVector, options?: { topK?: number }): [string, number][];
  decode(vecs: SparseVector[], options?: { topK?: number }): [string, number][][];
  similarity(a: SparseVector | SparseVector[], b: SparseVector | SparseVector[]): number[][];
  similarityPairwise(a: SparseVector[], b: SparseVector[]): number[];
  sparsity(embeddings: SparseVector | SparseVector[]): Sparsity;
  static sparsity(embeddings: SparseVector | SparseVector[]): Sparsity;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface SearchHit {
  corpusId: number;
  score: number;
}

export declare namespace util {
  function cosSim(a: Vector | Vector[], b: Vector | Vector[]): number[][];
  function dotScore(a: Vector | Vector[], b: Vector | Vector[]): number[][];
  function euclideanSim(a: Vector | Vector[], b: Vector | Vector[]): number[][];
  function manhattanSim(a: Vector | Vector[], b: Vector | Vector[]): number[][];
  function pairwiseCosSim(a: Vector[], b: Vector[]): number[];
  function pairwiseDotScore(a: Vector[], b: Vector[]): number[];
  function semanticSearch(
    queryEmbeddings: Vector | Vector[],
    corpusEmbeddings: Vector[],
    options?: { topK?: number; scoreFunction?: (a: Vector[], b: Vector[]) => number[][] },
  ): SearchHit[][];
  function quantizeEmbeddings(
    embeddings: Float32Array[],
    precision: Precision,
    options?: { calibrationEmbeddings?: Float32Array[] },
  ): Float32Array[] | Int8Array[] | Uint8Array[];
}
