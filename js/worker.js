/**
 * @file The worker: owns the engine instance and one model, and answers
 * { id, type, payload } calls one at a time, in arrival order. A 'cancel'
 * message marks a call so it stops at its next batch boundary.
 *
 * The same script is also a helper thread of the shared-memory build: a
 * worker whose first message is 'thread-helper' only runs engine tasks
 * (thread_helpers.js).
 */
import { parentPort, yieldToEvents } from './worker_port.js';
import { loadEngine } from './wasm.js';
import { runHelper } from './thread_helpers.js';
import { SentenceWasmError } from './errors.js';
import { DensePipeline } from './pipelines/dense.js';
import { CrossPipeline } from './pipelines/cross.js';
import { SparsePipeline } from './pipelines/sparse.js';
import { withReadProgress } from './pipelines/weights.js';

/** Pipelines by spec.kind; the other model types register here. */
const PIPELINES = {
  sentence_transformer: DensePipeline,
  cross_encoder: CrossPipeline,
  sparse_encoder: SparsePipeline,
};

const cancelled = new Set();
let pipeline = null;
let engine = null;
let queue = Promise.resolve();
let port = null;

// No top-level await here: bundlers may build this worker as a classic
// script (Vite's default worker format is 'iife'), where it is not allowed.
// The listener is attached in a microtask, before any message is delivered.
parentPort().then((p) => {
  port = p;
  port.onMessage((msg) => {
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'cancel') {
      cancelled.add(msg.payload.id);
      return;
    }
    if (msg.type === 'thread-helper') {
      runHelper(msg.payload, (m) => port.post(m));
      return;
    }
    queue = queue.then(() => handle(msg));
  });
});

async function handle({ id, type, payload }) {
  if (cancelled.delete(id)) return; // aborted before it started
  const ctl = {
    isCancelled: () => cancelled.has(id),
    yield: yieldToEvents,
    progress: (p) => port.post({ id, progress: p }),
  };
  try {
    const result = await dispatch(type, payload, ctl);
    port.post({ id, ok: true, result, threads: threadsNow() }, transferablesOf(result));
  } catch (err) {
    port.post({ id, ok: false, error: errorToJSON(err), threads: threadsNow() });
  } finally {
    cancelled.delete(id);
  }
}

async function dispatch(type, payload, ctl) {
  if (type === 'load') {
    const Pipeline = PIPELINES[payload.spec.kind];
    if (!Pipeline) throw new SentenceWasmError('UNSUPPORTED_ARCHITECTURE', `model kind ${payload.spec.kind} is not supported`);
    const next = await loadEngineWithFallback(payload.wasmBuild, payload.threads ?? 1);
    if (pipeline) pipeline.dispose();
    pipeline = null;
    if (engine) await engine.close();
    engine = next;
    const files = buffersOf(payload.spec);
    try {
      // Weights on disk are read here, so their progress comes from here.
      pipeline = withReadProgress(ctl.progress, () => new Pipeline(engine, payload.spec));
    } finally {
      discard(files);
    }
    return { ...pipeline.info(), threads: engine.threads, sharedMemory: engine.sharedMemory, wasmBuild: engine.build };
  }
  if (!pipeline) throw new SentenceWasmError('DISPOSED', 'no model is loaded in this worker');
  const method = pipeline[type];
  if (typeof method !== 'function' || type === 'constructor' || type.startsWith('_')) {
    throw new SentenceWasmError('INVALID_INPUT', `unknown call "${type}"`);
  }
  return method.call(pipeline, ...(payload.args || []), ctl);
}

/**
 * Threads the engine computes on now, sent with every reply: a helper
 * thread that traps is counted out and the engine goes on alone
 * (src/threads.c), so the count can drop after load (model.threads).
 */
function threadsNow() {
  return engine ? engine.exports.sw_threads_count() : undefined;
}

/**
 * The engine on `threads` threads, or on one where helper threads cannot
 * start (a browser without workers inside workers, say): a model that runs
 * slower beats one that does not load. model.threads tells which it got.
 */
async function loadEngineWithFallback(build, threads) {
  if (threads <= 1) return loadEngine({ build, threads: 1 });
  try {
    return await loadEngine({ build, threads });
  } catch (err) {
    if (!(err instanceof SentenceWasmError) || err.code !== 'WORKER_FAILED') throw err;
    return loadEngine({ build, threads: 1 });
  }
}

/** The model files' ArrayBuffers in a load payload's spec (weights.buffer). */
function buffersOf(spec) {
  const out = [];
  const visit = (v, depth) => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (v instanceof ArrayBuffer) { out.push(v); return; }
    if (ArrayBuffer.isView(v)) return;
    for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
  };
  visit(spec, 0);
  return out;
}

/**
 * Frees the file bytes now that the engine holds the weights, instead of
 * whenever the garbage collector gets to them: until then a model's memory
 * is counted twice (file + engine), and the first batches would push the
 * process's peak up by the file's size. Transferring the buffers into a
 * message on a port that is closed at once releases their memory with the
 * message; the buffers here are left detached (length 0).
 */
function discard(buffers) {
  const live = buffers.filter((b) => b.byteLength > 0);
  if (!live.length || typeof MessageChannel === 'undefined') return;
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(null, live);
  } catch {
    // a buffer that cannot be transferred is left to the garbage collector
  }
  port1.close();
  port2.close();
}

/**
 * Transferring costs per buffer: past this many (Node measured 100,000
 * transfers at 11 s against 0.7 s to copy), copying is the faster way.
 */
const MAX_TRANSFERS = 1000;

/** Typed arrays in a result are moved, not copied, to the main thread (when few). */
function transferablesOf(result) {
  const out = new Set();
  const visit = (v, depth) => {
    if (depth > 3 || v === null || typeof v !== 'object') return;
    if (ArrayBuffer.isView(v)) { if (v.buffer.byteLength === v.byteLength) out.add(v.buffer); return; }
    if (Array.isArray(v)) { for (const x of v) visit(x, depth + 1); return; }
    for (const x of Object.values(v)) visit(x, depth + 1);
  };
  visit(result, 0);
  return out.size <= MAX_TRANSFERS ? [...out] : [];
}

function errorToJSON(err) {
  if (err instanceof SentenceWasmError) return err.toJSON();
  return { name: 'SentenceWasmError', code: 'ENGINE_ERROR', message: err && err.message ? err.message : String(err) };
}
