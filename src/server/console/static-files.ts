/** Serves the built web app (ui/dist) to browsers: index.html at `/`, hashed files under /assets/. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const MISSING = `<!doctype html><meta charset="utf-8"><title>Kiln</title>
<p>Kiln Studio has not been built. Run <code>npm run build:ui</code> (npm install does it), then reload.</p>`;

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const relative = pathname === '/' || pathname === '/index.html' ? 'index.html' : pathname.startsWith('/assets/') ? pathname.slice(1) : undefined;
  if (!relative) return false;
  const file = path.join(root, relative);
  if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
    if (relative !== 'index.html') return false;
    res.writeHead(200, { 'content-type': TYPES['.html']!, 'content-length': Buffer.byteLength(MISSING) });
    res.end(req.method === 'HEAD' ? undefined : MISSING);
    return true;
  }
  const size = statSync(file).size;
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    // Asset names carry a content hash; index.html must always be fetched fresh.
    'cache-control': relative === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    ...(relative === 'index.html' ? { 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'" } : {}),
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
