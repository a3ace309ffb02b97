// A static server for browser tests: the package under /pkg/, test pages, and key fixtures,
// with or without the COOP/COEP headers that make a page cross-origin isolated.
import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  // The claim app's build (tests/e2e): a stylesheet with another type is not applied.
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves `mounts` ({ '/pkg/': dir, '/': dir }) on 127.0.0.1 and a free port.
 * `isolated` adds COOP same-origin + COEP require-corp. Returns { url, close, requests }.
 */
export async function startServer({ mounts, isolated }) {
  const roots = Object.entries(mounts).map(([prefix, dir]) => [prefix, resolve(dir)]);
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    requests.push(path);
    for (const [prefix, root] of roots) {
      if (!path.startsWith(prefix)) continue;
      const file = resolve(join(root, path.slice(prefix.length)));
      if (file !== root && !file.startsWith(root + sep)) break;
      try {
        const st = await stat(file);
        if (!st.isFile()) continue;
        const headers = {
          'content-type': MIME[extname(file)] ?? 'application/octet-stream',
          'content-length': st.size,
          'cache-control': 'no-store',
        };
        if (isolated) {
          headers['cross-origin-opener-policy'] = 'same-origin';
          headers['cross-origin-embedder-policy'] = 'require-corp';
        }
        res.writeHead(200, headers);
        createReadStream(file).pipe(res);
        return;
      } catch {
        // not under this mount: try the next
      }
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((ok) => server.close(ok)),
  };
}
