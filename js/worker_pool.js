/**
 * @file The workers behind one model, and how `threads` maps onto them.
 *
 * Where shared memory is allowed (Node; browsers when crossOriginIsolated)
 * `threads: N` is one worker running the shared-memory build with N - 1
 * helper threads: one copy of the weights, and every call, however small,
 * is split inside the engine (src/threads.c).
 *
 * Elsewhere it is N workers, each single-threaded with its own copy of the
 * weights (no SharedArrayBuffer needed, so it works in any browser); a large
 * encode is split into N contiguous slices that run in parallel, small
 * calls go to one worker.
 *
 * Same call/terminate surface as WorkerClient, plus callSplit().
 */
import { WorkerClient } from './worker_client.js';
import { sharedMemorySupported } from './shared_memory.js';

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** A Node builtin by a computed name, which browser bundlers leave alone (worker_port.js). */
const nodeBuiltin = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/** The default `threads`: the cores, at most 4, where threads share memory; else 1. */
export async function defaultThreads() {
  if (!sharedMemorySupported()) return 1;
  let cores = 1;
  if (isNode) {
    const os = await nodeBuiltin('os');
    cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  } else if (globalThis.navigator && Number.isInteger(globalThis.navigator.hardwareConcurrency)) {
    cores = globalThis.navigator.hardwareConcurrency;
  }
  return Math.max(1, Math.min(4, cores));
}

/** Below this many texts a call is not worth splitting. */
const MIN_TEXTS_TO_SPLIT = 8;

export class WorkerPool {
  #clients;
  #engineThreads;
  #next = 0;

  constructor(clients, engineThreads = 1) {
    this.#clients = clients;
    this.#engineThreads = engineThreads;
  }

  get size() { return this.#clients.length; }

  /**
   * Threads computing now: the shared-memory engine's count, or one per
   * worker, as their last replies said (fewer than at load if a helper
   * thread failed).
   */
  get threads() {
    return this.#clients.reduce((n, c) => n + (c.threads ?? 1), 0);
  }

  /**
   * Starts the workers for `threads` (default: defaultThreads()): one
   * shared-memory worker, or `threads` single-threaded ones.
   */
  static async start(threads) {
    const n = threads ?? await defaultThreads();
    if (n > 1 && sharedMemorySupported()) return new WorkerPool([await WorkerClient.start()], n);
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
   * Resolves with worker 0's info, whose `threads` counts every thread.
   * `onProgress` gets worker 0's progress of the files it reads from disk
   * (the others read the same files).
   */
  async load(payload, { transfer = [], signal, onProgress } = {}) {
    payload = { ...payload, threads: this.#engineThreads };
    const rest = this.#clients.slice(1).map((c) => c.call('load', payload, { signal }));
    const first = this.#clients[0].call('load', payload, { transfer, signal, onProgress });
    const [info] = await Promise.all([first, ...rest]);
    return { ...info, threads: info.threads * this.#clients.length };
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
