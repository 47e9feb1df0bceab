/**
 * @file Instantiates the engine's .wasm and gives typed access to its memory.
 *
 * The .wasm is built with -sSTANDALONE_WASM and needs a single import
 * (Emscripten's memory-growth notice), so this lean loader replaces the
 * Emscripten JS glue: the same code runs in Node and in browsers, and the
 * bytes are found next to this file with `new URL(..., import.meta.url)`,
 * which bundlers understand.
 *
 * Two builds of the same engine (make wasm):
 *   plain    dist/sentence-wasm.wasm           WebAssembly SIMD128
 *   relaxed  dist/sentence-wasm-relaxed.wasm   the same, each multiply-accumulate
 *            one f32x4.relaxed_madd (an FMA where the CPU has one)
 * 'auto' (the default) takes the relaxed build where WebAssembly.validate
 * accepts a relaxed_madd (Chromium 114+; Node 20 only with
 * --experimental-wasm-relaxed-simd), else the plain one, and falls back to
 * the plain one if the relaxed file cannot be fetched or compiled (an app
 * that copied only the plain file keeps working).
 *
 * With `threads > 1` (where shared memory is allowed: Node; browsers when
 * crossOriginIsolated) the shared-memory twin of the chosen build runs
 * instead, `-mt`: it imports its memory, which this file creates shared, and
 * helper workers (thread_helpers.js) instantiate the same module on it.
 */
import { SentenceWasmError } from './errors.js';
import { WASM_BUILDS } from './options.js';
import { startHelpers } from './thread_helpers.js';
import { sharedMemorySupported } from './shared_memory.js';

/** The four .wasm files, by build and by whether threads share memory. */
const ENGINE_URLS = Object.freeze({
  plain: new URL('../dist/sentence-wasm.wasm', import.meta.url),
  relaxed: new URL('../dist/sentence-wasm-relaxed.wasm', import.meta.url),
  'plain-mt': new URL('../dist/sentence-wasm-mt.wasm', import.meta.url),
  'relaxed-mt': new URL('../dist/sentence-wasm-relaxed-mt.wasm', import.meta.url),
});

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
 * A tiny relaxed-SIMD module: one function of three v128 locals doing
 * local.get 0..2; f32x4.relaxed_madd (0xfd 0x85 0x02); drop. It validates only
 * where the engine accepts relaxed SIMD.
 */
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 16, 1,
  14, 1, 3, 123, 32, 0, 32, 1, 32, 2, 253, 133, 2, 26, 11]);

export function relaxedSimdSupported() {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

/**
 * The engine's exports plus memory helpers. Views over memory are rebuilt on
 * demand because memory growth detaches the old ones.
 */
export class Engine {
  /**
   * @param {WebAssembly.Instance} instance
   * @param {'plain' | 'relaxed'} build which .wasm it is
   * @param {WebAssembly.Memory} [memory] the shared memory the -mt builds import
   */
  constructor(instance, build, memory = instance.exports.memory) {
    this.exports = instance.exports;
    this.memory = memory;
    this.build = build;
    /** Threads computing (1 + helpers); set by loadEngine. */
    this.threads = 1;
    /** True for the -mt builds, whose memory helpers can share. */
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

  /**
   * malloc that throws instead of returning 0. Addresses are unsigned: an
   * i32 result above 2 GiB reaches JS negative, so every pointer the engine
   * returns goes through `>>> 0`, and indices into the typed-array views
   * use `>>> 2` (passing one back to the engine wraps it to the same i32).
   */
  alloc(bytes) {
    const p = this.exports.sw_malloc(bytes) >>> 0;
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
      i32s: (arr) => { const p = scope.alloc(arr.length * 4 || 4); this.i32.set(arr, p >>> 2); return p; },
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
    const p = this.exports.sw_last_error() >>> 0;
    const u8 = this.u8;
    let end = p;
    while (u8[end] !== 0) end++;
    return new TextDecoder().decode(u8.subarray(p, end));
  }

  /** Copies n floats out of WASM memory (a view would be detached by growth). */
  readF32(ptr, n) { return this.f32.slice(ptr >>> 2, (ptr >>> 2) + n); }
}

/** Compiled modules by URL (one per thread and build); a failed compile is not kept. */
const compiled = new Map();

function compileOnce(url) {
  const key = String(url);
  if (!compiled.has(key)) {
    const p = wasmBytes(url).then((bytes) => WebAssembly.compile(bytes));
    p.catch(() => compiled.delete(key));
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
 * @param {{ build?: 'auto' | 'plain' | 'relaxed', threads?: number, urls?: Record<string, URL> }} [options]
 *   build: which .wasm ('auto': relaxed where supported, see above); threads: threads computing,
 *   above 1 the -mt build with threads - 1 helper workers (refused where memory cannot be
 *   shared); urls: where the files are, keyed 'plain', 'relaxed', 'plain-mt', 'relaxed-mt'
 *   (tests point them elsewhere)
 * @returns {Promise<Engine>} engine.build says which one runs, engine.threads how many threads
 */
export async function loadEngine({ build = 'auto', threads = 1, urls = ENGINE_URLS } = {}) {
  if (!WASM_BUILDS.includes(build)) {
    throw new SentenceWasmError('INVALID_INPUT', `wasmBuild "${build}" is not one of ${WASM_BUILDS.join(', ')}`);
  }
  if (!simdSupported()) {
    throw new SentenceWasmError('WORKER_FAILED', 'WebAssembly SIMD is not supported in this environment (sentence-wasm needs SIMD128)');
  }
  if (build === 'relaxed' && !relaxedSimdSupported()) {
    throw new SentenceWasmError('WORKER_FAILED', 'wasmBuild "relaxed": this WebAssembly engine does not accept relaxed SIMD'
      + (isNode ? ' (Node 20: run node with --experimental-wasm-relaxed-simd)' : ''));
  }
  if (threads > 1 && !sharedMemorySupported()) {
    throw new SentenceWasmError('WORKER_FAILED', 'shared-memory threads need SharedArrayBuffer (in browsers: a crossOriginIsolated page)');
  }
  const suffix = threads > 1 ? '-mt' : '';
  let module = null, chosen = 'plain';
  if (build === 'relaxed' || (build === 'auto' && relaxedSimdSupported() && urls[`relaxed${suffix}`])) {
    try {
      module = await compileOnce(urls[`relaxed${suffix}`]);
      chosen = 'relaxed';
    } catch (err) {
      if (build === 'relaxed') throw err;
      // 'auto': the plain build does the same work
    }
  }
  if (!module) module = await compileOnce(urls[`plain${suffix}`]);

  const env = { emscripten_notify_memory_growth: () => {} };
  // The -mt builds import their memory; the others define their own.
  if (!WebAssembly.Module.imports(module).some((i) => i.kind === 'memory')) {
    if (threads > 1) throw new SentenceWasmError('WORKER_FAILED', 'this engine build has no threads');
    const engine = new Engine(await WebAssembly.instantiate(module, { env }), chosen);
    // STANDALONE_WASM reactors run their static constructors here.
    if (engine.exports._initialize) engine.exports._initialize();
    return engine;
  }
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const engine = new Engine(await WebAssembly.instantiate(module, { env: { ...env, memory } }), chosen, memory);
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
