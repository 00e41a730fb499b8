#!/usr/bin/env node
// End-to-end check of `ng add ngx-jot`, the way users run it: build the library, `npm pack` it,
// generate a fresh app with `ng new`, `ng add` the tarball, check app.config.ts, `ng build` the app.
//
//   node scripts/ng-add-e2e.mjs            (npm run test:ng-add-e2e)
//   E2E_SKIP_BUILD=1  reuse an existing dist/ngx-jot instead of running `npm run build`
//   E2E_KEEP_TMP=1    keep the temporary directory for inspection
//
// Offline-friendly: the app's dependencies are pinned to the workspace's own versions and
// installed with a copy of the workspace's package-lock.json and --prefer-offline, so a warm npm
// cache (any `npm ci` of this repository) is all it needs; no registry metadata is fetched.
//
// Traps this script avoids:
// - `ng new` run by the workspace's CLI refuses to work ("not available when running the Angular CLI
//   inside a workspace"): the CLI looks for angular.json from its own install location too. So the
//   app's dependencies are installed first in a directory outside the workspace and that CLI runs `ng new`.
// - `ng add ./dist/ngx-jot` installs a symlink, so the app bundles a second @angular/core: the
//   tarball from `npm pack` is added instead, and the script checks ngx-jot is a real directory.
import { spawnSync } from 'node:child_process';
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
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist/ngx-jot');
const STEP_TIMEOUT_MS = 5 * 60 * 1000;
const APP = 'e2e-app';
const REFRESH_URL = '/refresh';

const env = { ...process.env };
// Context of an enclosing `npm run` that must not leak into npm runs in other directories.
for (const key of Object.keys(env)) {
  if (/^npm_(package_|lifecycle_|command$|config_local_prefix$|config_call$)/.test(key)) {
    delete env[key];
  }
}
Object.assign(env, {
  CI: 'true',
  NG_CLI_ANALYTICS: 'false',
  NG_FORCE_TTY: 'false',
  npm_config_prefer_offline: 'true', // also for the installs that `ng add` runs
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'error',
});

const npm = process.env.npm_execpath?.endsWith('.js') ? [process.execPath, process.env.npm_execpath] : ['npm'];

const timings = [];
const started = Date.now();
let tmp;

class E2eFailure extends Error {}

function fail(message) {
  throw new E2eFailure(message);
}

/** Runs a command; on failure prints its output and stops the check. */
function run(label, command, args, cwd) {
  const t0 = Date.now();
  process.stdout.write(`ng-add-e2e: ${label} ... `);
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (Date.now() - t0) / 1000;
  timings.push([label, seconds]);
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) {
    console.log(`FAILED after ${seconds.toFixed(1)} s`);
    console.log(output.trimEnd());
    fail(
      `${label} failed: \`${[command, ...args].join(' ')}\` in ${cwd} ` +
        (result.error ? `(${result.error.message})` : `exited with ${result.status ?? result.signal}`),
    );
  }
  console.log(`${seconds.toFixed(1)} s`);
  return output;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function writeJson(path, value) {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** Every installed copy of a package below node_modules (nested ones included). */
function installedCopies(nodeModules, name, found = []) {
  if (!existsSync(nodeModules)) {
    return found;
  }
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    const path = join(nodeModules, entry.name);
    if (entry.name.startsWith('@') && entry.isDirectory()) {
      for (const scoped of readdirSync(path, { withFileTypes: true })) {
        visit(join(path, scoped.name), `${entry.name}/${scoped.name}`);
      }
    } else if (entry.isDirectory() && !entry.name.startsWith('.')) {
      visit(path, entry.name);
    }
  }
  return found;

  function visit(dir, packageName) {
    if (packageName === name) {
      found.push(dir);
    }
    installedCopies(join(dir, 'node_modules'), name, found);
  }
}

function main() {
  const workspace = readJson(join(root, 'package.json'));
  const pinned = { ...workspace.dependencies, ...workspace.devDependencies };

  if (process.env.E2E_SKIP_BUILD) {
    console.log('ng-add-e2e: E2E_SKIP_BUILD set, using the existing dist/ngx-jot');
  } else {
    run('build the library (npm run build)', npm[0], [...npm.slice(1), 'run', 'build'], root);
  }
  for (const file of ['package.json', 'schematics/collection.json', 'schematics/ng-add/index.js']) {
    if (!existsSync(join(dist, file))) {
      fail(`dist/ngx-jot/${file} is missing: \`npm run build\` must build the library and its schematics`);
    }
  }
  const version = readJson(join(dist, 'package.json')).version;

  tmp = mkdtempSync(join(tmpdir(), 'ngx-jot-ng-add-'));
  const packed = run(
    'npm pack dist/ngx-jot',
    npm[0],
    [...npm.slice(1), 'pack', dist, '--pack-destination', tmp, '--json'],
    root,
  );
  const tarball = JSON.parse(packed.slice(packed.indexOf('[')))[0].filename;
  if (!existsSync(join(tmp, tarball))) {
    fail(`npm pack did not write ${tarball}`);
  }

  // The app's dependencies, the way `ng new` lists them, pinned to the workspace's versions.
  const dependencies = {
    dependencies: [
      '@angular/common',
      '@angular/compiler',
      '@angular/core',
      '@angular/forms',
      '@angular/platform-browser',
      '@angular/router',
      'rxjs',
      'tslib',
    ],
    devDependencies: ['@angular/build', '@angular/cli', '@angular/compiler-cli', 'typescript'],
  };
  const pin = (names) =>
    Object.fromEntries(
      names.map((name) => {
        if (!pinned[name]) {
          fail(`the workspace package.json does not list ${name}`);
        }
        return [name, pinned[name]];
      }),
    );
  const manifest = { dependencies: pin(dependencies.dependencies), devDependencies: pin(dependencies.devDependencies) };

  const deps = join(tmp, 'deps');
  mkdirSync(deps);
  writeJson(join(deps, 'package.json'), { name: APP, version: '0.0.0', private: true, ...manifest });
  cpSync(join(root, 'package-lock.json'), join(deps, 'package-lock.json'));
  run(
    'install the app dependencies (warm npm cache)',
    npm[0],
    [...npm.slice(1), 'install', '--no-audit', '--no-fund', '--prefer-offline'],
    deps,
  );

  run(
    'ng new',
    process.execPath,
    [
      join(deps, 'node_modules/@angular/cli/bin/ng.js'),
      'new',
      APP,
      '--skip-install',
      '--skip-git',
      '--defaults',
      '--standalone',
      '--ssr=false',
      '--zoneless',
      '--routing',
      '--style=css',
      '--skip-tests',
    ],
    tmp,
  );
  const app = join(tmp, APP);
  renameSync(join(deps, 'node_modules'), join(app, 'node_modules'));
  renameSync(join(deps, 'package-lock.json'), join(app, 'package-lock.json'));
  const appManifest = readJson(join(app, 'package.json'));
  const unpinned = Object.keys({ ...appManifest.dependencies, ...appManifest.devDependencies }).filter(
    (name) => !(name in manifest.dependencies) && !(name in manifest.devDependencies),
  );
  if (unpinned.length) {
    console.log(`ng-add-e2e: dropped from the app's package.json (not needed to build): ${unpinned.join(', ')}`);
  }
  writeJson(join(app, 'package.json'), { ...appManifest, ...manifest });

  const ng = join(app, 'node_modules/@angular/cli/bin/ng.js');
  const appConfigPath = join(app, 'src/app/app.config.ts');
  const added = run(
    `ng add ./${tarball} --refresh-url ${REFRESH_URL}`,
    process.execPath,
    [ng, 'add', `../${tarball}`, '--skip-confirmation', '--refresh-url', REFRESH_URL],
    app,
  );
  const appConfig = readFileSync(appConfigPath, 'utf8');
  for (const expected of [
    'jotInterceptor',
    'provideHttpClient(withInterceptors([jotInterceptor]))',
    'provideJot(',
    `withRefresh({ url: '${REFRESH_URL}' })`,
    "from 'ngx-jot'",
  ]) {
    if (!appConfig.includes(expected)) {
      console.log(added.trimEnd());
      fail(`after ng add, src/app/app.config.ts does not contain \`${expected}\`:\n${appConfig}`);
    }
  }

  const installed = join(app, 'node_modules/ngx-jot');
  if (!existsSync(installed) || lstatSync(installed).isSymbolicLink()) {
    fail('node_modules/ngx-jot must be a directory unpacked from the tarball, not a symlink');
  }
  if (readJson(join(installed, 'package.json')).version !== version) {
    fail(`node_modules/ngx-jot is not version ${version} from the tarball`);
  }
  const appDeps = readJson(join(app, 'package.json')).dependencies;
  if (!appDeps['ngx-jot'] || !appDeps['jwt-decode']) {
    fail(`ng add did not save ngx-jot and jwt-decode in dependencies: ${JSON.stringify(appDeps)}`);
  }
  const cores = installedCopies(join(app, 'node_modules'), '@angular/core');
  if (cores.length !== 1) {
    fail(`expected one @angular/core in the app, found ${cores.length}: ${cores.join(', ')}`);
  }

  // The compiled schematic, run again through the CLI, must leave everything as it is.
  const before = readFileSync(appConfigPath, 'utf8') + readFileSync(join(app, 'package.json'), 'utf8');
  run(
    'ng generate ngx-jot:ng-add again (idempotent)',
    process.execPath,
    [ng, 'generate', 'ngx-jot:ng-add', '--refresh-url', REFRESH_URL],
    app,
  );
  const after = readFileSync(appConfigPath, 'utf8') + readFileSync(join(app, 'package.json'), 'utf8');
  if (after !== before) {
    fail(`a second run of the schematic changed the app:\n${readFileSync(appConfigPath, 'utf8')}`);
  }

  run('ng build (the app)', process.execPath, [ng, 'build'], app);
  if (!existsSync(join(app, 'dist', APP, 'browser', 'index.html'))) {
    fail(`ng build wrote no dist/${APP}/browser/index.html`);
  }
}

let code = 0;
try {
  main();
  console.log('ng-add-e2e: OK — ng add of the packed ngx-jot set up a new app that builds');
} catch (error) {
  code = 1;
  console.error(`ng-add-e2e: FAILED — ${error instanceof E2eFailure ? error.message : (error?.stack ?? error)}`);
} finally {
  if (tmp) {
    if (process.env.E2E_KEEP_TMP) {
      console.log(`ng-add-e2e: kept ${tmp}`);
    } else {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  for (const [label, seconds] of timings) {
    console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${label}`);
  }
  console.log(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  total`);
}
process.exit(code);
