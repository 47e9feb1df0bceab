/**
 * @file SentenceWasmError: the one error type the public API rejects with.
 *
 * Every failure carries a stable `code` (below) and a message that names the
 * file, tensor or field at fault. The C engine never throws; JS turns its
 * status codes into these.
 */

/** Stable error codes. Keep in sync with index.d.ts and the README. */
export const ErrorCode = Object.freeze({
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',          // folder, URL or required file absent (404, ENOENT)
  FETCH_FAILED: 'FETCH_FAILED',                // network error, HTTP error other than 404, truncated download
  BAD_SAFETENSORS: 'BAD_SAFETENSORS',          // malformed safetensors header or data
  BAD_CONFIG: 'BAD_CONFIG',                    // a JSON config missing, malformed or inconsistent
  BAD_TOKENIZER: 'BAD_TOKENIZER',              // tokenizer.json malformed or of an unsupported kind
  UNSUPPORTED_ARCHITECTURE: 'UNSUPPORTED_ARCHITECTURE', // a model or module type the engine does not run
  INVALID_INPUT: 'INVALID_INPUT',              // a call's arguments are wrong
  DISPOSED: 'DISPOSED',                        // the model was disposed
  ABORTED: 'ABORTED',                          // the call's AbortSignal fired
  WORKER_FAILED: 'WORKER_FAILED',              // the worker died or could not start
  ENGINE_ERROR: 'ENGINE_ERROR',                // the C engine refused (message says why)
});

export class SentenceWasmError extends Error {
  /**
   * @param {keyof typeof ErrorCode} code
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'SentenceWasmError';
    /** @type {keyof typeof ErrorCode} */
    this.code = code;
  }

  /** Plain object for postMessage (structured clone drops the class). */
  toJSON() {
    return { name: this.name, code: this.code, message: this.message };
  }

  /** Rebuilds an error sent across a worker boundary. */
  static fromJSON(obj) {
    return new SentenceWasmError(obj && obj.code in ErrorCode ? obj.code : 'ENGINE_ERROR',
      (obj && obj.message) || 'unknown error');
  }
}

/** Shorthand for throwing inside validators. */
export function fail(code, message) {
  throw new SentenceWasmError(code, message);
}
