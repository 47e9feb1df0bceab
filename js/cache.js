/**
 * @file A cache of downloaded model files, keyed by the file's URL, so a
 * second load() of the same source and revision makes no network request.
 *
 * The `cache` load option picks the store:
 *  - browsers (and Web Workers): the Cache API (`caches`), on by default;
 *    `cache: 'name'` uses a Cache API cache of that name instead of
 *    'sentence-wasm'; `cache: false` turns it off. Where `caches` does not
 *    exist (an insecure http: origin that is not localhost) nothing is cached.
 *  - Node: off by default; `cache: '/path/to/dir'` keeps files in that folder,
 *    laid out like the URL (`<dir>/huggingface.co/org/name/resolve/main/config.json`).
 *
 * Hub URLs carry the revision (`/resolve/<revision>/`), so another revision is
 * another entry. A branch name such as 'main' is cached as it was first
 * downloaded: pin a commit hash, or pass cache: false, to see new commits.
 * Optional files the server answered 404 for are remembered as missing, so a
 * cached load asks the network for nothing at all.
 *
 * A cache never breaks a load: a store that cannot be read or written acts as
 * a miss, and only complete, checked downloads are stored. Local folders are
 * never cached.
 *
 * This module must load in a browser: Node builtins are imported dynamically,
 * and only for a folder store.
 */
import { SentenceWasmError } from './errors.js';

const IS_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * A Node builtin, imported by a computed name: bundlers building for browsers
 * then leave the import alone instead of failing on it (it never runs there).
 */
const nodeBuiltin = (name) => import(/* webpackIgnore: true */ /* @vite-ignore */ `node:${name}`);

/** Cache API cache name used when `cache` is true or unset in a browser. */
export const DEFAULT_CACHE_NAME = 'sentence-wasm';

/** Marks an entry that records "this optional file does not exist". */
const MISSING_HEADER = 'x-sentence-wasm-missing';

/**
 * The store for a `cache` option value, or null when nothing is cached.
 * @param {boolean | string | undefined} option
 * @returns {Promise<{ description: string, get(url: string): Promise<Uint8Array | 'missing' | null>,
 *   put(url: string, bytes: Uint8Array): Promise<void>, putMissing(url: string): Promise<void> } | null>}
 */
export async function openCache(option) {
  checkCacheOption(option);
  if (option === undefined || option === null) option = !IS_NODE;
  if (option === false) return null;
  if (IS_NODE) {
    // Node has no persistent Cache API; only a folder caches there.
    return typeof option === 'string' ? folderStore(option) : null;
  }
  return cacheApiStore(option === true ? DEFAULT_CACHE_NAME : option);
}

/** Throws INVALID_INPUT unless `option` is undefined, a boolean or a non-empty string. */
export function checkCacheOption(option) {
  if (option === undefined || option === null || typeof option === 'boolean') return;
  if (typeof option === 'string' && option.trim() !== '') return;
  throw new SentenceWasmError('INVALID_INPUT',
    `load: cache must be true, false or a non-empty string (a folder in Node, a Cache API name in browsers), got ${describe(option)}`);
}

function describe(v) {
  if (typeof v === 'string') return 'an empty string';
  return v === null ? 'null' : typeof v;
}

// --- Cache API (browsers, Web Workers) --------------------------------------------

async function cacheApiStore(name) {
  const storage = globalThis.caches;
  if (!storage || typeof storage.open !== 'function') return null;
  let cache;
  try {
    cache = await storage.open(name);
  } catch {
    return null; // e.g. storage disabled by the user or a private window
  }
  return {
    description: `Cache API cache "${name}"`,
    async get(url) {
      try {
        const res = await cache.match(url);
        if (!res) return null;
        if (res.headers.get(MISSING_HEADER) === '1') return 'missing';
        const bytes = new Uint8Array(await res.arrayBuffer());
        const size = res.headers.get('content-length');
        // A short body (storage trouble) is a miss, never a truncated model file.
        if (size !== null && Number(size) !== bytes.length) return null;
        return bytes;
      } catch {
        return null;
      }
    },
    async put(url, bytes) {
      try {
        // The Response constructor copies the bytes, so the caller may transfer them afterwards.
        await cache.put(url, new Response(bytes, {
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
        }));
      } catch { /* quota exceeded or storage unavailable: just not cached */ }
    },
    async putMissing(url) {
      try {
        await cache.put(url, new Response('', { headers: { [MISSING_HEADER]: '1' } }));
      } catch { /* see put */ }
    },
  };
}

// --- folder (Node) -------------------------------------------------------------------

async function folderStore(dir) {
  const [fs, path, crypto] = await Promise.all([
    nodeBuiltin('fs/promises'), nodeBuiltin('path'), nodeBuiltin('crypto')]);
  const root = path.resolve(dir);

  /** <root>/<host>/<path segments>; a query string is hashed into the file name. */
  const fileFor = (href) => {
    const url = new URL(href);
    const host = url.host.replace(/[^A-Za-z0-9._-]/g, '_');
    // The URL parser already resolved '.' and '..'; segments stay percent-encoded.
    const segments = url.pathname.split('/').filter((s) => s !== '' && s !== '.' && s !== '..');
    if (segments.length === 0) segments.push('_');
    if (url.search) {
      const h = crypto.createHash('sha256').update(url.search).digest('hex').slice(0, 16);
      segments[segments.length - 1] += `@${h}`;
    }
    return path.join(root, host, ...segments);
  };

  /** Writes next to the target and renames, so readers never see half a file. */
  const writeAtomic = async (file, data) => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, data);
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw e;
    }
  };

  return {
    description: `cache folder ${root}`,
    async get(url) {
      const file = fileFor(url);
      try {
        const buf = await fs.readFile(file);
        return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      } catch { /* not cached (or unreadable): fall through */ }
      try {
        await fs.access(`${file}.missing`);
        return 'missing';
      } catch {
        return null;
      }
    },
    async put(url, bytes) {
      try {
        await writeAtomic(fileFor(url), bytes);
      } catch { /* read-only or full disk: just not cached */ }
    },
    async putMissing(url) {
      try {
        await writeAtomic(`${fileFor(url)}.missing`, '');
      } catch { /* see put */ }
    },
  };
}
