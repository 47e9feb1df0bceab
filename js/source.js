/**
 * @file Where model files come from: a local folder (Node), a URL of a model
 * folder, or a Hugging Face Hub id. openSource() decides which and returns a
 * Source that reads files by path relative to the model folder.
 *
 * Every path a Source is asked for may come from the model itself (modules.json
 * "path"), so it is checked to stay inside the folder or URL base. Downloads
 * stream into one preallocated buffer, report progress, detect truncation and
 * honour an AbortSignal. Nothing is requested except the file asked for.
 * URL and Hub downloads go through the cache of the `cache` option (cache.js):
 * a file found there is not requested at all.
 *
 * This module must load in a browser: Node builtins are imported dynamically,
 * and only when a local folder is involved.
 */

import { SentenceWasmError, fail } from './errors.js';
import { readHeaderLength, parseSafetensorsHeader } from './safetensors.js';
import { openCache, checkCacheOption } from './cache.js';

const ACCEPTED_FORMS =
  'a local folder path (Node only; absolute, relative or file:// URL), ' +
  'an http(s) URL of a model folder, or a Hugging Face Hub id "org/name"';

/** 'org/name': one slash, no part starting with '.', so '..' can never appear. */
const HUB_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

const IS_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * A Node builtin, imported by a computed name: bundlers building for browsers
 * then leave the import alone instead of failing on it (it never runs there).
 */
const nodeBuiltin = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/** Folder reads go in slices so progress and abort are seen during big files. */
const READ_SLICE = 16 * 1024 * 1024;

/**
 * Checks a model-relative path and splits it into segments. The path may come
 * from a model file, so anything that could leave the model folder or URL base
 * is refused: absolute paths, schemes and drive letters, backslashes, '.' and
 * '..' segments, empty segments, control characters.
 *
 * @param {string} path e.g. '1_Pooling/config.json'
 * @returns {string[]} its segments
 */
export function validateModelPath(path) {
  const refuse = (why) => fail('BAD_CONFIG',
    `model file path ${JSON.stringify(path)} ${why}; paths must stay inside the model folder`);
  if (typeof path !== 'string') refuse('is not a string');
  if (path === '') refuse('is empty');
  if (path.startsWith('/')) refuse('is absolute');
  if (path.includes('\\')) refuse('contains a backslash');
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) refuse('has a scheme or drive letter');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) refuse('contains a control character');
  const segments = path.split('/');
  for (const s of segments) {
    if (s === '') refuse('has an empty segment');
    if (s === '.' || s === '..') refuse(`has a "${s}" segment`);
  }
  return segments;
}

function abortedError(signal, what) {
  const reason = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new SentenceWasmError('ABORTED', `${what}: aborted${reason}`);
}

function throwIfAborted(signal, what) {
  if (signal?.aborted) throw abortedError(signal, what);
}

/**
 * Progress is informational: a throwing callback must not break a model load
 * halfway through, so its errors are dropped here.
 */
function makeReporter(onProgress) {
  if (typeof onProgress !== 'function') return () => {};
  return (event) => {
    try { onProgress(event); } catch { /* see above */ }
  };
}

/** Shared by every kind of source: text and JSON on top of readBytes. */
class SourceBase {
  /**
   * @param {string} path
   * @param {{ optional?: boolean }} [opts]
   * @returns {Promise<string|null>}
   */
  async readText(path, opts) {
    const bytes = await this.readBytes(path, opts);
    if (bytes === null) return null;
    try {
      // fatal: a config with broken UTF-8 is a broken file, not something to
      // guess at; the default BOM stripping is kept for Windows-saved JSON.
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return fail('BAD_CONFIG', `${path} (${this.description}): not valid UTF-8`);
    }
  }

  /**
   * @param {string} path
   * @param {{ optional?: boolean }} [opts]
   * @returns {Promise<any>}
   */
  async readJson(path, opts) {
    const text = await this.readText(path, opts);
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      return fail('BAD_CONFIG', `${path} (${this.description}): invalid JSON: ${e.message}`);
    }
  }

  /** Drops cached file bytes. Safe to call more than once. */
  close() {}
}

// --- local folder (Node) -------------------------------------------------------

class FolderSource extends SourceBase {
  #fs;
  #join;
  #signal;
  #report;

  constructor(absPath, fs, join, { signal, onProgress }) {
    super();
    this.kind = 'folder';
    this.base = absPath;
    this.description = `folder ${absPath}`;
    this.#fs = fs;
    this.#join = join;
    this.#signal = signal;
    this.#report = makeReporter(onProgress);
  }

  /** Opens a model file; null when it does not exist (or is not a regular file). */
  async #open(path) {
    const full = this.#join(this.base, ...validateModelPath(path));
    throwIfAborted(this.#signal, path);
    let handle;
    try {
      handle = await this.#fs.open(full, 'r');
    } catch (e) {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return { full, handle: null };
      throw new SentenceWasmError('FETCH_FAILED', `${path}: cannot read ${full}: ${e.message}`, { cause: e });
    }
    let stat;
    try {
      stat = await handle.stat();
    } catch (e) {
      await handle.close();
      throw new SentenceWasmError('FETCH_FAILED', `${path}: cannot read ${full}: ${e.message}`, { cause: e });
    }
    // A directory opens fine on some systems; it is still not the file asked for.
    if (!stat.isFile()) {
      await handle.close();
      return { full, handle: null };
    }
    return { full, handle, size: stat.size };
  }

  #notFound(path, full) {
    return new SentenceWasmError('MODEL_NOT_FOUND', `${path}: file not found in ${this.description} (looked for ${full})`);
  }

  /** Fills `buf` from `position`; a short file means it changed under us. */
  async #readFully(handle, buf, position, path, onChunk) {
    let done = 0;
    while (done < buf.length) {
      throwIfAborted(this.#signal, path);
      const want = Math.min(READ_SLICE, buf.length - done);
      const { bytesRead } = await handle.read(buf, done, want, position + done);
      if (bytesRead === 0) {
        fail('FETCH_FAILED', `${path}: file ended after ${position + done} bytes while reading (changed on disk?)`);
      }
      done += bytesRead;
      onChunk?.(done);
    }
  }

  async readBytes(path, { optional = false } = {}) {
    const { full, handle, size } = await this.#open(path);
    if (!handle) {
      if (optional) return null;
      throw this.#notFound(path, full);
    }
    try {
      this.#report({ status: 'initiate', file: path, loaded: 0, total: size });
      const buf = new Uint8Array(size);
      await this.#readFully(handle, buf, 0, path, (loaded) => {
        if (loaded < size) this.#report({ status: 'progress', file: path, loaded, total: size });
      });
      this.#report({ status: 'done', file: path, loaded: size, total: size });
      return buf;
    } finally {
      await handle.close();
    }
  }

  /** Reads only the length field and the JSON header, not the weights. */
  async readSafetensorsHeader(path) {
    const { full, handle, size } = await this.#open(path);
    if (!handle) throw this.#notFound(path, full);
    try {
      const first8 = new Uint8Array(Math.min(8, size));
      await this.#readFully(handle, first8, 0, path);
      const n = readHeaderLength(first8, size, path);
      const header = new Uint8Array(n);
      await this.#readFully(handle, header, 8, path);
      return parseSafetensorsHeader(header, size, path);
    } finally {
      await handle.close();
    }
  }

  /**
   * A safetensors file to be read where it lies (model_files.js readWeights):
   * its checked header, its size and its absolute path. Progress: 'initiate'
   * here; the worker that reads the tensors reports the rest.
   * @returns {Promise<{ diskPath: string, size: number, parsed: ReturnType<typeof parseSafetensorsHeader> }>}
   */
  async openSafetensors(path) {
    const { full, handle, size } = await this.#open(path);
    if (!handle) throw this.#notFound(path, full);
    try {
      if (size < 8) fail('BAD_SAFETENSORS', `${path}: file is ${size} bytes, too short for a safetensors header`);
      this.#report({ status: 'initiate', file: path, loaded: 0, total: size });
      const first8 = new Uint8Array(8);
      await this.#readFully(handle, first8, 0, path);
      const header = new Uint8Array(readHeaderLength(first8, size, path));
      await this.#readFully(handle, header, 8, path);
      // 'progress' and 'done' come from the worker as it reads the tensors
      // (pipelines/weights.js), through the load call's onProgress.
      return { diskPath: full, size, parsed: parseSafetensorsHeader(header, size, path) };
    } finally {
      await handle.close();
    }
  }

  async readTensorBytes(path, begin, end) {
    const { full, handle, size } = await this.#open(path);
    if (!handle) throw this.#notFound(path, full);
    try {
      checkRange(path, begin, end, size);
      const buf = new Uint8Array(end - begin);
      await this.#readFully(handle, buf, begin, path);
      return buf;
    } finally {
      await handle.close();
    }
  }
}

function checkRange(path, begin, end, size) {
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || begin > end || end > size) {
    fail('BAD_SAFETENSORS', `${path}: byte range [${begin}, ${end}] is outside the file (${size} bytes)`);
  }
}

// --- URL and Hub -------------------------------------------------------------

/** content-length as a number, or undefined when absent or not the body's size. */
function contentLength(res) {
  const headers = res.headers;
  if (!headers || typeof headers.get !== 'function') return undefined;
  // With a content-encoding, content-length counts compressed bytes while
  // fetch hands us decompressed ones, so it says nothing about our total.
  const enc = headers.get('content-encoding');
  if (enc && enc.trim().toLowerCase() !== 'identity') return undefined;
  const raw = headers.get('content-length');
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

class HttpSource extends SourceBase {
  #fetch;
  #baseUrl;
  #signal;
  #report;
  #hint;
  #store;
  /** Last safetensors file downloaded: { path, promise } so tensors are views of it. */
  #cache = null;

  constructor(kind, baseUrl, description, fetchFn, { signal, onProgress, store = null }, hint = '') {
    super();
    this.kind = kind;
    this.base = baseUrl.href;
    this.description = description;
    this.#fetch = fetchFn;
    this.#baseUrl = baseUrl;
    this.#signal = signal;
    this.#report = makeReporter(onProgress);
    this.#hint = hint;
    this.#store = store;
  }

  /** Each segment is percent-encoded, so no segment can act as '..', '?' or '#'. */
  #fileUrl(path) {
    const segments = validateModelPath(path);
    const url = new URL(this.#baseUrl.href);
    url.pathname = this.#baseUrl.pathname + segments.map(encodeURIComponent).join('/');
    return url.href;
  }

  async readBytes(path, { optional = false } = {}) {
    const url = this.#fileUrl(path);
    const signal = this.#signal;
    throwIfAborted(signal, path);

    const store = this.#store;
    if (store) {
      const hit = await store.get(url);
      throwIfAborted(signal, path);
      if (hit === 'missing') {
        if (optional) return null;
      } else if (hit) {
        this.#report({ status: 'initiate', file: path, loaded: 0, total: hit.length });
        this.#report({ status: 'done', file: path, loaded: hit.length, total: hit.length });
        return hit;
      }
    }

    // Called through a local, not as this.#fetch(...): a browser's fetch
    // throws "Illegal invocation" when its `this` is some other object.
    const fetchFn = this.#fetch;
    let res;
    try {
      res = await fetchFn(url, signal ? { signal } : undefined);
    } catch (e) {
      if (signal?.aborted || e?.name === 'AbortError') throw abortedError(signal, path);
      throw new SentenceWasmError('FETCH_FAILED', `${path}: network error fetching ${url}: ${e?.message ?? e}`, { cause: e });
    }

    if (res.status === 404) {
      discard(res);
      if (optional) {
        await store?.putMissing(url);
        return null;
      }
      fail('MODEL_NOT_FOUND', `${path}: not found at ${url} (HTTP 404)`);
    }
    if (!res.ok) {
      discard(res);
      fail('FETCH_FAILED', `${path}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${url}` +
        (res.status === 401 || res.status === 403 ? this.#hint : ''));
    }
    const bytes = await this.#readBody(res, path, url);
    // Only a complete download (#readBody checked its length) is stored.
    await store?.put(url, bytes);
    return bytes;
  }

  async #readBody(res, path, url) {
    const signal = this.#signal;
    const report = this.#report;
    const total = contentLength(res);
    report({ status: 'initiate', file: path, loaded: 0, total });

    const reader = res.body && typeof res.body.getReader === 'function' ? res.body.getReader() : null;
    let bytes;
    if (!reader) {
      // Response-like objects without a stream (some fetch polyfills).
      bytes = new Uint8Array(await res.arrayBuffer());
      throwIfAborted(signal, path);
    } else {
      bytes = await this.#stream(reader, total, path, url);
    }
    if (total !== undefined && bytes.length !== total) {
      fail('FETCH_FAILED', `${path}: truncated download: got ${bytes.length} of ${total} bytes from ${url}`);
    }
    report({ status: 'done', file: path, loaded: bytes.length, total: bytes.length });
    return bytes;
  }

  async #stream(reader, total, path, url) {
    const signal = this.#signal;
    // Known size: one buffer filled in place, no concatenation copy.
    let buf = null;
    if (total !== undefined) {
      try {
        buf = new Uint8Array(total);
      } catch {
        reader.cancel().catch(() => {});
        fail('FETCH_FAILED', `${path}: content-length ${total} is too large to allocate (${url})`);
      }
    }
    const chunks = [];
    let loaded = 0;
    try {
      for (;;) {
        if (signal?.aborted) {
          reader.cancel().catch(() => {});
          throw abortedError(signal, path);
        }
        const { done, value } = await reader.read();
        if (done) break;
        if (buf) {
          if (loaded + value.length > total) {
            reader.cancel().catch(() => {});
            fail('FETCH_FAILED', `${path}: received more than the ${total} bytes announced by content-length (${url})`);
          }
          buf.set(value, loaded);
        } else {
          chunks.push(value);
        }
        loaded += value.length;
        this.#report({ status: 'progress', file: path, loaded, total });
      }
    } catch (e) {
      if (e instanceof SentenceWasmError) throw e;
      if (signal?.aborted) throw abortedError(signal, path);
      const what = total !== undefined
        ? `truncated download: got ${loaded} of ${total} bytes`
        : `download failed after ${loaded} bytes`;
      throw new SentenceWasmError('FETCH_FAILED', `${path}: ${what} from ${url} (${e?.message ?? e})`, { cause: e });
    }
    if (buf) return loaded === total ? buf : buf.subarray(0, loaded);
    if (chunks.length === 1) return chunks[0];
    const out = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) { out.set(c, at); at += c.length; }
    return out;
  }

  /** Bytes of a whole safetensors file, downloaded once and kept for readTensorBytes. */
  #fileBytes(path) {
    if (this.#cache?.path !== path) {
      const promise = this.readBytes(path);
      const entry = { path, promise };
      this.#cache = entry;
      // A failed download must not stay cached.
      promise.catch(() => { if (this.#cache === entry) this.#cache = null; });
    }
    return this.#cache.promise;
  }

  async readSafetensorsHeader(path) {
    validateModelPath(path);
    const bytes = await this.#fileBytes(path);
    const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, path);
    return parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, path);
  }

  async readTensorBytes(path, begin, end) {
    validateModelPath(path);
    const bytes = await this.#fileBytes(path);
    checkRange(path, begin, end, bytes.length);
    return bytes.subarray(begin, end);
  }

  close() {
    this.#cache = null;
  }
}

/** Frees the connection of a response whose body we will not read. */
function discard(res) {
  try { res.body?.cancel?.().catch(() => {}); } catch { /* nothing to free */ }
}

// --- choosing a source ---------------------------------------------------------

async function nodeFs() {
  const [fs, path] = await Promise.all([nodeBuiltin('fs/promises'), nodeBuiltin('path')]);
  return { fs, path };
}

/**
 * @param {string} source a folder path or file: URL (Node), an http(s) URL of a
 *   model folder, or a Hub id 'org/name'
 * @param {{ revision?: string, fetch?: typeof fetch, hubUrl?: string,
 *   onProgress?: (e: { status: 'initiate'|'progress'|'done', file: string,
 *     loaded: number, total?: number }) => void, signal?: AbortSignal,
 *   cache?: boolean | string }} [options] cache: see cache.js
 * @returns {Promise<FolderSource|HttpSource>}
 */
export async function openSource(source, {
  revision = 'main', fetch: userFetch, hubUrl = 'https://huggingface.co', onProgress, signal, cache,
} = {}) {
  if (source instanceof URL) source = source.href;
  if (typeof source !== 'string' || source.trim() === '') {
    fail('INVALID_INPUT', `model source must be ${ACCEPTED_FORMS}; got ${source === '' ? 'an empty string' : typeof source}`);
  }
  throwIfAborted(signal, source);
  const ctx = { signal, onProgress };
  // The cache option is checked for every source, but a store is opened only
  // for URL and Hub sources: local folders are never cached.
  const openStore = async () => {
    const store = await openCache(cache);
    throwIfAborted(signal, source);
    return { ...ctx, store };
  };
  checkCacheOption(cache);

  const httpFetch = () => {
    const f = userFetch ?? globalThis.fetch;
    if (typeof f !== 'function') fail('INVALID_INPUT', `no fetch function available to load ${source}; pass options.fetch`);
    return f;
  };

  if (/^https?:\/\//i.test(source)) {
    let url;
    try {
      url = new URL(source);
    } catch {
      fail('MODEL_NOT_FOUND', `model source ${JSON.stringify(source)} is not a valid URL`);
    }
    // The base is a folder: files resolve under it, never beside it.
    url.hash = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    return new HttpSource('url', url, `URL ${url.href}`, httpFetch(), await openStore());
  }

  if (/^file:/i.test(source)) {
    if (!IS_NODE) fail('MODEL_NOT_FOUND', `local folder ${source} can only be opened in Node`);
    const { fileURLToPath } = await nodeBuiltin('url');
    let p;
    try {
      p = fileURLToPath(source);
    } catch (e) {
      fail('MODEL_NOT_FOUND', `model source ${source} is not a usable file: URL (${e.message})`);
    }
    return openFolder(p, ctx, true);
  }

  // A folder on disk wins over a Hub id of the same spelling, as in
  // sentence-transformers: a local copy 'org/name' is used as is.
  if (IS_NODE) {
    const folder = await openFolder(source, ctx, false);
    if (folder) return folder;
  }

  if (HUB_ID.test(source)) {
    if (typeof revision !== 'string' || revision === '') {
      fail('INVALID_INPUT', `revision must be a non-empty string, got ${JSON.stringify(revision)}`);
    }
    const [org, name] = source.split('/');
    let url;
    try {
      url = new URL(`${String(hubUrl).replace(/\/+$/, '')}/${org}/${name}/resolve/${encodeURIComponent(revision)}/`);
    } catch {
      fail('INVALID_INPUT', `hubUrl ${JSON.stringify(hubUrl)} is not a valid URL`);
    }
    return new HttpSource('hub', url, `Hub model ${source} (revision ${revision}, ${url.href})`, httpFetch(), await openStore(),
      ' (the Hub answers 401/403 for private, gated or non-existent repositories)');
  }

  let where = '';
  if (IS_NODE) {
    const { path } = await nodeFs();
    where = `no folder at ${path.resolve(source)}; `;
  }
  return fail('MODEL_NOT_FOUND', `model ${JSON.stringify(source)} not found: ${where}expected ${ACCEPTED_FORMS}`);
}

/**
 * A FolderSource for a directory, or null when nothing is there and
 * `mustExist` is false (the caller then tries other forms).
 */
async function openFolder(p, ctx, mustExist) {
  const { fs, path } = await nodeFs();
  const abs = path.resolve(p);
  let stat = null;
  try {
    stat = await fs.stat(abs);
  } catch (e) {
    if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') {
      throw new SentenceWasmError('MODEL_NOT_FOUND', `model folder ${abs} cannot be read: ${e.message}`, { cause: e });
    }
  }
  if (!stat) {
    if (!mustExist) return null;
    fail('MODEL_NOT_FOUND', `model folder not found: ${abs}`);
  }
  if (!stat.isDirectory()) fail('MODEL_NOT_FOUND', `model source ${abs} is a file, not a model folder`);
  return new FolderSource(abs, fs, path.join, ctx);
}
