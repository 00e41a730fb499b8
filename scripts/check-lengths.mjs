#!/usr/bin/env node
// Fails when a function or class body in the library's sources (projects/ngx-jot/src, specs
// excepted) is longer than MAX_LINES: a unit a newcomer can read at once (issue 15).
//
//   node scripts/check-lengths.mjs [max]      (part of `npm run lint`)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const MAX_LINES = Number(process.argv[2] ?? 120);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'projects/ngx-jot/src');

function filesUnder(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

const long = [];
for (const file of filesUnder(sources)) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if ((ts.isFunctionLike(node) && 'body' in node && node.body) || ts.isClassLike(node)) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const name = node.name?.getText(source) ?? '(anonymous)';
      if (lines > MAX_LINES) long.push(`${relative(root, file)}:${first + 1} ${name}: ${lines} lines`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

if (long.length > 0) {
  console.error(`check-lengths: longer than ${MAX_LINES} lines:\n${long.map((l) => `  ${l}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-lengths: every function and class body in projects/ngx-jot/src is at most ${MAX_LINES} lines.`);
