#!/usr/bin/env node
// A tiny dependency-free static server for the demo and the browser tests.
//
//   node www/serve.mjs [--host 127.0.0.1] [--port 8080] [dir ...]
//
// Serves the directories in order (the first that has the file wins; default: `www` then
// `www/public`, the way Vite serves `public/`), with the two headers that make the page
// cross-origin isolated, without which there is no SharedArrayBuffer and so no threaded build:
//   Cross-Origin-Opener-Policy: same-origin
//   Cross-Origin-Embedder-Policy: require-corp
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.zkey': 'application/octet-stream',
};

function parseArgs(argv) {
  const opts = { host: '127.0.0.1', port: 8080, dirs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--host') opts.host = argv[++i];
    else if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node serve.mjs [--host 127.0.0.1] [--port 8080] [dir ...]');
      process.exit(0);
    } else opts.dirs.push(a);
  }
  if (opts.dirs.length === 0) {
    const www = fileURLToPath(new URL('.', import.meta.url));
    opts.dirs = [www, join(www, 'public')];
  }
  opts.dirs = opts.dirs.map((d) => resolve(d));
  return opts;
}

/** The file for a URL path in one of the roots, or null. Never leaves a root. */
async function find(dirs, urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  for (const root of dirs) {
    let file = resolve(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) continue;
    try {
      let st = await stat(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = await stat(file);
      }
      if (st.isFile()) return { file, size: st.size };
    } catch {
      // Not in this root: try the next.
    }
  }
  return null;
}

const opts = parseArgs(process.argv.slice(2));

const server = createServer(async (req, res) => {
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-cache');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  const path = new URL(req.url, 'http://localhost').pathname;
  const found = await find(opts.dirs, path);
  if (!found) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${path}\n`);
    return;
  }
  res.writeHead(200, {
    'Content-Type': MIME[extname(found.file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': found.size,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(found.file).pipe(res);
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  console.log(`airprover demo: http://${opts.host}:${port}/  (serving ${opts.dirs.join(', ')})`);
});
