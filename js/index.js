/**
 * @file sentence-wasm: sentence-transformers models in WebAssembly, for
 * browsers and Node. This module only re-exports the public API.
 *
 * @example
 * import { SentenceTransformer, util } from 'sentence-wasm';
 * const model = await SentenceTransformer.load('sentence-transformers/all-MiniLM-L6-v2');
 * const [q, ...docs] = await model.encode(['query', 'doc one', 'doc two']);
 * util.semanticSearch(q, docs, { topK: 1 }); // [[{ corpusId, score }]]
 */
export { SentenceTransformer } from './sentence_transformer.js';
export { CrossEncoder } from './cross_encoder.js';
export { SparseEncoder } from './sparse_encoder.js';
export { SentenceWasmError, ErrorCode } from './errors.js';
export * as util from './util.js';
