/**
 * @file Main-thread side of the worker protocol: calls are
 * { id, type, payload } messages; replies are { id, ok, result | error }.
 * Pending calls live in a Map by id (no ordering assumptions), errors come
 * back as { name, code, message } and are rebuilt as SentenceWasmError.
 */
import { SentenceWasmError } from './errors.js';
import { spawnWorker } from './worker_port.js';

export class WorkerClient {
  #port;
  #pending = new Map();
  #nextId = 1;
  #dead = null;
  #threads;

  constructor(port) {
    this.#port = port;
    port.onMessage((msg) => this.#onMessage(msg));
    port.onFailure((err) => this.#fail(new SentenceWasmError('WORKER_FAILED',
      `the sentence-wasm worker stopped: ${err && err.message ? err.message : err}`)));
    port.unref();
  }

  static async start() {
    return new WorkerClient(await spawnWorker());
  }

  /** Threads the worker's engine computed on at its last reply (undefined before any). */
  get threads() {
    return this.#threads;
  }

  /**
   * Sends one call; resolves with the worker's result.
   * @param {string} type @param {unknown} payload
   * @param {{ transfer?: Transferable[], signal?: AbortSignal, onProgress?: (p: any) => void }} [opts]
   */
  call(type, payload, { transfer = [], signal, onProgress } = {}) {
    if (this.#dead) return Promise.reject(this.#dead);
    if (signal && signal.aborted) return Promise.reject(abortError(signal));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, onProgress, cleanup: () => {} };
      if (signal) {
        const onAbort = () => {
          this.#settle(id);
          this.#port.post({ id: 0, type: 'cancel', payload: { id } });
          reject(abortError(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        entry.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#pending.set(id, entry);
      if (this.#pending.size === 1) this.#port.ref();
      try {
        this.#port.post({ id, type, payload }, transfer);
      } catch (err) {
        // structured clone refused an argument (a function, a Symbol, ...)
        this.#settle(id);
        reject(new SentenceWasmError('INVALID_INPUT', `arguments cannot be sent to the worker: ${err && err.message}`));
      }
    });
  }

  /** Ends the worker; every pending call rejects with `error`. */
  async terminate(error = new SentenceWasmError('DISPOSED', 'the model was disposed')) {
    if (!this.#dead) this.#fail(error);
    await this.#port.terminate();
  }

  #settle(id) {
    const entry = this.#pending.get(id);
    if (!entry) return null;
    this.#pending.delete(id);
    entry.cleanup();
    if (this.#pending.size === 0) this.#port.unref();
    return entry;
  }

  #onMessage(msg) {
    if (!msg || typeof msg.id !== 'number') return;
    if (msg.progress) {
      const entry = this.#pending.get(msg.id);
      if (entry && entry.onProgress) {
        try { entry.onProgress(msg.progress); } catch { /* a UI callback's bug must not break the load */ }
      }
      return;
    }
    if (Number.isInteger(msg.threads) && msg.threads > 0) this.#threads = msg.threads;
    const entry = this.#settle(msg.id);
    if (!entry) return; // cancelled meanwhile
    if (msg.ok) entry.resolve(msg.result);
    else entry.reject(SentenceWasmError.fromJSON(msg.error));
  }

  #fail(error) {
    this.#dead = error;
    for (const id of [...this.#pending.keys()]) this.#settle(id).reject(error);
  }
}

function abortError(signal) {
  const reason = signal.reason;
  return new SentenceWasmError('ABORTED', `the call was aborted${reason && reason.message ? `: ${reason.message}` : ''}`);
}
