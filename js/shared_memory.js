/**
 * @file Whether this thread may run the shared-memory build: on its own so
 * that the main thread can ask without importing the engine loader (and,
 * in a bundled app, the .wasm URLs it references).
 */
const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/**
 * True where shared WebAssembly memory can be created and posted to
 * workers: Node, and browsers on a crossOriginIsolated page (which is what
 * makes SharedArrayBuffer available there).
 */
export function sharedMemorySupported() {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (!isNode && globalThis.crossOriginIsolated !== true) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}
