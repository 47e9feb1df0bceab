/**
 * @file Helper threads of the shared-memory build: both sides.
 *
 * Thread 0 (the model's worker) starts each helper as another copy of the
 * worker script and posts it the compiled module, the shared memory and the
 * top of a stack it allocated for it. The helper instantiates the module on
 * that memory, moves its stack pointer there (every instance starts with
 * the same one, which would be thread 0's stack) and enters
 * sw_thread_main(), where it waits for tasks (src/threads.c) until
 * sw_threads_stop(). The helper never runs the module's constructors:
 * thread 0's instance already did, on the same memory.
 */
import { SentenceWasmError } from './errors.js';
import { spawnWorker } from './worker_port.js';

/** Each helper's stack (the builds give thread 0 1 MiB, -sTOTAL_STACK). */
const HELPER_STACK_BYTES = 1 << 20;

/** The script of the worker this runs in: a helper is another copy of it. */
function ownScriptUrl() {
  const inWorker = typeof globalThis.WorkerGlobalScope !== 'undefined' && globalThis.location;
  return inWorker ? new URL(globalThis.location.href) : undefined; // Node: worker_port's default
}

/**
 * Thread 0: starts n helpers on `memory` and resolves once each has
 * instantiated the module and is about to enter sw_thread_main().
 * @returns {Promise<{ terminate(): Promise<void> }>}
 */
export async function startHelpers(engine, module, memory, n) {
  const ports = [];
  const terminate = () => Promise.all(ports.map((p) => p.terminate())).then(() => {});
  try {
    const ready = [];
    for (let i = 0; i < n; i++) {
      const port = await spawnWorker(ownScriptUrl());
      ports.push(port);
      ready.push(new Promise((resolve, reject) => {
        port.onFailure((err) => reject(new SentenceWasmError('WORKER_FAILED',
          `a helper thread stopped: ${err && err.message ? err.message : err}`)));
        port.onMessage((msg) => {
          if (msg && msg.helperReady) resolve();
          else if (msg && msg.helperError) reject(new SentenceWasmError('WORKER_FAILED', `a helper thread failed: ${msg.helperError}`));
        });
      }));
      // Stacks grow down from their top, which the ABI wants 16-byte aligned
      // (Emscripten's malloc only promises 8).
      const end = engine.alloc(HELPER_STACK_BYTES) + HELPER_STACK_BYTES;
      const stackTop = end - (end % 16);
      port.post({ type: 'thread-helper', payload: { module, memory, stackTop } });
    }
    await Promise.all(ready);
  } catch (err) {
    await terminate();
    throw err;
  }
  return { terminate };
}

/**
 * Helper side, called by worker.js for a 'thread-helper' message: never
 * returns until thread 0 calls sw_threads_stop().
 */
export async function runHelper({ module, memory, stackTop }, post) {
  let instance;
  try {
    instance = await WebAssembly.instantiate(module, {
      env: { memory, emscripten_notify_memory_growth: () => {} },
    });
  } catch (err) {
    post({ helperError: err && err.message ? err.message : String(err) });
    return;
  }
  instance.exports.stackRestore(stackTop);
  post({ helperReady: true });
  try {
    instance.exports.sw_thread_main(); // blocks in memory.atomic.wait32 between tasks
  } catch (err) {
    // A trap inside a task (a bug): thread 0 would wait for this helper
    // forever. sw_thread_failed() counts it out of the job, and thread 0
    // makes that call fail and carries on alone (src/threads.c).
    instance.exports.sw_thread_failed();
    post({ helperError: err && err.message ? err.message : String(err) });
    return;
  }
  post({ helperExited: true });
}
