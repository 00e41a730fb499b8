// The Angular versions of the matrix (scripts/angular-matrix.json), and the peer range they prove.
import { readFileSync } from 'node:fs';

export const ANGULAR_MATRIX = JSON.parse(
  readFileSync(new URL('../angular-matrix.json', import.meta.url), 'utf8'),
).majors;

/** `^20.3.0 || ^21.2.0 || ...`: from the tested minor of each tested major on, nothing else. */
export const ANGULAR_PEER_RANGE = ANGULAR_MATRIX.map(({ framework }) => {
  const [major, minor] = framework.split('.');
  return `^${major}.${minor}.0`;
}).join(' || ');
