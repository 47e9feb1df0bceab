/**
 * @file Hands the tensors of one safetensors file (header-checked on the
 * main thread) to an engine object. The bytes come either from the file's
 * buffer, transferred here, or, for a file on the local disk in Node
 * (weights.diskPath), straight from the file into the engine's memory, one
 * tensor at a time: then the process never holds the model twice (file
 * bytes and engine copy), which for a 90 MB model was most of loading's
 * peak memory.
 *
 * Progress of a disk read is reported from here (the main thread only saw
 * the header): withReadProgress scopes a reporter around the synchronous
 * construction of a model's pipeline, so every loadWeights inside it, of
 * however many files, reports without each pipeline passing it along.
 */
import { SentenceWasmError } from '../errors.js';

/** Reports at most this many 'progress' events per file (each is a message to the main thread). */
const PROGRESS_STEPS = 100;

/** @type {((e: { status: string, file: string, loaded: number, total: number }) => void) | null} */
let reportRead = null;

/**
 * Runs `body` (synchronous) with `report` receiving the 'progress' and
 * 'done' events of the files read from disk meanwhile.
 * @template T @param {(e: object) => void} report @param {() => T} body @returns {T}
 */
export function withReadProgress(report, body) {
  const outer = reportRead;
  reportRead = report;
  try {
    return body();
  } finally {
    reportRead = outer;
  }
}

/**
 * @typedef {{ name: string, dtype: string, shape: number[], begin: number, end: number }} TensorEntry
 * @param {{ file: string, buffer?: ArrayBuffer, diskPath?: string, size?: number, tensors: TensorEntry[] }} weights
 * @param {(t: TensorEntry) => boolean} wanted  skip tensors the engine does not use (never read)
 * @param {(t: TensorEntry, write: (dst: Uint8Array) => void) => void} add
 *   copies one tensor into the engine: `write` fills `dst` (t.end - t.begin bytes) with it
 */
export function loadWeights(weights, wanted, add) {
  const reader = weights.diskPath ? diskReader(weights) : bufferReader(weights);
  // A buffer was downloaded or read on the main thread, which reported it.
  const progress = weights.diskPath ? readProgress(weights.file, reader.size) : null;
  try {
    for (const t of weights.tensors) {
      if (!wanted(t)) continue;
      if (!(t.begin >= 0 && t.end <= reader.size && t.begin <= t.end)) {
        throw new SentenceWasmError('BAD_SAFETENSORS', `${weights.file}: tensor "${t.name}" lies outside the file`);
      }
      add(t, (dst) => {
        reader.read(dst, t.begin);
        progress?.advance(dst.length);
      });
    }
    progress?.done();
  } finally {
    reader.close();
  }
}

/**
 * Counts the bytes read of one file: 'progress' each time another 1/100 of
 * it is in, then 'done' with the whole size (tensors the engine does not
 * use are skipped, not read, so only 'done' reaches the total).
 */
function readProgress(file, total) {
  const report = reportRead;
  if (!report) return null;
  const step = Math.max(1, Math.ceil(total / PROGRESS_STEPS));
  let loaded = 0;
  let reported = 0;
  return {
    advance(n) {
      loaded = Math.min(total, loaded + n);
      if (loaded - reported >= step && loaded < total) {
        reported = loaded;
        report({ status: 'progress', file, loaded, total });
      }
    },
    done: () => report({ status: 'done', file, loaded: total, total }),
  };
}

function bufferReader(weights) {
  if (!weights.buffer) throw new SentenceWasmError('ENGINE_ERROR', `${weights.file}: weights were already consumed`);
  const bytes = new Uint8Array(weights.buffer);
  return {
    size: bytes.length,
    read: (dst, begin) => dst.set(bytes.subarray(begin, begin + dst.length)),
    close: () => {},
  };
}

/**
 * Reads from the file the main thread checked. It is opened again here, so
 * it may have changed in between: a different size is refused, and a read
 * that comes up short fails instead of leaving a tensor half-filled.
 */
function diskReader(weights) {
  const fs = globalThis.process?.getBuiltinModule?.('node:fs');
  if (!fs) throw new SentenceWasmError('ENGINE_ERROR', `${weights.file}: this worker cannot read files from disk`);
  const { file, diskPath } = weights;
  let fd;
  try {
    fd = fs.openSync(diskPath, 'r');
  } catch (e) {
    throw new SentenceWasmError('FETCH_FAILED', `${file}: cannot read ${diskPath}: ${e.message}`, { cause: e });
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size !== weights.size) {
      throw new SentenceWasmError('FETCH_FAILED',
        `${file}: ${diskPath} changed on disk while loading (${size} bytes, was ${weights.size})`);
    }
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof SentenceWasmError) throw e;
    throw new SentenceWasmError('FETCH_FAILED', `${file}: cannot read ${diskPath}: ${e.message}`, { cause: e });
  }
  return {
    size: weights.size,
    read(dst, begin) {
      for (let done = 0; done < dst.length;) {
        const n = fs.readSync(fd, dst, done, dst.length - done, begin + done);
        if (n === 0) {
          throw new SentenceWasmError('FETCH_FAILED',
            `${file}: ${diskPath} ended after ${begin + done} bytes while loading (changed on disk?)`);
        }
        done += n;
      }
    },
    close: () => fs.closeSync(fd),
  };
}
