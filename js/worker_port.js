/**
 * @file One message-port shape over Web Workers and node:worker_threads, for
 * both sides of the boundary. Everything else speaks only { post, onMessage }.
 */
/** Not a literal in new URL(): bundlers must only see the browser spawn below. */
const WORKER_FILE = './worker.js';

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node)
  && typeof globalThis.WorkerGlobalScope === 'undefined';

/**
 * A Node builtin, imported by a computed name: bundlers building for browsers
 * then leave the import alone instead of failing on it (it never runs there).
 */
const nodeBuiltin = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/**
 * Main side: starts the worker script at `url`.
 * @returns {Promise<{ post(msg, transfer?): void, onMessage(fn): void, onFailure(fn): void,
 *   terminate(): Promise<void>, ref(): void, unref(): void }>}
 */
export async function spawnWorker(url) {
  if (isNode) {
    url ??= new URL(WORKER_FILE, import.meta.url);
    const { Worker } = await nodeBuiltin('worker_threads');
    // The worker inherits the parent's Node flags; --input-type (from
    // `node --input-type=module -e ...`) makes a file-based worker fail to start.
    // V8's WebAssembly flags (e.g. --experimental-wasm-relaxed-simd) apply to
    // the whole process already, and Worker refuses them in execArgv.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type') && a !== '-e' && a !== '--eval'
      && !/^--(no-)?(experimental-)?wasm[-_]/.test(a));
    let w;
    try {
      w = new Worker(url, { execArgv });
    } catch (err) {
      // Other V8 flags (--liftoff-only, ...) are refused too, and hold for
      // the whole process as well.
      if (!err || err.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
      w = new Worker(url, { execArgv: [] });
    }
    let failed = () => {};
    w.on('error', (err) => failed(err));
    w.on('exit', (code) => failed(new Error(`worker exited with code ${code}`)));
    return {
      post: (msg, transfer = []) => w.postMessage(msg, transfer),
      onMessage: (fn) => w.on('message', fn),
      onFailure: (fn) => { failed = fn; },
      terminate: async () => { failed = () => {}; await w.terminate(); },
      // An idle worker must not keep Node's process alive.
      ref: () => w.ref(),
      unref: () => w.unref(),
    };
  }
  // Written out literally so bundlers (Vite, webpack, Parcel) see the worker
  // entry and bundle it with its imports and the .wasm it references.
  const w = url === undefined
    ? new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
    : new Worker(url, { type: 'module' });
  let failed = () => {};
  w.addEventListener('error', (ev) => failed(new Error(ev.message || 'worker failed to start')));
  w.addEventListener('messageerror', () => failed(new Error('a message from the worker could not be read')));
  return {
    post: (msg, transfer = []) => w.postMessage(msg, transfer),
    onMessage: (fn) => w.addEventListener('message', (ev) => fn(ev.data)),
    onFailure: (fn) => { failed = fn; },
    terminate: async () => { failed = () => {}; w.terminate(); },
    ref: () => {},
    unref: () => {},
  };
}

/** Worker side: the port back to the main thread. */
export async function parentPort() {
  if (isNode) {
    const { parentPort: port } = await nodeBuiltin('worker_threads');
    return {
      post: (msg, transfer = []) => port.postMessage(msg, transfer),
      onMessage: (fn) => port.on('message', fn),
    };
  }
  return {
    post: (msg, transfer = []) => globalThis.postMessage(msg, transfer),
    onMessage: (fn) => globalThis.addEventListener('message', (ev) => fn(ev.data)),
  };
}

/** Lets queued messages (e.g. a cancel) in between two pieces of work. */
export function yieldToEvents() {
  if (isNode) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); resolve(); };
    ch.port2.postMessage(0);
  });
}
