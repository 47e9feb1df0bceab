/**
 * @file Instantiates the engine's .wasm and gives typed access to its memory.
 *
 * The .wasm is built with -sSTANDALONE_WASM and needs a single import
 * (Emscripten's memory-growth notice), so this lean loader replaces the
 * Emscripten JS glue: the same code runs in Node and in browsers, and the
 * bytes are found next to this file with `new URL(..., import.meta.url)`,
 * which bundlers understand.
 *
 * With `threads > 1` where shared memory is allowed (Node; browsers when
 * crossOriginIsolated) the shared-memory build is used instead: it also
 * imports its memory, which this file creates shared, and helper workers
 * (thread_helpers.js) instantiate the same module on it.
 */
import { SentenceWasmError } from './errors.js';
import { startHelpers } from './thread_helpers.js';
import { sharedMemorySupported } from './shared_memory.js';

const WASM_URL = new URL('../dist/sentence-wasm.wasm', import.meta.url);
const WASM_MT_URL = new URL('../dist/sentence-wasm-mt.wasm', import.meta.url);

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/**
 * A Node builtin, imported by a computed name: bundlers building for browsers
 * then leave the import alone instead of failing on it (it never runs there).
 */
const nodeBuiltin = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/** Reads the .wasm bytes (Node: from disk; browsers: fetch). */
async function wasmBytes(url) {
  if (isNode && url.protocol === 'file:') {
    const { readFile } = await nodeBuiltin('fs/promises');
    try {
      return await readFile(url);
    } catch (err) {
      throw new SentenceWasmError('WORKER_FAILED',
        `cannot read the engine ${url.pathname}: ${err.message} (run \`make wasm\` to build it)`);
    }
  }
  const res = await fetch(url);
  if (!res.ok) throw new SentenceWasmError('WORKER_FAILED', `cannot fetch the engine ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** A tiny SIMD128 module (v128.const; drop), to feature-test before compiling. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 23, 1,
  21, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 26, 11]);

export function simdSupported() {
  try { return WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}

/**
 * The engine's exports plus memory helpers. Views over memory are rebuilt on
 * demand because memory growth detaches the old ones.
 */
export class Engine {
  constructor(instance, memory = instance.exports.memory) {
    this.exports = instance.exports;
    this.memory = memory;
    /** Threads computing (1 + helpers); set by loadEngine. */
    this.threads = 1;
    /** True when helpers share this engine's memory (the -mt build). */
    this.sharedMemory = false;
    this.helpers = null;
  }

  /** Stops the helper threads (the engine itself needs no other cleanup). */
  async close() {
    if (!this.helpers) return;
    this.exports.sw_threads_stop();
    const helpers = this.helpers;
    this.helpers = null;
    this.threads = 1;
    await helpers.terminate();
  }

  get u8() { return new Uint8Array(this.memory.buffer); }
  get i32() { return new Int32Array(this.memory.buffer); }
  get f32() { return new Float32Array(this.memory.buffer); }

  /** malloc that throws instead of returning 0. */
  alloc(bytes) {
    const p = this.exports.sw_malloc(bytes);
    if (!p) throw new SentenceWasmError('ENGINE_ERROR', `out of WebAssembly memory allocating ${bytes} bytes`);
    return p;
  }

  free(p) { if (p) this.exports.sw_free(p); }

  /** Runs fn(scope) and frees everything scope.alloc()'d, also on throw. */
  withScope(fn) {
    const ptrs = [];
    const scope = {
      alloc: (bytes) => { const p = this.alloc(bytes); ptrs.push(p); return p; },
      cstring: (s) => {
        const bytes = new TextEncoder().encode(s);
        const p = scope.alloc(bytes.length + 1);
        const u8 = this.u8;
        u8.set(bytes, p);
        u8[p + bytes.length] = 0;
        return p;
      },
      i32s: (arr) => { const p = scope.alloc(arr.length * 4 || 4); this.i32.set(arr, p >> 2); return p; },
      i64s: (arr) => {
        const p = scope.alloc(arr.length * 8 || 8);
        const v = new BigInt64Array(this.memory.buffer, p, arr.length);
        arr.forEach((x, i) => { v[i] = BigInt(x); });
        return p;
      },
      f32s: (n) => scope.alloc(n * 4 || 4),
    };
    try {
      return fn(scope);
    } finally {
      for (const p of ptrs) this.free(p);
    }
  }

  /** The engine's last error message. */
  lastError() {
    const p = this.exports.sw_last_error();
    const u8 = this.u8;
    let end = p;
    while (u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  }

  /** Copies n floats out of WASM memory (a view would be detached by growth). */
  readF32(ptr, n) { return this.f32.slice(ptr >> 2, (ptr >> 2) + n); }
}

/** Compiled modules by URL: compiled once per thread, instantiated per model. */
const compiled = new Map();

function compile(url) {
  const key = String(url);
  if (!compiled.has(key)) {
    const p = wasmBytes(url).then((b) => WebAssembly.compile(b));
    p.catch(() => compiled.delete(key)); // a failed read may succeed later
    compiled.set(key, p);
  }
  return compiled.get(key);
}

/** 16 MiB, the builds' -sINITIAL_MEMORY, and 4 GiB, their -sMAXIMUM_MEMORY, in 64 KiB pages. */
const INITIAL_PAGES = 256;
const MAXIMUM_PAGES = 65536;

/** How long thread 0 waits for its helpers to enter the engine. */
const HELPERS_START_MS = 10000;

/**
 * Compiles (once per thread) and instantiates the engine.
 * @param {{ wasmUrl?: URL, threads?: number }} [options]
 *   threads: threads computing; above 1 the shared-memory build runs with
 *   threads - 1 helper workers (refused where shared memory is not allowed)
 */
export async function loadEngine({ wasmUrl, threads = 1 } = {}) {
  if (!simdSupported()) {
    throw new SentenceWasmError('WORKER_FAILED', 'WebAssembly SIMD is not supported in this environment (sentence-wasm needs SIMD128)');
  }
  if (threads > 1 && !sharedMemorySupported()) {
    throw new SentenceWasmError('WORKER_FAILED', 'shared-memory threads need SharedArrayBuffer (in browsers: a crossOriginIsolated page)');
  }
  const module = await compile(wasmUrl ?? (threads > 1 ? WASM_MT_URL : WASM_URL));
  const env = { emscripten_notify_memory_growth: () => {} };
  // The shared-memory build imports its memory; the others define their own.
  const sharedBuild = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
  if (!sharedBuild) {
    if (threads > 1) throw new SentenceWasmError('WORKER_FAILED', 'this engine build has no threads');
    const engine = new Engine(await WebAssembly.instantiate(module, { env }));
    // STANDALONE_WASM reactors run their static constructors here.
    if (engine.exports._initialize) engine.exports._initialize();
    return engine;
  }
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const engine = new Engine(await WebAssembly.instantiate(module, { env: { ...env, memory } }), memory);
  if (engine.exports._initialize) engine.exports._initialize();
  engine.sharedMemory = true;
  if (threads <= 1) return engine;
  engine.helpers = await startHelpers(engine, module, memory, threads - 1);
  if (engine.exports.sw_threads_start(threads - 1, HELPERS_START_MS) !== 0) {
    const why = engine.lastError();
    await engine.helpers.terminate();
    throw new SentenceWasmError('WORKER_FAILED', `cannot start ${threads - 1} helper threads: ${why}`);
  }
  engine.threads = engine.exports.sw_threads_count();
  return engine;
}
