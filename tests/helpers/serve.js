// Test-only static HTTP server on 127.0.0.1 (random port): serves a model
// folder (or an in-memory map of files) the way a static host or the Hugging
// Face Hub would, logs every request path, and can be told to fail a file
// with an HTTP status, to truncate it mid-body, or to omit content-length.
// Tests never touch the internet; this is the only server they talk to.

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @param {string | URL | Map<string, string|Uint8Array> | Record<string, string|Uint8Array>} rootOrMap
 *   a folder (path or file: URL) or a map from relative path ('1_Pooling/config.json') to content
 * @param {{ hubPrefix?: string }} [options]
 *   hubPrefix: also answer Hub-style URLs `/<hubPrefix>/<org>/<name>/resolve/<rev>/<file>`
 *   (any org, name and revision) from the same files; `hubUrl` is then the value to pass
 *   as openSource's `hubUrl`.
 * @returns {Promise<{ url: string, hubUrl?: string, close(): Promise<void>, requests: string[],
 *   fail: Map<string, { status: number } | { truncate: number } | { chunked: true }> }>}
 *   url ends with '/'; requests holds each request's raw path ('/config.json'); fail is keyed
 *   by the file's relative path and applies in both plain and Hub layouts.
 */
export async function serveFolder(rootOrMap, { hubPrefix } = {}) {
  const requests = [];
  const fail = new Map();
  const loadFile = makeLoader(rootOrMap);

  // '/hub/' for hubPrefix 'hub' or '/hub'; '/' for ''.
  const hubBase = hubPrefix === undefined ? null : `/${String(hubPrefix).replace(/^\/+|\/+$/g, '')}/`.replace('//', '/');

  const server = createServer(async (req, res) => {
    requests.push(req.url);
    try {
      if (req.method !== 'GET') return send(res, 405, 'method not allowed');
      const rel = relativePath(new URL(req.url, 'http://x').pathname, hubBase);
      if (rel === null) return send(res, 404, 'not found');

      const rule = fail.get(rel);
      if (rule && 'status' in rule) return send(res, rule.status, `forced status ${rule.status}`);

      const body = await loadFile(rel);
      if (body === null) return send(res, 404, 'not found');

      if (rule && 'truncate' in rule) {
        // Promise the whole file, send part of it, then drop the connection:
        // what a client sees when a download dies midway.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        res.write(body.subarray(0, rule.truncate), () => res.socket?.destroy());
        return undefined;
      }
      if (rule && rule.chunked) {
        // No content-length: the client cannot know the total in advance.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const step = Math.max(1, Math.ceil(body.length / 4));
        for (let i = 0; i < body.length; i += step) res.write(body.subarray(i, i + step));
        return res.end();
      }
      res.writeHead(200, { 'content-type': contentType(rel), 'content-length': body.length });
      return res.end(body);
    } catch (e) {
      return send(res, 500, String(e && e.message));
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;

  return {
    url,
    hubUrl: hubBase === null ? undefined : url + hubBase.slice(1, -1),
    requests,
    fail,
    close() {
      // Clients keep connections alive; drop them so close() resolves now.
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function contentType(rel) {
  if (rel.endsWith('.json')) return 'application/json';
  if (rel.endsWith('.txt') || rel.endsWith('.md')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

/**
 * Request pathname -> file path relative to the served root, or null when it
 * names nothing servable (traversal, empty segment, not under the Hub layout).
 */
function relativePath(pathname, hubBase) {
  let rest = pathname;
  if (hubBase !== null && pathname.startsWith(hubBase)) {
    // <org>/<name>/resolve/<rev>/<file...>; the revision is one encoded segment.
    const m = /^([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname.slice(hubBase.length));
    if (m) rest = `/${m[4]}`;
  }
  const segments = rest.slice(1).split('/').map((s) => {
    try { return decodeURIComponent(s); } catch { return ''; }
  });
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\'))) return null;
  return segments.join('/');
}

function makeLoader(rootOrMap) {
  if (typeof rootOrMap === 'string' || rootOrMap instanceof URL) {
    const root = rootOrMap instanceof URL ? fileURLToPath(rootOrMap) : rootOrMap;
    return async (rel) => {
      try {
        return new Uint8Array(await readFile(join(root, ...rel.split('/'))));
      } catch (e) {
        if (e.code === 'ENOENT' || e.code === 'EISDIR' || e.code === 'ENOTDIR') return null;
        throw e;
      }
    };
  }
  const entries = rootOrMap instanceof Map ? rootOrMap : new Map(Object.entries(rootOrMap));
  return async (rel) => {
    const v = entries.get(rel);
    if (v === undefined) return null;
    return typeof v === 'string' ? new TextEncoder().encode(v) : v;
  };
}
