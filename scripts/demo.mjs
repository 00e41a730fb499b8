#!/usr/bin/env node
/**
 * `npm run demo -- --config FILE [--port N] [--build]`: serves the built demo app alone on
 * 127.0.0.1 (default port 4300), with FILE as its config.json, against any JWT API.
 *
 * A tiny static server (node:http, no dependencies) with SPA fallback. Builds the demo first when
 * no build exists (`--build` forces a rebuild). FILE is read on every request, so edits apply on
 * reload (a mistake made then shows on the app's error page). Mistakes in FILE at start-up are
 * printed with the file, line and column, and exit with status 2. When the API is on another
 * origin, it must allow CORS from this server's origin.
 */
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { pathToFileURL } from 'node:url';

import { browserDir, ensureBuild, root } from './lib/demo-build.mjs';

const HOST = '127.0.0.1';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

function usage(message) {
  if (message) console.error(`demo: ${message}\n`);
  console.error('Usage: npm run demo -- --config FILE [--port N] [--build]');
  console.error('  --config FILE  the config.json to serve (apiBaseUrl, loginUrl, refreshUrl, logoutUrl,');
  console.error('                 restrictedUrl, foreignUrl, usernameField, storage, crossTabSync, idleSeconds)');
  console.error('  --port N       port on 127.0.0.1 (default 4300; 0 picks a free one)');
  console.error('  --build        rebuild the demo app first (it is built anyway when no build exists)');
  process.exit(message ? 2 : 0);
}

/**
 * Checks FILE with the demo app's own checks (demo-app/src/app/config-check.ts): a mistake is
 * reported with the file (and line and column for malformed JSON) and exits 2 before anything is
 * served. Returns the API's origin when it is another one.
 */
async function checkConfig(file) {
  const { tsImport } = await import('tsx/esm/api');
  const check = await tsImport(pathToFileURL(path.join(root, 'demo-app', 'src', 'app', 'config-check.ts')).href, {
    parentURL: import.meta.url,
  });
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    console.error(`demo: cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(2);
  }
  try {
    const origin = `http://${HOST}:${opts.port || 4300}`;
    const config = check.parseDemoConfig(check.parseConfigText(text, file), { href: `${origin}/`, origin });
    return config.apiOrigin;
  } catch (e) {
    if (!(e instanceof check.DemoConfigError)) throw e;
    console.error(`demo: ${e.message.startsWith(file) ? e.message : `${file}: ${e.message}`}`);
    for (const problem of e.problems) console.error(`  - ${problem}`);
    console.error('\nA config.json that works (URLs relative to apiBaseUrl):');
    console.error(JSON.stringify(check.CONFIG_EXAMPLE, null, 2));
    process.exit(2);
  }
}

function parseArgs(argv) {
  const opts = { config: null, port: 4300, build: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') usage(`${name} needs a value`);
      return v;
    };
    if (name === '--config' || name === '-c') opts.config = value();
    else if (name === '--port' || name === '-p') {
      const raw = value();
      const port = Number(raw);
      if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`--port must be an integer 0-65535, got "${raw}"`);
      opts.port = port;
    } else if (name === '--build') opts.build = true;
    else if (name === '--help' || name === '-h') usage();
    else usage(`unknown argument "${arg}"`);
  }
  if (!opts.config) usage('--config FILE is required');
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
// npm runs scripts from the package root; a relative FILE means relative to where npm was run.
const configFile = path.resolve(process.env.INIT_CWD ?? process.cwd(), opts.config);
opts.apiOrigin = await checkConfig(configFile);
ensureBuild(opts.build);
const staticRoot = realpathSync(browserDir);

function send(res, status, body, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/** A file strictly inside the build, or null (no `..`, NUL, backslashes or symlinks leading out). */
function fileFor(pathname) {
  let decoded;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..')) return null;
  const candidate = path.join(staticRoot, path.posix.normalize('/' + decoded));
  try {
    const real = realpathSync(candidate);
    const rel = path.relative(staticRoot, real);
    if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
    return statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}

function serveFile(req, res, file) {
  const isHtml = file.endsWith('.html');
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    // Hashed bundles may be cached; the shell must not be, or a rebuild would not show.
    'Cache-Control': isHtml ? 'no-cache' : 'public, max-age=31536000, immutable',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

const server = http.createServer((req, res) => {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'Method not allowed\n');
  }
  const pathname = (req.url ?? '/').split(/[?#]/)[0];
  if (pathname === '/config.json') {
    let text;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch {
      return send(res, 404, `config file ${configFile} cannot be read\n`);
    }
    // Served as it is, even when edited into invalid JSON: the app explains what is wrong with it.
    return send(res, 200, method === 'HEAD' ? '' : text, 'application/json; charset=utf-8');
  }
  const file = fileFor(pathname === '/' ? '/index.html' : pathname);
  if (file) return serveFile(req, res, file);
  // SPA fallback: client-side routes (no file extension) get the app shell.
  const last = pathname.slice(pathname.lastIndexOf('/') + 1);
  if (!last.includes('.')) return serveFile(req, res, path.join(staticRoot, 'index.html'));
  send(res, 404, 'Not found\n');
});

server.on('error', (e) => {
  console.error(`demo: cannot listen on ${HOST}:${opts.port}: ${e.message}`);
  process.exit(1);
});
server.listen(opts.port, HOST, () => {
  const { port } = server.address();
  const origin = `http://${HOST}:${port}`;
  console.log(`ngx-jot demo app on ${origin}/`);
  console.log(`  config: ${configFile}`);
  if (opts.apiOrigin && opts.apiOrigin !== origin) {
    console.log(
      `  API on ${opts.apiOrigin}: it must allow CORS from ${origin} (reference API: CORS_ORIGINS=${origin})`,
    );
  }
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
