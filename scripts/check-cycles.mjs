#!/usr/bin/env node
// Fails when TypeScript files of the repository import each other in a circle (type-only imports
// included: a cycle of types is still two files that cannot be read one before the other).
// Relative imports and the workspace aliases 'ngx-jot' and 'ngx-jot/testing' are followed.
//
//   node scripts/check-cycles.mjs        (part of `npm run lint`)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const roots = ['projects/ngx-jot', 'demo-app/src', 'demo-api', 'e2e', 'soak'];
const aliases = {
  'ngx-jot': 'projects/ngx-jot/src/public-api.ts',
  'ngx-jot/testing': 'projects/ngx-jot/testing/src/public-api.ts',
};
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? filesUnder(path) : /\.ts$/.test(name) ? [path] : [];
  });
}

function resolveImport(from, specifier) {
  if (specifier in aliases) return join(root, aliases[specifier]);
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

const graph = new Map();
for (const file of roots.flatMap((dir) => filesUnder(join(root, dir)))) {
  const targets = [];
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const target = resolveImport(file, match[1] ?? match[2]);
    if (target) targets.push(target);
  }
  graph.set(file, targets);
}

// Depth-first search; a file met again while still on the path closes a cycle.
const cycles = [];
const done = new Set();
const onPath = [];
function visit(file) {
  if (done.has(file)) return;
  const at = onPath.indexOf(file);
  if (at >= 0) {
    cycles.push([...onPath.slice(at), file].map((f) => relative(root, f)).join(' -> '));
    return;
  }
  onPath.push(file);
  for (const target of graph.get(file) ?? []) visit(target);
  onPath.pop();
  done.add(file);
}
for (const file of graph.keys()) visit(file);

if (cycles.length > 0) {
  console.error(`check-cycles: ${cycles.length} import cycle(s):\n${cycles.map((c) => `  ${c}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-cycles: no import cycle among ${graph.size} TypeScript files.`);
