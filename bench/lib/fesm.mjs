// The published main FESM: its compressed size, its exports, its bytes per source file.
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

import { FESM_PATH } from './dist.mjs';

export function compressed(text) {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return {
    raw: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  };
}

/** Size of the main FESM of dist/ngx-jot, as published. */
export function fesmSize() {
  return compressed(readFileSync(FESM_PATH));
}

/** The names dist/ngx-jot exports now (other engineers are still adding some). */
export function distExports() {
  const src = readFileSync(FESM_PATH, 'utf8');
  const names = new Set();
  for (const m of src.matchAll(/^export \{([^}]*)\}/gm)) {
    for (const part of m[1].split(','))
      names.add(
        part
          .trim()
          .split(/\s+as\s+/)
          .pop(),
      );
  }
  return names;
}

/** Raw bytes of the dist FESM per library source file, from its source map. */
export function fesmBySource() {
  const code = readFileSync(FESM_PATH, 'utf8').split('\n');
  const map = JSON.parse(readFileSync(`${FESM_PATH}.map`, 'utf8'));
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lines = map.mappings.split(';');
  let source = 0;
  const bytes = {};
  lines.forEach((line, i) => {
    const text = code[i] ?? '';
    let firstSource = null;
    for (const seg of line ? line.split(',') : []) {
      const values = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const digit = chars.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      if (values.length >= 4) {
        source += values[1];
        if (firstSource === null) firstSource = source;
      }
    }
    const name =
      firstSource === null
        ? '(unmapped: comments, blank lines)'
        : map.sources[firstSource].replace(/^.*projects\/ngx-jot\//, '');
    bytes[name] = (bytes[name] ?? 0) + Buffer.byteLength(text) + 1;
  });
  return Object.fromEntries(Object.entries(bytes).sort((a, b) => b[1] - a[1]));
}
