#!/usr/bin/env node
// Removes comments from the published JavaScript (dist/ngx-jot/fesm2022/*.mjs). Runs after
// `ng build ngx-jot` (see the root "build" script).
//
// Why: ng-packagr copies every JSDoc and explanatory comment of the TypeScript sources into the
// FESMs; they were about a third of the main FESM (32 of 97 kB raw), bytes every install downloads
// and every bundler parses, for nothing: the docs users need are in the .d.ts files (untouched
// here) and in the source maps, whose `sourcesContent` holds the original TypeScript.
//
// What: only comments go, found by a real parser (acorn), not by regular expressions. Everything
// else stays as ng-packagr emitted it: identifiers, formatting, and the `ɵɵngDeclare*` calls that
// Angular's linker processes. Kept: pure annotations (`/*#__PURE__*/`, `/* @__PURE__ */`,
// `__NO_SIDE_EFFECTS__`), legal comments (`/*!`, `//!`, `@license`, `@preserve`), and
// `//# sourceMappingURL=`. A comment on a line of its own is removed with its line; a line break
// inside a removed comment is kept (automatic semicolon insertion depends on it).
//
// The source map: magic-string records the removals as a map from the new FESM to the old one,
// and @jridgewell/remapping chains it with ng-packagr's map (old FESM -> TypeScript), so the new
// .mjs.map maps the new code straight to the TypeScript sources, `sourcesContent` included.
// (esbuild does chain input source maps, but it reprints the code — `undefined` becomes `void 0`,
// quotes and line breaks change — and keeps comments inside classes and object literals.)
// `npm run test:package` checks the result.
import remapping from '@jridgewell/remapping';
import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { parse } from 'acorn';
import MagicString from 'magic-string';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fesm = join(root, 'dist/ngx-jot/fesm2022');

for (const name of ['ngx-jot.mjs', 'ngx-jot-testing.mjs']) {
  const file = join(fesm, name);
  const before = readFileSync(file, 'utf8');
  const inputMap = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
  const { code, map, removed } = stripComments(before, inputMap, name);
  selfCheck(name, before, inputMap, code, map);
  writeFileSync(file, code);
  writeFileSync(`${file}.map`, map);
  console.log(
    `strip-fesm-comments: ${name}: removed ${removed} comments, ${Buffer.byteLength(before)} -> ${Buffer.byteLength(code)} bytes`,
  );
}

/** Comments that stay: bundler annotations, legal comments, the source map link. */
function isKept({ type, value }) {
  return (
    (type === 'Block' && /^\s*[#@]__(PURE|NO_SIDE_EFFECTS)__\s*$/.test(value)) ||
    value.startsWith('!') ||
    /@license|@preserve/.test(value) ||
    (type === 'Line' && /^[#@] sourceMappingURL=/.test(value))
  );
}

/**
 * `code` without its comments (but the kept ones), and its source map: `inputMap` (the map of
 * `code`, named `name`) chained through the removals.
 */
function stripComments(code, inputMap, name) {
  const { comments } = tokenize(code);
  const s = new MagicString(code);

  // Runs of removable comments with only whitespace between them are removed as one.
  const runs = [];
  for (const c of comments) {
    if (isKept(c)) continue;
    const last = runs.at(-1);
    if (last && /^\s*$/.test(code.slice(last.end, c.start))) last.end = c.end;
    else runs.push({ start: c.start, end: c.end });
  }

  for (const { start, end } of runs) {
    let from = start;
    while (from > 0 && (code[from - 1] === ' ' || code[from - 1] === '\t')) from--;
    let to = end;
    while (code[to] === ' ' || code[to] === '\t') to++;
    const aloneBefore = from === 0 || code[from - 1] === '\n';
    const aloneAfter = to === code.length || code[to] === '\n' || code[to] === '\r';
    if (aloneBefore && aloneAfter) {
      // On lines of their own: the lines go.
      s.remove(from, code.startsWith('\r\n', to) ? to + 2 : Math.min(to + 1, code.length));
    } else if (aloneBefore) {
      // Before code on its line: the code keeps the line's indentation.
      s.remove(start, to);
    } else if (aloneAfter) {
      // After code: the line break stays.
      s.remove(from, end);
    } else {
      // Between code on both sides: a line break where the comment had one, else a space, but
      // none after an opening bracket or before a closing one (`47 /* / */)` becomes `47)`).
      const gap = /[\n\r\u2028\u2029]/.test(code.slice(start, end)) ? '\n' : ' ';
      if (gap === ' ' && (/[([{]/.test(code[from - 1]) || /[)\]},;]/.test(code[to]))) s.remove(from, to);
      else s.overwrite(from, to, gap);
    }
  }

  const edits = s.generateMap({ source: name, file: name, hires: true });
  // The loader is asked for the map of each source: the old FESM (depth 1) has ng-packagr's map;
  // the TypeScript files that map points to (depth 2) are the originals.
  const chained = remapping(edits, (_source, { depth }) => (depth === 1 ? inputMap : null));
  return { code: s.toString(), map: chained.toString(), removed: comments.filter((c) => !isKept(c)).length };
}

function tokenize(code) {
  const tokens = [];
  const comments = [];
  parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true, onToken: tokens, onComment: comments });
  return { tokens, comments };
}

/**
 * Fails the build unless the new code has the same tokens as the old, with a line break between
 * two tokens exactly where there was one (automatic semicolon insertion), and unless the new map
 * sends each token to the same TypeScript position as the old map sent it.
 */
function selfCheck(name, oldCode, oldMap, newCode, newMap) {
  const a = tokenize(oldCode).tokens;
  const b = tokenize(newCode).tokens;
  const oldTrace = new TraceMap(oldMap);
  const newTrace = new TraceMap(newMap);
  const breakBefore = (code, tokens, i) =>
    i > 0 && /[\n\r\u2028\u2029]/.test(code.slice(tokens[i - 1].end, tokens[i].start));
  const traced = (trace, token) => {
    const { source, line, column } = originalPositionFor(trace, token.loc.start);
    return `${source}:${line}:${column}`;
  };
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const where = `${name}: token ${i} (${b[i]?.loc.start.line}:${b[i]?.loc.start.column})`;
    if (!a[i] || !b[i] || oldCode.slice(a[i].start, a[i].end) !== newCode.slice(b[i].start, b[i].end)) {
      throw new Error(`strip-fesm-comments: ${where} differs from the original; code other than comments changed.`);
    }
    if (breakBefore(oldCode, a, i) !== breakBefore(newCode, b, i)) {
      throw new Error(`strip-fesm-comments: ${where}: a line break before it was added or removed.`);
    }
    if (traced(oldTrace, a[i]) !== traced(newTrace, b[i])) {
      throw new Error(
        `strip-fesm-comments: ${where} maps to ${traced(newTrace, b[i])}, not ${traced(oldTrace, a[i])}.`,
      );
    }
  }
}
