/**
 * @file Argument checks shared by the public classes: unknown option names
 * and wrong types fail early with INVALID_INPUT, before any work is sent.
 */
import { SentenceWasmError } from './errors.js';

const LOAD_OPTIONS = ['revision', 'threads', 'onProgress', 'fetch', 'cache', 'dtype', 'hubUrl', 'truncateDim', 'signal',
  'wasmBuild'];
/**
 * Load option `dtype` -> how the engine holds the encoder's Linear weights.
 * 'q8' is transformers.js's name for its 8-bit models; here it is the same
 * int8 scheme (weights quantized at load, activations per token).
 */
const DTYPES = { fp32: 'fp32', float32: 'fp32', int8: 'int8', q8: 'int8' };
/** Engine builds (js/wasm.js): 'auto' picks 'relaxed' where the engine accepts relaxed SIMD, else 'plain'. */
export const WASM_BUILDS = ['auto', 'plain', 'relaxed'];

export function checkOptions(options, allowed, where) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new SentenceWasmError('INVALID_INPUT', `${where}: options must be an object`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new SentenceWasmError('INVALID_INPUT', `${where}: unknown option "${key}" (known: ${allowed.join(', ')})`);
    }
  }
}

export function checkPositiveInt(v, name) {
  if (!Number.isInteger(v) || v < 1) {
    throw new SentenceWasmError('INVALID_INPUT', `${name} must be a positive integer, got ${JSON.stringify(v)}`);
  }
}

export function checkLoadOptions(options) {
  checkOptions(options, LOAD_OPTIONS, 'load');
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new SentenceWasmError('INVALID_INPUT', 'load: onProgress must be a function');
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new SentenceWasmError('INVALID_INPUT', 'load: fetch must be a function');
  }
  if (options.threads !== undefined) {
    checkPositiveInt(options.threads, 'threads');
    if (options.threads > 64) throw new SentenceWasmError('INVALID_INPUT', `load: threads ${options.threads} is more than 64`);
  }
  if (options.dtype !== undefined && (typeof options.dtype !== 'string' || !Object.hasOwn(DTYPES, options.dtype))) {
    throw new SentenceWasmError('INVALID_INPUT',
      `load: dtype ${JSON.stringify(options.dtype) ?? String(options.dtype)} is not supported (${Object.keys(DTYPES).join(', ')})`);
  }
  if (options.revision !== undefined && (typeof options.revision !== 'string' || !options.revision)) {
    throw new SentenceWasmError('INVALID_INPUT', 'load: revision must be a non-empty string');
  }
  wasmBuildOf(options);
}

/**
 * The engine build a load asks for: the wasmBuild option, else (Node) the
 * environment variable SENTENCE_WASM_BUILD, else 'auto'.
 */
export function wasmBuildOf(options) {
  const env = typeof process !== 'undefined' && process.env ? process.env.SENTENCE_WASM_BUILD : undefined;
  const fromEnv = options.wasmBuild === undefined && !!env;
  const build = options.wasmBuild ?? (env || 'auto');
  if (!WASM_BUILDS.includes(build)) {
    throw new SentenceWasmError('INVALID_INPUT', `load: wasmBuild ${JSON.stringify(build)}${fromEnv ? ' (from SENTENCE_WASM_BUILD)' : ''}`
      + ` is not one of ${WASM_BUILDS.join(', ')}`);
  }
  return build;
}

/** 'fp32' or 'int8': the engine's weight format for a checked `dtype` option. */
export function weightDtype(dtype) {
  return dtype === undefined ? 'fp32' : DTYPES[dtype];
}

/** A short description of a value's type for error messages. */
export function describe(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
