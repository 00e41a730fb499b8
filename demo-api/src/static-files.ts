/**
 * Static files (the built demo app) with SPA fallback, confined to one root directory: no `..`,
 * no encoded backslash or NUL, no symlink leading out. No state but the root, fixed at start.
 */
import { createReadStream, realpathSync, statSync, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';

import { HttpError } from './http-json.ts';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

/** Resolves a URL path (still percent-encoded) to a file path strictly inside `root`, or null. */
export function resolveInside(root: string, encodedPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encodedPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const resolved = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  // The normalize above already clamps `..` at '/', this is the belt to those braces.
  const relative = path.relative(root, resolved);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  // Refuse literal traversal attempts outright instead of clamping them into the root.
  if (decoded.split('/').includes('..')) return null;
  return resolved;
}

function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** `dir` resolved through symlinks when it is a directory, else null (nothing is served then). */
export function openStaticRoot(dir: string | undefined): string | null {
  if (dir === undefined) return null;
  try {
    const real = realpathSync(dir);
    return statSync(real).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

async function fileAt(file: string): Promise<Stats | null> {
  try {
    const info = await stat(file);
    return info.isFile() ? info : null;
  } catch {
    return null;
  }
}

/** `root`'s real file for `pathname` (itself, its index.html, or the SPA shell); a 404 `HttpError` otherwise. */
async function locateFile(root: string, pathname: string): Promise<{ readonly real: string; readonly info: Stats }> {
  const notFound = new HttpError(404, 'not_found', 'No such resource');
  const resolved = resolveInside(root, pathname);
  if (resolved === null) throw notFound;

  let file = resolved;
  let info = await fileAt(file);
  if (!info) {
    const index = path.join(resolved, 'index.html');
    info = await fileAt(index);
    if (info) file = index;
  }
  if (!info) {
    const lastSegment = pathname.slice(pathname.lastIndexOf('/') + 1);
    if (lastSegment.includes('.')) throw notFound;
    // SPA fallback: client-side routes get the app shell.
    file = path.join(root, 'index.html');
    info = await fileAt(file);
    if (!info) throw notFound;
  }
  // Symlinks must not lead out of the root either.
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw notFound;
  }
  const rel = path.relative(root, real);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw notFound;
  return { real, info };
}

/** Answers a GET or HEAD for `pathname` (no query) from `root`. */
export async function serveStatic(
  root: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  pathname: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`, { Allow: 'GET, HEAD' });
  }
  const { real, info } = await locateFile(root, pathname);
  const isHtml = path.extname(real).toLowerCase() === '.html';
  res.writeHead(200, {
    'Content-Type': contentTypeFor(real),
    'Content-Length': String(info.size),
    'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=0',
    'X-Content-Type-Options': 'nosniff',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  await new Promise<void>((resolve) => {
    const stream = createReadStream(real);
    stream.on('error', () => {
      res.destroy();
      resolve();
    });
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}
