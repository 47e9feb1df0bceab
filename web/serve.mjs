#!/usr/bin/env node
// A small static server for the demo (web/) and the browser tests: serves a
// folder (the repository root by default) on 127.0.0.1 with the MIME types a
// browser needs for ES modules and WebAssembly, and with the two headers that
// make pages cross-origin isolated (SharedArrayBuffer, WebAssembly threads):
//
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
//
//   npm run serve                          # http://127.0.0.1:8080/web/
//   node web/serve.mjs --port 0            # any free port (printed)
//   node web/serve.mjs --no-isolation      # without COOP/COEP
//   node web/serve.mjs --root some/dir     # another folder
//
// Imported, startServer() does the same for tests and keeps a log of the
// request paths. Responses are never cacheable (Cache-Control: no-store), so
// a request the browser does not make was answered by sentence-wasm's own
// cache, not by the HTTP cache.
import { createServer } from 'node:http';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
};

export function mimeType(file) {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * @param {{ root?: string, port?: number, host?: string, isolation?: boolean, log?: boolean }} [options]
 * @returns {Promise<{ url: string, root: string, isolation: boolean, requests: string[], close(): Promise<void> }>}
 *   url ends with '/'; requests holds every request's path (with query), in order.
 */
export async function startServer({ root = REPO_ROOT, port = 8080, host = '127.0.0.1', isolation = true, log = false } = {}) {
  const base = path.resolve(root);
  const requests = [];

  const server = createServer(async (req, res) => {
    requests.push(req.url);
    const headers = {
      'cache-control': 'no-store',
      // Lets pages on other origins (another port) fetch models from here, also under COEP.
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'x-content-type-options': 'nosniff',
    };
    if (isolation) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
    }
    const finish = (status, extra = {}, body = '') => {
      res.writeHead(status, { ...headers, ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return finish(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }, 'method not allowed\n');
      }
      const { pathname } = new URL(req.url, 'http://localhost');
      if (pathname === '/' && root === REPO_ROOT) return finish(302, { location: '/web/' });

      const file = resolveInside(base, pathname);
      if (!file) return finish(404, { 'content-type': 'text/plain' }, 'not found\n');
      let target = file;
      let info = await stat(target).catch(() => null);
      if (info?.isDirectory()) {
        if (!pathname.endsWith('/')) return finish(301, { location: `${pathname}/` });
        target = path.join(target, 'index.html');
        info = await stat(target).catch(() => null);
      }
      if (!info?.isFile()) return finish(404, { 'content-type': 'text/plain' }, 'not found\n');

      res.writeHead(200, { ...headers, 'content-type': mimeType(target), 'content-length': info.size });
      if (req.method === 'HEAD') {
        res.end();
      } else {
        const handle = await open(target, 'r');
        const stream = handle.createReadStream();
        stream.on('error', () => res.destroy());
        stream.pipe(res);
      }
      if (log) console.log(`200 ${req.method} ${req.url}`);
      return undefined;
    } catch (e) {
      if (!res.headersSent) return finish(500, { 'content-type': 'text/plain' }, `${e?.message ?? e}\n`);
      res.destroy();
      return undefined;
    }
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: actual } = server.address();
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/`,
    root: base,
    isolation,
    requests,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The file a URL path names under `base`, or null when it would leave it. */
function resolveInside(base, pathname) {
  const segments = [];
  for (const raw of pathname.split('/')) {
    if (raw === '') continue;
    let s;
    try { s = decodeURIComponent(raw); } catch { return null; }
    if (s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0')) return null;
    segments.push(s);
  }
  const full = path.join(base, ...segments);
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

const USAGE = `usage: node web/serve.mjs [--port N] [--host ADDR] [--root DIR] [--no-isolation] [--quiet]
Serves DIR (default: the repository root) with COOP/COEP headers, so pages are
cross-origin isolated; --no-isolation leaves the two headers out.`;

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        root: { type: 'string' },
        'no-isolation': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`serve: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port must be a number from 0 to 65535, got ${values.port}`);
    process.exit(2);
  }
  const root = values.root ? path.resolve(values.root) : REPO_ROOT;
  const isolation = !values['no-isolation'];
  let server;
  try {
    server = await startServer({ root, port, host: values.host, isolation, log: !values.quiet });
  } catch (e) {
    console.error(`serve: cannot listen on ${values.host}:${port}: ${e.message}`);
    process.exit(1);
  }
  const page = root === REPO_ROOT ? `${server.url}web/` : server.url;
  console.log(`serving ${root} at ${page} (cross-origin isolated: ${isolation ? 'yes' : 'no, --no-isolation'})`);
  const stop = () => server.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
