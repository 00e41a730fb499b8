#!/usr/bin/env node
// Compiles the `ng add` schematic into dist/ngx-jot/schematics. Runs after `ng build ngx-jot`
// (see the root "build" script): ng-packagr wipes dist/ngx-jot and knows nothing of the
// schematic's TypeScript, so it is compiled here (CommonJS, projects/ngx-jot/tsconfig.schematics.json)
// and its JSON files (collection.json, schema.json, package.json {"type":"commonjs"}) copied.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'projects/ngx-jot/schematics');
const dist = join(root, 'dist/ngx-jot');
const target = join(dist, 'schematics');

if (!existsSync(join(dist, 'package.json'))) {
  console.error('build-schematics: dist/ngx-jot/package.json is missing; run `ng build ngx-jot` first.');
  process.exit(1);
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'projects/ngx-jot/tsconfig.schematics.json')], {
  cwd: root,
  stdio: 'inherit',
});

/** Every JSON file of the schematic but the TypeScript configs of its specs. */
function* jsonFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* jsonFiles(path);
    } else if (entry.name.endsWith('.json') && !entry.name.startsWith('tsconfig')) {
      yield path;
    }
  }
}

let copied = 0;
for (const file of jsonFiles(source)) {
  const destination = join(target, relative(source, file));
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(file, destination);
  copied++;
}
for (const required of ['collection.json', 'package.json', 'ng-add/index.js', 'ng-add/schema.json']) {
  if (!existsSync(join(target, required))) {
    console.error(`build-schematics: ${relative(root, join(target, required))} was not produced.`);
    process.exit(1);
  }
}
console.log(
  `build-schematics: compiled the ng-add schematic and copied ${copied} JSON files into ${relative(root, target)}`,
);
