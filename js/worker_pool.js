/**
 * @file N workers holding the same model, for `threads > 1`. Each worker is
 * single-threaded with its own copy of the weights (no SharedArrayBuffer
 * needed, so it works in any browser); a large encode is split into N
 * contiguous slices that run in parallel, small calls go to one worker.
 *
 * Same call/terminate surface as WorkerClient, plus callSplit().
 */
import { WorkerClient } from './worker_client.js';

/** Below this many texts a call is not worth splitting. */
const MIN_TEXTS_TO_SPLIT = 8;

export class WorkerPool {
  #clients;
  #next = 0;

  constructor(clients) {
    this.#clients = clients;
  }

  get size() { return this.#clients.length; }

  /** Starts `n` workers. */
  static async start(n = 1) {
    const clients = [];
    try {
      for (let i = 0; i < n; i++) clients.push(await WorkerClient.start());
    } catch (err) {
      await Promise.all(clients.map((c) => c.terminate()));
      throw err;
    }
    return new WorkerPool(clients);
  }

  /**
   * Loads the model in every worker. Workers 1..n-1 get structured-clone
   * copies of the file buffers; worker 0 gets them transferred last.
   */
  async load(payload, { transfer = [], signal } = {}) {
    const rest = this.#clients.slice(1).map((c) => c.call('load', payload, { signal }));
    const first = this.#clients[0].call('load', payload, { transfer, signal });
    const [info] = await Promise.all([first, ...rest]);
    return info;
  }

  /** One call on one worker (round-robin). */
  call(type, payload, opts) {
    const c = this.#clients[this.#next];
    this.#next = (this.#next + 1) % this.#clients.length;
    return c.call(type, payload, opts);
  }

  /**
   * Splits `items` into contiguous slices balanced by `weight(item)`, runs
   * `type` with args [slice, ...restArgs] on each worker, and concatenates
   * the results in order (arrays by default; `merge` for other shapes).
   */
  async callSplit(type, items, restArgs, { weight = () => 1, signal, merge = (parts) => parts.flat() } = {}) {
    const n = Math.min(this.#clients.length, Math.floor(items.length / MIN_TEXTS_TO_SPLIT) || 1);
    if (n <= 1) return this.call(type, { args: [items, ...restArgs] }, { signal });
    const slices = splitBalanced(items, n, weight);
    const parts = await Promise.all(slices.map((slice, i) =>
      this.#clients[i].call(type, { args: [slice, ...restArgs] }, { signal })));
    return merge(parts);
  }

  async terminate(error) {
    await Promise.all(this.#clients.map((c) => c.terminate(error)));
  }
}

/** Contiguous slices of roughly equal total weight. */
export function splitBalanced(items, n, weight) {
  const w = items.map(weight);
  const total = w.reduce((a, b) => a + b, 0);
  const slices = [];
  let start = 0, acc = 0;
  for (let i = 0; i < items.length && slices.length < n - 1; i++) {
    acc += w[i];
    if (acc >= (total * (slices.length + 1)) / n) {
      slices.push(items.slice(start, i + 1));
      start = i + 1;
    }
  }
  slices.push(items.slice(start));
  return slices.filter((s) => s.length > 0);
}

/** merge for results that are one flat Float32Array per slice. */
export function concatFloat32(parts) {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}
