#!/usr/bin/env node
/**
 * `npm run test:package`: checks what `npm publish` of dist/ngx-jot would ship.
 *
 * 1. Builds the library (`npm run build`) when dist/ngx-jot/package.json is missing.
 * 2. `npm pack --dry-run --json`: every file must match an expected pattern, and every required
 *    file must be there (FESM, types, schematic, README, LICENSE, CHANGELOG, package.json; source
 *    maps are allowed; specs, TypeScript sources and tsconfigs are not).
 * 3. The packed package.json: peer and runtime dependencies, sideEffects, license, schematics,
 *    exports of `.` and `./testing`.
 * 4. publint (strict: warnings fail too) and @arethetypeswrong/cli with the `esm-only` profile:
 *    Angular packages are ESM-only (`"type": "module"`, no `require` condition), like @angular/core,
 *    so `require()` and node10 resolution (no nested testing/package.json) are out of scope.
 * 5. The FESMs end with `//# sourceMappingURL=`, and their source maps send known
 *    declarations (`class JotAuth`, `function provideJot`, `const jotInterceptor`, ...) to their
 *    TypeScript file, at a line of its `sourcesContent` that has the name at the mapped column.
 *
 * Exits non-zero with a list of what is wrong.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

import { ANGULAR_PEER_RANGE } from './lib/angular-matrix.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// A directory may be given (to check a copy); the default is the build output.
const dist = process.argv[2] ? resolve(process.argv[2]) : join(root, 'dist/ngx-jot');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const problems = [];

if (!process.argv[2] && !existsSync(join(dist, 'package.json'))) {
  console.log('check-package: dist/ngx-jot/package.json is missing; running `npm run build`.');
  run(npm, ['run', 'build'], root, 'inherit');
}

// ---- the file list ----

/** Files that must be in the tarball. */
const required = [
  'package.json',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
  'fesm2022/ngx-jot.mjs',
  'fesm2022/ngx-jot-testing.mjs',
  'types/ngx-jot.d.ts',
  'types/ngx-jot-testing.d.ts',
  'schematics/package.json',
  'schematics/collection.json',
  'schematics/ng-add/index.js',
  'schematics/ng-add/schema.json',
];
/** Every file in the tarball must match one of these. */
const allowed = [
  /^(package\.json|README\.md|LICENSE|CHANGELOG\.md)$/,
  /^fesm2022\/ngx-jot(-testing)?\.mjs(\.map)?$/,
  /^types\/ngx-jot(-testing)?\.d\.ts$/,
  /^schematics\/(package|collection)\.json$/,
  /^schematics\/ng-add\/[\w-]+\.(js|json)$/,
];
/** Named here so the message says why, though `allowed` already rejects them. */
const forbidden = [/\.spec\./, /(^|\/)tsconfig[^/]*\.json$/, /(?<!\.d)\.ts$/, /\.tgz$/, /(^|\/)testing-private\//];

const packed = JSON.parse(run(npm, ['pack', '--dry-run', '--json'], dist).stdout);
const files = packed[0].files.map((f) => f.path).sort();
for (const file of files) {
  const bad = forbidden.find((re) => re.test(file));
  if (bad) problems.push(`the tarball contains ${file} (matches ${bad}); it must not ship.`);
  else if (!allowed.some((re) => re.test(file))) problems.push(`the tarball contains ${file}, which is not expected.`);
}
for (const file of required) {
  if (!files.includes(file)) problems.push(`the tarball lacks ${file}.`);
}

// ---- the packed package.json ----

const pkg = JSON.parse(readFileSync(join(dist, 'package.json'), 'utf8'));
// What the version matrix proves (scripts/angular-matrix.json, run by scripts/matrix.mjs).
const angularPeer = ANGULAR_PEER_RANGE;
for (const name of ['@angular/core', '@angular/common', '@angular/router']) {
  expect(`peerDependencies["${name}"]`, pkg.peerDependencies?.[name], (v) => v === angularPeer, `"${angularPeer}"`);
}
expect('peerDependencies.rxjs', pkg.peerDependencies?.rxjs, (v) => /^\^7\.4(\.0)?$/.test(v), '"^7.4.0"');
expect(
  'dependencies["jwt-decode"]',
  pkg.dependencies?.['jwt-decode'],
  (v) => /^\^4(\.\d+){0,2}$/.test(v),
  'a ^4 range',
);
const unexpectedDeps = Object.keys(pkg.dependencies ?? {}).filter((d) => !['jwt-decode', 'tslib'].includes(d));
if (unexpectedDeps.length) problems.push(`unexpected runtime dependencies: ${unexpectedDeps.join(', ')}.`);
expect('sideEffects', pkg.sideEffects, (v) => v === false, 'false');
expect('license', pkg.license, (v) => v === 'MIT', '"MIT"');
expect('type', pkg.type, (v) => v === 'module', '"module"');
expect(
  'schematics',
  pkg.schematics,
  (v) => typeof v === 'string' && files.includes(v.replace(/^\.\//, '')),
  'a path to a packed collection.json',
);
for (const [entry, name] of [
  ['.', 'ngx-jot'],
  ['./testing', 'ngx-jot-testing'],
]) {
  const target = pkg.exports?.[entry];
  expect(`exports["${entry}"].types`, target?.types, (v) => v === `./types/${name}.d.ts`, `"./types/${name}.d.ts"`);
  expect(
    `exports["${entry}"].default`,
    target?.default,
    (v) => v === `./fesm2022/${name}.mjs`,
    `"./fesm2022/${name}.mjs"`,
  );
}
const schematicsPkg = JSON.parse(readFileSync(join(dist, 'schematics/package.json'), 'utf8'));
expect('schematics/package.json type', schematicsPkg.type, (v) => v === 'commonjs', '"commonjs"');

// ---- publint and arethetypeswrong ----

const lint = await publint({ pkgDir: dist, level: 'suggestion', strict: true, pack: 'npm' });
for (const message of lint.messages) {
  problems.push(`publint ${message.type}: ${formatMessage(message, lint.pkg, { color: false })}`);
}

const attwPkg = createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json');
const attw = join(dirname(attwPkg), JSON.parse(readFileSync(attwPkg, 'utf8')).bin.attw);
const types = run(
  process.execPath,
  [attw, '--pack', '.', '--profile', 'esm-only', '--format', 'ascii'],
  dist,
  'pipe',
  false,
);
if (types.status !== 0) problems.push(`@arethetypeswrong/cli failed:\n${types.stdout}${types.stderr}`);

// ---- the FESMs: source maps ----

/** Declarations in each FESM, and the TypeScript file each must map back to. */
const declarations = {
  'ngx-jot.mjs': [
    ['class JotAuth', 'src/lib/jot-auth.ts'],
    ['class JotError', 'src/lib/errors.ts'],
    ['function provideJot', 'src/lib/provide-jot.ts'],
    ['const jotInterceptor', 'src/lib/jot-interceptor.ts'],
  ],
  'ngx-jot-testing.mjs': [['class JotTestingController', 'testing/src/provide-jot-testing.ts']],
};
for (const [name, decls] of Object.entries(declarations)) {
  const file = `fesm2022/${name}`;
  const code = readFileSync(join(dist, file), 'utf8');
  if (!code.trimEnd().endsWith(`//# sourceMappingURL=${name}.map`)) {
    problems.push(`${file} does not end with //# sourceMappingURL=${name}.map.`);
  }

  const map = JSON.parse(readFileSync(join(dist, `${file}.map`), 'utf8'));
  const sourceless = map.sources.filter((s, i) => !s.endsWith('.ts') || !map.sourcesContent?.[i]);
  if (sourceless.length) {
    problems.push(
      `${file}.map: sources must be TypeScript files with their sourcesContent; not ${sourceless.join(', ')}.`,
    );
  }
  const trace = new TraceMap(map);
  for (const [declaration, tsFile] of decls) {
    const at = new RegExp(`^${declaration}\\b`, 'm').exec(code)?.index;
    if (at === undefined) {
      problems.push(`${file} has no line starting with \`${declaration}\`.`);
      continue;
    }
    const identifier = declaration.split(' ')[1];
    const lines = code.slice(0, at + declaration.length - identifier.length).split('\n');
    const generated = { line: lines.length, column: lines.at(-1).length };
    const { source, line, column } = originalPositionFor(trace, generated);
    const tsLine = source && map.sourcesContent?.[map.sources.indexOf(source)]?.split('\n')[line - 1];
    if (!source?.endsWith(`/projects/ngx-jot/${tsFile}`) || !tsLine?.startsWith(identifier, column)) {
      problems.push(
        `${file}.map sends ${identifier} (${generated.line}:${generated.column}) to ${source}:${line}:${column} ` +
          `(${JSON.stringify(tsLine?.trim())}), not to ${identifier} in projects/ngx-jot/${tsFile}.`,
      );
    }
  }
}

// ---- verdict ----

if (problems.length) {
  console.error(`check-package: dist/ngx-jot is not fit to publish:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(
  `check-package: ok — ${files.length} files (${files.join(', ')}); publint and attw (esm-only) clean; ` +
    "the FESMs' source maps lead to the TypeScript.",
);

// ---- helpers ----

function expect(what, actual, ok, wanted) {
  if (!ok(actual)) problems.push(`package.json ${what} is ${JSON.stringify(actual)}; expected ${wanted}.`);
}

function run(command, args, cwd, stdio = 'pipe', failHard = true) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    stdio: stdio === 'inherit' ? 'inherit' : 'pipe',
    shell: process.platform === 'win32',
  });
  if (failHard && result.status !== 0) {
    console.error(
      `check-package: \`${[command, ...args].join(' ')}\` failed in ${cwd}` +
        (result.stderr ? `:\n${result.stderr}` : '') +
        (result.error ? `\n${String(result.error)}` : ''),
    );
    process.exit(1);
  }
  return result;
}
